//! Calling an API with the token (RFC 6750 Bearer, RFC 9449 DPoP): the request is a
//! model like every other (shown raw and as curl), with `Authorization`, the DPoP proof
//! (with `ath`), the client certificate of the transport and an `x-fapi-interaction-id`;
//! a DPoP nonce request is answered once; `WWW-Authenticate` errors are explained.

use serde_json::Value;

use crate::checks::{CheckContext, Finding, Severity};
use crate::inspector::{self, Inspection, Report};
use crate::jose::encrypt::JweRecipient;
use crate::jose::jwe::JweKey;
use crate::jose::jwt::{self, JoseKind};
use crate::jose::keys::PrivateKey;
use crate::oauth::dpop::{DpopKey, NonceStore};
use crate::oauth::exchange::{self, Exchange, ExchangeContext, FoundToken};
use crate::oauth::http::{HttpClient, WwwAuthenticate};
use crate::oauth::layers::{self, LayerKeys, LayeredAnswer};
use crate::oauth::message_signing::{
    self as signing, JwsSignatureSettings, PreparedBody, SignedBodySettings,
};
use crate::oauth::request::{self, BuildError, RequestOptions};
use crate::oauth::x_signature::{self, XSignatureSettings};
use crate::secret::Secret;
use crate::storage::profile::Profile;

/// What to call.
#[derive(Clone, Debug, Default)]
pub struct ResourceCall {
    /// `GET`, `POST`...
    pub method: String,
    /// The API URL.
    pub url: String,
    /// Extra headers, `Name: value`.
    pub headers: Vec<(String, String)>,
    /// The client's decryption key, for an encrypted (JWE) answer.
    pub decrypt_with: Option<JweKey>,
    /// Sign with PayNet's `x-signature` (Open Finance Malaysia); the profile's when
    /// `None` and the session fills it.
    pub x_signature: Option<XSignatureSettings>,
    /// JWK Sets (URLs or files) with the keys that sign a layered answer, beside the
    /// profile's.
    pub response_jwks: Vec<String>,
    /// A JSON body (a payment, a consent).
    pub body: Option<Value>,
    /// Sign the body with UK Open Banking's `x-jws-signature`; the profile's when `None`
    /// and the session fills it.
    pub jws_signature: Option<JwsSignatureSettings>,
    /// Send the body as a UAE signed JWT; the profile's when `None` and the session fills
    /// it.
    pub signed_body: Option<SignedBodySettings>,
    /// The `x-idempotency-key` (UAE); one is made when a signed body has none.
    pub idempotency_key: Option<String>,
}

impl ResourceCall {
    /// True when the call signs with the client's key: PayNet's `x-signature`, or a body
    /// signed UK's or UAE's way, asked by the call or by the profile.
    pub fn signs(&self, profile: &Profile) -> bool {
        let calls = &profile.data_calls;
        let body_signed = self.jws_signature.is_some()
            || self.signed_body.is_some()
            || calls.jws_signature.is_some()
            || calls.signed_body.is_some();
        self.x_signature.is_some()
            || calls.x_signature.is_some()
            || (self.body.is_some() && body_signed)
    }
}

/// The keys a call is made and read with.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallKeys<'a> {
    /// The DPoP key, when the token is DPoP-bound.
    pub dpop: Option<&'a DpopKey>,
    /// The data consumer's signing key, for `x-signature`.
    pub signing_key: Option<&'a PrivateKey>,
    /// JWK Sets with the keys of a layered answer's signatures, and of a signed answer.
    pub response_jwks: &'a [Value],
    /// The bank's encryption key, for UAE personal data.
    pub bank_key: Option<&'a JweRecipient>,
}

