//! The `wsgate` binary's library: command-line interface, the `proxy` command, and (as it
//! lands) the Kubernetes controller.

pub mod cli;
pub mod controller_cmd;
pub mod crd;
pub mod leader;
pub mod metrics;
pub mod proxy_cmd;
pub mod publish;
pub mod signals;
pub mod status;
pub mod translate;
pub mod watch;
pub mod yaml;
