//! The Linux kernel keyring (keyrings(7)) as a secret store, for machines with no Secret
//! Service (servers, containers, minimal desktops).
//!
//! Where a secret is kept decides whether the next login finds it. A key added to the
//! *session* keyring, and linked from there into the persistent keyring with
//! possessor-only permissions, is out of reach of the next session: the next login gets
//! `AccessDenied`. So this store keeps each secret in the **user keyring** (`@u`), which
//! every session of the same user can reach, and links `@u` into the session keyring
//! first, so the process possesses it whether its session keyring is a fresh one
//! (`keyctl session -`, a PAM login) or the default `_uid_ses` one. Each secret is also
//! linked into the user's persistent keyring (persistent-keyring(7)) when the kernel
//! allows it, so it outlives a full logout until that keyring expires (three days by
//! default); a reboot clears it. Secrets stored by earlier versions in the session
//! keyring are still read and moved into `@u`.
//!
//! Who can read it: processes of the same user that link `@u` (as this store does), the
//! same reach as an unlocked Secret Service collection.

use linux_keyutils::{Key, KeyError, KeyRing, KeyRingIdentifier};

use super::secret_store::{SERVICE, SecretStoreError};
use crate::secret::Secret;

/// The kernel keyring, user keyring first.
pub struct KernelKeyring(());

/// The keyrings one operation uses, looked up on the calling thread: the kernel keeps
/// keyring credentials per thread, so a session keyring joined on one thread does not
/// carry over to another.
struct Rings {
    user: KeyRing,
    session: KeyRing,
    persistent: Option<KeyRing>,
}

impl Rings {
    fn here() -> Result<Self, SecretStoreError> {
        // With `create`, a thread that only has the user-session fallback (`_uid_ses`,
        // where keys found by serial number are not possessed) joins a session keyring
        // of its own; one that has a session keyring keeps it.
        let session = KeyRing::from_special_id(KeyRingIdentifier::Session, true).map_err(|e| {
            SecretStoreError::Unavailable(format!("the kernel session keyring: {}", describe(e)))
        })?;
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(|e| {
            SecretStoreError::Unavailable(format!("the kernel user keyring: {}", describe(e)))
        })?;
        // Possession of the user keyring (and so of the keys in it) comes through the
        // session keyring. Already linked is fine.
        let _ = session.link_keyring(user);
        let persistent = KeyRing::get_persistent(KeyRingIdentifier::Session).ok();
        Ok(Self {
            user,
            session,
            persistent,
        })
    }
}

impl KernelKeyring {
    /// Opens the kernel keyring and probes it.
    pub fn open() -> Result<Self, SecretStoreError> {
        let this = Self(());
        this.get("probe-entry-that-does-not-exist")?;
        Ok(this)
    }

    fn find(rings: &Rings, description: &str) -> Result<Option<Key>, SecretStoreError> {
        match rings.user.search(description) {
            Ok(key) => return Ok(Some(key)),
            // A key just invalidated is revoked until the kernel collects it.
            Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired) => {}
            Err(e) => return Err(access(e)),
        }
        // Kept by an earlier version in the session or persistent keyring: move it to
        // the user keyring so the next session finds it.
        for ring in [rings.persistent, Some(rings.session)]
            .into_iter()
            .flatten()
        {
            if let Ok(key) = ring.search(description) {
                let _ = rings.user.link_key(key);
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    /// Reads an entry.
    pub fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError> {
        let Some(key) = Self::find(&Rings::here()?, &description(entry))? else {
            return Ok(None);
        };
        let bytes = key.read_to_vec().map_err(access)?;
        String::from_utf8(bytes)
            .map(|text| Some(Secret::new(text)))
            .map_err(|_| SecretStoreError::BadData(entry.to_owned()))
    }

    /// Creates or replaces an entry.
    pub fn set(&self, entry: &str, value: &Secret) -> Result<(), SecretStoreError> {
        let rings = Rings::here()?;
        let key = rings
            .user
            .add_key(&description(entry), value.expose().as_bytes())
            .map_err(access)?;
        if let Some(persistent) = rings.persistent {
            let _ = persistent.link_key(key);
        }
        Ok(())
    }

    /// Removes an entry.
    pub fn delete(&self, entry: &str) -> Result<(), SecretStoreError> {
        let rings = Rings::here()?;
        // The same description may sit in the user, persistent and an old session
        // keyring: invalidate each copy found.
        let mut removed = Vec::new();
        while let Some(key) = Self::find(&rings, &description(entry))? {
            if removed.contains(&key.get_id()) || removed.len() > 3 {
                break;
            }
            key.invalidate().map_err(access)?;
            removed.push(key.get_id());
        }
        Ok(())
    }
}

/// The key's description; the same as keyring-core's keyutils store wrote, so keys
/// stored by earlier versions are found.
fn description(entry: &str) -> String {
    format!("keyring:{entry}@{SERVICE}")
}

fn describe(e: KeyError) -> String {
    match e {
        KeyError::AccessDenied | KeyError::PermissionDenied => {
            "access denied (this process cannot reach the user keyring)".into()
        }
        KeyError::QuotaExceeded => {
            "the user's key quota is full (see /proc/sys/kernel/keys/maxbytes)".into()
        }
        KeyError::OperationNotSupported => "the kernel has no keyring support".into(),
        other => format!("{other:?}"),
    }
}

fn access(e: KeyError) -> SecretStoreError {
    match e {
        KeyError::AccessDenied | KeyError::PermissionDenied => SecretStoreError::Locked(format!(
            "kernel keyring: {}; run the command in a login session, or start a Secret Service (gnome-keyring, KeePassXC)",
            describe(e)
        )),
        other => SecretStoreError::Platform(format!("kernel keyring: {}", describe(other))),
    }
}
