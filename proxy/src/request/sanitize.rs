//! The client's request head, checked and cleaned before any step reads it: the method and
//! `Host` rules of RFC 9110/9112, and the headers a client may not decide on for wsgate.
//! Header names are compared the way CGI, WSGI and Rack servers see them (`_` and `-` are
//! the same, case does not matter), so no spelling slips past.
//!
//! ```text
//!   head ─> CONNECT? 405 ─> one Host (HTTP/1.1)? else 400 ─> Connection-named headers removed
//!        (never Host) ─> policy adds claim / auth headers ─> forwarded headers set last
//! ```

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, Version, header};
use wsgate_core::path::{PathError, normalize};

use crate::error::ProxyError;
use crate::spelling::canonical;

/// Headers that say who the client is or how it connected: only a trusted proxy may send
/// them, and even then only in their canonical spelling.
const FORWARDING: [&str; 8] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
];

/// Refuses what wsgate never forwards: `CONNECT` (405: wsgate is not a forward proxy), more
/// than one `Host`, or none on HTTP/1.1 (400, RFC 9112 3.2).
pub fn check_head(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
) -> Result<(), ProxyError> {
    if method == Method::CONNECT {
        return Err(ProxyError::MethodNotAllowed);
    }
    match headers.get_all(header::HOST).iter().count() {
        0 if version == Version::HTTP_11 => {
            Err(ProxyError::BadRequest("the Host header is missing"))
        }
        0 | 1 => Ok(()),
        _ => Err(ProxyError::BadRequest("more than one Host header")),
    }
}

/// Removes the headers the client's `Connection` names (hop-by-hop for it, RFC 9110 7.6.1)
/// before wsgate adds any of its own, so no token can remove what wsgate sets. `Host` is
/// never removed; of the tokens only `upgrade` stays (the handshake needs it).
pub fn strip_connection_named(headers: &mut HeaderMap) {
    let tokens: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return;
    }
    let mut upgrade = false;
    for token in &tokens {
        match token.as_str() {
            "upgrade" => upgrade = true,
            "host" => {}
            name => {
                if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                    headers.remove(name);
                }
            }
        }
    }
    headers.remove(header::CONNECTION);
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Removes the forwarding headers a client may not set: from an untrusted peer all of them
/// (wsgate sets its own), from a trusted proxy only non-canonical spellings (`X_Real_IP`).
pub fn strip_forwarding(headers: &mut HeaderMap, peer_trusted: bool) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|n| {
            let c = canonical(n);
            FORWARDING.contains(&c.as_str()) && (!peer_trusted || c != n.as_str())
        })
        .cloned()
        .collect();
    for n in names {
        headers.remove(n);
    }
}

/// Rewrites the request target's path to its normal form (percent-decoded unreserved
/// characters, merged slashes, no dot segments): routing and the backend see the same path.
/// An encoded `/` or `\`, a raw `\` or a broken escape is refused (400).
pub fn normalize_target(uri: &mut Uri) -> Result<(), ProxyError> {
    let path = match normalize(uri.path()) {
        Ok(Cow::Borrowed(_)) => return Ok(()),
        Ok(Cow::Owned(p)) => p,
        Err(e) => return Err(ProxyError::BadRequest(path_refusal(e))),
    };
    let target = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let invalid = || ProxyError::BadRequest("invalid request target");
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(target.parse().map_err(|_| invalid())?);
    *uri = Uri::from_parts(parts).map_err(|_| invalid())?;
    Ok(())
}

fn path_refusal(e: PathError) -> &'static str {
    match e {
        PathError::EncodedSeparator => "the path contains an encoded '/' or '\\'",
        PathError::Backslash => "the path contains a '\\'",
        PathError::BadEscape => "the path contains a malformed percent-escape",
    }
}

#[cfg(test)]
#[path = "sanitize_tests.rs"]
mod tests;
