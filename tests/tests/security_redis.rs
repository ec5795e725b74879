//! Single use shared by two wsgate processes through a real Redis, and fail-closed when the
//! Redis is gone.

mod security_support;

use security_support::*;
use serde_json::json;
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

#[e2e]
async fn a_ticket_used_on_one_replica_is_refused_on_the_other_and_redis_down_fails_closed() {
    let mut redis = Redis::start();
    let dir = Scratch::new("ticket-redis");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let yaml = routes(
        "chat",
        &[backend.addr],
        &format!(
            "  auth:\n    ticket:\n      keyFile: {key}\n      replayStore: {}\n",
            redis.url()
        ),
    );
    let (a, b) = (Wsgate::launch(&yaml).await, Wsgate::launch(&yaml).await);
    a.wait_ready().await;
    b.wait_ready().await;
    let claims = || json!({"sub": "u", "jti": jti(), "exp": now() + 60});
    let token = mint("HS256", &key, claims(), None);
    let (mut ws, _) = ws_with(&a.ws_url(&format!("/c?ticket={token}")), &[])
        .await
        .expect("first use on replica A");
    echo(&mut ws, "a").await;
    let (status, body) = refused(&b.ws_url(&format!("/c?ticket={token}")), &[]).await;
    assert_eq!(status, 403, "replica B refuses the replay: {body}");

    let fresh = mint("HS256", &key, claims(), None);
    let (mut ws, _) = ws_with(&b.ws_url(&format!("/c?ticket={fresh}")), &[])
        .await
        .expect("a fresh ticket on replica B");
    echo(&mut ws, "b").await;

    redis.stop();
    let unchecked = mint("HS256", &key, claims(), None);
    let (status, body) = refused(&a.ws_url(&format!("/c?ticket={unchecked}")), &[]).await;
    assert_eq!(status, 503, "no replay store, no tickets: {body}");
    assert!(a.metric("wsgate_ticket_store_errors_total").await >= 1.0);
    assert_eq!(
        a.metric(
            "wsgate_auth_refusals_total{namespace=\"default\",reason=\"ticket_store_unavailable\""
        )
        .await,
        1.0
    );
}
