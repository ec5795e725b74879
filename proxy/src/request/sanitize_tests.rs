use super::*;

fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    h
}

#[test]
fn l15_connect_is_refused_with_405() {
    let h = with(&[("host", "a.test")]);
    let err = check_head(&Method::CONNECT, Version::HTTP_11, &h).expect_err("refused");
    assert_eq!(err.status(), http::StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn m5_duplicate_or_missing_host_is_refused_with_400() {
    let two = with(&[("host", "open.test"), ("host", "evil.test")]);
    let none = with(&[]);
    for (h, version) in [(&two, Version::HTTP_11), (&none, Version::HTTP_11)] {
        let err = check_head(&Method::GET, version, h).expect_err("refused");
        assert_eq!(err.status(), http::StatusCode::BAD_REQUEST, "{err}");
    }
    assert!(check_head(&Method::GET, Version::HTTP_10, &none).is_ok());
    assert!(check_head(&Method::GET, Version::HTTP_11, &with(&[("host", "a")])).is_ok());
}

#[test]
fn m5_connection_tokens_never_remove_host_and_go_before_wsgate_adds_headers() {
    let mut h = with(&[
        ("host", "open.test"),
        ("connection", "close, X-Real-IP, Host, Cookie, upgrade"),
        ("cookie", "a=1"),
        ("x-real-ip", "6.6.6.6"),
        ("upgrade", "websocket"),
    ]);
    strip_connection_named(&mut h);
    assert_eq!(h["host"], "open.test");
    assert_eq!(h["connection"], "upgrade", "only the upgrade token stays");
    assert!(!h.contains_key("cookie") && !h.contains_key("x-real-ip"));
    assert_eq!(h["upgrade"], "websocket");
}

#[test]
fn m4_the_target_is_rewritten_to_the_normal_path_and_keeps_its_query() {
    let cases = [
        ("/%61dmin?x=%2F", "/admin?x=%2F"),
        ("//admin", "/admin"),
        ("http://open.test/x/../admin?q", "http://open.test/admin?q"),
        ("/admin", "/admin"),
    ];
    for (input, want) in cases {
        let mut uri: Uri = input.parse().expect("uri");
        normalize_target(&mut uri).expect("normal");
        assert_eq!(uri.to_string(), want, "{input}");
    }
    let mut bad: Uri = "/admin%2f".parse().expect("uri");
    let err = normalize_target(&mut bad).expect_err("refused");
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
}
