//! The diagnosis judged on exchanges built against the transport seam.

use serde_json::json;

use super::*;
use crate::jose::hash::fingerprint;
use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
use crate::oauth::exchange::{self, ExchangeContext};
use crate::oauth::http::{Call, FnClient, HttpResponse};
use crate::oauth::request::{ClientSecrets, Grant, RequestOptions, build_token_request};
use crate::secret::Secret;
use crate::storage::profile::{AudienceChoice, AuthMethod, Profile};

const ISSUER: &str = "https://as.example";
const TOKEN: &str = "https://as.example/token";

fn profile(aud: AudienceChoice) -> Profile {
    let mut p = Profile::new("p", ISSUER);
    p.client_id = "c1".into();
    p.endpoints.token = Some(TOKEN.into());
    p.auth.method = AuthMethod::PrivateKeyJwt;
    p.auth.alg = SigningAlg::ES256;
    p.auth.kid = Some("k1".into());
    p.auth.aud = aud;
    p
}

fn key() -> PrivateKey {
    PrivateKey::generate(KeyType::EC_P256).unwrap()
}

/// One exchange against a fake server answering `status` with `body` and `date`.
async fn refused(
    profile: &Profile,
    key: &PrivateKey,
    grant: Grant,
    status: u16,
    body: &'static str,
    date: std::time::SystemTime,
) -> Exchange {
    let date = httpdate::fmt_http_date(date);
    let client = FnClient(move |_: Call<'_>| {
        Ok(HttpResponse::with(
            status,
            &[("content-type", "application/json"), ("date", &date)],
            body,
        ))
    });
    let secrets = ClientSecrets {
        signing_key: Some(key.clone()),
        client_secret: None,
    };
    let model = build_token_request(profile, &secrets, &grant, &RequestOptions::default()).unwrap();
    exchange::run(&client, model, &ExchangeContext::default()).await
}

fn evidence(p: &Profile, key: &PrivateKey) -> Evidence {
    Evidence {
        issuer: Some(ISSUER.into()),
        token_endpoint: Some(TOKEN.into()),
        signing_jwk: Some(key.public_jwk(p.auth.kid.as_deref(), p.auth.alg)),
        ..Evidence::default()
    }
}

fn status_of(causes: &[Cause], code: &str) -> Status {
    causes
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("no {code} in {causes:#?}"))
        .status
}

const INVALID_CLIENT: &str = r#"{"error":"invalid_client","error_description":"refused"}"#;
const INVALID_GRANT: &str = r#"{"error":"invalid_grant","error_description":"refused"}"#;

#[tokio::test]
async fn a_success_has_no_diagnosis() {
    let p = profile(AudienceChoice::Issuer);
    let k = key();
    let ok = refused(
        &p,
        &k,
        Grant::ClientCredentials,
        200,
        r#"{"access_token":"a","token_type":"Bearer"}"#,
        std::time::SystemTime::now(),
    )
    .await;
    assert!(diagnose(&ok, &evidence(&p, &k)).is_empty());
}

/// E1: aud = the token endpoint is likely; aud = the issuer is ruled out. Likely
/// causes come first.
#[tokio::test]
async fn the_assertion_aud_is_judged_against_the_issuer() {
    let k = key();
    let p = profile(AudienceChoice::TokenEndpoint);
    let now = std::time::SystemTime::now();
    let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
    let causes = diagnose(&ex, &evidence(&p, &k));
    assert_eq!(
        status_of(&causes, "diagnosis.assertion_aud"),
        Status::Likely
    );
    assert_eq!(causes[0].code, "diagnosis.assertion_aud", "likely first");
    assert!(causes[0].evidence.contains(TOKEN), "{}", causes[0].evidence);

    let p = profile(AudienceChoice::Issuer);
    let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
    let causes = diagnose(&ex, &evidence(&p, &k));
    assert_eq!(
        status_of(&causes, "diagnosis.assertion_aud"),
        Status::RuledOut
    );
    assert_eq!(
        status_of(&causes, "diagnosis.jti_reused"),
        Status::Unknown,
        "no history given"
    );
    assert_eq!(status_of(&causes, "diagnosis.clock_skew"), Status::RuledOut);
    assert_eq!(
        status_of(&causes, "diagnosis.unregistered_key"),
        Status::Unknown,
        "no registered JWKS given"
    );
    // Sending does not diagnose: the session judges once, with all its evidence.
    assert!(ex.diagnosis.is_empty());
}

