//! The admin listener: `/` (an HTML overview for operators), `/healthz` (process alive),
//! `/readyz` (a table is in force and no drain or shutdown has begun), `/metrics`
//! (Prometheus text) and `/drain` (close every WebSocket before the pod stops).

pub(crate) mod drain;
mod listener;
mod page;
mod page_html;
mod page_style;
mod page_view;
pub(crate) mod refusals;

use std::convert::Infallible;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::body::{Body, full};
use crate::state::State;

/// Serves the admin endpoints until `stop`, with a head timeout and a connection cap
/// (see [`listener`]).
pub async fn serve_admin(state: Arc<State>, listener: TcpListener, stop: CancellationToken) {
    listener::serve(listener, stop, move |req| admin(state.clone(), req)).await;
}

async fn admin(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if req.uri().path() == "/drain" {
        let (status, body) = drain::serve(&state, req.method()).await;
        let mut resp = respond(status, "application/json", body);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            resp.headers_mut()
                .insert(header::ALLOW, http::HeaderValue::from_static("POST, GET"));
        }
        return Ok(resp);
    }
    if req.uri().path() == "/" && matches!(*req.method(), Method::GET | Method::HEAD) {
        return Ok(page::serve(&state, req.uri().query()));
    }
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        (&Method::GET, "/readyz") if state.is_ready() => {
            (StatusCode::OK, "text/plain", "ready\n".to_string())
        }
        (&Method::GET, "/readyz") => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            if state.shutdown.is_cancelled() {
                "shutting down\n"
            } else if state.draining.is_cancelled() {
                "draining\n"
            } else {
                "no route table loaded yet\n"
            }
            .to_string(),
        ),
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4",
            state.metrics.render(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    Ok(respond(status, content_type, body))
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    resp
}
