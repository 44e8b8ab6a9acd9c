//! A profile someone shared: untrusted input, made safe before it is kept.

use std::path::Path;

use super::{MAX_ASSERTION_LIFETIME_SECS, Profile, ProfileError};

/// A profile someone shared, read as untrusted input and made safe to keep.
#[derive(Clone, Debug)]
pub struct SharedProfile {
    /// The profile, as it will be saved.
    pub profile: Profile,
    /// What was changed or deserves a warning, one line each.
    pub notes: Vec<String>,
    /// Secret header values taken out of the file: keychain entries and values, to keep
    /// in the keychain before the profile is saved.
    pub header_secrets: Vec<(String, crate::secret::Secret)>,
}

/// Reads a shared profile file: parsed and validated; references to another profile's
/// keychain entries dropped (a shared file must never make this client sign with, or
/// send, another profile's key or secret); an assertion lifetime above the limit lowered
/// to the preset's (or 300 s); TLS verification switched off, said.
pub fn read_shared(text: &str, path: &Path) -> Result<SharedProfile, ProfileError> {
    let mut profile = Profile::from_toml(text, path)?;
    let problems = profile.validate();
    if !problems.is_empty() {
        return Err(ProfileError::Invalid {
            path: path.to_owned(),
            problems,
        });
    }
    let mut notes = profile.drop_foreign_references();
    if profile.lifetime_refused(false).is_some() {
        let lowered = crate::storage::presets::for_profile(&profile)
            .map_or(300, |p| p.assertion_lifetime_secs)
            .min(MAX_ASSERTION_LIFETIME_SECS);
        notes.push(format!(
            "auth.lifetime_secs = {} lowered to {lowered}: FAPI wants client assertions short-lived (at most {MAX_ASSERTION_LIFETIME_SECS} s)",
            profile.auth.lifetime_secs
        ));
        profile.auth.lifetime_secs = lowered;
    }
    let header_secrets = profile.take_secret_header_values();
    for (entry, _) in &header_secrets {
        notes.push(format!(
            "a secret header value goes into the keychain entry {entry:?}, not into the profile file"
        ));
    }
    if profile.tls.insecure_skip_verify {
        notes.push(
            "WARNING: this profile turns TLS certificate verification OFF (tls.insecure_skip_verify = true): anyone on the network can read and change its requests".into(),
        );
    }
    Ok(SharedProfile {
        profile,
        notes,
        header_secrets,
    })
}
