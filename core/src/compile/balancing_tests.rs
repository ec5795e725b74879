use super::*;
use crate::spec::SameSite;

/// A route spec from the JSON members in `extra` (the routes file is YAML, a superset).
fn spec(extra: &str) -> RouteSpec {
    let sep = if extra.is_empty() { "" } else { "," };
    let text =
        format!(r#"{{"rules": [{{"backend": {{"addresses": ["127.0.0.1:1"]}}}}]{sep}{extra}}}"#);
    serde_json::from_str(&text).expect("spec")
}

fn affinity(extra: &str) -> Result<Affinity, (String, String)> {
    compile_affinity(&spec(extra))
}

#[test]
fn defaults_and_every_type_compile() {
    assert_eq!(affinity("").expect("none"), Affinity::None);
    assert_eq!(
        affinity(r#""sessionAffinity": {"type": "Cookie"}"#).expect("cookie"),
        Affinity::Cookie {
            name: DEFAULT_COOKIE_NAME.into(),
            ttl: Some(Duration::from_secs(3600)),
            same_site: SameSite::Lax,
            always_secure: false,
            path: None,
        }
    );
    let c = affinity(
        r#""sessionAffinity": {"type": "Cookie", "cookieName": "sticky", "ttl": "0s", "sameSite": "None"}"#,
    );
    assert_eq!(
        c.expect("cookie"),
        Affinity::Cookie {
            name: "sticky".into(),
            ttl: None,
            same_site: SameSite::None,
            always_secure: false,
            path: None,
        }
    );
    assert_eq!(
        affinity(r#""sessionAffinity": {"type": "Header", "headerName": "X-User"}"#)
            .expect("header"),
        Affinity::Hash {
            key: HashKey::Header("x-user".into()),
            bound: Some(DEFAULT_BOUNDED_LOAD)
        }
    );
    assert_eq!(
        affinity(
            r#""sessionAffinity": {"type": "Query", "queryParam": "room", "boundedLoadFactor": 0}"#
        )
        .expect("q"),
        Affinity::Hash {
            key: HashKey::Query("room".into()),
            bound: None
        }
    );
    assert_eq!(
        affinity(r#""sessionAffinity": {"type": "ClientIP", "boundedLoadFactor": 1.5}"#)
            .expect("ip"),
        Affinity::Hash {
            key: HashKey::ClientIp,
            bound: Some(1.5)
        }
    );
    assert_eq!(
        affinity(r#""sessionAffinity": {"type": "SocketIO"}"#).expect("sio"),
        Affinity::SocketIo { ttl: None }
    );
    let lb = compile_balancing(&spec(
        r#""loadBalancing": {"algorithm": "RoundRobin", "slowStart": "30s"}"#,
    ))
    .expect("balancing");
    assert_eq!(lb.algorithm, Algorithm::RoundRobin);
    assert_eq!(lb.slow_start, Duration::from_secs(30));
    assert_eq!(lb.rebalance, None, "rebalancing is off unless asked for");
    let hashed = compile_balancing(&spec(r#""loadBalancing": {"algorithm": "ConsistentHash"}"#))
        .expect("hash");
    assert!(matches!(
        default_hash_affinity(&hashed, Affinity::None),
        Affinity::Hash {
            key: HashKey::ClientIp,
            ..
        }
    ));
}

#[test]
fn mistakes_name_their_field() {
    let cases = [
        (
            r#""sessionAffinity": {"type": "Header"}"#,
            "sessionAffinity.headerName",
            "required",
        ),
        (
            r#""sessionAffinity": {"type": "Query", "queryParam": " "}"#,
            "sessionAffinity.queryParam",
            "required",
        ),
        (
            r#""sessionAffinity": {"type": "Cookie", "cookieName": "a b"}"#,
            "cookieName",
            "not a valid cookie name",
        ),
        (
            r#""sessionAffinity": {"type": "ClientIP", "boundedLoadFactor": 0.5}"#,
            "boundedLoadFactor",
            "at least 1.0",
        ),
        (
            r#""sessionAffinity": {"type": "SocketIO", "headerName": "x"}"#,
            "headerName",
            "not used",
        ),
        (
            r#""sessionAffinity": {"type": "Cookie", "boundedLoadFactor": 2}"#,
            "boundedLoadFactor",
            "not used",
        ),
        (
            r#""sessionAffinity": {"type": "SocketIO", "ttl": "0s"}"#,
            "sessionAffinity.ttl",
            "greater than 0",
        ),
        (
            r#""sessionAffinity": {"type": "Header", "headerName": "x:y"}"#,
            "headerName",
            "not a header name",
        ),
    ];
    for (yaml, field, message) in cases {
        let (f, m) = affinity(yaml).expect_err(yaml);
        assert!(
            f.ends_with(field) && m.contains(message),
            "{yaml}: {f}: {m}"
        );
    }
}

#[test]
fn rebalance_defaults_and_values() {
    let lb = compile_balancing(&spec(r#""loadBalancing": {"rebalance": {}}"#)).expect("defaults");
    assert_eq!(
        lb.rebalance,
        Some(Rebalance {
            max_imbalance: 1.2,
            window: Duration::from_secs(60),
            close_code: 1012,
            max_closes_per_second: 50,
            move_sticky_sessions: false,
        })
    );
    let lb = compile_balancing(&spec(
        r#""loadBalancing": {"rebalance": {"maxImbalance": 1.5, "window": "6s", "closeCode": 4001,
            "maxClosesPerSecond": 20, "moveStickySessions": true}}"#,
    ))
    .expect("values");
    assert_eq!(
        lb.rebalance,
        Some(Rebalance {
            max_imbalance: 1.5,
            window: Duration::from_secs(6),
            close_code: 4001,
            max_closes_per_second: 20,
            move_sticky_sessions: true,
        })
    );
}

#[test]
fn rebalance_mistakes_name_their_field() {
    let cases = [
        (r#"{"maxImbalance": 1}"#, "maxImbalance", "greater than 1"),
        (r#"{"maxImbalance": 0.8}"#, "maxImbalance", "greater than 1"),
        (r#"{"window": "0s"}"#, "window", "greater than 0"),
        (r#"{"closeCode": 1006}"#, "closeCode", "1012"),
        (r#"{"closeCode": 1011}"#, "closeCode", "1012"),
        (r#"{"closeCode": 5000}"#, "closeCode", "1012"),
        (
            r#"{"maxClosesPerSecond": 0}"#,
            "maxClosesPerSecond",
            "greater than 0",
        ),
    ];
    for (rebalance, field, message) in cases {
        let text = format!(r#""loadBalancing": {{"rebalance": {rebalance}}}"#);
        let (f, m) = compile_balancing(&spec(&text)).expect_err(rebalance);
        assert!(
            f == format!("spec.loadBalancing.rebalance.{field}") && m.contains(message),
            "{rebalance}: {f}: {m}"
        );
    }
    for ok in [1000, 1001, 1012, 1013, 3000, 4999] {
        let text = format!(r#""loadBalancing": {{"rebalance": {{"closeCode": {ok}}}}}"#);
        assert!(compile_balancing(&spec(&text)).is_ok(), "{ok}");
    }
}
