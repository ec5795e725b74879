//! The client's address as policy sees it: the TCP peer (or the PROXY protocol source), or,
//! when the peer is a trusted proxy, the nearest untrusted hop of `X-Forwarded-For`.
//!
//! ```text
//!   TCP peer ─(PROXY header?)─> peer ─(peer in trustedProxies?)─> X-Forwarded-For walk ─> client
//! ```
//!
//! Per-IP limits, ticket IP binding, `X-Real-IP` and the access log use the result.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName};
use wsgate_core::table::cidr::Cidr;

/// `X-Forwarded-For` (http has no constant for it).
pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Who sent a request: the direct peer and the client policy applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr {
    /// The TCP peer (or PROXY protocol source).
    pub peer: IpAddr,
    /// The client: `peer`, or the address a trusted proxy forwarded for.
    pub client: IpAddr,
    /// The peer is a trusted proxy, so its `X-Forwarded-For` is kept and extended.
    pub peer_trusted: bool,
}

impl ClientAddr {
    /// A peer that is nobody's proxy.
    pub fn direct(peer: IpAddr) -> Self {
        Self {
            peer,
            client: peer,
            peer_trusted: false,
        }
    }
}

/// Resolves the client of a request arriving from `peer`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> ClientAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return ClientAddr::direct(peer);
    }
    let hops: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    // Walk from the nearest hop outwards; the first address not ours is the client. A hop
    // that does not parse ends the walk: nothing beyond it can be believed.
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    ClientAddr {
        peer,
        client,
        peer_trusted: true,
    }
}

#[cfg(test)]
#[path = "client_addr_tests.rs"]
mod tests;
