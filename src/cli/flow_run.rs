//! `token-inspector run FLOW.toml`: runs a flow file's steps with one session, a line per
//! step as it ends (its status, its time, the failing assertion); `--junit OUT.xml` for CI
//! systems; `--report OUT.md` for a support ticket; `--json` for one object. Exit 0 when every assertion holds, 1 when one fails,
//! 2 for a flow that cannot be used, 3 when a step got no answer.

use std::path::PathBuf;

use clap::Args;

use super::client_args::ClientArgs;
use super::{Exit, InputError, output};
use token_inspector::flow::{self, StepOutcome};

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The flow file (TOML).
    pub flow: PathBuf,
    /// Write JUnit XML here (one testcase per step).
    #[arg(long, value_name = "OUT.xml")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown report here, fit for a support ticket (the support bundle's
    /// rules: no secret, credentials as fingerprints).
    #[arg(long, value_name = "OUT.md")]
    pub report: Option<PathBuf>,
    /// The client, when the flow names no profile (or to override it: --profile, --key…).
    #[command(flatten)]
    pub client: ClientArgs,
    /// How long a step approved in the browser (approve = "browser") waits for the
    /// redirect, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub listen_timeout: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn line(step: &StepOutcome) -> String {
    let status = step
        .status
        .map_or_else(|| "-".to_owned(), |s| s.to_string());
    let verdict = if step.passed() { "ok  " } else { "FAIL" };
    let mut text = format!(
        "{verdict} {:<28} {status:>4} {:>7.0} ms",
        step.name, step.elapsed_ms
    );
    if !step.passed() {
        text.push_str(&format!("  {}", step.failures.join("; ")));
    }
    text
}

/// Runs `run`.
pub async fn run(mut args: RunArgs) -> anyhow::Result<Exit> {
    let path = args.flow.display().to_string();
    let text = std::fs::read_to_string(&args.flow)
        .map_err(|e| InputError::new(format!("{path}: cannot read it: {e}")))?;
    let parsed = flow::parse(&path, &text).map_err(|e| InputError::new(e.to_string()))?;
    if args.client.profile.is_none() {
        args.client.profile.clone_from(&parsed.profile);
    }
    let mut session = args.client.session(args.json).await?;
    let json = args.json;
    // A step approved in the browser opens the system's browser (xdg-open and the like).
    let open = |url: &str| {
        open::that_detached(url).map_err(|e| format!("the browser was not opened: {e}"))
    };
    let options = flow::RunOptions {
        open: Some(&open),
        listen_timeout: std::time::Duration::from_secs(args.listen_timeout),
    };
    let outcome = flow::run(&mut session, &parsed, options, |step| {
        if !json {
            outln!("{}", line(step));
        }
    })
    .await;
    super::render::warnings(&session);
    if let Some(junit) = &args.junit {
        std::fs::write(junit, flow::junit(&outcome))
            .map_err(|e| InputError::new(format!("--junit {}: {e}", junit.display())))?;
    }
    if let Some(report) = &args.report {
        let profile = args.client.profile.as_deref().unwrap_or("flow");
        std::fs::write(report, flow::report(&outcome, profile))
            .map_err(|e| InputError::new(format!("--report {}: {e}", report.display())))?;
    }
    if json {
        outln!("{}", output::pretty(&serde_json::json!(outcome)));
    } else {
        let passed = outcome.steps.iter().filter(|s| s.passed()).count();
        outln!(
            "{}: {passed}/{} steps passed in {:.0} ms",
            outcome.name,
            parsed.steps.len(),
            outcome.elapsed_ms
        );
    }
    Ok(if outcome.network_error() {
        Exit::Network
    } else if outcome.passed() && outcome.steps.len() == parsed.steps.len() {
        Exit::Ok
    } else {
        Exit::ServerError
    })
}
