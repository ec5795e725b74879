//! Sidecar injection: wsgate added to a pod as a native sidecar in front of the app, the way
//! `wsgate inject` writes workloads back and the admission webhook mutates pods.
//!
//! ```text
//!  annotations ─> settings ─┬─> routes file (generated, projected from a pod annotation)
//!                           └─> pod: wsgate as the last init container (restartPolicy:
//!                               Always, startup probe), volumes, the app's port name moved to wsgate, the
//!                               app's preStop drain, terminationGracePeriodSeconds
//! ```
//!
//! The pod records what it changed (`wsgate.dev/sidecar-injected`), so uninjecting restores
//! the pod exactly and injecting again changes nothing.

mod error;
mod pod;
mod routes;
pub mod settings;
pub mod sidecar;
pub mod workload;

pub use error::InjectError;
pub use pod::{annotations_of, inject, uninject};
pub use workload::{Mode, Output, process};

#[cfg(test)]
mod tests;
