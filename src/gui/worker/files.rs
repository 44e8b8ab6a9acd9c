//! Files: the profiles on disk (list, save, delete, import, export), text saved where the
//! user picks, files picked for the JWT panel and the mTLS certificate, the saved
//! history.

use anyhow::Context as _;

use super::{Area, Event, Inner};
use crate::gui::state::Notice;
use crate::storage::profile::{Profile, ProfileError, SharedProfile, read_shared};

impl Inner {
    pub(super) fn list_profiles(&self) {
        let (mut profiles, errors) = self.profiles.list();
        profiles.sort_by_key(|p| p.name.to_lowercase());
        self.emit(Event::Profiles {
            profiles,
            errors: errors.iter().map(ToString::to_string).collect(),
        });
    }

    pub(super) fn save_profile(
        &self,
        profile: Profile,
        previous_name: Option<String>,
        select: bool,
    ) {
        match self.profiles.save(&profile) {
            Ok(_) => {
                if let Some(old) = previous_name.as_deref().filter(|o| *o != profile.name) {
                    let _ = self.profiles.delete(old);
                }
                self.emit(Event::ProfileSaved {
                    profile: Box::new(profile),
                    previous_name,
                    select,
                });
            }
            Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
        }
    }

    pub(super) async fn delete_profile(&self, profile: Profile) {
        match self.profiles.delete(&profile.name) {
            Ok(()) => {
                // The key goes with the profile; the keychain may be unavailable.
                if profile.auth.key.is_none()
                    && let Ok(store) = self.store()
                {
                    let entry = profile.key_entry();
                    let _ = self.blocking(move || store.delete(&entry)).await;
                }
                self.emit(Event::ProfileDeleted { name: profile.name });
            }
            Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
        }
    }

    /// Imports a shared profile as untrusted input ([`read_shared`]): one of the same
    /// name is never replaced without asking.
    pub(super) async fn import_profile(&self) {
        match self.read_picked("Import a profile (TOML)").await {
            Ok(None) => {}
            Ok(Some((path, text))) => match read_shared(&text, &path) {
                Ok(shared) => self.import_shared(shared, false).await,
                Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
            },
            Err(e) => self.notice(Area::Sidebar, Notice::error(format!("{e:#}"))),
        }
    }

    /// Saves an imported profile (over one of the same name only when `replace`), and
    /// says what the import changed.
    pub(super) async fn import_shared(&self, shared: SharedProfile, replace: bool) {
        if !replace && self.profiles.load(&shared.profile.name).is_ok() {
            self.emit(Event::ImportConflict(Box::new(shared)));
            return;
        }
        for (entry, value) in &shared.header_secrets {
            if let Err(e) = self.secret_set(entry.clone(), value.clone()).await {
                self.notice(
                    Area::Sidebar,
                    Notice::error(format!(
                        "not imported: a secret header value could not be kept in the keychain ({e:#})"
                    )),
                );
                return;
            }
        }
        match self.profiles.import(&shared, replace) {
            Ok(_) => {
                self.emit(Event::ProfileSaved {
                    profile: Box::new(shared.profile.clone()),
                    previous_name: None,
                    select: true,
                });
                if !shared.notes.is_empty() {
                    self.notice(Area::Sidebar, Notice::error(shared.notes.join("\n")));
                }
            }
            Err(ProfileError::Exists(_)) => self.emit(Event::ImportConflict(Box::new(shared))),
            Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
        }
    }

    pub(super) async fn export_profile(&self, profile: Profile) {
        let name = format!("{}.toml", crate::storage::profile::file_stem(&profile.name));
        self.save_text("Export the profile", name, profile.to_toml(), Area::Sidebar)
            .await;
    }

    pub(super) async fn save_text(&self, title: &str, file_name: String, text: String, area: Area) {
        let files = self.files.clone();
        let title = title.to_owned();
        let picked = self
            .blocking(move || files.save_file(&title, &file_name))
            .await;
        match picked {
            Ok(Some(path)) => match tokio::fs::write(&path, text).await {
                Ok(()) => self.notice(area, Notice::info(format!("saved {}", path.display()))),
                Err(e) => self.notice(
                    area,
                    Notice::error(format!("cannot write {}: {e}", path.display())),
                ),
            },
            Ok(None) => {}
            Err(e) => self.notice(area, Notice::error(format!("{e:#}"))),
        }
    }

    pub(super) async fn pick_mtls_cert(&self) {
        match self.pick_file("mTLS client certificate (PEM)").await {
            Ok(Some(path)) => {
                self.emit(Event::MtlsCert(path.clone()));
                self.read_certificate(path).await;
            }
            Ok(None) => {}
            Err(e) => self.notice(Area::Client, Notice::error(format!("{e:#}"))),
        }
    }

    pub(super) async fn pick_jwt_key(&self) {
        match self.read_picked("Verification key (PEM, JWK, JWKS)").await {
            Ok(Some((path, text))) => {
                self.emit(Event::JwtKeyFile(Ok((path.display().to_string(), text))))
            }
            Ok(None) => {}
            Err(e) => self.emit(Event::JwtKeyFile(Err(format!("{e:#}")))),
        }
    }

    /// The profile's saved history, newest first (file work, off the async threads).
    pub(super) async fn load_history(&self, profile: String) {
        let history = self.history.clone();
        let name = profile.clone();
        let entries = self
            .blocking(move || history.list(&name))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        self.emit(Event::SavedHistory { profile, entries });
    }
}

/// Writes a file another job may be reading (a transport being built reads the CA and
/// certificate files): unchanged content is left alone, new content replaces the file
/// in one rename, so a reader never sees it empty or half written.
pub(super) async fn write_replacing(path: &std::path::Path, content: &str) -> anyhow::Result<()> {
    if tokio::fs::read_to_string(path)
        .await
        .is_ok_and(|old| old == content)
    {
        return Ok(());
    }
    let partial = path.with_extension("pem.partial");
    tokio::fs::write(&partial, content)
        .await
        .with_context(|| format!("cannot write {}", partial.display()))?;
    tokio::fs::rename(&partial, path)
        .await
        .with_context(|| format!("cannot replace {}", path.display()))
}
