//! WebSocketPolicies attached to Gateways, Services, HTTPRoutes and HTTPRoute rules: which
//! policy holds each target (the oldest valid one; later ones are `Conflicted`), the sections
//! that reach a rule (rule over route over Service over Gateway, section by section), and each policy's status per
//! ancestor, as Gateway API policy attachment (GEP-713) describes.

use std::collections::{BTreeMap, BTreeSet};

use wsgate_core::compile::compile_route;
use wsgate_core::spec::{BackendSpec, RouteSpec, RuleSpec, TicketAlgorithm};
use wsgate_core::table::{Backend, RouteId};

use super::policy_targets::{Slot, locate, self_ref};
use crate::policy_crd::{PolicyFields, WebSocketPolicy};
use crate::translate::candidate::order;
use crate::translate::gateway_objects::GatewayObjects;
use crate::translate::gateway_reports::PolicyReport;
use crate::translate::objects::ObjectKey;
use crate::translate::report::Verdict;
use crate::translate::secrets::{Secrets, inline_ticket_key, ticket_secret_problem};

pub use super::policy_targets::policy_reason;
use policy_reason as why;

/// The policy holding one target.
#[derive(Clone, Debug)]
struct Holder {
    policy: ObjectKey,
    /// Its overrides, and why their `auth` cannot be honoured.
    overrides: Option<(PolicyFields, Option<String>)>,
    fields: PolicyFields,
    /// Why its `auth` cannot be honoured (a ticket Secret missing): routes then answer 503.
    broken: Option<String>,
}

/// The sections that reach one rule, and whether its auth cannot be honoured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effective {
    /// Merged sections.
    pub fields: PolicyFields,
    /// Why the rule must answer 503 instead (fail closed), if it must.
    pub broken: Option<String>,
}

/// Which policy holds which target.
#[derive(Clone, Debug, Default)]
pub struct Attachments {
    slots: BTreeMap<Slot, Holder>,
}

impl Attachments {
    /// The policy sections of rule `rule` (its `name`, sending to `services`) of `route`
    /// attached through Gateway `gateway`; `None` when no policy reaches it. Layers, the
    /// later winning: Gateway, the Services, the route, the rule.
    pub fn effective(
        &self,
        gateway: &ObjectKey,
        route: &ObjectKey,
        (rule, services): (Option<&str>, &[ObjectKey]),
    ) -> Option<Effective> {
        let mut layers = vec![Slot::Gateway(gateway.clone())];
        layers.extend(services.iter().cloned().map(Slot::Service));
        layers.push(Slot::Route(route.clone()));
        layers.extend(rule.map(|r| Slot::Rule(route.clone(), r.to_string())));
        let holders: Vec<&Holder> = layers.iter().filter_map(|s| self.slots.get(s)).collect();
        let mut out: Option<Effective> = None;
        for holder in &holders {
            let e = out.get_or_insert_with(Effective::default);
            e.fields = e.fields.overlaid(&holder.fields);
            if holder.fields.auth.is_some() {
                e.broken = holder.broken.clone();
            }
        }
        // Overrides the other way round: the least specific policy's are applied last.
        for holder in holders.iter().rev() {
            if let (Some(e), Some((fields, broken))) = (out.as_mut(), &holder.overrides) {
                e.fields = e.fields.overlaid(fields);
                if fields.auth.is_some() {
                    e.broken = broken.clone();
                }
            }
        }
        out
    }
}

/// Resolves every policy of `objects` against the Gateways wsgate serves (`ours`), writing
/// each policy's report into `reports`. Secrets a policy names are read in its namespace.
pub fn resolve(
    objects: &GatewayObjects,
    secrets: &Secrets<'_>,
    ours: &BTreeSet<ObjectKey>,
    reports: &mut BTreeMap<ObjectKey, PolicyReport>,
) -> Attachments {
    let mut policies: Vec<&WebSocketPolicy> = objects.policies.values().collect();
    policies.sort_by_key(|p| order(&p.metadata, 0));
    let mut out = Attachments::default();
    for policy in policies {
        let key = ObjectKey::of(&policy.metadata);
        let (fields, broken, mut invalid) = prepare(&policy.spec.policy, secrets, &key.namespace);
        let overrides = policy.spec.overrides.as_ref().map(|o| {
            let (fields, broken, wrong) = prepare(o, secrets, &key.namespace);
            let wrong = wrong.map(|w| format!("overrides: {w}"));
            invalid = invalid.take().or(wrong);
            (fields, broken)
        });
        let holder = Holder {
            policy: key.clone(),
            overrides,
            fields,
            broken,
        };
        let mut report = PolicyReport {
            uid: policy.metadata.uid.clone(),
            generation: policy.metadata.generation,
            ancestors: Vec::new(),
        };
        for (i, target) in policy.spec.target_refs.iter().enumerate() {
            match locate(objects, ours, &key.namespace, target) {
                Ok((slot, ancestors)) => {
                    let verdict = match &invalid {
                        Some(message) => Verdict::fail(why::INVALID, message.clone()),
                        None => out.claim(slot, &holder, &target.name),
                    };
                    for ancestor in ancestors {
                        report.add(ancestor, verdict.clone());
                    }
                }
                Err((reason, message)) => {
                    let message = format!("spec.targetRefs[{i}]: {message}");
                    report.add(
                        self_ref(&key.namespace, target),
                        Verdict::fail(reason, message),
                    );
                }
            }
        }
        reports.insert(key, report);
    }
    out
}

