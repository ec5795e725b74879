//! A Gateway's listeners: which wsgate can serve (HTTP on the plaintext listener, HTTPS
//! terminated on the TLS listener), their certificates (cross-namespace only with a
//! ReferenceGrant), the route kinds they take, and conflicts between them.

use std::sync::Arc;

use wsgate_core::table::TlsCert;

use super::reason;
use crate::gateway_api::{GROUP, Gateway, Listener};
use crate::translate::gateway_objects::GatewayObjects;
use crate::translate::gateway_reports::{GatewayReport, ListenerReport};
use crate::translate::objects::ObjectKey;
use crate::translate::report::Verdict;
use crate::translate::secrets::{Secrets, tls_certificate};

/// The only route kind wsgate serves on HTTP and HTTPS listeners.
pub const HTTP_ROUTE: &str = "HTTPRoute";

/// A listener as route attachment and the table need it.
#[derive(Clone, Debug)]
pub struct Served {
    /// The listener spec.
    pub listener: Listener,
    /// Its certificate (HTTPS).
    pub cert: Option<Arc<TlsCert>>,
    /// Whether routes may attach.
    pub usable: bool,
}

/// Evaluates every listener of `gw` and the Gateway's own conditions.
pub fn evaluate(
    objects: &GatewayObjects,
    secrets: &Secrets<'_>,
    gw: &Gateway,
) -> (GatewayReport, Vec<Served>) {
    let ns = ObjectKey::of(&gw.metadata).namespace;
    let mut reports = Vec::new();
    let mut served = Vec::new();
    for (i, l) in gw.spec.listeners.iter().enumerate() {
        let (mut report, cert) = listener(objects, secrets, &ns, l);
        if let Some(why) = conflict(&gw.spec.listeners, i) {
            report.conflicted = Verdict::ok(why.0, why.1);
        }
        if !report.usable() {
            let why = [&report.accepted, &report.resolved_refs]
                .into_iter()
                .find(|v| !v.status)
                .map_or(reason::INVALID, |v| v.reason.as_str())
                .to_string();
            report.programmed = Verdict::fail(reason::INVALID, format!("not served: {why}"));
        }
        served.push(Served {
            listener: l.clone(),
            cert,
            usable: report.usable(),
        });
        reports.push(report);
    }
    let valid = reports.iter().filter(|r| r.usable()).count();
    let accepted = if !gw.spec.addresses.is_empty() {
        Verdict::fail(
            reason::UNSUPPORTED_ADDRESS,
            "wsgate cannot assign requested addresses; it reports the address of its own Service",
        )
    } else if valid == reports.len() {
        Verdict::ok("Accepted", "every listener is valid")
    } else if valid > 0 {
        Verdict::ok(
            reason::LISTENERS_NOT_VALID,
            "some listeners are invalid: see their status",
        )
    } else {
        Verdict::fail(reason::LISTENERS_NOT_VALID, "no listener can be served")
    };
    let programmed = if accepted.status {
        Verdict::ok("Programmed", "served by wsgate's listeners")
    } else {
        Verdict::fail(
            reason::INVALID,
            format!("not accepted: {}", accepted.message),
        )
    };
    let report = GatewayReport {
        generation: gw.metadata.generation,
        accepted,
        programmed,
        listeners: reports,
    };
    (report, served)
}

