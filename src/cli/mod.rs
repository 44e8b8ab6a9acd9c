//! The command line: `token-inspector <subcommand>`; no subcommand opens the window.

use clap::{Parser, Subcommand};

/// `println!` for the command line's output: when the reader went away (`| head`), the
/// process ends quietly with the exit code so far instead of panicking on a broken pipe.
macro_rules! outln {
    () => {
        $crate::cli::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with the same broken-pipe handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($arg)*))
    };
}

pub mod authorize;
pub mod background;
pub mod call;
pub mod client_args;
pub mod data_call_args;
pub mod decode;
pub mod discover;
pub mod exchange;
pub mod exit;
pub mod flow_run;
pub mod generated;
pub mod history;
pub mod keygen;
pub mod message_args;
pub mod mock_server;
pub mod output;
pub mod paynet;
pub mod profile;
pub mod render;
pub mod secret_arg;
pub mod token_management;

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
    /// Call an API with a token (Bearer or DPoP), and explain the answer.
    Call(Box<call::CallArgs>),
    /// PayNet's providers list (a client-credentials token, every page); --save DP_ID
    /// puts a provider's dp_id and resource server into the profile.
    Providers(Box<paynet::ProvidersArgs>),
    /// Revoke a consent at PayNet's resource server (a client-credentials token, then
    /// POST /consents/{id}/revoke).
    ConsentRevoke(Box<paynet::ConsentRevokeArgs>),
    /// Run a flow file: its steps with one session, each assertion judged (--junit for
    /// CI systems).
    Run(Box<flow_run::RunArgs>),
    /// Ask the introspection endpoint about a token (RFC 7662).
    Introspect(Box<token_management::TokenManagementArgs>),
    /// Revoke a token at the revocation endpoint (RFC 7009).
    Revoke(Box<token_management::TokenManagementArgs>),
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
    /// The exchanges made, per profile: list, show, diff two, export a support bundle.
    History(history::HistoryArgs),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(generated::CompletionsArgs),
    /// Print the man page (roff), generated from this command line's definition.
    Man(generated::ManArgs),
}

impl Command {
    /// True when the subcommand was asked for JSON (errors are then JSON too).
    fn json(&self) -> bool {
        match self {
            Command::Exchange(a) => a.json,
            Command::Authorize(a) => a.json,
            Command::Call(a) => a.json,
            Command::Providers(a) => a.common.json,
            Command::ConsentRevoke(a) => a.common.json,
            Command::Run(a) => a.json,
            Command::Introspect(a) | Command::Revoke(a) => a.json,
            Command::Decode(a) => a.json,
            Command::Discover(a) => a.json,
            Command::Keygen(a) => a.json,
            Command::Profile(a) => a.json,
            Command::MockServer(a) => a.json,
            Command::History(a) => a.json,
            Command::Completions(_) | Command::Man(_) => false,
        }
    }
}

/// Runs a subcommand and returns the process exit code. A failure is reported once,
/// here: one line on stderr, or with `--json` one `{"error": {"kind", "message"}}`
/// object on stdout, with the documented exit code.
pub async fn run(command: Command) -> Exit {
    let json = command.json();
    let result = match command {
        Command::Exchange(args) => exchange::run(*args).await,
        Command::Authorize(args) => authorize::run(*args).await,
        Command::Call(args) => call::run(*args).await,
        Command::Providers(args) => paynet::run_providers(*args).await,
        Command::ConsentRevoke(args) => paynet::run_consent_revoke(*args).await,
        Command::Run(args) => flow_run::run(*args).await,
        Command::Introspect(args) => {
            token_management::run(
                token_inspector::oauth::request::RequestKind::Introspect,
                *args,
            )
            .await
        }
        Command::Revoke(args) => {
            token_management::run(token_inspector::oauth::request::RequestKind::Revoke, *args).await
        }
        Command::Decode(args) => decode::run(*args).await,
        Command::Discover(args) => discover::run(args).await,
        Command::Keygen(args) => keygen::run(args).await,
        Command::Profile(args) => profile::run(args).await,
        Command::MockServer(args) => mock_server::run(args).await,
        Command::History(args) => history::run(args).await,
        Command::Completions(args) => generated::completions(&args),
        Command::Man(args) => generated::man(&args),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => report(&e, json),
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

/// A failure whose kind and exit code the subcommand already knows.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Classified {
    /// The JSON `kind`.
    pub kind: &'static str,
    /// The exit code.
    pub exit: Exit,
    /// What happened.
    pub message: String,
}

/// A failure already printed in full (a refused PAR with its diagnosis): only its
/// exit code is left to give.
#[derive(Debug, thiserror::Error)]
#[error("(reported above)")]
pub struct Reported(pub Exit);

/// A failure with its likely causes (a discovery that got no answer): printed with
/// them, in `--json` as `diagnosis`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Diagnosed {
    /// What failed.
    pub message: String,
    /// Why, as far as this client can tell.
    pub causes: Vec<token_inspector::diagnosis::Cause>,
}

