use super::*;
use crate::compile::security::compile_origins;
use crate::spec::OriginsSpec;

fn policy(allow: &[&str], same_host: bool, allow_missing: bool) -> OriginPolicy {
    compile_origins(&OriginsSpec {
        allow: allow.iter().map(|s| s.to_string()).collect(),
        same_host,
        allow_missing_origin: allow_missing,
    })
    .expect("valid policy")
}

#[test]
fn exact_and_wildcard_origins() {
    let p = policy(
        &["https://chat.example.com", "https://*.example.org"],
        false,
        false,
    );
    let ok = |o: &str| p.check(Some(o), None, "https").is_ok();
    assert!(ok("https://chat.example.com"));
    assert!(ok("HTTPS://Chat.Example.com:443"));
    assert!(ok("https://a.example.org"));
    assert!(ok("https://a.b.example.org"));
    assert!(!ok("https://example.org"), "the apex is not a subdomain");
    assert!(!ok("http://a.example.org"), "scheme matters");
    assert!(!ok("https://a.example.org:8443"), "port matters");
    assert!(!ok("https://evilexample.org"));
    assert!(!ok("https://chat.example.com.evil.net"));
    assert!(!ok("null"));
}

#[test]
fn missing_origin_needs_the_explicit_switch() {
    let strict = policy(&["https://a.example.com"], false, false);
    assert_eq!(
        strict.check(None, None, "https"),
        Err(OriginRefusal::Missing)
    );
    let lenient = policy(&["https://a.example.com"], false, true);
    assert!(lenient.check(None, None, "https").is_ok());
}

#[test]
fn same_host_compares_host_and_port() {
    let p = policy(&[], true, false);
    assert!(
        p.check(
            Some("https://chat.example.com"),
            Some("chat.example.com"),
            "https"
        )
        .is_ok()
    );
    assert!(
        p.check(
            Some("http://127.0.0.1:8080"),
            Some("127.0.0.1:8080"),
            "http"
        )
        .is_ok()
    );
    assert!(
        p.check(
            Some("http://127.0.0.1:9999"),
            Some("127.0.0.1:8080"),
            "http"
        )
        .is_err()
    );
    assert!(
        p.check(
            Some("https://evil.example"),
            Some("chat.example.com"),
            "https"
        )
        .is_err()
    );
}

#[test]
fn l9_same_host_compares_the_scheme_and_odd_hosts_never_match() {
    let p = policy(&["https://*.example.com"], true, false);
    let check = |o: &str, host: &str, scheme: &str| p.check(Some(o), Some(host), scheme);
    // The audit's probe: an https page's Origin on the plaintext listener.
    assert!(check("https://same.test", "same.test", "http").is_err());
    assert!(check("https://same.test", "same.test", "https").is_ok());
    assert!(check("http://same.test", "same.test", "http").is_ok());
    assert!(check("http://same.test", "same.test", "https").is_err());
    // Hosts no browser sends do not match the wildcard.
    for odd in [
        "https://evil.com\\.example.com",
        "https://evil.com%2f.example.com",
        "https://[::1].example.com",
        "https://a.example.com:00443",
    ] {
        assert!(check(odd, "x.test", "https").is_err(), "{odd}");
    }
    assert!(check("https://a-b.example.com", "x.test", "https").is_ok());
    assert!(check("https://a.example.com:443", "x.test", "https").is_ok());
    let ip = policy(&["http://[::1]:8080"], false, false);
    assert!(ip.check(Some("http://[::1]:8080"), None, "http").is_ok());
}

#[test]
fn rejects_malformed_entries() {
    for bad in [
        "chat.example.com",
        "https://*",
        "https://a.*.example.com",
        "https://x/path",
    ] {
        let spec = OriginsSpec {
            allow: vec![bad.into()],
            ..OriginsSpec::default()
        };
        assert!(compile_origins(&spec).is_err(), "{bad} must be refused");
    }
    assert!(compile_origins(&OriginsSpec::default()).is_err());
}
