//! Real clients: tokio-tungstenite WebSockets and a plain hyper HTTP client.

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `url` with large message limits.
pub async fn ws_connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(64 << 20);
    config.max_frame_size = Some(64 << 20);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    Ok(ws)
}

/// Sends an HTTP/1.1 request to `authority` (`ip:port`) and returns (status, body, headers).
pub async fn http_request(
    authority: &str,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<(u16, String, http::HeaderMap)> {
    let stream = TcpStream::connect(authority).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned(), headers))
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
