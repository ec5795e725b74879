//! Validates a [`RouteSpec`] and compiles it into a table [`Route`], applying defaults.
//! Shared by the routes-file loader and the controller, so both reject the same things
//! with the same messages.

pub mod access_log;
pub mod balancing;
pub mod http;
pub mod security;
pub mod shared;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::spec::{BackendSpec, DrainSpec, PathMatchType, RouteSpec, WebSocketProtocol};
use crate::table::{
    Backend, Drain, Endpoint, HostMatch, Keepalive, PathMatch, Route, RouteId, RoutePolicy, Rule,
};

/// A rejected field: `chat: spec.rules[0].path.value: must start with /`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{document}: {field}: {message}")]
pub struct FieldError {
    /// Document (route) name.
    pub document: String,
    /// Dotted field path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// Builds an error for `document` at `field`.
    pub fn new(document: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            document: document.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Turns a rule's backend spec into a table backend; `field` is its path for messages.
pub type ResolveBackend<'a> = dyn Fn(&BackendSpec, &str) -> Result<Backend, String> + 'a;

/// Compiles one route. `resolve` decides how a backend spec becomes endpoints. TLS file
/// names are refused and `spec.tls.secretName` is left to the caller (`Route::tls` stays
/// `None`); see [`compile_route_with`].
pub fn compile_route(
    id: RouteId,
    spec: &RouteSpec,
    resolve: &ResolveBackend<'_>,
) -> Result<Route, FieldError> {
    compile_route_with(id, spec, resolve, &tls::NoFiles)
}

/// Compiles one route, reading certificate and CA material from `material`.
pub fn compile_route_with(
    id: RouteId,
    spec: &RouteSpec,
    resolve: &ResolveBackend<'_>,
    material: &dyn tls::TlsMaterial,
) -> Result<Route, FieldError> {
    let doc = id.name.clone();
    let err = |field: String, message: String| FieldError::new(&doc, field, message);

    let mut hostnames = Vec::with_capacity(spec.hostnames.len());
    for (i, host) in spec.hostnames.iter().enumerate() {
        hostnames.push(parse_host(host).map_err(|m| err(format!("spec.hostnames[{i}]"), m))?);
    }
    if spec.rules.is_empty() {
        return Err(err(
            "spec.rules".into(),
            "at least one rule is required".into(),
        ));
    }
    let mut rules = Vec::with_capacity(spec.rules.len());
    for (i, rule) in spec.rules.iter().enumerate() {
        let path = match &rule.path {
            None => PathMatch::Prefix("/".into()),
            Some(p) => {
                validate_path(&p.value)
                    .map_err(|m| err(format!("spec.rules[{i}].path.value"), m))?;
                match p.kind {
                    PathMatchType::PathPrefix => PathMatch::Prefix(normalize_prefix(&p.value)),
                    PathMatchType::Exact => PathMatch::Exact(p.value.clone()),
                }
            }
        };
        let rule_field = format!("spec.rules[{i}]");
        let conditions = http::compile_conditions(rule, &rule_field).map_err(|(f, m)| err(f, m))?;
        let filters =
            http::compile_filters(rule, &path, &rule_field).map_err(|(f, m)| err(f, m))?;
        let field = format!("spec.rules[{i}].backend");
        let backend = resolve(&rule.backend, &field).map_err(|m| err(field.clone(), m))?;
        let upstream_tls = tls::compile_upstream_tls(rule.backend.tls.as_ref(), &field, material)
            .map_err(|(f, m)| err(f, m))?;
        rules.push(Rule {
            path,
            conditions: Arc::new(conditions),
            filters: Arc::new(filters),
            backend,
            upstream_tls,
        });
    }
    let mut policy = compile_policy(spec).map_err(|(f, m)| err(f, m))?;
    let (cert, redirect_http) =
        tls::compile_route_tls(spec, material).map_err(|(f, m)| err(f, m))?;
    policy.redirect_http = redirect_http;
    policy.redirect_upgrades =
        redirect_http && spec.tls.as_ref().and_then(|t| t.redirect_upgrades) == Some(true);
    policy.security = Arc::new(
        security::compile_security(&id, spec, material.files_allowed())
            .map_err(|(f, m)| err(f, m))?,
    );
    Ok(Route {
        id,
        hostnames: hostnames.into(),
        rules: rules.into(),
        policy: Arc::new(policy),
        tls: cert,
    })
}

fn compile_policy(spec: &RouteSpec) -> Result<RoutePolicy, (String, String)> {
    let mut policy = RoutePolicy::default();
    compile_timeouts(spec, &mut policy)?;
    if let Some(k) = &spec.keepalive {
        let defaults = policy.keepalive.unwrap_or(Keepalive {
            interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(10),
        });
        let interval = k.ping_interval.map_or(defaults.interval, |d| d.0);
        let pong_timeout = match k.pong_timeout {
            Some(d) => positive(d.0, "spec.keepalive.pongTimeout")?,
            None => defaults.pong_timeout,
        };
        policy.keepalive = (!interval.is_zero()).then_some(Keepalive {
            interval,
            pong_timeout,
        });
    }
    if let Some(max) = spec.limits.as_ref().and_then(|l| l.max_message_bytes) {
        if max == 0 {
            return Err((
                "spec.limits.maxMessageBytes".into(),
                "must be greater than 0".into(),
            ));
        }
        policy.max_message_bytes = max;
    }
    if let Some(d) = &spec.drain {
        policy.drain = compile_drain(d, policy.drain)?;
    }
    policy.access_log_percent = access_log::compile_route_access_log(spec.access_log.as_ref())?;
    policy.strict_protocol = spec.protocol != Some(WebSocketProtocol::Passthrough);
    policy.balancing = balancing::compile_balancing(spec)?;
    policy.affinity =
        balancing::default_hash_affinity(&policy.balancing, balancing::compile_affinity(spec)?);
    Ok(policy)
}

fn compile_timeouts(spec: &RouteSpec, policy: &mut RoutePolicy) -> Result<(), (String, String)> {
    let Some(t) = &spec.timeouts else {
        return Ok(());
    };
    if let Some(d) = t.handshake {
        policy.handshake_timeout = positive(d.0, "spec.timeouts.handshake")?;
    }
    if let Some(d) = t.connect {
        policy.connect_timeout = positive(d.0, "spec.timeouts.connect")?;
    }
    if let Some(d) = t.request {
        policy.request_timeout = positive(d.0, "spec.timeouts.request")?;
    }
    if let Some(d) = t.idle {
        policy.idle_timeout = (!d.0.is_zero()).then_some(d.0);
    }
    policy.idle_counts_control = t.idle_counts_control_frames.unwrap_or(false);
    Ok(())
}

fn compile_drain(d: &DrainSpec, default: Drain) -> Result<Drain, (String, String)> {
    let close_code = d.close_code.unwrap_or(default.close_code);
    if !valid_close_code(close_code) {
        return Err((
            "spec.drain.closeCode".into(),
            format!(
                "{close_code} is not a close code an endpoint may send (use 1000, 1001, 1012, 1013 or 4000-4999)"
            ),
        ));
    }
    Ok(Drain {
        close_code,
        period: d.period.map_or(default.period, |p| p.0),
    })
}

fn positive(d: Duration, field: &str) -> Result<Duration, (String, String)> {
    if d.is_zero() {
        Err((field.into(), "must be greater than 0".into()))
    } else {
        Ok(d)
    }
}

/// Close codes a proxy may put on the wire (RFC 6455 7.4, IANA registry, private range).
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014) || (3000..=4999).contains(&code)
}

