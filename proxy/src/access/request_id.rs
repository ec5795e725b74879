//! `X-Request-Id`: kept when a trusted proxy sent a well-formed one, generated otherwise,
//! and set on the request so the backend gets the same id the access log shows.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a trusted proxy.
const MAX_LEN: usize = 200;

/// The id of a request: the one in `headers` when `trusted` sent a well-formed one, else a
/// new random one; written back into `headers` either way (one value).
pub fn assign(headers: &mut HeaderMap, trusted: bool) -> HeaderValue {
    let given = headers
        .get(&X_REQUEST_ID)
        .filter(|v| trusted && well_formed(v.as_bytes()))
        .cloned();
    let id = given.unwrap_or_else(generate);
    headers.insert(X_REQUEST_ID.clone(), id.clone());
    id
}

fn well_formed(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_LEN && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// 128 random bits as 32 hex digits.
fn generate() -> HeaderValue {
    let hex = format!("{:032x}", fastrand::u128(..));
    HeaderValue::from_str(&hex).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_peers_id_is_kept_and_anyone_elses_replaced() {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID.clone(), HeaderValue::from_static("edge-42"));
        assert_eq!(assign(&mut h.clone(), true), "edge-42");
        let mine = assign(&mut h, false);
        assert_ne!(mine, "edge-42");
        assert_eq!(mine.len(), 32);
        assert_eq!(h.get_all(&X_REQUEST_ID).iter().count(), 1);
        assert_eq!(h[&X_REQUEST_ID], mine);
    }

    #[test]
    fn malformed_ids_are_replaced_even_from_a_trusted_peer() {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID.clone(), HeaderValue::from_static("has space"));
        assert_ne!(assign(&mut h, true), "has space");
        let mut empty = HeaderMap::new();
        assert_eq!(assign(&mut empty, true).len(), 32);
    }
}
