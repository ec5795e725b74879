use super::*;

#[test]
fn strips_the_ticket_parameter_and_keeps_the_rest() {
    let uri: Uri = "/chat?room=1&ticket=abc.def.ghi&x=2".parse().expect("uri");
    let (stripped, token) = strip_query_param(&uri, "ticket");
    assert_eq!(stripped, "/chat?room=1&x=2");
    assert_eq!(token.as_deref(), Some("abc.def.ghi"));
    let only: Uri = "/chat?ticket=t".parse().expect("uri");
    assert_eq!(strip_query_param(&only, "ticket").0, "/chat");
    let none: Uri = "/chat?tickets=1".parse().expect("uri");
    assert_eq!(strip_query_param(&none, "ticket"), (none.clone(), None));
}

#[test]
fn redacts_for_logs() {
    assert_eq!(
        redact_query("/c?ticket=secret&a=1", "ticket"),
        "/c?ticket=[redacted]&a=1"
    );
    assert_eq!(redact_query("/c", "ticket"), "/c");
}

#[test]
fn removes_the_ticket_subprotocol_and_keeps_others() {
    let mut h = HeaderMap::new();
    h.insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("ticket.aaa.bbb.ccc, chat.v1"),
    );
    assert_eq!(
        strip_subprotocol(&mut h, "ticket.").as_deref(),
        Some("aaa.bbb.ccc")
    );
    assert_eq!(h[SEC_WEBSOCKET_PROTOCOL], "chat.v1");
    let mut alone = HeaderMap::new();
    alone.insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("ticket.x.y.z"),
    );
    assert!(strip_subprotocol(&mut alone, "ticket.").is_some());
    assert!(alone.get(SEC_WEBSOCKET_PROTOCOL).is_none());
}

#[test]
fn m2_claim_headers_from_clients_are_removed_in_every_spelling() {
    let mut h = HeaderMap::new();
    h.insert("x-wsgate-claim-sub", HeaderValue::from_static("admin"));
    h.insert("x_wsgate_claim_sub", HeaderValue::from_static("admin"));
    h.insert("x-wsgate_claim-role", HeaderValue::from_static("root"));
    h.insert("x-other", HeaderValue::from_static("1"));
    strip_claim_headers(&mut h);
    assert!(h.get("x-wsgate-claim-sub").is_none());
    assert_eq!(h.len(), 1);
}
