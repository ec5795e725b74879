//! `wsgate validate --config FILE`: checks a routes file or Kubernetes manifests (`-` reads
//! stdin) the way `wsgate proxy` and the controller would, prints every error with its
//! document and field, and exits 0 when all is valid, 64 otherwise (as `wsgate proxy` does
//! for an invalid routes file).

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::validate::validate_documents;

/// Exit code of invalid input (the `EX_DATAERR` of sysexits, as `wsgate proxy` uses).
const EXIT_BAD_CONFIG: i32 = 64;

/// Options of `wsgate validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// File to check: a routes file, or manifests with WebSocketRoutes and Ingresses; `-`
    /// reads standard input.
    #[arg(long, short = 'c')]
    pub config: PathBuf,
}

/// Runs the check; returns the exit code.
pub fn run(args: &ValidateArgs) -> i32 {
    let (text, base) = match read(&args.config) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("wsgate: cannot read {}: {e}", args.config.display());
            return EXIT_BAD_CONFIG;
        }
    };
    let result = validate_documents(&text, &base);
    for e in &result.errors {
        eprintln!("{e}");
    }
    if result.errors.is_empty() {
        println!(
            "ok: {} document(s) valid, {} of other kinds not checked",
            result.checked, result.skipped
        );
        0
    } else {
        eprintln!("{} error(s)", result.errors.len());
        EXIT_BAD_CONFIG
    }
}

/// The text to check and the directory files named in it are relative to.
fn read(path: &Path) -> std::io::Result<(String, PathBuf)> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok((text, PathBuf::from(".")));
    }
    let text = std::fs::read_to_string(path)?;
    let base = wsgate_core::config::base_dir(path).to_path_buf();
    Ok((text, base))
}
