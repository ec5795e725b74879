//! Watches: one kube-runtime watcher per kind (and per namespace when the controller is
//! limited to some), turned into index changes. A malformed object is logged and left out;
//! it never stalls its watch. API errors back off and retry; the last table stays in force.

use std::fmt::Debug;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::core::DeserializeGuard;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Config, Event};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::crd::WebSocketRoute;
use crate::gateway_api::{Gateway, GatewayClass, HTTPRoute, ReferenceGrant};
use crate::metrics::ControllerMetrics;
use crate::policy_crd::WebSocketPolicy;
use crate::translate::secrets::SECRET_LABEL;
use crate::translate::{Kind, Object, ObjectKey};

/// A change for the index.
#[derive(Debug)]
pub enum Change {
    /// Add or replace.
    Apply(Object),
    /// Remove.
    Delete(Kind, ObjectKey),
    /// A (re-)list finished: replace `kind` in `namespace` (`None`: all) with `objects`.
    Reset {
        /// Kind listed.
        kind: Kind,
        /// Namespace listed, or all.
        namespace: Option<String>,
        /// Every object listed.
        objects: Vec<Object>,
    },
}

/// Label value for metrics and logs.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Route => "WebSocketRoute",
        Kind::Ingress => "Ingress",
        Kind::IngressClass => "IngressClass",
        Kind::Service => "Service",
        Kind::EndpointSlice => "EndpointSlice",
        Kind::Secret => "Secret",
        Kind::LabelledSecret => "Secret (labelled)",
        Kind::GatewayClass => "GatewayClass",
        Kind::Gateway => "Gateway",
        Kind::HTTPRoute => "HTTPRoute",
        Kind::ReferenceGrant => "ReferenceGrant",
        Kind::Namespace => "Namespace",
        Kind::WebSocketPolicy => "WebSocketPolicy",
    }
}

/// TLS Secrets are selected by type; Helm release Secrets and the like never match.
pub const TLS_SECRET_SELECTOR: &str = "type=kubernetes.io/tls";
/// EndpointSlices of Services, written by Kubernetes' own EndpointSlice controller.
pub const SLICE_SELECTOR: &str = "endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io,kubernetes.io/service-name";

/// Starts every watcher; returns how many there are (each sends one `Reset` once synced).
pub fn spawn_all(
    client: &Client,
    namespaces: &[String],
    tx: &mpsc::Sender<Change>,
    metrics: &ControllerMetrics,
) -> usize {
    let scopes = scopes(namespaces);
    let w = Watcher {
        tx: tx.clone(),
        metrics: metrics.clone(),
    };
    w.spawn_cluster::<IngressClass>(client, Kind::IngressClass, |o| {
        Object::IngressClass(Box::new(o))
    });
    let all = Config::default;
    for scope in &scopes {
        w.spawn::<WebSocketRoute>(client, scope, all(), Kind::Route, |o| {
            Object::Route(Box::new(o))
        });
        w.spawn::<Ingress>(client, scope, all(), Kind::Ingress, |o| {
            Object::Ingress(Box::new(o))
        });
        w.spawn::<Service>(client, scope, all(), Kind::Service, |o| {
            Object::Service(Box::new(o))
        });
        let slices = all().labels(SLICE_SELECTOR);
        w.spawn::<EndpointSlice>(client, scope, slices, Kind::EndpointSlice, |o| {
            Object::EndpointSlice(Box::new(o))
        });
        let tls = all().fields(TLS_SECRET_SELECTOR);
        w.spawn::<Secret>(client, scope, tls, Kind::Secret, |o| {
            Object::Secret(Box::new(o))
        });
        let labelled = all().labels(SECRET_LABEL).fields("type!=kubernetes.io/tls");
        w.spawn::<Secret>(client, scope, labelled, Kind::LabelledSecret, |o| {
            Object::LabelledSecret(Box::new(o))
        });
    }
    1 + 6 * scopes.len()
}

/// Starts the watchers of the Gateway API kinds, WebSocketPolicies and Namespaces; returns
/// how many.
pub fn spawn_gateway_api(
    client: &Client,
    namespaces: &[String],
    tx: &mpsc::Sender<Change>,
    metrics: &ControllerMetrics,
) -> usize {
    let scopes = scopes(namespaces);
    let w = Watcher {
        tx: tx.clone(),
        metrics: metrics.clone(),
    };
    w.spawn_cluster::<GatewayClass>(client, Kind::GatewayClass, |o| {
        Object::GatewayClass(Box::new(o))
    });
    w.spawn_cluster::<Namespace>(client, Kind::Namespace, |o| Object::Namespace(Box::new(o)));
    let all = Config::default;
    for scope in &scopes {
        w.spawn::<Gateway>(client, scope, all(), Kind::Gateway, |o| {
            Object::Gateway(Box::new(o))
        });
        w.spawn::<HTTPRoute>(client, scope, all(), Kind::HTTPRoute, |o| {
            Object::HTTPRoute(Box::new(o))
        });
        w.spawn::<ReferenceGrant>(client, scope, all(), Kind::ReferenceGrant, |o| {
            Object::ReferenceGrant(Box::new(o))
        });
        w.spawn::<WebSocketPolicy>(client, scope, all(), Kind::WebSocketPolicy, |o| {
            Object::WebSocketPolicy(Box::new(o))
        });
    }
    2 + 4 * scopes.len()
}

