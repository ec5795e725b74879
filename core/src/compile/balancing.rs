//! Validation and defaults of `loadBalancing` and `sessionAffinity`.

use std::time::Duration;

use crate::spec::{AffinityType, Algorithm, RebalanceSpec, RouteSpec, SessionAffinitySpec};
use crate::table::{Affinity, Balancing, HashKey, Rebalance};

/// Cookie name used when `cookieName` is not given.
pub const DEFAULT_COOKIE_NAME: &str = "wsgate-affinity";
/// Cookie lifetime used when `ttl` is not given.
const DEFAULT_COOKIE_TTL: Duration = Duration::from_secs(3600);
/// Bounded-load factor used when `boundedLoadFactor` is not given.
pub const DEFAULT_BOUNDED_LOAD: f64 = 1.25;
/// Rebalancing defaults: tolerated imbalance, window, close code (service restart) and
/// rate cap.
const DEFAULT_REBALANCE: Rebalance = Rebalance {
    max_imbalance: 1.2,
    window: Duration::from_secs(60),
    close_code: 1012,
    max_closes_per_second: 50,
    move_sticky_sessions: false,
};

type FieldResult<T> = Result<T, (String, String)>;

/// The route's balancing settings with defaults applied; errors name the offending field.
pub fn compile_balancing(spec: &RouteSpec) -> FieldResult<Balancing> {
    let lb = spec.load_balancing.clone().unwrap_or_default();
    Ok(Balancing {
        algorithm: lb.algorithm,
        slow_start: lb.slow_start.map_or(Duration::ZERO, |d| d.0),
        rebalance: lb.rebalance.as_ref().map(compile_rebalance).transpose()?,
    })
}

fn compile_rebalance(r: &RebalanceSpec) -> FieldResult<Rebalance> {
    let field =
        |name: &str, why: String| Err((format!("spec.loadBalancing.rebalance.{name}"), why));
    let d = DEFAULT_REBALANCE;
    let max_imbalance = r.max_imbalance.unwrap_or(d.max_imbalance);
    if !(max_imbalance.is_finite() && max_imbalance > 1.0) {
        return field(
            "maxImbalance",
            format!(
                "{max_imbalance} must be greater than 1 (1.2 tolerates 20 % above the fair share)"
            ),
        );
    }
    let window = r.window.map_or(d.window, |w| w.0);
    if window.is_zero() {
        return field("window", "must be greater than 0".into());
    }
    let close_code = r.close_code.unwrap_or(d.close_code);
    if !matches!(close_code, 1000 | 1001 | 1012 | 1013 | 3000..=4999) {
        return field(
            "closeCode",
            format!(
                "{close_code} does not ask a client to reconnect (use 1000, 1001, 1012, 1013 or 3000-4999)"
            ),
        );
    }
    let max_closes_per_second = r.max_closes_per_second.unwrap_or(d.max_closes_per_second);
    if max_closes_per_second == 0 {
        return field("maxClosesPerSecond", "must be greater than 0".into());
    }
    Ok(Rebalance {
        max_imbalance,
        window,
        close_code,
        max_closes_per_second,
        move_sticky_sessions: r.move_sticky_sessions.unwrap_or(false),
    })
}

/// The route's affinity with defaults applied; errors name the offending field.
pub fn compile_affinity(spec: &RouteSpec) -> FieldResult<Affinity> {
    let Some(a) = &spec.session_affinity else {
        return Ok(Affinity::None);
    };
    check_unused(a)?;
    match a.kind {
        AffinityType::None => Ok(Affinity::None),
        AffinityType::Cookie => cookie(a),
        AffinityType::Header => {
            let name = required(a.header_name.as_deref(), "headerName")?;
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err((
                    "spec.sessionAffinity.headerName".into(),
                    format!("{name:?} is not a header name"),
                ));
            }
            hash(a, HashKey::Header(name.to_ascii_lowercase().into()))
        }
        AffinityType::Query => {
            let name = required(a.query_param.as_deref(), "queryParam")?;
            hash(a, HashKey::Query(name.into()))
        }
        AffinityType::ClientIp => hash(a, HashKey::ClientIp),
        AffinityType::SocketIo => Ok(Affinity::SocketIo {
            ttl: match a.ttl {
                Some(d) if d.0.is_zero() => {
                    return Err((
                        "spec.sessionAffinity.ttl".into(),
                        "must be greater than 0".into(),
                    ));
                }
                other => other.map(|d| d.0),
            },
        }),
    }
}

