use super::*;
use http::HeaderValue;

fn xff(v: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-forwarded-for", HeaderValue::from_static(v));
    h
}

fn cidrs(list: &[&str]) -> Vec<Cidr> {
    list.iter().map(|c| c.parse().expect("cidr")).collect()
}

#[test]
fn forwarded_for_is_believed_only_from_trusted_peers() {
    let trusted = cidrs(&["10.0.0.0/8"]);
    let headers = xff("198.51.100.7, 10.0.0.5");
    let from_lb = resolve("10.0.0.1".parse().expect("ip"), &headers, &trusted);
    assert_eq!(
        from_lb.client,
        "198.51.100.7".parse::<IpAddr>().expect("ip")
    );
    assert!(from_lb.peer_trusted);
    let spoofed = resolve("203.0.113.9".parse().expect("ip"), &headers, &trusted);
    assert_eq!(spoofed.client, "203.0.113.9".parse::<IpAddr>().expect("ip"));
    assert!(!spoofed.peer_trusted);
}

#[test]
fn a_garbage_hop_stops_the_walk_and_no_header_means_the_peer() {
    let trusted = cidrs(&["10.0.0.0/8"]);
    let got = resolve(
        "10.0.0.1".parse().expect("ip"),
        &xff("1.2.3.4, junk, 10.0.0.7"),
        &trusted,
    );
    assert_eq!(got.client, "10.0.0.7".parse::<IpAddr>().expect("ip"));
    let none = resolve("10.0.0.1".parse().expect("ip"), &HeaderMap::new(), &trusted);
    assert_eq!(none.client, "10.0.0.1".parse::<IpAddr>().expect("ip"));
}
