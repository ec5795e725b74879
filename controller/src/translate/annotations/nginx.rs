//! `nginx.ingress.kubernetes.io/*` annotations. [`CATALOG`] lists every annotation wsgate
//! knows with its verdict: honoured (same meaning), irrelevant (tunes an nginx mechanism
//! wsgate does not have; no effect on what is admitted or where it goes) or refused. An
//! annotation not in the catalog is refused too: unknown means unenforced.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::values::{boolean, list, seconds, size};
use super::{NGINX_PREFIX, Policy};

/// What wsgate does with an annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Mapped onto a spec field with the same meaning.
    Honoured,
    /// Accepted with no effect: it tunes an nginx mechanism wsgate does not have.
    Irrelevant,
    /// The Ingress is refused (`UnsupportedAnnotation`).
    Refused,
}

use Verdict::{Honoured, Irrelevant, Refused};

/// Every annotation wsgate knows, with its verdict and what it becomes.
pub const CATALOG: &[(&str, Verdict, &str)] = &[
    (
        "proxy-read-timeout",
        Honoured,
        "timeouts.idle, the larger of read and send; pings count as traffic, as in nginx",
    ),
    (
        "proxy-send-timeout",
        Honoured,
        "timeouts.idle, as proxy-read-timeout",
    ),
    ("proxy-connect-timeout", Honoured, "timeouts.connect"),
    ("affinity", Honoured, "cookie: sessionAffinity.type Cookie"),
    (
        "affinity-mode",
        Honoured,
        "balanced and persistent: a session stays on its pod while the pod serves",
    ),
    (
        "session-cookie-name",
        Honoured,
        "sessionAffinity.cookieName",
    ),
    ("session-cookie-max-age", Honoured, "sessionAffinity.ttl"),
    (
        "session-cookie-expires",
        Honoured,
        "sessionAffinity.ttl (when max-age is not set)",
    ),
    (
        "session-cookie-samesite",
        Honoured,
        "sessionAffinity.sameSite",
    ),
    (
        "session-cookie-secure",
        Honoured,
        "sessionAffinity.cookieSecure",
    ),
    (
        "session-cookie-path",
        Honoured,
        "sessionAffinity.cookiePath",
    ),
    (
        "upstream-hash-by",
        Honoured,
        "$remote_addr, $binary_remote_addr: ClientIP; $http_<h>: Header; $arg_<p>: Query",
    ),
    (
        "load-balance",
        Honoured,
        "round_robin: RoundRobin (ewma is refused)",
    ),
    ("limit-connections", Honoured, "limits.maxConnectionsPerIP"),
    ("limit-rps", Honoured, "limits.requestsPerSecondPerIP"),
    ("limit-rpm", Honoured, "limits.requestsPerMinutePerIP"),
    (
        "limit-burst-multiplier",
        Honoured,
        "limits.requestBurstMultiplier",
    ),
    ("whitelist-source-range", Honoured, "sourceRanges.allow"),
    ("allowlist-source-range", Honoured, "sourceRanges.allow"),
    ("denylist-source-range", Honoured, "sourceRanges.deny"),
    ("auth-url", Honoured, "auth.external.url (http:// only)"),
    ("auth-method", Honoured, "auth.external.method"),
    (
        "auth-response-headers",
        Honoured,
        "auth.external.responseHeaders",
    ),
    ("auth-signin", Honoured, "auth.external.signinUrl"),
    (
        "ssl-redirect",
        Honoured,
        "tls.redirectHttp (on by default for hosts with TLS, as in ingress-nginx)",
    ),
    (
        "force-ssl-redirect",
        Honoured,
        "tls.redirectHttp, also for hosts without TLS of their own",
    ),
    (
        "backend-protocol",
        Honoured,
        "HTTPS: backend.tls (HTTP: plaintext; others refused)",
    ),
    (
        "proxy-ssl-verify",
        Honoured,
        "with backend-protocol HTTPS: on verifies with proxy-ssl-secret",
    ),
    (
        "proxy-ssl-secret",
        Honoured,
        "backend.tls.caSecretRef (same namespace only)",
    ),
    ("proxy-ssl-name", Honoured, "backend.tls.serverName"),
    ("proxy-ssl-server-name", Honoured, "SNI with proxy-ssl-name"),
    (
        "enable-cors",
        Honoured,
        "origins.allow from cors-allow-origin (browser Origins only)",
    ),
    ("cors-allow-origin", Honoured, "origins.allow"),
    ("proxy-body-size", Honoured, "limits.maxRequestBodyBytes"),
    (
        "server-alias",
        Honoured,
        "more hostnames for the Ingress's hosts",
    ),
    (
        "use-regex",
        Honoured,
        "false only; true is refused (regular-expression paths)",
    ),
    (
        "proxy-buffering",
        Irrelevant,
        "wsgate streams; it never buffers responses",
    ),
    ("proxy-buffer-size", Irrelevant, "no response buffering"),
    ("proxy-buffers-number", Irrelevant, "no response buffering"),
    (
        "proxy-request-buffering",
        Irrelevant,
        "request bodies are streamed",
    ),
    (
        "proxy-max-temp-file-size",
        Irrelevant,
        "nothing is spooled to disk",
    ),
    (
        "client-body-buffer-size",
        Irrelevant,
        "request bodies are streamed",
    ),
    (
        "proxy-http-version",
        Irrelevant,
        "wsgate speaks HTTP/1.1 to backends",
    ),
    (
        "connection-proxy-header",
        Irrelevant,
        "Upgrade and Connection are rebuilt for WebSockets",
    ),
    (
        "proxy-next-upstream",
        Irrelevant,
        "a failed connect is retried on another endpoint; requests are never replayed",
    ),
    (
        "proxy-next-upstream-tries",
        Irrelevant,
        "as proxy-next-upstream",
    ),
    (
        "proxy-next-upstream-timeout",
        Irrelevant,
        "as proxy-next-upstream",
    ),
    (
        "service-upstream",
        Irrelevant,
        "wsgate balances over the Service's endpoints itself",
    ),
    (
        "session-cookie-change-on-failure",
        Irrelevant,
        "a session whose pod fails moves and gets a new cookie",
    ),
    (
        "session-cookie-conditional-samesite-none",
        Irrelevant,
        "nginx's workaround for old browsers",
    ),
    (
        "cors-allow-methods",
        Irrelevant,
        "wsgate adds no CORS headers; the backend's pass through",
    ),
    ("cors-allow-headers", Irrelevant, "as cors-allow-methods"),
    (
        "cors-allow-credentials",
        Irrelevant,
        "as cors-allow-methods",
    ),
    ("cors-expose-headers", Irrelevant, "as cors-allow-methods"),
    ("cors-max-age", Irrelevant, "as cors-allow-methods"),
    (
        "enable-access-log",
        Irrelevant,
        "wsgate's access log is process-wide",
    ),
    ("enable-rewrite-log", Irrelevant, "no rewrites"),
    ("enable-opentelemetry", Irrelevant, "no tracing export"),
    ("enable-opentracing", Irrelevant, "no tracing export"),
    (
        "auth-keepalive",
        Irrelevant,
        "auth connections are managed by wsgate",
    ),
    ("auth-keepalive-requests", Irrelevant, "as auth-keepalive"),
    ("auth-keepalive-timeout", Irrelevant, "as auth-keepalive"),
    (
        "auth-type",
        Refused,
        "basic and digest auth are not supported yet",
    ),
    ("auth-secret", Refused, "as auth-type"),
    ("auth-secret-type", Refused, "as auth-type"),
    ("auth-realm", Refused, "as auth-type"),
    (
        "auth-tls-secret",
        Refused,
        "client certificates are not supported yet",
    ),
    ("auth-tls-verify-client", Refused, "as auth-tls-secret"),
    ("auth-tls-verify-depth", Refused, "as auth-tls-secret"),
    ("auth-tls-error-page", Refused, "as auth-tls-secret"),
    (
        "auth-tls-pass-certificate-to-upstream",
        Refused,
        "as auth-tls-secret",
    ),
    ("auth-tls-match-cn", Refused, "as auth-tls-secret"),
    ("auth-snippet", Refused, "nginx configuration"),
    ("auth-cache-key", Refused, "auth answers are not cached"),
    ("auth-cache-duration", Refused, "as auth-cache-key"),
    ("auth-proxy-set-headers", Refused, "not supported"),
    ("auth-request-redirect", Refused, "not supported"),
    ("auth-always-set-cookie", Refused, "not supported"),
    ("rewrite-target", Refused, "path rewriting is not supported"),
    ("app-root", Refused, "not supported"),
    ("x-forwarded-prefix", Refused, "not supported"),
    ("canary", Refused, "canary Ingresses are not supported"),
    ("configuration-snippet", Refused, "nginx configuration"),
    ("server-snippet", Refused, "nginx configuration"),
    ("stream-snippet", Refused, "nginx configuration"),
    ("modsecurity-snippet", Refused, "no WAF"),
    ("enable-modsecurity", Refused, "no WAF"),
    ("enable-owasp-core-rules", Refused, "no WAF"),
    ("satisfy", Refused, "not supported"),
    (
        "limit-whitelist",
        Refused,
        "limit exemptions are not supported",
    ),
    ("limit-rate", Refused, "bandwidth limits are not supported"),
    ("limit-rate-after", Refused, "as limit-rate"),
    ("upstream-hash-by-subset", Refused, "not supported"),
    ("session-cookie-domain", Refused, "not supported"),
    ("custom-http-errors", Refused, "not supported"),
    ("default-backend", Refused, "use spec.defaultBackend"),
    ("upstream-vhost", Refused, "not supported"),
    ("ssl-passthrough", Refused, "not supported"),
    ("permanent-redirect", Refused, "not supported"),
    ("temporal-redirect", Refused, "not supported"),
    ("from-to-www-redirect", Refused, "not supported"),
    ("mirror-target", Refused, "not supported"),
];

