//! State shared by every replica of a deployment (`ProxyConfig` `spec.sharedState`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where replicas keep the little state they must agree on: single-use tickets, Socket.IO
/// sessions and cluster-wide connection counts. Absent: each replica keeps its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SharedStateSpec {
    /// A Redis server every replica reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisSpec>,
}

/// A Redis server for shared state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedisSpec {
    /// `redis://[user@]host[:port][/db]`, or `rediss://` for TLS. An ACL user goes in the
    /// URL; the password never does (use `passwordFile`).
    pub url: String,
    /// File holding the password (of the URL's user, else of the default user); read at
    /// every (re)connection, so a rotated password is picked up without a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    /// PEM bundle of the CAs that sign the server's certificate (`rediss://`; default: the
    /// system's roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}
