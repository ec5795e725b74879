//! End-to-end harness for wsgate: start the real `wsgate` binary on loopback, real backends
//! (WebSocket + HTTP echo, Node Socket.IO), and real clients.
//!
//! ```text
//!   test ──ws/http──> wsgate (child process, port 0) ──> backend (in-process hyper + tungstenite)
//! ```

pub mod backend;
pub mod client;
pub mod kube_standin;
pub mod node;
pub mod tls;
pub mod wsgate;
