//! How a profile's authorization request is made and answered: the request object
//! (JAR, RFC 9101) and the front channel (`response_type`, `response_mode`: the hybrid
//! flow of FAPI 1 Advanced and Open Finance Brasil, JARM).

use serde::{Deserialize, Serialize};

/// Signed request objects (JAR, RFC 9101) in PAR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestObjectSettings {
    /// Send the authorization parameters as a signed request object inside PAR (set by
    /// the preset, by discovery's `require_signed_request_object`, or by hand).
    pub signed: bool,
    /// `exp` − `nbf`, seconds (FAPI: at most 3600; UAE: at most 600).
    pub lifetime_secs: u32,
}

impl Default for RequestObjectSettings {
    fn default() -> Self {
        Self {
            signed: false,
            lifetime_secs: 300,
        }
    }
}

/// What the authorization asks the bank to answer with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontChannelSettings {
    /// `code` (FAPI 2.0, Malaysia, UAE) or `code id_token` (the hybrid flow: UK, Brazil).
    pub response_type: String,
    /// `jwt`, `query.jwt`, `fragment.jwt`, `form_post.jwt` (JARM), `form_post`; none: the
    /// response type's default (query for code, fragment for code id_token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<String>,
}

impl Default for FrontChannelSettings {
    fn default() -> Self {
        Self {
            response_type: "code".into(),
            response_mode: None,
        }
    }
}

impl FrontChannelSettings {
    /// True for the plain code flow's defaults (not written to the TOML).
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// True when the bank's answer carries an id_token (the hybrid flow).
    pub fn hybrid(&self) -> bool {
        self.response_type
            .split_whitespace()
            .any(|t| t == "id_token")
    }

    /// True when the answer is a JARM response JWT.
    pub fn jarm(&self) -> bool {
        self.response_mode
            .as_deref()
            .is_some_and(|m| m == "jwt" || m.ends_with(".jwt"))
    }
}