/// Calls the API: Bearer, or DPoP with a proof bound to the token when a DPoP key is
/// given (and the token is DPoP-bound); signed with `x-signature` when asked; a layered
/// answer opened layer by layer.
pub async fn call(
    client: &impl HttpClient,
    profile: &Profile,
    access_token: &Secret,
    keys: CallKeys<'_>,
    nonces: &NonceStore,
    what: &ResourceCall,
) -> Result<Exchange, BuildError> {
    let options = RequestOptions::default();
    let proof = keys.dpop.map(|key| exchange::Proof {
        key,
        access_token: Some(access_token),
    });
    signing::uae::check_headers(&what.headers).map_err(|e| BuildError::Invalid(e.to_string()))?;
    let prepared = prepare_body(profile, &keys, what)?;
    let build = || {
        let mut model = request::build_resource_request(
            profile,
            &what.method,
            &what.url,
            access_token,
            &options,
        )?;
        for (name, value) in &what.headers {
            let secret = crate::storage::profile::header_is_secret(name);
            model
                .headers
                .push(request::header(name, value.clone(), secret));
        }
        if let Some(prepared) = &prepared {
            with_body(&mut model, prepared);
        }
        if let Some(settings) = &what.x_signature {
            sign_call(&mut model, profile, settings, keys.signing_key)?;
        }
        Ok(model)
    };
    let mut exchange = exchange::send_with_dpop(
        client,
        &ExchangeContext::default(),
        nonces,
        proof,
        None,
        build,
    )
    .await?;
    if let Some(r) = exchange.response() {
        let findings = explain_www_authenticate(r.http.www_authenticate().as_ref());
        exchange.findings.extend(findings);
    }
    if let Some(settings) = &what.x_signature {
        exchange
            .findings
            .push(x_signature::format_finding(settings.format));
    }
    if let Some(prepared) = prepared {
        exchange.findings.extend(prepared.findings);
    }
    check_answer_signature(&mut exchange, profile, what, keys.response_jwks);
    let audience = what.x_signature.as_ref().map(|s| s.dc_id.as_str());
    let mut layered = None;
    if let Ok(r) = &mut exchange.outcome {
        if layers::is_layered(&r.body_text) {
            let open_with = LayerKeys {
                jwks: keys.response_jwks,
                decrypt: what.decrypt_with.as_ref(),
                audience,
                now: unix_now(),
            };
            r.layers = layers::open(&r.body_text, &open_with);
            layered = r.layers.as_ref().map(layered_finding);
        } else if let Some(found) =
            signed_or_encrypted_body(&r.body_text, what.decrypt_with.as_ref())
        {
            r.tokens.extend(found);
        }
    }
    exchange.findings.extend(layered.flatten());
    Ok(exchange)
}

/// The body made ready once (signed, personal data encrypted), so a retry sends the same.
fn prepare_body(
    profile: &Profile,
    keys: &CallKeys<'_>,
    what: &ResourceCall,
) -> Result<Option<PreparedBody>, BuildError> {
    let Some(body) = &what.body else {
        return Ok(None);
    };
    let kid = signing_kid(profile, keys.signing_key);
    let signer = keys.signing_key.map(|key| x_signature::Signer {
        key,
        alg: profile.auth.alg,
        kid: &kid,
    });
    let how = signing::BodySigning {
        uk: what.jws_signature.as_ref(),
        uae: what.signed_body.as_ref(),
        signer,
        bank_key: keys.bank_key,
        idempotency_key: what.idempotency_key.as_deref(),
    };
    let parties = signing::Parties {
        client_id: &profile.client_id,
        issuer: &profile.issuer,
    };
    let jti = uuid::Uuid::new_v4().to_string();
    signing::prepare(body, how, parties, unix_now() as i64, &jti)
        .map(Some)
        .map_err(|e| BuildError::Missing(e.to_string()))
}

/// Puts a prepared body and its headers on the request.
fn with_body(model: &mut request::RequestModel, prepared: &PreparedBody) {
    model
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("Content-Type"));
    let content_type = match &prepared.text {
        Some((text, content_type)) => {
            model.text_body = Some(text.clone());
            *content_type
        }
        None => {
            model.json_body.clone_from(&prepared.json);
            "application/json"
        }
    };
    request::insert_before_accept(
        &mut model.headers,
        request::header("Content-Type", content_type.to_owned(), false),
    );
    for (name, value) in &prepared.headers {
        request::insert_before_accept(
            &mut model.headers,
            request::header(name, value.clone(), false),
        );
    }
    model.signed_message.clone_from(&prepared.signed);
}

/// The bank's own signature on its answer: UK `x-jws-signature` when the request was
/// signed so, a UAE signed JWT answer.
fn check_answer_signature(
    exchange: &mut Exchange,
    profile: &Profile,
    what: &ResourceCall,
    jwks: &[Value],
) {
    let signed_uk = exchange
        .request
        .signed_message
        .as_ref()
        .is_some_and(|m| m.scheme == signing::uk::HEADER);
    let Ok(r) = &mut exchange.outcome else {
        return;
    };
    let mut findings = Vec::new();
    if signed_uk && (200..300).contains(&r.http.status) {
        let (answer, found) =
            signing::uk::check_answer(r.http.header(signing::uk::HEADER), &r.http.body, jwks);
        r.answer_signature = answer;
        findings = found;
    } else if what.signed_body.is_some()
        && r.http.header("content-type").is_some_and(|t| {
            t.to_ascii_lowercase()
                .starts_with(signing::uae::CONTENT_TYPE)
        })
        && let Some((answer, found)) =
            signing::uae::check_answer(&r.body_text, jwks, &profile.client_id, unix_now() as i64)
    {
        r.answer_signature = Some(answer);
        findings = found;
    }
    exchange.findings.extend(findings);
}

