use std::path::PathBuf;

use super::*;
use crate::compile::{compile_route, resolve_static_backend};
use crate::config::{LoadError, load_in};
use crate::table::RouteId;

/// A scratch directory holding the test certificates, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("wsgate-compile-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("certs")).expect("mkdir");
        let files: [(&str, &[u8]); 5] = [
            (
                "certs/rsa.crt",
                include_bytes!("../cert/testdata/rsa-chain.crt"),
            ),
            ("certs/rsa.key", include_bytes!("../cert/testdata/rsa.key")),
            (
                "certs/ecdsa.key",
                include_bytes!("../cert/testdata/ecdsa.key"),
            ),
            ("certs/ca.crt", include_bytes!("../cert/testdata/ca.crt")),
            (
                "certs/junk.pem",
                b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
            ),
        ];
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).expect("write fixture");
        }
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn doc(spec_tail: &str) -> String {
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: chat}}\nspec:\n  hostnames: [chat.example.com]\n  rules:\n    - backend:\n        addresses: [\"127.0.0.1:9000\"]\n{spec_tail}"
    )
}

fn load(dir: &Dir, spec_tail: &str) -> Result<crate::config::LoadedConfig, String> {
    load_in(&doc(spec_tail), &dir.0).0.map_err(|e| match e {
        LoadError::Field(f) => f.to_string(),
        other => panic!("expected a field error, got {other}"),
    })
}

#[test]
fn cert_and_key_files_become_table_data_with_policy() {
    let dir = Dir::new("ok");
    let loaded = load(
        &dir,
        "  tls: {certFile: certs/rsa.crt, keyFile: certs/rsa.key, minVersion: \"1.3\", redirectHttp: true}\n",
    )
    .expect("valid");
    let route = &loaded.table.routes[0];
    let tls = route.tls.as_ref().expect("certificate loaded");
    assert_eq!(
        &tls.cert_chain_pem[..],
        include_bytes!("../cert/testdata/rsa-chain.crt")
    );
    assert_eq!(&tls.key_pem[..], include_bytes!("../cert/testdata/rsa.key"));
    assert_eq!(tls.min_version, TlsVersion::Tls13);
    assert!(route.policy.redirect_http);
    let read: Vec<_> = loaded.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        read,
        vec![dir.0.join("certs/rsa.crt"), dir.0.join("certs/rsa.key")]
    );
}

#[test]
fn broken_or_mismatched_material_names_route_and_field() {
    let dir = Dir::new("bad");
    let cases = [
        (
            "  tls: {certFile: certs/rsa.crt, keyFile: certs/ecdsa.key}\n",
            "chat: spec.tls.keyFile: the private key does not match",
        ),
        (
            "  tls: {certFile: certs/missing.crt, keyFile: certs/rsa.key}\n",
            "chat: spec.tls.certFile: ",
        ),
        (
            "  tls: {certFile: certs/junk.pem, keyFile: certs/rsa.key}\n",
            "chat: spec.tls.certFile: invalid PEM certificate",
        ),
        (
            "  tls: {certFile: certs/rsa.key, keyFile: certs/rsa.key}\n",
            "chat: spec.tls.certFile: no PEM certificate",
        ),
        (
            "  tls: {certFile: certs/rsa.crt, keyFile: certs/rsa.crt}\n",
            "chat: spec.tls.keyFile: no PEM private key",
        ),
        (
            "  tls: {certFile: certs/rsa.crt}\n",
            "chat: spec.tls.keyFile: is required with certFile",
        ),
        (
            "  tls: {secretName: chat-tls}\n",
            "chat: spec.tls.secretName: secretName needs the controller",
        ),
        (
            "  tls: {secretName: chat-tls, certFile: certs/rsa.crt, keyFile: certs/rsa.key}\n",
            "chat: spec.tls: give either",
        ),
        (
            "  tls: {minVersion: \"1.3\"}\n",
            "chat: spec.tls.minVersion: applies to the route's own certificate",
        ),
        (
            "  tls: {certFile: certs/rsa.crt, keyFile: certs/rsa.key, minVersion: \"1.1\"}\n",
            "chat: spec.tls.minVersion: unknown variant",
        ),
    ];
    for (tail, want) in cases {
        let err = load(&dir, tail).expect_err(tail);
        assert!(err.starts_with(want), "{tail}: got {err:?}, want {want:?}");
    }
    let err = load(
        &dir,
        "  tls: {certFile: certs/missing.crt, keyFile: certs/rsa.key}\n",
    )
    .expect_err("missing");
    assert!(err.contains("missing.crt"), "names the file: {err}");
}

