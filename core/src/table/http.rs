//! A rule's request conditions beyond host and path (method, headers, query parameters) and
//! its filters (header edits, redirect, rewrite), compiled and ready to apply.

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::{Deserialize, Serialize};

use super::remote;

/// Conditions a request must meet besides host and path; the default matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conditions {
    /// Required method.
    #[serde(with = "remote::via")]
    pub method: Option<Method>,
    /// Required headers with their exact values.
    #[serde(with = "remote::via")]
    pub headers: Vec<(HeaderName, String)>,
    /// Required query parameters (case-sensitive names) with their exact values, compared
    /// with the request's after percent-decoding (`a%20b` is `a b`).
    pub query: Vec<(String, String)>,
}

impl Conditions {
    /// Whether a request with `method`, `query` (the raw query string) and `headers` meets
    /// every condition. A repeated header or parameter meets one if any of its values does.
    pub fn matches(&self, method: &Method, query: Option<&str>, headers: &HeaderMap) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let header_ok = |(name, value): &(HeaderName, String)| {
            headers
                .get_all(name)
                .iter()
                .any(|v| v.as_bytes() == value.as_bytes())
        };
        if !self.headers.iter().all(header_ok) {
            return false;
        }
        let query_ok = |(name, value): &(String, String)| {
            query.is_some_and(|q| {
                q.split('&').any(|pair| {
                    let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                    decoded_eq(n, name) && decoded_eq(v, value)
                })
            })
        };
        self.query.iter().all(query_ok)
    }

    /// Precedence among rules with the same path, as Gateway API orders them: a method
    /// match, then more header matches, then more query parameter matches (higher first).
    pub fn specificity(&self) -> (bool, usize, usize) {
        (self.method.is_some(), self.headers.len(), self.query.len())
    }
}

/// Whether the percent-decoded `raw` (a query parameter name or value as sent) is `want`;
/// decoded byte by byte, without allocating.
fn decoded_eq(raw: &str, want: &str) -> bool {
    percent_encoding::percent_decode_str(raw).eq(want.bytes())
}

/// What a rule does to a matching request and its response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Edits of the request to the backend.
    pub request_headers: HeaderEdits,
    /// Edits of the response to the client (the `101` included).
    pub response_headers: HeaderEdits,
    /// Answer with this redirect instead of forwarding.
    pub redirect: Option<Redirect>,
    /// Host and path rewrite before forwarding.
    pub rewrite: Rewrite,
}

impl Filters {
    /// True when the rule changes nothing (the common case: nothing to do per request).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Header edits: set, then add, then remove.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderEdits {
    /// Replaced or added.
    #[serde(with = "remote::via")]
    pub set: Vec<(HeaderName, HeaderValue)>,
    /// Appended.
    #[serde(with = "remote::via")]
    pub add: Vec<(HeaderName, HeaderValue)>,
    /// Removed.
    #[serde(with = "remote::via")]
    pub remove: Vec<HeaderName>,
}

impl HeaderEdits {
    /// Applies the edits to `headers`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.set {
            headers.insert(name.clone(), value.clone());
        }
        for (name, value) in &self.add {
            headers.append(name.clone(), value.clone());
        }
        for name in &self.remove {
            headers.remove(name);
        }
    }

    /// True when there is nothing to edit.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// A path replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathRewrite {
    /// The whole path becomes this.
    Full(String),
    /// The prefix the rule matched (`matched`) becomes `replacement`.
    Prefix {
        /// The rule's path prefix (normalised: no trailing `/` except for `/` itself).
        matched: String,
        /// What replaces it.
        replacement: String,
    },
}

impl PathRewrite {
    /// The new path for `path` (which the rule matched).
    pub fn apply(&self, path: &str) -> String {
        match self {
            Self::Full(p) => p.clone(),
            Self::Prefix {
                matched,
                replacement,
            } => {
                let rest = if matched == "/" {
                    path.trim_start_matches('/')
                } else {
                    path.get(matched.len()..)
                        .unwrap_or("")
                        .trim_start_matches('/')
                };
                let base = replacement.trim_end_matches('/');
                match (base.is_empty(), rest.is_empty()) {
                    (true, true) => "/".into(),
                    (false, true) => replacement.clone(),
                    (_, false) => format!("{base}/{rest}"),
                }
            }
        }
    }
}

/// Host and path rewrite.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewrite {
    /// New `Host`.
    #[serde(with = "remote::via")]
    pub hostname: Option<HeaderValue>,
    /// New path.
    pub path: Option<PathRewrite>,
}

/// A redirect answered by wsgate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// `http` or `https`; `None` keeps the request's.
    pub scheme: Option<String>,
    /// Host; `None` keeps the request's.
    pub hostname: Option<String>,
    /// Path; `None` keeps the request's.
    pub path: Option<PathRewrite>,
    /// Port; `None` follows Gateway API's rule (the scheme's well-known port when a scheme
    /// is set, else the request's port).
    pub port: Option<u16>,
    /// `301` or `302`.
    pub status: u16,
}

impl Redirect {
    /// The `Location` for a request on `scheme` (`http`/`https`) to `host` (may carry a
    /// port) with `path` and `query`.
    pub fn location(&self, scheme: &str, host: &str, path: &str, query: Option<&str>) -> String {
        let (req_host, req_port) = split_host_port(host);
        let scheme_out = self.scheme.as_deref().unwrap_or(scheme);
        let port = match (self.port, &self.scheme) {
            (Some(p), _) => Some(p),
            (None, Some(_)) => None,
            (None, None) => req_port,
        };
        let well_known = matches!(
            (scheme_out, port),
            ("http", Some(80)) | ("https", Some(443))
        );
        let host_out = self.hostname.as_deref().unwrap_or(req_host);
        let path_out = self
            .path
            .as_ref()
            .map_or_else(|| path.to_string(), |p| p.apply(path));
        let mut out = format!("{scheme_out}://{host_out}");
        if let Some(p) = port.filter(|_| !well_known) {
            out.push_str(&format!(":{p}"));
        }
        out.push_str(&path_out);
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            out.push('?');
            out.push_str(q);
        }
        out
    }
}

/// `example.com:8080` -> (`example.com`, Some(8080)); `[::1]:80` -> (`[::1]`, Some(80)).
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => (
                &host[..=end],
                host[end + 1..]
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok()),
            ),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => match port.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (host, None),
        },
        None => (host, None),
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
