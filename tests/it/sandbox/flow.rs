//! The sandbox's whole flow with an independent client: registration, the consent page, request objects, refresh, interaction ids.

use super::*;

#[tokio::test]
async fn whole_flow_with_an_independent_client() {
    let env = start(
        SandboxConfig::default(),
        TestClient::rsa("tpp-ps", Algorithm::PS256, "PS256"),
    )
    .await;
    let issuer = env.sandbox.issuer().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");

    // Discovery.
    let doc: Value = env
        .http
        .get(env.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], json!(issuer));
    assert_eq!(doc["token_endpoint"], json!(format!("{issuer}/token")));
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        json!(format!("{issuer}/par"))
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert_eq!(
        doc["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    assert_eq!(doc["require_pushed_authorization_requests"], json!(true));

    // JWKS of the sandbox.
    let jwks: Value = env
        .http
        .get(env.url("/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let server_jwk = jwks["keys"][0].clone();
    assert_eq!(server_jwk["kty"], json!("RSA"));

    // PAR, authorize (auto-approve), token.
    let (code, verifier, query) = env.code().await;
    assert_eq!(find(&query, "state").as_deref(), Some("st-123"));
    assert_eq!(find(&query, "iss").as_deref(), Some(issuer.as_str()));
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert!(answer.headers.get("x-fapi-interaction-id").is_some());
    let body = &answer.json;
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "token_type",
            "scope",
            "state",
            "authorization_details",
            "grant_id",
            "refresh_token",
            "id_token"
        ]
    );
    assert_eq!(body["expires_in"], json!(600));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["state"], json!("st-123"));
    assert_eq!(body["scope"], json!("openid accounts profile"));
    let detail = &body["authorization_details"][0];
    assert_eq!(detail["type"], json!(CONSENT_TYPE));
    let consent = &detail["consent"];
    assert_eq!(consent["status"], json!("authorized"));
    assert_eq!(consent["consent_type"], json!(CONSENT_TYPE));
    assert_eq!(
        consent["permissions"],
        json!(["read_accounts", "read_balances"])
    );
    assert_eq!(
        consent["expiration_datetime"],
        json!("2030-11-30T23:59:59Z")
    );
    assert_eq!(consent["updated_by"], json!("data_provider_user"));
    assert_eq!(consent["consent_id"], body["grant_id"]);
    assert_eq!(
        consent["accounts"][0]["account_name"],
        json!("Greenbank Current Account")
    );
    assert_eq!(consent["accounts"].as_array().map(Vec::len), Some(3));

    // id_token: PS256 with the sandbox key, the seed's claims and the OIDC hashes.
    let access_token = body["access_token"].as_str().expect("access_token");
    let id_token = body["id_token"].as_str().expect("id_token");
    let header = decode_part(id_token, 0);
    assert_eq!(header["alg"], json!("PS256"));
    assert_eq!(header["kid"], server_jwk["kid"]);
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(server_jwk).expect("jwk");
    let (input, sig) = id_token.rsplit_once('.').expect("jws");
    assert!(
        jsonwebtoken::crypto::verify(
            sig,
            input.as_bytes(),
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("key"),
            Algorithm::PS256
        )
        .expect("verify")
    );
    let claims = decode_part(id_token, 1);
    assert_eq!(claims["sub"], json!("202"));
    assert_eq!(claims["name"], json!("Mr. Mitsu Hirato"));
    assert_eq!(claims["amr"], json!("mock"));
    assert_eq!(claims["email_verified"], json!("true"));
    assert_eq!(claims["iss"], json!(issuer));
    assert_eq!(claims["aud"], json!("tpp-ps"));
    assert_eq!(claims["azp"], json!("tpp-ps"));
    assert_eq!(claims["nonce"], json!("n-0S6_WzA2Mj"));
    assert_eq!(claims["at_hash"], json!(half_hash(access_token)));
    assert_eq!(claims["c_hash"], json!(half_hash(&code)));
    assert!(claims["exp"].as_i64() > claims["iat"].as_i64());

    // userinfo.
    let info: Value = env
        .http
        .get(env.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(info["sub"], json!("202"));
    assert_eq!(info["email"], json!("mits@m2.com"));

    // introspect.
    let intro = env.introspect(access_token).await;
    assert_eq!(intro.json["active"], json!(true));
    assert_eq!(intro.json["client_id"], json!("tpp-ps"));
    assert_eq!(intro.json["sub"], json!("202"));

    // refresh: not rotated by default, the same refresh token comes back.
    let refresh_token = body["refresh_token"].as_str().expect("refresh_token");
    let refreshed = env.refresh(refresh_token).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{:?}", refreshed.json);
    assert_eq!(refreshed.json["refresh_token"], json!(refresh_token));
    assert_ne!(refreshed.json["access_token"], json!(access_token));
    assert_eq!(refreshed.json["grant_id"], body["grant_id"]);

    // revoke the refresh token: it and the grant's access tokens become inactive.
    let mut form = vec![
        ("token", refresh_token.to_owned()),
        ("token_type_hint", "refresh_token".into()),
    ];
    form.extend(env.auth(env.client.assertion(&issuer)));
    let revoked = env.post_form("/revoke", &form).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        env.introspect(refresh_token).await.json,
        json!({"active": false})
    );
    assert_eq!(
        env.introspect(access_token).await.json,
        json!({"active": false})
    );
    let again = env.refresh(refresh_token).await;
    again.refused(400, "invalid_grant", "revoked");

    // The log names every request, the client and no secrets.
    let log = env.sandbox.log();
    assert!(log.iter().any(|e| e.path == "/par" && e.status == 201));
    assert!(log.iter().any(|e| e.path == "/token"
        && e.status == 200
        && e.client_id.as_deref() == Some("tpp-ps")));
    assert!(log.iter().all(|e| e.interaction_id.is_some()));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn dynamic_registration_then_token() {
    let env = env().await;
    let newcomer = TestClient::es256("ignored");
    let response = env
        .http
        .post(env.url("/register"))
        .json(&json!({"jwks": newcomer.jwks, "redirect_uris": ["https://new.example/cb"]}))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let client_id = body["client_id"].as_str().expect("client_id").to_owned();
    assert_eq!(body["token_endpoint_auth_method"], json!("private_key_jwt"));
    let registered = TestClient {
        id: client_id.clone(),
        ..newcomer
    };
    let answer = env
        .client_credentials(registered.assertion(env.sandbox.issuer()))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert_eq!(answer.json["token_type"], json!("Bearer"));

    // The same client_id again, and a private key in jwks, are refused.
    let again = env
        .http
        .post(env.url("/register"))
        .json(&json!({"client_id": client_id, "jwks": registered.jwks}))
        .send()
        .await
        .expect("register");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["error"], json!("invalid_client_metadata"));
    let private = env
        .http
        .post(env.url("/register"))
        .json(&json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}))
        .send()
        .await
        .expect("register");
    let private: Value = private.json().await.expect("json");
    assert_eq!(private["error"], json!("invalid_client_metadata"));
}

