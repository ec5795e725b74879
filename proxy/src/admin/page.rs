//! `GET /`: the admin page, an HTML overview an operator can read in a browser or on a
//! phone: routes with hosts, paths, endpoints and state, open WebSockets, the route table's
//! version and age, certificates and their expiry, and recent refusals by reason.
//!
//! Built from the state in force on each request, in time proportional to the table (the
//! route list is capped); it shows no secrets, runs no script and loads nothing else.

use http::{HeaderValue, Response, StatusCode, header};

use super::{page_html, page_view};
use crate::body::{Body, full};
use crate::state::State;

/// Shortest and longest `?refresh=` period, in seconds.
const REFRESH: std::ops::RangeInclusive<u32> = 2..=3600;

/// The page (for `HEAD` too: the server leaves the body out); `?refresh=N` makes the
/// browser reload it every N seconds.
pub fn serve(state: &State, query: Option<&str>) -> Response<Body> {
    let mut view = page_view::build(state);
    view.refresh = refresh(query);
    let html = page_html::render(&view);
    let mut resp = Response::new(full(html));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Inline style only: no script, no frame, nothing loaded from elsewhere.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// The `refresh` parameter, when it is a number of seconds in [`REFRESH`].
fn refresh(query: Option<&str>) -> Option<u32> {
    query?
        .split('&')
        .find_map(|p| p.strip_prefix("refresh="))
        .and_then(|v| v.parse().ok())
        .filter(|n| REFRESH.contains(n))
}

#[cfg(test)]
mod tests {
    use super::refresh;

    #[test]
    fn refresh_takes_a_bounded_number_of_seconds() {
        assert_eq!(refresh(Some("refresh=10")), Some(10));
        assert_eq!(refresh(Some("x=1&refresh=5")), Some(5));
        for q in [
            None,
            Some("refresh=0"),
            Some("refresh=99999"),
            Some("refresh=soon"),
        ] {
            assert_eq!(refresh(q), None, "{q:?}");
        }
    }
}
