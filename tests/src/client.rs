//! Real clients: tokio-tungstenite WebSockets and a plain hyper HTTP client, every step of
//! them bounded by [`IO_TIMEOUT`].

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use crate::wait::IO_TIMEOUT;

/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `url` with large message limits. A handshake that takes longer than
/// [`IO_TIMEOUT`] is an error (`TimedOut`).
pub async fn ws_connect(url: &str) -> Result<Ws, WsError> {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(64 << 20);
    config.max_frame_size = Some(64 << 20);
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
    match tokio::time::timeout(IO_TIMEOUT, connect).await {
        Ok(result) => result.map(|(ws, _)| ws),
        Err(_) => Err(timed_out(url)),
    }
}

fn timed_out(what: &str) -> WsError {
    WsError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what}: no handshake within {IO_TIMEOUT:?}"),
    ))
}

/// The next message (pings and pongs included) within [`IO_TIMEOUT`]; fails the test if the
/// stream ends, errors or stays silent.
pub async fn next_msg<S>(ws: &mut S) -> Message
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    match next_within(ws, IO_TIMEOUT).await {
        Some(Ok(m)) => m,
        Some(Err(e)) => panic!("WebSocket error while waiting for a message: {e}"),
        None => panic!("the WebSocket ended while a message was expected"),
    }
}

/// The next data message (text or binary) within [`IO_TIMEOUT`], skipping pings and pongs.
pub async fn next_data<S>(ws: &mut S) -> Message
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    loop {
        match next_msg(ws).await {
            Message::Ping(_) | Message::Pong(_) => continue,
            m => return m,
        }
    }
}

/// What the stream yields next (also its end or an error), failing the test only when
/// nothing at all happens within `limit`.
pub async fn next_within<S>(ws: &mut S, limit: Duration) -> Option<Result<Message, WsError>>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    match tokio::time::timeout(limit, ws.next()).await {
        Ok(next) => next,
        Err(_) => panic!("no WebSocket message within {limit:?}"),
    }
}

/// Sends `msg` within [`IO_TIMEOUT`]; fails the test on an error or a stalled peer.
pub async fn send_msg<S>(ws: &mut S, msg: Message)
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    match tokio::time::timeout(IO_TIMEOUT, ws.send(msg)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("sending a WebSocket message failed: {e}"),
        Err(_) => panic!("sending a WebSocket message did not finish within {IO_TIMEOUT:?}"),
    }
}

/// Starts the closing handshake (sends a close frame) within [`IO_TIMEOUT`]; fails the test
/// on an error.
pub async fn close_ws<S>(ws: &mut S)
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let sent = crate::wait::within(IO_TIMEOUT, "sending a close frame", ws.close()).await;
    sent.unwrap_or_else(|e| panic!("closing a WebSocket failed: {e}"));
}

/// Reads until the stream ends (answering a close as tungstenite does), within
/// [`IO_TIMEOUT`]; errors count as the end.
pub async fn drain<S>(ws: &mut S)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let all = async { while let Some(Ok(_)) = ws.next().await {} };
    crate::wait::within(IO_TIMEOUT, "the WebSocket to end", all).await;
}

/// Sends an HTTP/1.1 request to `authority` (`ip:port`) and returns (status, body, headers).
/// The whole exchange is bounded by [`IO_TIMEOUT`].
pub async fn http_request(
    authority: &str,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<(u16, String, http::HeaderMap)> {
    http_request_within(authority, req, IO_TIMEOUT).await
}

/// [`http_request`] with another limit (e.g. a browser driver's page load).
pub async fn http_request_within(
    authority: &str,
    req: Request<Full<Bytes>>,
    limit: Duration,
) -> anyhow::Result<(u16, String, http::HeaderMap)> {
    let exchange = async {
        let stream = TcpStream::connect(authority).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, String::from_utf8_lossy(&body).into_owned(), headers))
    };
    tokio::time::timeout(limit, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("no HTTP response from {authority} within {limit:?}"))?
}

/// GET `url` (optionally with another Host header) and return (status, body).
pub async fn http_get(url: &str, host: Option<&str>) -> anyhow::Result<(u16, String)> {
    let uri: http::Uri = url.parse()?;
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let req = Request::get(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", host.unwrap_or(&authority))
        .body(Full::new(Bytes::new()))?;
    let (s, b, _) = http_request(&authority, req).await?;
    Ok((s, b))
}
