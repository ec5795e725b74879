use std::time::Duration;

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

use super::*;

fn lease(holder: Option<&str>, renewed: i64, seconds: i32) -> LeaseSpec {
    LeaseSpec {
        holder_identity: holder.map(str::to_string),
        renew_time: Some(MicroTime(
            Timestamp::from_second(renewed).expect("timestamp"),
        )),
        lease_duration_seconds: Some(seconds),
        ..LeaseSpec::default()
    }
}

#[test]
fn a_missing_lease_is_created_and_our_own_is_renewed() {
    let now = Instant::now();
    let mut seen = None;
    assert_eq!(decide(None, "a", now, &mut seen), Action::Create);
    let ours = lease(Some("a"), 0, 15);
    assert_eq!(decide(Some(&ours), "a", now, &mut seen), Action::Renew);
}

#[test]
fn a_released_lease_is_taken_at_once() {
    let now = Instant::now();
    for holder in [None, Some("")] {
        let free = lease(holder, 0, 1);
        assert_eq!(decide(Some(&free), "b", now, &mut None), Action::TakeOver);
    }
}

#[test]
fn expiry_counts_from_the_local_observation_not_the_holders_clock() {
    let start = Instant::now();
    let mut seen = None;
    // renewTime far in the past (a skewed clock): still valid for a full lease from now.
    let held = lease(Some("a"), 1_000, 15);
    let table = [
        (0, Action::Follow),
        (14, Action::Follow),
        (15, Action::TakeOver),
    ];
    for (secs, want) in table {
        let now = start + Duration::from_secs(secs);
        assert_eq!(decide(Some(&held), "b", now, &mut seen), want, "at {secs}s");
    }
}

#[test]
fn a_renewal_seen_restarts_the_expiry_clock() {
    let start = Instant::now();
    let mut seen = None;
    decide(Some(&lease(Some("a"), 1_000, 15)), "b", start, &mut seen);
    let later = start + Duration::from_secs(10);
    let renewed = lease(Some("a"), 1_010, 15);
    assert_eq!(
        decide(Some(&renewed), "b", later, &mut seen),
        Action::Follow
    );
    let at = later + Duration::from_secs(14);
    assert_eq!(decide(Some(&renewed), "b", at, &mut seen), Action::Follow);
    let at = later + Duration::from_secs(15);
    assert_eq!(decide(Some(&renewed), "b", at, &mut seen), Action::TakeOver);
}

#[test]
fn a_leader_steps_down_at_the_renew_deadline() {
    let timing = Timing::default();
    let last = Instant::now();
    assert!(still_leading(
        Some(last),
        last + Duration::from_secs(9),
        &timing
    ));
    assert!(!still_leading(
        Some(last),
        last + Duration::from_secs(10),
        &timing
    ));
    assert!(!still_leading(None, last, &timing));
}

#[test]
fn timing_is_checked() {
    let s = Duration::from_secs;
    assert!(Timing::new(s(15), s(10), s(2)).is_ok());
    assert!(Timing::new(s(10), s(10), s(2)).is_err());
    assert!(Timing::new(s(15), s(10), s(10)).is_err());
    assert!(
        Timing::new(
            Duration::from_millis(1500),
            s(1),
            Duration::from_millis(200)
        )
        .is_err()
    );
}