/// Refuses options the affinity type does not use (a typo must not pass silently).
fn check_unused(a: &SessionAffinitySpec) -> FieldResult<()> {
    let unused = |name: &str, set: bool| -> FieldResult<()> {
        if set {
            Err((
                format!("spec.sessionAffinity.{name}"),
                format!("is not used by type {:?}", a.kind),
            ))
        } else {
            Ok(())
        }
    };
    let hashing = matches!(
        a.kind,
        AffinityType::Header | AffinityType::Query | AffinityType::ClientIp
    );
    let not = |kind: AffinityType| a.kind != kind;
    unused(
        "cookieName",
        a.cookie_name.is_some() && not(AffinityType::Cookie),
    )?;
    unused(
        "sameSite",
        a.same_site.is_some() && not(AffinityType::Cookie),
    )?;
    unused(
        "headerName",
        a.header_name.is_some() && not(AffinityType::Header),
    )?;
    unused(
        "queryParam",
        a.query_param.is_some() && not(AffinityType::Query),
    )?;
    unused(
        "boundedLoadFactor",
        a.bounded_load_factor.is_some() && !hashing,
    )
}

/// Consistent hashing needs a key source; the algorithm alone hashes the client address.
pub fn default_hash_affinity(balancing: &Balancing, affinity: Affinity) -> Affinity {
    match (balancing.algorithm, &affinity) {
        (Algorithm::ConsistentHash, Affinity::None) => Affinity::Hash {
            key: HashKey::ClientIp,
            bound: Some(DEFAULT_BOUNDED_LOAD),
        },
        _ => affinity,
    }
}

fn required<'a>(value: Option<&'a str>, name: &str) -> FieldResult<&'a str> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err((
            format!("spec.sessionAffinity.{name}"),
            "is required for this affinity type".into(),
        )),
    }
}

fn cookie(a: &SessionAffinitySpec) -> FieldResult<Affinity> {
    let name = a.cookie_name.as_deref().unwrap_or(DEFAULT_COOKIE_NAME);
    // RFC 6265 cookie-name is an HTTP token.
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err((
            "spec.sessionAffinity.cookieName".into(),
            format!("{name:?} is not a valid cookie name"),
        ));
    }
    let ttl = a.ttl.map_or(DEFAULT_COOKIE_TTL, |d| d.0);
    Ok(Affinity::Cookie {
        name: name.into(),
        ttl: (!ttl.is_zero()).then_some(ttl),
        same_site: a.same_site.unwrap_or_default(),
        always_secure: a.cookie_secure.unwrap_or(false),
        path: match &a.cookie_path {
            None => None,
            Some(p)
                if p.starts_with('/') && !p.bytes().any(|b| b.is_ascii_control() || b == b';') =>
            {
                Some(p.as_str().into())
            }
            Some(p) => {
                return Err((
                    "spec.sessionAffinity.cookiePath".into(),
                    format!("{p:?} must start with / and hold no ';' or control characters"),
                ));
            }
        },
    })
}

fn hash(a: &SessionAffinitySpec, key: HashKey) -> FieldResult<Affinity> {
    let bound = match a.bounded_load_factor {
        None => Some(DEFAULT_BOUNDED_LOAD),
        Some(0.0) => None,
        Some(f) if f.is_finite() && f >= 1.0 => Some(f),
        Some(f) => {
            return Err((
                "spec.sessionAffinity.boundedLoadFactor".into(),
                format!("{f} must be 0 (unbounded) or at least 1.0"),
            ));
        }
    };
    if a.ttl.is_some() {
        return Err((
            "spec.sessionAffinity.ttl".into(),
            "is not used by hashing affinity types".into(),
        ));
    }
    Ok(Affinity::Hash { key, bound })
}

#[cfg(test)]
#[path = "balancing_tests.rs"]
mod tests;
