//! The `wsgate` binary's library: command-line interface, the `proxy` command, and (as it
//! lands) the Kubernetes controller.

pub mod cli;
pub mod crd;
pub mod proxy_cmd;
pub mod signals;
pub mod translate;
pub mod yaml;
