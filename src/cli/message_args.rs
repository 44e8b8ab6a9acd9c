//! The flags of `call` that give a request a body and sign it: `--data`, UK Open
//! Banking's `x-jws-signature`, UAE's signed JWT bodies with encrypted personal data and
//! their headers. They only translate into a `ResourceCall`; the core signs.

use clap::Args;
use serde_json::Value;

use super::InputError;
use token_inspector::oauth::message_signing::uae;
use token_inspector::oauth::resource::ResourceCall;
use token_inspector::storage::profile::{JwsSignatureSettings, Profile, SignedBodySettings};

/// A body, and how it is signed.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// A JSON body: the JSON itself, or @FILE (the method becomes POST unless --method
    /// says otherwise).
    #[arg(long, value_name = "JSON|@FILE")]
    pub data: Option<String>,
    /// Sign the body with UK Open Banking's x-jws-signature for this API version (up to
    /// 3.1.3 the payload is unencoded, b64 false; from 3.1.4 b64 is absent). Default: the
    /// profile's.
    #[arg(long, value_name = "VERSION")]
    pub x_jws_signature: Option<String>,
    /// The x-jws-signature's http://openbanking.org.uk/iss: {org-id}/{software-statement-id}.
    #[arg(long, value_name = "ORG/SSA")]
    pub jws_iss: Option<String>,
    /// The x-jws-signature's http://openbanking.org.uk/tan (default openbanking.org.uk).
    #[arg(long, value_name = "TAN")]
    pub jws_tan: Option<String>,
    /// Send the body as a UAE signed JWT (application/jwt; iss the client, aud the
    /// issuer, exp 5 min); every PersonalIdentifiableInformation object in it is signed
    /// and encrypted to the bank's use:enc key first. Default: the profile's.
    #[arg(long)]
    pub signed_body: bool,
    /// The bank's JWK Set with its use:enc key (URL or file; default: the profile's
    /// jwks_uri).
    #[arg(long, value_name = "URL|FILE")]
    pub encryption_jwks: Option<String>,
    /// How personal data's key is wrapped: RSA-OAEP-256 (default, the community
    /// standards) or RSA-OAEP (the Al Tareq developer guide).
    #[arg(long, value_name = "ALG")]
    pub pii_alg: Option<String>,
    /// The x-idempotency-key (at most 40 characters; default: a fresh UUID with a signed
    /// body). Give the same key and body to retry a payment.
    #[arg(long, value_name = "KEY")]
    pub x_idempotency_key: Option<String>,
    /// The customer's IP address, when the customer is present.
    #[arg(long, value_name = "IP")]
    pub x_fapi_customer_ip_address: Option<String>,
    /// When the customer last logged in: an HTTP-date, or now.
    #[arg(long, value_name = "HTTP-DATE|now")]
    pub x_fapi_auth_date: Option<String>,
}

impl MessageArgs {
    /// Fills `what` from the flags over the profile's settings.
    pub fn apply(&self, profile: &Profile, what: &mut ResourceCall) -> Result<(), InputError> {
        if let Some(data) = &self.data {
            what.body = Some(read_body(data)?);
        }
        let uk_given =
            self.x_jws_signature.is_some() || self.jws_iss.is_some() || self.jws_tan.is_some();
        if uk_given {
            let mut uk: JwsSignatureSettings =
                profile.data_calls.jws_signature.clone().unwrap_or_default();
            for (flag, slot) in [
                (&self.x_jws_signature, &mut uk.version),
                (&self.jws_iss, &mut uk.iss),
                (&self.jws_tan, &mut uk.tan),
            ] {
                if let Some(value) = flag {
                    slot.clone_from(value);
                }
            }
            what.jws_signature = Some(uk);
        }
        let uae_given =
            self.signed_body || self.encryption_jwks.is_some() || self.pii_alg.is_some();
        if uae_given {
            let mut uae_settings: SignedBodySettings =
                profile.data_calls.signed_body.clone().unwrap_or_default();
            if let Some(alg) = &self.pii_alg {
                uae_settings.pii_alg.clone_from(alg);
                uae::pii_key_management(&uae_settings)
                    .map_err(|e| InputError::new(format!("--pii-alg: {e}")))?;
            }
            if self.encryption_jwks.is_some() {
                uae_settings
                    .encryption_jwks
                    .clone_from(&self.encryption_jwks);
            }
            what.signed_body = Some(uae_settings);
        }
        if let Some(key) = &self.x_idempotency_key {
            uae::idempotency_key(Some(key)).map_err(|e| InputError::new(e.to_string()))?;
            what.idempotency_key = Some(key.clone());
        }
        let customer = uae::customer_headers(
            self.x_fapi_customer_ip_address.as_deref(),
            self.x_fapi_auth_date.as_deref(),
        )
        .map_err(|e| InputError::new(e.to_string()))?;
        what.headers.extend(customer);
        Ok(())
    }
}

/// The body given: JSON, or @FILE holding JSON.
fn read_body(data: &str) -> Result<Value, InputError> {
    let (text, from) = match data.strip_prefix('@') {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| InputError::new(format!("--data @{path}: cannot read it: {e}")))?,
            format!("@{path}"),
        ),
        None => (data.to_owned(), "the --data value".to_owned()),
    };
    serde_json::from_str(&text).map_err(|e| {
        InputError::new(format!(
            "--data: {from} is not JSON ({e}, line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}
