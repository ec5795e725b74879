//! `wsgate inject`: reads Kubernetes YAML (files or standard input, multi-document) and writes
//! it back with wsgate as a native sidecar in every pod template, like `linkerd inject`;
//! `--uninject` takes it out again. Notes go to standard error.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;

use crate::inject::sidecar::default_image;
use crate::inject::{InjectError, Mode, process};

/// Options of `wsgate inject`.
#[derive(Debug, Args)]
pub struct InjectArgs {
    /// YAML files to read (`-` or none: standard input).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Take the sidecar out instead (restores what the injection changed).
    #[arg(long)]
    pub uninject: bool,
    /// Image of the injected wsgate container.
    #[arg(long, default_value_t = default_image())]
    pub image: String,
}

/// Runs the command; the documents go to standard output.
pub fn run(args: &InjectArgs) -> Result<(), InjectError> {
    let mut text = String::new();
    if args.files.is_empty() || args.files.iter().any(|f| f.as_os_str() == "-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| InjectError::Input(format!("standard input: {e}")))?;
    }
    for file in args.files.iter().filter(|f| f.as_os_str() != "-") {
        let content = std::fs::read_to_string(file)
            .map_err(|e| InjectError::Input(format!("{}: {e}", file.display())))?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&content);
    }
    let mode = if args.uninject {
        Mode::Uninject
    } else {
        Mode::Inject
    };
    let out = process(&text, mode, &args.image)?;
    for warning in &out.warnings {
        eprintln!("wsgate inject: warning: {warning}");
    }
    let verb = if args.uninject {
        "uninjected"
    } else {
        "injected"
    };
    eprintln!(
        "wsgate inject: {} pod template(s) {verb}, {} skipped (wsgate.dev/inject: disabled)",
        out.changed, out.skipped
    );
    std::io::stdout()
        .write_all(out.text.as_bytes())
        .map_err(|e| InjectError::Input(format!("standard output: {e}")))
}
