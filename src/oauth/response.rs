//! What a token endpoint answers (RFC 6749 §5.1 and §5.2), read from the JSON value so
//! every field survives: the known ones (including the seed's `state`, `grant_id` and
//! RFC 9396 `authorization_details` with Ozone's `consent` shape) are offered through
//! accessors, and unknown ones are listed, never dropped.

use serde::Serialize;
use serde_json::{Map, Value};

/// The fields RFC 6749 §5.1, OIDC Core §3.1.3.3, the Grant Management draft and RFC 9396
/// define for a token response (and the seed carries).
pub const KNOWN_TOKEN_FIELDS: [&str; 10] = [
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "id_token",
    "state",
    "grant_id",
    "authorization_details",
    "issued_token_type",
];

/// A successful token response, kept as the JSON object received. `Debug` names the
/// members without their values (tokens are credentials).
#[derive(Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TokenResponse {
    /// The whole object, members in the order received.
    pub raw: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("members", &self.raw.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TokenResponse {
    fn str_field(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Value::as_str)
    }

    /// `access_token`.
    pub fn access_token(&self) -> Option<&str> {
        self.str_field("access_token")
    }
    /// `token_type` (`Bearer`, `DPoP`).
    pub fn token_type(&self) -> Option<&str> {
        self.str_field("token_type")
    }
    /// `expires_in` in seconds (a number; some servers send a string).
    pub fn expires_in(&self) -> Option<f64> {
        match self.raw.get("expires_in")? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// `refresh_token`.
    pub fn refresh_token(&self) -> Option<&str> {
        self.str_field("refresh_token")
    }
    /// `scope` granted.
    pub fn scope(&self) -> Option<&str> {
        self.str_field("scope")
    }
    /// `id_token`.
    pub fn id_token(&self) -> Option<&str> {
        self.str_field("id_token")
    }
    /// `state` (the seed echoes it).
    pub fn state(&self) -> Option<&str> {
        self.str_field("state")
    }
    /// `grant_id` (Grant Management; the seed's equals the consent id).
    pub fn grant_id(&self) -> Option<&str> {
        self.str_field("grant_id")
    }
    /// `authorization_details` (RFC 9396 §7), each with its consent when present.
    pub fn authorization_details(&self) -> Vec<AuthorizationDetail> {
        self.raw
            .get("authorization_details")
            .and_then(Value::as_array)
            .map(|items| items.iter().map(AuthorizationDetail::from_value).collect())
            .unwrap_or_default()
    }
    /// Members this app does not know, in the order received.
    pub fn unknown_fields(&self) -> Vec<&str> {
        self.raw
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN_TOKEN_FIELDS.contains(k))
            .collect()
    }
}

/// One RFC 9396 authorization detail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuthorizationDetail {
    /// `type`, e.g. `urn:openfinance-ml:account-access-consent:v1.2`.
    pub detail_type: Option<String>,
    /// Ozone's `consent` object, when present.
    pub consent: Option<Consent>,
    /// The whole detail as received.
    pub raw: Value,
}

impl AuthorizationDetail {
    /// Reads a detail from JSON.
    pub fn from_value(value: &Value) -> Self {
        Self {
            detail_type: value.get("type").and_then(Value::as_str).map(str::to_owned),
            consent: value.get("consent").map(Consent::from_value),
            raw: value.clone(),
        }
    }
}

/// The consent inside an Ozone authorization detail (the seed's shape).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Consent {
    /// `consent_id`.
    pub consent_id: Option<String>,
    /// `dc_id` (data consumer).
    pub dc_id: Option<String>,
    /// `dp_id` (data provider).
    pub dp_id: Option<String>,
    /// `consent_type`.
    pub consent_type: Option<String>,
    /// `consent_purpose`.
    pub consent_purpose: Option<String>,
    /// `permissions`.
    pub permissions: Vec<String>,
    /// `expiration_datetime` (RFC 3339).
    pub expiration_datetime: Option<String>,
    /// `status` (`authorized`, ...).
    pub status: Option<String>,
    /// `created_at`.
    pub created_at: Option<String>,
    /// `updated_at`.
    pub updated_at: Option<String>,
    /// `updated_by`.
    pub updated_by: Option<String>,
    /// `accounts`.
    pub accounts: Vec<Account>,
    /// The consent as received.
    pub raw: Value,
}

impl Consent {
    /// Reads a consent from JSON, keeping the raw value.
    pub fn from_value(value: &Value) -> Self {
        let s = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            consent_id: s("consent_id"),
            dc_id: s("dc_id"),
            dp_id: s("dp_id"),
            consent_type: s("consent_type"),
            consent_purpose: s("consent_purpose"),
            permissions: value
                .get("permissions")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            expiration_datetime: s("expiration_datetime"),
            status: s("status"),
            created_at: s("created_at"),
            updated_at: s("updated_at"),
            updated_by: s("updated_by"),
            accounts: value
                .get("accounts")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Account::from_value).collect())
                .unwrap_or_default(),
            raw: value.clone(),
        }
    }
}

