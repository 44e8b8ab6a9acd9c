//! The app's profiles: create, rename, export, import (asking before replacing), keys and client secrets into the keychain.

use super::*;

#[test]
fn create_and_rename_a_profile() {
    let s = Setup::new().with_profile(&bank_profile("Existing bank"));
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    assert_eq!(h.state().state.profiles.len(), 1);

    click(&mut h, "New profile");
    wait_for(&mut h, "the new profile", |a| {
        a.state.profile().is_some_and(|p| p.name == "New profile")
    });
    assert!(s.profiles().load("New profile").is_ok());
    // The button, the new list entry and the Client panel heading.
    assert_eq!(h.query_all_by_label("New profile").count(), 3);

    click(&mut h, "Rename");
    type_into(&mut h, "New name", "My bank");
    click(&mut h, "Apply rename");
    wait_for(&mut h, "the rename", |a| {
        a.state.profile().is_some_and(|p| p.name == "My bank")
    });
    assert!(s.profiles().load("My bank").is_ok());
    assert!(
        s.profiles().load("New profile").is_err(),
        "the old file is gone"
    );
    assert_eq!(h.state().state.profiles.len(), 2);

    // An edit in the Client panel is saved with "Save profile".
    click(&mut h, "Client");
    assert!(
        h.query_all_by_label_contains("verification is OFF")
            .next()
            .is_none()
    );
    click(&mut h, "Verify TLS certificates");
    h.get_by_label_contains("TLS certificate verification is OFF");
    // Loud from every panel: the status bar and the profile list say it too.
    for tab in ["Request", "Response", "JWT", "Client"] {
        click(&mut h, tab);
        h.get_by_label_contains("TLS verification OFF for this profile");
        h.get_by_label("TLS off");
    }
    click(&mut h, "Verify TLS certificates");
    assert!(
        h.query_all_by_label_contains("TLS verification OFF")
            .next()
            .is_none()
    );
    type_into(&mut h, "Issuer", "https://bank.example");
    click(&mut h, "Save profile");
    wait_for(&mut h, "the save", |_| {
        ProfileStore::at(s.profile_dir())
            .load("My bank")
            .is_ok_and(|p| p.issuer == "https://bank.example")
    });
}

#[test]
fn export_delete_and_import_a_profile() {
    let s = Setup::new().with_profile(&bank_profile("Bank A"));
    let elsewhere = tempfile::tempdir().unwrap();
    let exported = elsewhere.path().join("exported.toml");
    s.files.push_save(&exported);
    s.files.push_pick(&exported);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);

    click(&mut h, "Export…");
    wait_for(&mut h, "the export", |_| exported.exists());
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("Bank A") && text.contains("https://as.example/token"),
        "{text}"
    );

    click(&mut h, "Delete");
    click(&mut h, "Confirm delete");
    wait_for(&mut h, "the delete", |a| a.state.profiles.is_empty());
    assert!(s.profiles().load("Bank A").is_err());

    click(&mut h, "Import…");
    wait_for(&mut h, "the import", |a| {
        a.state.profile().is_some_and(|p| p.name == "Bank A")
    });
    assert_eq!(s.profiles().load("Bank A").unwrap(), bank_profile("Bank A"));
}

#[test]
fn import_a_key_file_into_the_secret_store() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let pem_path = s.dir.path().join("client-key.pem");
    std::fs::write(&pem_path, key.to_pkcs8_pem().expose()).unwrap();
    s.files.push_pick(&pem_path);

    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    wait_for(&mut h, "the key lookup", |a| {
        matches!(a.state.key, KeyState::Missing)
    });
    h.get_by_label("No signing key yet: import a PEM or JWK file, or generate one.");

    click(&mut h, "Import key file…");
    wait_for(&mut h, "the imported key", |a| {
        a.state.loaded_key().is_some()
    });
    let thumbprint = key.thumbprint();
    assert_eq!(h.state().state.loaded_key().unwrap().thumbprint, thumbprint);
    // PS256 cannot sign with an EC key: the profile now says ES256 (not yet saved).
    let profile = h.state().state.profile().unwrap().clone();
    assert_eq!(
        profile.auth.alg,
        token_inspector::jose::keys::SigningAlg::ES256
    );
    h.get_by_label("unsaved changes");
    // kid and thumbprint are both the thumbprint here (no kid set).
    assert!(h.query_all_by_label(&thumbprint).count() >= 2);
    let stored = s
        .store
        .get(&bank_profile("Bank").key_entry())
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), key.to_pkcs8_pem().expose());

    // The public JWKS can be copied.
    click(&mut h, "Copy public JWKS");
    let jwks: serde_json::Value = serde_json::from_str(&s.clipboard.text()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], thumbprint.as_str());
    assert!(jwks["keys"][0].get("d").is_none(), "no private member");
}

