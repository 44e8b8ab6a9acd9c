//! Calling an API with the token (RFC 6750 Bearer, RFC 9449 DPoP): the request is a
//! model like every other (shown raw and as curl), with `Authorization`, the DPoP proof
//! (with `ath`), the client certificate of the transport and an `x-fapi-interaction-id`;
//! a DPoP nonce request is answered once; `WWW-Authenticate` errors are explained.

use serde_json::Value;

use crate::checks::{CheckContext, Finding, Severity};
use crate::inspector::{self, Inspection, Report};
use crate::jose::jwe::JweKey;
use crate::jose::jwt::{self, JoseKind};
use crate::oauth::dpop::{DpopKey, NonceStore};
use crate::oauth::exchange::{self, Exchange, ExchangeContext, FoundToken};
use crate::oauth::http::{HttpClient, WwwAuthenticate};
use crate::oauth::request::{self, BuildError, RequestOptions};
use crate::secret::Secret;
use crate::storage::profile::Profile;

/// What to call.
#[derive(Clone, Debug)]
pub struct ResourceCall {
    /// `GET`, `POST`...
    pub method: String,
    /// The API URL.
    pub url: String,
    /// Extra headers, `Name: value`.
    pub headers: Vec<(String, String)>,
    /// The client's decryption key, for an encrypted (JWE) answer.
    pub decrypt_with: Option<JweKey>,
}

/// Calls the API: Bearer, or DPoP with a proof bound to the token when `dpop` is given
/// (and the token is DPoP-bound).
pub async fn call(
    client: &impl HttpClient,
    profile: &Profile,
    access_token: &Secret,
    dpop: Option<&DpopKey>,
    nonces: &NonceStore,
    what: &ResourceCall,
) -> Result<Exchange, BuildError> {
    let options = RequestOptions::default();
    let proof = dpop.map(|key| exchange::Proof {
        key,
        access_token: Some(access_token),
    });
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
    if let Ok(r) = &mut exchange.outcome
        && let Some(found) = signed_or_encrypted_body(&r.body_text, what.decrypt_with.as_ref())
    {
        r.tokens.extend(found);
    }
    Ok(exchange)
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
            None,
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

        let ex = call(&api(jwe), &profile, &token, None, &nonces, &what(None))
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
            None,
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
