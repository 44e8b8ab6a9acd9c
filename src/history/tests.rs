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

async fn exchange_answering(
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
) -> Exchange {
    let mut p = Profile::new("bank", "https://as.example");
    p.client_id = "c1".into();
    p.endpoints.token = Some("https://as.example/token".into());
    p.auth.method = AuthMethod::ClientSecretPost;
    p.headers.push(crate::storage::profile::ExtraHeader::new(
        "x-fapi-customer-ip-address",
        "198.51.100.77",
    ));
    let secrets = ClientSecrets {
        signing_key: None,
        client_secret: Some(Secret::new("s")),
    };
    let client = FnClient(move |_: Call<'_>| Ok(HttpResponse::with(status, headers, body)));
    let model = build_token_request(
        &p,
        &secrets,
        &Grant::ClientCredentials,
        &RequestOptions::default(),
    )
    .unwrap();
    exchange::run(&client, model, &ExchangeContext::default()).await
}

/// Only the response headers a diagnosis reads keep their values; a body that is not
/// JSON is kept as its size; credentials are caught by their names' pattern and by
/// looking like a JWT; personal data is left out, the rest kept.
#[tokio::test]
async fn the_history_keeps_what_a_diagnosis_needs_and_no_more() {
    let refused = exchange_answering(
        403,
        &[
            ("content-type", "text/html"),
            ("date", "Thu, 03 Dec 2026 10:00:00 GMT"),
            ("dpop-nonce", "nonce-kept-1"),
            ("set-cookie", "session=canary-cookie-1; HttpOnly"),
            ("x-gateway-trace", "canary-trace-2"),
        ],
        "<html><body>Blocked for canary-html-3</body></html>",
    )
    .await;
    let entry = serde_json::to_string(&HistoryEntry::of("bank", &refused)).unwrap();
    for canary in [
        "canary-cookie-1",
        "canary-trace-2",
        "canary-html-3",
        "198.51.100.77",
    ] {
        assert!(!entry.contains(canary), "{canary} kept: {entry}");
    }
    let v: serde_json::Value = serde_json::from_str(&entry).unwrap();
    let headers = v["response"]["headers"].as_array().unwrap();
    assert!(headers.contains(&serde_json::json!(["dpop-nonce", "nonce-kept-1"])));
    assert!(headers.contains(&serde_json::json!(["set-cookie", "<not kept>"])));
    assert_eq!(v["response"]["status"], 403);
    assert_eq!(v["response"]["body"]["bytes"], 51);
    let ip = v["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "x-fapi-customer-ip-address")
        .unwrap();
    assert_eq!(ip["personal"], true);
    assert_eq!(ip["fingerprint"], fingerprint("198.51.100.77"));

    let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjYW5hcnkifQ.c2ln";
    let granted = exchange_answering(
        200,
        &[("content-type", "application/json")],
        r#"{"access_token":"at-1","accessToken":"canary-camel-4","device_code":"canary-device-5",
            "sessionToken":"canary-session-6","token_type":"Bearer","expires_in":300,
            "note":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJjYW5hcnkifQ.c2ln",
            "authorization_details":[{"type":"payment","consent":{"status":"AUTHORISED"},
            "debtorAccount":{"identification":"canary-account-7"},"instructedAmount":{"amount":"10.00"}}]}"#,
    )
    .await;
    let entry = serde_json::to_string(&HistoryEntry::of("bank", &granted)).unwrap();
    for canary in [
        "canary-camel-4",
        "canary-device-5",
        "canary-session-6",
        "canary-account-7",
        jwt,
    ] {
        assert!(!entry.contains(canary), "{canary} kept: {entry}");
    }
    let v: serde_json::Value = serde_json::from_str(&entry).unwrap();
    let body = &v["response"]["body"];
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(
        body["accessToken"],
        format!("<{}>", fingerprint("canary-camel-4"))
    );
    let detail = &body["authorization_details"][0];
    assert_eq!(detail["consent"]["status"], "AUTHORISED");
    assert_eq!(detail["instructedAmount"]["amount"], "10.00");
    assert_eq!(detail["debtorAccount"], super::redaction::PERSONAL);
}

/// The patterns: a credential by any spelling, not an error's code or a token type.
#[test]
fn credential_names_are_recognised_by_pattern() {
    use super::redaction::{is_personal_member, is_secret_member, looks_like_jwt};
    for name in [
        "access_token",
        "accessToken",
        "refresh-token",
        "device_code",
        "userCode",
        "client_secret",
        "clientSecret",
        "x-api-key",
        "code_verifier",
        "client_assertion",
        "password",
        "Cookie",
    ] {
        assert!(is_secret_member(name), "{name}");
    }
    for name in [
        "token_type",
        "issued_token_type",
        "expires_in",
        "client_assertion_type",
        "Code",
        "error",
        "state",
        "code_challenge",
        "token_endpoint",
    ] {
        assert!(!is_secret_member(name), "{name}");
    }
    assert!(is_personal_member("AccountNumber") && is_personal_member("email"));
    assert!(!is_personal_member("consentId") && !is_personal_member("status"));
    assert!(looks_like_jwt("eyJa.eyJb.c"));
    assert!(!looks_like_jwt("eyJa.b c.d") && !looks_like_jwt("hello"));
}
