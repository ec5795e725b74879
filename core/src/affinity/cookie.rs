//! Cookie affinity: the cookie names the endpoint by an opaque token, a keyed hash of the
//! endpoint address whose key every replica derives from the route identity. Any replica
//! decodes any cookie with no shared state, and the cookie does not reveal the pod address.

use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, header};

use super::hash::hash64;
use crate::spec::SameSite;
use crate::table::RouteId;

/// Domain separation so affinity keys never collide with other uses of the hash.
const KEY_CONTEXT: &[u8] = b"wsgate/cookie-affinity/v1/";

/// The route's token key: the same on every replica serving the route.
pub fn route_key(id: &RouteId) -> u64 {
    let mut material = KEY_CONTEXT.to_vec();
    material.extend_from_slice(id.namespace.as_bytes());
    material.push(b'/');
    material.extend_from_slice(id.name.as_bytes());
    hash64(0, &material)
}

/// The token naming `addr` under `key`.
pub fn token(key: u64, addr: SocketAddr) -> u64 {
    hash64(key, addr.to_string().as_bytes())
}

/// A token as it appears in the cookie: 16 lower-case hex digits.
pub fn encode(token: u64) -> String {
    format!("{token:016x}")
}

/// Parses a cookie value back into a token.
pub fn decode(value: &str) -> Option<u64> {
    if value.len() != 16 {
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
    fn tokens_are_opaque_stable_and_per_route() {
        let addr: SocketAddr = "10.1.2.3:3000".parse().expect("addr");
        let t = token(route_key(&id("chat")), addr);
        // Another replica computes the same token from the route identity alone.
        assert_eq!(t, token(route_key(&id("chat")), addr));
        assert_ne!(t, token(route_key(&id("other")), addr));
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
