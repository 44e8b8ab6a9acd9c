//! Where secrets live: the OS keychain (through keyring-core and the platform store),
//! or, when the keychain is locked or absent and the user agrees, an in-memory store
//! for this session only. Nothing here ever writes a secret to a file.
//!
//! **The sync/async boundary.** The [`SecretStore`] trait is synchronous, and the
//! keychain stores may run an async runtime of their own (the Secret Service store
//! drives zbus on tokio), which panics with "cannot start a runtime from within a
//! runtime" when it is called on a tokio thread. So every call into keyring-core goes
//! through [`off_runtime`]: on a thread that is inside a tokio runtime, the call runs on
//! a short-lived plain thread instead. Callers may use a store from anywhere (a CLI
//! inside `block_on`, the app's worker, a test); async code that must not block a worker
//! thread still puts the call on `spawn_blocking`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::secret::Secret;

/// The keychain service name every entry is stored under.
pub const SERVICE: &str = "token-inspector";

/// Why the secret store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretStoreError {
    /// No keychain is reachable (no Secret Service on the session bus, no keyring daemon).
    #[error(
        "the OS keychain is not available ({0}); keep the secret for this session only, or start a keyring (e.g. gnome-keyring, KeePassXC)"
    )]
    Unavailable(String),
    /// The keychain refused access (locked, or access denied).
    #[error("the OS keychain is locked or refused access ({0}); unlock it and try again")]
    Locked(String),
    /// The stored value is not text.
    #[error("the keychain entry {0:?} does not hold text")]
    BadData(String),
    /// Anything else the platform reported.
    #[error("the keychain failed: {0}")]
    Platform(String),
}

/// A place to keep secrets by entry name. Implemented by the OS keychain, an in-memory
/// session store, and fakes in tests.
pub trait SecretStore: Send + Sync {
    /// Reads an entry; `Ok(None)` when it does not exist.
    fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError>;
    /// Creates or replaces an entry.
    fn set(&self, entry: &str, value: &Secret) -> Result<(), SecretStoreError>;
    /// Removes an entry (no error when it did not exist).
    fn delete(&self, entry: &str) -> Result<(), SecretStoreError>;
    /// A short name for the UI ("OS keychain (Secret Service)", "this session only").
    fn describe(&self) -> String;
    /// True when secrets survive the app closing.
    fn is_persistent(&self) -> bool;
}

/// Secrets held in memory for this session only.
#[derive(Default, Clone)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, Secret>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError> {
        let map = self
            .entries
            .lock()
            .map_err(|_| SecretStoreError::Platform("session store poisoned".into()))?;
        Ok(map.get(entry).cloned())
    }

    fn set(&self, entry: &str, value: &Secret) -> Result<(), SecretStoreError> {
        let mut map = self
            .entries
            .lock()
            .map_err(|_| SecretStoreError::Platform("session store poisoned".into()))?;
        map.insert(entry.to_owned(), value.clone());
        Ok(())
    }

    fn delete(&self, entry: &str) -> Result<(), SecretStoreError> {
        let mut map = self
            .entries
            .lock()
            .map_err(|_| SecretStoreError::Platform("session store poisoned".into()))?;
        map.remove(entry);
        Ok(())
    }

    fn describe(&self) -> String {
        "this session only (not saved)".into()
    }

    fn is_persistent(&self) -> bool {
        false
    }
}

/// Runs `f` where a keychain store may start its own runtime: here when this thread is
/// not inside a tokio runtime, else on a plain scoped thread (which has no runtime
/// context), joined before returning.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        // The keychain call itself panicked: let the panic continue here.
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A keyring-core store whose last reference is also dropped off any runtime: dropping
/// the Secret Service store closes its D-Bus proxies, which blocks on a runtime too.
struct StoreHandle(Option<Arc<keyring_core::CredentialStore>>);

impl Drop for StoreHandle {
    fn drop(&mut self) {
        if let Some(store) = self.0.take() {
            off_runtime(move || drop(store));
        }
    }
}

/// The OS keychain through a keyring-core credential store.
#[derive(Clone)]
pub struct KeychainStore {
    store: Arc<StoreHandle>,
    name: String,
}

impl KeychainStore {
    /// Opens the platform's keychain: Secret Service on Linux, Keychain on macOS,
    /// Credential Manager on Windows.
    pub fn open() -> Result<Self, SecretStoreError> {
        #[cfg(target_os = "linux")]
        let opened = (
            off_runtime(zbus_secret_service_keyring_store::Store::new),
            "OS keychain (Secret Service)",
        );
        #[cfg(target_os = "macos")]
        let opened = (
            off_runtime(apple_native_keyring_store::keychain::Store::new),
            "macOS Keychain",
        );
        #[cfg(target_os = "windows")]
        let opened = (
            off_runtime(windows_native_keyring_store::Store::new),
            "Windows Credential Manager",
        );
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        let opened: (Result<Arc<keyring_core::CredentialStore>, _>, _) = (
            Err(keyring_core::Error::NotSupportedByStore(
                "no keychain support on this platform".into(),
            )),
            "none",
        );
        let (store, name) = opened;
        let this = Self::with_store(store.map_err(map_error)?, name);
        this.probe()?;
        Ok(this)
    }

    /// Wraps any keyring-core store (tests use `keyring_core::mock::Store`).
    pub fn with_store(store: Arc<keyring_core::CredentialStore>, name: &str) -> Self {
        Self {
            store: Arc::new(StoreHandle(Some(store))),
            name: name.to_owned(),
        }
    }

