//! How long the controller's translation takes for a large cluster, in a release build:
//! `cargo run --release -p wsgate --example translate_bench -- 10000` builds N objects (half
//! WebSocketRoutes, half Ingresses of wsgate's class, one rule each, a Service with an
//! EndpointSlice per ten routes), then times `Index::build()` and prints one JSON line
//! (median and max of 5 builds, routes produced, RSS growth). Used by `scripts/bench.sh`.

use std::time::Instant;

use wsgate::translate::{Index, Object};

fn parse<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> anyhow::Result<T> {
    Ok(serde_json::from_value(json)?)
}

fn objects(n: usize) -> anyhow::Result<Vec<Object>> {
    let mut out = Vec::with_capacity(n + n / 5 + 1);
    out.push(Object::IngressClass(Box::new(parse(serde_json::json!({
        "metadata": {"name": "wsgate"},
        "spec": {"controller": "wsgate.dev/ingress-controller"},
    }))?)));
    for s in 0..n.div_ceil(10) {
        let ns = format!("team-{}", s % 50);
        let name = format!("svc-{s}");
        out.push(Object::Service(Box::new(parse(serde_json::json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": [{"name": "http", "port": 80}]},
        }))?)));
        out.push(Object::EndpointSlice(Box::new(parse(serde_json::json!({
            "metadata": {"name": format!("{name}-1"), "namespace": ns,
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{"addresses": [format!("10.1.{}.{}", s / 250 % 250, s % 250 + 1)]},
                          {"addresses": [format!("10.2.{}.{}", s / 250 % 250, s % 250 + 1)]}],
        }))?)));
    }
    for i in 0..n {
        let ns = format!("team-{}", (i / 10) % 50);
        let svc = format!("svc-{}", i / 10);
        let created = format!(
            "2026-01-01T{:02}:{:02}:{:02}Z",
            i / 3600 % 24,
            i / 60 % 60,
            i % 60
        );
        let meta = serde_json::json!({"name": format!("r{i}"), "namespace": ns, "generation": 1,
                                      "creationTimestamp": created});
        let host = format!("r{i}.bench.example.com");
        out.push(if i % 2 == 0 {
            Object::Route(Box::new(parse(serde_json::json!({
                "apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketRoute", "metadata": meta,
                "spec": {"hostnames": [host], "rules": [{"path": {"type": "PathPrefix", "value": "/ws"},
                         "backend": {"service": {"name": svc, "port": 80}}}],
                         "timeouts": {"idle": "1h"}, "origins": {"allow": ["https://*.example.com"]}},
            }))?))
        } else {
            Object::Ingress(Box::new(parse(serde_json::json!({
                "metadata": meta,
                "spec": {"ingressClassName": "wsgate", "rules": [{"host": host, "http": {"paths": [
                    {"path": "/ws", "pathType": "Prefix",
                     "backend": {"service": {"name": svc, "port": {"number": 80}}}}]}}]},
            }))?))
        });
    }
    Ok(out)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map_or(Ok(10_000), |a| a.parse())?;
    let mut index = Index::new("wsgate");
    for o in objects(n)? {
        index.apply(o);
    }
    let before = rss_kb();
    let mut times = Vec::new();
    let mut routes = 0;
    let mut held = None;
    for _ in 0..5 {
        drop(held.take());
        let started = Instant::now();
        let t = index.build();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        routes = t.routes.len();
        held = Some(t);
    }
    let grown = rss_kb().saturating_sub(before);
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({"objects": n, "routes": routes, "build_ms_median": times[2],
                           "build_ms_max": times[4], "translation_rss_mb": grown as f64 / 1024.0})
    );
    Ok(())
}
