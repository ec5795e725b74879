//! Balancing and affinity through the real wsgate binary: Socket.IO sessions stick to their
//! server (by `sid` or by cookie) and visibly break without affinity; least connections keeps
//! long-lived connections even; a killed backend is ejected without failed handshakes; a
//! removed endpoint drains with 1001 spread over the drain period.

mod balancing_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{close_ws, http_get, http_request, next_within, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::open_files;
use wsgate_tests::wait::{SETTLE_TIMEOUT, until};
use wsgate_tests::wsgate::{Wsgate, routes};

use balancing_support::spread::{
    assert_within_ten_percent, counts, get_with_cookie, open, refusing_address,
};
use balancing_support::{EchoProcess, SioServer, run_sio_clients, whoami};

/// Waits until wsgate counts `n` open connections and requests over all endpoints.
async fn wait_active(gw: &Wsgate, n: f64) {
    until(
        || format!("wsgate never counted {n} active connections"),
        || async { gw.metric("wsgate_endpoint_active{").await == n },
    )
    .await;
}

fn sio_routes(servers: &[SioServer], affinity: &str) -> String {
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    routes(
        "chat",
        &addrs,
        &format!("  sessionAffinity: {{type: {affinity}}}\n"),
    )
}

#[e2e(multi_thread, heavy, limit = 300)]
async fn socketio_sessions_stick_by_sid_or_cookie_and_break_without_affinity() {
    let servers: Vec<SioServer> = ["sio-a", "sio-b", "sio-c"].map(SioServer::start).into();
    let gw = Wsgate::launch(&sio_routes(&servers, "SocketIO")).await;
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
        .metric("wsgate_affinity_lookups_total{result=\"hit\",type=\"socketio\"}")
        .await;
    assert!(
        hits >= 400.0,
        "polls and upgrades found their session: {hits}"
    );

    // Cookie affinity, clients with a cookie jar.
    gw.rewrite(&sio_routes(&servers, "Cookie"));
    gw.wait_version(2.0).await;
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
        gw.metric("wsgate_affinity_lookups_total{result=\"hit\",type=\"cookie\"}")
            .await
            >= 400.0
    );

    // No affinity: requests of one session land on different servers and sessions break.
    gw.rewrite(&sio_routes(&servers, "None"));
    gw.wait_version(3.0).await;
    let run = run_sio_clients(&url, 60, false, false).await;
    eprintln!(
        "no affinity: {}/60 upgraded, {} unknown-session refusals",
        run.ok,
        unknown(&servers)
    );
    assert!(run.ok < 60, "without affinity some sessions must fail");
    assert!(unknown(&servers) > 0, "servers saw unknown sessions");
}

