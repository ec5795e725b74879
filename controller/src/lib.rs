//! The `wsgate` binary's library: the command line, the `proxy` command and the Kubernetes
//! controller, both ending in the same data plane.
//!
//! ```text
//!  wsgate proxy:       routes file ─> core::config ─> FileSource ──watch──┐
//!  wsgate controller:  API ─watch─> translate (pure; core only) ─> publish ─┴─> wsgate_proxy::run
//!                                                     └─> status, Events (leader only)
//! ```

pub mod cli;
pub mod controller_cmd;
pub mod cookie_key;
pub mod crd;
pub mod gateway_api;
pub mod inject;
pub mod inject_cmd;
pub mod leader;
pub mod metrics;
pub mod migrate;
pub mod migrate_cmd;
pub mod policy_crd;
pub mod proxy_cmd;
pub mod publish;
pub mod signals;
pub mod status;
pub mod tables_client;
pub mod tables_event;
pub mod tables_from_cmd;
pub mod tables_server;
pub mod translate;
pub mod validate;
pub mod validate_cmd;
pub mod watch;
pub mod webhook;
pub mod webhook_cmd;
pub mod yaml;
