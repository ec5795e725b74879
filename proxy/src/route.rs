//! The data plane's view of a route table: the match index plus live endpoint state, rebuilt
//! once per table and swapped atomically; requests load it without locking.

use std::sync::{Arc, OnceLock};

use wsgate_core::affinity::cookie::{self, CookieSecret, RouteKey};
use wsgate_core::route_match::{MatchIndex, RequestView};
use wsgate_core::table::http::Filters;
use wsgate_core::table::{Backend, RoutePolicy, RouteTable};
use wsgate_tunnel::{Drain, Keepalive, TunnelPolicy};

use crate::balance::balancer::{Balancer, Candidate};
use crate::balance::endpoint::EndpointRegistry;
use crate::error::ProxyError;
use crate::metrics::{Metrics, RouteHandles};
use crate::tls::client::UpstreamConnector;

/// A route as connections hold it: they keep this `Arc` for their whole life.
#[derive(Debug)]
pub struct RouteRuntime {
    /// `namespace/name`, the metric label.
    pub label: Arc<str>,
    /// Connection policy.
    pub policy: Arc<RoutePolicy>,
    /// The part of the policy a tunnel enforces.
    pub tunnel: TunnelPolicy,
    /// Close code of a route with rebalancing: its tunnels are enlisted as movable (whether
    /// they may be moved is decided when it comes to it, under the policy then in force).
    pub rebalance_code: Option<u16>,
    /// Rules in table order.
    pub rules: Vec<Arc<RuleRuntime>>,
    /// Metric handles, resolved on the first upgrade.
    handles: OnceLock<Arc<RouteHandles>>,
}

impl RouteRuntime {
    /// The route's metric handles (resolved once per route table).
    pub fn handles(&self, metrics: &Metrics) -> &Arc<RouteHandles> {
        self.handles.get_or_init(|| {
            Arc::new(RouteHandles::new(
                &metrics.requests,
                &metrics.tunnels,
                &self.label,
            ))
        })
    }
}

/// A rule with live endpoints.
#[derive(Debug)]
pub struct RuleRuntime {
    /// Header edits, redirect and rewrite.
    pub filters: Arc<Filters>,
    /// Destination.
    pub backend: BackendRuntime,
    /// TLS client for the endpoints (`None`: plaintext).
    pub upstream_tls: Option<Arc<UpstreamConnector>>,
    /// The settings that client was built from: pooled connections are shared only by
    /// rules with the same ones.
    pub tls_settings: Option<Arc<wsgate_core::table::UpstreamTls>>,
}

/// A backend with live endpoints, or why it cannot be used.
#[derive(Debug)]
pub enum BackendRuntime {
    /// Usable endpoints and how to choose among them.
    Endpoints(Arc<Balancer>),
    /// Unusable; requests get 503 with this reason.
    Invalid(Arc<str>),
    /// Named wrongly; requests get 500 with this reason.
    Misconfigured(Arc<str>),
}

impl RuleRuntime {
    /// The balancer of the rule's endpoints, or why there is none (503).
    pub fn balancer(&self) -> Result<&Arc<Balancer>, ProxyError> {
        match &self.backend {
            BackendRuntime::Endpoints(b) => Ok(b),
            BackendRuntime::Invalid(reason) => Err(ProxyError::BackendInvalid(reason.clone())),
            BackendRuntime::Misconfigured(reason) => {
                Err(ProxyError::BackendMisconfigured(reason.clone()))
            }
        }
    }
}

/// Everything a request needs to find its route and endpoint.
#[derive(Debug)]
pub struct Router {
    routes: Vec<Arc<RouteRuntime>>,
    index: MatchIndex,
    /// The table it was built from (the admin page shows its hosts and paths).
    table: RouteTable,
}

impl Router {
    /// A router that knows no routes (before the first table).
    pub fn empty() -> Self {
        Self {
            routes: Vec::new(),
            index: MatchIndex::default(),
            table: RouteTable::default(),
        }
    }

    /// Builds the router for `table`, reusing live endpoint state from `registry`; affinity
    /// cookie tokens are keyed with `secret`.
    pub fn build(table: &RouteTable, registry: &EndpointRegistry, secret: &CookieSecret) -> Self {
        let routes = table
            .routes
            .iter()
            .map(|route| {
                let label = route.id.to_string();
                let route_key = cookie::route_key(secret, &route.id);
                let rules = route
                    .rules
                    .iter()
                    .map(|rule| {
                        Arc::new(RuleRuntime {
                            filters: rule.filters.clone(),
                            backend: backend(&rule.backend, &route.policy, route_key, registry),
                            upstream_tls: rule
                                .upstream_tls
                                .as_ref()
                                .map(|t| UpstreamConnector::for_rule(t, &label)),
                            tls_settings: rule.upstream_tls.clone(),
                        })
                    })
                    .collect();
                Arc::new(RouteRuntime {
                    tunnel: tunnel_policy(&route.policy),
                    rebalance_code: route.policy.balancing.rebalance.map(|r| r.close_code),
                    label: label.into(),
                    policy: route.policy.clone(),
                    rules,
                    handles: OnceLock::new(),
                })
            })
            .collect();
        Self {
            routes,
            index: MatchIndex::build(table),
            table: table.clone(),
        }
    }

    /// The table in force; its routes are [`Router::routes`], in the same order.
    pub fn table(&self) -> &RouteTable {
        &self.table
    }

    /// The routes, in table order.
    pub fn routes(&self) -> &[Arc<RouteRuntime>] {
        &self.routes
    }

    /// The route and rule for a request.
    pub fn find(&self, req: &RequestView<'_>) -> Option<(&Arc<RouteRuntime>, &Arc<RuleRuntime>)> {
        let (r, i) = self.index.find_request(req)?;
        let route = self.routes.get(r)?;
        Some((route, route.rules.get(i)?))
    }
}

fn backend(
    backend: &Backend,
    policy: &RoutePolicy,
    route_key: RouteKey,
    registry: &EndpointRegistry,
) -> BackendRuntime {
    match backend {
        Backend::Endpoints(eps) if eps.is_empty() => {
            BackendRuntime::Invalid("the backend has no endpoints".into())
        }
        Backend::Endpoints(eps) => {
            let candidates: Arc<[Candidate]> = eps
                .iter()
                .map(|e| Candidate {
                    state: registry.get(e.addr),
                    weight: e.weight.max(1),
                })
                .collect();
            BackendRuntime::Endpoints(Arc::new(Balancer::new(candidates, policy, route_key)))
        }
        Backend::Invalid { reason } => BackendRuntime::Invalid(reason.as_str().into()),
        Backend::Misconfigured { reason } => BackendRuntime::Misconfigured(reason.as_str().into()),
    }
}

/// The part of a route's policy the tunnel enforces.
fn tunnel_policy(p: &RoutePolicy) -> TunnelPolicy {
    TunnelPolicy {
        max_message_bytes: p.max_message_bytes,
        idle_timeout: p.idle_timeout,
        idle_counts_control: p.idle_counts_control,
        keepalive: p.keepalive.map(|k| Keepalive {
            interval: k.interval,
            pong_timeout: k.pong_timeout,
        }),
        drain: Drain {
            close_code: p.drain.close_code,
            period: p.drain.period,
        },
        strict: p.strict_protocol,
        extensions: false,
    }
}
