//! Spec types of the access log: per route (on, off, sampled) and per process (what is
//! redacted and which extra request headers are logged).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Access logging of one route's requests and WebSockets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessLogSpec {
    /// Log this route's requests at all (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Percentage of requests and WebSockets logged, 0-100 (default 100). Refusals and
    /// errors (status 400 and up) are always logged while `enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub sample_percent: Option<u8>,
}

/// Process-wide access-log settings (the `accessLog` of a `ProxyConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessLogConfigSpec {
    /// Query parameters whose values are replaced by `[redacted]` in logged paths, besides
    /// the ticket parameter of every route, which always is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact_query_params: Vec<String>,
    /// Request headers to add to each line (as `header_<name>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Logged headers whose values are replaced by `[redacted]`, besides `Authorization`,
    /// `Proxy-Authorization` and `Cookie`, which always are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact_headers: Vec<String>,
}