/// E2: a server whose Date is two minutes behind sees our iat in its future.
#[tokio::test]
async fn a_server_clock_behind_ours_is_the_likely_cause() {
    let k = key();
    let p = profile(AudienceChoice::Issuer);
    let behind = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    let ex = refused(
        &p,
        &k,
        Grant::ClientCredentials,
        401,
        INVALID_CLIENT,
        behind,
    )
    .await;
    let causes = diagnose(&ex, &evidence(&p, &k));
    assert_eq!(status_of(&causes, "diagnosis.clock_skew"), Status::Likely);
    let c = causes
        .iter()
        .find(|c| c.code == "diagnosis.clock_skew")
        .unwrap();
    assert!(
        c.evidence.contains("after the server's clock"),
        "{}",
        c.evidence
    );
}

/// E3: the kid against the registered JWKS: absent is likely, present with the
/// same public key is ruled out, present with another key is likely.
#[tokio::test]
async fn the_signing_kid_is_judged_against_the_registered_jwks() {
    let k = key();
    let p = profile(AudienceChoice::Issuer);
    let now = std::time::SystemTime::now();
    let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
    let mut ev = evidence(&p, &k);
    ev.registered_jwks =
        Some(json!({"keys": [key().public_jwk(Some("other"), SigningAlg::ES256)]}));
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.unregistered_key"),
        Status::Likely
    );
    ev.registered_jwks = Some(k.public_jwks(Some("k1"), SigningAlg::ES256));
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.unregistered_key"),
        Status::RuledOut
    );
    ev.registered_jwks = Some(json!({"keys": [key().public_jwk(Some("k1"), SigningAlg::ES256)]}));
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.unregistered_key"),
        Status::Likely,
        "the kid is registered for another key"
    );
}

fn code_grant(verifier: &str, redirect_uri: &str) -> Grant {
    Grant::AuthorizationCode {
        code: Secret::new("code-1"),
        redirect_uri: redirect_uri.into(),
        code_verifier: Some(Secret::new(verifier)),
    }
}

/// E7, E8, E9 on an invalid_grant.
#[tokio::test]
async fn an_invalid_grant_is_judged_on_pkce_redirect_uri_and_the_code() {
    let k = key();
    let p = profile(AudienceChoice::Issuer);
    let now = std::time::SystemTime::now();
    let verifier = crate::oauth::pkce::PkceVerifier::generate();
    let grant = code_grant(verifier.as_str(), "https://tpp.example/cb");
    let ex = refused(&p, &k, grant, 400, INVALID_GRANT, now).await;
    let mut ev = evidence(&p, &k);
    // Nothing known about the authorization: cannot tell.
    let causes = diagnose(&ex, &ev);
    assert_eq!(
        status_of(&causes, "diagnosis.pkce_mismatch"),
        Status::Unknown
    );
    assert_eq!(status_of(&causes, "diagnosis.code_reused"), Status::Unknown);
    assert_eq!(
        status_of(&causes, "diagnosis.code_expired"),
        Status::Unknown
    );
    // The authorization as it was: all clean.
    ev.pkce_challenge = Some(verifier.challenge_s256());
    ev.authorization_redirect_uri = Some("https://tpp.example/cb".into());
    ev.code_received_at = Some(crate::jose::numeric_date::now_unix() as i64 - 5);
    ev.earlier_codes = Some(vec![fingerprint("another-code")]);
    let causes = diagnose(&ex, &ev);
    for code in [
        "diagnosis.pkce_mismatch",
        "diagnosis.redirect_uri_mismatch",
        "diagnosis.code_reused",
        "diagnosis.code_expired",
    ] {
        assert_eq!(status_of(&causes, code), Status::RuledOut, "{code}");
    }
    // Another authorization's challenge, another redirect_uri, an old, used code.
    ev.pkce_challenge = Some(crate::oauth::pkce::PkceVerifier::generate().challenge_s256());
    ev.authorization_redirect_uri = Some("https://tpp.example/other".into());
    ev.code_received_at = Some(crate::jose::numeric_date::now_unix() as i64 - 300);
    ev.earlier_codes = Some(vec![fingerprint("code-1")]);
    let causes = diagnose(&ex, &ev);
    for code in [
        "diagnosis.pkce_mismatch",
        "diagnosis.redirect_uri_mismatch",
        "diagnosis.code_reused",
        "diagnosis.code_expired",
    ] {
        assert_eq!(status_of(&causes, code), Status::Likely, "{code}");
    }
}

