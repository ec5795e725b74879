//! For the webhook tests: the real `wsgate controller` with its webhooks on, against the API
//! stand-in, called over real HTTPS as the API server calls it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use serde_json::{Value, json};
use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::tls::{Versions, client_config, tls_connect};
use wsgate_tests::wait::IO_TIMEOUT;
use wsgate_tests::wsgate::Scratch;

use crate::controller_support::Controller;
use crate::support::certs::{Alg, Ca};
use crate::support::write_pair;

/// The name the API server reaches the webhook Service by.
pub const SERVICE_DNS: &str = "wsgate-webhook.wsgate.svc";

pub struct World {
    pub api: KubeApi,
    pub ctl: Controller,
    pub addr: SocketAddr,
    pub tls: Arc<ClientConfig>,
    pub certs: Scratch,
}

/// A controller with webhooks on; `setup` fills the API first.
pub async fn world_with(setup: impl FnOnce(&mut KubeApi)) -> World {
    let ca = Ca::root("wsgate webhook test CA");
    let certs = Scratch::new("webhook-certs");
    write_pair(&certs.0, &ca.leaf(&[SERVICE_DNS], Alg::Ecdsa));
    let mut api = KubeApi::start().await;
    setup(&mut api);
    let cert = certs.path("tls.crt");
    let key = certs.path("tls.key");
    let ctl = Controller::start_with(
        &api.url(),
        "wsgate-test-0",
        &[
            "--webhook-listen",
            "127.0.0.1:0",
            "--webhook-cert-file",
            cert.to_str().expect("utf-8"),
            "--webhook-key-file",
            key.to_str().expect("utf-8"),
            "--sidecar-image",
            "ghcr.io/wsgate/wsgate:0.1.0",
        ],
    );
    let addr = ctl.webhook.expect("the webhook address is reported");
    World {
        api,
        ctl,
        addr,
        tls: client_config(&ca.pem, Versions::Both),
        certs,
    }
}

impl World {
    /// POSTs `body` to `path` over HTTPS: (status, JSON body).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        post(self.addr, self.tls.clone(), path, body)
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e:#}\n{}", self.ctl.log()))
    }

    /// Sends `review` to `path`; returns its response part.
    pub async fn review(&self, path: &str, review: &Value) -> Value {
        let (status, body) = self.post(path, review).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(body["kind"], "AdmissionReview");
        assert_eq!(body["response"]["uid"], UID, "the answer names the request");
        body["response"].clone()
    }
}

pub async fn post(
    addr: SocketAddr,
    tls: Arc<ClientConfig>,
    path: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let stream = tls_connect(addr, SERVICE_DNS, tls).await?;
    let exchange = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let req = http::Request::post(path)
            .header("host", SERVICE_DNS)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        anyhow::Ok((status, json))
    };
    tokio::time::timeout(IO_TIMEOUT, exchange).await?
}

pub const UID: &str = "705ab4f5-6393-11e8-b7cc-42010a800002";

/// A controller with webhooks on and an empty API.
pub async fn world() -> World {
    world_with(|_| {}).await
}

/// An `AdmissionReview` as the API server sends it: `kind` of API `group`/`version`
/// (`resource` its plural) in `namespace`.
pub fn review_of(
    (group, version, kind, resource): (&str, &str, &str, &str),
    namespace: &str,
    operation: &str,
    object: &Value,
) -> Value {
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let gvr = json!({"group": group, "version": version, "resource": resource});
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": UID,
            "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
            "name": object["metadata"]["name"],
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "jane@example.com", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": if operation == "CREATE" { Value::Null } else { object.clone() },
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        }
    })
}
