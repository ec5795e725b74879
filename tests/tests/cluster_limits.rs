//! Connection limits counted across replicas (`limits.scope: Cluster`): three wsgate replicas
//! behind HAProxy in TCP mode (round robin per connection, PROXY protocol v2, so every
//! replica sees the client's own address) with one Redis. A client's connections are
//! counted together wherever they land; a replica killed with SIGKILL stops renewing its
//! lease and its connections stop counting once the lease runs out. `scope: Replica` (the
//! default) still counts on each replica alone.

mod cluster_limits_support;

use std::time::Instant;

use cluster_limits_support::*;
use tokio_tungstenite::tungstenite::Error as WsError;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::ws_connect;
use wsgate_tests::e2e;
use wsgate_tests::wait::{IO_TIMEOUT, until};
use wsgate_tests::wsgate::{Wsgate, routes};

#[e2e(multi_thread, heavy, limit = 240)]
async fn a_per_ip_limit_holds_across_replicas_and_a_killed_replica_releases_its_share() {
    let mut c = Cluster::start("    maxConnectionsPerIP: 6\n    scope: Cluster\n").await;
    let mut held = c.open(6).await;
    let per = c.wait_open(6.0).await;
    assert!(
        per.iter().all(|n| n.is_some_and(|n| n >= 1.0)),
        "the connections spread over the replicas: {per:?}"
    );
    c.refused_on_every_replica(
        "connections_per_ip",
        "too many connections from this client address (limit 6)",
    )
    .await;

    // SIGKILL the replica holding the most: it never releases anything itself.
    let (victim, share) = per
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (i, n as usize)))
        .max_by_key(|(_, n)| *n)
        .expect("a replica");
    c.replicas[victim].signal("KILL");
    c.replicas[victim]
        .wait_exit(IO_TIMEOUT)
        .await
        .expect("the replica died");
    let killed = Instant::now();

    // Within the lease its share comes free: the client gets exactly as many again.
    let fresh = c.admitted_once_released(share).await;
    println!(
        "the killed replica's {share} connections were released after {:?} (lease {LEASE:?})",
        killed.elapsed()
    );
    held.extend(fresh);
    let per = c.wait_open(6.0).await;
    assert_eq!(
        per.iter().flatten().sum::<f64>(),
        6.0,
        "the live replicas hold the limit again: {per:?}"
    );
    // And the limit holds again: the next handshake a live replica answers is refused.
    let deadline = Instant::now() + LEASE_WAIT;
    loop {
        match c.attempt().await {
            Outcome::Refused(429, body) => {
                assert!(body.contains("client address"), "{body}");
                break;
            }
            Outcome::Unreachable(_) if Instant::now() < deadline => continue,
            Outcome::Unreachable(e) => panic!("no live replica answered: {e}"),
            Outcome::Admitted(_) => panic!("a 7th connection was admitted\n{}", c.logs()),
            Outcome::Refused(status, body) => panic!("refused with {status}: {body}"),
        }
    }
    drop(held);
}

#[e2e(multi_thread, heavy, limit = 180)]
async fn a_route_limit_holds_across_replicas() {
    let mut c = Cluster::start("    maxConnections: 4\n    scope: Cluster\n").await;
    let held = c.open(4).await;
    let per = c.wait_open(4.0).await;
    assert!(
        per.iter().all(|n| n.is_some_and(|n| n >= 1.0)),
        "the connections spread over the replicas: {per:?}"
    );
    c.refused_on_every_replica(
        "connections_per_route",
        "too many connections on this route (limit 4)",
    )
    .await;
    drop(held);
    // Closed connections free their slots everywhere.
    let deadline = Instant::now() + LEASE_WAIT;
    let mut again = Vec::new();
    while again.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "closed connections never freed their slots ({} admitted)\n{}",
            again.len(),
            c.logs()
        );
        match c.attempt().await {
            Outcome::Admitted(ws) => again.push(*ws),
            Outcome::Refused(429, _) => tokio::time::sleep(POLL).await,
            Outcome::Refused(status, body) => panic!("refused with {status}: {body}"),
            Outcome::Unreachable(e) => panic!("handshake failed: {e}"),
        }
    }
}

