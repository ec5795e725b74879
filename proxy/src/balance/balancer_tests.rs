use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::*;
use crate::balance::endpoint::{EndpointGuard, EndpointRegistry};
use crate::metrics::Metrics;
use tokio_util::sync::CancellationToken;
use wsgate_core::affinity::hash::hash64;
use wsgate_core::table::{Balancing, HashKey};

fn registry() -> EndpointRegistry {
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    EndpointRegistry::new(CancellationToken::new(), metrics.endpoints)
}

fn addr(i: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 10000 + i))
}

fn candidates(reg: &EndpointRegistry, weights: &[u32]) -> Arc<[Candidate]> {
    weights
        .iter()
        .enumerate()
        .map(|(i, w)| Candidate {
            state: reg.get(addr(i as u16)),
            weight: *w,
        })
        .collect()
}

fn policy(algorithm: Algorithm, affinity: Affinity) -> RoutePolicy {
    RoutePolicy {
        balancing: Balancing {
            algorithm,
            slow_start: Duration::ZERO,
            rebalance: None,
        },
        affinity,
        ..RoutePolicy::default()
    }
}

fn counts(b: &Balancer) -> Vec<u64> {
    b.candidates.iter().map(|c| c.state.active()).collect()
}

fn spread(v: &[u64]) -> u64 {
    v.iter().max().copied().unwrap_or(0) - v.iter().min().copied().unwrap_or(0)
}

#[test]
fn least_connections_spreads_evenly_even_after_uneven_closes() {
    let reg = registry();
    let b = Balancer::new(
        candidates(&reg, &[1, 1, 1]),
        &policy(Algorithm::LeastConnections, Affinity::None),
        [0; 32],
    );
    let mut guards: Vec<EndpointGuard> = (0..300)
        .map(|_| b.pick(None, None).expect("pick").state.acquire())
        .collect();
    assert!(spread(&counts(&b)) <= 3, "{:?}", counts(&b));
    // Close 80 connections of the first endpoint and 20 of the second, then refill.
    let mut closed = HashMap::new();
    guards.retain(|g| {
        let i = g.endpoint().addr.port() - 10000;
        let quota = [80, 20, 0][i as usize];
        let n = closed.entry(i).or_insert(0);
        if *n < quota {
            *n += 1;
            false
        } else {
            true
        }
    });
    guards.extend((0..100).map(|_| b.pick(None, None).expect("pick").state.acquire()));
    assert!(
        spread(&counts(&b)) <= 3,
        "after uneven closes: {:?}",
        counts(&b)
    );
}

#[test]
fn weights_scale_least_connections_and_round_robin() {
    let reg = registry();
    let c = candidates(&reg, &[3, 1]);
    let lc = Balancer::new(
        c.clone(),
        &policy(Algorithm::LeastConnections, Affinity::None),
        [0; 32],
    );
    let _g: Vec<_> = (0..400)
        .map(|_| lc.pick(None, None).expect("pick").state.acquire())
        .collect();
    let got = counts(&lc);
    assert!((290..=310).contains(&got[0]), "{got:?}");
    drop(_g);
    let rr = Balancer::new(c, &policy(Algorithm::RoundRobin, Affinity::None), [0; 32]);
    let mut seen = [0u32; 2];
    for _ in 0..400 {
        seen[(rr.pick(None, None).expect("pick").state.addr.port() - 10000) as usize] += 1;
    }
    assert_eq!(seen, [300, 100]);
    let schedule = smooth_schedule(&[(addr(0), 5), (addr(1), 1), (addr(2), 1)]);
    assert_eq!(&schedule[..], &[0, 0, 1, 0, 2, 0, 0], "smooth, not bursty");
}

#[test]
fn round_robin_takes_endpoints_in_turn_and_skips_unhealthy_ones() {
    let reg = registry();
    let b = Balancer::new(
        candidates(&reg, &[1, 1, 1]),
        &policy(Algorithm::RoundRobin, Affinity::None),
        [0; 32],
    );
    let order: Vec<u16> = (0..6)
        .map(|_| b.pick(None, None).expect("pick").state.addr.port())
        .collect();
    assert_eq!(
        order[..3].iter().collect::<HashSet<_>>().len(),
        3,
        "{order:?}"
    );
    assert_eq!(order[..3], order[3..]);
    b.candidates[1].state.mark_failed();
    for _ in 0..30 {
        assert_ne!(b.pick(None, None).expect("pick").state.addr, addr(1));
    }
}

#[test]
fn unhealthy_and_skipped_endpoints_are_avoided_until_none_is_left() {
    let reg = registry();
    let b = Balancer::new(
        candidates(&reg, &[1, 1]),
        &policy(Algorithm::LeastConnections, Affinity::None),
        [0; 32],
    );
    let first = b.candidates[0].state.clone();
    for _ in 0..50 {
        assert_eq!(
            b.pick(None, Some(&first)).expect("pick").state.addr,
            addr(1)
        );
    }
    assert_eq!(first.mark_failed(), Duration::from_secs(1));
    assert_eq!(
        first.mark_failed(),
        Duration::from_secs(2),
        "backoff doubles"
    );
    assert!(!first.is_healthy());
    assert!(b.pick(None, Some(&b.candidates[1].state)).is_none());
    b.candidates[1].state.mark_failed();
    assert!(b.pick(None, None).is_none());
    assert!(b.retry_in() > Duration::ZERO && b.retry_in() <= Duration::from_secs(1));
    first.mark_ok();
    assert!(first.is_healthy());
    assert_eq!(b.pick(None, None).expect("pick").state.addr, addr(0));
}

