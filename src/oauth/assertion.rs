//! `private_key_jwt` client assertions (RFC 7523 §2.2 and §3, OIDC Core §9, FAPI 2.0 SP
//! §5.3.2.1): a fresh signed JWT per request.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::jose::jwt;
use crate::jose::keys::{KeyError, PrivateKey, SigningAlg};
use crate::jose::numeric_date::NumericDateStyle;
use crate::secret::Secret;

/// The `client_assertion_type` for a JWT bearer assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Everything needed to build one assertion.
#[derive(Clone, Debug)]
pub struct AssertionSettings {
    /// `iss` and `sub`.
    pub client_id: String,
    /// `aud`, already resolved (the issuer by default, as in the seed).
    pub audience: String,
    /// The signing algorithm.
    pub alg: SigningAlg,
    /// `kid` header; `None` omits it.
    pub kid: Option<String>,
    /// `exp` − `iat`, in seconds.
    pub lifetime_secs: u32,
    /// How NumericDates are written.
    pub numeric_date: NumericDateStyle,
    /// `typ` header, only when the profile asks for one.
    pub typ: Option<String>,
}

/// Why an assertion could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    /// The key does not fit the algorithm.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Signing failed.
    #[error("signing the client assertion failed: {0}")]
    Sign(String),
    /// A required setting is empty.
    #[error("cannot build the client assertion: {0}")]
    Missing(&'static str),
}

/// A signed client assertion and what went into it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientAssertion {
    /// The compact JWS to send as `client_assertion` (a credential until it expires;
    /// `Debug` and `Serialize` hide it).
    #[serde(skip)]
    pub jwt: Secret,
    /// The header as signed.
    pub header: Map<String, Value>,
    /// The claims as signed.
    pub claims: Value,
}

impl ClientAssertion {
    /// The `jti` claim.
    pub fn jti(&self) -> Option<&str> {
        self.claims.get("jti").and_then(Value::as_str)
    }
}

/// Builds and signs a client assertion at time `now_millis` (Unix milliseconds) with a
/// fresh UUID v4 `jti`.
pub fn build_client_assertion(
    settings: &AssertionSettings,
    key: &PrivateKey,
    now_millis: i128,
) -> Result<ClientAssertion, AssertionError> {
    if settings.client_id.trim().is_empty() {
        return Err(AssertionError::Missing("the client_id is empty"));
    }
    if settings.audience.trim().is_empty() {
        return Err(AssertionError::Missing(
            "the audience is empty (set the issuer or the token endpoint)",
        ));
    }
    key.check_alg(settings.alg)?;

    let mut header = Map::new();
    header.insert("alg".into(), json!(settings.alg.as_str()));
    if let Some(kid) = settings.kid.as_deref().filter(|k| !k.is_empty()) {
        header.insert("kid".into(), json!(kid));
    }
    if let Some(typ) = settings.typ.as_deref().filter(|t| !t.is_empty()) {
        header.insert("typ".into(), json!(typ));
    }
    // Claim order follows the seed: aud, exp, iss, sub, jti, iat.
    let exp_millis = now_millis + i128::from(settings.lifetime_secs) * 1000;
    let claims = json!({
        "aud": settings.audience,
        "exp": crate::jose::numeric_date::write(exp_millis, settings.numeric_date),
        "iss": settings.client_id,
        "sub": settings.client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": crate::jose::numeric_date::write(now_millis, settings.numeric_date),
    });
    let jwt = jwt::sign_compact(
        &header,
        &claims,
        key.encoding_key(),
        settings.alg.jsonwebtoken(),
    )
    .map_err(|e| AssertionError::Sign(e.to_string()))?;
    Ok(ClientAssertion {
        jwt: Secret::new(jwt),
        header,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::tests::rsa_key;

    fn settings() -> AssertionSettings {
        AssertionSettings {
            client_id: "55aa605c-89ef-4473-aa88-47709f0ff383".into(),
            audience: "https://auth1.sandbox.mya.ozoneapi.io".into(),
            alg: SigningAlg::PS256,
            kid: Some("CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI".into()),
            lifetime_secs: 310,
            numeric_date: NumericDateStyle::Milliseconds,
            typ: None,
        }
    }

    #[test]
    fn reproduces_the_seed_claims() {
        // The seed's iat is 1769766702.739 and exp is 310 s later.
        let a = build_client_assertion(&settings(), rsa_key(), 1_769_766_702_739).unwrap();
        let d = jwt::decode(a.jwt.expose()).unwrap();
        assert_eq!(
            serde_json::to_string(&d.header).unwrap(),
            r#"{"alg":"PS256","kid":"CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"}"#
        );
        let c = d.unverified_claims().unwrap();
        assert_eq!(c["aud"], "https://auth1.sandbox.mya.ozoneapi.io");
        assert_eq!(c["exp"].to_string(), "1769767012.739");
        assert_eq!(c["iat"].to_string(), "1769766702.739");
        assert_eq!(c["iss"], c["sub"]);
        assert_eq!(c["iss"], "55aa605c-89ef-4473-aa88-47709f0ff383");
        let jti = c["jti"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(jti).unwrap().get_version_num(), 4);
        let keys: Vec<&str> = c.keys().map(String::as_str).collect();
        assert_eq!(keys, ["aud", "exp", "iss", "sub", "jti", "iat"]);
    }

    #[test]
    fn signature_verifies_with_the_public_key() {
        let a = build_client_assertion(&settings(), rsa_key(), 1_769_766_702_739).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(rsa_key().public_jwk(None, SigningAlg::PS256)).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let (input, sig) = a.jwt.expose().rsplit_once('.').unwrap();
        assert!(
            jsonwebtoken::crypto::verify(
                sig,
                input.as_bytes(),
                &key,
                jsonwebtoken::Algorithm::PS256
            )
            .unwrap()
        );
    }

    #[test]
    fn whole_seconds_and_fresh_jti() {
        let mut s = settings();
        s.numeric_date = NumericDateStyle::Seconds;
        s.kid = None;
        s.typ = Some("JWT".into());
        let a = build_client_assertion(&s, rsa_key(), 1_769_766_702_739).unwrap();
        let b = build_client_assertion(&s, rsa_key(), 1_769_766_702_739).unwrap();
        assert_eq!(a.claims["iat"].to_string(), "1769766702");
        assert_eq!(a.claims["exp"].to_string(), "1769767012");
        assert_ne!(a.jti(), b.jti());
        assert!(a.header.get("kid").is_none());
        assert_eq!(a.header["typ"], "JWT");
    }

    #[test]
    fn refuses_mismatched_alg_and_empty_client() {
        let mut s = settings();
        s.alg = SigningAlg::ES256;
        assert!(matches!(
            build_client_assertion(&s, rsa_key(), 0),
            Err(AssertionError::Key(_))
        ));
        let mut s = settings();
        s.client_id.clear();
        assert!(matches!(
            build_client_assertion(&s, rsa_key(), 0),
            Err(AssertionError::Missing(_))
        ));
    }
}
