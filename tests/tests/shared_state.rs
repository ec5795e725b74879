//! State shared between replicas through a real Redis configured once per process
//! (`ProxyConfig` `spec.sharedState.redis`): single-use tickets across replicas, a
//! restarted Redis picked up again without restarting wsgate, an ACL user whose password
//! comes from a file, and `rediss://` with a private CA.

mod security_support;
mod support;

use security_support::*;
use serde_json::json;
use support::certs::{Alg, Ca};
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::redis::Redis;
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

/// A routes file with `spec.sharedState.redis` set to `redis` (YAML flow mapping fields) and
/// one ticket-protected route to `backend`.
fn shared_routes(redis: &str, key: &str, backend: std::net::SocketAddr) -> String {
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: local}}\nspec:\n  sharedState:\n    redis: {{{redis}}}\n---\n{}",
        routes(
            "chat",
            &[backend],
            &format!("  auth:\n    ticket:\n      keyFile: {key}\n"),
        )
    )
}

fn ticket(key: &str) -> String {
    mint(
        "HS256",
        key,
        json!({"sub": "u", "jti": jti(), "exp": now() + 60}),
        None,
    )
}

/// Uses `token` on `gw` and expects the echo to work.
async fn accepted(gw: &Wsgate, token: &str, what: &str) {
    match ws_with(&gw.ws_url(&format!("/c?ticket={token}")), &[]).await {
        Ok((mut ws, _)) => echo(&mut ws, what).await,
        Err((status, body)) => panic!("{what}: refused with {status} {body}\n{}", gw.log()),
    }
}

async fn status_of(gw: &Wsgate, token: &str) -> u16 {
    refused(&gw.ws_url(&format!("/c?ticket={token}")), &[])
        .await
        .0
}

#[e2e]
async fn tickets_are_single_use_across_replicas_and_survive_redis_restarts() {
    let mut redis = Redis::start();
    let dir = Scratch::new("shared-redis");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let yaml = shared_routes(&format!("url: \"{}\"", redis.url()), &key, backend.addr);
    let (a, b) = (Wsgate::launch(&yaml).await, Wsgate::launch(&yaml).await);
    a.wait_ready().await;
    b.wait_ready().await;

    let token = ticket(&key);
    accepted(&a, &token, "first use on A").await;
    assert_eq!(status_of(&b, &token).await, 403, "B refuses the replay");
    assert_eq!(status_of(&a, &token).await, 403, "A refuses it too");

    // A restarted Redis leaves each replica holding a dead connection: the next call is
    // retried once on a fresh one instead of refusing a valid ticket.
    redis.restart();
    accepted(&a, &ticket(&key), "A after a Redis restart").await;
    accepted(&b, &ticket(&key), "B after a Redis restart").await;
    assert!(
        a.metric("wsgate_shared_state_retries_total").await >= 1.0,
        "the stale connection was retried"
    );

    // Redis down: fail closed, counted.
    redis.stop();
    assert_eq!(
        status_of(&a, &ticket(&key)).await,
        503,
        "no store, no tickets"
    );
    assert!(
        a.metric("wsgate_shared_state_errors_total{op=\"ticket_use\"")
            .await
            >= 1.0
    );
    assert_eq!(a.metric("wsgate_shared_state_up").await, 0.0);

    // Back up: recovered without restarting wsgate, and single use holds again.
    redis.restart();
    let token = ticket(&key);
    accepted(&a, &token, "A after Redis came back").await;
    assert_eq!(status_of(&b, &token).await, 403, "B sees A's use");
    assert_eq!(a.metric("wsgate_shared_state_up").await, 1.0);
}

#[e2e]
async fn an_acl_user_authenticates_with_a_password_file_that_can_be_fixed_live() {
    let redis = Redis::start_with(&[
        "--user",
        "default",
        "off",
        "--user",
        "wsgate",
        "on",
        ">s3cret:pw",
        "~wsgate:*",
        "+@all",
    ]);
    let dir = Scratch::new("shared-redis-acl");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let password = dir.path("redis.pw");
    std::fs::write(&password, "wrong\n").expect("password file");
    let backend = Backend::start("b1").await;
    let url = format!("redis://wsgate@{}", redis.addr);
    let yaml = shared_routes(
        &format!("url: \"{url}\", passwordFile: \"{}\"", password.display()),
        &key,
        backend.addr,
    );
    let gw = Wsgate::launch(&yaml).await;
    gw.wait_ready().await;
    assert_eq!(
        status_of(&gw, &ticket(&key)).await,
        503,
        "wrong password: closed"
    );
    assert_eq!(
        gw.metric("wsgate_shared_state_errors_total{op=\"ticket_use\",reason=\"auth\"}")
            .await,
        1.0
    );
    assert!(
        !gw.log().contains("wrong"),
        "the password never reaches the log"
    );

    // The file is read again at the next connection: fixing it needs no restart.
    std::fs::write(&password, "s3cret:pw\n").expect("password file");
    let token = ticket(&key);
    accepted(&gw, &token, "with the right password").await;
    assert_eq!(
        status_of(&gw, &token).await,
        403,
        "single use through the ACL user"
    );
    let stored = redis.cli(&[
        "--user",
        "wsgate",
        "--pass",
        "s3cret:pw",
        "--no-auth-warning",
        "KEYS",
        "wsgate:ticket:*",
    ]);
    assert_eq!(stored.lines().count(), 1, "one ticket recorded: {stored}");
}

#[e2e]
async fn rediss_with_a_private_ca() {
    let dir = Scratch::new("shared-rediss");
    let ca = Ca::root("redis test CA");
    let leaf = ca.leaf(&["localhost"], Alg::Ecdsa);
    let (cert, pkey, ca_file) = (
        dir.path("redis.crt"),
        dir.path("redis.key"),
        dir.path("ca.pem"),
    );
    std::fs::write(&cert, &leaf.chain_pem).expect("cert");
    std::fs::write(&pkey, &leaf.key_pem).expect("key");
    std::fs::write(&ca_file, &ca.pem).expect("ca");
    let s = |p: &std::path::Path| p.display().to_string();
    let redis = Redis::start_tls(&s(&cert), &s(&pkey), &s(&ca_file));
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let good = shared_routes(
        &format!(
            "url: \"{}\", caFile: \"{}\"",
            redis.url(),
            ca_file.display()
        ),
        &key,
        backend.addr,
    );
    let (a, b) = (Wsgate::launch(&good).await, Wsgate::launch(&good).await);
    a.wait_ready().await;
    b.wait_ready().await;
    let token = ticket(&key);
    accepted(&a, &token, "over TLS").await;
    assert_eq!(status_of(&b, &token).await, 403, "shared over TLS");

    // Without the private CA the server's certificate is not trusted: closed.
    let untrusted = shared_routes(&format!("url: \"{}\"", redis.url()), &key, backend.addr);
    let c = Wsgate::launch(&untrusted).await;
    c.wait_ready().await;
    assert_eq!(
        status_of(&c, &ticket(&key)).await,
        503,
        "unverified TLS is refused"
    );
}

#[e2e]
async fn without_shared_state_a_start_up_warning_says_state_is_per_replica() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes("chat", &[backend.addr], "")).await;
    gw.wait_ready().await;
    gw.wait_log("no shared state configured").await;
}