fn hash_policy(bound: Option<f64>) -> RoutePolicy {
    policy(
        Algorithm::LeastConnections,
        Affinity::Hash {
            key: HashKey::ClientIp,
            bound,
        },
    )
}

#[test]
fn a_hot_key_spills_over_at_the_bound_and_sticks_without_one() {
    let reg = registry();
    let c = candidates(&reg, &[1, 1, 1]);
    let key = hash64(0, b"203.0.113.9");
    let bounded = Balancer::new(c.clone(), &hash_policy(Some(1.25)), [0; 32]);
    let guards: Vec<_> = (0..300)
        .map(|_| bounded.pick(Some(key), None).expect("pick").state.acquire())
        .collect();
    let max = counts(&bounded).into_iter().max().unwrap_or(0);
    assert!(max <= 126, "bounded load exceeded: {:?}", counts(&bounded));
    drop(guards);
    let unbounded = Balancer::new(c, &hash_policy(None), [0; 32]);
    let _g: Vec<_> = (0..300)
        .map(|_| {
            unbounded
                .pick(Some(key), None)
                .expect("pick")
                .state
                .acquire()
        })
        .collect();
    assert_eq!(counts(&unbounded).into_iter().max(), Some(300));
}

#[test]
fn distinct_keys_keep_their_endpoint_while_it_is_healthy() {
    let reg = registry();
    let b = Balancer::new(
        candidates(&reg, &[1, 1, 1]),
        &hash_policy(Some(1.25)),
        [0; 32],
    );
    let first: Vec<SocketAddr> = (0..300u32)
        .map(|k| {
            b.pick(Some(hash64(1, &k.to_le_bytes())), None)
                .expect("pick")
                .state
                .addr
        })
        .collect();
    let again: Vec<SocketAddr> = (0..300u32)
        .map(|k| {
            b.pick(Some(hash64(1, &k.to_le_bytes())), None)
                .expect("pick")
                .state
                .addr
        })
        .collect();
    assert_eq!(first, again);
    // An ejected endpoint's keys go elsewhere; the others' keys stay put.
    b.candidates[0].state.mark_failed();
    for (k, before) in first.iter().enumerate() {
        let now = b
            .pick(Some(hash64(1, &(k as u32).to_le_bytes())), None)
            .expect("pick")
            .state
            .addr;
        if *before == addr(0) {
            assert_ne!(now, addr(0));
        } else {
            assert_eq!(now, *before);
        }
    }
}

#[test]
fn a_new_endpoint_ramps_up_under_slow_start() {
    let reg = registry();
    let old = candidates(&reg, &[1, 1]);
    reg.retain(&old.iter().map(|c| c.state.addr).collect());
    let fresh = reg.get(addr(9));
    let mut all: Vec<Candidate> = old.to_vec();
    all.push(Candidate {
        state: fresh.clone(),
        weight: 1,
    });
    let mut p = policy(Algorithm::LeastConnections, Affinity::None);
    p.balancing.slow_start = Duration::from_secs(60);
    let b = Balancer::new(all.into(), &p, [0; 32]);
    let _g: Vec<_> = (0..300)
        .map(|_| b.pick(None, None).expect("pick").state.acquire())
        .collect();
    // At the start of its window the new endpoint takes a small share, not a third.
    assert!(
        fresh.active() < 30,
        "fresh endpoint got {} of 300",
        fresh.active()
    );
    assert!(fresh.ramp(Duration::from_secs(60)) < 0.1);
    assert_eq!(
        b.candidates[0].state.ramp(Duration::from_secs(60)),
        1.0,
        "first-table endpoints do not ramp"
    );
}

#[test]
fn cookie_tokens_name_endpoints() {
    let reg = registry();
    let c = candidates(&reg, &[1, 1]);
    let p = policy(
        Algorithm::LeastConnections,
        Affinity::Cookie {
            name: "x".into(),
            ttl: None,
            same_site: wsgate_core::table::SameSite::Lax,
            always_secure: false,
            path: None,
        },
    );
    let b = Balancer::new(c, &p, [42; 32]);
    let t = b.token_of(addr(1)).expect("token");
    assert_eq!(t, cookie::token(&[42; 32], addr(1)));
    assert_eq!(b.by_token(t), Some(1));
    assert_eq!(b.by_token(t ^ 1), None);
}

#[test]
fn affinity_lets_go_of_an_overloaded_endpoint_only_when_sessions_may_move() {
    let reg = registry();
    let c = candidates(&reg, &[1, 1, 1]);
    let key = hash64(0, b"203.0.113.9");
    let mut policy = hash_policy(None);
    let stays = Balancer::new(c.clone(), &policy, [0; 32]);
    let home = stays.pick(Some(key), None).expect("pick").state.clone();
    policy.balancing.rebalance = Some(wsgate_core::table::Rebalance {
        max_imbalance: 1.2,
        window: Duration::from_secs(60),
        close_code: 1012,
        max_closes_per_second: 50,
        move_sticky_sessions: true,
    });
    let moves = Balancer::new(c, &policy, [0; 32]);
    assert!(Arc::ptr_eq(
        &moves.pick(Some(key), None).expect("pick").state,
        &home
    ));
    home.mark_overloaded(Duration::from_secs(60));
    let picked = moves.pick(Some(key), None).expect("pick").state.clone();
    assert!(
        !Arc::ptr_eq(&picked, &home),
        "moved off the overloaded endpoint"
    );
    let kept = stays.pick(Some(key), None).expect("pick").state.clone();
    assert!(
        Arc::ptr_eq(&kept, &home),
        "without moveStickySessions it stays"
    );
    let i = moves.position(home.addr).expect("position");
    assert!(
        !moves.holds_affinity(&moves.candidates[i]),
        "a cookie naming it is not honoured"
    );
}
