//! The command line: `token-inspector <subcommand>`; no subcommand opens the window.

use clap::{Parser, Subcommand};

pub mod authorize;
pub mod client_args;
pub mod decode;
pub mod discover;
pub mod exchange;
pub mod exit;
pub mod keygen;
pub mod mock_server;
pub mod output;
pub mod profile;

pub use exit::Exit;

/// Build, send and explain FAPI token exchanges.
#[derive(Debug, Parser)]
#[command(name = "token-inspector", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and send a token request (or show it: --dry-run, --curl) and explain the answer.
    Exchange(Box<exchange::ExchangeArgs>),
    /// Start an authorization (PKCE, state, nonce, PAR) and print the URL to open.
    Authorize(Box<authorize::AuthorizeArgs>),
    /// Decode a JWT/JWS/JWE, verify it and list findings.
    Decode(Box<decode::DecodeArgs>),
    /// Fetch an issuer's OpenID discovery document.
    Discover(discover::DiscoverArgs),
    /// Generate a signing key and print its public JWKS.
    Keygen(keygen::KeygenArgs),
    /// Manage saved profiles.
    Profile(profile::ProfileArgs),
    /// Run the embedded Open Finance sandbox authorization server.
    MockServer(mock_server::MockServerArgs),
}

/// Runs a subcommand and returns the process exit code.
pub async fn run(command: Command) -> Exit {
    match command {
        Command::Exchange(args) => exchange::run(*args).await,
        Command::Authorize(args) => authorize::run(*args).await,
        Command::Decode(args) => decode::run(*args).await,
        Command::Discover(args) => discover::run(args).await,
        Command::Keygen(args) => keygen::run(args).await,
        Command::Profile(args) => profile::run(args).await,
        Command::MockServer(args) => mock_server::run(args).await,
    }
}

/// A usage or input problem (exit 2): a bad flag value, an unreadable file, a profile
/// or keychain entry that is missing.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(String);

impl InputError {
    /// An input error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Maps an error at the command-line edge to its exit code: transport failures are 3,
/// everything else (bad input, bad files, bad flags) is 2.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<token_inspector::oauth::transport::SendError>() {
            return match e {
                token_inspector::oauth::transport::SendError::Invalid(_) => Exit::Usage,
                _ => Exit::Network,
            };
        }
    }
    Exit::Usage
}