#[test]
fn client_secret_is_kept_in_the_store_and_used() {
    let mut p = bank_profile("Basic client");
    p.auth.method = AuthMethod::ClientSecretBasic;
    let s = Setup::new().with_profile(&p);
    s.clipboard.set_text("code-9").unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    h.get_by_label("not set");
    type_into(&mut h, "Client secret", "hunter2-secret");
    click(&mut h, "Keep client secret");
    wait_for(&mut h, "the stored secret", |a| {
        a.state.client_secret.is_some()
    });
    h.get_by_label("stored");
    let entry = h
        .state()
        .state
        .profile()
        .unwrap()
        .auth
        .client_secret
        .clone();
    let entry = entry.expect("the profile names the entry");
    assert_eq!(
        s.store.get(&entry).unwrap().unwrap().expose(),
        "hunter2-secret"
    );

    click(&mut h, "Request");
    click(&mut h, "Paste redirect");
    click(&mut h, "Copy curl");
    let curl = s.clipboard.text();
    assert!(curl.contains("Authorization: Basic"), "{curl}");
    click(&mut h, "Copy redacted curl");
    let redacted = s.clipboard.text();
    assert!(
        !redacted.contains("Authorization: Basic Y2xp"),
        "{redacted}"
    );
}

/// "New from preset…" makes a profile with the preset's values, and the consent editor's
/// form and JSON edit the profile's consent.
#[test]
fn new_profile_from_preset_and_the_consent_editor() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "New from preset…");
    click(&mut h, "Open Finance Malaysia (PayNet) sandbox");
    wait_for(&mut h, "the new profile", |a| {
        a.state
            .profile()
            .is_some_and(|p| p.preset.as_deref() == Some("ofm-paynet-sandbox@2"))
    });
    let p = h.state().state.profile().unwrap().clone();
    assert_eq!(p.issuer, "https://auth1.sandbox.mya.ozoneapi.io");
    assert!(p.request_object.signed);
    h.get_by_label_contains("Created from the Open Finance Malaysia (PayNet) sandbox preset");
    // The consent editor: untick read_transactions, set the purpose.
    h.get_by_label_contains("sent as authorization_details inside PAR");
    click(&mut h, "read_transactions");
    let consent = h.state().state.profile().unwrap().consent.clone().unwrap();
    let value: serde_json::Value = serde_json::from_str(&consent).unwrap();
    assert_eq!(
        value[0]["consent"]["permissions"],
        serde_json::json!(["read_accounts", "read_balances"])
    );
    click(&mut h, "90 days");
    let consent = h.state().state.profile().unwrap().consent.clone().unwrap();
    assert!(consent.contains("{expires_in_days:90}"), "{consent}");
    // Saved to disk too.
    wait_for(&mut h, "the saved profile", |_| {
        s.profiles().load(&p.name).is_ok_and(|saved| {
            saved
                .consent
                .as_deref()
                .is_some_and(|c| c.contains("{expires_in_days:90}"))
        })
    });
}

/// An imported profile named like an existing one is not saved over it until the user
/// says so; its references to another profile's keychain entries are dropped and said;
/// a renamed profile's secrets move to its own entries.
#[test]
fn import_asks_before_replacing_and_keeps_to_its_own_secrets() {
    let s = Setup::new().with_profile(&bank_profile("Bank A"));
    let elsewhere = tempfile::tempdir().unwrap();
    let shared = elsewhere.path().join("shared.toml");
    let mut hostile = bank_profile("Bank A");
    hostile.endpoints.token = Some("https://attacker.example/token".into());
    hostile.auth.key = Some("profile/prod/signing-key".into());
    hostile
        .headers
        .push(token_inspector::storage::profile::ExtraHeader::new(
            "x-api-key",
            "canary-shared-key-55",
        ));
    std::fs::write(&shared, hostile.to_toml()).unwrap();
    s.files.push_pick(&shared);
    s.files.push_pick(&shared);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);

    click(&mut h, "Import…");
    wait_for(&mut h, "the question", |a| a.state.pending_import.is_some());
    h.get_by_label_contains("exists. Replace it");
    click(&mut h, "Keep mine");
    assert_eq!(s.profiles().load("Bank A").unwrap(), bank_profile("Bank A"));

    click(&mut h, "Import…");
    wait_for(&mut h, "the question", |a| a.state.pending_import.is_some());
    click(&mut h, "Replace with the import");
    wait_for(&mut h, "the replacement", |_| {
        s.profiles()
            .load("Bank A")
            .is_ok_and(|p| p.endpoints.token.as_deref() == Some("https://attacker.example/token"))
    });
    let saved = s.profiles().load("Bank A").unwrap();
    assert_eq!(saved.auth.key, None, "the borrowed entry is dropped");
    // The secret header's value went into the keychain, out of the file.
    let file = std::fs::read_to_string(s.profiles().path_for("Bank A")).unwrap();
    assert!(!file.contains("canary-shared-key-55"), "{file}");
    assert_eq!(
        s.store
            .get("profile/Bank A/header/x-api-key")
            .unwrap()
            .map(|v| v.expose().to_owned()),
        Some("canary-shared-key-55".to_owned())
    );
    wait_for(&mut h, "what the import changed", |a| {
        a.state
            .sidebar_notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("dropped auth.key"))
    });

    // A rename carries the profile's key to its own entry.
    s.store
        .set(
            "profile/Bank A/signing-key",
            &Secret::new("-----BEGIN PRIVATE KEY-----"),
        )
        .unwrap();
    click(&mut h, "Rename");
    type_into(&mut h, "New name", "Bank B");
    click(&mut h, "Apply rename");
    wait_for(&mut h, "the rename", |_| {
        s.profiles().load("Bank B").is_ok()
    });
    assert!(s.store.get("profile/Bank B/signing-key").unwrap().is_some());
    assert!(s.store.get("profile/Bank A/signing-key").unwrap().is_none());
}
