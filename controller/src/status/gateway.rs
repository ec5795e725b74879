//! Gateway API status: GatewayClass `Accepted`; Gateway `Accepted`, `Programmed`,
//! `addresses` and per listener `attachedRoutes`, `supportedKinds` and conditions; HTTPRoute
//! `parents` and WebSocketPolicy `ancestors` (entries of other controllers kept). Conditions carry `observedGeneration`, and
//! a condition whose status did not change keeps its `lastTransitionTime`.

use k8s_openapi::api::core::v1::LoadBalancerStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::gateway_api::{
    CONTROLLER_NAME, GatewayClassStatus, GatewayStatus, GatewayStatusAddress, HTTPRouteStatus,
    ListenerStatus, RouteGroupKind, RouteParentStatus,
};
use crate::policy_crd::{PolicyAncestorStatus, WebSocketPolicyStatus};
use crate::translate::ObjectKey;
use crate::translate::gateway_reports::{
    GatewayCurrent, GatewayReport, GatewayReports, MAX_ANCESTORS, PolicyReport, RouteReport,
};
use crate::translate::report::Verdict;

/// Which kind a status belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GwKind {
    /// GatewayClass (cluster-scoped).
    Class,
    /// Gateway.
    Gateway,
    /// HTTPRoute.
    HTTPRoute,
    /// WebSocketPolicy.
    Policy,
}

/// Every status to write: (kind, object, `status` value).
pub fn desired(
    reports: &GatewayReports,
    current: &GatewayCurrent,
    address: Option<&LoadBalancerStatus>,
    now: Timestamp,
) -> Vec<(GwKind, ObjectKey, Value)> {
    let mut out = Vec::new();
    for (name, (generation, verdict)) in &reports.classes {
        let prev = current.classes.get(name).map(|s| s.conditions.as_slice());
        let conditions = vec![condition("Accepted", verdict, *generation, prev, now)];
        let status = GatewayClassStatus { conditions };
        out.push((GwKind::Class, ObjectKey::new("", name), to_value(&status)));
    }
    for (key, report) in &reports.gateways {
        let status = gateway(report, current.gateways.get(key), address, now);
        out.push((GwKind::Gateway, key.clone(), to_value(&status)));
    }
    for (key, report) in &reports.routes {
        let status = route(report, current.routes.get(key), now);
        out.push((GwKind::HTTPRoute, key.clone(), to_value(&status)));
    }
    for (key, report) in &reports.policies {
        let status = policy(report, current.policies.get(key), now);
        out.push((GwKind::Policy, key.clone(), to_value(&status)));
    }
    out
}

/// A policy's `ancestors`: wsgate's entries replaced, other controllers' kept.
fn policy(
    report: &PolicyReport,
    current: Option<&WebSocketPolicyStatus>,
    now: Timestamp,
) -> WebSocketPolicyStatus {
    let mut ancestors: Vec<PolicyAncestorStatus> = current
        .map(|c| {
            c.ancestors
                .iter()
                .filter(|a| a.controller_name != CONTROLLER_NAME)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for (ancestor, verdict) in &report.ancestors {
        let prev = current
            .and_then(|c| {
                c.ancestors
                    .iter()
                    .find(|a| a.controller_name == CONTROLLER_NAME && a.ancestor_ref == *ancestor)
            })
            .map(|a| a.conditions.as_slice());
        ancestors.push(PolicyAncestorStatus {
            ancestor_ref: ancestor.clone(),
            controller_name: CONTROLLER_NAME.into(),
            conditions: vec![condition("Accepted", verdict, report.generation, prev, now)],
        });
    }
    ancestors.truncate(MAX_ANCESTORS);
    WebSocketPolicyStatus { ancestors }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn gateway(
    report: &GatewayReport,
    current: Option<&GatewayStatus>,
    address: Option<&LoadBalancerStatus>,
    now: Timestamp,
) -> GatewayStatus {
    let g = report.generation;
    let prev = current.map(|c| c.conditions.as_slice());
    let listeners = report
        .listeners
        .iter()
        .map(|l| {
            let prev = current
                .and_then(|c| c.listeners.iter().find(|p| p.name == l.name))
                .map(|p| p.conditions.as_slice());
            ListenerStatus {
                name: l.name.clone(),
                supported_kinds: l
                    .supported_kinds
                    .iter()
                    .map(|k| RouteGroupKind {
                        group: Some(crate::gateway_api::GROUP.into()),
                        kind: k.clone(),
                    })
                    .collect(),
                attached_routes: l.attached_routes,
                conditions: [
                    ("Accepted", &l.accepted),
                    ("ResolvedRefs", &l.resolved_refs),
                    ("Conflicted", &l.conflicted),
                    ("Programmed", &l.programmed),
                ]
                .into_iter()
                .map(|(t, v)| condition(t, v, g, prev, now))
                .collect(),
            }
        })
        .collect();
    GatewayStatus {
        addresses: addresses(address),
        conditions: vec![
            condition("Accepted", &report.accepted, g, prev, now),
            condition("Programmed", &report.programmed, g, prev, now),
        ],
        listeners,
    }
}

/// wsgate's published address as Gateway addresses.
fn addresses(address: Option<&LoadBalancerStatus>) -> Vec<GatewayStatusAddress> {
    address
        .and_then(|a| a.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| match (&i.ip, &i.hostname) {
            (Some(ip), _) => Some(("IPAddress", ip.clone())),
            (None, Some(host)) => Some(("Hostname", host.clone())),
            _ => None,
        })
        .map(|(t, value)| GatewayStatusAddress {
            type_: Some(t.into()),
            value,
        })
        .collect()
}

fn route(
    report: &RouteReport,
    current: Option<&HTTPRouteStatus>,
    now: Timestamp,
) -> HTTPRouteStatus {
    let g = report.generation;
    // Entries of other controllers stay as they are.
    let mut parents: Vec<RouteParentStatus> = current
        .map(|c| {
            c.parents
                .iter()
                .filter(|p| p.controller_name != CONTROLLER_NAME)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for p in &report.parents {
        let prev = current
            .and_then(|c| {
                c.parents
                    .iter()
                    .find(|c| c.controller_name == CONTROLLER_NAME && c.parent_ref == p.parent)
            })
            .map(|c| c.conditions.as_slice());
        parents.push(RouteParentStatus {
            parent_ref: p.parent.clone(),
            controller_name: CONTROLLER_NAME.into(),
            conditions: vec![
                condition("Accepted", &p.accepted, g, prev, now),
                condition("ResolvedRefs", &p.resolved_refs, g, prev, now),
            ],
        });
    }
    HTTPRouteStatus { parents }
}

fn condition(
    type_: &str,
    v: &Verdict,
    generation: Option<i64>,
    previous: Option<&[Condition]>,
    now: Timestamp,
) -> Condition {
    let status = v.status_text();
    let kept = previous
        .and_then(|p| p.iter().find(|c| c.type_ == type_ && c.status == status))
        .map(|c| c.last_transition_time.clone());
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: v.reason.clone(),
        message: v.message.clone(),
        last_transition_time: kept.unwrap_or(Time(now)),
        observed_generation: generation,
    }
}

/// A status without its transition times, to compare verdicts.
pub fn verdicts(status: &Value) -> Value {
    let mut v = status.clone();
    strip_times(&mut v);
    v
}

fn strip_times(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("lastTransitionTime");
            map.values_mut().for_each(strip_times);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_times),
        _ => {}
    }
}

/// The merge patch that sets `status`.
pub fn patch(status: &Value) -> Value {
    json!({ "status": status })
}
