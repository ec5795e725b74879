//! The `wsgate` binary the tests run: built from this checkout by the tests themselves, so a
//! test can never exercise a stale build.
//!
//! The first call in a test process runs `cargo build -p wsgate --bin wsgate` (same profile
//! and target directory as the tests; a no-op of well under a second when nothing changed)
//! and every later call returns the same path. `WSGATE_BIN=/path/to/wsgate` skips the build
//! and tests exactly that file, e.g. a release build or a binary taken from an image (a
//! relative path is taken from the repository root, since cargo runs tests in `tests/`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Path of the `wsgate` binary: `WSGATE_BIN`, else this checkout's freshly built one.
pub fn binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match std::env::var_os("WSGATE_BIN") {
        Some(path) => {
            let path = workspace().join(path);
            assert!(
                path.is_file(),
                "WSGATE_BIN={} is not a file",
                path.display()
            );
            path
        }
        None => build().unwrap_or_else(|e| panic!("building wsgate for the tests failed: {e}")),
    })
    .clone()
}

/// Runs `cargo build -p wsgate --bin wsgate` and returns the executable cargo reports.
fn build() -> Result<PathBuf, String> {
    let workspace = workspace();
    // `cargo test` sets CARGO; run directly, the test binary finds cargo on PATH.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "-p", "wsgate", "--bin", "wsgate"])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        // Diagnostics and progress go to the terminal; stdout carries the JSON messages.
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Variables cargo sets for running this test describe the tests crate; build scripts
    // that track them (ring's does) would see a changed environment and rebuild everything.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(describes_the_running_crate) {
            cmd.env_remove(key);
        }
    }
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if std::env::var_os("CARGO_TARGET_DIR").is_none()
        && let Some(dir) = own_target_dir()
    {
        // Same target directory as this test binary, even when cargo got `--target-dir`.
        cmd.arg("--target-dir").arg(dir);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("running {}: {e}", cargo.to_string_lossy()))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p wsgate` exited with {} (its errors are printed above)",
            out.status
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "wsgate")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo reported no wsgate executable".to_string())
}

/// The repository root (the workspace holding the tests crate).
pub fn workspace() -> &'static Path {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().unwrap_or(tests)
}

/// Set by cargo for the crate it runs (the Cargo book's "environment variables Cargo sets for
/// crates"), never by a user to configure a build.
fn describes_the_running_crate(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_BIN_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// The target directory this test executable was built in (`<dir>/<profile>/deps/<test>`),
/// recognised by the `CACHEDIR.TAG` cargo writes at its root.
fn own_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.parent()?;
    dir.join("CACHEDIR.TAG")
        .is_file()
        .then(|| dir.to_path_buf())
}
