//! Admission-time translation: the report an object would get if it were stored now, beside
//! everything already in the index. The validating webhook refuses what this refuses, so a
//! mistake is reported at `kubectl apply` instead of later in status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::candidate::source;
use super::report::{Report, SourceKind};
use super::{Index, Object, ObjectKey};

impl Index {
    /// The report `object` (a WebSocketRoute or an Ingress) would get if applied now; `None`
    /// when wsgate does not serve it (another class) or it is of another kind.
    pub fn preview(&self, object: Object) -> Option<Report> {
        let mut object = object;
        let (kind, meta) = match &mut object {
            Object::Route(r) => (SourceKind::Route, &mut r.metadata),
            Object::Ingress(i) => (SourceKind::Ingress, &mut i.metadata),
            _ => return None,
        };
        // The API server stamps creation before validating admission; without the stamp a
        // new object would sort as the oldest and win every conflict.
        if meta.creation_timestamp.is_none() {
            meta.creation_timestamp = Some(Time(now()));
        }
        let key = ObjectKey::of(meta);
        let mut shadow = self.clone();
        shadow.apply(object);
        shadow.build().reports.remove(&source(kind, &key))
    }
}

fn now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}
