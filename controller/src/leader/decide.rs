//! The pure part of leader election: what a replica concludes from the Lease it read and its
//! own clock. Expiry is judged by when *this* replica first saw the holder's latest renewal
//! (client-go's rule), never by comparing the holder's timestamps with the local clock, so
//! clock skew between nodes cannot make two leaders.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::LeaseSpec;
use tokio::time::Instant;

/// Durations of the election, checked by [`Timing::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a Lease stays valid after its last renewal (written into the Lease).
    pub lease: Duration,
    /// A leader that has not renewed for this long stops acting as leader. Shorter than
    /// `lease`, so it has stepped down before anyone else may take over.
    pub renew_deadline: Duration,
    /// Time between attempts, and the longest one API call may take.
    pub retry: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry: Duration::from_secs(2),
        }
    }
}

impl Timing {
    /// Checks `retry < renew_deadline < lease` (whole seconds for the lease).
    pub fn new(lease: Duration, renew_deadline: Duration, retry: Duration) -> Result<Self, String> {
        if lease.subsec_nanos() != 0 || lease.as_secs() == 0 {
            return Err("the lease duration must be a whole number of seconds".into());
        }
        if renew_deadline >= lease {
            return Err("the renew deadline must be shorter than the lease duration".into());
        }
        if retry.is_zero() || retry >= renew_deadline {
            return Err("the retry period must be shorter than the renew deadline".into());
        }
        Ok(Self {
            lease,
            renew_deadline,
            retry,
        })
    }

    /// `leaseDurationSeconds` to write.
    pub fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lease.as_secs()).unwrap_or(i32::MAX)
    }
}

/// The holder record of a Lease as last seen, and when this replica first saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    record: (Option<String>, Option<String>, Option<i32>),
    seen_at: Instant,
}

/// What to do with the Lease just read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nobody has created it: create it holding it.
    Create,
    /// We hold it: renew.
    Renew,
    /// Free, released or expired: take it over.
    TakeOver,
    /// Someone else holds a valid Lease.
    Follow,
}

/// Decides what to do with `lease` (`None`: it does not exist), updating `observed`.
pub fn decide(
    lease: Option<&LeaseSpec>,
    identity: &str,
    now: Instant,
    observed: &mut Option<Observation>,
) -> Action {
    let Some(spec) = lease else {
        *observed = None;
        return Action::Create;
    };
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
    if holder.as_deref() == Some(identity) {
        return Action::Renew;
    }
    let Some(holder) = holder else {
        return Action::TakeOver;
    };
    let record = (
        Some(holder),
        spec.renew_time.as_ref().map(|t| t.0.to_string()),
        spec.lease_duration_seconds,
    );
    let duration =
        Duration::from_secs(u64::try_from(spec.lease_duration_seconds.unwrap_or(0)).unwrap_or(0));
    let seen_at = match observed {
        Some(o) if o.record == record => o.seen_at,
        _ => {
            *observed = Some(Observation {
                record,
                seen_at: now,
            });
            now
        }
    };
    if now.saturating_duration_since(seen_at) >= duration {
        Action::TakeOver
    } else {
        Action::Follow
    }
}

/// Whether a leader whose last successful renewal was at `last` still leads at `now`.
pub fn still_leading(last: Option<Instant>, now: Instant, timing: &Timing) -> bool {
    last.is_some_and(|t| now.saturating_duration_since(t) < timing.renew_deadline)
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
