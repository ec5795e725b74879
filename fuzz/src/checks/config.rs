//! What route authors and clients hand wsgate as text: the routes file, tickets and the
//! affinity cookie.

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue, header};
use sha2::Sha256;
use wsgate_core::affinity::cookie::{CookieAttrs, decode, encode, find, set_cookie};
use wsgate_core::config::load_in;
use wsgate_core::route_match::MatchIndex;
use wsgate_core::spec::{SameSite, TicketAlgorithm, TicketPlacement};
use wsgate_core::table::ticket::{KeyMaterial, TicketKeys, TicketPolicy};

/// A routes file is accepted or refused with an error, never a panic; an accepted table
/// builds its match index and answers a lookup. Files it names are resolved against a
/// directory that does not exist.
pub fn routes_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (result, _) = load_in(text, Path::new("/nonexistent/wsgate-fuzz"));
    if let Ok(loaded) = result {
        let index = MatchIndex::build(&loaded.table);
        let _ = index.find("chat.example.com", "/chat");
    }
}

const KEY: &[u8] = b"wsgate-fuzz-ticket-key-0123456789";
/// A fixed clock, so a run is reproducible.
const NOW: u64 = 1_900_000_000;

fn policy() -> &'static TicketPolicy {
    static POLICY: OnceLock<TicketPolicy> = OnceLock::new();
    POLICY.get_or_init(|| TicketPolicy {
        keys: TicketKeys::new(TicketAlgorithm::HS256, KeyMaterial::Secret(KEY.to_vec()))
            .expect("an HS256 key"),
        from: vec![TicketPlacement::Query],
        query_param: "ticket".into(),
        subprotocol_prefix: "ticket.".into(),
        audience: "default/chat".into(),
        require_audience: false,
        bind_client_ip: false,
        single_use: true,
        max_age: Some(Duration::from_secs(60)),
        leeway: Duration::from_secs(5),
        replay_store: None,
        claim_headers: Vec::new(),
        forward_first_message: false,
    })
}

/// Signs `header` and `claims` (any bytes) with the route's key, so the claim checks behind
/// the signature are reached.
fn sign(header: &[u8], claims: &[u8]) -> String {
    let signing = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).expect("any key length");
    mac.update(signing.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!("{signing}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Any token, or any claims signed with the route's key (selector bit 0), is verified or
/// refused without a panic; an accepted ticket has a string `jti` (single use) and a replay
/// entry lifetime that fits in an `Instant`.
pub fn ticket(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let token = if selector & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        sign(br#"{"alg":"HS256","typ":"JWT"}"#, rest)
    };
    let client: IpAddr = [127, 0, 0, 9].into();
    if let Ok(v) = policy().verify(&token, client, NOW) {
        assert!(v.jti.is_some(), "a single-use ticket without a jti");
        let _ = std::time::Instant::now().checked_add(v.remaining);
    }
}

/// A cookie value decodes only when it is exactly what `encode` writes (16 hex digits); the
/// header `set_cookie` builds for a token-like name is read back by `find`.
pub fn cookie(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(token) = decode(text) {
        assert_eq!(
            encode(token),
            text.to_ascii_lowercase(),
            "a non-canonical token decoded"
        );
    }
    if let Ok(value) = HeaderValue::from_str(text) {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, value);
        if let Some(found) = find(&headers, "wsgate-affinity") {
            assert!(text.contains(found), "find invented {found:?}");
        }
    }
    let name = text.split(['=', ';', ' ']).next().unwrap_or_default();
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(tchar) {
        return;
    }
    let token = text
        .bytes()
        .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let attrs = CookieAttrs {
        name,
        ttl: Some(Duration::from_secs(60)),
        same_site: SameSite::Lax,
        secure: true,
        path: "/",
    };
    let set = set_cookie(attrs, token).expect("a token name makes a valid header");
    let pair = set
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::COOKIE,
        HeaderValue::from_str(&pair).expect("a cookie pair"),
    );
    assert_eq!(find(&headers, name).and_then(decode), Some(token));
}
