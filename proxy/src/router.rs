//! The data plane's view of a route table: the match index plus live endpoint state,
//! rebuilt once per table and swapped atomically; requests load it without locking.

use std::collections::HashSet;
use std::sync::Arc;

use crate::balance::{Balancer, Candidate};
use crate::endpoint::EndpointRegistry;
use wsgate_core::affinity::cookie;
use wsgate_core::route_match::MatchIndex;
use wsgate_core::table::{Backend, PathMatch, RouteId, RoutePolicy, RouteTable};

/// A route as connections hold it: they keep this `Arc` for their whole life.
#[derive(Debug)]
pub struct RouteRuntime {
    /// Namespace and name.
    pub id: RouteId,
    /// `namespace/name`, the metric label.
    pub label: Arc<str>,
    /// Connection policy.
    pub policy: Arc<RoutePolicy>,
    /// Rules in table order.
    pub rules: Vec<RuleRuntime>,
}

/// A rule with live endpoints.
#[derive(Debug)]
pub struct RuleRuntime {
    /// Path match (for logs).
    pub path: PathMatch,
    /// Destination.
    pub backend: BackendRuntime,
    /// TLS client for the endpoints (`None`: plaintext).
    pub upstream_tls: Option<Arc<crate::tls::UpstreamConnector>>,
}

/// A backend with live endpoints, or why it cannot be used.
#[derive(Debug)]
pub enum BackendRuntime {
    /// Usable endpoints and how to choose among them.
    Endpoints(Arc<Balancer>),
    /// Unusable; requests get 503 with this reason.
    Invalid(Arc<str>),
}

/// Everything a request needs to find its route and endpoint.
#[derive(Debug)]
pub struct Router {
    /// Version of the table this was built from (0: no table yet).
    pub version: u64,
    routes: Vec<Arc<RouteRuntime>>,
    index: MatchIndex,
}

impl Router {
    /// A router that knows no routes (before the first table).
    pub fn empty() -> Self {
        Self {
            version: 0,
            routes: Vec::new(),
            index: MatchIndex::default(),
        }
    }

    /// Builds the router for `table`, reusing live endpoint state from `registry` and draining
    /// endpoints that left the table.
    pub fn build(table: &RouteTable, registry: &EndpointRegistry) -> Self {
        let mut live = HashSet::new();
        let routes = table
            .routes
            .iter()
            .map(|route| {
                let route_key = cookie::route_key(&route.id);
                let rules = route
                    .rules
                    .iter()
                    .map(|rule| RuleRuntime {
                        path: rule.path.clone(),
                        backend: match &rule.backend {
                            Backend::Endpoints(eps) if eps.is_empty() => {
                                BackendRuntime::Invalid("the backend has no endpoints".into())
                            }
                            Backend::Endpoints(eps) => {
                                let candidates: Arc<[Candidate]> = eps
                                    .iter()
                                    .map(|e| {
                                        live.insert(e.addr);
                                        Candidate {
                                            state: registry.get(e.addr),
                                            weight: e.weight.max(1),
                                        }
                                    })
                                    .collect();
                                BackendRuntime::Endpoints(Arc::new(Balancer::new(
                                    candidates,
                                    &route.policy,
                                    route_key,
                                )))
                            }
                            Backend::Invalid { reason } => {
                                BackendRuntime::Invalid(reason.as_str().into())
                            }
                        },
                        upstream_tls: rule.upstream_tls.as_ref().map(|t| {
                            crate::tls::UpstreamConnector::for_rule(t, &route.id.to_string())
                        }),
                    })
                    .collect();
                Arc::new(RouteRuntime {
                    id: route.id.clone(),
                    label: route.id.to_string().into(),
                    policy: route.policy.clone(),
                    rules,
                })
            })
            .collect();
        registry.retain(&live);
        Self {
            version: table.version,
            routes,
            index: MatchIndex::build(table),
        }
    }

    /// The route and rule index for a request.
    pub fn find(&self, host: &str, path: &str) -> Option<(&Arc<RouteRuntime>, usize)> {
        let (r, i) = self.index.find(host, path)?;
        Some((&self.routes[r], i))
    }
}
