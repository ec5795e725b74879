//! Writing Gateway API status with merge patches on the status subresource, only when a
//! verdict changed since the object's current status or wsgate's last write.

use k8s_openapi::api::core::v1::LoadBalancerStatus;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};
use tokio::sync::watch;

use super::gateway::{GwKind, desired, patch, verdicts};
use super::{StatusWriter, Written};
use crate::gateway_api::{Gateway, GatewayClass, HTTPRoute};
use crate::policy_crd::WebSocketPolicy;
use crate::publish::StatusInput;
use crate::translate::ObjectKey;

impl StatusWriter {
    pub(super) async fn write_gateway_api(
        &self,
        input: &StatusInput,
        address: Option<&LoadBalancerStatus>,
        leader: &watch::Receiver<bool>,
        written: &mut Written,
    ) {
        let current = &input.gateway_current;
        for (kind, key, status) in desired(&input.gateway, current, address, Timestamp::now()) {
            if !*leader.borrow() {
                return;
            }
            let now = match kind {
                GwKind::Class => current.classes.get(&key.name).map(serde_json::to_value),
                GwKind::Gateway => current.gateways.get(&key).map(serde_json::to_value),
                GwKind::HTTPRoute => current.routes.get(&key).map(serde_json::to_value),
                GwKind::Policy => current.policies.get(&key).map(serde_json::to_value),
            }
            .and_then(Result::ok);
            let wanted = verdicts(&status);
            let slot = (kind, key.clone());
            if now.as_ref().is_some_and(|n| verdicts(n) == wanted)
                || written.gateway.get(&slot).is_some_and(|w| *w == wanted)
            {
                continue;
            }
            let body = Patch::Merge(patch(&status));
            let params = PatchParams::default();
            let client = self.client.clone();
            let result = match kind {
                GwKind::Class => Api::<GatewayClass>::all(client)
                    .patch_status(&key.name, &params, &body)
                    .await
                    .map(drop),
                GwKind::Gateway => Api::<Gateway>::namespaced(client, &key.namespace)
                    .patch_status(&key.name, &params, &body)
                    .await
                    .map(drop),
                GwKind::HTTPRoute => Api::<HTTPRoute>::namespaced(client, &key.namespace)
                    .patch_status(&key.name, &params, &body)
                    .await
                    .map(drop),
                GwKind::Policy => Api::<WebSocketPolicy>::namespaced(client, &key.namespace)
                    .patch_status(&key.name, &params, &body)
                    .await
                    .map(drop),
            };
            match result {
                Ok(()) => drop(written.gateway.insert(slot, wanted)),
                Err(error) => self.failed(
                    "gateway_status",
                    &ObjectKey::new(&key.namespace, &key.name),
                    &error,
                ),
            }
        }
    }
}
