//! The history: an exchange shown, a saved one shown or compared, its support bundle
//! copied or saved; and the saved history the worker read.

use super::{Action, App};
use crate::gui::state::Tab;
use crate::gui::worker::{Command, Event};

impl App {
    /// What a panel asked of this feature.
    pub(super) fn apply_history(&mut self, action: Action) {
        match action {
            Action::ShowHistory(i) if i < self.state.history.len() => {
                self.state.shown = Some(i);
                self.state.saved_shown = None;
                self.state.persisted.tab = Tab::Response;
            }
            Action::ShowSaved(i) if i < self.state.saved_history.len() => {
                self.state.saved_shown = Some(i);
                self.state.saved_compare = None;
                self.state.persisted.tab = Tab::Response;
            }
            Action::CompareSaved(i) => {
                let saved = &self.state.saved_history;
                if let Some(entry) = saved.get(i) {
                    // Older entries come after it (newest first).
                    let success = saved
                        .iter()
                        .skip(i + 1)
                        .find(|e| e.is_success() && e.kind == entry.kind);
                    self.state.saved_compare = Some(match success {
                        Some(s) => (
                            format!("Changed since the last success ({} UTC)", s.sent_at),
                            crate::history::compare(s, entry),
                        ),
                        None => (
                            "No earlier success of this kind to compare with".to_owned(),
                            Vec::new(),
                        ),
                    });
                }
            }
            Action::CompareSavedWith(i, j) => {
                let saved = &self.state.saved_history;
                if let (Some(shown), Some(other)) = (saved.get(i), saved.get(j)) {
                    // Newest first: the higher index is the earlier entry.
                    let (before, after) = if j > i {
                        (other, shown)
                    } else {
                        (shown, other)
                    };
                    self.state.saved_compare = Some((
                        // A summary starts with its time.
                        format!("From {} to {}", before.summary(), after.summary()),
                        crate::history::compare(before, after),
                    ));
                }
            }
            Action::CopyBundle(i) => {
                if let Some(entry) = self.state.saved_history.get(i) {
                    let text = crate::support_bundle::markdown(entry);
                    self.copy("support bundle", &text);
                }
            }
            Action::SaveBundle(i) => {
                if let Some(entry) = self.state.saved_history.get(i) {
                    let text = format!(
                        "{}\n## Bundle as JSON\n\n```json\n{}\n```\n",
                        crate::support_bundle::markdown(entry),
                        serde_json::to_string_pretty(&crate::support_bundle::json(entry))
                            .unwrap_or_default()
                    );
                    self.worker.send(Command::SaveText {
                        title: "Save the support bundle".into(),
                        file_name: format!(
                            "support-bundle-{}.md",
                            entry.interaction_id.as_deref().unwrap_or(&entry.id)
                        ),
                        text,
                    });
                }
            }
            _ => {}
        }
    }

    /// What the worker reported for this feature.
    pub(super) fn on_history_event(&mut self, event: Event) {
        let st = &mut self.state;
        if let Event::SavedHistory { profile, entries } = event
            && st.profile().is_some_and(|p| p.name == profile)
        {
            st.saved_history = entries;
            st.saved_history_of = Some(profile);
            st.saved_shown = None;
            st.saved_compare = None;
        }
    }
}
