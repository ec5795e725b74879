//! What translation concludes about each Gateway API object, in the spec's terms.

use std::collections::BTreeMap;

use super::objects::ObjectKey;
use super::report::{Report, Verdict};
use crate::gateway_api::{GatewayClassStatus, GatewayStatus, HTTPRouteStatus, ParentRef};
use crate::policy_crd::{AncestorRef, WebSocketPolicyStatus};

/// Most ancestors a policy's status lists (the Gateway API's limit).
pub const MAX_ANCESTORS: usize = 16;

/// Reports of every Gateway API object wsgate serves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayReports {
    /// GatewayClasses of wsgate's controller: `Accepted`, with the generation it describes.
    pub classes: BTreeMap<String, (Option<i64>, Verdict)>,
    /// Gateways of those classes.
    pub gateways: BTreeMap<ObjectKey, GatewayReport>,
    /// HTTPRoutes with at least one parent that is such a Gateway.
    pub routes: BTreeMap<ObjectKey, RouteReport>,
    /// WebSocketPolicies.
    pub policies: BTreeMap<ObjectKey, PolicyReport>,
}

/// Status of a WebSocketPolicy: `Accepted` per ancestor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyReport {
    /// `metadata.uid` (Events point at it).
    pub uid: Option<String>,
    /// `metadata.generation` described.
    pub generation: Option<i64>,
    /// Per ancestor, at most [`MAX_ANCESTORS`].
    pub ancestors: Vec<(AncestorRef, Verdict)>,
}

impl PolicyReport {
    /// Records the verdict for `ancestor`; when two targets lead to one ancestor, a refusal
    /// is what it shows.
    pub fn add(&mut self, ancestor: AncestorRef, verdict: Verdict) {
        if let Some((_, v)) = self.ancestors.iter_mut().find(|(a, _)| *a == ancestor) {
            if v.status && !verdict.status {
                *v = verdict;
            }
        } else if self.ancestors.len() < MAX_ANCESTORS {
            self.ancestors.push((ancestor, verdict));
        }
    }

    /// The policy as a report whose `Accepted` is its first refusal (for Events and
    /// metrics).
    pub fn as_report(&self) -> Report {
        let mut report = Report::new(self.uid.clone(), self.generation);
        report.accepted = Verdict::ok("Accepted", "the policy applies");
        for (ancestor, v) in self.ancestors.iter().filter(|(_, v)| !v.status) {
            let on = format!("{} {}", ancestor.kind, ancestor.name);
            report.refuse(&v.reason, format!("{on}: {}", v.message));
        }
        report
    }
}

/// Status of a Gateway.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayReport {
    /// `metadata.generation` described.
    pub generation: Option<i64>,
    /// `Accepted`.
    pub accepted: Verdict,
    /// `Programmed`.
    pub programmed: Verdict,
    /// Per listener, in spec order.
    pub listeners: Vec<ListenerReport>,
}

/// Status of one listener.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenerReport {
    /// Listener name.
    pub name: String,
    /// Route kinds that may attach (`HTTPRoute` or none).
    pub supported_kinds: Vec<String>,
    /// Routes attached.
    pub attached_routes: i32,
    /// `Accepted`.
    pub accepted: Verdict,
    /// `ResolvedRefs`.
    pub resolved_refs: Verdict,
    /// `Conflicted` (status false when not conflicted).
    pub conflicted: Verdict,
    /// `Programmed`.
    pub programmed: Verdict,
}

impl ListenerReport {
    /// Whether routes may attach: accepted, refs resolved and not conflicted.
    pub fn usable(&self) -> bool {
        self.accepted.status && self.resolved_refs.status && !self.conflicted.status
    }
}

/// Status of an HTTPRoute: one entry per parent wsgate serves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouteReport {
    /// `metadata.generation` described.
    pub generation: Option<i64>,
    /// Per parent.
    pub parents: Vec<ParentReport>,
}

/// Status for one parent.
#[derive(Clone, Debug, PartialEq)]
pub struct ParentReport {
    /// The parent as the route names it.
    pub parent: ParentRef,
    /// `Accepted`.
    pub accepted: Verdict,
    /// `ResolvedRefs`.
    pub resolved_refs: Verdict,
}

/// The status each served Gateway API object carries now.
#[derive(Clone, Debug, Default)]
pub struct GatewayCurrent {
    /// GatewayClasses by name.
    pub classes: BTreeMap<String, GatewayClassStatus>,
    /// Gateways.
    pub gateways: BTreeMap<ObjectKey, GatewayStatus>,
    /// HTTPRoutes.
    pub routes: BTreeMap<ObjectKey, HTTPRouteStatus>,
    /// WebSocketPolicies.
    pub policies: BTreeMap<ObjectKey, WebSocketPolicyStatus>,
}
