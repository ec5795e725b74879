//! Small clients for the controller tests: HTTP and WebSocket requests with a Host and
//! extra headers, every await bounded.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::Request;
use http_body_util::Full;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::client::Ws;

/// Longest any single exchange may take.
pub const STEP: Duration = Duration::from_secs(10);

/// GET `path` on `addr` with `host` and `headers`: (status, headers, body).
pub async fn get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, http::HeaderMap, String)> {
    let mut req = Request::get(path).header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::new()))?;
    let (status, body, h) = tokio::time::timeout(
        STEP,
        wsgate_tests::client::http_request(&addr.to_string(), req),
    )
    .await??;
    Ok((status, h, body))
}

/// Opens `ws://addr/path` with `host` and `headers`; a refused handshake is an error whose
/// text carries the status.
pub async fn ws(
    addr: SocketAddr,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<Ws> {
    let mut req = format!("ws://{addr}{path}").into_client_request()?;
    req.headers_mut().insert("host", host.parse()?);
    for (k, v) in headers {
        let name = http::HeaderName::from_bytes(k.as_bytes())?;
        req.headers_mut().insert(name, v.parse()?);
    }
    let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req)).await??;
    Ok(ws)
}

/// The HTTP status of a refused WebSocket handshake, if that is why `result` failed.
pub fn refused_status(result: &anyhow::Result<Ws>) -> Option<u16> {
    let err = result.as_ref().err()?;
    match err.downcast_ref::<tokio_tungstenite::tungstenite::Error>()? {
        tokio_tungstenite::tungstenite::Error::Http(resp) => Some(resp.status().as_u16()),
        _ => None,
    }
}

/// Sends `text` and returns the text reply.
pub async fn ask(ws: &mut Ws, text: &str) -> anyhow::Result<String> {
    tokio::time::timeout(STEP, ws.send(Message::text(text))).await??;
    loop {
        match tokio::time::timeout(STEP, ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(Message::Pong(_) | Message::Ping(_))) => continue,
            other => anyhow::bail!("unexpected reply {other:?}"),
        }
    }
}

/// Sends `req` to `addr` from the local address `source` (another loopback address stands in
/// for another client): (status, headers).
pub async fn request_from(
    source: std::net::IpAddr,
    addr: SocketAddr,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<(u16, http::HeaderMap)> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let exchange = async {
        let stream = socket.connect(addr).await?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        let resp = sender.send_request(req).await?;
        anyhow::Ok((resp.status().as_u16(), resp.headers().clone()))
    };
    tokio::time::timeout(STEP, exchange).await?
}
