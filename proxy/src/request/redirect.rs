//! Routes served over TLS only, on the plaintext listener: `308 Permanent Redirect` from
//! `http://` to `https://`, and for a WebSocket upgrade a 403 naming `wss://` (browsers do
//! not follow redirects for `ws://`) unless the route asks for the 308 there too. A request
//! a trusted proxy forwarded from `https` (`X-Forwarded-Proto`) already used TLS.

use http::{HeaderValue, Request, Response, StatusCode, header};
use prometheus::IntCounterVec;

use super::context::host_of;
use super::respond::plain;
use crate::body::Body;
use crate::error::ProxyError;
use crate::route::Router;
use crate::tls::store::CertStore;

/// The answer for a request on the plaintext listener whose route is served over TLS only
/// (`tls.redirectHttp`, the default for a route with its own certificate): a 308 to https,
/// or for an upgrade the 403 (`Err`) unless `tls.redirectUpgrades`. `None` serves it:
/// no such route, or `via_https` (a trusted proxy terminated TLS).
pub fn for_route<B>(
    router: &Router,
    certs: &CertStore,
    http_requests: &IntCounterVec,
    req: &Request<B>,
    upgrade: bool,
    via_https: bool,
) -> Option<Result<Response<Body>, ProxyError>> {
    // Most tables redirect nothing: skip the second route lookup then.
    if !certs.redirects() || via_https {
        return None;
    }
    // A route served in clear wins; else a route of the TLS listener only is found for
    // its redirect.
    let in_clear = router.find(&super::context::view(req, Some(false)));
    let (route, _) = in_clear.or_else(|| router.find(&super::context::view(req, Some(true))))?;
    if !route.policy.redirect_http {
        return None;
    }
    if upgrade && !route.policy.redirect_upgrades {
        return Some(Err(ProxyError::TlsRequired));
    }
    let resp = to_https(req)?;
    let [ns, name] = crate::metrics::route_labels(&route.label);
    http_requests.with_label_values(&[ns, name, "308"]).inc();
    Some(Ok(resp))
}

/// The redirect for `req`, keeping host (without its port) and path with query. `None` if
/// the request names no usable host.
pub fn to_https<B>(req: &Request<B>) -> Option<Response<Body>> {
    let host = strip_port(host_of(req));
    if host.is_empty() {
        return None;
    }
    let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let location = HeaderValue::try_from(format!("https://{host}{path}")).ok()?;
    let mut resp = plain(
        StatusCode::PERMANENT_REDIRECT,
        "308 Permanent Redirect: use https\n",
    );
    resp.headers_mut().insert(header::LOCATION, location);
    Some(resp)
}

/// `example.com:8080` -> `example.com`; `[::1]:8080` -> `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(host: &str, target: &str) -> Option<String> {
        let req = Request::get(target)
            .header(header::HOST, host)
            .body(())
            .expect("request");
        to_https(&req).map(|r| {
            assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
            r.headers()[header::LOCATION]
                .to_str()
                .expect("ascii")
                .to_string()
        })
    }

    #[test]
    fn keeps_host_path_and_query_and_drops_the_plaintext_port() {
        assert_eq!(
            location("chat.example.com:8080", "/room?id=7").as_deref(),
            Some("https://chat.example.com/room?id=7")
        );
        assert_eq!(
            location("chat.example.com", "/").as_deref(),
            Some("https://chat.example.com/")
        );
        assert_eq!(
            location("[::1]:8080", "/x").as_deref(),
            Some("https://[::1]/x")
        );
        assert_eq!(location("", "/x"), None);
    }
}