/// Prints a failure as one line on stderr, or as one JSON object on stdout, and returns
/// its exit code.
pub fn report(error: &anyhow::Error, json: bool) -> Exit {
    if let Some(Reported(exit)) = error.downcast_ref::<Reported>() {
        return *exit;
    }
    let (kind, exit) = classify(error);
    let message = format!("{error:#}");
    // anyhow finds a context value by its own downcast, not through the chain.
    let causes = error
        .downcast_ref::<Diagnosed>()
        .map(|d| d.causes.as_slice())
        .unwrap_or_default();
    if json {
        let mut object = serde_json::json!({"error": {"kind": kind, "message": message}});
        if !causes.is_empty() {
            object["diagnosis"] = serde_json::json!(causes);
        }
        outln!("{}", output::pretty(&object));
    } else {
        eprintln!("error: {message}");
        if let Some(why) = output::why(causes) {
            eprintln!("{why}");
        }
    }
    exit
}

/// The kind of a failure and its exit code: transport and TLS failures are 3, a server
/// that answered with an error is 1, everything else (bad input, files, flags, the
/// keychain) is 2.
pub fn classify(error: &anyhow::Error) -> (&'static str, Exit) {
    use token_inspector::oauth::authorize::AuthorizeError;
    use token_inspector::oauth::discovery::DiscoveryError;
    use token_inspector::oauth::http::SendError;
    use token_inspector::session::settings::SettingsError;
    fn send(e: &SendError) -> (&'static str, Exit) {
        match e {
            SendError::Invalid(_) => ("input", Exit::Usage),
            SendError::Tls(_) => ("tls", Exit::Network),
            _ => ("network", Exit::Network),
        }
    }
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<Classified>() {
            return (e.kind, e.exit);
        }
        if cause.downcast_ref::<InputError>().is_some() {
            return ("input", Exit::Usage);
        }
        if let Some(e) = cause.downcast_ref::<SendError>() {
            return send(e);
        }
        if let Some(e) = cause.downcast_ref::<DiscoveryError>() {
            return match e {
                DiscoveryError::Send(e) => send(e),
                DiscoveryError::BadIssuer(_) => ("input", Exit::Usage),
                DiscoveryError::IssuerMismatch { .. } => ("discovery", Exit::Network),
                _ => ("server", Exit::ServerError),
            };
        }
        if let Some(e) = cause.downcast_ref::<AuthorizeError>() {
            return match e {
                AuthorizeError::Send(e) => send(e),
                AuthorizeError::Build(_) | AuthorizeError::Missing(_) => ("input", Exit::Usage),
                _ => ("server", Exit::ServerError),
            };
        }
        if let Some(e) = cause.downcast_ref::<SettingsError>() {
            return match e {
                SettingsError::Keychain { .. } | SettingsError::MissingSecret(_) => {
                    ("keychain", Exit::Usage)
                }
                _ => ("input", Exit::Usage),
            };
        }
        if cause
            .downcast_ref::<token_inspector::storage::secret_store::SecretStoreError>()
            .is_some()
        {
            return ("keychain", Exit::Usage);
        }
    }
    ("input", Exit::Usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base64url values (PKCE verifiers, codes, states, tokens) may start with '-':
    /// they are values, not flags.
    #[test]
    fn values_that_start_with_a_hyphen_are_values() {
        let cli = Cli::try_parse_from([
            "token-inspector",
            "exchange",
            "--code-verifier",
            "-Xy_0",
            "--state",
            "-s",
            "--code",
            "-c",
        ])
        .expect("parsed");
        let Some(Command::Exchange(args)) = cli.command else {
            panic!("not exchange");
        };
        assert_eq!(args.code_verifier.as_deref(), Some("-Xy_0"));
        assert_eq!(args.state.as_deref(), Some("-s"));
        assert_eq!(args.code.as_deref(), Some("-c"));
        let cli = Cli::try_parse_from(["token-inspector", "call", "https://rs/x", "--token", "-t"])
            .expect("parsed");
        assert!(matches!(cli.command, Some(Command::Call(a)) if a.token.as_deref() == Some("-t")));
    }
}
