//! The checks behind the fuzz targets, one function per target. Inputs that drive a stream
//! reader start with two control bytes: a selector (options of the target) and a split seed
//! that cuts the rest into reads of 1..=16 bytes (0: one read), so every target also proves
//! its reader does not depend on where a peer's writes happen to end.

mod config;
mod frames;
mod peer;
mod wire;

pub use config::{cookie, routes_file, ticket};
pub use frames::{first_message, frame_tracker};
pub use wire::{http_head, proxy_header};

/// A target's check: panics on an input that breaks what must hold.
pub type Check = fn(&[u8]);

/// Every target by name, as `fuzz_targets/` and `fuzz/seeds/` name them.
pub const TARGETS: &[(&str, Check)] = &[
    ("routes_file", routes_file),
    ("http_head", http_head),
    ("proxy_header", proxy_header),
    ("frame_tracker", frame_tracker),
    ("first_message", first_message),
    ("ticket", ticket),
    ("cookie", cookie),
];
