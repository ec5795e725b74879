//! Route matching: the one place precedence is defined.
//!
//! Exact host before wildcard host (longest wildcard first) before routes without hosts;
//! within a host group, the longest path wins, `Exact` before `PathPrefix` at equal length,
//! then (as Gateway API orders rules) a method condition, more header conditions, more query
//! parameter conditions, then table order (oldest route first) and rule order; a rule whose
//! conditions the request does not meet is skipped. The most specific host group that matches the request's host is
//! authoritative: a path it does not declare finds no route (404) and never falls through
//! to a wildcard or host-less route, which may belong to someone else in a shared cluster
//! and would receive the request after TLS was terminated with the host owner's certificate.

use std::collections::HashMap;
use std::sync::Arc;

use http::{HeaderMap, Method};

use crate::table::http::Conditions;
use crate::table::{HostMatch, Listeners, PathMatch, RouteTable};

/// Position of a rule in the table: (route index, rule index).
pub type RuleRef = (usize, usize);

/// Host and path index derived from a table once per table change.
#[derive(Debug, Default)]
pub struct MatchIndex {
    exact: HashMap<String, Vec<RuleRef>>,
    wildcard: Vec<(String, Vec<RuleRef>)>,
    any: Vec<RuleRef>,
    paths: Vec<Vec<(PathMatch, Arc<Conditions>)>>,
    listeners: Vec<Listeners>,
}

/// What matching looks at in a request.
#[derive(Clone, Copy, Debug)]
pub struct RequestView<'a> {
    /// `Host` (any case, port allowed).
    pub host: &'a str,
    /// Path, without the query.
    pub path: &'a str,
    /// Method.
    pub method: &'a Method,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Arrived on the TLS (`Some(true)`) or plaintext (`Some(false)`) listener; `None`
    /// matches routes of either.
    pub tls: Option<bool>,
}

impl MatchIndex {
    /// Builds the index for `table`.
    pub fn build(table: &RouteTable) -> Self {
        let mut exact: HashMap<String, Vec<RuleRef>> = HashMap::new();
        let mut wildcard: HashMap<String, Vec<RuleRef>> = HashMap::new();
        let mut any = Vec::new();
        let mut paths = Vec::with_capacity(table.routes.len());
        let listeners = table.routes.iter().map(|r| r.policy.listeners).collect();
        for (ri, route) in table.routes.iter().enumerate() {
            paths.push(
                route
                    .rules
                    .iter()
                    .map(|r| (r.path.clone(), r.conditions.clone()))
                    .collect(),
            );
            let refs = (0..route.rules.len()).map(|i| (ri, i));
            if route.hostnames.is_empty() {
                any.extend(refs);
                continue;
            }
            for host in route.hostnames.iter() {
                let group = match host {
                    HostMatch::Exact(h) => exact.entry(h.clone()).or_default(),
                    HostMatch::Wildcard(s) => wildcard.entry(s.clone()).or_default(),
                };
                group.extend(refs.clone());
            }
        }
        let mut index = Self {
            exact,
            wildcard: wildcard.into_iter().collect(),
            any,
            paths,
            listeners,
        };
        index
            .wildcard
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let paths = &index.paths;
        let order = |v: &mut Vec<RuleRef>| {
            v.sort_by_key(|&(r, i)| {
                let (path, conditions) = &paths[r][i];
                let (len, exact_first) = match path {
                    PathMatch::Exact(p) => (p.len(), 0u8),
                    PathMatch::Prefix(p) => (p.len(), 1u8),
                };
                let specific = std::cmp::Reverse(conditions.specificity());
                (std::cmp::Reverse(len), exact_first, specific, r, i)
            });
            v.dedup();
        };
        for v in index.exact.values_mut() {
            order(v);
        }
        for (_, v) in index.wildcard.iter_mut() {
            order(v);
        }
        order(&mut index.any);
        index
    }

    /// Finds the rule for a `GET` without headers or query to `host` (any case, port
    /// allowed) and `path` (no query).
    pub fn find(&self, host: &str, path: &str) -> Option<RuleRef> {
        self.find_request(&RequestView {
            host,
            path,
            method: &Method::GET,
            query: None,
            headers: &HeaderMap::new(),
            tls: None,
        })
    }

    /// Finds the rule for a request.
    pub fn find_request(&self, req: &RequestView<'_>) -> Option<RuleRef> {
        let host = normalize_host(req.host);
        let try_group = |refs: &[RuleRef]| {
            refs.iter().copied().find(|&(r, i)| {
                let (path, conditions) = &self.paths[r][i];
                self.listeners[r].serves(req.tls)
                    && path_matches(path, req.path)
                    && conditions.matches(req.method, req.query, req.headers)
            })
        };
        if let Some(refs) = self.exact.get(host.as_ref()) {
            return try_group(refs);
        }
        for (suffix, refs) in &self.wildcard {
            if host.len() > suffix.len() && host.ends_with(suffix.as_str()) {
                return try_group(refs);
            }
        }
        try_group(&self.any)
    }
}

/// Lower-cases the host and removes a port and a trailing dot.
fn normalize_host(host: &str) -> std::borrow::Cow<'_, str> {
    let without_port = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host, |(h, _)| h)
            .trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let trimmed = without_port.trim_end_matches('.');
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

/// Segment-aware prefix match or exact match.
pub fn path_matches(m: &PathMatch, path: &str) -> bool {
    match m {
        PathMatch::Exact(p) => path == p,
        PathMatch::Prefix(p) if p == "/" => true,
        PathMatch::Prefix(p) => {
            path.starts_with(p.as_str())
                && (path.len() == p.len() || path.as_bytes()[p.len()] == b'/')
        }
    }
}

#[cfg(test)]
#[path = "route_match_tests.rs"]
mod tests;