#[tokio::test]
async fn consent_page_approve_with_one_account_and_deny() {
    let env = env().await;
    let verifier = "a".repeat(43);
    let challenge = b64(Sha256::digest(verifier.as_bytes()));
    let par = env.par(&challenge, "S256", "s1").await;
    let request_uri = par.json["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(par.json["expires_in"], json!(90));
    let page = env
        .http
        .get(env.authorize_url(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
        ]))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Approve") && html.contains("Greenbank Savings Account"));

    let approve = env
        .http
        .post(env.url("/authorize"))
        .form(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
            ("user", "202"),
            ("account", "100004000000000000000002"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .expect("approve");
    assert_eq!(approve.status(), StatusCode::SEE_OTHER);
    let query = redirect_query(approve.headers());
    let code = find(&query, "code").expect("code");
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    let accounts = &answer.json["authorization_details"][0]["consent"]["accounts"];
    assert_eq!(
        accounts,
        &json!([{"account_id": "100004000000000000000002", "account_number": "10000002",
            "account_name": "Greenbank Savings Account"}])
    );

    // Deny: access_denied with state and iss on the redirect.
    let par = env.par(&challenge, "S256", "s2").await;
    let request_uri = par.json["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned();
    let deny = env
        .http
        .post(env.url("/authorize"))
        .form(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("deny");
    let query = redirect_query(deny.headers());
    assert_eq!(find(&query, "error").as_deref(), Some("access_denied"));
    assert_eq!(find(&query, "state").as_deref(), Some("s2"));
    assert_eq!(find(&query, "iss").as_deref(), Some(env.sandbox.issuer()));
    // The request_uri is single-use.
    let reuse = env
        .http
        .get(env.authorize_url(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
        ]))
        .send()
        .await
        .expect("page");
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn es256_and_fractional_numeric_dates_are_accepted() {
    let env = start(SandboxConfig::default(), TestClient::es256("tpp-ec")).await;
    let t = now().floor();
    // The seed's shape: fractional NumericDates, 310 s apart.
    let claims = json!({
        "aud": env.sandbox.issuer(), "exp": t + 300.739, "iss": "tpp-ec", "sub": "tpp-ec",
        "jti": uuid::Uuid::new_v4().to_string(), "iat": t - 9.261
    });
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert_eq!(answer.json["expires_in"], json!(600));
    // client_credentials tokens have no user: userinfo says so.
    let token = answer.json["access_token"].as_str().expect("token");
    let info = env
        .http
        .get(env.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(info.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn par_accepts_a_signed_request_object() {
    let env = env().await;
    let issuer = env.sandbox.issuer().to_owned();
    let verifier = "d".repeat(64);
    let t = now().floor();
    let request_claims = json!({
        "iss": env.client.id, "aud": issuer, "client_id": env.client.id,
        "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "openid accounts",
        "state": "ro-state", "nonce": "ro-nonce",
        "code_challenge": b64(Sha256::digest(verifier.as_bytes())),
        "code_challenge_method": "S256",
        "authorization_details": [{"type": CONSENT_TYPE, "consent": {"permissions": ["read_balances"]}}],
        "nbf": t, "exp": t + 300.0, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let request = env.client.sign_raw(
        &json!({"alg": env.client.alg_name, "kid": env.client.kid, "typ": "oauth-authz-req+jwt"}),
        &request_claims,
    );
    let mut form = vec![("client_id", env.client.id.clone()), ("request", request)];
    form.extend(env.auth(env.client.assertion(&issuer)));
    let par = env.post_form("/par", &form).await;
    assert_eq!(par.status, StatusCode::CREATED, "{:?}", par.json);
    let request_uri = par.json["request_uri"].as_str().expect("request_uri");
    let response = env
        .http
        .get(env.authorize_url(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", request_uri),
            ("auto_approve", "true"),
        ]))
        .send()
        .await
        .expect("authorize");
    let query = redirect_query(response.headers());
    assert_eq!(find(&query, "state").as_deref(), Some("ro-state"));
    let code = find(&query, "code").expect("code");
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert_eq!(
        answer.json["authorization_details"][0]["consent"]["permissions"],
        json!(["read_balances"])
    );

    // A request object with a lifetime over 60 minutes is refused.
    let mut long = request_claims.clone();
    long["exp"] = json!(t + 4000.0);
    let request = env.client.assertion_with(&long);
    let mut form = vec![("client_id", env.client.id.clone()), ("request", request)];
    form.extend(env.auth(env.client.assertion(&issuer)));
    env.post_form("/par", &form)
        .await
        .refused(400, "invalid_request_object", "60 min");
}

#[tokio::test]
async fn userinfo_and_revoke_refuse_what_they_should() {
    let env = env().await;
    let info = env
        .http
        .get(env.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("userinfo");
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    let challenge = info
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );

    // Another client cannot revoke this client's token.
    let token = env
        .client_credentials(env.client.assertion(env.sandbox.issuer()))
        .await;
    let access_token = token.json["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let other = TestClient::es256("other");
    env.sandbox.register_client(other.registration());
    let mut form = vec![("token", access_token.clone())];
    form.extend(env.auth(other.assertion(env.sandbox.issuer())));
    env.post_form("/revoke", &form)
        .await
        .refused(400, "unauthorized_client", "another client");
    assert_eq!(
        env.introspect(&access_token).await.json["active"],
        json!(true)
    );
}

#[tokio::test]
async fn refresh_tokens_are_not_rotated_by_default() {
    let env = env().await;
    let (code, verifier, _) = env.code().await;
    let first = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    let refresh_token = first.json["refresh_token"].as_str().expect("refresh");
    for _ in 0..2 {
        let answer = env.refresh(refresh_token).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
        assert_eq!(answer.json["refresh_token"], json!(refresh_token));
    }
}

#[tokio::test]
async fn rotated_refresh_tokens_are_refused_after_use() {
    let env = start(
        SandboxConfig {
            rotate_refresh_tokens: true,
            ..SandboxConfig::default()
        },
        TestClient::ed25519("tpp-ed"),
    )
    .await;
    let (code, verifier, _) = env.code().await;
    let first = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    let old = first.json["refresh_token"].as_str().expect("refresh");
    let rotated = env.refresh(old).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.json);
    let new = rotated.json["refresh_token"].as_str().expect("new refresh");
    assert_ne!(new, old);
    env.refresh(old)
        .await
        .refused(400, "invalid_grant", "already used");
    let newest = env.refresh(new).await;
    assert_eq!(newest.status, StatusCode::OK, "{:?}", newest.json);
}

#[tokio::test]
async fn interaction_id_is_echoed_or_created() {
    let env = env().await;
    let sent = "968bed68-6694-44a8-8daa-b955bb4d1283";
    let response = env
        .http
        .get(env.url("/.well-known/openid-configuration"))
        .header("x-fapi-interaction-id", sent)
        .send()
        .await
        .expect("discovery");
    assert_eq!(
        response
            .headers()
            .get("x-fapi-interaction-id")
            .map(|v| v.as_bytes()),
        Some(sent.as_bytes())
    );
    // An error answer echoes it too.
    let refused = env
        .http
        .post(env.url("/token"))
        .header("x-fapi-interaction-id", sent)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused
            .headers()
            .get("x-fapi-interaction-id")
            .map(|v| v.as_bytes()),
        Some(sent.as_bytes())
    );
    let created = env.http.get(env.url("/jwks")).send().await.expect("jwks");
    let id = created
        .headers()
        .get("x-fapi-interaction-id")
        .and_then(|v| v.to_str().ok())
        .expect("created id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_ne!(id, sent);
    let logged = env.sandbox.log();
    assert!(
        logged
            .iter()
            .any(|e| e.interaction_id.as_deref() == Some(id))
    );
}

#[tokio::test]
async fn parallel_sandboxes_are_independent() {
    let (a, b) = tokio::join!(env(), env());
    assert_ne!(a.sandbox.addr(), b.sandbox.addr());
    // a's key is unknown to b (b registered another key under the same client id).
    let answer = b
        .client_credentials(a.client.assertion(b.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "no key with kid");
    let ok = a
        .client_credentials(a.client.assertion(a.sandbox.issuer()))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}
