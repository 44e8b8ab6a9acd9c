//! Signed request objects (JAR, RFC 9101) as FAPI ecosystems want them inside PAR
//! (RFC 9126 §3): every authorization parameter as a claim, plus `iss` and `client_id`
//! (the client), `aud` (the issuer), `iat`, `nbf`, `exp` and `jti`, with
//! `authorization_details` as JSON (RFC 9396), signed with the client's key and typed
//! `oauth-authz-req+jwt` (RFC 9101 §10.8).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::jose::jwt;
use crate::jose::keys::PrivateKey;
use crate::jose::numeric_date;
use crate::oauth::request::{AuthorizationParams, BuildError};
use crate::storage::profile::Profile;

/// The `typ` of a request object (RFC 9101 §10.8).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";

/// A signed request object and what went into it. Not a credential: it carries the
/// authorization parameters (the PKCE challenge, not the verifier).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestObject {
    /// The compact JWS sent as `request`.
    #[serde(skip)]
    pub jwt: String,
    /// The header as signed.
    pub header: Map<String, Value>,
    /// The claims as signed.
    pub claims: Value,
}

/// Builds and signs the request object for these authorization parameters.
///
/// `extra` claims (the UK's `openbanking_intent_id` inside `claims`, say) are added after
/// the authorization parameters.
pub fn build(
    profile: &Profile,
    key: &PrivateKey,
    params: &AuthorizationParams,
    scope: &str,
    extra: &Map<String, Value>,
    now_millis: i128,
) -> Result<RequestObject, BuildError> {
    let client_id = profile.client_id.trim();
    if client_id.is_empty() {
        return Err(BuildError::Missing(
            "the profile has no client_id (the request object's iss)".into(),
        ));
    }
    let issuer = profile.issuer.trim();
    if issuer.is_empty() {
        return Err(BuildError::Missing(
            "the profile has no issuer (the request object's aud)".into(),
        ));
    }
    let alg = profile.auth.alg;
    key.check_alg(alg)
        .map_err(|e| BuildError::Invalid(format!("the request object cannot be signed: {e}")))?;
    let lifetime = i128::from(profile.request_object.lifetime_secs.max(1));
    let style = profile.auth.numeric_date;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(client_id));
    claims.insert("aud".into(), json!(issuer));
    claims.insert("client_id".into(), json!(client_id));
    let front = &profile.front_channel;
    claims.insert("response_type".into(), json!(front.response_type.trim()));
    if let Some(mode) = &front.response_mode {
        claims.insert("response_mode".into(), json!(mode.trim()));
    }
    claims.insert("redirect_uri".into(), json!(profile.redirect_uri.trim()));
    if !scope.trim().is_empty() {
        claims.insert("scope".into(), json!(scope.trim()));
    }
    claims.insert("state".into(), json!(params.state));
    claims.insert("nonce".into(), json!(params.nonce));
    claims.insert("code_challenge".into(), json!(params.code_challenge));
    claims.insert("code_challenge_method".into(), json!("S256"));
    if let Some(details) = params.authorization_details.as_deref() {
        let value: Value = serde_json::from_str(details)
            .map_err(|e| BuildError::Invalid(format!("authorization_details is not JSON: {e}")))?;
        claims.insert("authorization_details".into(), value);
    }
    for (name, value) in extra {
        claims.insert(name.clone(), value.clone());
    }
    claims.insert("iat".into(), numeric_date::write(now_millis, style));
    claims.insert("nbf".into(), numeric_date::write(now_millis, style));
    claims.insert(
        "exp".into(),
        numeric_date::write(now_millis + lifetime * 1000, style),
    );
    claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.as_str()));
    header.insert(
        "kid".into(),
        json!(
            profile
                .auth
                .kid
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| key.thumbprint())
        ),
    );
    header.insert("typ".into(), json!(REQUEST_OBJECT_TYP));
    let claims = Value::Object(claims);
    let jwt = jwt::sign_compact(&header, &claims, key.encoding_key(), alg.jsonwebtoken())
        .map_err(|e| BuildError::Invalid(format!("the request object could not be signed: {e}")))?;
    Ok(RequestObject {
        jwt,
        header,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckContext, TokenKind, check_jwt};
    use crate::jose::keys::{KeyType, SigningAlg};

    fn params() -> AuthorizationParams {
        AuthorizationParams {
            state: "st".into(),
            nonce: "n".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            authorization_details: Some(
                r#"[{"type":"urn:openfinance-ml:account-access-consent:v1.2","consent":{"permissions":["read_accounts"]}}]"#.into(),
            ),
            request_object_claims: Map::new(),
        }
    }

    #[test]
    fn carries_every_parameter_and_passes_the_request_object_checks() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let mut profile = crate::storage::presets::seed_client();
        profile.auth.alg = SigningAlg::ES256;
        profile.request_object.lifetime_secs = 310;
        let now = 1_769_766_708_445;
        let ro = build(&profile, &key, &params(), "accounts", &Map::new(), now).unwrap();
        let c = &ro.claims;
        assert_eq!(c["iss"], profile.client_id.as_str());
        assert_eq!(c["client_id"], profile.client_id.as_str());
        assert_eq!(c["aud"], "https://auth1.sandbox.mya.ozoneapi.io");
        assert_eq!(c["response_type"], "code");
        assert_eq!(c["code_challenge_method"], "S256");
        assert!(c["authorization_details"].is_array(), "JSON, not a string");
        // The seed's PAR sample: nbf 1769766708.445, exp 310 s later.
        assert_eq!(c["nbf"].to_string(), "1769766708.445");
        assert_eq!(c["exp"].to_string(), "1769767018.445");
        assert_eq!(ro.header["typ"], REQUEST_OBJECT_TYP);
        let decoded = jwt::decode(&ro.jwt).unwrap();
        let ctx = CheckContext {
            issuer: Some(profile.issuer.clone()),
            client_id: Some(profile.client_id.clone()),
            now: 1_769_766_710.0,
            ..CheckContext::default()
        };
        let findings: Vec<_> = check_jwt(&decoded, TokenKind::RequestObject, &ctx, None)
            .into_iter()
            .filter(|f| f.severity == crate::checks::Severity::Error)
            .collect();
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn a_key_that_does_not_fit_the_alg_is_named() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let profile = crate::storage::presets::seed_client(); // PS256
        let e = build(&profile, &key, &params(), "", &Map::new(), 0).unwrap_err();
        assert!(e.to_string().contains("request object"), "{e}");
    }
}