#[test]
fn redirect_alone_uses_other_routes_certificates() {
    let dir = Dir::new("redirect");
    let loaded = load(&dir, "  tls: {redirectHttp: true}\n").expect("valid");
    assert!(loaded.table.routes[0].tls.is_none());
    assert!(loaded.table.routes[0].policy.redirect_http);
}

fn backend_tls(dir: &Dir, tls: &str) -> Result<Option<Arc<UpstreamTls>>, String> {
    let text = format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: up}}\nspec:\n  rules:\n    - backend:\n        addresses: [\"127.0.0.1:9443\"]\n        tls: {tls}\n"
    );
    match load_in(&text, &dir.0).0 {
        Ok(loaded) => Ok(loaded.table.routes[0].rules[0].upstream_tls.clone()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn backend_tls_needs_a_ca_or_an_explicit_skip() {
    let dir = Dir::new("upstream");
    let verified = backend_tls(&dir, "{caFile: certs/ca.crt, serverName: api.internal}")
        .expect("valid")
        .expect("tls");
    assert_eq!(
        verified.ca_pem.as_deref(),
        Some(&include_bytes!("../cert/testdata/ca.crt")[..])
    );
    assert_eq!(verified.server_name.as_deref(), Some("api.internal"));
    assert!(!verified.insecure_skip_verify);
    let skip = backend_tls(&dir, "{insecureSkipVerify: true}")
        .expect("valid")
        .expect("tls");
    assert!(skip.insecure_skip_verify && skip.ca_pem.is_none());

    let field = "up: spec.rules[0].backend.tls";
    let cases = [
        ("{}", format!("{field}: give caFile")),
        (
            "{caFile: certs/ca.crt, insecureSkipVerify: true}",
            format!("{field}: caFile and insecureSkipVerify exclude"),
        ),
        (
            "{caFile: certs/rsa.key}",
            format!("{field}.caFile: no PEM certificate"),
        ),
        ("{caFile: certs/none.crt}", format!("{field}.caFile: ")),
        (
            "{insecureSkipVerify: true, serverName: \"bad name!\"}",
            format!("{field}.serverName: "),
        ),
    ];
    for (tls, want) in cases {
        let err = backend_tls(&dir, tls).expect_err(tls);
        assert!(err.starts_with(&want), "{tls}: got {err:?}, want {want:?}");
    }
}

#[test]
fn the_cluster_path_leaves_secret_names_to_the_caller_and_refuses_files() {
    let spec_with = |tls: TlsSpec| crate::spec::RouteSpec {
        rules: vec![crate::spec::RuleSpec {
            path: None,
            backend: crate::spec::BackendSpec {
                addresses: Some(vec!["127.0.0.1:9000".into()]),
                ..Default::default()
            },
            ..Default::default()
        }],
        tls: Some(tls),
        ..Default::default()
    };
    let id = RouteId {
        namespace: "apps".into(),
        name: "chat".into(),
    };
    let secret = spec_with(TlsSpec {
        secret_name: Some("chat-tls".into()),
        redirect_http: Some(true),
        ..Default::default()
    });
    let route = compile_route(id.clone(), &secret, &resolve_static_backend).expect("valid");
    assert!(route.tls.is_none(), "the controller fills the certificate");
    assert!(route.policy.redirect_http);
    let files = spec_with(TlsSpec {
        cert_file: Some("a.crt".into()),
        key_file: Some("a.key".into()),
        ..Default::default()
    });
    let err = compile_route(id, &files, &resolve_static_backend).expect_err("files in a cluster");
    assert!(
        err.to_string().contains("in a cluster use secretName"),
        "{err}"
    );
}
