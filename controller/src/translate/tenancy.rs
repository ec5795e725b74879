//! Tenancy in a shared cluster: a hostname belongs to the namespace of its oldest claim
//! (as Gateway API and Contour settle conflicts), a (host, path) pair has one owner, and
//! catch-all (host-less) and wildcard routes — which receive other owners' traffic and can
//! supply the default certificate — come only from namespaces the operator allows.

use std::collections::HashMap;

use wsgate_core::table::{HostMatch, PathMatch, Route};

use super::decode::Refusal;
use super::report::{SourceRef, reason};

/// Which namespaces may declare catch-all and wildcard routes, and which hosts routes may
/// send external-auth requests to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tenancy {
    catch_all: Vec<String>,
    external_auth_hosts: Vec<String>,
}

impl Tenancy {
    /// Allows `namespaces` (`*` allows every namespace).
    pub fn allowing(namespaces: &[String]) -> Self {
        Self {
            catch_all: namespaces.to_vec(),
            ..Self::default()
        }
    }

    /// External-auth URLs of routes must name one of `hosts` (`auth.example.com`,
    /// `auth.example.com:8080`, `*.auth.svc.cluster.local`); empty allows any host.
    pub fn with_external_auth_hosts(mut self, hosts: &[String]) -> Self {
        self.external_auth_hosts = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        self
    }

    /// True if a route may ask the service at `authority` (`host:port`).
    fn allows_external_auth(&self, authority: &str) -> bool {
        if self.external_auth_hosts.is_empty() {
            return true;
        }
        let authority = authority.to_ascii_lowercase();
        let host = authority
            .rsplit_once(':')
            .map_or(authority.as_str(), |(h, _)| h);
        self.external_auth_hosts.iter().any(|p| {
            let pattern_has_port = p.rsplit_once(':').is_some_and(|(_, port)| {
                !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
            });
            let target = if pattern_has_port {
                authority.as_str()
            } else {
                host
            };
            match p.strip_prefix('*') {
                Some(suffix) if suffix.starts_with('.') => {
                    target.len() > suffix.len() && target.ends_with(suffix)
                }
                _ => target == p,
            }
        })
    }

    fn allows(&self, namespace: &str) -> bool {
        self.catch_all.iter().any(|n| n == "*" || n == namespace)
    }
}

type PathKey = (Option<HostMatch>, PathMatch);

/// Claims of the routes admitted so far (oldest first).
#[derive(Default)]
pub struct Claims {
    hosts: HashMap<Option<HostMatch>, (String, SourceRef)>,
    paths: HashMap<PathKey, SourceRef>,
}

impl Claims {
    /// Why `route` of `source` cannot be admitted, if it cannot.
    pub fn check(
        &self,
        tenancy: &Tenancy,
        route: &Route,
        source: &SourceRef,
    ) -> Result<(), Refusal> {
        let ns = &source.namespace;
        let broad = route.hostnames.is_empty()
            || route
                .hostnames
                .iter()
                .any(|h| matches!(h, HostMatch::Wildcard(_)));
        if broad && !tenancy.allows(ns) {
            let what = if route.hostnames.is_empty() {
                "routes without hostnames (catch-all routes, which also supply the default certificate)"
            } else {
                "wildcard hostnames"
            };
            return Err(Refusal {
                reason: reason::NAMESPACE_NOT_ALLOWED,
                message: format!(
                    "{what} are accepted only from namespaces the operator allows (--catch-all-namespace); {ns} is not one of them"
                ),
            });
        }
        if let Some(ext) = &route.policy.security.external
            && !tenancy.allows_external_auth(&ext.authority)
        {
            return Err(Refusal {
                reason: reason::INVALID_SPEC,
                message: format!(
                    "spec.auth.external.url: {} is not a host the operator allows for external auth (--external-auth-host)",
                    ext.authority
                ),
            });
        }
        for host in hosts(route) {
            if let Some((owner_ns, owner)) = self.hosts.get(&host)
                && owner_ns != ns
            {
                return Err(Refusal {
                    reason: reason::HOSTNAME_CONFLICT,
                    message: format!(
                        "{} belongs to namespace {owner_ns} (claimed first by {owner})",
                        describe_host(&host)
                    ),
                });
            }
        }
        for key in path_keys(route) {
            if let Some(owner) = self.paths.get(&key).filter(|o| *o != source) {
                return Err(Refusal {
                    reason: reason::HOSTNAME_CONFLICT,
                    message: format!("{} is already served by {owner}", describe(&key)),
                });
            }
        }
        Ok(())
    }

    /// Records the claims of an admitted route.
    pub fn record(&mut self, route: &Route, source: &SourceRef) {
        for host in hosts(route) {
            self.hosts
                .entry(host)
                .or_insert_with(|| (source.namespace.clone(), source.clone()));
        }
        for key in path_keys(route) {
            self.paths.entry(key).or_insert_with(|| source.clone());
        }
    }
}

fn hosts(route: &Route) -> Vec<Option<HostMatch>> {
    if route.hostnames.is_empty() {
        vec![None]
    } else {
        route.hostnames.iter().cloned().map(Some).collect()
    }
}

fn path_keys(route: &Route) -> Vec<PathKey> {
    let mut keys = Vec::new();
    for host in hosts(route) {
        for rule in route.rules.iter() {
            let key = (host.clone(), rule.path.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

fn describe_host(host: &Option<HostMatch>) -> String {
    match host {
        None => "every host".to_string(),
        Some(HostMatch::Exact(h)) => format!("host {h}"),
        Some(HostMatch::Wildcard(suffix)) => format!("host *{suffix}"),
    }
}

fn describe((host, path): &PathKey) -> String {
    let host = describe_host(host);
    match path {
        PathMatch::Prefix(p) => format!("{host} path prefix {p}"),
        PathMatch::Exact(p) => format!("{host} exact path {p}"),
    }
}