fn listener(
    objects: &GatewayObjects,
    secrets: &Secrets<'_>,
    ns: &str,
    l: &Listener,
) -> (ListenerReport, Option<Arc<TlsCert>>) {
    let mut report = ListenerReport {
        name: l.name.clone(),
        supported_kinds: vec![HTTP_ROUTE.into()],
        attached_routes: 0,
        accepted: Verdict::ok("Accepted", "the listener is valid"),
        resolved_refs: Verdict::ok("ResolvedRefs", "every reference resolved"),
        conflicted: Verdict::fail("NoConflicts", "no conflicts"),
        programmed: Verdict::ok("Programmed", "served"),
    };
    let tls_mode = l
        .tls
        .as_ref()
        .and_then(|t| t.mode.as_deref())
        .unwrap_or("Terminate");
    match l.protocol.as_str() {
        "HTTP" => {}
        "HTTPS" if tls_mode == "Terminate" => {}
        "HTTPS" => {
            report.accepted = Verdict::fail(
                reason::UNSUPPORTED_PROTOCOL,
                "HTTPS listeners must terminate TLS (mode Terminate); wsgate does not pass TLS through",
            );
        }
        other => {
            report.supported_kinds.clear();
            report.accepted = Verdict::fail(
                reason::UNSUPPORTED_PROTOCOL,
                format!("protocol {other} is not served by wsgate (HTTP and HTTPS are)"),
            );
        }
    }
    if let Some(kinds) = l
        .allowed_routes
        .as_ref()
        .map(|a| &a.kinds)
        .filter(|k| !k.is_empty())
    {
        let ours = |k: &&crate::gateway_api::RouteGroupKind| {
            k.kind == HTTP_ROUTE && k.group.as_deref().unwrap_or(GROUP) == GROUP
        };
        if !kinds.iter().any(|k| ours(&k)) {
            report.supported_kinds.clear();
        }
        if let Some(bad) = kinds.iter().find(|k| !ours(k)) {
            report.resolved_refs = Verdict::fail(
                reason::INVALID_ROUTE_KINDS,
                format!("route kind {} is not supported (HTTPRoute is)", bad.kind),
            );
        }
    }
    let cert = if l.protocol == "HTTPS" && report.accepted.status {
        match certificate(objects, secrets, ns, l) {
            Ok(cert) => Some(cert),
            Err((why, message)) => {
                report.resolved_refs = Verdict::fail(why, message);
                None
            }
        }
    } else {
        None
    };
    (report, cert)
}

/// The first certificate of an HTTPS listener: a TLS Secret, in another namespace only
/// with a ReferenceGrant there.
fn certificate(
    objects: &GatewayObjects,
    secrets: &Secrets<'_>,
    ns: &str,
    l: &Listener,
) -> Result<Arc<TlsCert>, (&'static str, String)> {
    let refs = l
        .tls
        .as_ref()
        .map(|t| t.certificate_refs.as_slice())
        .unwrap_or_default();
    let Some(r) = refs.first() else {
        return Err((
            reason::INVALID_CERTIFICATE_REF,
            "an HTTPS listener needs tls.certificateRefs".into(),
        ));
    };
    let (group, kind) = (
        r.group.as_deref().unwrap_or(""),
        r.kind.as_deref().unwrap_or("Secret"),
    );
    if !group.is_empty() || kind != "Secret" {
        return Err((
            reason::INVALID_CERTIFICATE_REF,
            format!("certificate ref {group}/{kind} {} is not a Secret", r.name),
        ));
    }
    let secret_ns = r.namespace.as_deref().unwrap_or(ns);
    if secret_ns != ns
        && !objects.granted((GROUP, "Gateway", ns), secret_ns, ("", "Secret", &r.name))
    {
        return Err((
            reason::REF_NOT_PERMITTED,
            format!(
                "secret {secret_ns}/{} is in another namespace and no ReferenceGrant there allows it",
                r.name
            ),
        ));
    }
    let key = ObjectKey::new(secret_ns, &r.name);
    secrets
        .tls
        .get(&key)
        .and_then(tls_certificate)
        .map(Arc::new)
        .ok_or_else(|| {
            (
                reason::INVALID_CERTIFICATE_REF,
                format!("secret {key} is not a kubernetes.io/tls Secret with tls.crt and tls.key"),
            )
        })
}

/// Why listener `i` conflicts with another on the same port, if it does.
fn conflict(listeners: &[Listener], i: usize) -> Option<(&'static str, String)> {
    let l = &listeners[i];
    listeners
        .iter()
        .enumerate()
        .filter(|(j, o)| *j != i && o.port == l.port)
        .find_map(|(_, o)| {
            if o.protocol != l.protocol {
                Some((
                    reason::PROTOCOL_CONFLICT,
                    format!(
                        "port {} is also used by listener {} with protocol {}",
                        l.port, o.name, o.protocol
                    ),
                ))
            } else if o.hostname == l.hostname {
                Some((
                    reason::HOSTNAME_CONFLICT,
                    format!(
                        "listener {} has the same port, protocol and hostname",
                        o.name
                    ),
                ))
            } else {
                None
            }
        })
}
