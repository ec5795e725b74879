//! `nginx.ingress.kubernetes.io/*` annotations onto spec fields. [`CATALOG`] gives each
//! known annotation's verdict; an annotation not in it is refused: unknown means unenforced.

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub use super::catalog::{CATALOG, Verdict, verdict};

use super::catalog::Verdict::{Honoured, Irrelevant, Refused};
use super::catalog::why_refused;
use super::policy::{NGINX_PREFIX, Policy};
use super::values::{boolean, list, seconds, size};

/// Applies every ingress-nginx annotation of `annotations` to `policy`.
pub fn apply(policy: &mut Policy, annotations: &BTreeMap<String, String>, namespace: &str) {
    let get = |name: &str| {
        annotations
            .get(&format!("{NGINX_PREFIX}{name}"))
            .map(|v| v.trim())
    };
    let ctx = Context {
        cookie: get("affinity") == Some("cookie"),
        cors: get("enable-cors").and_then(boolean) == Some(true),
        namespace,
    };
    idle_timeout(policy, &get);
    for (key, value) in annotations {
        let Some(name) = key.strip_prefix(NGINX_PREFIX) else {
            continue;
        };
        match verdict(name) {
            Refused => policy.refuse(key, &why_refused(name)),
            Irrelevant => {}
            Honoured => honoured(policy, &ctx, &get, key, name, value.trim()),
        }
    }
}

/// What the honoured annotations depend on.
struct Context<'n> {
    namespace: &'n str,
    cookie: bool,
    cors: bool,
}

fn idle_timeout<'a>(policy: &mut Policy, get: &dyn Fn(&str) -> Option<&'a str>) {
    let mut best: Option<(u64, &str)> = None;
    for name in ["proxy-read-timeout", "proxy-send-timeout"] {
        if let Some(s) = get(name).and_then(seconds)
            && best.is_none_or(|(b, _)| s > b)
        {
            best = Some((s, name));
        }
    }
    if let Some((secs, name)) = best {
        // nginx closes a proxied connection after this long without any traffic, pings
        // included.
        let key = format!("{NGINX_PREFIX}{name}");
        policy.set(&["timeouts", "idle"], json!(format!("{secs}s")), &key);
        policy.set(&["timeouts", "idleCountsControlFrames"], json!(true), &key);
    }
}

/// One honoured annotation onto the spec; a value it cannot take refuses the Ingress.
fn honoured<'a>(
    policy: &mut Policy,
    ctx: &Context,
    get: &dyn Fn(&str) -> Option<&'a str>,
    key: &str,
    name: &str,
    value: &str,
) {
    let result = match name {
        "proxy-read-timeout" | "proxy-send-timeout" => {
            seconds(value).map(|_| ()).ok_or("expected seconds")
        }
        "proxy-connect-timeout" => seconds(value)
            .map(|s| policy.set(&["timeouts", "connect"], json!(format!("{s}s")), key))
            .ok_or("expected seconds"),
        "affinity" if value == "cookie" => {
            policy.set(&["sessionAffinity", "type"], json!("Cookie"), key);
            Ok(())
        }
        "affinity" => Err("only \"cookie\" is supported"),
        "affinity-mode" => matches!(value, "balanced" | "persistent")
            .then_some(())
            .ok_or("expected balanced or persistent"),
        n if n.starts_with("session-cookie-") => session_cookie(policy, ctx, get, key, name, value),
        "upstream-hash-by" => upstream_hash_by(policy, key, value),
        "load-balance" if value == "round_robin" => {
            policy.set(&["loadBalancing", "algorithm"], json!("RoundRobin"), key);
            Ok(())
        }
        "load-balance" => Err("only round_robin has a wsgate equivalent"),
        n if n.starts_with("auth-") => external_auth(policy, key, name, value),
        "ssl-redirect" | "force-ssl-redirect" => redirect(policy, name, value),
        "backend-protocol" => backend_protocol(policy, ctx, get, key, value),
        "enable-access-log" => boolean(value)
            .map(|on| policy.set(&["accessLog", "enabled"], json!(on), key))
            .ok_or("expected true or false"),
        // Read by backend-protocol; without HTTPS they have no effect in nginx either.
        "proxy-ssl-verify" | "proxy-ssl-secret" | "proxy-ssl-name" | "proxy-ssl-server-name" => {
            Ok(())
        }
        _ => admission(policy, ctx, key, name, value),
    };
    if let Err(why) = result {
        policy.refuse(
            key,
            &format!("{why}; the Ingress is not served rather than served without it"),
        );
    }
}

