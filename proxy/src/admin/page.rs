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

/// The page (for `HEAD` too: the server leaves the body out).
pub fn serve(state: &State) -> Response<Body> {
    let html = page_html::render(&page_view::build(state));
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
