//! The Flows view's work: the flow files of the profiles folder, and a run of one with
//! the profile's session, each step sent to the window as it ends.

use std::path::PathBuf;

use super::{Event, Inner};
use crate::oauth::request::ClientSecrets;
use crate::storage::profile::Profile;

impl Inner {
    /// Where flow files are kept: `flows/` in the profiles folder, beside the profiles.
    pub(super) fn flows_dir(&self) -> PathBuf {
        self.profiles.dir().join("flows")
    }

    /// Lists the flow files.
    pub(super) fn list_flows(&self) {
        self.emit(Event::Flows(crate::flow::list(&self.flows_dir())));
    }

    /// Writes a saved flow as a new file in flows/ (numbered when the name is taken),
    /// then lists the flows again.
    pub(super) fn save_flow(&self, stem: &str, text: &str) {
        let dir = self.flows_dir();
        let safe: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let result = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))
            .and_then(|()| {
                (1..1000)
                    .map(|n| match n {
                        1 => dir.join(format!("{safe}.toml")),
                        n => dir.join(format!("{safe}-{n}.toml")),
                    })
                    .find_map(|path| {
                        std::fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&path)
                            .ok()
                            .map(|file| (path, file))
                    })
                    .ok_or_else(|| format!("no free file name for {safe} in {}", dir.display()))
            })
            .and_then(|(path, mut file)| {
                use std::io::Write as _;
                file.write_all(text.as_bytes())
                    .map(|()| path.display().to_string())
                    .map_err(|e| format!("{}: {e}", path.display()))
            });
        self.emit(Event::FlowSaved(result));
        self.list_flows();
    }

    /// Runs the flow at `path` with `profile` (its key from the keychain).
    pub(super) async fn run_flow(&self, id: u64, profile: Profile, path: PathBuf) {
        let result = async {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{shown}: {e}"))?;
            let flow = crate::flow::parse(&shown, &text).map_err(|e| e.to_string())?;
            let secrets = ClientSecrets {
                signing_key: self.load_key(&profile).await?,
                client_secret: None,
            };
            let mut session = self
                .session(&profile, secrets)
                .await
                .map_err(|e| format!("{e:#}"))?;
            // The app approves at the embedded sandbox; a browser step needs the CLI.
            let options = crate::flow::RunOptions::default();
            let outcome = crate::flow::run(&mut session, &flow, options, |step| {
                self.emit(Event::FlowStep {
                    id,
                    step: Box::new(step.clone()),
                });
            })
            .await;
            let passed = outcome.steps.iter().filter(|s| s.passed()).count();
            let summary = format!(
                "{}: {passed}/{} steps passed in {:.0} ms",
                outcome.name,
                flow.steps.len(),
                outcome.elapsed_ms
            );
            if outcome.passed() && outcome.steps.len() == flow.steps.len() {
                Ok(summary)
            } else {
                Err(summary)
            }
        }
        .await;
        self.emit(Event::FlowDone { id, result });
        self.load_history(profile.name).await;
    }
}
