//! Tenancy: hostnames belong to the namespace of their oldest claim; catch-all and wildcard
//! routes only from allowed namespaces; routes of another installation's class are ignored.

use super::*;
use crate::translate::report::reason;
use crate::translate::tenancy::Tenancy;

fn spec(hosts: &str, path: &str, tls: bool) -> String {
    let tls = if tls {
        ", tls: {secretName: chat-tls}"
    } else {
        ""
    };
    format!(
        "{{hostnames: {hosts}, rules: [{{path: {{value: '{path}'}}, backend: {{service: {{name: chat, port: 80}}}}}}]{tls}}}"
    )
}

fn restricted(objects: Vec<Object>, allowed: &[&str]) -> Translation {
    let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
    let mut idx = Index::new("wsgate").with_tenancy(Tenancy::allowing(&allowed));
    for o in objects {
        idx.apply(o);
    }
    idx.build()
}

fn both_namespaces() -> Vec<Object> {
    let mut objects = chat_backend("a");
    objects.extend(chat_backend("b"));
    objects.push(tls_secret("a", "chat-tls", "YQ=="));
    objects.push(tls_secret("b", "chat-tls", "Yg=="));
    objects
}

#[test]
fn a_hostname_belongs_to_the_namespace_of_its_oldest_claim() {
    // (route in b, refused?) against a's chat.example.com with path /chat, created first.
    let cases = [
        (spec("[chat.example.com]", "/other", false), true),
        (spec("[chat.example.com]", "/chat", true), true),
        (
            spec("[CHAT.example.com, other.example.com]", "/x", false),
            true,
        ),
        (spec("[other.example.com]", "/chat", false), false),
    ];
    for (b_spec, refused) in cases {
        let mut objects = both_namespaces();
        objects.push(route(
            "a",
            "owner",
            1,
            &spec("[chat.example.com]", "/chat", true),
        ));
        objects.push(route("b", "late", 2, &b_spec));
        let t = restricted(objects, &[]);
        let r = report(&t, SourceKind::Route, "b", "late");
        assert_eq!(!r.accepted.status, refused, "{b_spec}: {r:?}");
        if refused {
            assert_eq!(r.accepted.reason, reason::HOSTNAME_CONFLICT);
            assert!(
                r.accepted.message.contains("belongs to namespace a"),
                "{}",
                r.accepted.message
            );
            assert!(
                t.routes.iter().all(|x| x.id.namespace == "a"),
                "b's certificate or paths are served"
            );
        }
        assert!(report(&t, SourceKind::Route, "a", "owner").all_true());
    }
}

#[test]
fn the_same_namespace_may_split_a_host_over_several_routes() {
    let mut objects = both_namespaces();
    objects.push(route(
        "a",
        "one",
        1,
        &spec("[chat.example.com]", "/one", true),
    ));
    objects.push(route(
        "a",
        "two",
        2,
        &spec("[chat.example.com]", "/two", false),
    ));
    let t = restricted(objects, &[]);
    assert_eq!(t.routes.len(), 2);
}

#[test]
fn catch_all_and_wildcard_routes_only_from_allowed_namespaces() {
    // (allowed namespaces, hostnames, accepted?)
    let cases: &[(&[&str], &str, bool)] = &[
        (&[], "[]", false),
        (&[], "['*.example.com']", false),
        (&["edge"], "[]", false),
        (&["b"], "[]", true),
        (&["b"], "['*.example.com']", true),
        (&["*"], "[]", true),
        (&[], "[exact.example.com]", true),
    ];
    for (allowed, hosts, accepted) in cases {
        let mut objects = both_namespaces();
        objects.push(route("b", "broad", 1, &spec(hosts, "/", true)));
        let t = restricted(objects, allowed);
        let r = report(&t, SourceKind::Route, "b", "broad");
        assert_eq!(r.accepted.status, *accepted, "{allowed:?} {hosts}: {r:?}");
        if !accepted {
            assert_eq!(r.accepted.reason, reason::NAMESPACE_NOT_ALLOWED);
            assert!(
                t.routes.is_empty(),
                "a refused catch-all must not supply the default certificate"
            );
        }
    }
}

#[test]
fn routes_of_another_class_belong_to_another_installation() {
    let mut objects = chat_backend("a");
    let with_class = |class: &str| {
        format!(
            "{{ingressClassName: {class}, hostnames: [x.example.com], rules: [{{backend: {{service: {{name: chat, port: 80}}}}}}]}}"
        )
    };
    objects.push(route("a", "internal", 1, &with_class("internal")));
    objects.push(route("a", "ours", 2, &with_class("wsgate")));
    objects.push(route(
        "a",
        "default",
        3,
        &spec("[y.example.com]", "/", false),
    ));
    let t = restricted(objects.clone(), &[]);
    let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
    assert_eq!(served, ["ours", "default"]);
    assert_eq!(
        t.reports.len(),
        2,
        "no status is written for another installation's route"
    );
    let mut internal = Index::new("internal");
    for o in objects {
        internal.apply(o);
    }
    let served: Vec<String> = internal
        .build()
        .routes
        .iter()
        .map(|r| r.id.name.clone())
        .collect();
    assert_eq!(served, ["internal"]);
}

#[test]
fn m9_external_auth_urls_only_to_hosts_the_operator_allows() {
    // (allowed hosts, the route's auth URL, accepted?)
    let cases: &[(&[&str], &str, bool)] = &[
        (&[], "http://10.0.0.9:6379/", true),
        (&["auth.example.com"], "http://auth.example.com/check", true),
        (
            &["auth.example.com"],
            "http://AUTH.example.com:8080/check",
            true,
        ),
        (
            &["auth.example.com:9000"],
            "http://auth.example.com:8080/check",
            false,
        ),
        (
            &["auth.example.com:8080"],
            "http://auth.example.com:8080/check",
            true,
        ),
        (
            &["*.auth.svc.cluster.local"],
            "http://a.auth.svc.cluster.local/x",
            true,
        ),
        (
            &["*.auth.svc.cluster.local"],
            "http://auth.svc.cluster.local/x",
            false,
        ),
        (
            &["auth.example.com"],
            "http://169.254.169.254/latest/meta-data",
            false,
        ),
        (&["auth.example.com"], "http://redis.other.svc:6379/", false),
    ];
    for (allowed, url, accepted) in cases {
        let hosts: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let mut idx = Index::new("wsgate")
            .with_tenancy(Tenancy::allowing(&[]).with_external_auth_hosts(&hosts));
        let mut objects = chat_backend("a");
        let spec = format!(
            "{{hostnames: [chat.example.com], rules: [{{backend: {{service: {{name: chat, port: 80}}}}}}], auth: {{external: {{url: '{url}'}}}}}}"
        );
        objects.push(route("a", "r", 1, &spec));
        for o in objects {
            idx.apply(o);
        }
        let t = idx.build();
        let r = report(&t, SourceKind::Route, "a", "r");
        assert_eq!(r.accepted.status, *accepted, "{allowed:?} {url}: {r:?}");
        if !accepted {
            assert_eq!(r.accepted.reason, reason::INVALID_SPEC);
            assert!(r.accepted.message.contains("--external-auth-host"), "{r:?}");
            assert!(t.routes.is_empty());
        }
    }
}
