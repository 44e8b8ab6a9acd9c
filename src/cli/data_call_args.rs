//! The flags of a PayNet data call (`call`, `providers`, `consent-revoke`): the
//! `x-signature` format and ids, and the JWK Sets that verify the answer's layers.

use clap::Args;

use token_inspector::storage::profile::{Profile, XSignatureFormat, XSignatureSettings};

/// How a data call is signed, and its answer checked.
#[derive(Debug, Args)]
pub struct DataCallArgs {
    /// Sign the call with PayNet's x-signature (Open Finance Malaysia): compact (the
    /// sandbox guide's) or detached (PayNet's specification). Default: the profile's;
    /// --dc-id or --dp-id alone mean compact.
    #[arg(long, value_name = "compact|detached")]
    pub x_signature: Option<XSignatureFormat>,
    /// The data consumer id PayNet issued (the x-signature's iss).
    #[arg(long, value_name = "DC_ID")]
    pub dc_id: Option<String>,
    /// The data provider's id (the x-signature's aud, with "Paynet OFP").
    #[arg(long, value_name = "DP_ID")]
    pub dp_id: Option<String>,
    /// The compact x-signature's sub (default: the dc_id; PayNet's samples put the
    /// consent id there).
    #[arg(long, value_name = "SUB")]
    pub x_signature_sub: Option<String>,
    /// A JWK Set holding keys that sign the answer's layers (the hub's, the data
    /// provider's): a URL or a file; repeatable, beside the profile's.
    #[arg(long = "response-jwks", value_name = "URL|FILE")]
    pub response_jwks: Vec<String>,
}

impl DataCallArgs {
    /// The x-signature asked for: the flags over the profile's settings.
    pub fn x_signature(&self, profile: &Profile) -> Option<XSignatureSettings> {
        let given = self.x_signature.is_some()
            || self.dc_id.is_some()
            || self.dp_id.is_some()
            || self.x_signature_sub.is_some();
        let saved = profile.data_calls.x_signature.clone();
        if !given {
            return saved;
        }
        let mut settings = saved.unwrap_or_default();
        if let Some(format) = self.x_signature {
            settings.format = format;
        }
        for (flag, slot) in [
            (&self.dc_id, &mut settings.dc_id),
            (&self.dp_id, &mut settings.dp_id),
        ] {
            if let Some(value) = flag {
                slot.clone_from(value);
            }
        }
        if self.x_signature_sub.is_some() {
            settings.sub.clone_from(&self.x_signature_sub);
        }
        Some(settings)
    }
}
