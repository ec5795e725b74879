//! Handshake authentication: JWT tickets (query parameter, subprotocol or first message),
//! single use by `jti`, verified claims passed upstream as headers, and external auth.
//!
//! ```text
//!   request ─take_ticket─> token ─verify─> claims ─use_once(jti)─> X-Wsgate-Claim-* upstream
//!        └── (no token, FirstMessage allowed) ─> the request path answers 101 and reads it
//! ```

pub(crate) mod external;
pub(crate) mod replay;

use std::net::IpAddr;

use http::header::SEC_WEBSOCKET_PROTOCOL;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};

use wsgate_core::spec::TicketPlacement;
use wsgate_core::table::ticket::{TicketPolicy, TicketRefusal, VerifiedTicket};

use crate::metrics::SecurityMetrics;
use crate::spelling::canonical;
use replay::{ReplayError, ReplayGuard};

/// Prefix of the headers that carry verified claims to the backend.
pub const CLAIM_HEADER_PREFIX: &str = "x-wsgate-claim-";

/// Removes every `X-Wsgate-Claim-*` header in any spelling (`X_Wsgate_Claim_Sub` reaches a
/// CGI-style backend as the same variable): only wsgate may set them.
pub fn strip_claim_headers(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|n| canonical(n).starts_with(CLAIM_HEADER_PREFIX))
        .cloned()
        .collect();
    for n in names {
        headers.remove(n);
    }
}

/// Removes the ticket from every configured place of `req` and returns it. The query
/// parameter goes from the URI and the `<prefix><jwt>` entry from `Sec-WebSocket-Protocol`,
/// so neither reaches the backend nor any later log line.
pub fn take_ticket<B>(policy: &TicketPolicy, req: &mut Request<B>) -> Option<String> {
    let mut found = None;
    if policy.from.contains(&TicketPlacement::Query) {
        let (uri, token) = strip_query_param(req.uri(), &policy.query_param);
        *req.uri_mut() = uri;
        found = token;
    }
    if policy.from.contains(&TicketPlacement::Subprotocol) {
        let token = strip_subprotocol(req.headers_mut(), &policy.subprotocol_prefix);
        found = found.or(token);
    }
    found.filter(|t| !t.is_empty())
}

/// `uri` without every `name=...` query parameter, and the first such value.
pub fn strip_query_param(uri: &Uri, name: &str) -> (Uri, Option<String>) {
    let Some(query) = uri.query() else {
        return (uri.clone(), None);
    };
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            if key != name {
                return true;
            }
            if token.is_none() {
                token = pair.split_once('=').map(|(_, v)| v.to_string());
            }
            false
        })
        .collect();
    if token.is_none() && kept.len() == query.split('&').count() {
        return (uri.clone(), None);
    }
    let path = uri.path();
    let rebuilt = if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    (
        rebuilt.parse().unwrap_or_else(|_| Uri::from_static("/")),
        token,
    )
}

/// `/path?a=1&ticket=[redacted]`: a path and query safe to log.
pub fn redact_query(path_and_query: &str, name: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == name => format!("{k}=[redacted]"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Removes `<prefix><jwt>` from the offered subprotocols; returns the jwt.
fn strip_subprotocol(headers: &mut HeaderMap, prefix: &str) -> Option<String> {
    let mut token = None;
    let mut kept = Vec::new();
    for value in headers.get_all(SEC_WEBSOCKET_PROTOCOL) {
        for entry in value.to_str().unwrap_or("").split(',').map(str::trim) {
            match entry.strip_prefix(prefix) {
                Some(t) if token.is_none() => token = Some(t.to_string()),
                Some(_) => {}
                None if !entry.is_empty() => kept.push(entry.to_string()),
                None => {}
            }
        }
    }
    token.as_ref()?;
    headers.remove(SEC_WEBSOCKET_PROTOCOL);
    if let Ok(v) = HeaderValue::from_str(&kept.join(", "))
        && !kept.is_empty()
    {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, v);
    }
    token
}

/// Verifies `token` and records its `jti`; store failures are counted and fail closed.
pub async fn verify_ticket(
    policy: &TicketPolicy,
    replay: &ReplayGuard,
    metrics: &SecurityMetrics,
    token: &str,
    client: IpAddr,
) -> Result<VerifiedTicket, TicketRefusal> {
    let verified = verify_claims(policy, token, client)?;
    use_once(policy, replay, metrics, &verified).await?;
    Ok(verified)
}

/// Verifies `token` (signature and claims) without using up its `jti`: the caller records it
/// with [`use_once`] once every other check has passed.
pub fn verify_claims(
    policy: &TicketPolicy,
    token: &str,
    client: IpAddr,
) -> Result<VerifiedTicket, TicketRefusal> {
    policy.verify(token, client, jsonwebtoken::get_current_timestamp())
}

/// Records the `jti` of a verified single-use ticket: refused when it was used before;
/// store failures are counted and fail closed.
pub async fn use_once(
    policy: &TicketPolicy,
    replay: &ReplayGuard,
    metrics: &SecurityMetrics,
    verified: &VerifiedTicket,
) -> Result<(), TicketRefusal> {
    let (true, Some(jti)) = (policy.single_use, &verified.jti) else {
        return Ok(());
    };
    match replay
        .use_once(jti, verified.remaining, policy.replay_store.as_deref())
        .await
    {
        Ok(()) => Ok(()),
        Err(ReplayError::Replayed) => Err(TicketRefusal::Replayed),
        Err(ReplayError::Unavailable(why)) => {
            metrics.ticket_store_errors.with_label_values(&[why]).inc();
            tracing::warn!(
                reason = why,
                "ticket replay store unavailable: refusing tickets"
            );
            Err(TicketRefusal::StoreUnavailable)
        }
    }
}

/// Adds the configured claims of a verified ticket as `X-Wsgate-Claim-*` headers.
pub fn add_claim_headers(policy: &TicketPolicy, ticket: &VerifiedTicket, headers: &mut HeaderMap) {
    for (claim, header) in &policy.claim_headers {
        let text = match ticket.claims.get(claim) {
            None => continue,
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&text) {
            headers.insert(header.clone(), v);
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
