//! Ticket keys from Secrets: inlined for the data plane, refused when unusable.

use super::*;
use crate::translate::report::reason;

/// A route with ticket auth whose key lives in Secret `ws-ticket-key`, data key `signing`.
const TICKET_ROUTE: &str = "{hostnames: [chat.example.com], rules: [{backend: {service: {name: chat, port: 80}}}], auth: {ticket: {secretRef: {name: ws-ticket-key, key: signing}, from: [Query]}}}";

fn opaque_secret(ns: &str, name: &str, data: &str) -> Object {
    Object::LabelledSecret(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}, labels: {{wsgate.dev/secret: 'true'}}}}\ntype: Opaque\ndata: {data}"
    ))))
}

#[test]
fn a_ticket_key_secret_is_inlined_and_the_route_served() {
    let mut objects = chat_backend("ns");
    objects.push(route("ns", "chat", 1, TICKET_ROUTE));
    // base64 of "a-long-enough-hs256-signing-key\n": the trailing newline is not part of the key.
    objects.push(opaque_secret(
        "ns",
        "ws-ticket-key",
        "{signing: YS1sb25nLWVub3VnaC1oczI1Ni1zaWduaW5nLWtleQo=}",
    ));
    let t = index(objects).build();
    let r = report(&t, SourceKind::Route, "ns", "chat");
    assert!(r.all_true(), "{r:?}");
    assert!(endpoints(&t, "chat").is_ok());
}

#[test]
fn a_missing_or_keyless_ticket_secret_makes_the_route_answer_503_with_a_reason() {
    for (secret, want) in [
        (None, reason::SECRET_NOT_FOUND),
        (
            Some(opaque_secret("ns", "ws-ticket-key", "{other: eA==}")),
            reason::INVALID_SECRET,
        ),
    ] {
        let mut objects = chat_backend("ns");
        objects.push(route("ns", "chat", 1, TICKET_ROUTE));
        objects.extend(secret);
        let t = index(objects).build();
        let r = report(&t, SourceKind::Route, "ns", "chat");
        assert!(r.accepted.status, "{r:?}");
        assert_eq!(
            (r.resolved_refs.status, r.resolved_refs.reason.as_str()),
            (false, want)
        );
        assert!(
            endpoints(&t, "chat").is_err(),
            "the route must not serve without its key"
        );
    }
}

#[test]
fn h2_ticket_key_files_are_refused_in_a_cluster() {
    for field in [
        "keyFile: /dev/zero",
        "publicKeyFile: /etc/passwd",
        "jwksFile: /etc/hostname",
    ] {
        let mut objects = chat_backend("ns");
        let spec = format!(
            "{{hostnames: [chat.example.com], rules: [{{backend: {{service: {{name: chat, port: 80}}}}}}], auth: {{ticket: {{{field}, from: [Query]}}}}}}"
        );
        objects.push(route("ns", "chat", 1, &spec));
        let t = index(objects).build();
        let r = report(&t, SourceKind::Route, "ns", "chat");
        assert!(!r.accepted.status, "{field}: {r:?}");
        assert!(r.accepted.message.contains("secretRef"), "{field}: {r:?}");
        assert!(t.routes.is_empty(), "{field}: no route may be served");
    }
}
