//! The status writer: while this replica leads, writes WebSocketRoute conditions with
//! server-side apply, Ingress `status.loadBalancer` from `--publish-service`, and a Warning
//! Event for every refusal and ignored annotation. Writes that fail are retried on the next
//! round; they never touch traffic.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::crd::{RouteCondition, WebSocketRoute, WebSocketRouteStatus};
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
    /// Metrics.
    pub metrics: ControllerMetrics,
}

#[derive(Default)]
struct Written {
    routes: HashMap<ObjectKey, WebSocketRouteStatus>,
    ingresses: HashMap<ObjectKey, Value>,
    events: HashSet<(SourceRef, String, String)>,
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
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = statuses.changed() => if r.is_err() { return },
                r = leader.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(REFRESH) => {}
            }
            if !*leader.borrow() {
                // A new leader rewrites everything it finds out of date.
                written = Written::default();
                continue;
            }
            let input = statuses.borrow().clone();
            self.write_routes(&input, &mut written).await;
            self.write_events(&input, &mut written).await;
            self.write_ingresses(&input, &mut written).await;
        }
    }

    async fn write_routes(&self, input: &StatusInput, written: &mut Written) {
        for (source, report) in &input.reports {
            if source.kind != SourceKind::Route {
                continue;
            }
            let key = ObjectKey::new(&source.namespace, &source.name);
            let current = input.current.get(&key).cloned().flatten();
            let desired = desired_status(report, current.as_ref(), Timestamp::now());
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
                Err(error) => {
                    self.metrics
                        .write_errors
                        .with_label_values(&["status"])
                        .inc();
                    tracing::warn!(route = %key, %error, "cannot write route status");
                }
            }
        }
    }

    async fn write_events(&self, input: &StatusInput, written: &mut Written) {
        for (source, report) in &input.reports {
            for (reason, note) in event_notes(report) {
                let key = (source.clone(), reason.to_string(), note.clone());
                if written.events.contains(&key) {
                    continue;
                }
                let event = Event {
                    type_: EventType::Warning,
                    reason: reason.to_string(),
                    note: Some(note),
                    action: "Translate".into(),
                    secondary: None,
                };
                match self
                    .recorder
                    .publish(&event, &reference(source, report))
                    .await
                {
                    Ok(()) => {
                        written.events.insert(key);
                    }
                    Err(error) => {
                        self.metrics
                            .write_errors
                            .with_label_values(&["event"])
                            .inc();
                        tracing::warn!(object = %source, %error, "cannot record an Event");
                    }
                }
            }
        }
    }

    async fn write_ingresses(&self, input: &StatusInput, written: &mut Written) {
        let Some((ns, name)) = &self.publish_service else {
            return;
        };
        let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
        let addresses = match services.get_opt(name).await {
            Ok(Some(service)) => published_addresses(&service),
            Ok(None) => Vec::new(),
            Err(error) => {
                tracing::warn!(service = %format!("{ns}/{name}"), %error, "cannot read the published Service");
                return;
            }
        };
        let status = json!({"status": {"loadBalancer": {"ingress": addresses}}});
        for source in input
            .reports
            .keys()
            .filter(|s| s.kind == SourceKind::Ingress)
        {
            let key = ObjectKey::new(&source.namespace, &source.name);
            if written.ingresses.get(&key) == Some(&status) {
                continue;
            }
            let api: Api<Ingress> = Api::namespaced(self.client.clone(), &key.namespace);
            match api
                .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&status))
                .await
            {
                Ok(_) => {
                    written.ingresses.insert(key, status.clone());
                }
                Err(error) => {
                    self.metrics
                        .write_errors
                        .with_label_values(&["ingress_status"])
                        .inc();
                    tracing::warn!(ingress = %key, %error, "cannot write Ingress status");
                }
            }
        }
    }
}

/// The status to write: the report's verdicts, keeping `lastTransitionTime` of conditions
/// whose status did not change.
pub fn desired_status(
    report: &Report,
    current: Option<&WebSocketRouteStatus>,
    now: Timestamp,
) -> WebSocketRouteStatus {
    let conditions = report
        .conditions()
        .into_iter()
        .map(|mut c| {
            let previous = current
                .and_then(|s| s.conditions.iter().find(|p| p.type_ == c.type_))
                .filter(|p| p.status == c.status)
                .and_then(|p| p.last_transition_time.clone());
            c.last_transition_time = Some(previous.unwrap_or_else(|| now.to_string()));
            c
        })
        .collect();
    WebSocketRouteStatus {
        observed_generation: report.generation,
        conditions,
    }
}

/// Equal apart from transition times.
fn same_verdicts(a: &WebSocketRouteStatus, b: &WebSocketRouteStatus) -> bool {
    let strip = |s: &WebSocketRouteStatus| -> Vec<RouteCondition> {
        s.conditions
            .iter()
            .map(|c| RouteCondition {
                last_transition_time: None,
                ..c.clone()
            })
            .collect()
    };
    a.observed_generation == b.observed_generation && strip(a) == strip(b)
}

/// Warning Events for a report: each false condition's reason, and each ignored annotation.
pub fn event_notes(report: &Report) -> Vec<(&'static str, String)> {
    let mut notes: Vec<(&'static str, String)> = Vec::new();
    for verdict in [&report.accepted, &report.resolved_refs] {
        if !verdict.status {
            let reason: &'static str = crate::translate::report::reason::intern(&verdict.reason);
            notes.push((reason, verdict.message.clone()));
        }
    }
    for warning in &report.warnings {
        notes.push(("IgnoredAnnotation", warning.clone()));
    }
    notes
}

fn reference(source: &SourceRef, report: &Report) -> ObjectReference {
    let (api_version, kind) = match source.kind {
        SourceKind::Route => ("wsgate.dev/v1alpha1", "WebSocketRoute"),
        SourceKind::Ingress => ("networking.k8s.io/v1", "Ingress"),
    };
    ObjectReference {
        api_version: Some(api_version.into()),
        kind: Some(kind.into()),
        namespace: Some(source.namespace.clone()),
        name: Some(source.name.clone()),
        uid: report.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The addresses clients reach wsgate on: the load balancer's, else external IPs, else the
/// cluster IP.
fn published_addresses(service: &Service) -> Vec<Value> {
    let lb: Vec<Value> = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| match (&i.ip, &i.hostname) {
            (Some(ip), _) => Some(json!({"ip": ip})),
            (None, Some(host)) => Some(json!({"hostname": host})),
            (None, None) => None,
        })
        .collect();
    if !lb.is_empty() {
        return lb;
    }
    let spec = service.spec.clone().unwrap_or_default();
    let external: Vec<Value> = spec
        .external_ips
        .iter()
        .flatten()
        .map(|ip| json!({"ip": ip}))
        .collect();
    if !external.is_empty() {
        return external;
    }
    spec.cluster_ip
        .filter(|ip| ip != "None")
        .map(|ip| vec![json!({"ip": ip})])
        .unwrap_or_default()
}
