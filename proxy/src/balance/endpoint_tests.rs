use super::*;
use crate::metrics::Metrics;

fn registry() -> EndpointRegistry {
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    EndpointRegistry::new(CancellationToken::new(), metrics.endpoints)
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn removing_an_endpoint_fires_its_drain_and_only_its_own() {
    let reg = registry();
    let (a, b) = (reg.get(addr(1)), reg.get(addr(2)));
    let _lease = b.acquire();
    reg.retain(&HashSet::from([addr(1)]));
    assert!(!a.drain.is_cancelled());
    assert!(b.drain.is_cancelled(), "the removed endpoint drains");
    // Counts carry over for kept endpoints; a re-added address starts afresh.
    assert!(Arc::ptr_eq(&a, &reg.get(addr(1))));
    let again = reg.get(addr(2));
    assert!(!Arc::ptr_eq(&b, &again) && !again.drain.is_cancelled());
}

#[test]
fn shutdown_drains_every_endpoint() {
    let shutdown = CancellationToken::new();
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let reg = EndpointRegistry::new(shutdown.clone(), metrics.endpoints);
    let a = reg.get(addr(1));
    shutdown.cancel();
    assert!(a.drain.is_cancelled());
}

#[test]
fn ejection_backs_off_exponentially_up_to_a_cap_and_heals_on_success() {
    let reg = registry();
    let e = reg.get(addr(1));
    let periods: Vec<u64> = (0..8).map(|_| e.mark_failed().as_secs()).collect();
    assert_eq!(periods, [1, 2, 4, 8, 16, 30, 30, 30]);
    assert!(!e.is_healthy());
    assert!(e.retry_in() > Duration::from_secs(29));
    e.mark_ok();
    assert!(e.is_healthy());
    assert_eq!(
        e.mark_failed(),
        EJECT_BASE,
        "backoff restarts after a success"
    );
}

#[test]
fn only_endpoints_added_after_the_first_table_or_recovered_ones_ramp() {
    let reg = registry();
    let window = Duration::from_secs(10);
    let first = reg.get(addr(1));
    assert_eq!(first.ramp(window), 1.0);
    reg.retain(&HashSet::from([addr(1)]));
    let later = reg.get(addr(2));
    assert!(later.ramp(window) <= 0.06, "{}", later.ramp(window));
    assert_eq!(later.ramp(Duration::ZERO), 1.0, "no window, no ramp");
    first.mark_failed();
    first.mark_ok();
    assert!(first.ramp(window) < 0.1, "a recovered endpoint ramps again");
}

#[test]
fn a_poll_inside_a_counted_session_is_not_a_second_connection() {
    let reg = registry();
    let e = reg.get(addr(1));
    let session = e.hold();
    let poll = e.lease_in_session();
    assert_eq!(e.active(), 1);
    drop(poll);
    assert_eq!(e.active(), 1);
    drop(session);
    let request = e.acquire();
    assert_eq!(e.active(), 1);
    drop(request);
    assert_eq!(e.active(), 0);
}
