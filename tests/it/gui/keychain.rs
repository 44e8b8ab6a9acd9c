//! The app and the keychain: locked, refusing, unreadable, and canaries that reach no file.

use super::*;

/// A keychain that is locked.
struct LockedStore;

impl SecretStore for LockedStore {
    fn get(&self, _: &str) -> Result<Option<Secret>, SecretStoreError> {
        Err(SecretStoreError::Locked("collection is locked".into()))
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretStoreError> {
        Err(SecretStoreError::Locked("collection is locked".into()))
    }
    fn delete(&self, _: &str) -> Result<(), SecretStoreError> {
        Err(SecretStoreError::Locked("collection is locked".into()))
    }
    fn describe(&self) -> String {
        "locked test keychain".into()
    }
    fn is_persistent(&self) -> bool {
        true
    }
}

#[test]
fn locked_keychain_offers_the_session_store() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let mut h = s.harness_with_store(Arc::new(LockedStore));
    wait_for(&mut h, "the store", |a| {
        matches!(a.state.store, StoreStatus::Failed(_))
    });
    click(&mut h, "Client");
    h.get_by_label_contains("Keychain unavailable");
    click(&mut h, "Keep secrets for this session only");
    wait_for(&mut h, "the session store", |a| {
        matches!(
            &a.state.store,
            StoreStatus::Ready {
                persistent: false,
                ..
            }
        )
    });
    h.get_by_label_contains("forgotten when the app closes");
    // With a store, the key can now be generated.
    click(&mut h, "Generate key");
    wait_for(&mut h, "the generated key", |a| {
        a.state.loaded_key().is_some()
    });
}

