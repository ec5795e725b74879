//! Unit tests of the per-replica limiter.
use super::*;
use wsgate_core::table::security::RequestRate;

#[test]
fn l10_ipv6_clients_are_limited_by_their_64_prefix() {
    let limiter = Arc::new(Limiter::default());
    let route: Arc<str> = Arc::from("default/chat");
    let limits = ConnLimits {
        per_ip: Some(2),
        ..ConnLimits::default()
    };
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    // Two addresses of one /64 share the quota: the third connection is refused.
    let a = limiter.admit(&route, ip("2001:db8:1:2::1"), &limits);
    let b = limiter.admit(&route, ip("2001:db8:1:2:ffff::9"), &limits);
    assert!(a.is_ok() && b.is_ok());
    assert!(matches!(
        limiter.admit(&route, ip("2001:db8:1:2:dead:beef:0:1"), &limits),
        Err(LimitRefusal::PerIp(2))
    ));
    // Another /64 has its own; IPv4 (plain or mapped) counts each address.
    assert!(
        limiter
            .admit(&route, ip("2001:db8:1:3::1"), &limits)
            .is_ok()
    );
    assert_eq!(limit_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    assert_eq!(limit_key(ip("10.0.0.2")), ip("10.0.0.2"));
    assert_eq!(limiter.count("default/chat", ip("2001:db8:1:2::77")), 2);
    drop(a);
    assert_eq!(limiter.count("default/chat", ip("2001:db8:1:2::77")), 1);
}

#[test]
fn request_buckets_allow_the_burst_then_refuse() {
    let l = Limiter::default();
    let route: Arc<str> = "default/chat".into();
    let ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let per_minute = RequestRate {
        per_second: 2.0 / 60.0,
        burst: 3,
        shown: (2, 'm'),
    };
    let limits = ConnLimits {
        requests: [None, Some(per_minute)],
        ..ConnLimits::default()
    };
    for i in 0..3 {
        assert_eq!(l.request(&route, ip, &limits), Ok(()), "request {i}");
    }
    assert_eq!(
        l.request(&route, ip, &limits),
        Err(LimitRefusal::Requests(2, 'm'))
    );
    let other: IpAddr = "127.0.0.3".parse().expect("ip");
    assert_eq!(
        l.request(&route, other, &limits),
        Ok(()),
        "buckets are per address"
    );
}

#[test]
fn counts_per_ip_and_route_and_releases_on_drop() {
    let l = Arc::new(Limiter::default());
    let route: Arc<str> = "default/chat".into();
    let a: IpAddr = "127.0.0.2".parse().expect("ip");
    let b: IpAddr = "127.0.0.3".parse().expect("ip");
    let limits = ConnLimits {
        per_ip: Some(2),
        per_route: Some(3),
        rate: None,
        requests: [None, None],
        cluster: false,
    };
    let p1 = l.admit(&route, a, &limits).expect("first");
    let _p2 = l.admit(&route, a, &limits).expect("second");
    assert_eq!(
        l.admit(&route, a, &limits).err(),
        Some(LimitRefusal::PerIp(2))
    );
    let _p3 = l.admit(&route, b, &limits).expect("other ip");
    assert_eq!(
        l.admit(&route, b, &limits).err(),
        Some(LimitRefusal::PerRoute(3))
    );
    drop(p1);
    assert_eq!(l.count("default/chat", a), 1);
    assert!(l.admit(&route, a, &limits).is_ok());
}

#[test]
fn the_bucket_allows_a_burst_then_refuses() {
    let l = Arc::new(Limiter::default());
    let route: Arc<str> = "default/chat".into();
    let ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let limits = ConnLimits {
        rate: Some((1, 3)),
        ..ConnLimits::default()
    };
    for _ in 0..3 {
        drop(l.admit(&route, ip, &limits).expect("within burst"));
    }
    assert_eq!(
        l.admit(&route, ip, &limits).err(),
        Some(LimitRefusal::Rate(1))
    );
}

#[test]
fn reassertion_covers_dirty_keys_and_whole_routes_to_resync() {
    let route = |s: &str| -> Arc<str> { s.into() };
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let (chat, game) = (route("default/chat"), route("default/game"));
    let mut s = State::default();
    for (r, a) in [
        (&chat, "10.0.0.1"),
        (&chat, "10.0.0.1"),
        (&chat, "10.0.0.2"),
    ] {
        s.add(r, ip(a));
    }
    s.add(&game, ip("10.0.0.3"));
    s.shared_routes
        .extend([chat.clone(), game.clone(), route("default/idle")]);
    // game: one client's release failed after its last connection closed (count 0 now).
    s.dirty.insert((game.clone(), ip("10.0.0.9")));
    s.resync.insert(chat.clone());

    let mut held = s.reassert();
    held.sort_by(|a, b| a.route.cmp(&b.route));
    assert_eq!(held.len(), 2, "only routes with something to re-assert");
    let mut clients = held[0].clients.clone();
    clients.sort();
    assert_eq!(
        (held[0].conns, clients),
        (3, vec![(ip("10.0.0.1"), 2), (ip("10.0.0.2"), 1)]),
        "chat: every count"
    );
    assert_eq!(
        (held[1].conns, held[1].clients.clone()),
        (1, vec![(ip("10.0.0.9"), 0)]),
        "game: the dirty key alone (0 removes it), with the route's count"
    );
    assert!(s.dirty.is_empty() && s.resync.is_empty(), "taken");

    s.forget_idle();
    assert_eq!(
        s.shared_routes.len(),
        2,
        "idle routes are no longer renewed"
    );
    assert!(!s.shared_routes.contains("default/idle"));
}
