//! One test per refusal the sandbox makes: signatures, algorithms, claims, replays, PKCE, codes, grants.

use super::*;

#[tokio::test]
async fn refuses_a_bad_signature() {
    let env = env().await;
    let good = env.client.assertion(env.sandbox.issuer());
    let other = TestClient::ed25519("tpp-ed");
    let forged = TestClient {
        kid: env.client.kid.clone(),
        ..other
    };
    let answer = env
        .client_credentials(forged.assertion(env.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "signature does not verify");
    // A tampered payload with the original signature fails too.
    let mut parts: Vec<&str> = good.split('.').collect();
    let tampered_claims = b64(br#"{"iss":"tpp-ed","sub":"tpp-ed"}"#);
    parts[1] = &tampered_claims;
    let answer = env.client_credentials(parts.join(".")).await;
    answer.refused(401, "invalid_client", "signature");
    let entry = env.sandbox.log().into_iter().last().expect("log entry");
    assert_eq!(entry.error.as_deref(), Some("invalid_client"));
    assert!(entry.reason.unwrap_or_default().contains("signature"));
}

#[tokio::test]
async fn refuses_rs256() {
    let client = TestClient::rsa("tpp-rs", Algorithm::RS256, "RS256");
    let env = start(SandboxConfig::default(), client).await;
    let answer = env
        .client_credentials(env.client.assertion(env.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "RS256");
}

#[tokio::test]
async fn refuses_alg_none() {
    let env = env().await;
    let claims = env.client.claims(env.sandbox.issuer());
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(serde_json::to_vec(&claims).expect("json"))
    );
    let answer = env.client_credentials(unsigned).await;
    answer.refused(401, "invalid_client", "none");
}

#[tokio::test]
async fn refuses_iss_different_from_sub() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["sub"] = json!("someone-else");
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "differ");
}

#[tokio::test]
async fn refuses_a_wrong_aud() {
    let env = env().await;
    let answer = env
        .client_credentials(
            env.client
                .assertion("https://auth1.sandbox.mya.ozoneapi.io"),
        )
        .await;
    answer.refused(401, "invalid_client", "not the issuer");
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["aud"] = json!([env.sandbox.issuer()]);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "array");
    let slash = format!("{}/", env.sandbox.issuer());
    let answer = env.client_credentials(env.client.assertion(&slash)).await;
    answer.refused(401, "invalid_client", "trailing slash");
}

#[tokio::test]
async fn token_endpoint_aud_is_refused_unless_lenient() {
    let env = env().await;
    let token_url = env.url("/token");
    let answer = env
        .client_credentials(env.client.assertion(&token_url))
        .await;
    answer.refused(401, "invalid_client", "lenient-aud");

    let lenient = start(
        SandboxConfig {
            lenient_aud: true,
            ..SandboxConfig::default()
        },
        TestClient::ed25519("tpp-ed"),
    )
    .await;
    let token_url = lenient.url("/token");
    let answer = lenient
        .client_credentials(lenient.client.assertion(&token_url))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
}

#[tokio::test]
async fn refuses_a_missing_exp() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims.as_object_mut().expect("object").remove("exp");
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "no exp");
}

#[tokio::test]
async fn refuses_an_exp_too_far_after_iat() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["exp"] = json!(now().floor() + 3700.0);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "too long");
}

#[tokio::test]
async fn refuses_an_expired_assertion() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["iat"] = json!(now() - 400.0);
    claims["exp"] = json!(now() - 100.5);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "expired");
}

#[tokio::test]
async fn refuses_an_assertion_not_yet_valid() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["nbf"] = json!(now() + 120.0);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "nbf");
}

#[tokio::test]
async fn refuses_a_replayed_jti() {
    let env = env().await;
    let assertion = env.client.assertion(env.sandbox.issuer());
    let first = env.client_credentials(assertion.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let replay = env.client_credentials(assertion).await;
    replay.refused(401, "invalid_client", "replay");
}

#[tokio::test]
async fn refuses_an_unknown_client() {
    let env = env().await;
    let stranger = TestClient::ed25519("nobody");
    let answer = env
        .client_credentials(stranger.assertion(env.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "unknown client");
    // No client authentication at all.
    let answer = env
        .post_form("/token", &[("grant_type", "client_credentials".into())])
        .await;
    answer.refused(401, "invalid_client", "client_assertion");
}

#[tokio::test]
async fn refuses_pkce_plain() {
    let env = env().await;
    let verifier = "b".repeat(43);
    let answer = env.par(&verifier, "plain", "s").await;
    answer.refused(400, "invalid_request", "plain");
}

#[tokio::test]
async fn refuses_a_wrong_code_verifier() {
    let env = env().await;
    let (code, _verifier, _) = env.code().await;
    let wrong = "c".repeat(50);
    let answer = env.exchange_code(&code, REDIRECT_URI, &wrong).await;
    answer.refused(400, "invalid_grant", "code_verifier");
}

#[tokio::test]
async fn code_reuse_is_refused_and_revokes_the_tokens() {
    let env = env().await;
    let (code, verifier, _) = env.code().await;
    let first = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let access_token = first.json["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        env.introspect(&access_token).await.json["active"],
        json!(true)
    );
    let second = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    second.refused(400, "invalid_grant", "already used");
    assert_eq!(
        env.introspect(&access_token).await.json,
        json!({"active": false})
    );
    let refresh_token = first.json["refresh_token"].as_str().expect("refresh");
    env.refresh(refresh_token)
        .await
        .refused(400, "invalid_grant", "revoked");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let env = start(
        SandboxConfig {
            code_lifetime: Duration::ZERO,
            ..SandboxConfig::default()
        },
        TestClient::ed25519("tpp-ed"),
    )
    .await;
    let (code, verifier, _) = env.code().await;
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    answer.refused(400, "invalid_grant", "expired");
}

#[tokio::test]
async fn refuses_a_redirect_uri_mismatch() {
    let env = env().await;
    let (code, verifier, _) = env.code().await;
    let answer = env
        .exchange_code(&code, "https://tpp.example/other", &verifier)
        .await;
    answer.refused(400, "invalid_grant", "redirect_uri");
}

#[tokio::test]
async fn refuses_an_unknown_grant_type() {
    let env = env().await;
    let mut form = vec![("grant_type", "password".to_owned())];
    form.extend(env.auth(env.client.assertion(env.sandbox.issuer())));
    let answer = env.post_form("/token", &form).await;
    answer.refused(400, "unsupported_grant_type", "password");
}

#[tokio::test]
async fn names_a_missing_parameter() {
    let env = env().await;
    let (code, _, _) = env.code().await;
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", REDIRECT_URI.into()),
    ];
    form.extend(env.auth(env.client.assertion(env.sandbox.issuer())));
    let answer = env.post_form("/token", &form).await;
    answer.refused(400, "invalid_request", "missing parameter: code_verifier");

    let mut form = vec![("scope", "accounts".to_owned())];
    form.extend(env.auth(env.client.assertion(env.sandbox.issuer())));
    let answer = env.post_form("/token", &form).await;
    answer.refused(400, "invalid_request", "missing parameter: grant_type");
}