#[test]
fn remembered_state_has_defaults_and_no_secrets() {
    use token_inspector::gui::state::{Persisted, Tab};
    let old: Persisted = serde_json::from_str(r#"{"tab": "Jwt", "unknown_future_field": 1}"#)
        .expect("unknown and missing fields are tolerated");
    assert_eq!(old.tab, Tab::Jwt);
    assert_eq!(old.selected_profile, None);
    let text = serde_json::to_string(&Persisted::default()).unwrap();
    for word in ["secret", "token\"", "key", "verifier"] {
        assert!(!text.contains(word), "{text}");
    }
}

/// The window's raw 128×128 icon is `assets/icon.png` (256×256) at half size: each pixel,
/// alpha-premultiplied, close to the mean of its 2×2 block, so the raw file cannot drift
/// from the picture.
#[test]
fn the_window_icon_is_the_png_at_half_size() {
    let png =
        eframe::icon_data::from_png_bytes(include_bytes!("../../../assets/icon.png")).unwrap();
    assert_eq!((png.width, png.height), (256, 256));
    let raw = token_inspector::gui::ICON_RGBA;
    let side = token_inspector::gui::ICON_SIDE as usize;
    // Channel c of the pixel at i (in RGBA bytes), premultiplied by its alpha.
    let premultiplied = |px: &[u8], i: usize, c: usize| {
        let a = i32::from(px[i * 4 + 3]);
        if c == 3 {
            a
        } else {
            i32::from(px[i * 4 + c]) * a / 255
        }
    };
    let mut worst = 0i32;
    for y in 0..side {
        for x in 0..side {
            for c in 0..4 {
                let at = |xx: usize, yy: usize| premultiplied(&png.rgba, yy * 256 + xx, c);
                let mean = (at(2 * x, 2 * y)
                    + at(2 * x + 1, 2 * y)
                    + at(2 * x, 2 * y + 1)
                    + at(2 * x + 1, 2 * y + 1))
                    / 4;
                worst = worst.max((premultiplied(raw, y * side + x, c) - mean).abs());
            }
        }
    }
    assert!(
        worst <= 8,
        "the raw icon differs from the PNG by up to {worst}"
    );
}

/// A keychain that opens and reads (nothing is there) but refuses to keep anything, as
/// the kernel keyring did from a login session that could not reach it.
struct RefusingStore;

impl SecretStore for RefusingStore {
    fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError> {
        if entry.starts_with("probe") {
            Ok(None)
        } else {
            Err(SecretStoreError::Locked("AccessDenied".into()))
        }
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretStoreError> {
        Err(SecretStoreError::Locked("AccessDenied".into()))
    }
    fn delete(&self, _: &str) -> Result<(), SecretStoreError> {
        Ok(())
    }
    fn describe(&self) -> String {
        "refusing test keychain".into()
    }
    fn is_persistent(&self) -> bool {
        true
    }
}

/// The first launch works even when the keychain refuses the generated key: the app
/// keeps it for this session, says so, and the sandbox runs; the status bar and the
/// panels tell the same story.
#[test]
fn first_launch_falls_back_to_session_secrets_when_the_keychain_refuses() {
    let s = Setup::new();
    let mut h = s.harness_with_store(Arc::new(RefusingStore));
    wait_for(&mut h, "the sandbox", |a| {
        matches!(
            a.state.sandbox,
            SandboxStatus::Running { .. } | SandboxStatus::Failed(_)
        )
    });
    assert!(
        matches!(h.state().state.sandbox, SandboxStatus::Running { .. }),
        "{:?}",
        h.state().state.sandbox
    );
    wait_for(&mut h, "the key", |a| a.state.loaded_key().is_some());
    assert!(matches!(
        h.state().state.store,
        StoreStatus::Ready {
            persistent: false,
            ..
        }
    ));
    h.get_by_label_contains("Sandbox: https://127.0.0.1");
    assert_eq!(h.query_all_by_label_contains("Sandbox: failed").count(), 0);
    h.get_by_label_contains("The Local sandbox is ready");
    click(&mut h, "Client");
    h.get_by_label_contains("kept for this session only");
    // And the demo works end to end.
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    click(&mut h, "Send");
    wait_for(&mut h, "the answer", |a| !a.state.history.is_empty());
    assert!(h.state().state.history[0].exchange.is_success());
}

/// A saved profile whose key cannot be read from a refusing keychain: the key does not
/// wait forever, the reason is shown, and a button leads on to session-only secrets.
#[test]
fn an_unreadable_key_offers_the_way_on() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let mut h = s.harness_with_store(Arc::new(RefusingStore));
    wait_for(&mut h, "the key state", |a| {
        matches!(a.state.key, KeyState::Failed(_))
    });
    click(&mut h, "Client");
    h.get_by_label_contains("AccessDenied");
    click(&mut h, "Keep secrets for this session only");
    wait_for(&mut h, "the session store", |a| {
        matches!(
            &a.state.store,
            StoreStatus::Ready {
                persistent: false,
                ..
            }
        )
    });
    click(&mut h, "Generate key");
    wait_for(&mut h, "the generated key", |a| {
        a.state.loaded_key().is_some()
    });
}

/// A canary client secret, refresh token and code typed into the app and sent: the
/// server receives them, and they appear in no file the app wrote (profiles) and not in
/// the state it remembers between runs.
#[test]
fn canaries_reach_the_server_and_no_file() {
    const SECRET: &str = "canary-app-client-secret-91ce";
    const REFRESH: &str = "canary-app-refresh-token-44af";
    const CODE: &str = "canary-app-code-0d17";
    let s = Setup::new();
    let (port, bodies) = recording_token_server(&s);
    let mut p = bank_profile("Canary bank");
    p.auth.method = AuthMethod::ClientSecretPost;
    p.endpoints.token = Some(format!("http://127.0.0.1:{port}/token"));
    let s = s.with_profile(&p);
    s.clipboard.set_text(CODE).unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    type_secret(&mut h, "Client secret", SECRET);
    click(&mut h, "Keep client secret");
    wait_for(&mut h, "the stored secret", |a| {
        a.state.client_secret.is_some()
    });
    click(&mut h, "Request");
    click(&mut h, "Paste redirect");
    click(&mut h, "Send");
    wait_for(&mut h, "the code answer", |a| a.state.history.len() == 1);
    click(&mut h, "Request");
    click(&mut h, "Grant type");
    click(&mut h, "refresh_token");
    type_secret(&mut h, "Refresh token", REFRESH);
    click(&mut h, "Send");
    wait_for(&mut h, "the refresh answer", |a| a.state.history.len() == 2);

    let sent = bodies.lock().unwrap().join("\n");
    for canary in [SECRET, REFRESH, CODE] {
        assert!(sent.contains(canary), "the server got {canary}: {sent}");
    }
    let remembered = serde_json::to_string(h.state().persisted()).unwrap();
    let mut texts = vec![("persisted state".to_owned(), remembered)];
    let mut stack = vec![s.dir.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
                texts.push((e.path().display().to_string(), text));
            }
        }
    }
    assert!(texts.len() > 1, "the profile file was read");
    for (what, text) in texts {
        for canary in [SECRET, REFRESH, CODE] {
            assert!(!text.contains(canary), "{what} holds {canary}");
        }
    }
}
