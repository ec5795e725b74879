//! The README's "Sidecar" section stays true: every YAML in it goes through the real
//! `wsgate inject`, and what comes out is what the section says and valid for Kubernetes.

use std::process::Command;
use std::time::Duration;

use wsgate_tests::e2e;
use wsgate_tests::manifests::{documents, validate_strict};
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::{Scratch, binary};

const README: &str = include_str!("../../README.md");

/// The YAML blocks between `## Sidecar` and the next `## ` heading.
fn sidecar_yaml_blocks() -> Vec<String> {
    let start = README.find("\n## Sidecar\n").expect("a Sidecar section");
    let rest = &README[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let section = &rest[..end];
    section
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().expect("closed block").to_string())
        .collect()
}

#[e2e]
fn every_sidecar_yaml_in_the_readme_injects_into_a_valid_pod() {
    let blocks = sidecar_yaml_blocks();
    assert!(!blocks.is_empty(), "the section shows its YAML");
    for block in blocks {
        let dir = Scratch::new("readme");
        let file = dir.path("block.yaml");
        std::fs::write(&file, &block).expect("write");
        let out = output_within(
            Command::new(binary()).arg("inject").arg(&file),
            "wsgate inject",
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}\n{block}");
        assert!(
            !stderr.contains("warning"),
            "the README's example is clean: {stderr}"
        );
        let injected = String::from_utf8(out.stdout).expect("utf-8");
        validate_strict(&injected);
        for doc in documents(&injected) {
            let pod = &doc["spec"]["template"]["spec"];
            let sidecar = &pod["initContainers"][0];
            assert_eq!(sidecar["restartPolicy"], "Always");
            assert_eq!(
                pod["terminationGracePeriodSeconds"], 65,
                "as the section says"
            );
            let fronting = sidecar["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .find(|p| p["name"] == "http")
                .cloned();
            assert_eq!(
                fronting.map(|p| p["containerPort"].clone()),
                Some(8443.into()),
                "targetPort http reaches wss://"
            );
            assert_eq!(
                pod["containers"][0]["readinessProbe"]["httpGet"]["port"],
                3000
            );
        }
    }
}
