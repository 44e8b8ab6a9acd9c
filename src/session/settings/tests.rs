//! Tests of `settings`.

use super::*;
use crate::storage::secret_store::MemoryStore;

#[test]
fn a_kept_dpop_key_signs_with_its_own_algorithm() {
    let keychain = Keychain::given(Arc::new(MemoryStore::new()));
    let mut p = Profile::new("bank", "https://bank.example");
    p.dpop = true;
    let eddsa = Overrides {
        dpop_alg: Some(SigningAlg::EdDSA),
        ..Overrides::default()
    };
    let made = dpop_key(&p, &eddsa, true, &keychain).unwrap().unwrap();
    assert_eq!(made.alg, SigningAlg::EdDSA);
    // The next run, without --dpop-alg: the same key, still EdDSA.
    let kept = dpop_key(&p, &Overrides::default(), true, &keychain)
        .unwrap()
        .unwrap();
    assert_eq!(kept.alg, SigningAlg::EdDSA);
    assert_eq!(kept.jkt(), made.jkt());
    // A profile's first DPoP key is ES256.
    p.name = "other".into();
    let fresh = dpop_key(&p, &Overrides::default(), true, &keychain)
        .unwrap()
        .unwrap();
    assert_eq!(fresh.alg, SigningAlg::ES256);
}

#[test]
fn the_decryption_key_comes_from_the_keychain_entry_the_profile_names() {
    let store = Arc::new(MemoryStore::new());
    let keychain = Keychain::given(store.clone());
    let mut p = Profile::new("bank", "https://bank.example");
    assert!(decryption_key(&p, None, &keychain).unwrap().is_none());
    p.encryption_key = Some("profile/bank/enc-key".into());
    let missing = decryption_key(&p, None, &keychain).unwrap_err().to_string();
    assert!(missing.contains("profile/bank/enc-key"), "{missing}");
    let key = PrivateKey::generate(crate::jose::keys::KeyType::Rsa { bits: 2048 }).unwrap();
    store
        .set("profile/bank/enc-key", key.to_pkcs8_pem())
        .unwrap();
    assert!(matches!(
        decryption_key(&p, None, &keychain).unwrap(),
        Some(crate::jose::jwe::JweKey::RsaPrivatePem(_))
    ));
    store
        .set("profile/bank/enc-key", &Secret::new("not a key"))
        .unwrap();
    assert!(decryption_key(&p, None, &keychain).is_err());
}

#[test]
fn overrides_replace_only_what_is_given() {
    let mut p = crate::storage::presets::seed_client();
    let o = Overrides {
        client_id: Some("other".into()),
        headers: vec!["x-a: 1".into()],
        insecure: true,
        ..Overrides::default()
    };
    o.apply(&mut p, true).unwrap();
    assert_eq!(p.client_id, "other");
    assert_eq!(p.issuer, "https://auth1.sandbox.mya.ozoneapi.io");
    assert_eq!(p.headers.last().map(|h| h.value.as_str()), Some("1"));
    assert!(p.tls.insecure_skip_verify);
    let bad = Overrides {
        headers: vec!["no colon".into()],
        ..Overrides::default()
    };
    assert!(bad.apply(&mut p, true).is_err());
}

#[test]
fn a_client_secret_alone_means_client_secret_basic_on_the_command_line() {
    let mut p = Profile::new("cli", "https://as.example");
    let o = Overrides {
        client_secret: Some(Secret::new("s")),
        ..Overrides::default()
    };
    o.apply(&mut p, false).unwrap();
    assert_eq!(p.auth.method, AuthMethod::ClientSecretBasic);
}

#[test]
fn saved_profile_takes_its_key_and_mtls_key_from_the_keychain() {
    let store = Arc::new(MemoryStore::new());
    let key = PrivateKey::generate(crate::jose::keys::KeyType::EC_P256).unwrap();
    let mut p = Profile::new("saved", "https://as.example");
    p.auth.alg = SigningAlg::ES256;
    store.set(&p.key_entry(), key.to_pkcs8_pem()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "CERT").unwrap();
    p.tls.client_cert = Some(cert);
    p.tls.client_key = Some("profile/saved/mtls-key".into());
    store
        .set("profile/saved/mtls-key", &Secret::new("KEY"))
        .unwrap();
    let keychain = Keychain::given(store);
    let s = resolve(p, &Overrides::default(), true, &keychain).unwrap();
    assert_eq!(
        s.secrets.signing_key.map(|k| k.thumbprint()),
        Some(key.thumbprint())
    );
    let identity = s.transport.identity_pem.unwrap();
    assert_eq!(identity.expose(), "CERT\nKEY");
}

#[test]
fn missing_secrets_are_named() {
    let keychain = Keychain::given(Arc::new(MemoryStore::new()));
    let p = Profile::new("empty", "https://as.example");
    let e = resolve(p.clone(), &Overrides::default(), true, &keychain).unwrap_err();
    assert!(e.to_string().contains("keygen --profile"), "{e}");
    let mut p = p;
    p.tls.client_cert = Some("/nonexistent/cert.pem".into());
    let e = transport_config(&p, None, &keychain).unwrap_err();
    assert!(e.to_string().contains("not its key"), "{e}");
    let e = transport_config(&p, Some(Path::new("/k")), &keychain).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
}

#[test]
fn context_drops_empty_fields() {
    let mut p = Profile::new("p", "https://as.example");
    p.endpoints.token = Some(" ".into());
    let c = exchange_context(&p, None, Some("n".into()));
    assert_eq!(c.issuer.as_deref(), Some("https://as.example"));
    assert_eq!(c.client_id, None);
    assert_eq!(c.token_endpoint, None);
    assert_eq!(c.expected_nonce.as_deref(), Some("n"));
}
