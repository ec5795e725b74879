//! A kubeconfig pointing at the stand-in: plain HTTP, no credentials.

use std::path::Path;

/// Writes a kubeconfig for `server` (e.g. `http://127.0.0.1:PORT`) to `path`.
pub fn write(path: &Path, server: &str) -> std::io::Result<()> {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {server}\nusers:\n- name: standin\n  user: {{}}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: standin\n    namespace: default\ncurrent-context: standin\n"
    );
    std::fs::write(path, text)
}
