//! The verdict on each annotation of an Ingress being migrated, and the YAML that carries the
//! verdicts as comments above the converted routes.

use crate::translate::annotations::nginx::{CATALOG, Verdict};
use crate::translate::annotations::{NGINX_PREFIX, WSGATE_PREFIX};
use crate::translate::ingress::LEGACY_CLASS_ANNOTATION;

/// Prefix of cert-manager's annotations.
pub const CERT_MANAGER: &str = "cert-manager.io/";

/// What became of one annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Carried over with the same meaning.
    Mapped,
    /// Carried over; the note says what differs.
    Differs,
    /// Needs nothing in wsgate (it tunes an nginx mechanism wsgate does not have), or belongs
    /// to another tool.
    NoEffect,
    /// Not in the output: what it asked for is lost unless done another way.
    NotMapped,
}

impl Outcome {
    /// The word in the report.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Mapped => "mapped",
            Outcome::Differs => "mapped, differs",
            Outcome::NoEffect => "no effect",
            Outcome::NotMapped => "NOT MAPPED",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `namespace/name` of the Ingress.
    pub ingress: String,
    /// Annotation key (empty: the Ingress as a whole).
    pub annotation: String,
    /// Verdict.
    pub outcome: Outcome,
    /// What it became, what differs, or why it is lost.
    pub note: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.annotation.is_empty() {
            "Ingress"
        } else {
            &self.annotation
        };
        write!(f, "{:<15} {what}: {}", self.outcome.label(), self.note)
    }
}

/// The verdict on annotation `key` before translation (translation may still refuse a value).
pub fn judge(key: &str) -> (Outcome, String) {
    if key == LEGACY_CLASS_ANNOTATION {
        return (Outcome::Mapped, "the routes are served by wsgate".into());
    }
    if key.starts_with(WSGATE_PREFIX) {
        return (Outcome::Mapped, "a WebSocketRoute spec field".into());
    }
    if key.starts_with(CERT_MANAGER) {
        return (
            Outcome::NotMapped,
            "cert-manager renews the spec.tls Secrets of Ingresses and Gateways only: create a cert-manager Certificate for them (or use --gateway) before the Ingress goes".into(),
        );
    }
    let Some(name) = key.strip_prefix(NGINX_PREFIX) else {
        return (
            Outcome::NoEffect,
            "not an ingress-nginx annotation; WebSocketRoutes do not carry it (keep it where its tool reads it)".into(),
        );
    };
    let base = if name.starts_with("canary-") {
        "canary"
    } else {
        name
    };
    match CATALOG.iter().find(|(n, _, _)| *n == base) {
        Some((_, Verdict::Honoured, what)) => (Outcome::Mapped, (*what).into()),
        Some((_, Verdict::Irrelevant, why)) => (Outcome::NoEffect, (*why).into()),
        Some((_, Verdict::Refused, why)) => (Outcome::NotMapped, (*why).into()),
        None => (Outcome::NotMapped, "unknown to this wsgate version".into()),
    }
}

/// The documents of one Ingress as YAML, its report as comments above them.
pub fn render<T: serde::Serialize>(label: &str, findings: &[Finding], docs: &[T]) -> String {
    let mut out = format!("# Ingress {label}, converted by wsgate migrate\n");
    for f in findings {
        let line = f.to_string().replace('\n', " ");
        out.push_str(&format!("#   {line}\n"));
    }
    out.push_str(&documents(docs));
    out
}

/// Documents as a YAML stream, each after `---`.
pub fn documents<T: serde::Serialize>(docs: &[T]) -> String {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        match crate::yaml::to_string(doc) {
            Ok(yaml) => out.push_str(&yaml),
            Err(e) => out.push_str(&format!("# cannot render a document: {e}\n")),
        }
    }
    out
}
