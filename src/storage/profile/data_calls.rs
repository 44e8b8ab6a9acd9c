//! How a profile's data calls are signed and their answers opened: PayNet's
//! `x-signature` (Open Finance Malaysia) and the JWK Sets that verify the layers of an
//! answer; UK Open Banking's `x-jws-signature`; UAE's signed JWT bodies. Settings only:
//! `oauth::x_signature` and `oauth::message_signing` sign, `oauth::layers` opens.

use serde::{Deserialize, Serialize};

/// Which published `x-signature` format to sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XSignatureFormat {
    /// A compact JWS with claims (the sandbox guide's).
    #[default]
    Compact,
    /// A detached JWS over the body (PayNet's specification).
    Detached,
}

impl XSignatureFormat {
    /// `compact` or `detached`.
    pub fn as_str(self) -> &'static str {
        match self {
            XSignatureFormat::Compact => "compact",
            XSignatureFormat::Detached => "detached",
        }
    }
}

impl std::str::FromStr for XSignatureFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "compact" => Ok(XSignatureFormat::Compact),
            "detached" => Ok(XSignatureFormat::Detached),
            other => Err(format!(
                "unknown x-signature format {other:?}: compact (the sandbox guide's) or detached (PayNet's specification)"
            )),
        }
    }
}

/// Who signs, for whom: what every `x-signature` needs beside the request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XSignatureSettings {
    /// Which format.
    #[serde(default)]
    pub format: XSignatureFormat,
    /// The data consumer's id, issued by PayNet (`iss`).
    #[serde(default)]
    pub dc_id: String,
    /// The data provider's id (`aud`, with "Paynet OFP").
    #[serde(default)]
    pub dp_id: String,
    /// The compact format's `sub`: the guide's dc_id when empty (its samples put the
    /// consent id there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// UK Open Banking's `x-jws-signature` on requests with a body (payments).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsSignatureSettings {
    /// The Read/Write API version: up to 3.1.3 the payload is unencoded (`b64: false`);
    /// from 3.1.4 `b64` is absent.
    #[serde(default)]
    pub version: String,
    /// `http://openbanking.org.uk/iss`: `{org-id}/{software-statement-id}`.
    #[serde(default)]
    pub iss: String,
    /// `http://openbanking.org.uk/tan`: the trust anchor the bank names.
    #[serde(default)]
    pub tan: String,
}

impl JwsSignatureSettings {
    /// True when the version signs the payload unencoded (`b64: false`): 3.0 to 3.1.3.
    /// No version: 3.1.4 and later (v4 is current).
    pub fn unencoded_payload(&self) -> bool {
        if self.version.trim().is_empty() {
            return false;
        }
        let numbers: Vec<u32> = self
            .version
            .trim()
            .trim_start_matches(['v', 'V'])
            .split('.')
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        let at = |i: usize| numbers.get(i).copied().unwrap_or(0);
        (at(0), at(1), at(2)) < (3, 1, 4)
    }
}

/// UAE Open Finance's signed request bodies: the body a signed JWT (`application/jwt`)
/// and personal data a JWE to the bank's encryption key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBodySettings {
    /// The JWT's `aud`: the authorization server's issuer (empty: the profile's issuer).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    /// How personal data's content key is wrapped: `RSA-OAEP-256` (the community
    /// standards) or `RSA-OAEP` (the Al Tareq developer guide); empty: `RSA-OAEP-256`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pii_alg: String,
    /// The bank's JWK Set holding its `use: enc` key (a URL or a file; empty: the
    /// profile's `jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_jwks: Option<String>,
}

/// A profile's data-call settings (`[data_calls]` in its TOML).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataCalls {
    /// Sign data calls with `x-signature` (absent: unsigned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_signature: Option<XSignatureSettings>,
    /// JWK Sets (URLs or files) holding the keys that sign the answers' layers (the
    /// hub's, the data provider's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_jwks: Vec<String>,
    /// Sign request bodies with UK Open Banking's `x-jws-signature` (absent: unsigned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jws_signature: Option<JwsSignatureSettings>,
    /// Send request bodies as UAE signed JWTs (absent: plain JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_body: Option<SignedBodySettings>,
    /// The data provider's resource server, up to its version (`https://rs…/v1`): the
    /// base of the accounts, balances and transactions calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_server: Option<String>,
}

impl DataCalls {
    /// True when nothing is set (the TOML then has no `[data_calls]` table).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
