//! The Gateway API step of a rebuild: classes and Gateways evaluated, HTTPRoutes attached,
//! and one route candidate per rule and listener; after admission, the admission verdicts
//! folded into each route's per-parent status.

use std::collections::BTreeMap;

use wsgate_core::spec::RouteSpec;
use wsgate_core::table::{Backend, Listeners, Route, RouteId};

use super::attach::attach;
use super::listeners::{self, Served};
use super::policy::{self, Attachments};
use super::reason;
use super::rules::{self, Translated};
use crate::gateway_api::GROUP;
use crate::gateway_api::{CONTROLLER_NAME, HTTPRoute};
use crate::translate::candidate::{Candidate, GatewayExtras, order, source};
use crate::translate::gateway_reports::{GatewayReports, ParentReport, RouteReport};
use crate::translate::objects::ObjectKey;
use crate::translate::report::{Report, SourceKind, SourceRef, Verdict};
use crate::translate::{Index, report};

/// Rules of one route above this many listeners share candidate indexes no more.
const PER_RULE: usize = 1000;

impl Index {
    /// Evaluates classes and Gateways into `reports` and returns the candidates of every
    /// HTTPRoute attached to one of wsgate's Gateways.
    pub(in crate::translate) fn gateway_candidates(
        &self,
        reports: &mut GatewayReports,
    ) -> Vec<Candidate> {
        let objects = &self.gateway;
        for (name, class) in &objects.classes {
            if class.spec.controller_name == CONTROLLER_NAME {
                let verdict = Verdict::ok("Accepted", "served by wsgate");
                reports
                    .classes
                    .insert(name.clone(), (class.metadata.generation, verdict));
            }
        }
        let secrets = self.secrets();
        let mut served: BTreeMap<ObjectKey, Vec<Served>> = BTreeMap::new();
        for (key, gw) in objects.gateways.iter().filter(|(_, g)| objects.is_ours(g)) {
            let (report, listeners) = listeners::evaluate(objects, &secrets, gw);
            reports.gateways.insert(key.clone(), report);
            served.insert(key.clone(), listeners);
        }
        let ours = served.keys().cloned().collect();
        let policies = policy::resolve(objects, &secrets, &ours, &mut reports.policies);
        let mut out = Vec::new();
        for (key, route) in &objects.routes {
            out.extend(self.http_route(key, route, (&served, &policies), reports));
        }
        out
    }

    fn http_route(
        &self,
        key: &ObjectKey,
        route: &HTTPRoute,
        (served, policies): (&BTreeMap<ObjectKey, Vec<Served>>, &Attachments),
        reports: &mut GatewayReports,
    ) -> Vec<Candidate> {
        let translated: Result<Vec<Translated>, rules::Unsupported> = route
            .spec
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| rules::translate(r, i))
            .collect();
        let mut report = RouteReport {
            generation: route.metadata.generation,
            parents: Vec::new(),
        };
        let mut targets = Vec::new();
        for parent in &route.spec.parent_refs {
            let is_gateway = parent.group.as_deref().unwrap_or(GROUP) == GROUP
                && parent.kind.as_deref().unwrap_or("Gateway") == "Gateway";
            let gw_ns = parent.namespace.as_deref().unwrap_or(&key.namespace);
            let gw_key = ObjectKey::new(gw_ns, &parent.name);
            // Parents that are not wsgate's Gateways get no status from wsgate.
            let Some(listeners) = served.get(&gw_key).filter(|_| is_gateway) else {
                continue;
            };
            let namespace = self.gateway.namespaces.get(&key.namespace);
            let result = attach(
                listeners,
                gw_ns,
                (&key.namespace, namespace),
                &route.spec.hostnames,
                parent.section_name.as_deref(),
                parent.port,
            );
            let mut accepted = match result {
                Ok(attached) => {
                    if let Some(gw) = reports.gateways.get_mut(&gw_key) {
                        for a in &attached {
                            gw.listeners[a.listener].attached_routes += 1;
                        }
                    }
                    for a in attached {
                        let listener = listeners[a.listener].clone();
                        targets.push((gw_key.clone(), listener, a.hostnames));
                    }
                    Verdict::ok("Accepted", "attached")
                }
                Err((why, message)) => Verdict::fail(why, message),
            };
            let resolved_refs = match &translated {
                Err((why, message)) => {
                    accepted = Verdict::fail(why, message.clone());
                    Verdict::ok("ResolvedRefs", "every reference resolved")
                }
                Ok(rules) => refs_verdict(rules),
            };
            report.parents.push(ParentReport {
                parent: parent.clone(),
                accepted,
                resolved_refs,
            });
        }
        if report.parents.is_empty() {
            return Vec::new();
        }
        reports.routes.insert(key.clone(), report);
        let Ok(rules) = translated else {
            return Vec::new();
        };
        candidates(route, key, &rules, &targets, policies)
    }
}

/// `ResolvedRefs` from the rules' backend references (the Services themselves are checked at
/// admission).
fn refs_verdict(rules: &[Translated]) -> Verdict {
    match rules.iter().flat_map(|r| &r.bad_refs).next() {
        Some((why, message)) => Verdict::fail(why, message.clone()),
        None => Verdict::ok("ResolvedRefs", "every reference resolved"),
    }
}

