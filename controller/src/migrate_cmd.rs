//! `wsgate migrate FILE...`: prints the WebSocketRoutes (with `--gateway NAME`: the Gateway,
//! HTTPRoutes and WebSocketPolicies) equivalent to the ingress-nginx Ingresses of the files
//! (`-` reads stdin), each Ingress's annotation report as comments
//! above its routes, and the annotations that cannot be mapped on stderr. With `--check`,
//! exits 1 when anything would be lost.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::migrate::{Form, Outcome, migrate};

/// Options of `wsgate migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Files with Ingress manifests (other kinds are skipped); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Exit 1 when an annotation or Ingress cannot be mapped (the output is printed either
    /// way).
    #[arg(long)]
    pub check: bool,
    /// Write Gateway API resources instead of WebSocketRoutes: HTTPRoutes and
    /// WebSocketPolicies attached to a Gateway of this name in each namespace (written too).
    #[arg(long, value_name = "NAME")]
    pub gateway: Option<String>,
}

/// Runs the conversion; returns the exit code (0 done, 1 something not mapped with
/// `--check`, 2 unreadable input).
pub fn run(args: &MigrateArgs) -> i32 {
    let mut text = String::new();
    for file in &args.files {
        match read(file) {
            Ok(t) => {
                text.push_str(&t);
                text.push_str("\n---\n");
            }
            Err(e) => {
                eprintln!("wsgate migrate: cannot read {}: {e}", file.display());
                return 2;
            }
        }
    }
    let form = match &args.gateway {
        Some(name) => Form::Gateway(name.clone()),
        None => Form::Routes,
    };
    let migration = match migrate(&text, &form) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("wsgate migrate: {e}");
            return 2;
        }
    };
    print!("{}", migration.yaml);
    let lost: Vec<_> = migration
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::NotMapped)
        .collect();
    for f in &lost {
        eprintln!("wsgate migrate: {}: {f}", f.ingress);
    }
    eprintln!(
        "wsgate migrate: {} Ingress(es) converted, {} document(s) of other kinds skipped, {} item(s) not mapped",
        migration.ingresses,
        migration.skipped,
        lost.len()
    );
    if args.check && migration.loses_something() {
        1
    } else {
        0
    }
}

fn read(path: &Path) -> std::io::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
}
