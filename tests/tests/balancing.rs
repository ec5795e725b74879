//! Balancing and affinity through the real wsgate binary: Socket.IO sessions stick to their
//! server (by `sid` or by cookie) and visibly break without affinity; least connections keeps
//! long-lived connections even; a killed backend is ejected without failed handshakes; a
//! removed endpoint drains with 1001 spread over the drain period.

mod balancing_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{Ws, http_get, http_request, ws_connect};
use wsgate_tests::wsgate::{Wsgate, routes};

use balancing_support::{EchoProcess, SioServer, run_sio_clients, whoami};

async fn wait_version(gw: &Wsgate, version: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metric("wsgate_route_table_version").await < version {
        assert!(
            Instant::now() < deadline,
            "table {version} never applied: {}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until wsgate counts `n` open connections and requests over all endpoints.
async fn wait_active(gw: &Wsgate, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let active = gw.metric("wsgate_endpoint_active{").await;
        if active == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "wsgate counts {active} active, want {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sio_routes(servers: &[SioServer], affinity: &str) -> String {
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    routes(
        "chat",
        &addrs,
        &format!("  sessionAffinity: {{type: {affinity}}}\n"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn socketio_sessions_stick_by_sid_or_cookie_and_break_without_affinity() {
    let servers: Vec<SioServer> = ["sio-a", "sio-b", "sio-c"].map(SioServer::start).into();
    let gw = Wsgate::start(&sio_routes(&servers, "SocketIO"));
    gw.wait_ready().await;
    let url = format!("http://{}", gw.http);
    let unknown = |s: &[SioServer]| s.iter().map(SioServer::unknown_sessions).sum::<usize>();

    // SocketIO affinity, no cookies: every session polls, upgrades and echoes on one server.
    let run = run_sio_clients(&url, 200, false, true).await;
    eprintln!(
        "SocketIO affinity: {}/200 upgraded, per server {:?}",
        run.ok, run.per_backend
    );
    assert_eq!(run.ok, 200, "{:?}", run.errors);
    assert_eq!(unknown(&servers), 0, "no server saw an unknown session");
    // Sessions held open: least connections counted each from its handshake on.
    let live: Vec<u64> = run
        .per_backend
        .values()
        .filter_map(|v| v.as_u64())
        .collect();
    assert_eq!(live.len(), 3, "{:?}", run.per_backend);
    let spread = live.iter().max().unwrap_or(&0) - live.iter().min().unwrap_or(&0);
    assert!(spread <= 3, "sessions per server {:?}", run.per_backend);
    let hits = gw
        .metric("wsgate_affinity_total{result=\"hit\",type=\"socketio\"}")
        .await;
    assert!(
        hits >= 400.0,
        "polls and upgrades found their session: {hits}"
    );

    // Cookie affinity, clients with a cookie jar.
    gw.rewrite(&sio_routes(&servers, "Cookie"));
    wait_version(&gw, 2.0).await;
    let run = run_sio_clients(&url, 200, true, false).await;
    eprintln!(
        "Cookie affinity: {}/200 upgraded, per server {:?}",
        run.ok, run.per_backend
    );
    assert_eq!(run.ok, 200, "{:?}", run.errors);
    assert_eq!(unknown(&servers), 0);
    assert_eq!(
        run.per_backend.len(),
        3,
        "sessions spread: {:?}",
        run.per_backend
    );
    assert!(
        gw.metric("wsgate_affinity_total{result=\"hit\",type=\"cookie\"}")
            .await
            >= 400.0
    );

    // No affinity: requests of one session land on different servers and sessions break.
    gw.rewrite(&sio_routes(&servers, "None"));
    wait_version(&gw, 3.0).await;
    let run = run_sio_clients(&url, 60, false, false).await;
    eprintln!(
        "no affinity: {}/60 upgraded, {} unknown-session refusals",
        run.ok,
        unknown(&servers)
    );
    assert!(run.ok < 60, "without affinity some sessions must fail");
    assert!(unknown(&servers) > 0, "servers saw unknown sessions");
}

async fn open(gw: &Wsgate, n: usize) -> Vec<(String, Ws)> {
    let mut out = Vec::with_capacity(n);
    for chunk in 0..n.div_ceil(50) {
        let batch = (0..50.min(n - chunk * 50)).map(|_| async {
            let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
            (whoami(&mut ws).await, ws)
        });
        out.extend(futures_util::future::join_all(batch).await);
    }
    out
}

fn counts(conns: &[(String, Ws)]) -> HashMap<String, usize> {
    let mut c = HashMap::new();
    for (name, _) in conns {
        *c.entry(name.clone()).or_default() += 1;
    }
    c
}

fn assert_within_ten_percent(c: &HashMap<String, usize>, total: usize) {
    let mean = total as f64 / 3.0;
    assert_eq!(c.len(), 3, "{c:?}");
    for (name, n) in c {
        assert!(
            (*n as f64 - mean).abs() <= mean * 0.1,
            "{name} has {n} of {total}: {c:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn least_connections_keeps_long_lived_connections_even_after_uneven_closes() {
    let backends = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let gw = Wsgate::start(&routes(
        "chat",
        &addrs,
        "  loadBalancing: {algorithm: LeastConnections}\n",
    ));
    gw.wait_ready().await;
    let conns = open(&gw, 300).await;
    assert_within_ten_percent(&counts(&conns), 300);

    // Close 80 connections of "a" and 20 of "b", then open 100 new ones.
    let mut quota = HashMap::from([("a", 80), ("b", 20)]);
    let mut kept = Vec::new();
    for (name, mut ws) in conns {
        match quota.get_mut(name.as_str()) {
            Some(q) if *q > 0 => {
                *q -= 1;
                let _ = ws.close(None).await;
            }
            _ => kept.push((name, ws)),
        }
    }
    assert!(quota.values().all(|q| *q == 0), "{quota:?}");
    let mut conns = kept;
    wait_active(&gw, 200.0).await;
    conns.extend(open(&gw, 100).await);
    let c = counts(&conns);
    eprintln!("least connections after uneven closes and refill: {c:?}");
    assert_within_ten_percent(&c, 300);
    assert!(c["a"] >= 95, "the emptied backend was refilled: {c:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_backend_is_ejected_and_new_connections_never_fail() {
    let mut procs = [
        EchoProcess::start("a"),
        EchoProcess::start("b"),
        EchoProcess::start("c"),
    ];
    let addrs: Vec<_> = procs.iter().map(|p| p.addr).collect();
    let gw = Wsgate::start(&routes("chat", &addrs, ""));
    gw.wait_ready().await;
    let before = open(&gw, 30).await;
    assert_eq!(counts(&before).len(), 3);
    procs[1].kill();
    drop(before);

    // New connections over 2.5 s: the first one to reach "b" detects it (and is retried),
    // later probes after each backoff are retried too; no client sees a failure.
    let mut names = Vec::new();
    for _ in 0..50 {
        let mut ws = ws_connect(&gw.ws_url("/chat"))
            .await
            .expect("no failed handshake");
        names.push(whoami(&mut ws).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(names.iter().all(|n| n != "b"), "{names:?}");
    assert!(names.iter().any(|n| n == "a") && names.iter().any(|n| n == "c"));
    let ejected = gw
        .metric(&format!(
            "wsgate_endpoint_ejections_total{{endpoint=\"{}\"}}",
            addrs[1]
        ))
        .await;
    assert!(ejected >= 1.0, "the dead endpoint was ejected");
    assert!(
        gw.metric("wsgate_retries_total{route=\"default/chat\"}")
            .await
            >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_endpoint_drains_with_1001_spread_over_the_drain_period() {
    let backends = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let drain = "  drain: {period: 2s}\n";
    let gw = Wsgate::start(&routes("chat", &addrs, drain));
    gw.wait_ready().await;
    let conns = open(&gw, 60).await;
    let (removed, kept): (Vec<_>, Vec<_>) = conns.into_iter().partition(|(n, _)| n == "c");
    assert!(removed.len() >= 15, "{} on c", removed.len());

    let started = Instant::now();
    gw.rewrite(&routes("chat", &addrs[..2], drain));
    let waits = removed.into_iter().map(|(_, mut ws)| async move {
        loop {
            match tokio::time::timeout(Duration::from_secs(6), ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return (frame.map(|f| u16::from(f.code)), started.elapsed());
                }
                Ok(Some(Ok(_))) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    });
    let closes = futures_util::future::join_all(waits).await;
    let mut times: Vec<f64> = closes.iter().map(|(_, t)| t.as_secs_f64()).collect();
    times.sort_by(f64::total_cmp);
    assert!(
        closes.iter().all(|(code, _)| *code == Some(1001)),
        "{closes:?}"
    );
    let (first, last) = (times[0], times[times.len() - 1]);
    eprintln!(
        "{} drained closes from {first:.2}s to {last:.2}s",
        times.len()
    );
    assert!(
        first < 1.0 && last > 1.2 && last < 3.0,
        "closes from {first:.2}s to {last:.2}s"
    );
    assert!(
        last - first > 1.0,
        "closes are spread, not a burst: {times:?}"
    );

    // The others keep working, and new connections never reach the removed endpoint.
    for (name, mut ws) in kept.into_iter().take(5) {
        assert_eq!(whoami(&mut ws).await, name);
    }
    let fresh = open(&gw, 20).await;
    assert!(
        counts(&fresh).keys().all(|n| n != "c"),
        "{:?}",
        counts(&fresh)
    );
}

async fn get_with_cookie(gw: &Wsgate, cookie: Option<&str>) -> (String, Option<String>) {
    let mut req = http::Request::get("/whoami").header("host", "chat.example.com");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let (status, body, headers) = http_request(&gw.http.to_string(), req).await.expect("GET");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let set = headers
        .get("set-cookie")
        .map(|h| h.to_str().expect("ascii").to_string());
    (v["backend"].as_str().expect("backend").to_string(), set)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_affinity_cookie_from_one_replica_is_honoured_by_another() {
    let backends = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let yaml = routes("chat", &addrs, "  sessionAffinity: {type: Cookie}\n");
    let (one, two) = (Wsgate::start(&yaml), Wsgate::start(&yaml));
    one.wait_ready().await;
    two.wait_ready().await;
    for _ in 0..6 {
        let (first, set) = get_with_cookie(&one, None).await;
        let set = set.expect("the first response sets the cookie");
        assert!(
            set.contains("; Path=/; HttpOnly; Max-Age=3600; SameSite=Lax"),
            "{set}"
        );
        assert!(
            !set.contains("Secure") && !set.contains("127.0.0.1"),
            "{set}"
        );
        let cookie = set.split(';').next().expect("pair").to_string();
        for gw in [&one, &two, &two] {
            let (again, reset) = get_with_cookie(gw, Some(&cookie)).await;
            assert_eq!(
                again, first,
                "the cookie pins the endpoint on every replica"
            );
            assert_eq!(reset, None, "a valid cookie is not set again");
        }
    }
    // A cookie naming no endpoint of the route is replaced.
    let (_, set) = get_with_cookie(&two, Some("wsgate-affinity=00000000deadbeef")).await;
    assert!(set.is_some_and(|s| !s.contains("deadbeef")));
}

#[tokio::test(flavor = "multi_thread")]
async fn when_every_endpoint_is_down_wsgate_answers_503_with_retry_after() {
    // Two addresses that refuse connections.
    let dead: Vec<_> = futures_util::future::join_all((0..2).map(|_| async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr")
    }))
    .await;
    let gw = Wsgate::start(&routes("chat", &dead, ""));
    gw.wait_ready().await;
    let (status, _) = http_get(&gw.http_url("/x"), None).await.expect("GET");
    assert_eq!(status, 502, "both endpoints refused: the retry failed too");
    let req = http::Request::get("/x")
        .header("host", "chat.example.com")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let (status, body, headers) = http_request(&gw.http.to_string(), req).await.expect("GET");
    assert_eq!(status, 503, "{body}");
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert_eq!(gw.metric("wsgate_endpoint_ejections_total{").await, 2.0);
}