/// An account the user shared.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Account {
    /// `account_id`.
    pub account_id: Option<String>,
    /// `account_number`.
    pub account_number: Option<String>,
    /// `account_name`.
    pub account_name: Option<String>,
}

impl Account {
    fn from_value(value: &Value) -> Self {
        let s = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            account_id: s("account_id"),
            account_number: s("account_number"),
            account_name: s("account_name"),
        }
    }
}

/// An OAuth error response (RFC 6749 §5.2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OAuthError {
    /// `error` code.
    pub error: String,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<String>,
    /// The whole object.
    pub raw: Map<String, Value>,
}

impl OAuthError {
    /// What the standard error code means, in a sentence (RFC 6749 §5.2).
    pub fn explain(&self) -> &'static str {
        match self.error.as_str() {
            "invalid_request" => {
                "a parameter is missing, repeated, or malformed; read error_description"
            }
            "invalid_client" => {
                "client authentication failed: check client_id, the assertion's aud/iss/sub/exp, the kid, and that the key is registered"
            }
            "invalid_grant" => {
                "the code or refresh token is invalid, expired, already used, or was issued for another redirect_uri or code_verifier"
            }
            "unauthorized_client" => "this client may not use this grant type",
            "unsupported_grant_type" => "the server does not support this grant_type",
            "invalid_scope" => "the scope asked for is unknown or exceeds what was granted",
            "access_denied" => "the user or server refused the request",
            "use_dpop_nonce" => {
                "the server wants a nonce in the DPoP proof: send a fresh proof with the nonce of the DPoP-Nonce header (RFC 9449 §8)"
            }
            "invalid_dpop_proof" => {
                "the DPoP proof was refused: check typ dpop+jwt, htm, htu, a fresh jti and iat, the nonce, and the signature (RFC 9449 §4.3)"
            }
            "invalid_request_uri" => {
                "the request_uri is unknown, expired or already used: push a new PAR request (RFC 9126 §2.2)"
            }
            "invalid_request_object" => {
                "the signed request object was refused: check its alg, kid, aud (the issuer), exp/nbf and that it carries every parameter (RFC 9101 §6.3)"
            }
            "invalid_authorization_details" => {
                "the authorization_details (consent) are not valid for this server: check the type and its fields (RFC 9396 §5)"
            }
            _ => "a non-standard error code; read error_description",
        }
    }
}

/// The body of a response, classified. `Debug` shows no token or body text.
#[derive(Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ResponseBody {
    /// A token response (2xx JSON object with `access_token`).
    Token(TokenResponse),
    /// An OAuth error (JSON object with `error`).
    Error(OAuthError),
    /// Other JSON (PAR's `request_uri`, introspection, discovery).
    Json(Value),
    /// Not JSON; kept as text (invalid UTF-8 replaced).
    Text(String),
    /// No body.
    Empty,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseBody::Token(t) => f.debug_tuple("Token").field(t).finish(),
            ResponseBody::Error(e) => f.debug_tuple("Error").field(e).finish(),
            ResponseBody::Json(v) => {
                let members: Vec<&String> = v
                    .as_object()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                f.debug_struct("Json")
                    .field("members", &members)
                    .finish_non_exhaustive()
            }
            ResponseBody::Text(text) => write!(f, "Text(<{} chars>)", text.chars().count()),
            ResponseBody::Empty => f.write_str("Empty"),
        }
    }
}

