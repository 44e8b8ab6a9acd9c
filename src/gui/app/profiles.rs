//! Profiles: select, create (blank or from a preset), duplicate, rename, delete, import,
//! export, save and revert; and the worker's answers about them.

use super::{Action, App};
use crate::gui::state::{KeyState, LoadedKey, Notice, Tab};
use crate::gui::worker::{Command, Event};
use crate::storage::profile::Profile;

impl App {
    /// What a panel asked of this feature.
    pub(super) fn apply_profiles(&mut self, action: Action) {
        match action {
            Action::SelectProfile(i)
                if self.state.selected != Some(i) && i < self.state.profiles.len() =>
            {
                // Unsaved edits of the previous profile stay in memory (marked).
                self.state.selected = Some(i);
                self.state.key = KeyState::Unknown;
                self.state.dpop_key = None;
                self.dpop_requested_for = None;
                self.state.header_values = None;
                self.header_values_requested_for = None;
                self.state.session = None;
                self.state.discovery = None;
                self.state.client_notice = None;
                self.state.rename = None;
                self.after_select();
            }
            Action::NewProfile => {
                let mut n = 1;
                let name = loop {
                    let candidate = if n == 1 {
                        "New profile".to_owned()
                    } else {
                        format!("New profile {n}")
                    };
                    if !self.state.profiles.iter().any(|p| p.name == candidate) {
                        break candidate;
                    }
                    n += 1;
                };
                self.create_profile(Profile::new(&name, "https://"));
            }
            Action::NewFromPreset(id) => self.new_from_preset(id),
            Action::SetConsent(text) => {
                if let Some(i) = self.state.selected {
                    let mut profile = self.state.profiles[i].clone();
                    profile.consent = Some(text);
                    self.state.profiles[i] = profile.clone();
                    self.worker.send(Command::SaveProfile {
                        profile,
                        previous_name: None,
                        select: false,
                    });
                }
            }
            Action::DuplicateProfile => {
                if let Some(p) = self.state.profile() {
                    let mut copy = p.clone();
                    let mut name = format!("{} copy", p.name);
                    while self.state.profiles.iter().any(|q| q.name == name) {
                        name.push_str(" copy");
                    }
                    copy.name = name;
                    copy.local_sandbox = false;
                    // The copy keeps its secrets in its own entries (copied there).
                    copy.own_references();
                    self.worker.send(Command::DuplicateProfile {
                        from: p.name.clone(),
                        profile: copy,
                    });
                }
            }
            Action::StartRename => {
                self.state.rename = self.state.profile().map(|p| p.name.clone());
            }
            Action::CancelRename => self.state.rename = None,
            Action::ConfirmRename => self.confirm_rename(),
            Action::DeleteProfile => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::DeleteProfile { profile: p });
                }
            }
            Action::ImportProfile => self.worker.send(Command::ImportProfile),
            Action::ReplaceWithImport => {
                if let Some(shared) = self.state.pending_import.take() {
                    self.worker.send(Command::ImportReplacing(Box::new(shared)));
                }
            }
            Action::KeepExisting => {
                if let Some(shared) = self.state.pending_import.take() {
                    self.state.sidebar_notice = Some(Notice::info(format!(
                        "kept your \"{}\"; the imported profile was not saved",
                        shared.profile.name
                    )));
                }
            }
            Action::ExportProfile => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::ExportProfile { profile: p });
                }
            }
            Action::SaveProfile => {
                if let Some(p) = self.state.profile().cloned() {
                    let problems = p.validate();
                    if problems.is_empty() {
                        self.worker.send(Command::SaveProfile {
                            profile: p,
                            previous_name: None,
                            select: false,
                        });
                        self.state.client_notice = Some(Notice::info("saved"));
                    } else {
                        self.state.client_notice = Some(Notice::error(format!(
                            "not saved; fix: {}",
                            problems.join("; ")
                        )));
                    }
                }
            }
            Action::RevertProfile => {
                if let (Some(i), Some(saved)) = (self.state.selected, self.state.saved().cloned())
                    && let Some(p) = self.state.profiles.get_mut(i)
                {
                    *p = saved;
                }
            }
            _ => {}
        }
    }

    /// What the worker reported for this feature.
    pub(super) fn on_profiles_event(&mut self, event: Event) {
        let st = &mut self.state;
        match event {
            Event::Profiles { profiles, errors } => {
                st.profiles = profiles;
                st.profile_errors = errors;
                st.profiles_loaded = true;
                let wanted = st.persisted.selected_profile.clone();
                st.selected = wanted
                    .and_then(|w| st.profiles.iter().position(|p| p.name == w))
                    .or(if st.profiles.is_empty() {
                        None
                    } else {
                        Some(0)
                    });
                st.disk = st.profiles.clone();
                st.status = format!("{} profile(s) loaded", st.profiles.len());
                if st.selected.is_some() {
                    self.after_select();
                }
            }
            Event::ProfileSaved {
                profile,
                previous_name,
                select,
            } => {
                let profile = *profile;
                let key = previous_name.as_deref().unwrap_or(&profile.name).to_owned();
                let selected_name = st.profile().map(|p| p.name.clone());
                match st.profiles.iter().position(|p| p.name == key) {
                    Some(i) => st.profiles[i] = profile.clone(),
                    None => st.profiles.push(profile.clone()),
                }
                st.profiles.sort_by_key(|p| p.name.to_lowercase());
                let keep =
                    if select || selected_name.is_none() || selected_name.as_ref() == Some(&key) {
                        Some(profile.name.clone())
                    } else {
                        selected_name
                    };
                st.selected = keep.and_then(|n| st.profiles.iter().position(|p| p.name == n));
                let verb = if st.disk.iter().any(|d| d.name == key) {
                    "saved"
                } else {
                    "created"
                };
                st.record_saved(&profile, previous_name.as_deref());
                st.sidebar_notice = Some(Notice::info(format!("{verb} \"{}\"", profile.name)));
                if select {
                    self.after_select();
                }
            }
            Event::ProfileDeleted { name } => {
                st.profiles.retain(|p| p.name != name);
                st.selected = if st.profiles.is_empty() {
                    None
                } else {
                    Some(0)
                };
                st.disk.retain(|p| p.name != name);
                st.key = KeyState::Unknown;
                st.sidebar_notice = Some(Notice::info(format!("deleted \"{name}\"")));
                self.after_select();
            }
            _ => {}
        }
    }

    /// Applies the rename box: a new, unused name renames the profile (its key stays where it is).
    fn confirm_rename(&mut self) {
        let Some(new_name) = self.state.rename.take().map(|n| n.trim().to_owned()) else {
            return;
        };
        let Some(p) = self.state.profile().cloned() else {
            return;
        };
        if new_name.is_empty() {
            self.state.sidebar_notice = Some(Notice::error("a profile needs a name: type one"));
        } else if new_name != p.name && self.state.profiles.iter().any(|q| q.name == new_name) {
            self.state.sidebar_notice = Some(Notice::error(format!(
                "a profile named \"{new_name}\" exists: pick another name"
            )));
        } else if new_name != p.name {
            let mut renamed = p.clone();
            // The secrets move with it to its own entries (the worker moves them).
            renamed.name = new_name;
            renamed.own_references();
            if let Some(l) = self.state.loaded_key().cloned() {
                self.state.key = KeyState::Loaded(LoadedKey {
                    profile: renamed.name.clone(),
                    ..l
                });
            }
            self.worker.send(Command::SaveProfile {
                profile: renamed,
                previous_name: Some(p.name),
                select: true,
            });
        }
    }

    /// A new profile from an ecosystem preset, named after it (numbered when taken).
    fn new_from_preset(&mut self, id: String) {
        if let Some(preset) = crate::storage::presets::find(&id) {
            let mut name = preset.name.clone();
            let mut n = 2;
            while self.state.profiles.iter().any(|p| p.name == name) {
                name = format!("{} {n}", preset.name);
                n += 1;
            }
            let profile = preset.to_profile(&name);
            self.state.client_notice = Some(Notice::info(format!(
                "Created from the {} preset (v{}). Fill in your client_id and redirect_uri, import the signing key and the transport certificate. Assertion aud: {}.",
                preset.name, preset.version, preset.aud_note
            )));
            self.create_profile(profile);
        }
    }

    /// Saves a new profile, selects it and opens the Client panel on it.
    fn create_profile(&mut self, profile: Profile) {
        self.state.persisted.selected_profile = Some(profile.name.clone());
        self.state.persisted.tab = Tab::Client;
        self.worker.send(Command::SaveProfile {
            profile,
            previous_name: None,
            select: true,
        });
    }
}
