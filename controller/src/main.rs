//! `wsgate`: thin entry point; everything lives in the library crates.

use std::process::ExitCode;

use clap::Parser;
use wsgate::cli::{Cli, Command, LogFormat};
use wsgate::proxy_cmd::{self, EXIT_BAD_CONFIG, StartError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = cli.workers {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wsgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Proxy(args) => match runtime.block_on(async {
            match args.tables.tables_from.clone() {
                Some(url) => wsgate::tables_from_cmd::run(&args, &url).await,
                None => proxy_cmd::run(args).await,
            }
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(StartError::Config(e)) => {
                eprintln!("wsgate: invalid routes file: {e}");
                ExitCode::from(EXIT_BAD_CONFIG as u8)
            }
            Err(StartError::Other(e)) => {
                eprintln!("wsgate: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Validate(args) => ExitCode::from(wsgate::validate_cmd::run(&args) as u8),
        Command::Migrate(args) => ExitCode::from(wsgate::migrate_cmd::run(&args) as u8),
        Command::Crd => match wsgate::policy_crd::all_crds_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("wsgate: cannot render the CRD: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Inject(args) => match wsgate::inject_cmd::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wsgate inject: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Controller(args) => match runtime.block_on(wsgate::controller_cmd::run(*args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wsgate: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WSGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only on a terminal: log files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
