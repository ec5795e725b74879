//! The client's address as policy sees it: the TCP peer (or the PROXY protocol source), or,
//! when the peer is a trusted proxy, the nearest untrusted hop of `X-Forwarded-For`.
//!
//! ```text
//!   TCP peer ─(PROXY header?)─> peer ─(peer in trustedProxies?)─> X-Forwarded-For walk ─> client
//! ```
//!
//! Per-IP limits, ticket IP binding, `X-Real-IP` and the access log use the result.

pub mod proxy_protocol;

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use http::{Extensions, HeaderMap, HeaderName};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `fd00::/8`, or a bare address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (ip, prefix) = match text.trim().split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (text.trim(), None),
        };
        let net: IpAddr = ip
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: prefix length must be 0-{max}"))?,
        };
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    /// True if `ip` is inside this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

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

    /// The address resolved for this request (stored in its extensions by policy), else `peer`.
    pub fn of(extensions: &Extensions, peer: SocketAddr) -> Self {
        extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or_else(|| Self::direct(peer.ip()))
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
#[path = "tests.rs"]
mod tests;
