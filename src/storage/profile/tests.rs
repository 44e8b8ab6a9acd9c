//! Tests of `profile`.

use super::*;

#[test]
fn round_trips_through_toml_without_secrets() {
    let mut p = crate::storage::presets::seed_client();
    p.auth.key = Some("profile/ozone/signing-key".into());
    p.headers.push(ExtraHeader {
        name: "x-fapi-customer-ip-address".into(),
        value: "10.1.1.1".into(),
        ..Default::default()
    });
    let text = p.to_toml();
    assert!(!text.contains("PRIVATE KEY"));
    assert!(text.contains("key = \"profile/ozone/signing-key\""));
    let back = Profile::from_toml(&text, Path::new("x.toml")).unwrap();
    assert_eq!(back, p);
}

#[test]
fn bad_field_names_file_line_and_field() {
    let text = "name = \"x\"\nissuer = \"https://a\"\n\n[auth]\nmethod = \"private_key_jwt\"\nlifetime_secs = \"soon\"\n";
    let err = Profile::from_toml(text, Path::new("/p/x.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/p/x.toml:6:"), "{msg}");
    assert!(msg.contains("field `auth.lifetime_secs`"), "{msg}");

    let text = "name = \"x\"\nissuer = \"https://a\"\nclient_idd = \"typo\"\n";
    let msg = Profile::from_toml(text, Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("p.toml:3:"), "{msg}");
    assert!(msg.contains("client_idd"), "{msg}");

    let text = "name = \"x\"\nissuer = \"https://a\"\n[auth]\nmethod = \"magic\"\n";
    let msg = Profile::from_toml(text, Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains(":4:") && msg.contains("magic"), "{msg}");
}

#[test]
fn audience_choices() {
    let mut p = crate::storage::presets::seed_client();
    assert_eq!(
        p.assertion_audience(),
        "https://auth1.sandbox.mya.ozoneapi.io"
    );
    p.auth.aud = AudienceChoice::TokenEndpoint;
    assert_eq!(
        p.assertion_audience(),
        "https://as1.sandbox.mya.ozoneapi.io/token"
    );
    p.auth.aud = AudienceChoice::from("https://other");
    assert_eq!(p.assertion_audience(), "https://other");
    let text = p.to_toml();
    assert!(text.contains("aud = \"https://other\""), "{text}");
}

#[test]
fn store_saves_lists_loads_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join("profiles"));
    assert!(store.list().0.is_empty());
    let p = crate::storage::presets::seed_client();
    store.save(&p).unwrap();
    std::fs::write(store.dir().join("broken.toml"), "name = 3").unwrap();
    let (good, bad) = store.list();
    assert_eq!(good, vec![p.clone()]);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].to_string().contains("broken.toml"));
    assert_eq!(store.load(&p.name).unwrap(), p);
    store.delete(&p.name).unwrap();
    assert!(matches!(
        store.load(&p.name),
        Err(ProfileError::NotFound(_))
    ));
}

#[test]
fn validation_names_fields() {
    let mut p = Profile::new("", "ftp://x");
    p.endpoints.token = Some("not a url".into());
    let problems = p.validate().join("\n");
    assert!(problems.contains("name:"));
    assert!(problems.contains("issuer:"));
    assert!(problems.contains("endpoints.token:"));
    assert!(crate::storage::presets::seed_client().validate().is_empty());
}
