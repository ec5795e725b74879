//! Cookie affinity: the cookie names the endpoint by an opaque token, HMAC-SHA256 of the
//! endpoint address under a per-route key derived from a per-install secret (a Secret the
//! chart creates, shared by every replica). Any replica decodes any cookie with no shared
//! state; without the secret a cookie can neither be decoded into a pod address nor forged
//! to pick one.

use std::net::SocketAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue, header};
use sha2::Sha256;

pub use super::secret::{CookieSecret, MIN_SECRET_BYTES};

use crate::spec::SameSite;
use crate::table::RouteId;

/// Domain separation so affinity keys never collide with other uses of the secret.
const KEY_CONTEXT: &[u8] = b"wsgate/cookie-affinity/v2/";
/// A route's token key.
pub type RouteKey = [u8; 32];

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes keys of any length; this branch cannot be reached.
        return [0; 32];
    };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The route's token key: the same on every replica sharing `secret`.
pub fn route_key(secret: &CookieSecret, id: &RouteId) -> RouteKey {
    let name = format!("{}/{}", id.namespace, id.name);
    mac(secret.bytes(), &[KEY_CONTEXT, name.as_bytes()])
}

/// The token naming `addr` under `key` (the first 64 bits of its HMAC).
pub fn token(key: &RouteKey, addr: SocketAddr) -> u64 {
    let tag = mac(key, &[addr.to_string().as_bytes()]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&tag[..8]);
    u64::from_be_bytes(first)
}

/// A token as it appears in the cookie: 16 lower-case hex digits.
pub fn encode(token: u64) -> String {
    format!("{token:016x}")
}

/// Parses a cookie value back into a token: exactly 16 hex digits (`from_str_radix` alone
/// would also take a leading `+`).
pub fn decode(value: &str) -> Option<u64> {
    if value.len() != 16 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(value, 16).ok()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn find<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// Attributes of the affinity cookie.
#[derive(Clone, Copy, Debug)]
pub struct CookieAttrs<'a> {
    /// Cookie name.
    pub name: &'a str,
    /// `Max-Age`; `None` for a browser-session cookie.
    pub ttl: Option<Duration>,
    /// `SameSite`.
    pub same_site: SameSite,
    /// Mark it `Secure` (a TLS connection, or the route asks for it always).
    pub secure: bool,
    /// `Path`.
    pub path: &'a str,
}

/// The `Set-Cookie` header for `token`.
pub fn set_cookie(attrs: CookieAttrs<'_>, token: u64) -> Option<HeaderValue> {
    let mut text = format!(
        "{}={}; Path={}; HttpOnly",
        attrs.name,
        encode(token),
        attrs.path
    );
    if let Some(ttl) = attrs.ttl {
        text.push_str(&format!("; Max-Age={}", ttl.as_secs().max(1)));
    }
    text.push_str(match attrs.same_site {
        SameSite::Lax => "; SameSite=Lax",
        SameSite::Strict => "; SameSite=Strict",
        SameSite::None => "; SameSite=None",
    });
    // Browsers drop `SameSite=None` cookies that are not `Secure`.
    if attrs.secure || attrs.same_site == SameSite::None {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> RouteId {
        RouteId {
            namespace: "default".into(),
            name: name.into(),
        }
    }

    #[test]
    fn l1_tokens_are_keyed_by_the_install_secret_and_per_route() {
        let addr: SocketAddr = "10.1.2.3:3000".parse().expect("addr");
        let secret = CookieSecret::from_material(b"a shared per-install secret").expect("key");
        let t = token(&route_key(&secret, &id("chat")), addr);
        // Another replica with the same secret computes the same token...
        let replica = CookieSecret::from_material(b"a shared per-install secret\n").expect("key");
        assert_eq!(t, token(&route_key(&replica, &id("chat")), addr));
        assert_ne!(t, token(&route_key(&secret, &id("other")), addr));
        // ...but the route name alone (the audit's brute force) gives nothing.
        let guess = CookieSecret::from_material(b"default/chat-guessed-key").expect("key");
        assert_ne!(t, token(&route_key(&guess, &id("chat")), addr));
        assert_ne!(
            token(&route_key(&CookieSecret::random(), &id("chat")), addr),
            token(&route_key(&CookieSecret::random(), &id("chat")), addr)
        );
        assert!(CookieSecret::from_material(b"short").is_none());
        assert_eq!(format!("{secret:?}"), "CookieSecret(redacted)");
        let text = encode(t);
        assert!(
            !text.contains("10.1.2.3") && !text.contains("3000"),
            "{text}"
        );
        assert_eq!(decode(&text), Some(t));
        assert_eq!(decode("10.1.2.3:3000"), None);
        assert_eq!(decode("zzzzzzzzzzzzzzzz"), None);
    }

    #[test]
    fn fuzz_cookie_decode_takes_only_the_16_hex_digits_encode_writes() {
        // The `cookie` fuzz target's property: `+` and 15 hex digits decoded to a token.
        assert_eq!(decode("+123456789abcdef"), None);
        assert_eq!(decode("-123456789abcdef"), None);
        assert_eq!(decode("0123456789ABCDEF"), Some(0x0123_4567_89ab_cdef));
        assert_eq!(decode(&encode(u64::MAX)), Some(u64::MAX));
    }

    #[test]
    fn finds_the_cookie_among_others_and_builds_attributes() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; wsgate-affinity=00ff; b=2"),
        );
        assert_eq!(find(&h, "wsgate-affinity"), Some("00ff"));
        assert_eq!(find(&h, "c"), None);
        let attrs = CookieAttrs {
            name: "wsgate-affinity",
            ttl: Some(Duration::from_secs(3600)),
            same_site: SameSite::Lax,
            secure: true,
            path: "/",
        };
        let v = set_cookie(attrs, 255).expect("header");
        assert_eq!(
            v.to_str().expect("ascii"),
            "wsgate-affinity=00000000000000ff; Path=/; HttpOnly; Max-Age=3600; SameSite=Lax; Secure"
        );
        let none = CookieAttrs {
            ttl: None,
            same_site: SameSite::None,
            secure: false,
            ..attrs
        };
        let v = set_cookie(none, 1).expect("header");
        let v = v.to_str().expect("ascii");
        assert!(
            v.ends_with("SameSite=None; Secure") && !v.contains("Max-Age"),
            "{v}"
        );
    }
}