/// The `kid` a signature names: the profile's, else the key's RFC 7638 thumbprint.
pub fn signing_kid(profile: &Profile, key: Option<&PrivateKey>) -> String {
    profile
        .auth
        .kid
        .clone()
        .filter(|k| !k.trim().is_empty())
        .or_else(|| key.map(PrivateKey::thumbprint))
        .unwrap_or_default()
}

fn unix_now() -> f64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as f64
}

/// Adds PayNet's `x-signature` to a built call, signed over its URL and body.
fn sign_call(
    model: &mut request::RequestModel,
    profile: &Profile,
    settings: &XSignatureSettings,
    key: Option<&PrivateKey>,
) -> Result<(), BuildError> {
    let key = key.ok_or_else(|| {
        BuildError::Missing(
            "x-signature needs the data consumer's signing key: --key, or the profile's".into(),
        )
    })?;
    let kid = signing_kid(profile, Some(key));
    let jti = model
        .interaction_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let body = model.body();
    let signed = x_signature::sign(
        settings,
        x_signature::Signer {
            key,
            alg: profile.auth.alg,
            kid: &kid,
        },
        x_signature::SignedCall {
            url: &model.url,
            body: body.as_bytes(),
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            jti: &jti,
        },
    )
    .map_err(|e| BuildError::Missing(e.to_string()))?;
    request::insert_before_accept(
        &mut model.headers,
        request::header("x-signature", signed.value.clone(), false),
    );
    model.x_signature = Some(signed);
    Ok(())
}

/// What a layered answer's verdict says as a finding: an error when a layer failed, a
/// warning when one could not be checked.
fn layered_finding(answer: &LayeredAnswer) -> Option<Finding> {
    let layer = answer.first_failure()?;
    let reason = layer.reason.as_deref().unwrap_or("see its findings");
    Some(if answer.failed() {
        Finding::new(
            Severity::Error,
            "layers.invalid",
            format!(
                "the answer's {} layer failed: {reason}; the data inside is shown unverified",
                layer.name
            ),
            layers::SOURCE,
        )
    } else {
        Finding::new(
            Severity::Warning,
            "layers.not_checked",
            format!(
                "the answer's {} layer was not checked: {reason}",
                layer.name
            ),
            layers::SOURCE,
        )
    })
}

/// A body that is a compact JWS or JWE (signed or encrypted API answers, as PayNet
/// sends them), decoded: the JWE decrypted with `key` when given, and the token inside.
fn signed_or_encrypted_body(text: &str, key: Option<&JweKey>) -> Option<Vec<FoundToken>> {
    let text = text.trim();
    if !jwt::looks_like_jose(text) {
        return None;
    }
    let how = Inspection {
        jwe_key: key.cloned(),
        ..Inspection::default()
    };
    let found = |path: &str, raw: &str, report: &Report| FoundToken {
        path: path.to_owned(),
        kind: report.token_kind,
        raw: raw.to_owned(),
        header: Some(report.header.clone()),
        claims: report.claims.clone().or_else(|| {
            report
                .payload_text
                .as_ref()
                .map(|t| Value::String(t.clone()))
        }),
        error: None,
        signature: Some(report.signature.clone()),
        findings: report.findings.clone(),
        decoded: None,
    };
    let report = inspector::inspect(text, &how, &CheckContext::default()).ok()?;
    let mut out = Vec::new();
    if report.kind == JoseKind::Jwe && report.decryption_error.is_none() && key.is_none() {
        let mut body = found("body", text, &report);
        body.findings.insert(
            0,
            Finding::new(
                Severity::Info,
                "resource.encrypted_body",
                "the answer is encrypted (JWE): give the client's decryption key (--decrypt-key, or the profile's encryption key) to read it",
                "RFC 7516",
            ),
        );
        out.push(body);
        return Some(out);
    }
    out.push(found("body", text, &report));
    if let Some(nested) = &report.nested {
        let inner = report.payload_text.as_deref().unwrap_or_default().trim();
        out.push(found("body (decrypted)", inner, nested));
    }
    Some(out)
}

