//! Where a WebSocketPolicy's target leads: the slot it holds and its ancestors (the Gateways
//! of wsgate's classes the target is attached to), or why it leads nowhere.

use std::collections::BTreeSet;

use crate::gateway_api::{GROUP, HTTPRoute};
use crate::policy_crd::{AncestorRef, PolicyTargetRef};
use crate::translate::gateway_objects::GatewayObjects;
use crate::translate::objects::ObjectKey;

/// Reasons of a policy's `Accepted` condition (GEP-713).
pub mod policy_reason {
    /// The policy applies.
    pub const ACCEPTED: &str = "Accepted";
    /// An older policy already holds the target.
    pub const CONFLICTED: &str = "Conflicted";
    /// The policy cannot be applied as written.
    pub const INVALID: &str = "Invalid";
    /// The target does not exist (or is not served by wsgate).
    pub const TARGET_NOT_FOUND: &str = "TargetNotFound";
}
use policy_reason as why;

/// What a policy target is, as a key: a Gateway, a Service, an HTTPRoute, or one named rule
/// of an HTTPRoute.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Slot {
    /// A Gateway.
    Gateway(ObjectKey),
    /// A Service.
    Service(ObjectKey),
    /// An HTTPRoute.
    Route(ObjectKey),
    /// One named rule of an HTTPRoute.
    Rule(ObjectKey, String),
}

/// The slot a target names and its ancestors (the Gateways it is attached to), or why it
/// names nothing wsgate serves.
pub(super) fn locate(
    objects: &GatewayObjects,
    ours: &BTreeSet<ObjectKey>,
    ns: &str,
    t: &PolicyTargetRef,
) -> Result<(Slot, Vec<AncestorRef>), (&'static str, String)> {
    let key = ObjectKey::new(ns, &t.name);
    let known = match t.kind.as_str() {
        "Gateway" | "HTTPRoute" => t.group == GROUP,
        "Service" => t.group.is_empty(),
        _ => false,
    };
    if !known {
        let message = format!(
            "{}/{} is not a kind WebSocketPolicy applies to (Gateway and HTTPRoute of {GROUP}, and Service, are)",
            t.group, t.kind
        );
        return Err((why::INVALID, message));
    }
    if t.kind == "Service" {
        return service_target(objects, ours, key, t.section_name.is_some());
    }
    if t.kind == "Gateway" {
        if t.section_name.is_some() {
            let message = "sectionName is supported for HTTPRoute rules only".to_string();
            return Err((why::INVALID, message));
        }
        if !ours.contains(&key) {
            let message = format!("no Gateway {key} of a wsgate GatewayClass");
            return Err((why::TARGET_NOT_FOUND, message));
        }
        return Ok((Slot::Gateway(key.clone()), vec![gateway_ref(&key, None)]));
    }
    let Some(route) = objects.routes.get(&key) else {
        return Err((why::TARGET_NOT_FOUND, format!("no HTTPRoute {key}")));
    };
    let slot = match &t.section_name {
        None => Slot::Route(key.clone()),
        Some(rule) if has_rule(route, rule) => Slot::Rule(key.clone(), rule.clone()),
        Some(rule) => {
            let message = format!("HTTPRoute {key} has no rule named {rule}");
            return Err((why::TARGET_NOT_FOUND, message));
        }
    };
    let ancestors = route_ancestors(route, ns, ours);
    if ancestors.is_empty() {
        let message =
            format!("HTTPRoute {key} is not attached to a Gateway of a wsgate GatewayClass");
        return Err((why::TARGET_NOT_FOUND, message));
    }
    Ok((slot, ancestors))
}

/// A Service target: its ancestors are the Gateways of the HTTPRoutes sending to it.
fn service_target(
    objects: &GatewayObjects,
    ours: &BTreeSet<ObjectKey>,
    key: ObjectKey,
    section: bool,
) -> Result<(Slot, Vec<AncestorRef>), (&'static str, String)> {
    if section {
        let message = "sectionName is supported for HTTPRoute rules only".to_string();
        return Err((why::INVALID, message));
    }
    let mut ancestors = Vec::new();
    for (route_key, route) in &objects.routes {
        let sends = route
            .spec
            .rules
            .iter()
            .flat_map(|r| &r.backend_refs)
            .any(|b| {
                b.group.as_deref().unwrap_or_default().is_empty()
                    && b.kind.as_deref().unwrap_or("Service") == "Service"
                    && b.name == key.name
                    && b.namespace.as_deref().unwrap_or(&route_key.namespace) == key.namespace
            });
        if sends {
            for a in route_ancestors(route, &route_key.namespace, ours) {
                if !ancestors.contains(&a) {
                    ancestors.push(a);
                }
            }
        }
    }
    if ancestors.is_empty() {
        let message = format!("no HTTPRoute of a wsgate Gateway sends to Service {key}");
        return Err((why::TARGET_NOT_FOUND, message));
    }
    Ok((Slot::Service(key), ancestors))
}

/// The Gateways of wsgate's classes a route in `ns` names as parents.
fn route_ancestors(route: &HTTPRoute, ns: &str, ours: &BTreeSet<ObjectKey>) -> Vec<AncestorRef> {
    route
        .spec
        .parent_refs
        .iter()
        .filter(|p| {
            p.group.as_deref().unwrap_or(GROUP) == GROUP
                && p.kind.as_deref().unwrap_or("Gateway") == "Gateway"
        })
        .map(|p| {
            let gw = ObjectKey::new(p.namespace.as_deref().unwrap_or(ns), &p.name);
            (gw, p.section_name.clone())
        })
        .filter(|(gw, _)| ours.contains(gw))
        .map(|(gw, section)| gateway_ref(&gw, section))
        .collect()
}

fn has_rule(route: &HTTPRoute, name: &str) -> bool {
    route
        .spec
        .rules
        .iter()
        .any(|r| r.name.as_deref() == Some(name))
}

fn gateway_ref(key: &ObjectKey, section: Option<String>) -> AncestorRef {
    AncestorRef {
        group: GROUP.into(),
        kind: "Gateway".into(),
        namespace: Some(key.namespace.clone()),
        name: key.name.clone(),
        section_name: section,
    }
}

/// A target that leads to no Gateway is its own ancestor entry.
pub(super) fn self_ref(ns: &str, t: &PolicyTargetRef) -> AncestorRef {
    AncestorRef {
        group: t.group.clone(),
        kind: t.kind.clone(),
        namespace: Some(ns.into()),
        name: t.name.clone(),
        section_name: t.section_name.clone(),
    }
}
