//! Message signing after the token, per ecosystem: UK Open Banking's `x-jws-signature`
//! (a detached JWS over the body, [`uk`]) and UAE Open Finance's signed JWT bodies with
//! personal data encrypted to the bank ([`uae`]). PayNet's `x-signature` has its own
//! module (`oauth::x_signature`). Everything is signed and encrypted here, locally: no
//! private key is ever sent anywhere.

pub mod uae;
pub mod uk;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::Finding;
use crate::jose::encrypt::JweRecipient;
use crate::jose::verify::SignatureStatus;
use crate::oauth::x_signature::Signer;
pub use crate::storage::profile::{JwsSignatureSettings, SignedBodySettings};

/// A request signed here, as the request carries it: the `x-jws-signature` header's
/// value, or the signed JWT that is the body; decoded for display.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignedMessage {
    /// `x-jws-signature` (UK) or `signed JWT body` (UAE).
    pub scheme: &'static str,
    /// The header's value, or the body.
    pub value: String,
    /// The protected header.
    pub header: Map<String, Value>,
    /// The JWT's claims (UAE), or `null` (UK: the body is the payload).
    pub claims: Value,
}

/// An answer's own signature, checked: the bank's `x-jws-signature` (UK) or a signed JWT
/// answer (UAE).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnswerSignature {
    /// `x-jws-signature` or `signed JWT body`.
    pub scheme: &'static str,
    /// The protected header.
    pub header: Map<String, Value>,
    /// The signed JWT's claims (UAE), or `null`.
    pub claims: Value,
    /// The verdict.
    pub signature: SignatureStatus,
}

impl AnswerSignature {
    /// True when the signature does not verify: the answer is not to be trusted.
    pub fn failed(&self) -> bool {
        matches!(self.signature, SignatureStatus::Invalid { .. })
    }
}

/// Why a message could not be signed or encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageSigningError {
    /// Something it needs is not given.
    #[error("{0}")]
    Missing(String),
    /// A value given is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Signing or encryption failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A request body made ready once, before sending, so a retry (a DPoP nonce) sends the
/// same bytes, signature and idempotency key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PreparedBody {
    /// A JSON body, sent as `application/json`.
    pub json: Option<Value>,
    /// A body sent as text (the UAE signed JWT) and its content type.
    pub text: Option<(String, &'static str)>,
    /// The signature made, decoded.
    pub signed: Option<SignedMessage>,
    /// Headers to add (`x-jws-signature`, `x-idempotency-key`).
    pub headers: Vec<(String, String)>,
    /// Findings on what was signed and how (which document a choice follows).
    pub findings: Vec<Finding>,
}

/// Who signs and for whom, taken from the profile.
#[derive(Clone, Copy, Debug)]
pub struct Parties<'a> {
    /// The client's id (UAE: `iss`, and `sub` of personal data).
    pub client_id: &'a str,
    /// The authorization server's issuer (UAE: `aud`).
    pub issuer: &'a str,
}

/// How to sign a body: UK, UAE, or not at all.
#[derive(Clone, Copy, Debug)]
pub struct BodySigning<'a> {
    /// UK Open Banking's `x-jws-signature`.
    pub uk: Option<&'a JwsSignatureSettings>,
    /// UAE's signed JWT body.
    pub uae: Option<&'a SignedBodySettings>,
    /// The key that signs (absent: an error when a signature is asked for).
    pub signer: Option<Signer<'a>>,
    /// The bank's encryption key, for UAE personal data.
    pub bank_key: Option<&'a JweRecipient>,
    /// The `x-idempotency-key` given (UAE; absent: one is made).
    pub idempotency_key: Option<&'a str>,
}

/// Prepares `body` as the signing asks, at `now` (Unix seconds) with `jti`.
pub fn prepare(
    body: &Value,
    how: BodySigning<'_>,
    parties: Parties<'_>,
    now: i64,
    jti: &str,
) -> Result<PreparedBody, MessageSigningError> {
    let signer = || {
        how.signer.ok_or_else(|| {
            MessageSigningError::Missing(
                "a signed body needs the client's signing key: --key, or the profile's".into(),
            )
        })
    };
    let mut out = PreparedBody::default();
    if let Some(settings) = how.uae {
        let sealed = uae::seal(body, settings, signer()?, how.bank_key, parties, now, jti)?;
        out.findings = sealed.findings;
        out.text = Some((sealed.signed.value.clone(), uae::CONTENT_TYPE));
        out.signed = Some(sealed.signed);
        let key = uae::idempotency_key(how.idempotency_key)?;
        out.headers.push((uae::IDEMPOTENCY_HEADER.into(), key));
        return Ok(out);
    }
    if let Some(settings) = how.uk {
        let bytes = body.to_string();
        let signed = uk::sign(settings, signer()?, bytes.as_bytes(), now)?;
        out.headers.push((uk::HEADER.into(), signed.value.clone()));
        out.findings.push(uk::version_finding(settings));
        out.signed = Some(signed);
    }
    out.json = Some(body.clone());
    Ok(out)
}