impl Attachments {
    /// Gives `slot` to `holder` unless an older policy holds it (policies come oldest first).
    fn claim(&mut self, slot: Slot, holder: &Holder, target: &str) -> Verdict {
        if let Some(older) = self.slots.get(&slot).filter(|h| h.policy != holder.policy) {
            let message = format!(
                "WebSocketPolicy {} is older and already targets {target}",
                older.policy
            );
            return Verdict::fail(why::CONFLICTED, message);
        }
        self.slots.insert(slot, holder.clone());
        match &holder.broken {
            Some(problem) => Verdict::fail(
                why::INVALID,
                format!("{problem}; the routes it applies to answer 503 until it is fixed"),
            ),
            None => Verdict::ok(why::ACCEPTED, "the policy applies"),
        }
    }
}

/// The policy's sections as a route to compile: one rule, no backend.
fn probe(fields: &PolicyFields) -> RouteSpec {
    let mut spec = RouteSpec {
        rules: vec![RuleSpec {
            backend: BackendSpec::default(),
            ..RuleSpec::default()
        }],
        ..RouteSpec::default()
    };
    apply(&mut spec, fields);
    spec
}

/// Puts the policy's sections on a route spec; its timeouts join the HTTPRoute's.
pub fn apply(spec: &mut RouteSpec, f: &PolicyFields) {
    if let Some(t) = &f.timeouts {
        let mut timeouts = spec.timeouts.clone().unwrap_or_default();
        timeouts.idle = t.idle.or(timeouts.idle);
        timeouts.connect = t.connect.or(timeouts.connect);
        timeouts.idle_counts_control_frames = t
            .idle_counts_control_frames
            .or(timeouts.idle_counts_control_frames);
        spec.timeouts = Some(timeouts);
    }
    macro_rules! take {
        ($($field:ident),*) => { $( if f.$field.is_some() { spec.$field.clone_from(&f.$field); } )* };
    }
    take!(
        session_affinity,
        load_balancing,
        keepalive,
        limits,
        origins,
        auth,
        drain,
        source_ranges,
        access_log,
        protocol
    );
}

/// Whether the policy's sections compile; the error names the field (`spec.origins.allow[0]`).
/// A ticket key named by `secretRef` is read later: an HS256 one is checked with a stand-in
/// key, a public key once its Secret is read.
pub fn check_fields(fields: &PolicyFields) -> Result<(), String> {
    let mut fields = fields.clone();
    let auth = fields.auth.as_mut();
    if let Some(ticket) = auth.and_then(|a| a.ticket.as_mut())
        && ticket.secret_ref.take().is_some()
    {
        match ticket.algorithm {
            TicketAlgorithm::HS256 => ticket.key = Some(STAND_IN_KEY.into()),
            _ => ticket.jwks = Some(r#"{"keys":[]}"#.into()),
        }
    }
    compile_fields(&fields)
}

/// An HS256 key of a usable length, for checking a policy whose key is in a Secret.
const STAND_IN_KEY: &str = "wsgate-policy-check-stand-in-key-0123456789";

fn compile_fields(fields: &PolicyFields) -> Result<(), String> {
    let id = RouteId {
        namespace: String::new(),
        name: "policy".into(),
    };
    let resolve = |_: &BackendSpec, _: &str| {
        Ok(Backend::Invalid {
            reason: String::new(),
        })
    };
    compile_route(id, &probe(fields), &resolve)
        .map(drop)
        .map_err(|e| format!("{}: {}", e.field, e.message))
}

/// Sections ready to apply: a ticket Secret's key put in place, why that Secret cannot be
/// used, and why the sections cannot be applied (with its Secret read, the key itself is
/// checked too).
fn prepare(
    sections: &PolicyFields,
    secrets: &Secrets<'_>,
    ns: &str,
) -> (PolicyFields, Option<String>, Option<String>) {
    let (fields, broken) = with_secrets(sections, secrets, ns);
    let invalid = check_fields(sections)
        .and_then(|()| match broken {
            None => compile_fields(&fields),
            Some(_) => Ok(()),
        })
        .err();
    (fields, broken, invalid)
}

/// The sections with a ticket Secret's key put in place (read in the policy's namespace), and
/// why that Secret cannot be used, if it cannot.
fn with_secrets(
    fields: &PolicyFields,
    secrets: &Secrets<'_>,
    ns: &str,
) -> (PolicyFields, Option<String>) {
    let spec = probe(fields);
    let problem = ticket_secret_problem(secrets, ns, &spec);
    let mut out = fields.clone();
    if let Some(inlined) = inline_ticket_key(secrets, ns, &spec) {
        out.auth = inlined.auth;
    }
    (out, problem)
}