/// A listener a route attached to: its Gateway, the listener, the hostnames served there.
type Target = (ObjectKey, Served, Vec<String>);

/// One candidate per rule and attached listener, in the route's precedence order, with the
/// WebSocketPolicy sections that reach the rule through that listener's Gateway.
fn candidates(
    route: &HTTPRoute,
    key: &ObjectKey,
    rules: &[Translated],
    targets: &[Target],
    policies: &Attachments,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        let rule_name = route.spec.rules.get(ri).and_then(|r| r.name.as_deref());
        let services = rule_services(rule, &key.namespace);
        for (ti, (gw, listener, hostnames)) in targets.iter().enumerate() {
            let mut spec = RouteSpec {
                hostnames: hostnames.clone(),
                rules: rule.rules.clone(),
                timeouts: rule.timeouts.clone(),
                ..RouteSpec::default()
            };
            let mut unusable = rule.unusable.as_ref().map(|(why, message)| {
                // A backendRef of the wrong kind is the route's mistake: 500, as the spec asks.
                let reason = message.clone();
                if *why == reason::INVALID_KIND {
                    Backend::Misconfigured { reason }
                } else {
                    Backend::Invalid { reason }
                }
            });
            if let Some(effective) = policies.effective(gw, key, (rule_name, &services)) {
                policy::apply(&mut spec, &effective.fields);
                let broken = effective.broken.map(|reason| Backend::Invalid { reason });
                unusable = unusable.or(broken);
            }
            let unusable_rules = match unusable {
                Some(backend) => (0..rule.rules.len())
                    .map(|i| (i, backend.clone()))
                    .collect(),
                None => Vec::new(),
            };
            out.push(Candidate {
                source: source(SourceKind::HTTPRoute, key),
                order: order(&route.metadata, ri * PER_RULE + ti),
                uid: route.metadata.uid.clone(),
                generation: route.metadata.generation,
                id: RouteId {
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                },
                spec: Ok(spec),
                warnings: Vec::new(),
                gateway: Some(GatewayExtras {
                    cert: listener.cert.clone(),
                    unusable_rules,
                    listeners: if listener.listener.protocol == "HTTPS" {
                        Listeners::Tls
                    } else {
                        Listeners::Plaintext
                    },
                }),
            });
        }
    }
    out
}

/// The Services a translated rule sends to (for WebSocketPolicies targeting them).
fn rule_services(rule: &Translated, ns: &str) -> Vec<ObjectKey> {
    let mut out: Vec<ObjectKey> = rule
        .rules
        .iter()
        .flat_map(|r| &r.backend.services)
        .filter(|s| s.weight != Some(0) && !s.name.is_empty())
        .map(|s| ObjectKey::new(s.namespace.as_deref().unwrap_or(ns), &s.name))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Puts a Gateway candidate's listener certificate on its route and binds it to the wsgate
/// listener of its Gateway listener: an `HTTP` one's route is not matched over TLS, an
/// `HTTPS` one's not in clear, where (unless a route of an `HTTP` listener takes the request)
/// it answers 308 to https, and 403 to `ws://`, as a WebSocketRoute with its own certificate
/// does. Its unusable rules' backends are replaced.
pub fn apply_extras(route: &mut Route, extras: GatewayExtras) {
    route.tls = extras.cert;
    let policy = std::sync::Arc::make_mut(&mut route.policy);
    policy.listeners = extras.listeners;
    if extras.listeners == Listeners::Tls {
        policy.redirect_http = true;
        policy.redirect_upgrades = false;
    }
    if extras.unusable_rules.is_empty() {
        return;
    }
    let mut rules = route.rules.to_vec();
    for (i, backend) in extras.unusable_rules {
        if let Some(rule) = rules.get_mut(i) {
            rule.backend = backend;
        }
    }
    route.rules = rules.into();
}

impl Index {
    /// Folds admission verdicts (compile errors, unresolved Services) into every parent entry of
    /// the HTTPRoutes' status, in the Gateway API's reasons.
    pub(in crate::translate) fn merge_gateway_admission(
        admitted: &BTreeMap<SourceRef, Report>,
        reports: &mut GatewayReports,
    ) {
        for (key, route) in reports.routes.iter_mut() {
            let source = source(SourceKind::HTTPRoute, key);
            let Some(r) = admitted.get(&source) else {
                continue;
            };
            for parent in route.parents.iter_mut().filter(|p| p.accepted.status) {
                if !r.accepted.status {
                    parent.accepted =
                        Verdict::fail(reason::UNSUPPORTED_VALUE, r.accepted.message.clone());
                }
                if !r.resolved_refs.status && parent.resolved_refs.status {
                    let why = match r.resolved_refs.reason.as_str() {
                        report::reason::REF_NOT_PERMITTED => reason::REF_NOT_PERMITTED,
                        _ => reason::BACKEND_NOT_FOUND,
                    };
                    parent.resolved_refs = Verdict::fail(why, r.resolved_refs.message.clone());
                }
            }
        }
    }
}