#[e2e(multi_thread, heavy, limit = 300)]
async fn least_connections_keeps_long_lived_connections_even_after_uneven_closes() {
    let backends = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let gw = Wsgate::launch(&routes(
        "chat",
        &addrs,
        "  loadBalancing: {algorithm: LeastConnections}\n",
    ))
    .await;
    gw.wait_ready().await;
    // Each connection is two sockets in this process (client and in-process backend).
    open_files::require(2 * 300 + 100);
    let conns = open(&gw, 300).await;
    assert_within_ten_percent(&counts(&conns), 300);

    // Close 80 connections of "a" and 20 of "b", then open 100 new ones.
    let mut quota = HashMap::from([("a", 80), ("b", 20)]);
    let mut kept = Vec::new();
    for (name, mut ws) in conns {
        match quota.get_mut(name.as_str()) {
            Some(q) if *q > 0 => {
                *q -= 1;
                close_ws(&mut ws).await;
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

#[e2e(multi_thread, heavy)]
async fn a_killed_backend_is_ejected_and_new_connections_never_fail() {
    let mut procs = [
        EchoProcess::start("a"),
        EchoProcess::start("b"),
        EchoProcess::start("c"),
    ];
    let addrs: Vec<_> = procs.iter().map(|p| p.addr).collect();
    let gw = Wsgate::launch(&routes("chat", &addrs, "")).await;
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
        gw.metric("wsgate_retries_total{namespace=\"default\",route=\"chat\"}")
            .await
            >= 1.0
    );
}

#[e2e(multi_thread, heavy)]
async fn a_removed_endpoint_drains_with_1001_spread_over_the_drain_period() {
    let backends = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let drain = "  drain: {period: 2s}\n";
    let gw = Wsgate::launch(&routes("chat", &addrs, drain)).await;
    gw.wait_ready().await;
    let conns = open(&gw, 60).await;
    let (removed, kept): (Vec<_>, Vec<_>) = conns.into_iter().partition(|(n, _)| n == "c");
    assert!(removed.len() >= 15, "{} on c", removed.len());

    gw.rewrite(&routes("chat", &addrs[..2], drain));
    let waits = removed.into_iter().map(|(_, mut ws)| async move {
        loop {
            match next_within(&mut ws, SETTLE_TIMEOUT).await {
                Some(Ok(Message::Close(frame))) => {
                    return (frame.map(|f| u16::from(f.code)), Instant::now());
                }
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    });
    let closes = futures_util::future::join_all(waits).await;
    assert!(
        closes.iter().all(|(code, _)| *code == Some(1001)),
        "{closes:?}"
    );
    // Spread over the 2 s period, not a burst: measured between the closes themselves, so a
    // slow reload or a slow machine only stretches the spread, never shrinks it.
    let first = closes.iter().map(|(_, t)| *t).min().expect("closes");
    let mut offsets: Vec<f64> = closes
        .iter()
        .map(|(_, t)| (*t - first).as_secs_f64())
        .collect();
    offsets.sort_by(f64::total_cmp);
    let spread = offsets[offsets.len() - 1];
    eprintln!("{} drained closes spread over {spread:.2}s", offsets.len());
    assert!(
        spread >= 1.0,
        "closes are spread over the drain period, not a burst: {offsets:?}"
    );
    // A tunnel is counted as it ends, just after its close frame reached the client.
    assert_eq!(
        gw.wait_metric("wsgate_connections_closed_total{code=\"1001\",namespace=\"default\",reason=\"endpoint_removed\"", closes.len() as f64)
            .await,
        closes.len() as f64
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

#[e2e(multi_thread)]
async fn an_affinity_cookie_from_one_replica_is_honoured_by_another() {
    let backends = [
        Backend::start("a").await,
        Backend::start("b").await,
        Backend::start("c").await,
    ];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let yaml = routes("chat", &addrs, "  sessionAffinity: {type: Cookie}\n");
    let (one, two) = (Wsgate::launch(&yaml).await, Wsgate::launch(&yaml).await);
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
    // L1: another install (another secret) cannot read the cookie: it is replaced.
    let env = [("WSGATE_AFFINITY_KEY", "another-install-with-its-own-key")];
    let other = Wsgate::launch_with_env(&yaml, &[], &env).await;
    other.wait_ready().await;
    let (_, set) = get_with_cookie(&one, None).await;
    let cookie = set
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let (_, reset) = get_with_cookie(&other, Some(&cookie)).await;
    let reset = reset.expect("a cookie keyed by another secret is not honoured");
    assert_ne!(reset.split(';').next(), Some(cookie.as_str()));
}

#[e2e(multi_thread)]
async fn when_every_endpoint_is_down_wsgate_answers_503_with_retry_after() {
    let (_held_a, a) = refusing_address();
    let (_held_b, b) = refusing_address();
    let gw = Wsgate::launch(&routes("chat", &[a, b], "")).await;
    gw.wait_ready().await;
    let (status, _) = http_get(&gw.http_url("/x"), None).await.expect("GET");
    assert_eq!(status, 502, "both endpoints refused: the retry failed too");
    let ejections = "wsgate_endpoint_ejections_total{";
    assert_eq!(gw.metric(ejections).await, 2.0);
    // Both are now ejected, so wsgate answers by itself. Should a slow machine let the 1 s
    // ejection lapse before the next request, that request probes both again (502, two more
    // ejections, each twice as long as the last): every answer is checked either way.
    let mut probes = 1u32;
    for _ in 0..4 {
        let req = http::Request::get("/x")
            .header("host", "chat.example.com")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("request");
        let (status, body, headers) = http_request(&gw.http.to_string(), req).await.expect("GET");
        if status == 502 {
            probes += 1;
            assert_eq!(
                gw.metric(ejections).await,
                f64::from(2 * probes),
                "a 502 means both were probed again"
            );
            continue;
        }
        assert_eq!(status, 503, "{body}");
        let retry: u64 = headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        // At most the current ejection period: 1 s after the first failure, doubling.
        let longest = 2u64.pow(probes);
        assert!((1..=longest).contains(&retry), "Retry-After {retry}");
        assert_eq!(
            gw.metric(ejections).await,
            f64::from(2 * probes),
            "a 503 touches no endpoint"
        );
        return;
    }
    panic!(
        "never answered 503 while every endpoint was ejected: {}",
        gw.log()
    );
}
