//! End-to-end harness for wsgate: start the real `wsgate` binary on loopback, real backends
//! (WebSocket + HTTP echo, Node Socket.IO), and real clients.
//!
//! ```text
//!   test ──ws/http──> wsgate (child process, port 0) ──> backend (in-process hyper + tungstenite)
//! ```
//!
//! Every end-to-end test wears [`e2e`]: it runs against a `wsgate` built from this checkout,
//! under a hard time limit, and every network step in it is bounded ([`wait`], [`client`]).

pub mod backend;
pub mod binary;
pub mod browser;
pub mod client;
pub mod e2e;
pub mod haproxy;
pub mod kube_standin;
pub mod manifests;
pub mod node;
pub mod open_files;
pub mod process;
pub mod prometheus;
pub mod raw;
pub mod redis;
pub mod tls;
pub mod wait;
pub mod wsgate;

pub use wsgate_test_macros::e2e;
