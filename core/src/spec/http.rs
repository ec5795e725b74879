//! Request matching beyond the path (method, headers, query parameters) and the filters of a
//! rule (header edits, redirects, rewrites): the same shapes as Gateway API's HTTPRoute, so an
//! HTTPRoute rule and a WebSocketRoute rule compile to the same table data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A header or query parameter: name and exact value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameValueSpec {
    /// Name (header names are case-insensitive, query parameter names are not).
    pub name: String,
    /// Exact value.
    pub value: String,
}

/// What a rule does to a matching request or its response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FiltersSpec {
    /// Headers set, added or removed on the request to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderModifierSpec>,
    /// Headers set, added or removed on the response to the client (the `101` included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HeaderModifierSpec>,
    /// Answer with a redirect instead of forwarding (the backend sees nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<RedirectSpec>,
    /// Rewrite host and path before forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<UrlRewriteSpec>,
}

/// Header edits, applied as set, then add, then remove.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderModifierSpec {
    /// Headers replaced (or added when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<NameValueSpec>,
    /// Headers appended to any existing value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<NameValueSpec>,
    /// Header names removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// A redirect answered by wsgate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedirectSpec {
    /// `http` or `https` (default: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Host of the `Location` (default: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Path of the `Location` (default: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifierSpec>,
    /// Port of the `Location` (default: the scheme's well-known port when `scheme` is set,
    /// else the port the client used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `301` or `302` (default `302`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

/// A host and path rewrite before forwarding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UrlRewriteSpec {
    /// Replaces the `Host` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Replaces the path (the query is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifierSpec>,
}

/// A path replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PathModifierSpec {
    /// `ReplaceFullPath` or `ReplacePrefixMatch` (the rule's path must be a `PathPrefix`).
    #[serde(rename = "type")]
    pub kind: PathModifierType,
    /// The new path, with `ReplaceFullPath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_full_path: Option<String>,
    /// What replaces the matched prefix, with `ReplacePrefixMatch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_prefix_match: Option<String>,
}

/// Path replacement kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PathModifierType {
    /// The whole path is replaced.
    ReplaceFullPath,
    /// The prefix the rule matched is replaced.
    ReplacePrefixMatch,
}
