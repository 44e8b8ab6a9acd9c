//! The history kept, listed, searched, compared and read by the diagnosis.

use super::*;
use crate::jose::hash::fingerprint;
use crate::oauth::exchange::Exchange;
use crate::oauth::exchange::{self, ExchangeContext};
use crate::oauth::http::{Call, FnClient, HttpResponse};
use crate::oauth::request::{ClientSecrets, Grant, RequestOptions, build_token_request};
use crate::secret::Secret;
use crate::storage::profile::{AuthMethod, Profile};

async fn exchange_with(status: u16, body: &'static str, scope: &str) -> Exchange {
    let mut p = Profile::new("bank", "https://as.example");
    p.client_id = "c1".into();
    p.endpoints.token = Some("https://as.example/token".into());
    p.auth.method = AuthMethod::ClientSecretPost;
    let secrets = ClientSecrets {
        signing_key: None,
        client_secret: Some(Secret::new("canary-client-secret")),
    };
    let client = FnClient(move |_: Call<'_>| {
        Ok(HttpResponse::with(
            status,
            &[("content-type", "application/json")],
            body,
        ))
    });
    let grant = Grant::AuthorizationCode {
        code: Secret::new("canary-code-1"),
        redirect_uri: "https://tpp.example/cb".into(),
        code_verifier: Some(Secret::new(
            "canary-verifier-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )),
    };
    let options = RequestOptions {
        scope: Some(scope.into()),
        ..RequestOptions::default()
    };
    let model = build_token_request(&p, &secrets, &grant, &options).unwrap();
    exchange::run(&client, model, &ExchangeContext::default()).await
}

/// Written, read back across a new store (a restart), newest first, capped, and no
/// secret or token in the file.
#[tokio::test]
async fn the_history_keeps_entries_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let store = HistoryStore::at(dir.path());
    let ok = exchange_with(
        200,
        r#"{"access_token":"canary-at-2","refresh_token":"canary-rt-3","token_type":"Bearer"}"#,
        "accounts",
    )
    .await;
    store.append(&HistoryEntry::of("bank", &ok)).unwrap();
    let bad = exchange_with(400, r#"{"error":"invalid_grant"}"#, "accounts payments").await;
    store.append(&HistoryEntry::of("bank", &bad)).unwrap();

    let again = HistoryStore::at(dir.path()).list("bank").unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(
        again[0].error.as_deref(),
        Some("invalid_grant"),
        "newest first"
    );
    assert!(again[1].is_success());
    assert_eq!(
        again[0].code_fingerprint,
        Some(fingerprint("canary-code-1"))
    );
    let text = std::fs::read_to_string(store.file("bank")).unwrap();
    for canary in [
        "canary-client-secret",
        "canary-code-1",
        "canary-verifier",
        "canary-at-2",
        "canary-rt-3",
    ] {
        assert!(!text.contains(canary), "{canary} in the history");
    }
    assert!(
        text.contains(&fingerprint("canary-at-2")),
        "tokens as fingerprints"
    );

    // The consent a kept answer granted is evidence for a later refusal.
    let granted = exchange_with(
        200,
        r#"{"access_token":"at","token_type":"Bearer","authorization_details":[{"type":"urn:openfinance-ml:account-access-consent:v1.2","consent":{"consent_id":"c-1","status":"revoked","expiration_datetime":"2099-01-01T00:00:00Z"}}]}"#,
        "accounts",
    )
    .await;
    let other = HistoryStore::at(dir.path().join("other"));
    other.append(&HistoryEntry::of("bank", &granted)).unwrap();
    let mut evidence = crate::diagnosis::Evidence::default();
    other.enrich("bank", None, &mut evidence);
    let consent = evidence.consent.expect("the consent from the history");
    assert_eq!(consent.status.as_deref(), Some("revoked"));
    assert_eq!(consent.expires_at, Some(4_070_908_800));

    // Search.
    let search = |s: Search| again.iter().filter(|e| e.matches(&s)).count();
    assert_eq!(
        search(Search {
            status: Some("4xx".into()),
            ..Search::default()
        }),
        1
    );
    assert_eq!(
        search(Search {
            error: Some("invalid_grant".into()),
            ..Search::default()
        }),
        1
    );
    assert_eq!(
        search(Search {
            grant: Some("authorization_code".into()),
            ..Search::default()
        }),
        2
    );
    let id = again[1].interaction_id.clone().unwrap();
    assert_eq!(
        search(Search {
            interaction_id: Some(id[..8].into()),
            ..Search::default()
        }),
        1
    );

    // The app's search box: every word must name the entry.
    let text = |q: &str| again.iter().filter(|e| e.matches_text(q)).count();
    assert_eq!(text("4xx invalid_grant"), 1);
    assert_eq!(text("authorization_code"), 2);
    assert_eq!(text(&id[..8]), 1);
    assert_eq!(text("400 invalid_client"), 0, "no entry is both");
    assert_eq!(text(""), again.len());

    // The comparison names the scope that changed first, the volatile ones last.
    let diff = compare(&again[1], &again[0]);
    assert_eq!(diff[0].what, "form scope", "{diff:#?}");
    assert_eq!(diff[0].after.as_deref(), Some("accounts payments"));
    assert!(
        diff.iter()
            .any(|d| d.what == "status" && d.after.as_deref() == Some("400"))
    );
    assert!(
        diff.iter()
            .any(|d| d.what == "header x-fapi-interaction-id" && d.expected)
    );

    // Capped.
    for _ in 0..(HISTORY_CAPACITY + 3) {
        store.append(&HistoryEntry::of("bank", &ok)).unwrap();
    }
    assert_eq!(store.list("bank").unwrap().len(), HISTORY_CAPACITY);
}
