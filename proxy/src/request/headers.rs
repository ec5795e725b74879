//! Request and response header rewriting: hop-by-hop removal, forwarded headers, and the
//! rebuilt `Upgrade`/`Connection` pair for WebSocket upgrades.

use http::{HeaderMap, HeaderName, HeaderValue, header};

use super::context::Proto;
use super::sanitize::strip_forwarding;
use crate::policy::client_addr::{ClientAddr, X_FORWARDED_FOR};

static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Headers that describe one connection and never travel past a proxy (RFC 9110 7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// True if a comma-separated header contains `token` (case-insensitive).
pub fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// A request that asks to become a WebSocket.
pub fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    has_token(headers, &header::CONNECTION, "upgrade")
        && has_token(headers, &header::UPGRADE, "websocket")
}

/// Removes hop-by-hop headers, including those named by `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Sets `Upgrade: websocket` and `Connection: Upgrade`.
pub fn set_websocket_upgrade(headers: &mut HeaderMap) {
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
}

/// Sets the forwarding headers: from an untrusted peer every client-sent one (`Forwarded`,
/// `X-Forwarded-*`, `X-Real-IP`, `True-Client-IP`, in any spelling) is replaced, so
/// `X-Forwarded-For` is the peer alone; a trusted proxy's chain is extended with the peer
/// and its `X-Forwarded-Proto` kept (it terminated TLS). `X-Real-IP` is the client as
/// resolved with the trusted proxies. `Host` itself is left as the client sent it.
pub fn add_forwarded(headers: &mut HeaderMap, client: &ClientAddr, proto: Proto) {
    strip_forwarding(headers, client.peer_trusted);
    let peer = client.peer.to_string();
    let ip = client.client.to_string();
    let prev = headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok());
    let xff = match prev {
        Some(prev) if !prev.trim().is_empty() => format!("{prev}, {peer}"),
        _ => peer,
    };
    // Joined values of valid header values plus an IP are valid header values.
    if let Ok(v) = HeaderValue::from_str(&xff) {
        headers.insert(&X_FORWARDED_FOR, v);
    }
    if !(client.peer_trusted && headers.contains_key(&X_FORWARDED_PROTO)) {
        headers.insert(&X_FORWARDED_PROTO, HeaderValue::from_static(proto.as_str()));
    }
    if let Some(host) = headers.get(header::HOST).cloned() {
        headers.insert(&X_FORWARDED_HOST, host);
    }
    if let Ok(v) = HeaderValue::from_str(&ip) {
        headers.insert(&X_REAL_IP, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret-Hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert("x-app", HeaderValue::from_static("kept"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h["x-app"], "kept");
    }

    #[test]
    fn l8_forwarding_headers_from_untrusted_peers_are_replaced() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("forwarded", "for=6.6.6.6;proto=https"),
            ("true-client-ip", "6.6.6.6"),
            ("x_real_ip", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
            ("x_forwarded_for", "6.6.6.6"),
            ("x-forwarded-port", "1"),
        ] {
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let mut trusted = h.clone();
        let direct = ClientAddr::direct("127.0.0.7".parse().expect("ip"));
        add_forwarded(&mut h, &direct, Proto::Http);
        let mut names: Vec<&str> = h.keys().map(|n| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["x-forwarded-for", "x-forwarded-proto", "x-real-ip"]);
        assert_eq!(h["x-forwarded-proto"], "http");
        let proxy = ClientAddr {
            peer_trusted: true,
            ..direct
        };
        add_forwarded(&mut trusted, &proxy, Proto::Http);
        assert_eq!(
            trusted["forwarded"], "for=6.6.6.6;proto=https",
            "a proxy's own"
        );
        assert_eq!(
            trusted["x-forwarded-proto"], "https",
            "the proxy terminated TLS"
        );
        assert!(!trusted.contains_key("x_real_ip") && !trusted.contains_key("x_forwarded_for"));
    }

    #[test]
    fn appends_forwarded_for_and_sets_the_rest() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("chat.example.com"));
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let direct = ClientAddr::direct("127.0.0.7".parse().expect("ip"));
        let mut spoofed = h.clone();
        add_forwarded(&mut spoofed, &direct, Proto::Http);
        assert_eq!(
            spoofed["x-forwarded-for"], "127.0.0.7",
            "replaced, not extended"
        );
        assert_eq!(
            spoofed["x-real-ip"], "127.0.0.7",
            "an untrusted XFF never becomes X-Real-IP"
        );
        let via_proxy = ClientAddr {
            client: "203.0.113.9".parse().expect("ip"),
            peer_trusted: true,
            ..direct
        };
        add_forwarded(&mut h, &via_proxy, Proto::Http);
        assert_eq!(h["x-forwarded-for"], "203.0.113.9, 127.0.0.7");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "chat.example.com");
        assert_eq!(h["x-real-ip"], "203.0.113.9");
        assert_eq!(h[header::HOST], "chat.example.com");
    }

    #[test]
    fn recognises_upgrade_requests_case_insensitively() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(is_websocket_upgrade(&h));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!is_websocket_upgrade(&h));
    }
}