/// E5: no certificate where the profile expects mTLS; E15: the consent's status.
#[tokio::test]
async fn certificates_and_consents_are_judged() {
    let k = key();
    let p = profile(AudienceChoice::Issuer);
    let now = std::time::SystemTime::now();
    let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
    let mut ev = evidence(&p, &k);
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.client_certificate_missing"),
        Status::Unknown
    );
    ev.certificate_expected = Some("the test says so".into());
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.client_certificate_missing"),
        Status::Likely
    );
    let body = r#"{"error":"invalid_grant","error_description":"refresh token not valid"}"#;
    let refresh = || Grant::RefreshToken {
        refresh_token: Secret::new("rt"),
    };
    let ex = refused(&p, &k, refresh(), 400, body, now).await;
    ev.consent = Some(ConsentState {
        status: Some("Revoked".into()),
        authorized_word: Some("Authorised".into()),
        expires_at: None,
    });
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
        Status::Likely
    );
    ev.consent = Some(ConsentState {
        status: Some("REVOKED".into()),
        authorized_word: None,
        expires_at: None,
    });
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
        Status::Likely,
        "without the ecosystem's word"
    );
    ev.consent = Some(ConsentState {
        status: Some("Authorised".into()),
        authorized_word: Some("Authorised".into()),
        expires_at: Some(crate::jose::numeric_date::now_unix() as i64 + 3600),
    });
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
        Status::RuledOut
    );
    // The server's own words outrank what was last seen.
    let body = r#"{"error":"invalid_grant","error_description":"the consent was revoked"}"#;
    let ex = refused(&p, &k, refresh(), 400, body, now).await;
    assert_eq!(
        status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
        Status::Likely
    );
}

/// A client-credentials grant over TLS without a certificate, refused `invalid_grant` by
/// a server whose discovery says it binds tokens to certificates (or offers only
/// `tls_client_auth`): the missing certificate is the likely cause, with that evidence.
#[tokio::test]
async fn a_server_that_binds_tokens_to_certificates_wants_one() {
    let mut p = profile(AudienceChoice::Issuer);
    p.auth.method = AuthMethod::None;
    p.issuer = "https://bank.example".into();
    let k = key();
    let now = std::time::SystemTime::now();
    let ex = refused(&p, &k, Grant::ClientCredentials, 400, INVALID_GRANT, now).await;
    // Nothing says this server wants a certificate: cannot tell.
    let plain = Evidence::for_profile(&p, &Default::default(), None, None);
    let code = "diagnosis.client_certificate_missing";
    assert_eq!(status_of(&diagnose(&ex, &plain), code), Status::Unknown);
    for discovery in [
        json!({"tls_client_certificate_bound_access_tokens": true}),
        json!({"token_endpoint_auth_methods_supported": ["tls_client_auth"]}),
    ] {
        let ev = Evidence::for_profile(&p, &Default::default(), None, Some(&discovery));
        let causes = diagnose(&ex, &ev);
        assert_eq!(status_of(&causes, code), Status::Likely, "{discovery}");
        let cause = causes.iter().find(|c| c.code == code).unwrap();
        assert!(cause.evidence.contains("discovery"), "{}", cause.evidence);
    }
    // A server that offers private_key_jwt too does not, by that alone, want one.
    let mixed =
        json!({"token_endpoint_auth_methods_supported": ["tls_client_auth", "private_key_jwt"]});
    let ev = Evidence::for_profile(&p, &Default::default(), None, Some(&mixed));
    assert_eq!(status_of(&diagnose(&ex, &ev), code), Status::Unknown);
}
