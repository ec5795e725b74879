//! Compiles the security parts of a route spec (`origins`, `auth`, `limits`) and the
//! listener settings of a `ProxyConfig` into table data, with defaults and field errors.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use http::Uri;

use crate::compile::shared::check_replay_store;
use crate::spec::{
    ExternalAuthSpec, LimitScope, LimitsSpec, OriginsSpec, ProxyConfigSpec, RouteSpec,
    TicketPlacement, TicketSpec,
};
use crate::table::RouteId;
use crate::table::cidr::Cidr;
use crate::table::origin::{OriginPolicy, Wildcard, render, split_origin};
use crate::table::security::{
    ConnLimits, ExternalAuth, HeadLimits, ListenerOptions, RequestRate, SecurityPolicy,
    SourceRanges,
};
use crate::table::ticket::{KeyMaterial, TicketKeys, TicketPolicy};

type FieldResult<T> = Result<T, (String, String)>;

fn field(name: &str, message: impl Into<String>) -> (String, String) {
    (name.to_string(), message.into())
}

/// The security policy of route `id`. `files`: whether key files named in the spec may be
/// read (a routes file); in a cluster they are refused, so no route author can make wsgate
/// open a path.
pub fn compile_security(
    id: &RouteId,
    spec: &RouteSpec,
    files: bool,
) -> FieldResult<SecurityPolicy> {
    let mut policy = SecurityPolicy::default();
    if let Some(o) = &spec.origins {
        policy.origins = Some(compile_origins(o)?);
    }
    if let Some(l) = &spec.limits {
        policy.limits = compile_limits(l)?;
        policy.max_request_body = l.max_request_body_bytes.filter(|b| *b > 0);
    }
    if let Some(r) = &spec.source_ranges {
        policy.sources = SourceRanges {
            allow: cidrs(&r.allow, "allow")?,
            deny: cidrs(&r.deny, "deny")?,
        };
    }
    if let Some(a) = &spec.auth {
        if let Some(t) = a.first_message_timeout {
            if t.0.is_zero() {
                return Err(field(
                    "spec.auth.firstMessageTimeout",
                    "must be greater than 0",
                ));
            }
            policy.first_message_timeout = t.0;
        }
        if let Some(t) = &a.ticket {
            policy.ticket = Some(Arc::new(compile_ticket(id, t, files)?));
        }
        if let Some(e) = &a.external {
            policy.external = Some(Arc::new(compile_external(e)?));
        }
    }
    Ok(policy)
}

/// Connection, handshake-rate and request-rate limits.
fn compile_limits(l: &LimitsSpec) -> FieldResult<ConnLimits> {
    let nonzero = |v: Option<u32>, name: &str| match v {
        Some(0) => Err(field(name, "must be greater than 0")),
        v => Ok(v),
    };
    let rate = nonzero(
        l.handshakes_per_second_per_ip,
        "spec.limits.handshakesPerSecondPerIP",
    )?;
    let burst = nonzero(l.handshake_burst, "spec.limits.handshakeBurst")?;
    let rps = nonzero(
        l.requests_per_second_per_ip,
        "spec.limits.requestsPerSecondPerIP",
    )?;
    let rpm = nonzero(
        l.requests_per_minute_per_ip,
        "spec.limits.requestsPerMinutePerIP",
    )?;
    let multiplier = nonzero(
        l.request_burst_multiplier,
        "spec.limits.requestBurstMultiplier",
    )?
    .unwrap_or(5);
    let bucket = |n: u32, per: f64, unit: char| RequestRate {
        per_second: f64::from(n) / per,
        burst: n.saturating_mul(multiplier),
        shown: (n, unit),
    };
    Ok(ConnLimits {
        per_ip: nonzero(l.max_connections_per_ip, "spec.limits.maxConnectionsPerIP")?,
        per_route: nonzero(l.max_connections, "spec.limits.maxConnections")?,
        rate: rate.map(|r| (r, burst.unwrap_or(r))),
        requests: [
            rps.map(|n| bucket(n, 1.0, 's')),
            rpm.map(|n| bucket(n, 60.0, 'm')),
        ],
        cluster: l.scope == Some(LimitScope::Cluster),
    })
}

/// The CIDRs of `spec.sourceRanges.<name>`.
fn cidrs(list: &[String], name: &str) -> FieldResult<Arc<[Cidr]>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        out.push(
            c.parse::<Cidr>()
                .map_err(|m| field(&format!("spec.sourceRanges.{name}[{i}]"), m))?,
        );
    }
    Ok(out.into())
}

