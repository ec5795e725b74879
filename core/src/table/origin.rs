//! The Origin policy: which browser pages may open WebSockets on a route. A page on another
//! site can make a victim's browser open a cookie-authenticated WebSocket (cross-site
//! WebSocket hijacking); the `Origin` header is the only thing that tells such pages apart.

use serde::{Deserialize, Serialize};

/// An allowed origin with a wildcard host label: `https://*.example.com`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Wildcard {
    pub(crate) scheme: String,
    /// `.example.com`
    pub(crate) suffix: String,
    pub(crate) port: Option<u16>,
}

/// A compiled Origin policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginPolicy {
    pub(crate) exact: Vec<String>,
    pub(crate) wildcards: Vec<Wildcard>,
    pub(crate) same_host: bool,
    pub(crate) allow_missing: bool,
}

/// Why an Origin was refused (403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OriginRefusal {
    /// No Origin header and `allowMissingOrigin` is off.
    #[error("the request has no Origin header and this route requires one")]
    Missing,
    /// The Origin is not on the allow-list.
    #[error("the Origin {0:?} is not allowed on this route")]
    NotAllowed(String),
}

/// `scheme`, lower-case host and port (default port dropped) of `scheme://host[:port]`.
pub(crate) fn split_origin(text: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = text.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = split_host_port(rest)?;
    let default = match scheme.as_str() {
        "https" | "wss" => Some(443),
        "http" | "ws" => Some(80),
        _ => None,
    };
    Some((scheme, host, port.filter(|p| Some(*p) != default)))
}

/// Splits `host[:port]` (IPv6 in brackets); the host comes back lower-case.
fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match text.rfind(':') {
        Some(i) if !text[i..].contains(']') => (&text[..i], Some(text[i + 1..].parse().ok()?)),
        _ => (text, None),
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

pub(crate) fn render(scheme: &str, host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    }
}

/// True for an origin a browser can send: the host is a DNS name or an IP literal (no `\`,
/// `%` or other characters only hand-made requests carry), the port has no leading zero.
fn browser_sendable(origin: &str, host: &str) -> bool {
    let name = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    let ipv6 = host.starts_with('[')
        && host.ends_with(']')
        && host[1..host.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    let port = origin.trim().rsplit_once(':').map(|(_, p)| p);
    let port_ok = match port {
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => !p.starts_with('0'),
        _ => true,
    };
    (name || ipv6) && port_ok
}

impl OriginPolicy {
    /// Checks a handshake's `Origin` against the policy; `host` is its `Host` header and
    /// `scheme` (`http` or `https`) how the client reached wsgate, which `sameHost` compares
    /// too (L9).
    pub fn check(
        &self,
        origin: Option<&str>,
        host: Option<&str>,
        scheme: &str,
    ) -> Result<(), OriginRefusal> {
        let Some(origin) = origin else {
            return if self.allow_missing {
                Ok(())
            } else {
                Err(OriginRefusal::Missing)
            };
        };
        let refused = || OriginRefusal::NotAllowed(origin.chars().take(200).collect());
        let (o_scheme, o_host, port) = split_origin(origin).ok_or_else(refused)?;
        if !browser_sendable(origin, &o_host) {
            return Err(refused());
        }
        if self.exact.contains(&render(&o_scheme, &o_host, port)) {
            return Ok(());
        }
        let wildcard = self.wildcards.iter().any(|w| {
            w.scheme == o_scheme
                && w.port == port
                && o_host.ends_with(&w.suffix)
                && o_host.len() > w.suffix.len()
        });
        if wildcard {
            return Ok(());
        }
        if self.same_host
            && o_scheme == scheme
            && let Some((h_host, h_port)) = host.and_then(split_host_port)
        {
            let default = if scheme == "https" { 443 } else { 80 };
            let h_port = h_port.filter(|p| *p != default);
            if h_host == o_host && h_port == port {
                return Ok(());
            }
        }
        Err(refused())
    }
}

#[cfg(test)]
#[path = "origin_tests.rs"]
mod tests;
