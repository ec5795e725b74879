//! Leader election on a `coordination.k8s.io` Lease (get, create, update only). Only the
//! leader writes status and Events; every replica serves traffic either way.
//!
//! A leader that cannot renew within the renew deadline stops acting as leader, and every
//! API call is bounded by the retry period, so a hung or failing API server never leaves two
//! replicas writing. Others take over once the Lease has not changed for a whole lease
//! duration as measured on their own clock. On shutdown the leader releases the Lease so a
//! peer takes over at once.
//!
//! `kube-lease-manager` (kube 5 / k8s-openapi 0.29 compatible) was considered: its watch
//! loop keeps reporting "leader" while renewals fail (errors are only logged and retried),
//! which is the failure this module exists to prevent, so the small state machine lives here
//! with its decisions in [`decide`].

mod decide;

pub use decide::{Action, Observation, Timing, decide, still_leading};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::ControllerMetrics;

/// Where the Lease lives, who we are and how long things take.
#[derive(Clone, Debug)]
pub struct LeaderConfig {
    /// Lease namespace.
    pub namespace: String,
    /// Lease name.
    pub name: String,
    /// This replica's identity (pod name).
    pub identity: String,
    /// Durations.
    pub timing: Timing,
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The API answered with an error.
    #[error("{0}")]
    Api(#[from] kube::Error),
    /// The call did not finish within the retry period.
    #[error("the API did not answer in time")]
    Timeout,
}

/// Keeps trying to hold the Lease until `shutdown`; `leader` says whether we do.
pub async fn run(
    client: Client,
    config: LeaderConfig,
    leader: watch::Sender<bool>,
    metrics: ControllerMetrics,
    shutdown: CancellationToken,
) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let timing = config.timing;
    let mut last_renewal: Option<Instant> = None;
    let mut observed: Option<Observation> = None;
    loop {
        // A leader's attempt must end by its renew deadline.
        let budget = match last_renewal {
            Some(t) => (t + timing.renew_deadline).saturating_duration_since(Instant::now()),
            None => timing.retry,
        }
        .min(timing.retry);
        let attempt = tokio::time::timeout(budget, try_hold(&api, &config, &mut observed));
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = attempt => r.unwrap_or(Err(LeaseError::Timeout)),
        };
        match outcome {
            Ok(true) => last_renewal = Some(Instant::now()),
            Ok(false) => last_renewal = None,
            Err(error) => {
                metrics.write_errors.with_label_values(&["lease"]).inc();
                tracing::warn!(%error, lease = %config.name, "cannot read or renew the leader Lease");
            }
        }
        let held = still_leading(last_renewal, Instant::now(), &timing);
        if !held {
            last_renewal = None;
        }
        publish(&leader, held, &config, &metrics);
        let pause = match last_renewal {
            Some(t) => (t + timing.renew_deadline)
                .saturating_duration_since(Instant::now())
                .min(timing.retry),
            None => timing.retry,
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    let was_leader = *leader.borrow();
    publish(&leader, false, &config, &metrics);
    if was_leader {
        release(&api, &config).await;
    }
}

fn publish(
    leader: &watch::Sender<bool>,
    held: bool,
    config: &LeaderConfig,
    metrics: &ControllerMetrics,
) {
    if *leader.borrow() != held {
        tracing::info!(identity = %config.identity, leader = held, "leadership changed");
        metrics.leader.set(i64::from(held));
        leader.send_replace(held);
    }
}

/// Creates, renews or takes over the Lease; `Ok(false)` when someone else holds it or won
/// a race (409).
async fn try_hold(
    api: &Api<Lease>,
    config: &LeaderConfig,
    observed: &mut Option<Observation>,
) -> Result<bool, LeaseError> {
    let now = Timestamp::now();
    let current = api.get_opt(&config.name).await?;
    let action = decide(
        current.as_ref().and_then(|l| l.spec.as_ref()),
        &config.identity,
        Instant::now(),
        observed,
    );
    let ours = |acquired: Option<MicroTime>, transitions: i32| LeaseSpec {
        holder_identity: Some(config.identity.clone()),
        lease_duration_seconds: Some(config.timing.lease_seconds()),
        acquire_time: acquired.or(Some(MicroTime(now))),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    };
    match (action, current) {
        (Action::Follow, _) => Ok(false),
        (Action::Create, _) | (_, None) => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.name.clone()),
                    namespace: Some(config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(ours(None, 0)),
            };
            conflict_is_false(api.create(&PostParams::default(), &lease).await)
        }
        (Action::Renew, Some(mut lease)) => {
            let old = lease.spec.take().unwrap_or_default();
            lease.spec = Some(ours(old.acquire_time, old.lease_transitions.unwrap_or(0)));
            replace(api, config, &lease).await
        }
        (Action::TakeOver, Some(mut lease)) => {
            let old = lease.spec.take().unwrap_or_default();
            tracing::info!(identity = %config.identity, previous = ?old.holder_identity, "taking over the leader Lease");
            lease.spec = Some(ours(None, old.lease_transitions.unwrap_or(0) + 1));
            replace(api, config, &lease).await
        }
    }
}

/// PUT with the resourceVersion we read: a concurrent writer makes it a 409.
async fn replace(
    api: &Api<Lease>,
    config: &LeaderConfig,
    lease: &Lease,
) -> Result<bool, LeaseError> {
    conflict_is_false(
        api.replace(&config.name, &PostParams::default(), lease)
            .await,
    )
}

/// Gives the Lease up on shutdown so a peer takes over without waiting for it to expire.
async fn release(api: &Api<Lease>, config: &LeaderConfig) {
    let attempt = async {
        let Some(mut lease) = api.get_opt(&config.name).await? else {
            return Ok(false);
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
            return Ok(false);
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        replace(api, config, &lease).await
    };
    match tokio::time::timeout(config.timing.retry, attempt).await {
        Ok(Ok(true)) => tracing::info!(identity = %config.identity, "released the leader Lease"),
        Ok(Ok(false)) => {}
        Ok(Err(error)) => tracing::warn!(%error, "cannot release the leader Lease"),
        Err(_) => tracing::warn!("releasing the leader Lease timed out"),
    }
}

/// A 409 means another replica won the race.
fn conflict_is_false(result: Result<Lease, kube::Error>) -> Result<bool, LeaseError> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => Err(e.into()),
    }
}
