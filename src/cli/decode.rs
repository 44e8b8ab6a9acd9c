//! `token-inspector decode`: owned by the JWT inspector work (issue 4).

use super::Exit;

/// Arguments of `decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The token, or `-` to read standard input.
    pub token: Option<String>,
}

/// Runs `decode`.
pub async fn run(_args: DecodeArgs) -> Exit {
    Exit::Usage
}
