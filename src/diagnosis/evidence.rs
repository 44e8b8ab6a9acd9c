//! What the caller knows beyond the exchange itself: the settings, the server's
//! discovery document, the client's registered keys, the history of earlier requests.

use serde_json::Value;

/// What the caller knows beyond the exchange itself. Every field is optional: what is
/// not known makes a cause "cannot tell", never "ruled out".
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The issuer identifier.
    pub issuer: Option<String>,
    /// The token endpoint URL.
    pub token_endpoint: Option<String>,
    /// The client's registered JWK Set (its `jwks_uri`, a file, the sandbox's record).
    pub registered_jwks: Option<Value>,
    /// The public JWK of the key the client assertion was signed with.
    pub signing_jwk: Option<Value>,
    /// The client certificate sent (mTLS), read.
    pub client_certificate: Option<crate::jose::public_key::CertificateInfo>,
    /// Why the client is expected to present a certificate, when it is: its
    /// `tls_client_auth` method, an mTLS ecosystem, or a server whose discovery says it
    /// binds tokens to certificates or authenticates clients only by mTLS.
    pub certificate_expected: Option<String>,
    /// For an API call: the x5t#S256 of the certificate its access token was issued
    /// over (`Some(None)`: issued without one), from the history.
    pub token_certificate_x5t: Option<Option<String>>,
    /// The PKCE `code_challenge` sent with the authorization request (PAR).
    pub pkce_challenge: Option<String>,
    /// The `redirect_uri` of the authorization request (PAR form or request object).
    pub authorization_redirect_uri: Option<String>,
    /// When the authorization code reached this client (Unix seconds).
    pub code_received_at: Option<i64>,
    /// When the authorization request (PAR) of this code was sent (Unix seconds): the
    /// code cannot be older than that.
    pub authorization_started_at: Option<i64>,
    /// How long the server keeps a code (FAPI 2.0: at most 60 s).
    pub code_lifetime_secs: Option<i64>,
    /// `jti`s of client assertions sent before this one (the history).
    pub earlier_jtis: Option<Vec<String>>,
    /// Fingerprints ([`fingerprint`]) of codes sent before this one (the history).
    pub earlier_codes: Option<Vec<String>>,
    /// The consent's status and expiry as last seen, and the ecosystem's word for an
    /// authorised one.
    pub consent: Option<ConsentState>,
    /// The server's `authorization_details_types_supported` (discovery).
    pub authorization_details_types_supported: Option<Vec<String>>,
    /// The server's `token_endpoint_auth_methods_supported` (discovery).
    pub auth_methods_supported: Option<Vec<String>>,
    /// The server's `Date` at the failure was read from the exchange; this is "now"
    /// for the checks of windows (Unix seconds); 0 means the system clock.
    pub now: i64,
}

impl Evidence {
    /// What a client's settings tell: the issuer and token endpoint, the signing key's
    /// public JWK, the client certificate, whether mTLS is expected (the auth method, the
    /// ecosystem preset, the server's discovery), and what the server's discovery
    /// document offers.
    pub fn for_profile(
        profile: &crate::storage::profile::Profile,
        transport: &crate::oauth::transport::TransportConfig,
        signing_key: Option<&crate::jose::keys::PrivateKey>,
        discovery: Option<&Value>,
    ) -> Evidence {
        let set = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let list =
            |name: &str| discovery.and_then(|d| crate::oauth::discovery::string_list(d, name));
        Evidence {
            issuer: set(&profile.issuer),
            token_endpoint: profile.endpoints.token.as_deref().and_then(set),
            signing_jwk: signing_key
                .map(|k| k.public_jwk(profile.auth.kid.as_deref(), profile.auth.alg)),
            client_certificate: transport
                .identity_pem
                .as_ref()
                .and_then(|pem| crate::jose::public_key::certificate_info(pem.expose()).ok()),
            certificate_expected: certificate_expected(profile, discovery),
            auth_methods_supported: list("token_endpoint_auth_methods_supported"),
            authorization_details_types_supported: list("authorization_details_types_supported"),
            ..Evidence::default()
        }
    }
}

/// A consent as last seen.
#[derive(Clone, Debug, Default)]
pub struct ConsentState {
    /// Its status (`authorized`, `Authorised`, `AUTHORISED`, `Revoked`…).
    pub status: Option<String>,
    /// The ecosystem's word for an authorised consent.
    pub authorized_word: Option<String>,
    /// Its expiry (Unix seconds).
    pub expires_at: Option<i64>,
}

/// Why this client must present a certificate, as far as the profile and the server's
/// discovery document say (RFC 8705 §2, §3; RFC 8414 §2).
fn certificate_expected(
    profile: &crate::storage::profile::Profile,
    discovery: Option<&Value>,
) -> Option<String> {
    use crate::storage::profile::AuthMethod;
    if matches!(
        profile.auth.method,
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
    ) {
        return Some(format!(
            "this client's profile authenticates with {}",
            profile.auth.method.as_str()
        ));
    }
    if let Some(preset) = crate::storage::presets::for_profile(profile)
        && preset.mtls_required
    {
        return Some(format!("the {} ecosystem requires mTLS", preset.name));
    }
    let discovery = discovery?;
    if discovery
        .get("tls_client_certificate_bound_access_tokens")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Some(
            "the server's discovery says tls_client_certificate_bound_access_tokens: true (it binds tokens to the client certificate)".into(),
        );
    }
    let methods =
        crate::oauth::discovery::string_list(discovery, "token_endpoint_auth_methods_supported")
            .unwrap_or_default();
    let by_certificate = |m: &String| m == "tls_client_auth" || m == "self_signed_tls_client_auth";
    (!methods.is_empty() && methods.iter().all(by_certificate)).then(|| {
        format!(
            "the server's discovery offers only {} at its token endpoint",
            methods.join(", ")
        )
    })
}
