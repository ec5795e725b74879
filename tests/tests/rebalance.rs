//! Rebalancing after a scale-out (`loadBalancing.rebalance`), through the real binary with
//! real WebSocket backends and reconnecting clients: 600 connections on two endpoints spread
//! to a third one added by a reload, within the factor, at a capped close rate, every close
//! carrying the configured code; sticky sessions stay put unless the policy moves them, and
//! then really land elsewhere.

mod rebalance_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rebalance_support::sio::{SioClients, sessions_on};
use rebalance_support::{Close, Fleet};
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::node::SocketIoServer;
use wsgate_tests::open_files;
use wsgate_tests::wait::{eventually, until};
use wsgate_tests::wsgate::{Wsgate, routes};

/// The rebalancing policy of these tests: a short window keeps them short. 120 closes over
/// 4 s would be 30 a second: the cap of 20 binds.
const WINDOW_SECS: u64 = 4;
const MAX_IMBALANCE: f64 = 1.2;
const CAP: usize = 20;

fn rebalance(extra: &str) -> String {
    format!(
        "  loadBalancing:\n    rebalance: {{maxImbalance: {MAX_IMBALANCE}, window: {WINDOW_SECS}s, \
         closeCode: 1012, maxClosesPerSecond: {CAP}{extra}}}\n"
    )
}

async fn backends() -> ([Backend; 3], Vec<SocketAddr>) {
    let b = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs = b.iter().map(|b| b.addr).collect();
    (b, addrs)
}

/// Every backend holds at most `MAX_IMBALANCE` times the mean, and all `total` clients are
/// connected.
fn within_factor(on: &HashMap<String, usize>, total: usize) -> bool {
    let max = on.values().copied().max().unwrap_or(0);
    on.values().sum::<usize>() == total
        && on.len() == 3
        && max as f64 <= MAX_IMBALANCE * total as f64 / 3.0 + 1e-9
}

/// Closes per one-second bucket, counted from the first close.
fn per_second(closes: &[Close]) -> Vec<usize> {
    let Some(first) = closes.iter().map(|c| c.at).min() else {
        return Vec::new();
    };
    let mut buckets = Vec::new();
    for c in closes {
        let i = (c.at - first).as_secs() as usize;
        if buckets.len() <= i {
            buckets.resize(i + 1, 0);
        }
        buckets[i] += 1;
    }
    buckets
}

#[e2e(multi_thread, heavy, limit = 180)]
async fn after_a_scale_out_600_connections_spread_to_the_new_endpoint_within_the_factor() {
    let (_backends, addrs) = backends().await;
    // Each connection is two sockets in this process (client and in-process backend).
    open_files::require(2 * 600 + 100);
    let policy = rebalance("");
    let gw = Wsgate::launch(&routes("chat", &addrs[..2], &policy)).await;
    gw.wait_ready().await;
    let fleet = Fleet::start(&gw.ws_url("/chat"), 600, false).await;
    let before = fleet.on();
    eprintln!("before the scale-out: {before:?}");
    assert_eq!(before.len(), 2, "{before:?}");

    gw.rewrite(&routes("chat", &addrs, &policy));
    let added = Instant::now();
    gw.wait_version(2.0).await;
    // Bounded wait (the window plus a margin for a loaded machine), not a timing assertion.
    let limit = Duration::from_secs(WINDOW_SECS + 24);
    let converged = eventually(limit, || async { within_factor(&fleet.on(), 600) }).await;
    let on = fleet.on();
    let closes = fleet.closes();
    eprintln!(
        "after {:.1}s: {on:?}, {} closes, per second {:?}",
        added.elapsed().as_secs_f64(),
        closes.len(),
        per_second(&closes)
    );
    assert!(
        converged,
        "counts never came within {MAX_IMBALANCE}: {on:?}\n{}",
        gw.log()
    );
    assert!(fleet.errors().is_empty(), "{:?}", fleet.errors());
    assert!(
        closes.iter().all(|c| c.code == Some(1012)),
        "every close carries the configured code: {closes:?}"
    );
    assert!(
        closes.iter().all(|c| c.from != "c"),
        "only the overloaded endpoints shed connections"
    );
    // The window alone asks for 30 a second; the cap holds it to 20.
    let log = gw.log();
    assert!(
        log.contains("excess=120 closes_per_second=20"),
        "the rebalancing started at the capped rate:\n{log}"
    );
    // Each close is issued at least 1/CAP s after the previous one, so a one-second span
    // holds at most CAP of them as wsgate sends them. The clients see each one a delivery
    // latency later: one more can fall into a bucket at its edge, and one more again when
    // that latency varies by up to 2/CAP s (a loaded machine). A rate that ignored the cap
    // would show about 30.
    let buckets = per_second(&closes);
    assert!(
        buckets.iter().all(|&n| n <= CAP + 2),
        "closes per second {buckets:?} exceed {CAP}"
    );
    // It closes what the factor asks for (600 / 3 x 1.2 = 240 each: 120 in all), not a
    // reshuffle of every connection.
    assert!(
        (100..=180).contains(&closes.len()),
        "{} closes for an excess of 120",
        closes.len()
    );
    // wsgate counted every close it made, on the endpoint it moved it off.
    let counted = gw
        .wait_metric("wsgate_rebalance_closes_total{", closes.len() as f64)
        .await;
    let off_new = gw
        .metric(&format!(
            "wsgate_rebalance_closes_total{{endpoint=\"{}\"",
            addrs[2]
        ))
        .await;
    assert_eq!((counted, off_new), (closes.len() as f64, 0.0));
    let reason =
        "wsgate_connections_closed_total{code=\"1012\",namespace=\"default\",reason=\"rebalanced\"";
    assert_eq!(
        gw.wait_metric(reason, closes.len() as f64).await,
        closes.len() as f64
    );
    // The gauge follows within a look or two.
    let imbalance = "wsgate_rebalance_imbalance{namespace=\"default\",route=\"chat\"}";
    until(
        || "the imbalance gauge never came within the factor".into(),
        || async { gw.metric(imbalance).await <= MAX_IMBALANCE + 1e-9 },
    )
    .await;
    fleet.stop().await;
}

