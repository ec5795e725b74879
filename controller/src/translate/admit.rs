//! Admission of one candidate: compile its spec (Secrets inlined, Services resolved), check
//! tenancy and conflicts, and record the verdicts in its report.

use std::cell::RefCell;

use wsgate_core::compile::compile_route_with;
use wsgate_core::spec::BackendSpec;
use wsgate_core::table::Backend;

use super::backend::{ServiceView, Unresolved};
use super::candidate::Candidate;
use super::report::{Report, reason};
use super::tenancy::Claims;
use super::{Index, Translation, secrets};

impl Index {
    /// Compiles one candidate, checks tenancy, conflicts and references, and records the
    /// verdicts.
    pub(super) fn admit(
        &self,
        c: Candidate,
        view: &ServiceView<'_>,
        claims: &mut Claims,
        out: &mut Translation,
    ) {
        let report = out
            .reports
            .entry(c.source.clone())
            .or_insert_with(|| Report::new(c.uid.clone(), c.generation));
        for w in c.warnings {
            if !report.warnings.contains(&w) {
                report.warnings.push(w);
            }
        }
        let spec = match c.spec {
            Ok(spec) => spec,
            Err(refusal) => return report.refuse(refusal.reason, refusal.message),
        };
        let problems = RefCell::new(Vec::new());
        let namespace = c.id.namespace.clone();
        let (group, kind) = (c.source.kind.api_version(), c.source.kind.kind());
        let group = group.split_once('/').map_or("", |(g, _)| g);
        let granted = |to_ns: &str, name: &str| {
            let from = (group, kind, namespace.as_str());
            self.gateway.granted(from, to_ns, ("", "Service", name))
        };
        let resolve =
            |b: &BackendSpec, _: &str| resolve_backend(view, &namespace, b, &granted, &problems);
        let store = self.secrets();
        let inlined = secrets::inline_ticket_key(&store, &namespace, &spec);
        let material = secrets::SecretMaterial {
            secrets: store,
            namespace: &namespace,
        };
        let compiled = inlined.as_ref().unwrap_or(&spec);
        let mut route = match compile_route_with(c.id, compiled, &resolve, &material) {
            Ok(route) => route,
            Err(e) => return report.refuse(reason::INVALID_SPEC, e.to_string()),
        };
        // Gateway API routes are admitted by their Gateway's listeners (allowedRoutes) and
        // ordered by the spec's precedence, not refused for sharing a host or path.
        if let Some(extras) = c.gateway {
            super::gateway::build::apply_extras(&mut route, extras);
        } else if let Err(refusal) = claims.check(&self.tenancy, &route, &c.source) {
            return report.refuse(refusal.reason, refusal.message);
        }
        claims.record(&route, &c.source);
        for p in problems.into_inner() {
            if p.reason == reason::NO_READY_ENDPOINTS {
                report.not_programmed(p.reason, p.message);
            } else {
                report.unresolved(p.reason, p.message);
            }
        }
        let route = secrets::check(&store, &spec, route, report);
        out.routes.push(route);
    }
}

/// A Service backend becomes endpoints, or an invalid backend (503) with the problem noted.
fn resolve_backend(
    view: &ServiceView<'_>,
    namespace: &str,
    spec: &BackendSpec,
    granted: &super::weighted::Granted<'_>,
    problems: &RefCell<Vec<Unresolved>>,
) -> Result<Backend, String> {
    if !spec.services.is_empty() {
        if spec.service.is_some() || spec.addresses.is_some() {
            return Err("set services alone, without service or addresses".into());
        }
        let services = &spec.services;
        return Ok(super::weighted::resolve(
            view, namespace, services, granted, problems,
        ));
    }
    match (&spec.service, &spec.addresses) {
        (Some(_), Some(_)) => Err("set either service or addresses, not both".into()),
        (None, Some(_)) => Err(
            "addresses are only for routes files; in a cluster use service: {name, port}".into(),
        ),
        (None, None) => Err("service is required ({name, port})".into()),
        (Some(svc), None) => Ok(match view.resolve(namespace, svc) {
            Ok(endpoints) => Backend::Endpoints(endpoints.into()),
            Err(problem) => {
                let reason = problem.message.clone();
                problems.borrow_mut().push(problem);
                Backend::Invalid { reason }
            }
        }),
    }
}
