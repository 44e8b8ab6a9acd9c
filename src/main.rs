//! `token-inspector`: no subcommand opens the desktop app; subcommands run headless.

mod cli;

use clap::Parser;
use cli::{Cli, Exit};

fn main() {
    // No arguments opens the window, without building the command line's parser (clap
    // builds every subcommand's definition to parse even an empty line: code and memory
    // the window does not need).
    let command = if std::env::args_os().len() <= 1 {
        None
    } else {
        Cli::parse().command
    };
    // The command line prints only its own words; RUST_LOG opts into library logs (and
    // colour only when stderr is a terminal). Without it no subscriber is installed: the
    // events go nowhere, as with the filter "off", and its parser is never run.
    if std::env::var_os("RUST_LOG").is_some() {
        use std::io::IsTerminal as _;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(Exit::Usage.code());
        }
    };
    let code = match command {
        Some(command) => runtime.block_on(cli::run(command)).code(),
        None => run_gui(runtime.handle().clone()),
    };
    // A file dialog or keychain call still open when the window closes must not hold
    // the process: give background work two seconds, then leave.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    std::process::exit(code);
}

#[cfg(feature = "gui")]
fn run_gui(handle: tokio::runtime::Handle) -> i32 {
    match token_inspector::gui::run(handle) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            Exit::Usage.code()
        }
    }
}

#[cfg(not(feature = "gui"))]
fn run_gui(_handle: tokio::runtime::Handle) -> i32 {
    eprintln!("this build has no desktop app (built without the `gui` feature); see --help");
    Exit::Usage.code()
}
