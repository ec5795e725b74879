//! The status writer: while this replica leads, writes WebSocketRoute status (conditions and
//! the published address) with server-side apply, Ingress `status.loadBalancer`, and a
//! Warning Event for every refusal and ignored annotation. Writes that fail are retried on
//! the next round; they never touch traffic.

mod address;
mod conditions;
mod events;
pub mod gateway;
mod gateway_write;

pub use address::published;
pub use conditions::{desired_status, same_verdicts};
pub use events::{EventKey, SentEvents, event_notes};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{LoadBalancerStatus, ObjectReference, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::crd::{WebSocketRoute, WebSocketRouteStatus};
use crate::metrics::ControllerMetrics;
use crate::publish::StatusInput;
use crate::translate::ObjectKey;
use crate::translate::report::{Report, SourceKind, SourceRef};

/// Field manager of wsgate's server-side apply patches.
pub const FIELD_MANAGER: &str = "wsgate";
/// How often the published Service's address is re-read and failed writes retried.
const REFRESH: Duration = Duration::from_secs(10);

/// Inputs of the writer.
pub struct StatusWriter {
    /// API client.
    pub client: Client,
    /// Event recorder.
    pub recorder: Recorder,
    /// `--publish-service`.
    pub publish_service: Option<(String, String)>,
    /// `--publish-status-address`.
    pub publish_addresses: Vec<String>,
    /// How often an Event whose refusal still holds is sent again.
    pub event_refresh: Duration,
    /// Metrics.
    pub metrics: ControllerMetrics,
}

#[derive(Default)]
struct Written {
    routes: HashMap<ObjectKey, WebSocketRouteStatus>,
    gateway: HashMap<(gateway::GwKind, ObjectKey), serde_json::Value>,
    ingresses: HashMap<ObjectKey, LoadBalancerStatus>,
    events: SentEvents,
}

impl StatusWriter {
    /// Runs until `shutdown`.
    pub async fn run(
        self,
        mut statuses: watch::Receiver<Arc<StatusInput>>,
        mut leader: watch::Receiver<bool>,
        shutdown: CancellationToken,
    ) {
        let mut written = Written::default();
        let tick = REFRESH.min(self.event_refresh);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = statuses.changed() => if r.is_err() { return },
                r = leader.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(tick) => {}
            }
            if !*leader.borrow() {
                // A new leader rewrites everything it finds out of date.
                written = Written::default();
                continue;
            }
            let input = statuses.borrow().clone();
            let address = self.address().await;
            self.write_routes(&input, address.as_ref(), &leader, &mut written)
                .await;
            self.write_events(&input, &leader, &mut written).await;
            self.write_gateway_api(&input, address.as_ref(), &leader, &mut written)
                .await;
            if let Some(address) = &address {
                self.write_ingresses(&input, address, &leader, &mut written)
                    .await;
            }
        }
    }

    /// The address to publish; `None` without `--publish-service` or when it cannot be read.
    async fn address(&self) -> Option<LoadBalancerStatus> {
        if !self.publish_addresses.is_empty() {
            return Some(published(None, &self.publish_addresses));
        }
        let (ns, name) = self.publish_service.as_ref()?;
        let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
        match services.get_opt(name).await {
            Ok(service) => Some(published(service.as_ref(), &[])),
            Err(error) => {
                tracing::warn!(service = %format!("{ns}/{name}"), %error, "cannot read the published Service");
                None
            }
        }
    }

    async fn write_routes(
        &self,
        input: &StatusInput,
        address: Option<&LoadBalancerStatus>,
        leader: &watch::Receiver<bool>,
        written: &mut Written,
    ) {
        for (source, report) in &input.reports {
            if source.kind != SourceKind::Route || !*leader.borrow() {
                continue;
            }
            let key = ObjectKey::new(&source.namespace, &source.name);
            let current = input.current.get(&key).cloned().flatten();
            let desired = desired_status(report, current.as_ref(), address, Timestamp::now());
            if current.as_ref().is_some_and(|c| same_verdicts(c, &desired))
                || written
                    .routes
                    .get(&key)
                    .is_some_and(|w| same_verdicts(w, &desired))
            {
                continue;
            }
            let api: Api<WebSocketRoute> = Api::namespaced(self.client.clone(), &key.namespace);
            let patch = json!({
                "apiVersion": "wsgate.dev/v1alpha1",
                "kind": "WebSocketRoute",
                "status": desired,
            });
            let params = PatchParams::apply(FIELD_MANAGER).force();
            match api
                .patch_status(&key.name, &params, &Patch::Apply(&patch))
                .await
            {
                Ok(_) => {
                    written.routes.insert(key, desired);
                }
                Err(error) => self.failed("status", &key, &error),
            }
        }
    }

    async fn write_events(
        &self,
        input: &StatusInput,
        leader: &watch::Receiver<bool>,
        written: &mut Written,
    ) {
        let due = written
            .events
            .due(&input.reports, Instant::now(), self.event_refresh);
        for key in due {
            if !*leader.borrow() {
                return;
            }
            let (source, reason, note) = &key;
            let Some(report) = input.reports.get(source) else {
                continue;
            };
            let event = Event {
                type_: EventType::Warning,
                reason: reason.to_string(),
                note: Some(note.clone()),
                action: "Translate".into(),
                secondary: None,
            };
            match self
                .recorder
                .publish(&event, &reference(source, report))
                .await
            {
                Ok(()) => written.events.mark(key, Instant::now()),
                Err(error) => {
                    let object = ObjectKey::new(&source.namespace, &source.name);
                    self.failed("event", &object, &error);
                }
            }
        }
    }

    async fn write_ingresses(
        &self,
        input: &StatusInput,
        address: &LoadBalancerStatus,
        leader: &watch::Receiver<bool>,
        written: &mut Written,
    ) {
        let status = json!({"status": {"loadBalancer": address}});
        for source in input
            .reports
            .keys()
            .filter(|s| s.kind == SourceKind::Ingress)
        {
            let key = ObjectKey::new(&source.namespace, &source.name);
            if written.ingresses.get(&key) == Some(address) || !*leader.borrow() {
                continue;
            }
            let api: Api<Ingress> = Api::namespaced(self.client.clone(), &key.namespace);
            match api
                .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&status))
                .await
            {
                Ok(_) => {
                    written.ingresses.insert(key, address.clone());
                }
                Err(error) => self.failed("ingress_status", &key, &error),
            }
        }
    }

    fn failed(&self, what: &str, object: &ObjectKey, error: &kube::Error) {
        self.metrics.write_errors.with_label_values(&[what]).inc();
        tracing::warn!(%object, %error, what, "cannot write to the API");
    }
}

fn reference(source: &SourceRef, report: &Report) -> ObjectReference {
    let (api_version, kind) = (source.kind.api_version(), source.kind.kind());
    ObjectReference {
        api_version: Some(api_version.into()),
        kind: Some(kind.into()),
        namespace: Some(source.namespace.clone()),
        name: Some(source.name.clone()),
        uid: report.uid.clone(),
        ..ObjectReference::default()
    }
}