/// The Origin policy of `spec`; the error names the offending entry.
pub fn compile_origins(spec: &OriginsSpec) -> FieldResult<OriginPolicy> {
    let mut policy = OriginPolicy {
        same_host: spec.same_host,
        allow_missing: spec.allow_missing_origin,
        ..OriginPolicy::default()
    };
    for (i, entry) in spec.allow.iter().enumerate() {
        let bad = || {
            (
                format!("spec.origins.allow[{i}]"),
                format!(
                    "{entry:?} is not an origin (scheme://host[:port], optionally https://*.example.com)"
                ),
            )
        };
        let (scheme, host, port) = split_origin(entry).ok_or_else(bad)?;
        match host.strip_prefix('*') {
            Some(suffix)
                if suffix.starts_with('.') && suffix.len() > 1 && !suffix[1..].contains('*') =>
            {
                policy.wildcards.push(Wildcard {
                    scheme,
                    suffix: suffix.to_string(),
                    port,
                });
            }
            Some(_) => return Err(bad()),
            None if host.contains('*') => return Err(bad()),
            None => policy.exact.push(render(&scheme, &host, port)),
        }
    }
    if policy.exact.is_empty() && policy.wildcards.is_empty() && !policy.same_host {
        return Err((
            "spec.origins".into(),
            "allow at least one origin or set sameHost: true".into(),
        ));
    }
    Ok(policy)
}

/// The external-auth policy of `spec`; only `http://` URLs.
fn compile_external(spec: &ExternalAuthSpec) -> FieldResult<ExternalAuth> {
    let bad = |m: &str| {
        (
            "spec.auth.external.url".to_string(),
            format!("{:?}: {m}", spec.url),
        )
    };
    let uri: Uri = spec.url.parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("must be an http:// URL"));
    }
    let host = uri.host().ok_or_else(|| bad("has no host"))?;
    let authority = format!("{host}:{}", uri.port_u16().unwrap_or(80));
    let names = |list: &[String],
                 field: &str,
                 default: &[&str]|
     -> Result<Vec<HeaderName>, (String, String)> {
        let list: Vec<&str> = if list.is_empty() {
            default.to_vec()
        } else {
            list.iter().map(String::as_str).collect()
        };
        list.iter()
            .map(|n| {
                HeaderName::from_bytes(n.as_bytes())
                    .map_err(|_| (field.to_string(), format!("{n:?} is not a header name")))
            })
            .collect()
    };
    Ok(ExternalAuth {
        authority,
        path: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
        forward_headers: names(
            &spec.forward_headers,
            "spec.auth.external.forwardHeaders",
            &["cookie", "authorization"],
        )?,
        response_headers: names(
            &spec.response_headers,
            "spec.auth.external.responseHeaders",
            &[],
        )?,
        timeout: spec.timeout.map_or(Duration::from_secs(2), |t| t.0),
        method: match &spec.method {
            None => None,
            Some(m) => Some(http::Method::from_bytes(m.as_bytes()).map_err(|_| {
                field(
                    "spec.auth.external.method",
                    format!("{m:?} is not a method"),
                )
            })?),
        },
        signin_url: match &spec.signin_url {
            None => None,
            Some(u)
                if u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/') =>
            {
                Some(u.clone())
            }
            Some(u) => {
                return Err(field(
                    "spec.auth.external.signinUrl",
                    format!("{u:?} must be an http(s):// URL or a path"),
                ));
            }
        },
    })
}

fn read_file(path: &str, name: &str) -> FieldResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| field(name, format!("{path}: {e}")))
}

const KEY_FIELDS: &str = "key, keyFile, secretRef, publicKey, publicKeyFile, jwks or jwksFile";

fn key_material(t: &TicketSpec, files: bool) -> FieldResult<KeyMaterial> {
    let f = "spec.auth.ticket";
    let given = [
        t.key.is_some(),
        t.key_file.is_some(),
        t.secret_ref.is_some(),
        t.public_key.is_some(),
        t.public_key_file.is_some(),
        t.jwks.is_some(),
        t.jwks_file.is_some(),
    ];
    match given.iter().filter(|g| **g).count() {
        0 => return Err(field(f, format!("one of {KEY_FIELDS} is required"))),
        1 => {}
        _ => return Err(field(f, format!("give only one of {KEY_FIELDS}"))),
    }
    if !files {
        let named = [
            (&t.key_file, "keyFile"),
            (&t.public_key_file, "publicKeyFile"),
            (&t.jwks_file, "jwksFile"),
        ];
        if let Some((_, name)) = named.iter().find(|(v, _)| v.is_some()) {
            return Err(field(
                &format!("spec.auth.ticket.{name}"),
                "files are for routes files; in a cluster use secretRef (a Secret labelled wsgate.dev/secret)",
            ));
        }
    }
    if t.secret_ref.is_some() {
        return Err(field(
            "spec.auth.ticket.secretRef",
            "Secrets are resolved by the controller; in a routes file use keyFile",
        ));
    }
    Ok(if let Some(k) = &t.key {
        KeyMaterial::Secret(k.as_bytes().to_vec())
    } else if let Some(p) = &t.key_file {
        let mut bytes = read_file(p, "spec.auth.ticket.keyFile")?;
        // A trailing newline from `echo > file` is not part of the key.
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        KeyMaterial::Secret(bytes)
    } else if let Some(pem) = &t.public_key {
        KeyMaterial::Pem(pem.as_bytes().to_vec())
    } else if let Some(jwks) = &t.jwks {
        KeyMaterial::Jwks(jwks.as_bytes().to_vec())
    } else if let Some(p) = &t.public_key_file {
        KeyMaterial::Pem(read_file(p, "spec.auth.ticket.publicKeyFile")?)
    } else {
        let p = t.jwks_file.as_deref().unwrap_or_default();
        KeyMaterial::Jwks(read_file(p, "spec.auth.ticket.jwksFile")?)
    })
}

