//! The grant a token request redeems (RFC 6749 §4.1.3, §6, §4.4).

use serde::Serialize;

use crate::secret::Secret;

/// Which grant a token request uses: the `grant_type` value (RFC 6749 §4.1.3, §6, §4.4).
/// The CLI's `--grant` and the app's grant picker are this type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum GrantType {
    /// `authorization_code`.
    #[default]
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials`.
    ClientCredentials,
}

impl GrantType {
    /// Every grant, in the order pickers list them.
    pub const ALL: [GrantType; 3] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ];

    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

impl std::fmt::Display for GrantType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GrantType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown grant {s:?}: authorization_code, refresh_token or client_credentials"
                )
            })
    }
}

/// The grant of a token request with its inputs (RFC 6749 §4.1.3, §6, §4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `authorization_code`.
    AuthorizationCode {
        /// The code from the redirect (a credential until it is used: RFC 6749 §10.5).
        code: Secret,
        /// The redirect_uri used at the authorization endpoint.
        redirect_uri: String,
        /// The PKCE verifier.
        code_verifier: Option<Secret>,
    },
    /// `refresh_token`.
    RefreshToken {
        /// The refresh token.
        refresh_token: Secret,
    },
    /// `client_credentials`.
    ClientCredentials,
}

impl Grant {
    /// Which grant this is.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Grant::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Grant::RefreshToken { .. } => GrantType::RefreshToken,
            Grant::ClientCredentials => GrantType::ClientCredentials,
        }
    }
}