impl ResponseBody {
    /// Classifies a body by status and content.
    pub fn classify(status: u16, body: &[u8]) -> Self {
        if body.iter().all(u8::is_ascii_whitespace) {
            return ResponseBody::Empty;
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                if let Some(error) = map.get("error").and_then(Value::as_str) {
                    return ResponseBody::Error(OAuthError {
                        error: error.to_owned(),
                        error_description: map
                            .get("error_description")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        error_uri: map
                            .get("error_uri")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        raw: map,
                    });
                }
                if (200..300).contains(&status) && map.contains_key("access_token") {
                    return ResponseBody::Token(TokenResponse { raw: map });
                }
                ResponseBody::Json(Value::Object(map))
            }
            Ok(other) => ResponseBody::Json(other),
            Err(_) => ResponseBody::Text(String::from_utf8_lossy(body).into_owned()),
        }
    }

    /// The JSON value of the body, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        match self {
            ResponseBody::Token(t) => Some(Value::Object(t.raw.clone())),
            ResponseBody::Error(e) => Some(Value::Object(e.raw.clone())),
            ResponseBody::Json(v) => Some(v.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The seed's response body, verbatim.
    pub(crate) const SEED_BODY: &str = r#"{
    "access_token": "26e0bf38-9fab-48e5-8be6-4a906905f959",
    "expires_in": 600,
    "token_type": "Bearer",
    "scope": "accounts profile",
    "state": "d0ba6086-ca86-43f9-9ec3-92326bceb490",
    "authorization_details": [
        {
            "type": "urn:openfinance-ml:account-access-consent:v1.2",
            "consent": {
                "consent_id": "a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d",
                "dc_id": "16f87e367071230059bff09a",
                "dp_id": "DP9876543210",
                "consent_type": "urn:openfinance-ml:account-access-consent:v1.2",
                "consent_purpose": "pfm",
                "permissions": [
                    "read_accounts",
                    "read_transactions",
                    "read_balances"
                ],
                "expiration_datetime": "2026-11-30T23:59:59Z",
                "status": "authorized",
                "created_at": "2026-01-30T10:12:42.671Z",
                "updated_at": "2026-01-30T10:13:26.588Z",
                "updated_by": "data_provider_user",
                "accounts": [
                    {
                        "account_id": "100004000000000000000004",
                        "account_number": "10000004",
                        "account_name": "Greenbank Current Account"
                    },
                    {
                        "account_id": "100004000000000000000002",
                        "account_number": "10000002",
                        "account_name": "Greenbank Savings Account"
                    }
                ]
            }
        }
    ],
    "grant_id": "a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d",
    "refresh_token": "2885e6a3-1486-4aa5-839f-ff879ba8a79a",
    "id_token": "eyJhbGciOiJQUzI1NiIs"
}"#;

    #[test]
    fn parses_the_seed_exactly() {
        let ResponseBody::Token(t) = ResponseBody::classify(200, SEED_BODY.as_bytes()) else {
            panic!("not a token response");
        };
        assert_eq!(
            t.access_token(),
            Some("26e0bf38-9fab-48e5-8be6-4a906905f959")
        );
        assert_eq!(t.expires_in(), Some(600.0));
        assert_eq!(t.token_type(), Some("Bearer"));
        assert_eq!(t.scope(), Some("accounts profile"));
        assert_eq!(t.state(), Some("d0ba6086-ca86-43f9-9ec3-92326bceb490"));
        assert_eq!(t.grant_id(), Some("a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d"));
        assert_eq!(
            t.refresh_token(),
            Some("2885e6a3-1486-4aa5-839f-ff879ba8a79a")
        );
        assert!(t.unknown_fields().is_empty());
        let details = t.authorization_details();
        assert_eq!(details.len(), 1);
        assert_eq!(
            details[0].detail_type.as_deref(),
            Some("urn:openfinance-ml:account-access-consent:v1.2")
        );
        let c = details[0].consent.as_ref().unwrap();
        assert_eq!(
            c.consent_id.as_deref(),
            Some("a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d")
        );
        assert_eq!(c.dc_id.as_deref(), Some("16f87e367071230059bff09a"));
        assert_eq!(c.dp_id.as_deref(), Some("DP9876543210"));
        assert_eq!(c.consent_purpose.as_deref(), Some("pfm"));
        assert_eq!(
            c.permissions,
            ["read_accounts", "read_transactions", "read_balances"]
        );
        assert_eq!(c.status.as_deref(), Some("authorized"));
        assert_eq!(
            c.expiration_datetime.as_deref(),
            Some("2026-11-30T23:59:59Z")
        );
        assert_eq!(c.updated_by.as_deref(), Some("data_provider_user"));
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(
            c.accounts[1].account_name.as_deref(),
            Some("Greenbank Savings Account")
        );
        // Member order is kept.
        let keys: Vec<&String> = t.raw.keys().collect();
        assert_eq!(keys[0], "access_token");
        assert_eq!(keys[keys.len() - 1], "id_token");
    }

    #[test]
    fn keeps_unknown_fields_and_exact_numbers() {
        let body = br#"{"access_token":"a","token_type":"Bearer","expires_in":599.5,"x_custom":{"n":12345678901234567890123}}"#;
        let ResponseBody::Token(t) = ResponseBody::classify(200, body) else {
            panic!()
        };
        assert_eq!(t.unknown_fields(), ["x_custom"]);
        assert_eq!(
            t.raw["x_custom"]["n"].to_string(),
            "12345678901234567890123"
        );
        assert_eq!(t.expires_in(), Some(599.5));
    }

    #[test]
    fn classifies_errors_text_and_other_json() {
        let ResponseBody::Error(e) = ResponseBody::classify(
            400,
            br#"{"error":"invalid_client","error_description":"aud must be the issuer"}"#,
        ) else {
            panic!()
        };
        assert_eq!(e.error, "invalid_client");
        assert_eq!(
            e.error_description.as_deref(),
            Some("aud must be the issuer")
        );
        assert!(e.explain().contains("aud"));
        assert_eq!(
            ResponseBody::classify(502, b"<html>Bad gateway</html>"),
            ResponseBody::Text("<html>Bad gateway</html>".into())
        );
        assert!(matches!(
            ResponseBody::classify(201, br#"{"request_uri":"urn:x","expires_in":60}"#),
            ResponseBody::Json(_)
        ));
        assert_eq!(ResponseBody::classify(200, b"  "), ResponseBody::Empty);
        assert!(matches!(
            ResponseBody::classify(200, &[0xff, 0xfe]),
            ResponseBody::Text(_)
        ));
    }
}