/// What [`CATALOG`] says about `name` (unknown: refused).
pub fn verdict(name: &str) -> Verdict {
    let base = if name.starts_with("canary-") {
        "canary"
    } else {
        name
    };
    CATALOG
        .iter()
        .find(|(n, _, _)| *n == base)
        .map_or(Refused, |(_, v, _)| *v)
}

fn why_refused(name: &str) -> String {
    let base = if name.starts_with("canary-") {
        "canary"
    } else {
        name
    };
    match CATALOG.iter().find(|(n, _, _)| *n == base) {
        Some((_, _, why)) => format!("cannot be honoured ({why}); the Ingress is not served rather than served without it"),
        None => "unknown to this wsgate version; the Ingress is not served rather than served without it".into(),
    }
}

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
        n if n.starts_with("auth-") => external_auth(policy, key, name, value),
        "ssl-redirect" | "force-ssl-redirect" => redirect(policy, name, value),
        "backend-protocol" => backend_protocol(policy, ctx, get, key, value),
        // Read by backend-protocol; without HTTPS they have no effect in nginx either.
        "proxy-ssl-verify" | "proxy-ssl-secret" | "proxy-ssl-name" | "proxy-ssl-server-name" => {
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
    };
    if let Err(why) = result {
        policy.refuse(
            key,
            &format!("{why}; the Ingress is not served rather than served without it"),
        );
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
