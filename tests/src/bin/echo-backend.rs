//! The example backend: WebSocket echo plus an HTTP endpoint that echoes the request as JSON.
//! `echo-backend 127.0.0.1:9001 [name]`

use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let name = args.next().unwrap_or_else(|| "echo".into());
    let listener = TcpListener::bind(&addr).await?;
    let backend = wsgate_tests::backend::Backend::serve_with(listener, &name, false);
    eprintln!("echo-backend {name} listening on {}", backend.addr);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
