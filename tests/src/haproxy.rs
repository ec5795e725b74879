//! A real HAProxy in TCP mode in front of several wsgate replicas, as a cloud L4 load
//! balancer would be: round robin per connection, the client address passed on with the
//! PROXY protocol v2. Loopback only; stopped (by its PID) on drop.

use std::net::SocketAddr;
use std::process::{Command, Stdio};

use crate::process::OwnedChild;
use crate::wait::until;
use crate::wsgate::Scratch;

/// A running `haproxy`.
pub struct Haproxy {
    _child: OwnedChild,
    /// Where clients connect.
    pub addr: SocketAddr,
    _dir: Scratch,
}

impl Haproxy {
    /// Starts HAProxy on a free loopback port, balancing TCP connections round robin over
    /// `servers` with `send-proxy-v2`; returns once it accepts connections.
    pub async fn tcp_round_robin(servers: &[SocketAddr]) -> Haproxy {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = probe.local_addr().expect("addr");
        drop(probe);
        let dir = Scratch::new("haproxy");
        let cfg = dir.path("haproxy.cfg");
        std::fs::write(&cfg, config(addr, servers)).expect("haproxy.cfg");
        let mut cmd = Command::new("haproxy");
        cmd.args(["-db", "-f"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = OwnedChild::spawn(&mut cmd, "haproxy (bash scripts/install-test-deps.sh)");
        until(
            || format!("haproxy never accepted connections on {addr}"),
            || async move { tokio::net::TcpStream::connect(addr).await.is_ok() },
        )
        .await;
        Haproxy {
            _child: child,
            addr,
            _dir: dir,
        }
    }
}

fn config(listen: SocketAddr, servers: &[SocketAddr]) -> String {
    let mut cfg = format!(
        "global\n    maxconn 4000\n\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n\nfrontend l4\n    bind {listen}\n    default_backend wsgate\n\nbackend wsgate\n    balance roundrobin\n"
    );
    for (i, s) in servers.iter().enumerate() {
        cfg.push_str(&format!("    server r{i} {s} send-proxy-v2\n"));
    }
    cfg
}
