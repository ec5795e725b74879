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
    let ok = |o: &str| p.check(Some(o), None).is_ok();
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
    assert_eq!(strict.check(None, None), Err(OriginRefusal::Missing));
    let lenient = policy(&["https://a.example.com"], false, true);
    assert!(lenient.check(None, None).is_ok());
}

#[test]
fn same_host_compares_host_and_port() {
    let p = policy(&[], true, false);
    assert!(
        p.check(Some("https://chat.example.com"), Some("chat.example.com"))
            .is_ok()
    );
    assert!(
        p.check(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080"))
            .is_ok()
    );
    assert!(
        p.check(Some("http://127.0.0.1:9999"), Some("127.0.0.1:8080"))
            .is_err()
    );
    assert!(
        p.check(Some("https://evil.example"), Some("chat.example.com"))
            .is_err()
    );
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