/// Explains a resource server's `WWW-Authenticate` error (RFC 6750 §3.1, RFC 9449 §7.1).
pub fn explain_www_authenticate(challenge: Option<&WwwAuthenticate>) -> Vec<Finding> {
    let Some(challenge) = challenge else {
        return Vec::new();
    };
    let (code, text, source) = match challenge.error().unwrap_or_default() {
        "invalid_token" => (
            "resource.invalid_token",
            "the token is expired, revoked, malformed or presented without the binding it carries (client certificate or DPoP proof): get a new token, or present it as it was bound",
            "RFC 6750 §3.1",
        ),
        "insufficient_scope" => (
            "resource.insufficient_scope",
            "the token is valid but does not grant this call: ask for the scope or consent permission this API needs",
            "RFC 6750 §3.1",
        ),
        "use_dpop_nonce" => (
            "resource.use_dpop_nonce",
            "the API wants a DPoP nonce: the call is sent again with the nonce from DPoP-Nonce",
            "RFC 9449 §9",
        ),
        "invalid_dpop_proof" => (
            "resource.invalid_dpop_proof",
            "the DPoP proof was refused (htm, htu, iat, jti, ath or the key): see the description",
            "RFC 9449 §7.1",
        ),
        "invalid_request" => (
            "resource.invalid_request",
            "the call is malformed (no or a wrong Authorization header)",
            "RFC 6750 §3.1",
        ),
        _ => return Vec::new(),
    };
    let description = challenge
        .error_description()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    vec![Finding::new(
        Severity::Error,
        code,
        format!("{text}{description}"),
        source,
    )]
}

/// The token and its type from a token response body.
pub fn token_of(body: &Value) -> Option<(Secret, String)> {
    let token = body.get("access_token")?.as_str()?;
    let kind = body
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer");
    Some((Secret::new(token), kind.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::http::{Call, FnClient, HttpResponse, SendError};

    /// An API that answers with `body` as `application/jose`.
    fn api(body: String) -> impl HttpClient {
        FnClient(move |call: Call<'_>| match call {
            Call::Send(_) => Ok(HttpResponse::with(
                200,
                &[("content-type", "application/jose")],
                body.clone(),
            )),
            Call::Get(url) => Err(SendError::Refused(url.to_owned())),
        })
    }

    fn what(key: Option<JweKey>) -> ResourceCall {
        ResourceCall {
            method: "GET".into(),
            url: "https://bank.example/accounts".into(),
            headers: Vec::new(),
            decrypt_with: key,
            ..ResourceCall::default()
        }
    }

    /// A signed, then encrypted answer (PayNet's resource responses) is decrypted with
    /// the client's key and the signed payload inside is shown; without the key, the
    /// answer says what is missing.
    #[tokio::test]
    async fn encrypted_and_signed_answers_are_read() {
        let inner = crate::jose::verify::test_keys::ed25519().sign(
            None,
            &serde_json::json!({"Data": {"Account": [{"AccountId": "1"}]}}),
        );
        let cek = [7u8; 32];
        let jwe = crate::jose::jwe::tests::encrypt_gcm(
            r#"{"alg":"dir","enc":"A256GCM","cty":"JWT"}"#,
            &[],
            &cek,
            inner.as_bytes(),
        );
        let profile = Profile::new("bank", "https://bank.example");
        let token = Secret::new("at");
        let nonces = NonceStore::default();
        let key = JweKey::Direct(cek.to_vec());
        let ex = call(
            &api(jwe.clone()),
            &profile,
            &token,
            CallKeys::default(),
            &nonces,
            &what(Some(key)),
        )
        .await
        .unwrap();
        let tokens = &ex.response().unwrap().tokens;
        assert_eq!(tokens[0].path, "body");
        assert_eq!(tokens[0].header.as_ref().unwrap()["enc"], "A256GCM");
        assert_eq!(tokens[1].path, "body (decrypted)");
        assert_eq!(tokens[1].raw, inner);
        assert_eq!(
            tokens[1].claims.as_ref().unwrap()["Data"]["Account"][0]["AccountId"],
            "1"
        );

        let ex = call(
            &api(jwe),
            &profile,
            &token,
            CallKeys::default(),
            &nonces,
            &what(None),
        )
        .await
        .unwrap();
        let tokens = &ex.response().unwrap().tokens;
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].findings[0].code, "resource.encrypted_body");

        // A plain JSON answer has no decoded body.
        let ex = call(
            &api("{}".into()),
            &profile,
            &token,
            CallKeys::default(),
            &nonces,
            &what(None),
        )
        .await
        .unwrap();
        assert!(ex.response().unwrap().tokens.is_empty());
    }

    #[test]
    fn www_authenticate_errors_are_explained() {
        let explain = |v: &str| explain_www_authenticate(Some(&WwwAuthenticate::parse(v)));
        let f = explain(r#"DPoP error="invalid_token", error_description="the token is bound""#);
        assert_eq!(f[0].code, "resource.invalid_token");
        assert!(f[0].message.contains("the token is bound"));
        assert!(explain("Bearer realm=\"x\"").is_empty());
        assert!(explain_www_authenticate(None).is_empty());
        assert_eq!(
            explain(r#"Bearer error="insufficient_scope""#)[0].code,
            "resource.insufficient_scope"
        );
    }
}
