//! An HTTPRoute rule as WebSocketRoute rules: one per match (matches are alternatives), with
//! the rule's filters and weighted backends. What wsgate cannot do is refused by name
//! (`UnsupportedValue`), never skipped.

use serde_json::{Map, Value};
use wsgate_core::spec::{
    BackendSpec, FiltersSpec, HumanDuration, NameValueSpec, PathMatchSpec, PathMatchType, RuleSpec,
    ServicePort, TimeoutsSpec, WeightedServiceRef, parse_duration,
};

use super::reason;
use crate::gateway_api::{HTTPBackendRef, HTTPRouteMatch, HTTPRouteRule, HTTPValueMatch};

/// A rule wsgate cannot serve as written: (reason, message naming the field).
pub type Unsupported = (&'static str, String);

/// A backend reference that cannot be used: (reason, message).
pub type BadRef = (&'static str, String);

/// One HTTPRoute rule, translated.
#[derive(Debug)]
pub struct Translated {
    /// The rule's matches as rules.
    pub rules: Vec<RuleSpec>,
    /// Timeouts of the HTTP exchange up to the response head (`101`).
    pub timeouts: Option<TimeoutsSpec>,
    /// Why no backend of the rule can take requests (every ref unusable), if so.
    pub unusable: Option<(&'static str, String)>,
    /// Backend references that cannot be used (`InvalidKind`), for `ResolvedRefs`.
    pub bad_refs: Vec<(&'static str, String)>,
}

/// Translates rule `i` of a route.
pub fn translate(rule: &HTTPRouteRule, i: usize) -> Result<Translated, Unsupported> {
    let field = format!("spec.rules[{i}]");
    let filters = filters(&rule.filters, &format!("{field}.filters"))?;
    let (backend, bad_refs) = backends(&rule.backend_refs, &format!("{field}.backendRefs"))?;
    let unusable = backend
        .services
        .iter()
        .all(|s| s.weight == Some(0))
        .then(|| {
            let why = bad_refs.first().map_or(reason::BACKEND_NOT_FOUND, |b| b.0);
            (why, "the rule has no usable backend".to_string())
        });
    let default = [HTTPRouteMatch::default()];
    let matches = if rule.matches.is_empty() {
        &default[..]
    } else {
        &rule.matches
    };
    let mut rules = Vec::with_capacity(matches.len());
    for (m, mat) in matches.iter().enumerate() {
        let f = format!("{field}.matches[{m}]");
        rules.push(RuleSpec {
            path: Some(path(mat, &f)?),
            method: mat.method.clone(),
            headers: values(&mat.headers, &format!("{f}.headers"))?,
            query_params: values(&mat.query_params, &format!("{f}.queryParams"))?,
            filters: filters.clone(),
            backend: backend.clone(),
        });
    }
    Ok(Translated {
        rules,
        timeouts: timeouts(rule, &field)?,
        unusable,
        bad_refs,
    })
}

fn unsupported(field: &str, what: impl std::fmt::Display) -> Unsupported {
    (reason::UNSUPPORTED_VALUE, format!("{field}: {what}"))
}

fn path(m: &HTTPRouteMatch, field: &str) -> Result<PathMatchSpec, Unsupported> {
    let p = m.path.clone().unwrap_or_default();
    let kind = match p.type_.as_deref().unwrap_or("PathPrefix") {
        "PathPrefix" => PathMatchType::PathPrefix,
        "Exact" => PathMatchType::Exact,
        other => {
            return Err(unsupported(
                &format!("{field}.path.type"),
                format!("{other} paths are not supported (Exact and PathPrefix are)"),
            ));
        }
    };
    Ok(PathMatchSpec {
        kind,
        value: p.value.unwrap_or_else(|| "/".into()),
    })
}

fn values(list: &[HTTPValueMatch], field: &str) -> Result<Vec<NameValueSpec>, Unsupported> {
    list.iter()
        .enumerate()
        .map(|(i, v)| match v.type_.as_deref().unwrap_or("Exact") {
            "Exact" => Ok(NameValueSpec {
                name: v.name.clone(),
                value: v.value.clone(),
            }),
            other => Err(unsupported(
                &format!("{field}[{i}].type"),
                format!("{other} matches are not supported (Exact is)"),
            )),
        })
        .collect()
}

/// The rule's filters as one [`FiltersSpec`]; unknown filter types and fields are refused.
fn filters(list: &[Value], field: &str) -> Result<Option<FiltersSpec>, Unsupported> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut merged = Map::new();
    for (i, f) in list.iter().enumerate() {
        let kind = f.get("type").and_then(Value::as_str).unwrap_or_default();
        let key = match kind {
            "RequestHeaderModifier" => "requestHeaderModifier",
            "ResponseHeaderModifier" => "responseHeaderModifier",
            "RequestRedirect" => "requestRedirect",
            "URLRewrite" => "urlRewrite",
            other => {
                return Err(unsupported(
                    &format!("{field}[{i}].type"),
                    format!(
                        "filter {other} is not supported (RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect and URLRewrite are)"
                    ),
                ));
            }
        };
        let body = f.get(key).cloned().unwrap_or(Value::Object(Map::new()));
        if merged.insert(key.to_string(), body).is_some() {
            return Err(unsupported(
                &format!("{field}[{i}]"),
                format!("{kind} appears twice"),
            ));
        }
    }
    serde_json::from_value(Value::Object(merged))
        .map(Some)
        .map_err(|e| unsupported(field, e))
}

/// Weighted Service backends; refs of other kinds get weight 0 and are reported.
fn backends(
    refs: &[HTTPBackendRef],
    field: &str,
) -> Result<(BackendSpec, Vec<BadRef>), Unsupported> {
    let mut services = Vec::with_capacity(refs.len());
    let mut bad = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if !r.filters.is_empty() {
            return Err(unsupported(
                &format!("{f}.filters"),
                "per-backend filters are not supported",
            ));
        }
        let (group, kind) = (
            r.group.as_deref().unwrap_or(""),
            r.kind.as_deref().unwrap_or("Service"),
        );
        let port = r.port.and_then(|p| u16::try_from(p).ok());
        let usable = group.is_empty() && kind == "Service" && port.is_some();
        if !usable {
            let (why, msg) = if port.is_none() && kind == "Service" {
                (
                    reason::BACKEND_NOT_FOUND,
                    format!("{f}: a Service backend needs a port"),
                )
            } else {
                (
                    reason::INVALID_KIND,
                    format!("{f}: {group}/{kind} is not a Service"),
                )
            };
            bad.push((why, msg));
        }
        let weight = r.weight.map(|w| u32::try_from(w).unwrap_or(0)).unwrap_or(1);
        services.push(WeightedServiceRef {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            port: ServicePort::Number(port.unwrap_or(0)),
            weight: Some(if usable { weight } else { 0 }),
        });
    }
    if services.is_empty() {
        // A rule without backends (a redirect, or a 500 as the spec asks): nothing to resolve.
        services.push(WeightedServiceRef {
            name: String::new(),
            namespace: None,
            port: ServicePort::Number(0),
            weight: Some(0),
        });
    }
    let backend = BackendSpec {
        services,
        ..BackendSpec::default()
    };
    Ok((backend, bad))
}

/// `timeouts.request` and `timeouts.backendRequest` bound the exchange up to the response
/// head: the backend's answer to a handshake or request. An established WebSocket is never
/// cut by them (its idle timeout is a WebSocketPolicy's).
fn timeouts(rule: &HTTPRouteRule, field: &str) -> Result<Option<TimeoutsSpec>, Unsupported> {
    let Some(t) = &rule.timeouts else {
        return Ok(None);
    };
    let parse = |v: &Option<String>, name: &str| {
        v.as_deref()
            .map(|s| {
                parse_duration(s).map_err(|e| unsupported(&format!("{field}.timeouts.{name}"), e))
            })
            .transpose()
    };
    let limits = [
        parse(&t.request, "request")?,
        parse(&t.backend_request, "backendRequest")?,
    ];
    // Zero means no timeout in Gateway API: wsgate then keeps its own defaults.
    let shortest = limits.into_iter().flatten().filter(|d| !d.is_zero()).min();
    Ok(shortest.map(|d| TimeoutsSpec {
        handshake: Some(HumanDuration(d)),
        request: Some(HumanDuration(d)),
        ..TimeoutsSpec::default()
    }))
}
