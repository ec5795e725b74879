//! A rule's filters applied to one request: the redirect wsgate answers itself, and the
//! header edits and host/path rewrite of the request to the endpoint and of the response to
//! the client. A rule without filters costs one comparison.

use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, header};

use super::context::{Proto, host_of};
use super::respond::plain;
use crate::body::Body;
use wsgate_core::table::http::Filters;

/// The redirect of a rule with a `requestRedirect` filter (the endpoint sees nothing).
pub fn redirect<B>(filters: &Filters, req: &Request<B>, proto: Proto) -> Option<Response<Body>> {
    let r = filters.redirect.as_ref()?;
    let location = r.location(
        proto.as_str(),
        host_of(req),
        req.uri().path(),
        req.uri().query(),
    );
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::FOUND);
    let mut resp = plain(
        status,
        format!(
            "{} {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
    );
    // A Location that is not a valid header value (cannot happen with a compiled hostname
    // and path) falls back to the bare status rather than a broken header.
    if let Ok(v) = HeaderValue::try_from(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Some(resp)
}

/// Applies the request header edits and the rewrite to the request for the endpoint
/// (`target` in origin form). Runs after the forwarded headers are set, so
/// `X-Forwarded-Host` keeps the host the client asked for.
pub fn edit_request(filters: &Filters, target: &mut Uri, headers: &mut HeaderMap) {
    if filters.is_empty() {
        return;
    }
    filters.request_headers.apply(headers);
    if let Some(host) = &filters.rewrite.hostname {
        headers.insert(header::HOST, host.clone());
    }
    if let Some(rewrite) = &filters.rewrite.path {
        let path = rewrite.apply(target.path());
        let new = match target.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        // The compiled replacement is a valid path; keep the original target otherwise.
        if let Ok(uri) = new.parse() {
            *target = uri;
        }
    }
}

/// Applies the response header edits to a response for the client.
pub fn edit_response(filters: &Filters, headers: &mut HeaderMap) {
    if !filters.response_headers.is_empty() {
        filters.response_headers.apply(headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderName;
    use wsgate_core::table::http::{HeaderEdits, PathRewrite, Redirect, Rewrite};

    #[test]
    fn rewrites_path_and_host_and_keeps_the_query() {
        let filters = Filters {
            request_headers: HeaderEdits {
                set: vec![(
                    HeaderName::from_static("x-env"),
                    HeaderValue::from_static("prod"),
                )],
                ..Default::default()
            },
            rewrite: Rewrite {
                hostname: Some(HeaderValue::from_static("backend.internal")),
                path: Some(PathRewrite::Prefix {
                    matched: "/api".into(),
                    replacement: "/v2".into(),
                }),
            },
            ..Default::default()
        };
        let mut target: Uri = "/api/rooms?id=7".parse().expect("uri");
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("chat.example.com"));
        edit_request(&filters, &mut target, &mut headers);
        assert_eq!(target, "/v2/rooms?id=7");
        assert_eq!(headers[header::HOST], "backend.internal");
        assert_eq!(headers["x-env"], "prod");
    }

    #[test]
    fn redirects_with_the_configured_status() {
        let filters = Filters {
            redirect: Some(Redirect {
                scheme: Some("https".into()),
                hostname: None,
                path: None,
                port: None,
                status: 301,
            }),
            ..Default::default()
        };
        let req = Request::get("/chat?x=1")
            .header(header::HOST, "chat.example.com:8080")
            .body(())
            .expect("request");
        let resp = redirect(&filters, &req, Proto::Http).expect("a redirect");
        assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            resp.headers()[header::LOCATION],
            "https://chat.example.com/chat?x=1"
        );
        assert!(redirect(&Filters::default(), &req, Proto::Http).is_none());
    }
}
