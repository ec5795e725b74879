//! `wsgate validate` on every YAML users are shown (README, `examples/`,
//! `manifests/examples/`): all valid; and on broken variants, each named by its field, with
//! exit 64, from a file and from stdin.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_yaml::{Mapping, Value};
use support::certs::{Alg, Ca};
use support::write_pair;
use wsgate_tests::binary::{binary, workspace};
use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::Scratch;

/// Runs `wsgate validate --config <file>`; returns the exit code and what it printed.
fn validate(file: &Path) -> (i32, String) {
    let mut cmd = Command::new(binary());
    cmd.args(["validate", "--config"]).arg(file);
    run(cmd)
}

/// Runs `wsgate validate --config -` with `text` on stdin.
fn validate_stdin(text: &str) -> (i32, String) {
    let dir = Scratch::new("validate-stdin");
    let file = dir.path("input.yaml");
    std::fs::write(&file, text).expect("write input");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("exec \"$0\" validate --config - < \"$1\"")
        .arg(binary())
        .arg(&file);
    run(cmd)
}

fn run(mut cmd: Command) -> (i32, String) {
    let out = output_within(&mut cmd, "wsgate validate", Duration::from_secs(30));
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), said)
}

/// The README's YAML blocks as complete documents: a fragment (`spec:` alone, or a
/// document without `apiVersion`, `metadata` or `rules`) is completed the way a reader
/// would; blocks that are not wsgate or Kubernetes objects (Helm values, pod specs) are
/// left out.
fn readme_documents() -> Vec<(usize, String)> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let mut docs = Vec::new();
        for part in block.split("\n---\n") {
            let doc: Value = serde_yaml::from_str(part).expect("README YAML parses");
            if let Some(doc) = complete(doc, i) {
                docs.push(serde_yaml::to_string(&doc).expect("yaml"));
            }
        }
        if !docs.is_empty() {
            out.push((i + 1, docs.join("---\n")));
        }
    }
    out
}

