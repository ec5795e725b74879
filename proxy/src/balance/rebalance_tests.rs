use super::*;
use crate::balance::endpoint::EndpointRegistry;
use crate::metrics::Metrics;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

fn even(counts: &[u64]) -> Vec<Load> {
    counts
        .iter()
        .map(|&count| Load { count, weight: 1.0 })
        .collect()
}

#[test]
fn a_new_endpoint_makes_the_old_ones_overloaded() {
    let v = assess(&even(&[300, 300, 0]), 0, 1.2);
    assert!((v.imbalance - 1.5).abs() < 1e-9, "{v:?}");
    assert_eq!(v.overloaded, vec![0, 1]);
    assert!(matches!(v.from, Some(0 | 1)));
    // Down to 1.2 x 200 = 240 each: 60 + 60.
    assert_eq!(v.excess, 120);
}

#[test]
fn within_the_factor_nothing_moves() {
    let v = assess(&even(&[240, 240, 120]), 0, 1.2);
    assert_eq!((v.from, v.excess), (None, 0), "{v:?}");
    let v = assess(&even(&[100, 100]), 0, 1.2);
    assert_eq!(v.imbalance, 1.0);
    assert_eq!(assess(&even(&[5]), 0, 1.2).from, None, "one endpoint");
    assert_eq!(assess(&even(&[0, 0]), 0, 1.2).from, None, "no connections");
}

#[test]
fn small_counts_never_swap_back_and_forth() {
    // 2 and 1: 2 is 1.33 x its share, but moving one makes it 1 and 2.
    let v = assess(&even(&[2, 1]), 0, 1.2);
    assert!(v.imbalance > 1.2);
    assert_eq!(v.from, None);
    assert_eq!(assess(&even(&[3, 0]), 0, 1.2).from, Some(0));
}

#[test]
fn weights_and_slow_start_ramps_set_the_fair_share() {
    let weighted = [
        Load {
            count: 200,
            weight: 2.0,
        },
        Load {
            count: 100,
            weight: 1.0,
        },
    ];
    assert_eq!(assess(&weighted, 0, 1.1).from, None, "200:100 is 2:1");
    // A new endpoint at the start of its ramp (5 % of its weight) is not owed much yet.
    let ramping = [
        Load {
            count: 300,
            weight: 1.0,
        },
        Load {
            count: 300,
            weight: 1.0,
        },
        Load {
            count: 0,
            weight: 0.05,
        },
    ];
    assert_eq!(assess(&ramping, 0, 1.2).from, None);
    // Half way up its ramp it is owed 600 x 0.5 / 2.5 = 120.
    let mut half = ramping;
    half[2].weight = 0.5;
    let v = assess(&half, 0, 1.2);
    assert!(v.from.is_some() && v.imbalance > 1.2, "{v:?}");
}

#[test]
fn clients_between_close_and_reconnect_are_not_departures() {
    // 60 clients are reconnecting: the total the episode began with keeps the shares.
    let v = assess(&even(&[250, 250, 40]), 600, 1.2);
    assert!((v.imbalance - 1.25).abs() < 1e-9, "{v:?}");
    let v = assess(&even(&[240, 240, 60]), 600, 1.2);
    assert_eq!(v.from, None, "{v:?}");
}

fn endpoint() -> Arc<EndpointState> {
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let reg = EndpointRegistry::new(CancellationToken::new(), metrics.endpoints);
    reg.get(SocketAddr::from(([127, 0, 0, 1], 1)))
}

#[test]
fn moving_cancels_one_connection_of_the_route_and_counts_it_pending() {
    let e = endpoint();
    let route: Arc<str> = "default/chat".into();
    let other: Arc<str> = "default/other".into();
    let mine: Vec<_> = (0..3).map(|_| e.enlist(route.clone())).collect();
    let theirs = e.enlist(other);
    assert!(e.movable.move_one("default/chat"));
    assert_eq!(e.movable.pending(), 1);
    assert_eq!(mine.iter().filter(|m| m.token.is_cancelled()).count(), 1);
    assert!(
        !theirs.token.is_cancelled(),
        "another route's connection stays"
    );
    assert!(e.movable.move_one("default/chat"));
    assert!(e.movable.move_one("default/chat"));
    assert!(!e.movable.move_one("default/chat"), "every one was moved");
    assert_eq!(e.movable.pending(), 3);
    drop(mine);
    assert_eq!((e.movable.pending(), e.movable.len()), (0, 1));
    drop(theirs);
    assert_eq!(e.movable.len(), 0);
}

#[test]
fn an_endpoint_drain_reaches_enlisted_connections() {
    let e = endpoint();
    let m = e.enlist("default/chat".into());
    e.drain.cancel();
    assert!(m.token.is_cancelled());
    assert!(
        !e.movable.move_one("default/chat"),
        "draining ones are not moved"
    );
    assert_eq!(e.movable.pending(), 0);
}

#[test]
fn the_excess_is_spread_over_the_window_and_capped() {
    let policy = Rebalance {
        max_imbalance: 1.2,
        window: Duration::from_secs(60),
        close_code: 1012,
        max_closes_per_second: 50,
        move_sticky_sessions: false,
    };
    assert_eq!(pace(1200, policy), 20.0, "1200 over 60 s");
    assert_eq!(pace(6000, policy), 50.0, "the cap wins over the window");
    assert_eq!(pace(3, policy), 1.0, "at least one a second");
}
