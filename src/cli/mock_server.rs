//! `token-inspector mock-server`: owned by the sandbox work (issue 3).

use super::Exit;

/// Arguments of `mock-server`.
#[derive(Debug, clap::Args)]
pub struct MockServerArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
}

/// Runs `mock-server`.
pub async fn run(_args: MockServerArgs) -> Exit {
    Exit::Usage
}
