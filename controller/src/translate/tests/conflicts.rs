//! Conflicting claims: oldest first, invalid specs alone.

use super::*;
use crate::translate::report::reason;

#[test]
fn conflicts_resolve_oldest_first() {
    // (routes as (name, created, hostnames, path)), expected winners, expected losers
    type R = (&'static str, u32, &'static str, &'static str);
    let cases: Vec<(Vec<R>, Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                ("new", 5, "[a.example.com]", "/"),
                ("old", 1, "[a.example.com]", "/"),
            ],
            vec!["old"],
            vec!["new"],
        ),
        // Same age: namespace/name decides, deterministically.
        (
            vec![
                ("b", 1, "[a.example.com]", "/"),
                ("a", 1, "[a.example.com]", "/"),
            ],
            vec!["a"],
            vec!["b"],
        ),
        // Different paths or hosts do not conflict.
        (
            vec![
                ("x", 1, "[a.example.com]", "/x"),
                ("y", 2, "[a.example.com]", "/y"),
                ("z", 3, "[b.example.com]", "/x"),
            ],
            vec!["x", "y", "z"],
            vec![],
        ),
        // `/chat` and `/chat/` are the same prefix.
        (
            vec![
                ("x", 1, "[a.example.com]", "/chat"),
                ("y", 2, "[a.example.com]", "/chat/"),
            ],
            vec!["x"],
            vec!["y"],
        ),
        // Wildcards: a wildcard and an exact host coexist; two equal wildcards conflict.
        (
            vec![
                ("w1", 1, "['*.example.com']", "/"),
                ("e", 2, "[a.example.com]", "/"),
                ("w2", 3, "['*.example.com']", "/"),
            ],
            vec!["w1", "e"],
            vec!["w2"],
        ),
        // Host names are case-insensitive.
        (
            vec![
                ("l", 1, "[a.example.com]", "/"),
                ("u", 2, "[A.Example.COM]", "/"),
            ],
            vec!["l"],
            vec!["u"],
        ),
        // Routes without hostnames claim every host.
        (
            vec![("any1", 1, "[]", "/"), ("any2", 2, "[]", "/")],
            vec!["any1"],
            vec!["any2"],
        ),
    ];
    for (i, (routes, winners, losers)) in cases.into_iter().enumerate() {
        let mut objects = chat_backend("ns");
        for (name, created, hosts, path) in &routes {
            let spec = format!(
                "{{hostnames: {hosts}, rules: [{{path: {{value: '{path}'}}, backend: {{service: {{name: chat, port: 80}}}}}}]}}"
            );
            objects.push(route("ns", name, *created, &spec));
        }
        let t = index(objects).build();
        let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
        assert_eq!(served, winners, "case {i}: served in precedence order");
        for loser in losers {
            let r = report(&t, SourceKind::Route, "ns", loser);
            assert_eq!(
                (r.accepted.status, r.accepted.reason.as_str()),
                (false, reason::HOSTNAME_CONFLICT),
                "case {i}"
            );
            assert!(
                r.accepted
                    .message
                    .contains("already served by WebSocketRoute ns/"),
                "case {i}: {}",
                r.accepted.message
            );
            assert!(!r.programmed.status, "case {i}");
        }
        for winner in winners {
            assert!(
                report(&t, SourceKind::Route, "ns", winner).all_true(),
                "case {i}"
            );
        }
    }
}

#[test]
fn loser_takes_over_when_the_winner_goes() {
    let mut idx = index(chat_backend("ns"));
    idx.apply(route("ns", "old", 1, CHAT));
    idx.apply(route("ns", "new", 2, CHAT));
    assert!(
        !report(&idx.build(), SourceKind::Route, "ns", "new")
            .accepted
            .status
    );
    idx.delete(Kind::Route, &ObjectKey::new("ns", "old"));
    let t = idx.build();
    assert!(report(&t, SourceKind::Route, "ns", "new").all_true());
    assert_eq!(t.routes.len(), 1);
}

#[test]
fn invalid_specs_are_refused_alone() {
    let cases = [
        (
            "{rules: [{path: {value: nope}, backend: {service: {name: chat, port: 80}}}]}",
            "spec.rules[0].path.value",
        ),
        (
            "{hostnames: ['bad host'], rules: [{backend: {service: {name: chat, port: 80}}}]}",
            "spec.hostnames[0]",
        ),
        ("{rules: []}", "spec.rules"),
        (
            "{rules: [{backend: {addresses: ['10.1.1.1:80']}}]}",
            "only for routes files",
        ),
        ("{rules: [{backend: {}}]}", "service is required"),
        (
            "{rules: [{backend: {service: {name: chat, port: 80}}}], drain: {closeCode: 1005}}",
            "spec.drain.closeCode",
        ),
    ];
    for (spec, needle) in cases {
        let mut objects = chat_backend("ns");
        objects.push(route("ns", "bad", 1, spec));
        objects.push(route("ns", "good", 2, CHAT));
        let t = index(objects).build();
        let r = report(&t, SourceKind::Route, "ns", "bad");
        assert_eq!(
            (r.accepted.status, r.accepted.reason.as_str()),
            (false, reason::INVALID_SPEC),
            "{spec}"
        );
        assert!(
            r.accepted.message.contains(needle),
            "{spec}: {}",
            r.accepted.message
        );
        let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
        assert_eq!(served, ["good"], "{spec}");
    }
}
