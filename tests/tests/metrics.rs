//! `/metrics` of the real binary under a little traffic: Prometheus naming conventions (the
//! real `promtool check metrics`), the process and build metrics, labels operators filter
//! by, close codes, message sizes, endpoint health, and series of removed routes dropped.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{drain, http_request, next_data, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::{Scratch, Wsgate};

fn route(name: &str, path: &str, backend: std::net::SocketAddr) -> String {
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: {name}, namespace: team-a}}\nspec:\n  rules:\n    - path: {{type: PathPrefix, value: {path}}}\n      backend: {{addresses: [\"{backend}\"]}}\n"
    )
}

/// Runs `promtool check metrics` on `text`; returns its verdict and what it printed.
fn promtool_check(text: &str) -> (bool, String) {
    let dir = Scratch::new("promtool");
    let file = dir.path("metrics.txt");
    std::fs::write(&file, text).expect("write metrics");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("promtool check metrics < \"$0\"")
        .arg(&file);
    let out = output_within(&mut cmd, "promtool check metrics", Duration::from_secs(30));
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), said)
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[e2e]
async fn metrics_follow_prometheus_conventions_and_label_by_route() {
    let backend = Backend::start("b1").await;
    let chat = route("chat", "/chat", backend.addr);
    let old = route("old", "/old", backend.addr);
    let gw = Wsgate::launch(&format!("{chat}---\n{old}")).await;
    gw.wait_ready().await;

    // One WebSocket on `chat`: a 5-byte and a 4096-byte message each way, closed by the client
    // with 4001; one HTTP request on `old`.
    let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    send_msg(&mut ws, Message::text("hello")).await;
    assert_eq!(next_data(&mut ws).await, Message::text("hello"));
    send_msg(&mut ws, Message::binary(vec![7u8; 4096])).await;
    assert_eq!(next_data(&mut ws).await, Message::binary(vec![7u8; 4096]));
    let frame = CloseFrame {
        code: CloseCode::from(4001),
        reason: "done".into(),
    };
    send_msg(&mut ws, Message::Close(Some(frame))).await;
    drain(&mut ws).await;
    let req = Request::get("/old/x")
        .header("host", "example.com")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, _, _) = http_request(&gw.http.to_string(), req).await.expect("http");
    assert_eq!(status, 200);

    let closed = "wsgate_connections_closed_total{code=\"4001\",namespace=\"team-a\",reason=\"client_close\",route=\"chat\"}";
    assert_eq!(gw.wait_metric(closed, 1.0).await, 1.0);
    let (_, text) = gw.admin_get("/metrics").await;

    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool check metrics failed:\n{said}\n---\n{text}");

    let version = env!("CARGO_PKG_VERSION");
    let ep = backend.addr;
    let expected = [
        format!("wsgate_build_info{{revision=\"unknown\",version=\"{version}\"}} 1"),
        "wsgate_message_size_bytes_bucket{direction=\"client_to_backend\",namespace=\"team-a\",route=\"chat\",le=\"64\"} 1".into(),
        "wsgate_message_size_bytes_bucket{direction=\"client_to_backend\",namespace=\"team-a\",route=\"chat\",le=\"4096\"} 2".into(),
        "wsgate_message_size_bytes_sum{direction=\"backend_to_client\",namespace=\"team-a\",route=\"chat\"} 4101".into(),
        "wsgate_message_size_bytes_count{direction=\"backend_to_client\",namespace=\"team-a\",route=\"chat\"} 2".into(),
        format!("wsgate_endpoint_up{{endpoint=\"{ep}\",namespace=\"team-a\",route=\"chat\"}} 1"),
        "wsgate_route_healthy_endpoints{namespace=\"team-a\",route=\"old\"} 1".into(),
        "wsgate_http_requests_total{code=\"200\",namespace=\"team-a\",route=\"old\"} 1".into(),
        "wsgate_handshakes_total{namespace=\"team-a\",result=\"upgraded\",route=\"chat\"} 1".into(),
        format!("wsgate_active_connections{{endpoint=\"{ep}\",namespace=\"team-a\",route=\"chat\"}} 0"),
    ];
    for line in &expected {
        assert!(has_line(&text, line), "{line} missing from\n{text}");
    }
    for family in [
        "process_open_fds ",
        "process_max_fds ",
        "process_resident_memory_bytes ",
        "process_start_time_seconds ",
        "process_cpu_seconds_total ",
        "wsgate_route_table_last_applied_timestamp_seconds ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(family)),
            "{family} missing from\n{text}"
        );
    }

    // The table without `old`: every series of that route goes, `chat`'s stay.
    gw.rewrite(&chat);
    gw.wait_version(2.0).await;
    let (_, text) = gw.admin_get("/metrics").await;
    let stale: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("route=\"old\""))
        .collect();
    assert!(
        stale.is_empty(),
        "series of the removed route remain: {stale:#?}"
    );
    assert!(
        has_line(&text, &expected[1]),
        "chat's series must stay:\n{text}"
    );
}
