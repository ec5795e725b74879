//! The pure parts of session affinity: a keyed hash, the consistent-hash ring and the
//! cookie codec. The live parts (picking, the Socket.IO session store) are the proxy's.

pub mod cookie;
pub mod hash;
pub mod ring;
pub mod secret;

/// The raw value of query parameter `name` (first occurrence), without percent-decoding.
pub fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
