//! wsgate's core: the plain data both planes share, and the pure functions over it. No
//! async runtime, no HTTP stack: the controller's translation and the routes-file loader use
//! it as it is, and the proxy consumes the [`table::RouteTable`] it produces.
//!
//! ```text
//!  routes file ──config (yaml)──┐
//!                               ├─> spec::RouteSpec ──compile──> table::Route ──> table::RouteTable
//!  cluster objects (controller)─┘                                                   │
//!                                            route_match::MatchIndex (host, path) <─┘
//! ```
//!
//! The table carries each route's connection and security policy as data (limits, Origin,
//! tickets, external auth); [`affinity`] holds the pure hashing, ring and cookie codec the
//! balancer derives from it, [`cert`] the PEM/DER parsing compilation checks certificates with.

pub mod affinity;
pub mod cert;
pub mod compile;
pub mod config;
pub mod path;
pub mod route_match;
pub mod spec;
pub mod table;