fn complete(doc: Value, block: usize) -> Option<Value> {
    let Value::Mapping(mut map) = doc else {
        return None;
    };
    let key = |k: &str| Value::String(k.into());
    if !map.contains_key(key("kind")) {
        if !map.contains_key(key("spec")) || map.len() != 1 {
            return None; // Helm values, a pod spec: not an object
        }
        map.insert(key("kind"), key("WebSocketRoute"));
    }
    let kind = map
        .get(key("kind"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !map.contains_key(key("apiVersion")) {
        map.insert(key("apiVersion"), key("wsgate.dev/v1alpha1"));
    }
    if !map.contains_key(key("metadata")) {
        let mut meta = Mapping::new();
        meta.insert(key("name"), Value::String(format!("readme-{block}")));
        map.insert(key("metadata"), Value::Mapping(meta));
    }
    if kind == "WebSocketRoute" {
        let spec = map
            .entry(key("spec"))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(spec) = spec
            && !spec.contains_key(key("rules"))
        {
            let rules: Value =
                serde_yaml::from_str("[{backend: {addresses: [\"127.0.0.1:3000\"]}}]")
                    .expect("rules");
            spec.insert(key("rules"), rules);
        }
    }
    Some(Value::Mapping(map))
}

#[e2e]
fn every_yaml_users_are_shown_is_valid() {
    let root = workspace();
    let mut files: Vec<_> = ["examples", "manifests/examples"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).expect("dir"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    // The TLS example names certificates its script makes: made here beside a copy.
    let dir = Scratch::new("validate-examples");
    let ca = Ca::root("validate example CA");
    write_pair(&dir.path("certs"), &ca.leaf(&["localhost"], Alg::Ecdsa));
    for file in files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let checked = dir.path(&name);
        std::fs::copy(&file, &checked).expect("copy");
        let (code, said) = validate(&checked);
        assert_eq!(code, 0, "{}: {said}", file.display());
        assert!(said.starts_with("ok: "), "{said}");
    }
    // The README's files live in a pod's volumes; here, the same names point into the
    // scratch directory (a ticket key and the certificate made above).
    std::fs::write(dir.path("ticket.key"), [7u8; 32]).expect("key");
    let files = [
        ("/etc/wsgate/ticket.key", dir.path("ticket.key")),
        ("/etc/wsgate-tls/tls.crt", dir.path("certs/tls.crt")),
        ("/etc/wsgate-tls/tls.key", dir.path("certs/tls.key")),
    ];
    let readme = readme_documents();
    assert!(readme.len() >= 6, "README blocks found: {}", readme.len());
    for (block, text) in readme {
        let text = files.iter().fold(text, |t, (from, to)| {
            t.replace(from, &to.display().to_string())
        });
        let (code, said) = validate_stdin(&text);
        assert_eq!(code, 0, "README yaml block {block}:\n{text}\n{said}");
    }
}

#[e2e]
fn broken_documents_exit_64_naming_each_field() {
    let route = |spec: &str| {
        format!(
            "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: r{}}}\nspec:\n{spec}",
            // A name per case (from its text), so no two cases are one route twice.
            spec.bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        )
    };
    let rule = "  rules: [{backend: {addresses: [\"127.0.0.1:3000\"]}}]\n";
    let cases = [
        (
            route(&format!("  timeouts: {{idle: soon}}\n{rule}")),
            "spec.timeouts.idle",
        ),
        (
            route("  rules: [{path: {value: nope}, backend: {addresses: [\"127.0.0.1:1\"]}}]\n"),
            "spec.rules[0].path.value",
        ),
        (
            route(&format!("  limits: {{maxMessageBytes: 0}}\n{rule}")),
            "spec.limits.maxMessageBytes",
        ),
        (
            route(&format!("  hostnames: [\"a b\"]\n{rule}")),
            "spec.hostnames[0]",
        ),
        (
            route(&format!("  accessLog: {{samplePercent: 101}}\n{rule}")),
            "spec.accessLog.samplePercent",
        ),
        (
            route(&format!("  origins: {{allowed: []}}\n{rule}")),
            "spec.origins",
        ),
        (
            route("  rules: [{backend: {addresses: [\"nowhere\"]}}]\n"),
            "spec.rules[0].backend",
        ),
    ];
    let dir = Scratch::new("validate-broken");
    for (i, (yaml, field)) in cases.iter().enumerate() {
        let file = dir.path(&format!("broken-{i}.yaml"));
        std::fs::write(&file, yaml).expect("write");
        let (code, said) = validate(&file);
        assert_eq!(code, 64, "{yaml}\n{said}");
        assert!(
            said.contains(&format!(": {field}")),
            "{field} not named:\n{yaml}\n{said}"
        );
    }
    // All at once on stdin: every one reported, not only the first.
    let all: Vec<&str> = cases.iter().map(|(y, _)| y.as_str()).collect();
    let (code, said) = validate_stdin(&all.join("---\n"));
    assert_eq!(code, 64, "{said}");
    for (i, (_, field)) in cases.iter().enumerate() {
        let doc = format!("document {} (WebSocketRoute default/", i + 1);
        assert!(
            said.lines()
                .any(|l| l.starts_with(&doc) && l.contains(field)),
            "{doc} {field} missing:\n{said}"
        );
    }
    assert!(
        said.contains(&format!("{} error(s)", cases.len())),
        "{said}"
    );
}

#[e2e]
fn l14_the_readme_spells_bind_client_ip_as_the_schema_does() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    assert!(
        readme.contains("bindClientIp:"),
        "the README shows the field"
    );
    assert!(!readme.contains("bindClientIP"), "the old spelling is gone");
    // The old spelling is refused by name, so a copied file fails loudly, not silently.
    let doc = "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: r}\nspec:\n  auth: {ticket: {key: \"0123456789abcdef0123\", bindClientIP: true}}\n  rules: [{backend: {addresses: [\"127.0.0.1:3000\"]}}]\n";
    let (code, said) = validate_stdin(doc);
    assert_eq!(code, 64, "{said}");
    assert!(said.contains("bindClientIP"), "{said}");
}
