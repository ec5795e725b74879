//! Kubernetes manifests in tests: multi-document YAML read as JSON values, and strict schema
//! validation with `kubernetes-validate` (installed by `scripts/install-test-deps.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::output_within;

/// Kubernetes versions manifests are validated against: the oldest the chart supports and
/// the newest schema bundled.
pub const KUBE_VERSIONS: [&str; 2] = ["1.30", "1.37"];

/// The documents of a YAML stream (empty ones dropped).
pub fn documents(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| serde_json::Value::deserialize(doc).expect("YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

/// `kubernetes-validate` from the project's tool directory; fails with the install command
/// when it is missing.
pub fn kubernetes_validate() -> PathBuf {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/kubernetes-validate");
    assert!(
        tool.exists(),
        "{} is missing: run `bash scripts/install-test-deps.sh`",
        tool.display()
    );
    tool
}

/// Validates `yaml` strictly (unknown fields refused) against every [`KUBE_VERSIONS`];
/// fails the test with the validator's message. Blocking.
pub fn validate_strict(yaml: &str) {
    let dir = crate::wsgate::Scratch::new("validate");
    let file = dir.path("manifest.yaml");
    std::fs::write(&file, yaml).expect("write manifest");
    for version in KUBE_VERSIONS {
        let out = output_within(
            Command::new(kubernetes_validate())
                .args(["--strict", "--quiet", "-k", version])
                .arg(&file),
            "kubernetes-validate",
            Duration::from_secs(60),
        );
        assert!(
            out.status.success(),
            "not valid for Kubernetes {version}:\n{}{}\n---\n{yaml}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
