//! The verdict on every ingress-nginx annotation wsgate knows: honoured (same meaning),
//! irrelevant (tunes an nginx mechanism wsgate does not have; no effect on what is admitted
//! or where it goes) or refused. README.md renders this table; a test keeps them equal.

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
#[rustfmt::skip]
pub const CATALOG: &[(&str, Verdict, &str)] = &[
    ("proxy-read-timeout", Honoured, "timeouts.idle, the larger of read and send; pings count as traffic, as in nginx"),
    ("proxy-send-timeout", Honoured, "timeouts.idle, as proxy-read-timeout"),
    ("proxy-connect-timeout", Honoured, "timeouts.connect"),
    ("affinity", Honoured, "cookie: sessionAffinity.type Cookie"),
    ("affinity-mode", Honoured, "balanced and persistent: a session stays on its pod while the pod serves"),
    ("session-cookie-name", Honoured, "sessionAffinity.cookieName"),
    ("session-cookie-max-age", Honoured, "sessionAffinity.ttl"),
    ("session-cookie-expires", Honoured, "sessionAffinity.ttl (when max-age is not set)"),
    ("session-cookie-samesite", Honoured, "sessionAffinity.sameSite"),
    ("session-cookie-secure", Honoured, "sessionAffinity.cookieSecure"),
    ("session-cookie-path", Honoured, "sessionAffinity.cookiePath"),
    ("upstream-hash-by", Honoured, "$remote_addr, $binary_remote_addr: ClientIP; $http_<h>: Header; $arg_<p>: Query"),
    ("load-balance", Honoured, "round_robin: RoundRobin (ewma is refused)"),
    ("limit-connections", Honoured, "limits.maxConnectionsPerIP"),
    ("limit-rps", Honoured, "limits.requestsPerSecondPerIP"),
    ("limit-rpm", Honoured, "limits.requestsPerMinutePerIP"),
    ("limit-burst-multiplier", Honoured, "limits.requestBurstMultiplier"),
    ("whitelist-source-range", Honoured, "sourceRanges.allow"),
    ("allowlist-source-range", Honoured, "sourceRanges.allow"),
    ("denylist-source-range", Honoured, "sourceRanges.deny"),
    ("auth-url", Honoured, "auth.external.url (http:// only)"),
    ("auth-method", Honoured, "auth.external.method"),
    ("auth-response-headers", Honoured, "auth.external.responseHeaders"),
    ("auth-signin", Honoured, "auth.external.signinUrl"),
    ("ssl-redirect", Honoured, "tls.redirectHttp (on by default for hosts with TLS, as in ingress-nginx)"),
    ("force-ssl-redirect", Honoured, "tls.redirectHttp, also for hosts without TLS of their own"),
    ("backend-protocol", Honoured, "HTTPS: backend.tls (HTTP: plaintext; others refused)"),
    ("proxy-ssl-verify", Honoured, "with backend-protocol HTTPS: on verifies with proxy-ssl-secret"),
    ("proxy-ssl-secret", Honoured, "backend.tls.caSecretRef (same namespace only)"),
    ("proxy-ssl-name", Honoured, "backend.tls.serverName"),
    ("proxy-ssl-server-name", Honoured, "SNI with proxy-ssl-name"),
    ("enable-cors", Honoured, "origins.allow from cors-allow-origin (browser Origins only)"),
    ("cors-allow-origin", Honoured, "origins.allow"),
    ("proxy-body-size", Honoured, "limits.maxRequestBodyBytes"),
    ("server-alias", Honoured, "more hostnames for the Ingress's hosts"),
    ("use-regex", Honoured, "false only; true is refused (regular-expression paths)"),
    ("enable-access-log", Honoured, "accessLog.enabled"),
    ("proxy-buffering", Irrelevant, "wsgate streams; it never buffers responses"),
    ("proxy-buffer-size", Irrelevant, "no response buffering"),
    ("proxy-buffers-number", Irrelevant, "no response buffering"),
    ("proxy-request-buffering", Irrelevant, "request bodies are streamed"),
    ("proxy-max-temp-file-size", Irrelevant, "nothing is spooled to disk"),
    ("client-body-buffer-size", Irrelevant, "request bodies are streamed"),
    ("proxy-http-version", Irrelevant, "wsgate speaks HTTP/1.1 to backends"),
    ("connection-proxy-header", Irrelevant, "Upgrade and Connection are rebuilt for WebSockets"),
    ("proxy-next-upstream", Irrelevant, "a failed connect is retried on another endpoint; requests are never replayed"),
    ("proxy-next-upstream-tries", Irrelevant, "as proxy-next-upstream"),
    ("proxy-next-upstream-timeout", Irrelevant, "as proxy-next-upstream"),
    ("service-upstream", Irrelevant, "wsgate balances over the Service's endpoints itself"),
    ("session-cookie-change-on-failure", Irrelevant, "a session whose pod fails moves and gets a new cookie"),
    ("session-cookie-conditional-samesite-none", Irrelevant, "nginx's workaround for old browsers"),
    ("cors-allow-methods", Irrelevant, "wsgate adds no CORS headers; the backend's pass through"),
    ("cors-allow-headers", Irrelevant, "as cors-allow-methods"),
    ("cors-allow-credentials", Irrelevant, "as cors-allow-methods"),
    ("cors-expose-headers", Irrelevant, "as cors-allow-methods"),
    ("cors-max-age", Irrelevant, "as cors-allow-methods"),
    ("enable-rewrite-log", Irrelevant, "no rewrites"),
    ("enable-opentelemetry", Irrelevant, "no tracing export"),
    ("enable-opentracing", Irrelevant, "no tracing export"),
    ("auth-keepalive", Irrelevant, "auth connections are managed by wsgate"),
    ("auth-keepalive-requests", Irrelevant, "as auth-keepalive"),
    ("auth-keepalive-timeout", Irrelevant, "as auth-keepalive"),
    ("auth-type", Refused, "basic and digest auth are not supported yet"),
    ("auth-secret", Refused, "as auth-type"),
    ("auth-secret-type", Refused, "as auth-type"),
    ("auth-realm", Refused, "as auth-type"),
    ("auth-tls-secret", Refused, "client certificates are not supported yet"),
    ("auth-tls-verify-client", Refused, "as auth-tls-secret"),
    ("auth-tls-verify-depth", Refused, "as auth-tls-secret"),
    ("auth-tls-error-page", Refused, "as auth-tls-secret"),
    ("auth-tls-pass-certificate-to-upstream", Refused, "as auth-tls-secret"),
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
    ("limit-whitelist", Refused, "limit exemptions are not supported"),
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

pub fn why_refused(name: &str) -> String {
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