/// The scopes to watch namespaced kinds in: the given namespaces, or the whole cluster.
fn scopes(namespaces: &[String]) -> Vec<Option<String>> {
    if namespaces.is_empty() {
        vec![None]
    } else {
        namespaces.iter().cloned().map(Some).collect()
    }
}

fn namespaced<K>(client: &Client, scope: &Option<String>) -> Api<DeserializeGuard<K>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match scope {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

#[derive(Clone)]
struct Watcher {
    tx: mpsc::Sender<Change>,
    metrics: ControllerMetrics,
}

impl Watcher {
    /// Starts the watcher of a cluster-scoped kind.
    fn spawn_cluster<K>(&self, client: &Client, kind: Kind, wrap: fn(K) -> Object)
    where
        K: Resource<Scope = k8s_openapi::ClusterResourceScope, DynamicType = ()>
            + DeserializeOwned
            + Clone
            + Debug
            + Send
            + Sync
            + 'static,
    {
        let api = Api::all(client.clone());
        tokio::spawn(self.clone().run(api, Config::default(), None, kind, wrap));
    }

    /// Starts the watcher of a namespaced kind in `scope` (a namespace, or all).
    fn spawn<K>(
        &self,
        client: &Client,
        scope: &Option<String>,
        config: Config,
        kind: Kind,
        wrap: fn(K) -> Object,
    ) where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + DeserializeOwned
            + Clone
            + Debug
            + Send
            + Sync
            + 'static,
    {
        let api = namespaced::<K>(client, scope);
        tokio::spawn(self.clone().run(api, config, scope.clone(), kind, wrap));
    }

    /// Follows one kind in one scope until the index is gone.
    async fn run<K>(
        self,
        api: Api<DeserializeGuard<K>>,
        config: Config,
        namespace: Option<String>,
        kind: Kind,
        wrap: fn(K) -> Object,
    ) where
        K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug + Send + Sync + 'static,
    {
        let name = kind_name(kind);
        let stream = watcher::watcher(api, config).default_backoff();
        futures_util::pin_mut!(stream);
        let mut buffer = Vec::new();
        while let Some(event) = stream.next().await {
            let change = match event {
                Err(error) => {
                    self.metrics.watch_errors.with_label_values(&[name]).inc();
                    tracing::warn!(kind = name, %error, "watch failed; retrying with backoff");
                    continue;
                }
                Ok(event) => {
                    self.metrics.watch_events.with_label_values(&[name]).inc();
                    match self.convert(event, kind, wrap, &mut buffer) {
                        Some(change) => change,
                        None => continue,
                    }
                }
            };
            let change = match change {
                Change::Reset { kind, objects, .. } => Change::Reset {
                    kind,
                    namespace: namespace.clone(),
                    objects,
                },
                other => other,
            };
            if self.tx.send(change).await.is_err() {
                return;
            }
        }
    }

    fn convert<K>(
        &self,
        event: Event<DeserializeGuard<K>>,
        kind: Kind,
        wrap: fn(K) -> Object,
        buffer: &mut Vec<Object>,
    ) -> Option<Change>
    where
        K: Resource<DynamicType = ()>,
    {
        match event {
            Event::Init => {
                buffer.clear();
                None
            }
            Event::InitApply(guard) => {
                buffer.extend(self.readable(guard, kind).map(wrap));
                None
            }
            Event::InitDone => Some(Change::Reset {
                kind,
                namespace: None,
                objects: std::mem::take(buffer),
            }),
            Event::Apply(guard) => match guard.0 {
                Ok(object) => Some(Change::Apply(wrap(object))),
                // Unreadable now: drop what we had rather than serve a stale version.
                Err(invalid) => {
                    self.log_invalid(kind, &invalid);
                    Some(Change::Delete(kind, ObjectKey::of(&invalid.metadata)))
                }
            },
            Event::Delete(guard) => {
                let key = match &guard.0 {
                    Ok(object) => ObjectKey::of(object.meta()),
                    Err(invalid) => ObjectKey::of(&invalid.metadata),
                };
                Some(Change::Delete(kind, key))
            }
        }
    }

    fn readable<K>(&self, guard: DeserializeGuard<K>, kind: Kind) -> Option<K> {
        match guard.0 {
            Ok(object) => Some(object),
            Err(invalid) => {
                self.log_invalid(kind, &invalid);
                None
            }
        }
    }

    fn log_invalid(&self, kind: Kind, invalid: &kube::core::error_boundary::InvalidObject) {
        let name = kind_name(kind);
        self.metrics
            .malformed_objects
            .with_label_values(&[name])
            .inc();
        tracing::warn!(kind = name, object = %ObjectKey::of(&invalid.metadata), error = %invalid.error, "ignoring a malformed object");
    }
}