/// Parses `chat.example.com` or `*.example.com` into a host match.
pub fn parse_host(host: &str) -> Result<HostMatch, String> {
    let lower = host.trim().to_ascii_lowercase();
    let (wildcard, name) = match lower.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    if name.is_empty() || name.len() > 253 {
        return Err(format!("{host:?} is not a valid host name"));
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !name.split('.').all(valid_label) {
        return Err(format!(
            "{host:?} is not a valid host name (letters, digits, '-' and '.', optionally starting with '*.')"
        ));
    }
    Ok(if wildcard {
        HostMatch::Wildcard(format!(".{name}"))
    } else {
        HostMatch::Exact(name.to_string())
    })
}

fn validate_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("must start with /".into());
    }
    if path
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'?' || b == b'#')
    {
        return Err("must not contain spaces, control characters, '?' or '#'".into());
    }
    Ok(())
}

/// `/chat/` and `/chat` are the same prefix; keep `/` as is.
fn normalize_prefix(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    }
}

/// The routes-file resolver: static `addresses`, no Services.
pub fn resolve_static_backend(spec: &BackendSpec, _field: &str) -> Result<Backend, String> {
    if spec.service.is_some() || !spec.services.is_empty() {
        return Err(
            "service backends need the controller; in a routes file use addresses: [\"ip:port\"]"
                .into(),
        );
    }
    let Some(addresses) = &spec.addresses else {
        return Err("addresses is required (a list of \"ip:port\")".into());
    };
    if addresses.is_empty() {
        return Err("addresses must not be empty".into());
    }
    let mut endpoints = Vec::with_capacity(addresses.len());
    for (i, text) in addresses.iter().enumerate() {
        let addr = parse_endpoint_addr(text).map_err(|m| format!("addresses[{i}]: {m}"))?;
        if endpoints.iter().any(|e: &Endpoint| e.addr == addr) {
            return Err(format!("addresses[{i}]: {text} is listed twice"));
        }
        endpoints.push(Endpoint { addr, weight: 1 });
    }
    Ok(Backend::Endpoints(endpoints.into()))
}

/// Parses `ip:port`, `[v6]:port` or `localhost:port`. Host names are not resolved.
pub fn parse_endpoint_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return check_port(addr, text);
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{text:?}: invalid port"))?;
        return check_port(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port), text);
    }
    Err(format!(
        "{text:?} is not an ip:port address (host names are not resolved)"
    ))
}

fn check_port(addr: SocketAddr, text: &str) -> Result<SocketAddr, String> {
    if addr.port() == 0 {
        Err(format!("{text:?}: port must not be 0"))
    } else {
        Ok(addr)
    }
}

#[cfg(test)]
mod tests;
