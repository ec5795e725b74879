//! `wsgate migrate` as users run it: the example Ingress of `manifests/examples/` and a
//! realistic ingress-nginx Ingress (from a file and from stdin) become WebSocketRoutes (or the
//! Gateway API form) that `wsgate validate` accepts; what cannot be mapped is named on stderr, and `--check` exits 1
//! for it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::{Scratch, binary};

/// A game server's Ingress: hashing by room, a connection limit, an nginx snippet and a
/// balancing algorithm wsgate does not have.
const GAME: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: game
  namespace: games
  annotations:
    nginx.ingress.kubernetes.io/upstream-hash-by: $arg_room
    nginx.ingress.kubernetes.io/limit-connections: "20"
    nginx.ingress.kubernetes.io/proxy-read-timeout: "600"
    nginx.ingress.kubernetes.io/load-balance: ewma
    nginx.ingress.kubernetes.io/server-snippet: |
      location /metrics { deny all; }
spec:
  ingressClassName: nginx
  rules:
    - host: play.example.com
      http:
        paths:
          - {path: /ws, pathType: Prefix, backend: {service: {name: game, port: {name: ws}}}}
"#;

/// Runs the binary with `args` (and `stdin` from a file when given): exit code, stdout,
/// stderr.
fn wsgate(args: &[&str], stdin: Option<&Path>) -> (i32, String, String) {
    let mut cmd = match stdin {
        None => {
            let mut c = Command::new(binary());
            c.args(args);
            c
        }
        Some(file) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("f=\"$1\"; shift; exec \"$0\" \"$@\" < \"$f\"")
                .arg(binary())
                .arg(file)
                .args(args);
            c
        }
    };
    let out = output_within(&mut cmd, "wsgate", Duration::from_secs(30));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn validates(dir: &Scratch, name: &str, yaml: &str) {
    let file = dir.path(name);
    std::fs::write(&file, yaml).expect("write");
    let path = file.to_string_lossy().to_string();
    let (code, out, err) = wsgate(&["validate", "--config", &path], None);
    assert_eq!(code, 0, "{out}{err}\n{yaml}");
}

#[e2e]
fn the_example_ingress_migrates_without_loss_and_validates() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../manifests/examples/ingress-nginx-annotations.yaml"
    );
    let (code, out, err) = wsgate(&["migrate", "--check", example], None);
    assert_eq!(code, 0, "nothing lost: {err}");
    assert!(err.contains("0 item(s) not mapped"), "{err}");
    assert!(out.contains("kind: WebSocketRoute"), "{out}");
    assert!(!out.contains("NOT MAPPED"), "{out}");
    let dir = Scratch::new("migrate-example");
    validates(&dir, "routes.yaml", &out);

    let (code, out, err) = wsgate(&["migrate", "--check", "--gateway", "edge", example], None);
    assert_eq!(
        code, 0,
        "nothing lost in the Gateway API form either: {err}"
    );
    for kind in ["HTTPRoute", "WebSocketPolicy", "Gateway", "GatewayClass"] {
        assert!(out.contains(&format!("kind: {kind}\n")), "{kind}: {out}");
    }
    validates(&dir, "gateway.yaml", &out);
}

#[e2e]
fn what_cannot_be_mapped_is_named_and_check_fails() {
    let dir = Scratch::new("migrate-game");
    let input = dir.path("game.yaml");
    std::fs::write(&input, GAME).expect("write");
    let (code, out, err) = wsgate(&["migrate", "-"], Some(&input));
    assert_eq!(code, 0, "without --check the conversion succeeds: {err}");
    for lost in ["server-snippet", "load-balance"] {
        let line = format!("NOT MAPPED      nginx.ingress.kubernetes.io/{lost}");
        assert!(err.contains(&line), "stderr names {lost}: {err}");
        assert!(
            out.contains(&line),
            "the output's report names {lost}: {out}"
        );
    }
    assert!(out.contains("maxConnectionsPerIP: 20"), "{out}");
    assert!(out.contains("idle: 600s"), "{out}");
    validates(&dir, "routes.yaml", &out);

    let path = input.to_string_lossy().to_string();
    let (check, same, _) = wsgate(&["migrate", "--check", &path], None);
    assert_eq!(check, 1, "--check fails when something is lost");
    assert_eq!(same, out, "the same output from a file and from stdin");

    let (missing, _, err) = wsgate(&["migrate", "/nonexistent/ingress.yaml"], None);
    assert_eq!(missing, 2, "{err}");
    assert!(
        err.contains("cannot read /nonexistent/ingress.yaml"),
        "{err}"
    );
}
