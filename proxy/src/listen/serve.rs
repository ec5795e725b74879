//! Accept loops and HTTP/1.1 connections: each accepted connection goes through its
//! preamble (PROXY header, TLS, first head) and is then served by hyper, every request of
//! it handed to the request step.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use super::preamble::{client_of, first_head};
use crate::request::context::{ConnInfo, Proto, TlsInfo};
use crate::state::State;

/// Accepts plaintext connections on `listener` until shutdown.
pub async fn serve_plain(state: Arc<State>, listener: TcpListener) {
    accept_loop(state, listener, serve_plain_connection).await;
}

/// Accepts TLS connections on `listener` until shutdown: the handshake picks the
/// certificate by SNI from the table in force, then the connection is served as `https`.
pub async fn serve_tls(state: Arc<State>, listener: TcpListener) {
    accept_loop(state, listener, serve_tls_connection).await;
}

/// Accepts on `listener` until shutdown, serving each connection with `serve`; then waits
/// briefly for the connections' requests in flight.
async fn accept_loop<F, Fut>(state: Arc<State>, listener: TcpListener, serve: F)
where
    F: Fn(Arc<State>, TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and similar: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve(state.clone(), stream, peer));
    }
    drop(listener);
    connections.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), connections.wait()).await;
}

/// PROXY header and first request head, then HTTP.
async fn serve_plain_connection(state: Arc<State>, mut stream: TcpStream, peer: SocketAddr) {
    let errors = &state.metrics.security.proxy_protocol_errors;
    let Some(peer) = client_of(&state.listener, errors, &mut stream, peer).await else {
        return;
    };
    let timeouts = &state.metrics.security.header_timeouts;
    let head = &state.listener.head;
    let Some(io) = first_head(head, timeouts, stream, peer, "http").await else {
        return;
    };
    serve_connection(state, TokioIo::new(io), ConnInfo::new(peer, Proto::Http)).await;
}

/// PROXY header, TLS handshake, first request head, then HTTP as `https`.
async fn serve_tls_connection(state: Arc<State>, mut stream: TcpStream, peer: SocketAddr) {
    let errors = &state.metrics.security.proxy_protocol_errors;
    let Some(peer) = client_of(&state.listener, errors, &mut stream, peer).await else {
        return;
    };
    let tls = match crate::tls::accept::accept(stream, &state.certs, &state.metrics.tls).await {
        Ok(tls) => tls,
        Err(e) => {
            tracing::debug!(client = %peer, error = %e, "TLS handshake failed");
            return;
        }
    };
    let timeouts = &state.metrics.security.header_timeouts;
    let head = &state.listener.head;
    let session = tls.get_ref().1;
    let info = TlsInfo {
        version: crate::tls::accept::version_label(session.protocol_version()),
        sni: session.server_name().map(Arc::from),
    };
    if let Some(io) = first_head(head, timeouts, tls, peer, "https").await {
        let conn = ConnInfo {
            tls: Some(info),
            ..ConnInfo::new(peer, Proto::Https)
        };
        serve_connection(state, TokioIo::new(io), conn).await;
    }
}

/// Serves one client connection (HTTP/1.1 with upgrades) to its end; on shutdown the
/// request in flight finishes and the keep-alive connection closes.
async fn serve_connection<I>(state: Arc<State>, io: I, conn: ConnInfo)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let shutdown = state.shutdown.clone();
    let head = state.listener.head;
    let peer = conn.peer;
    let service = service_fn(move |req| crate::request::handle(state.clone(), req, conn.clone()));
    let conn_future = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(head.read_timeout)
        .max_header_size(head.max_bytes)
        .max_headers(head.max_headers)
        .serve_connection(io, service)
        .with_upgrades();
    let mut conn_future = std::pin::pin!(conn_future);
    let result = tokio::select! {
        r = conn_future.as_mut() => r,
        _ = shutdown.cancelled() => {
            conn_future.as_mut().graceful_shutdown();
            conn_future.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(client = %peer, error = %e, "client connection ended with an error");
    }
}