    /// Reads a missing entry to find out early whether the keychain answers at all.
    fn probe(&self) -> Result<(), SecretStoreError> {
        self.get("probe-entry-that-does-not-exist").map(|_| ())
    }

    /// Runs one operation on an entry, entirely off any runtime (the entry is made,
    /// used and dropped there).
    fn with_entry<R: Send>(
        &self,
        entry: &str,
        op: impl FnOnce(&keyring_core::Entry) -> keyring_core::Result<R> + Send,
    ) -> keyring_core::Result<R> {
        let Some(store) = self.store.0.as_ref() else {
            return Err(keyring_core::Error::NoDefaultStore);
        };
        off_runtime(|| op(&keyring_core::Entry::new_in_store(store, SERVICE, entry)?))
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError> {
        match self.with_entry(entry, |e| e.get_password()) {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(keyring_core::Error::BadEncoding(_)) => {
                Err(SecretStoreError::BadData(entry.to_owned()))
            }
            Err(e) => Err(map_error(e)),
        }
    }

    fn set(&self, entry: &str, value: &Secret) -> Result<(), SecretStoreError> {
        self.with_entry(entry, |e| e.set_password(value.expose()))
            .map_err(map_error)
    }

    fn delete(&self, entry: &str) -> Result<(), SecretStoreError> {
        match self.with_entry(entry, |e| e.delete_credential()) {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn is_persistent(&self) -> bool {
        true
    }
}

/// The Linux kernel keyring: works without a desktop session; kept across login
/// sessions of the same user until reboot (see [`super::kernel_keyring`]).
#[cfg(target_os = "linux")]
pub struct KernelKeyringStore(super::kernel_keyring::KernelKeyring);

#[cfg(target_os = "linux")]
impl KernelKeyringStore {
    /// Opens the user keyring (and probes it).
    pub fn open() -> Result<Self, SecretStoreError> {
        super::kernel_keyring::KernelKeyring::open().map(Self)
    }
}

#[cfg(target_os = "linux")]
impl SecretStore for KernelKeyringStore {
    fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError> {
        self.0.get(entry)
    }

    fn set(&self, entry: &str, value: &Secret) -> Result<(), SecretStoreError> {
        self.0.set(entry, value)
    }

    fn delete(&self, entry: &str) -> Result<(), SecretStoreError> {
        self.0.delete(entry)
    }

    fn describe(&self) -> String {
        "Linux kernel keyring (kept until reboot)".into()
    }

    fn is_persistent(&self) -> bool {
        true
    }
}

fn map_error(e: keyring_core::Error) -> SecretStoreError {
    match e {
        keyring_core::Error::NoStorageAccess(inner) => {
            let text = inner.to_string();
            if text.to_ascii_lowercase().contains("lock") || text.contains("denied") {
                SecretStoreError::Locked(text)
            } else {
                SecretStoreError::Unavailable(text)
            }
        }
        keyring_core::Error::PlatformFailure(inner) => {
            let text = inner.to_string();
            let lower = text.to_ascii_lowercase();
            if lower.contains("locked") {
                SecretStoreError::Locked(text)
            } else if lower.contains("connection")
                || lower.contains("bus")
                || lower.contains("no such file")
                || lower.contains("not provided")
                || lower.contains("serviceunknown")
            {
                SecretStoreError::Unavailable(text)
            } else {
                SecretStoreError::Platform(text)
            }
        }
        keyring_core::Error::NoDefaultStore => {
            SecretStoreError::Unavailable("no credential store configured".into())
        }
        other => SecretStoreError::Platform(other.to_string()),
    }
}

/// Opens the best store this machine has: the OS keychain, else (Linux) the kernel
/// keyring. Returns the error of the keychain when neither answers, so the UI can say
/// why and offer the session store.
pub fn open_default_store() -> Result<Arc<dyn SecretStore>, SecretStoreError> {
    match KeychainStore::open() {
        Ok(store) => Ok(Arc::new(store)),
        Err(first) => {
            #[cfg(target_os = "linux")]
            if let Ok(store) = KernelKeyringStore::open() {
                return Ok(Arc::new(store));
            }
            Err(first)
        }
    }
}

/// The keychain entry name for a profile's secret, e.g. `profile/Ozone MY/signing-key`.
pub fn entry_name(profile: &str, what: &str) -> String {
    format!("profile/{profile}/{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock() -> KeychainStore {
        let store = keyring_core::mock::Store::new().unwrap();
        KeychainStore::with_store(store, "mock")
    }

    #[test]
    fn keychain_store_round_trips_through_keyring_core() {
        let store = mock();
        assert_eq!(store.get("a").unwrap(), None);
        store.set("a", &Secret::new("pem")).unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().expose(), "pem");
        store.delete("a").unwrap();
        assert_eq!(store.get("a").unwrap(), None);
        store.delete("a").unwrap();
    }

    #[test]
    fn memory_store_is_not_persistent() {
        let store = MemoryStore::new();
        store.set("k", &Secret::new("v")).unwrap();
        assert_eq!(store.get("k").unwrap().unwrap().expose(), "v");
        assert!(!store.is_persistent());
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = SecretStoreError::Unavailable("no bus".into()).to_string();
        assert!(e.contains("this session only"), "{e}");
        let e = SecretStoreError::Locked("locked".into()).to_string();
        assert!(e.contains("unlock"), "{e}");
    }
}