#[e2e(multi_thread, heavy, limit = 180)]
async fn sticky_sessions_stay_unless_the_policy_moves_them_and_then_land_elsewhere() {
    let (_backends, addrs) = backends().await;
    open_files::require(2 * 200 + 100);
    let cookie = "  sessionAffinity: {type: Cookie}\n";
    let gw = Wsgate::launch(&routes(
        "chat",
        &addrs[..2],
        &format!("{cookie}{}", rebalance("")),
    ))
    .await;
    gw.wait_ready().await;
    let fleet = Fleet::start(&gw.ws_url("/chat"), 200, true).await;

    // The third endpoint arrives; wsgate sees the imbalance and, the route being sticky
    // without moveStickySessions, closes nothing. The gauge is set after the closes of the
    // same look, so once it shows the imbalance any close would already be counted.
    gw.rewrite(&routes(
        "chat",
        &addrs,
        &format!("{cookie}{}", rebalance("")),
    ));
    gw.wait_version(2.0).await;
    let imbalance = "wsgate_rebalance_imbalance{namespace=\"default\",route=\"chat\"}";
    assert!(gw.wait_metric(imbalance, 1.4).await >= 1.4);
    assert_eq!(gw.metric("wsgate_rebalance_closes_total{").await, 0.0);
    assert!(fleet.closes().is_empty(), "{:?}", fleet.closes());
    assert_eq!(fleet.on().len(), 2, "{:?}", fleet.on());

    // With moveStickySessions, clients are moved: a reconnect presents the cookie of the
    // overloaded endpoint and still lands elsewhere.
    let moving = format!("{cookie}{}", rebalance(", moveStickySessions: true"));
    gw.rewrite(&routes("chat", &addrs, &moving));
    gw.wait_version(3.0).await;
    let limit = Duration::from_secs(WINDOW_SECS + 24);
    let converged = eventually(limit, || async { within_factor(&fleet.on(), 200) }).await;
    let closes = fleet.closes();
    eprintln!("sticky, moved: {:?}, {} closes", fleet.on(), closes.len());
    assert!(converged, "{:?}\n{}", fleet.on(), gw.log());
    assert!(fleet.errors().is_empty(), "{:?}", fleet.errors());
    assert!(!closes.is_empty());
    for c in &closes {
        assert_eq!(c.code, Some(1012), "{c:?}");
        assert!(
            c.to.as_ref().is_none_or(|to| *to != c.from),
            "a moved session came back to its overloaded endpoint: {c:?}"
        );
    }
    fleet.stop().await;
}

#[e2e(multi_thread, heavy, limit = 240)]
async fn socketio_sessions_are_moved_as_new_engine_io_sessions_on_another_server() {
    let servers = ["sio-a", "sio-b", "sio-c"].map(SocketIoServer::start);
    let addrs: Vec<SocketAddr> = servers.iter().map(SocketIoServer::addr).collect();
    let policy = format!("  sessionAffinity: {{type: SocketIO}}\n{}", rebalance(""));
    let gw = Wsgate::launch(&routes("chat", &addrs[..2], &policy)).await;
    gw.wait_ready().await;
    // No cookies: polling first, then the upgrade, pinned by `sid`.
    let clients = SioClients::start(&gw.http_url(""), 150);
    assert_eq!(
        sessions_on(&clients.status()).len(),
        2,
        "{}",
        clients.status()
    );

    gw.rewrite(&routes("chat", &addrs, &policy));
    gw.wait_version(2.0).await;
    let even = |s: &serde_json::Value| {
        let on = sessions_on(s);
        let max = on.iter().copied().max().unwrap_or(0);
        on.len() == 3
            && on.iter().sum::<u64>() == 150
            && max as f64 <= MAX_IMBALANCE * 50.0 + 1e-9
            && s["closes"]
                .as_array()
                .is_some_and(|c| c.iter().all(|c| !c["to"].is_null()))
    };
    let limit = Duration::from_secs(WINDOW_SECS + 34);
    let converged = eventually(limit, || async { even(&clients.status()) }).await;
    let status = clients.status();
    let closes = status["closes"].as_array().cloned().unwrap_or_default();
    eprintln!("Socket.IO: on {}, {} closes", status["on"], closes.len());
    assert!(converged, "{status}\n{}", gw.log());
    assert_eq!(status["errors"], serde_json::json!([]), "{status}");
    assert!(!closes.is_empty());
    for c in &closes {
        assert_eq!(c["code"], 1012, "{c}");
        assert_ne!(
            c["to"], c["from"],
            "the session moved to another server: {c}"
        );
        assert_eq!(c["newSession"], true, "a new Engine.IO session: {c}");
    }
    let unknown: usize = servers.iter().map(SocketIoServer::unknown_sessions).sum();
    assert_eq!(unknown, 0, "no server saw a session it did not know");
    let counted = gw
        .wait_metric("wsgate_rebalance_closes_total{", closes.len() as f64)
        .await;
    assert_eq!(counted, closes.len() as f64);
}
