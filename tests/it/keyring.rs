//! The keychain behind `SecretStore`: the keyring-core mock store always, and the real
//! Linux stores in CI (`--ignored`, see `.ci/run`): Secret Service through
//! gnome-keyring on a private D-Bus session, and the kernel keyring in a fresh session
//! keyring.

use token_inspector::secret::Secret;
#[cfg(target_os = "linux")]
use token_inspector::storage::secret_store::KernelKeyringStore;
use token_inspector::storage::secret_store::{KeychainStore, MemoryStore, SecretStore};

fn round_trip(store: &dyn SecretStore) {
    let entry = format!("test/{}/signing-key", uuid::Uuid::new_v4());
    assert_eq!(store.get(&entry).unwrap(), None);
    let pem = Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    store.set(&entry, &pem).unwrap();
    assert_eq!(store.get(&entry).unwrap().as_ref(), Some(&pem));
    store.set(&entry, &Secret::new("replaced")).unwrap();
    assert_eq!(store.get(&entry).unwrap().unwrap().expose(), "replaced");
    store.delete(&entry).unwrap();
    assert_eq!(store.get(&entry).unwrap(), None);
}

#[test]
fn mock_keychain_round_trip() {
    let store = KeychainStore::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    round_trip(&store);
    assert!(store.is_persistent());
}

#[test]
fn session_store_round_trip() {
    round_trip(&MemoryStore::new());
}

/// Needs a D-Bus session with an unlocked Secret Service collection (CI starts one).
#[test]
#[ignore = "needs a Secret Service on the session bus; run by .ci/run"]
fn secret_service_store() {
    let store = KeychainStore::open().expect("Secret Service reachable and unlocked");
    round_trip(&store);
    assert!(store.describe().contains("Secret Service"));
}

/// Needs a fresh session keyring (`keyctl session - cargo test ...`).
#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs a fresh kernel session keyring; run by .ci/run"]
fn keyutils_store() {
    let store = KernelKeyringStore::open().expect("kernel keyring reachable");
    round_trip(&store);
}

/// Without a session bus the keychain reports itself unavailable, with advice, instead
/// of failing later or writing a file.
#[cfg(target_os = "linux")]
#[test]
fn absent_keychain_is_reported() {
    // Point D-Bus at a socket that does not exist, in a child process so the variable
    // does not leak into other tests.
    if std::env::var_os("TI_CHILD_ABSENT_KEYCHAIN").is_some() {
        let err = KeychainStore::open()
            .err()
            .expect("no keychain without a bus");
        let text = err.to_string();
        assert!(text.contains("session only"), "{text}");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // This test's own name in the test binary (`keyring::absent_keychain_is_reported`).
    let name = format!(
        "{}::absent_keychain_is_reported",
        module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, m)| m)
    );
    let out = std::process::Command::new(exe)
        .args(["--exact", &name, "--nocapture"])
        .env("TI_CHILD_ABSENT_KEYCHAIN", "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/token-inspector-test-bus",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // The child ran this test, not nothing.
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// A key stored in one login session is read in the next (same user). Run twice by
/// `.ci/run`, each time in a new `keyctl session -`: first with `TI_KEYRING_STEP=store`,
/// then with `TI_KEYRING_STEP=load`, sharing `TI_KEYRING_ENTRY`.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs two fresh kernel session keyrings in turn; run by .ci/run"]
fn keyutils_store_across_sessions() {
    let entry = std::env::var("TI_KEYRING_ENTRY").expect("TI_KEYRING_ENTRY set");
    let value = Secret::new(format!("value of {entry}"));
    let store = KernelKeyringStore::open().expect("kernel keyring reachable");
    match std::env::var("TI_KEYRING_STEP").as_deref() {
        Ok("store") => store.set(&entry, &value).unwrap(),
        Ok("load") => {
            let got = store
                .get(&entry)
                .expect("the key stored in the last session reads");
            assert_eq!(got.as_ref(), Some(&value));
            store.delete(&entry).unwrap();
        }
        other => panic!("TI_KEYRING_STEP must be store or load, not {other:?}"),
    }
}