/// Who may come in and how much: limits, source ranges, CORS origins, body size, aliases.
fn admission(
    policy: &mut Policy,
    ctx: &Context,
    key: &str,
    name: &str,
    value: &str,
) -> Result<(), &'static str> {
    match name {
        "limit-connections" => number(policy, key, value, &["limits", "maxConnectionsPerIP"]),
        "limit-rps" => number(policy, key, value, &["limits", "requestsPerSecondPerIP"]),
        "limit-rpm" => number(policy, key, value, &["limits", "requestsPerMinutePerIP"]),
        "limit-burst-multiplier" => {
            number(policy, key, value, &["limits", "requestBurstMultiplier"])
        }
        "whitelist-source-range" | "allowlist-source-range" => {
            policy.set(&["sourceRanges", "allow"], json!(list(value)), key);
            Ok(())
        }
        "denylist-source-range" => {
            policy.set(&["sourceRanges", "deny"], json!(list(value)), key);
            Ok(())
        }
        "enable-cors" => boolean(value).map(|_| ()).ok_or("expected true or false"),
        "cors-allow-origin" if ctx.cors => cors(policy, key, value),
        "cors-allow-origin" => Ok(()),
        "proxy-body-size" => match size(value) {
            Some(0) => Ok(()),
            Some(b) => {
                policy.set(&["limits", "maxRequestBodyBytes"], json!(b), key);
                Ok(())
            }
            None => Err("expected a size such as 8m"),
        },
        "server-alias" => {
            policy.aliases = list(value);
            Ok(())
        }
        "use-regex" if boolean(value) == Some(false) => Ok(()),
        "use-regex" => Err("regular-expression paths are not supported"),
        _ => Err("not handled"),
    }
}

fn number(policy: &mut Policy, key: &str, value: &str, path: &[&str]) -> Result<(), &'static str> {
    let n: u64 = value.parse().map_err(|_| "expected a whole number")?;
    if n == 0 {
        return Err("must be greater than 0");
    }
    policy.set(path, json!(n), key);
    Ok(())
}

fn session_cookie<'a>(
    policy: &mut Policy,
    ctx: &Context,
    get: &dyn Fn(&str) -> Option<&'a str>,
    key: &str,
    name: &str,
    value: &str,
) -> Result<(), &'static str> {
    if !ctx.cookie {
        // Without cookie affinity nginx ignores them too.
        return Ok(());
    }
    let field = |p: &'static str| ["sessionAffinity", p];
    match name {
        "session-cookie-name" => policy.set(&field("cookieName"), json!(value), key),
        "session-cookie-max-age" => {
            let s = seconds(value).ok_or("expected seconds")?;
            policy.set(&field("ttl"), json!(format!("{s}s")), key);
        }
        "session-cookie-expires" if get("session-cookie-max-age").is_none() => {
            let s = seconds(value).ok_or("expected seconds")?;
            policy.set(&field("ttl"), json!(format!("{s}s")), key);
        }
        "session-cookie-expires" => {}
        "session-cookie-samesite" => {
            let v = match value.to_ascii_lowercase().as_str() {
                "none" => "None",
                "lax" => "Lax",
                "strict" => "Strict",
                _ => return Err("expected None, Lax or Strict"),
            };
            policy.set(&field("sameSite"), json!(v), key);
        }
        "session-cookie-secure" => {
            if boolean(value).ok_or("expected true or false")? {
                policy.set(&field("cookieSecure"), json!(true), key);
            }
        }
        "session-cookie-path" => policy.set(&field("cookiePath"), json!(value), key),
        _ => return Err("not handled"),
    }
    Ok(())
}