fn compile_ticket(id: &RouteId, t: &TicketSpec, files: bool) -> FieldResult<TicketPolicy> {
    let keys = TicketKeys::new(t.algorithm, key_material(t, files)?)
        .map_err(|m| field("spec.auth.ticket", m))?;
    let from = if t.from.is_empty() {
        vec![TicketPlacement::Query, TicketPlacement::Subprotocol]
    } else {
        t.from.clone()
    };
    if let Some(url) = &t.replay_store {
        check_replay_store(url)?;
    }
    let mut claim_headers = vec![(
        "sub".to_string(),
        HeaderName::from_static("x-wsgate-claim-sub"),
    )];
    for (i, claim) in t.claim_headers.iter().enumerate() {
        let name = format!("x-wsgate-claim-{}", claim.to_ascii_lowercase());
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            field(
                &format!("spec.auth.ticket.claimHeaders[{i}]"),
                format!("{claim:?} cannot be a header name"),
            )
        })?;
        if claim != "sub" {
            claim_headers.push((claim.clone(), header));
        }
    }
    let query_param = t.query_param.clone().unwrap_or_else(|| "ticket".into());
    if query_param.is_empty() || query_param.contains(['&', '=', '?', '#']) {
        return Err(field(
            "spec.auth.ticket.queryParam",
            "must be a plain parameter name",
        ));
    }
    Ok(TicketPolicy {
        keys,
        from,
        query_param,
        subprotocol_prefix: t
            .subprotocol_prefix
            .clone()
            .unwrap_or_else(|| "ticket.".into()),
        audience: t.audience.clone().unwrap_or_else(|| id.to_string()),
        require_audience: t.require_audience,
        bind_client_ip: t.bind_client_ip,
        single_use: t.single_use.unwrap_or(true),
        max_age: t.max_age.map(|d| d.0),
        leeway: t.leeway.map_or(Duration::from_secs(5), |d| d.0),
        replay_store: t.replay_store.clone(),
        claim_headers,
        forward_first_message: t.forward_first_message,
    })
}

/// The listener settings of a `ProxyConfig`.
pub fn compile_listener(spec: &ProxyConfigSpec) -> FieldResult<ListenerOptions> {
    let mut trusted = Vec::with_capacity(spec.trusted_proxies.len());
    for (i, c) in spec.trusted_proxies.iter().enumerate() {
        trusted.push(
            c.parse::<Cidr>()
                .map_err(|m| field(&format!("spec.trustedProxies[{i}]"), m))?,
        );
    }
    let mut head = HeadLimits::default();
    if let Some(l) = &spec.limits {
        if let Some(b) = l.max_request_head_bytes {
            if !(1024..=1 << 20).contains(&b) {
                return Err(field(
                    "spec.limits.maxRequestHeadBytes",
                    "must be between 1024 and 1048576",
                ));
            }
            head.max_bytes = b as usize;
        }
        if let Some(n) = l.max_request_headers {
            if !(8..=1000).contains(&n) {
                return Err(field(
                    "spec.limits.maxRequestHeaders",
                    "must be between 8 and 1000",
                ));
            }
            head.max_headers = n as usize;
        }
        if let Some(t) = l.header_read_timeout {
            if t.0.is_zero() {
                return Err(field(
                    "spec.limits.headerReadTimeout",
                    "must be greater than 0",
                ));
            }
            head.read_timeout = t.0;
        }
    }
    Ok(ListenerOptions {
        proxy_protocol: spec.listen.proxy_protocol,
        trusted_proxies: trusted.into(),
        head,
        access_log: super::access_log::compile_access_log(spec.access_log.as_ref())?,
        cookie_secret: Default::default(),
    })
}
