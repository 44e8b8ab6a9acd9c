//! How a profile's data calls are signed and their answers opened: PayNet's
//! `x-signature` (Open Finance Malaysia) and the JWK Sets that verify the layers of an
//! answer. Settings only; `oauth::x_signature` signs and `oauth::layers` opens.

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
