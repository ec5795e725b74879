//! Route status as `metav1.Condition`s: the report's verdicts, keeping `lastTransitionTime`
//! of a condition whose status did not change.

use k8s_openapi::api::core::v1::LoadBalancerStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::crd::WebSocketRouteStatus;
use crate::translate::report::Report;

/// The status to write for `report`, given the `current` one.
pub fn desired_status(
    report: &Report,
    current: Option<&WebSocketRouteStatus>,
    address: Option<&LoadBalancerStatus>,
    now: Timestamp,
) -> WebSocketRouteStatus {
    let conditions = report
        .conditions()
        .into_iter()
        .map(|(type_, verdict)| {
            let status = verdict.status_text();
            let previous = current
                .and_then(|s| s.conditions.iter().find(|p| p.type_ == type_))
                .filter(|p| p.status == status)
                .map(|p| p.last_transition_time.clone());
            Condition {
                type_: type_.into(),
                status: status.into(),
                reason: verdict.reason.clone(),
                message: verdict.message.clone(),
                last_transition_time: previous.unwrap_or(Time(now)),
                observed_generation: report.generation,
            }
        })
        .collect();
    WebSocketRouteStatus {
        observed_generation: report.generation,
        conditions,
        load_balancer: address.cloned(),
    }
}

/// Equal apart from transition times (and conditions written by others).
pub fn same_verdicts(current: &WebSocketRouteStatus, desired: &WebSocketRouteStatus) -> bool {
    let ours = |s: &WebSocketRouteStatus| -> Vec<(String, String, String, String, Option<i64>)> {
        let mut v: Vec<_> = s
            .conditions
            .iter()
            .filter(|c| desired.conditions.iter().any(|d| d.type_ == c.type_))
            .map(|c| {
                let c = c.clone();
                (
                    c.type_,
                    c.status,
                    c.reason,
                    c.message,
                    c.observed_generation,
                )
            })
            .collect();
        v.sort();
        v
    };
    current.observed_generation == desired.observed_generation
        && current.load_balancer == desired.load_balancer
        && ours(current) == ours(desired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::report::reason;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("timestamp")
    }

    #[test]
    fn transition_times_move_only_when_a_status_changes() {
        let mut report = Report::new(None, Some(3));
        let first = desired_status(&report, None, None, at(100));
        assert!(
            first
                .conditions
                .iter()
                .all(|c| c.last_transition_time.0 == at(100))
        );
        assert_eq!(first.conditions.len(), 3);
        assert!(
            first
                .conditions
                .iter()
                .all(|c| c.observed_generation == Some(3))
        );

        let again = desired_status(&report, Some(&first), None, at(200));
        assert_eq!(again, first);
        assert!(same_verdicts(&first, &again));

        report.unresolved(reason::SECRET_NOT_FOUND, "secret x not found");
        let broken = desired_status(&report, Some(&first), None, at(300));
        assert!(!same_verdicts(&first, &broken));
        let time = |s: &WebSocketRouteStatus, t: &str| {
            let c = s
                .conditions
                .iter()
                .find(|c| c.type_ == t)
                .expect("condition");
            c.last_transition_time.0
        };
        assert_eq!(time(&broken, "Accepted"), at(100));
        assert_eq!(time(&broken, "ResolvedRefs"), at(300));
        assert_eq!(time(&broken, "Programmed"), at(300));
    }

    #[test]
    fn conditions_of_other_writers_do_not_count() {
        let report = Report::new(None, Some(1));
        let ours = desired_status(&report, None, None, at(1));
        let mut current = ours.clone();
        current.conditions.push(Condition {
            type_: "example.com/Audited".into(),
            status: "True".into(),
            reason: "Audited".into(),
            message: String::new(),
            last_transition_time: Time(at(5)),
            observed_generation: None,
        });
        assert!(same_verdicts(&current, &ours));
    }
}
