//! Leader election on a `coordination.k8s.io` Lease (get, create, update only). Only the
//! leader writes status and Events; every replica serves traffic either way.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::metrics::ControllerMetrics;

/// How long a Lease stays valid without renewal.
pub const LEASE_SECONDS: i32 = 15;
/// How often the holder renews (and others retry).
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

/// Where the Lease lives and who we are.
#[derive(Clone, Debug)]
pub struct LeaderConfig {
    /// Lease namespace.
    pub namespace: String,
    /// Lease name.
    pub name: String,
    /// This replica's identity (pod name).
    pub identity: String,
}

/// Keeps trying to hold the Lease; `leader` says whether we do.
pub async fn run(
    client: Client,
    config: LeaderConfig,
    leader: watch::Sender<bool>,
    metrics: ControllerMetrics,
    shutdown: CancellationToken,
) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut last_renewal: Option<tokio::time::Instant> = None;
    loop {
        let held = match try_hold(&api, &config).await {
            Ok(held) => held,
            Err(error) => {
                metrics.write_errors.with_label_values(&["lease"]).inc();
                tracing::warn!(%error, lease = %config.name, "cannot renew the leader Lease");
                // Keep leading only while our last renewal is still valid.
                last_renewal
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(LEASE_SECONDS as u64))
            }
        };
        if held {
            last_renewal.get_or_insert_with(tokio::time::Instant::now);
            last_renewal = Some(tokio::time::Instant::now());
        } else {
            last_renewal = None;
        }
        if *leader.borrow() != held {
            tracing::info!(identity = %config.identity, leader = held, "leadership changed");
            metrics.leader.set(i64::from(held));
            leader.send_replace(held);
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(RENEW_EVERY) => {}
        }
    }
}

/// Creates, renews or takes over an expired Lease; `Ok(false)` when someone else holds it.
async fn try_hold(api: &Api<Lease>, config: &LeaderConfig) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    let Some(mut lease) = api.get_opt(&config.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(config.name.clone()),
                namespace: Some(config.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(config.identity.clone()),
                lease_duration_seconds: Some(LEASE_SECONDS),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return conflict_is_false(api.create(&PostParams::default(), &lease).await);
    };
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    let ours = spec.holder_identity.as_deref() == Some(config.identity.as_str());
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
    let expired = spec
        .renew_time
        .as_ref()
        .is_none_or(|t| t.0.as_second() + duration < now.as_second());
    if !ours && !expired && spec.holder_identity.is_some() {
        return Ok(false);
    }
    if !ours {
        spec.holder_identity = Some(config.identity.clone());
        spec.acquire_time = Some(MicroTime(now));
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.renew_time = Some(MicroTime(now));
    spec.lease_duration_seconds = Some(LEASE_SECONDS);
    conflict_is_false(
        api.replace(&config.name, &PostParams::default(), &lease)
            .await,
    )
}

/// A 409 means another replica won the race.
fn conflict_is_false(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}