fn upstream_hash_by(policy: &mut Policy, key: &str, value: &str) -> Result<(), &'static str> {
    let affinity = if matches!(value, "$remote_addr" | "$binary_remote_addr") {
        json!({"type": "ClientIP"})
    } else if let Some(header) = value.strip_prefix("$http_") {
        json!({"type": "Header", "headerName": header.replace('_', "-")})
    } else if let Some(param) = value.strip_prefix("$arg_") {
        json!({"type": "Query", "queryParam": param})
    } else {
        return Err(
            "only $remote_addr, $binary_remote_addr, $http_<header> and $arg_<param> map onto session affinity",
        );
    };
    policy.set(&["sessionAffinity"], affinity, key);
    Ok(())
}

fn external_auth(
    policy: &mut Policy,
    key: &str,
    name: &str,
    value: &str,
) -> Result<(), &'static str> {
    let field = |p: &'static str| ["auth", "external", p];
    match name {
        "auth-url" if value.starts_with("http://") => policy.set(&field("url"), json!(value), key),
        "auth-url" => return Err("only http:// auth services are supported"),
        "auth-method" => policy.set(&field("method"), json!(value.to_ascii_uppercase()), key),
        "auth-response-headers" => policy.set(&field("responseHeaders"), json!(list(value)), key),
        "auth-signin" => policy.set(&field("signinUrl"), json!(value), key),
        _ => return Err("not handled"),
    }
    Ok(())
}

fn redirect(policy: &mut Policy, name: &str, value: &str) -> Result<(), &'static str> {
    let on = boolean(value).ok_or("expected true or false")?;
    if name == "ssl-redirect" {
        policy.ssl_redirect = Some(on);
    } else {
        policy.force_ssl_redirect = on;
    }
    Ok(())
}

fn backend_protocol<'a>(
    policy: &mut Policy,
    ctx: &Context,
    get: &dyn Fn(&str) -> Option<&'a str>,
    key: &str,
    value: &str,
) -> Result<(), &'static str> {
    match value.to_ascii_uppercase().as_str() {
        "HTTP" => return Ok(()),
        "HTTPS" => {}
        _ => return Err("only HTTP and HTTPS backends are supported"),
    }
    let mut tls = serde_json::Map::new();
    if get("proxy-ssl-verify").and_then(boolean) == Some(true) {
        let secret = get("proxy-ssl-secret").ok_or("proxy-ssl-verify needs proxy-ssl-secret")?;
        // A route reads Secrets of its own namespace only.
        let name = match secret.split_once('/') {
            Some((ns, name)) if ns == ctx.namespace => name,
            Some(_) => return Err("proxy-ssl-secret must be in the Ingress's namespace"),
            None => secret,
        };
        tls.insert("caSecretRef".into(), json!({"name": name}));
        if get("proxy-ssl-server-name").and_then(boolean) == Some(true)
            && let Some(sni) = get("proxy-ssl-name")
        {
            tls.insert("serverName".into(), json!(sni));
        }
    } else {
        // ingress-nginx does not verify HTTPS backends unless proxy-ssl-verify is on.
        tls.insert("insecureSkipVerify".into(), json!(true));
        policy.note(key, "the backend's certificate is not verified (as in ingress-nginx without proxy-ssl-verify)");
    }
    policy.backend_tls = Some(Value::Object(tls));
    Ok(())
}

fn cors(policy: &mut Policy, key: &str, value: &str) -> Result<(), &'static str> {
    let origins = list(value);
    if origins.iter().any(|o| o == "*") {
        // Any origin: nothing to check.
        return Ok(());
    }
    // CORS restricts browsers only; clients without an Origin keep working.
    policy.set(&["origins", "allow"], json!(origins), key);
    policy.set(&["origins", "allowMissingOrigin"], json!(true), key);
    Ok(())
}
