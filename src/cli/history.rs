//! `token-inspector history`: the exchanges this client made, per profile (newest
//! first), one shown whole, two compared, one exported as a support bundle. Every
//! exchange the command line sends is recorded here without its secrets.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{Exit, InputError, output};
use token_inspector::history::{self, HistoryEntry, HistoryStore, Search};

/// The history key of runs with no saved profile.
pub const NO_PROFILE: &str = "command line";

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The profile whose history to read (default: runs with no profile).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// One JSON value on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// List only answers with this status (`400`) or class (`4xx`).
    #[arg(long)]
    pub status: Option<String>,
    /// List only this grant type (`authorization_code`) or kind (`par`, `resource`).
    #[arg(long)]
    pub grant: Option<String>,
    /// List only answers with this OAuth error.
    #[arg(long)]
    pub error: Option<String>,
    /// List only the exchange with this x-fapi-interaction-id (or its start).
    #[arg(long)]
    pub interaction_id: Option<String>,
}

/// What `history` does.
#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Show one exchange whole: N (1 = newest) or the start of its id.
    Show {
        /// Which entry.
        entry: String,
    },
    /// Compare two exchanges (default: the newest success with the newest failure).
    Diff {
        /// The first (earlier) entry.
        a: Option<String>,
        /// The second entry.
        b: Option<String>,
    },
    /// A support bundle of one exchange (default: the newest): the interaction id, UTC
    /// times, the request without secrets, the response, findings and diagnosis.
    Bundle {
        /// Which entry (default 1, the newest).
        entry: Option<String>,
        /// Markdown (to paste in a ticket) or JSON.
        #[arg(long, value_enum, default_value = "markdown")]
        format: BundleFormat,
        /// Write it to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

/// The support bundle's form.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BundleFormat {
    /// Markdown.
    Markdown,
    /// JSON.
    Json,
}

fn store() -> anyhow::Result<HistoryStore> {
    HistoryStore::default_location().map_err(|e| InputError::new(e.to_string()).into())
}

fn pick<'a>(entries: &'a [HistoryEntry], which: &str) -> anyhow::Result<&'a HistoryEntry> {
    if let Ok(n) = which.parse::<usize>()
        && n >= 1
    {
        return entries.get(n - 1).ok_or_else(|| {
            InputError::new(format!(
                "the history has {} entries; there is no {n}",
                entries.len()
            ))
            .into()
        });
    }
    entries
        .iter()
        .find(|e| e.id.starts_with(which))
        .ok_or_else(|| {
            InputError::new(format!(
                "no history entry {which:?} (give N, 1 = newest, or an id)"
            ))
            .into()
        })
}

/// Runs `history`.
pub async fn run(args: HistoryArgs) -> anyhow::Result<Exit> {
    let profile = args.profile.as_deref().unwrap_or(NO_PROFILE);
    let store = store()?;
    let entries = store.list(profile)?;
    match &args.action {
        None => {
            let search = Search {
                status: args.status.clone(),
                grant: args.grant.clone(),
                error: args.error.clone(),
                interaction_id: args.interaction_id.clone(),
            };
            let found: Vec<(usize, &HistoryEntry)> = entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.matches(&search))
                .collect();
            if args.json {
                let list: Vec<_> = found
                    .iter()
                    .map(|(i, e)| {
                        json!({"n": i + 1, "id": e.id, "sent_at": e.sent_at, "kind": e.kind,
                            "url": e.request["url"], "status": e.status, "error": e.error,
                            "interaction_id": e.interaction_id})
                    })
                    .collect();
                outln!("{}", output::pretty(&json!(list)));
            } else if found.is_empty() {
                outln!(
                    "no exchanges in the history of {profile:?}{}",
                    if entries.is_empty() { "" } else { " match" }
                );
            } else {
                for (i, e) in found {
                    outln!("{:>3}  {}", i + 1, e.summary());
                }
            }
        }
        Some(HistoryAction::Show { entry }) => {
            let e = pick(&entries, entry)?;
            if args.json {
                outln!("{}", output::pretty(&serde_json::to_value(e)?));
            } else {
                outln!("{}", token_inspector::support_bundle::markdown(e));
            }
        }
        Some(HistoryAction::Diff { a, b }) => {
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (pick(&entries, a)?, pick(&entries, b)?),
                (Some(_), None) | (None, Some(_)) => {
                    return Err(InputError::new(
                        "give two entries, or none (the newest success and the newest failure)",
                    )
                    .into());
                }
                (None, None) => {
                    let failure = entries
                        .iter()
                        .find(|e| !e.is_success())
                        .ok_or_else(|| InputError::new("the history has no failure to compare"))?;
                    let success = entries
                        .iter()
                        .find(|e| e.is_success() && e.kind == failure.kind)
                        .ok_or_else(|| {
                            InputError::new(format!(
                                "the history has no success of {} to compare with",
                                failure.kind
                            ))
                        })?;
                    (success, failure)
                }
            };
            let diff = history::compare(a, b);
            if args.json {
                outln!(
                    "{}",
                    output::pretty(&json!({"a": a.id, "b": b.id, "differences": diff}))
                );
            } else {
                outln!("a: {}\nb: {}\n", a.summary(), b.summary());
                if diff.is_empty() {
                    outln!("no differences");
                }
                for d in &diff {
                    outln!(
                        "{}{}\n    a: {}\n    b: {}",
                        d.what,
                        if d.expected {
                            "  (changes on every request)"
                        } else {
                            ""
                        },
                        d.before.as_deref().unwrap_or("(absent)"),
                        d.after.as_deref().unwrap_or("(absent)")
                    );
                }
            }
        }
        Some(HistoryAction::Bundle { entry, format, out }) => {
            let e = pick(&entries, entry.as_deref().unwrap_or("1"))?;
            let text = match format {
                BundleFormat::Markdown => token_inspector::support_bundle::markdown(e),
                BundleFormat::Json => output::pretty(&token_inspector::support_bundle::json(e)),
            };
            match out {
                Some(path) => {
                    std::fs::write(path, &text)
                        .map_err(|err| InputError::new(format!("{}: {err}", path.display())))?;
                    eprintln!("wrote the support bundle to {}", path.display());
                }
                None => outln!("{text}"),
            }
        }
    }
    Ok(Exit::Ok)
}