#[e2e(multi_thread, heavy, limit = 180)]
async fn scope_replica_counts_on_each_replica_alone() {
    let mut c = Cluster::start("    maxConnectionsPerIP: 2\n").await;
    let mut held = Vec::new();
    // Each replica admits its own 2 and then refuses: 6 in all behind the balancer.
    for _ in 0..30 {
        match c.attempt().await {
            Outcome::Admitted(ws) => held.push(*ws),
            Outcome::Refused(429, _) => {}
            Outcome::Refused(status, body) => panic!("refused with {status}: {body}"),
            Outcome::Unreachable(e) => panic!("handshake failed: {e}"),
        }
        let mut refused_everywhere = true;
        for i in 0..3 {
            refused_everywhere &= c.refusals(i, "connections_per_ip").await >= 1.0;
        }
        if refused_everywhere {
            break;
        }
    }
    let per = c.wait_open(6.0).await;
    assert_eq!(held.len(), 6, "2 per replica: {per:?}");
    assert_eq!(per, vec![Some(2.0); 3], "2 per replica");
    assert_eq!(
        c.redis.cli(&["--scan", "--pattern", "*wsgate:limits*"]),
        "",
        "scope: Replica keeps nothing in Redis"
    );
}

#[e2e(multi_thread, heavy, limit = 180)]
async fn with_redis_away_replicas_judge_alone_and_counts_return_after_a_restart() {
    let mut c = Cluster::start("    maxConnectionsPerIP: 3\n    scope: Cluster\n").await;
    let mut held = c.open(3).await;
    c.wait_open(3.0).await;
    assert_eq!(counted_in_redis(&c.redis), 3);

    // Redis away: the next handshake is judged by its replica's own count (at most 3 there).
    c.redis.stop();
    held.extend(c.open(1).await);
    let mut fallbacks = 0.0;
    for r in &c.replicas {
        fallbacks += r.metric("wsgate_shared_limit_fallbacks_total").await;
    }
    assert_eq!(fallbacks, 1.0, "one handshake judged without Redis");

    // Redis back, empty: every replica finds its lease gone and writes its counts again.
    c.redis.restart();
    let redis = &c.redis;
    until(
        || format!("Redis never got the 4 connections back\n{}", c.logs()),
        || async move { counted_in_redis(redis) == 4 },
    )
    .await;
    c.refused_on_every_replica(
        "connections_per_ip",
        "too many connections from this client address (limit 3)",
    )
    .await;
    drop(held);
}

#[e2e]
async fn scope_cluster_without_shared_state_counts_per_replica_with_a_warning() {
    let backend = Backend::start("app").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        "  limits:\n    maxConnectionsPerIP: 1\n    scope: Cluster\n",
    ))
    .await;
    gw.wait_ready().await;
    gw.wait_log("limits.scope: Cluster without shared state")
        .await;
    let url = gw.ws_url("/chat");
    let _first = ws_connect(&url).await.expect("first connection");
    match ws_connect(&url).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status().as_u16(), 429),
        Err(e) => panic!("second connection failed: {e}"),
        Ok(_) => panic!("a second connection from one address was admitted"),
    }
}

#[e2e(multi_thread, heavy, limit = 180)]
async fn connections_open_when_a_route_turns_cluster_wide_count_with_the_others() {
    let mut c = Cluster::start("    maxConnectionsPerIP: 3\n").await;
    let held = c.open(3).await;
    c.wait_open(3.0).await;
    assert_eq!(counted_in_redis(&c.redis), 0, "scope: Replica");

    c.relimit("    maxConnectionsPerIP: 3\n    scope: Cluster\n")
        .await;
    let redis = &c.redis;
    until(
        || format!("the 3 open connections never reached Redis\n{}", c.logs()),
        || async move { counted_in_redis(redis) == 3 },
    )
    .await;
    c.refused_on_every_replica(
        "connections_per_ip",
        "too many connections from this client address (limit 3)",
    )
    .await;
    drop(held);
}
