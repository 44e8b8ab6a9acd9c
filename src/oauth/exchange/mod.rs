//! One exchange: send a [`RequestModel`], record what came back, decode every JWT in
//! it, verify the id_token with the issuer's JWKS, and compute the findings for what
//! was sent and what was received.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::checks::{self, CheckContext, Finding, Severity, TokenKind};
use crate::jose::jwt::{self, DecodeError, DecodedJose};
use crate::jose::verify::{self, SignatureStatus, VerificationKey};
use crate::oauth::dpop::{DpopKey, NonceStore};
use crate::oauth::http::{HttpClient, HttpResponse, SendError};
use crate::oauth::request::{self, BuildError, RequestModel};
use crate::oauth::response::ResponseBody;

/// What the checks compare against (from the profile and the authorization request).
#[derive(Clone, Debug, Default)]
pub struct ExchangeContext {
    /// The issuer identifier.
    pub issuer: Option<String>,
    /// The client_id.
    pub client_id: Option<String>,
    /// The token endpoint URL.
    pub token_endpoint: Option<String>,
    /// The nonce sent in the authorization request.
    pub expected_nonce: Option<String>,
    /// The state sent in the authorization request.
    pub expected_state: Option<String>,
    /// The issuer's JWKS URI, to verify the id_token.
    pub jwks_uri: Option<String>,
    /// A JWKS given directly (tests, offline use); wins over `jwks_uri`.
    pub jwks: Option<Value>,
    /// What binds the token to this client (the certificate sent; the FAPI profile).
    pub binding: checks::binding::Binding,
    /// The consent asked for (`authorization_details`), to compare with what is granted.
    pub requested_consent: Option<Value>,
    /// The ecosystem's word for an authorised consent (`authorized`, `Authorised`...).
    pub consent_authorized: Option<String>,
    /// The client's decryption key: an id_token encrypted to the client is opened with it.
    pub decrypt_with: Option<crate::jose::jwe::JweKey>,
}

/// Whether the response echoed the `x-fapi-interaction-id` (FAPI 1 Baseline §6.2.1.11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "value", rename_all = "snake_case")]
pub enum InteractionEcho {
    /// The same value came back.
    Echoed,
    /// Another value came back.
    Different(String),
    /// None came back.
    Missing,
    /// None was sent; the server's, if any.
    NotSent(Option<String>),
}

/// A JWT found in the response, decoded.
#[derive(Clone, Serialize)]
pub struct FoundToken {
    /// Where it was (`id_token`, `access_token`, `refresh_token`).
    pub path: String,
    /// What kind of token it is.
    pub kind: TokenKind,
    /// The compact value.
    #[serde(skip)]
    pub raw: String,
    /// The header, when it decoded.
    pub header: Option<serde_json::Map<String, Value>>,
    /// The claims, when it decoded to a JSON object.
    pub claims: Option<Value>,
    /// Why it did not decode.
    pub error: Option<DecodeError>,
    /// The signature check.
    pub signature: Option<SignatureStatus>,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// The decoded value (not serialized: header and claims carry it).
    #[serde(skip)]
    pub decoded: Option<DecodedJose>,
}

/// The answer part of an exchange. `Debug` shows no token and no body text.
#[derive(Clone, Serialize)]
pub struct ExchangeResponse {
    /// Status, headers, capped body.
    pub http: HttpResponse,
    /// The body, classified.
    pub body: ResponseBody,
    /// The raw body as text (lossy UTF-8).
    pub body_text: String,
    /// The interaction id echo.
    pub interaction_id: InteractionEcho,
    /// JWTs found in the body.
    pub tokens: Vec<FoundToken>,
    /// A layered answer (PayNet's signed and encrypted layers), opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<crate::oauth::layers::LayeredAnswer>,
    /// The answer's own signature (UK `x-jws-signature`, a UAE signed JWT), checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_signature: Option<crate::oauth::message_signing::AnswerSignature>,
}

/// One request and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    /// What was sent.
    pub request: RequestModel,
    /// When it was sent (RFC 3339, UTC).
    pub sent_at: String,
    /// Milliseconds until the whole body was read or the failure.
    pub elapsed_ms: f64,
    /// The response, or the transport error.
    #[serde(serialize_with = "serialize_outcome")]
    pub outcome: Result<ExchangeResponse, SendError>,
    /// Findings on what was sent and what came back.
    pub findings: Vec<Finding>,
    /// Why it failed: each likely cause judged on the evidence (empty for a success).
    pub diagnosis: Vec<crate::checks::cause::Cause>,
    /// The attempt before this one, when the server asked for a DPoP nonce and the
    /// request was rebuilt and sent again (RFC 9449 §8, §9).
    #[serde(skip)]
    pub first_attempt: Option<Box<Exchange>>,
}

fn serialize_outcome<S: serde::Serializer>(
    outcome: &Result<ExchangeResponse, SendError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(1))?;
    match outcome {
        Ok(r) => map.serialize_entry("response", r)?,
        Err(e) => map.serialize_entry(
            "transport_error",
            &serde_json::json!({ "error": e, "message": e.to_string() }),
        )?,
    }
    map.end()
}

impl Exchange {
    /// The response, when there is one.
    pub fn response(&self) -> Option<&ExchangeResponse> {
        self.outcome.as_ref().ok()
    }

    /// True for a 2xx answer.
    pub fn is_success(&self) -> bool {
        self.response()
            .is_some_and(|r| (200..300).contains(&r.http.status))
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn check_context(ctx: &ExchangeContext) -> CheckContext {
    CheckContext {
        issuer: ctx.issuer.clone(),
        client_id: ctx.client_id.clone(),
        token_endpoint: ctx.token_endpoint.clone(),
        expected_nonce: ctx.expected_nonce.clone(),
        ..CheckContext::default()
    }
}

/// Is the token bound to this client? `cnf` of a JWT access token or of an
/// introspection answer against the certificate sent (RFC 8705 §3), and F9 for a token
/// response.
fn binding_findings(
    response: &ExchangeResponse,
    binding: &checks::binding::Binding,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match &response.body {
        ResponseBody::Token(t) => {
            let claims = response
                .tokens
                .iter()
                .find(|f| f.path == "access_token")
                .and_then(|f| f.claims.as_ref());
            if let Some(claims) = claims {
                out.extend(checks::binding::check_cnf(claims, binding, "access_token"));
            }
            let token_type = t.raw.get("token_type").and_then(Value::as_str);
            out.extend(checks::binding::check_token_binding(
                token_type, claims, binding,
            ));
        }
        ResponseBody::Json(value) if value.get("active").is_some() => {
            out.extend(checks::binding::check_cnf(value, binding, "introspection"));
        }
        _ => {}
    }
    out
}

/// Findings on the request alone (the client assertion about to be sent).
pub fn request_findings(request: &RequestModel, ctx: &ExchangeContext) -> Vec<Finding> {
    let mut out = Vec::new();
    // This app signed these JWTs itself, so "signature not checked" says nothing.
    let signed_here = [
        (
            "client_assertion",
            TokenKind::ClientAssertion,
            "assertion.malformed",
        ),
        (
            "request",
            TokenKind::RequestObject,
            "request_object.malformed",
        ),
    ];
    for (name, kind, malformed) in signed_here {
        let Some(value) = request.param(name) else {
            continue;
        };
        match jwt::decode(value) {
            Ok(decoded) => out.extend(
                checks::check_jwt(&decoded, kind, &check_context(ctx), None)
                    .into_iter()
                    .filter(|f| f.code != "jose.signature_not_checked")
                    .map(|mut f| {
                        f.message = format!("{name}: {}", f.message);
                        f
                    }),
            ),
            Err(e) => out.push(Finding::new(
                Severity::Error,
                malformed,
                format!("the {name} does not decode: {e}"),
                "RFC 7515 §7.1",
            )),
        }
    }
    if let Some(proof) = request.header("DPoP")
        && let Ok(decoded) = jwt::decode(proof)
    {
        let mut cctx = check_context(ctx);
        cctx.now = crate::jose::numeric_date::now_unix();
        out.extend(
            checks::check_jwt(&decoded, TokenKind::DpopProof, &cctx, None)
                .into_iter()
                .filter(|f| f.code != "jose.signature_not_checked" && f.severity != Severity::Info)
                .map(|mut f| {
                    f.message = format!("DPoP proof: {}", f.message);
                    f
                }),
        );
    }
    out
}

/// Sends the request and builds the exchange record (never panics, never hangs past the
/// transport's timeouts).
pub async fn run(
    transport: &impl HttpClient,
    request: RequestModel,
    ctx: &ExchangeContext,
) -> Exchange {
    let sent_at = now_rfc3339();
    let started = Instant::now();
    let outcome = transport.send(&request).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut findings = request_findings(&request, ctx);
    let outcome = match outcome {
        Ok(http) => {
            let response = read_response(transport, &request, http, ctx).await;
            findings.extend(response_findings(&request, &response, ctx));
            for t in &response.tokens {
                findings.extend(t.findings.iter().cloned().map(|mut f| {
                    f.message = format!("{}: {}", t.path, f.message);
                    f
                }));
            }
            Ok(response)
        }
        Err(e) => Err(e),
    };
    findings.sort_by_key(|f| f.severity);
    Exchange {
        request,
        sent_at,
        elapsed_ms,
        outcome,
        findings,
        diagnosis: Vec::new(),
        first_attempt: None,
    }
}

/// What proves a request with DPoP (RFC 9449): the key, and for a resource call the
/// access token the proof's `ath` binds (which also switches `Authorization` to the
/// `DPoP` scheme, §7.1).
#[derive(Clone, Copy, Debug)]
pub struct Proof<'a> {
    /// The DPoP key.
    pub key: &'a DpopKey,
    /// The access token a resource call presents.
    pub access_token: Option<&'a crate::secret::Secret>,
}

impl Proof<'_> {
    /// Signs a fresh proof for `model` with the server's `nonce` and puts it in the
    /// `DPoP` header (RFC 9449 §4).
    pub fn attach(&self, model: &mut RequestModel, nonce: Option<&str>) -> Result<(), BuildError> {
        let now = crate::jose::numeric_date::now_unix() as i64;
        match self.access_token {
            Some(token) => request::use_dpop_for_resource(model, self.key, token, nonce, now),
            None => request::attach_dpop(model, self.key, nonce, None, now),
        }
    }
}

/// Builds and proves the first attempt of a request: `build()` makes the model, and a
/// proof carries the nonce this server gave last, when there is one (RFC 9449 §8.2).
pub fn first_attempt(
    nonces: &NonceStore,
    proof: Option<Proof<'_>>,
    build: impl FnOnce() -> Result<RequestModel, BuildError>,
) -> Result<RequestModel, BuildError> {
    let mut model = build()?;
    if let Some(proof) = proof {
        let known = nonces.get(&model.url);
        proof.attach(&mut model, known.as_deref())?;
    }
    Ok(model)
}

/// Sends a request that may be asked for a DPoP nonce. The first attempt is `first` when
/// the caller built it already (the very model a preview showed), else
/// [`first_attempt`]. When the answer is `use_dpop_nonce` (RFC 9449 §8, §9) `build()`
/// makes the request again (a fresh client assertion: a resent `jti` is refused as a
/// replay), proved with the server's nonce, and it is sent once more; the first attempt
/// is kept in the exchange. The latest nonce of each server is remembered in `nonces`.
pub async fn send_with_dpop(
    client: &impl HttpClient,
    ctx: &ExchangeContext,
    nonces: &NonceStore,
    proof: Option<Proof<'_>>,
    first: Option<RequestModel>,
    mut build: impl FnMut() -> Result<RequestModel, BuildError>,
) -> Result<Exchange, BuildError> {
    let first_model = match first {
        Some(model) => model,
        None => first_attempt(nonces, proof, &mut build)?,
    };
    let url = first_model.url.clone();
    let first = run(client, first_model, ctx).await;
    let asked = first.response().and_then(|r| {
        nonces.remember(&url, &r.http);
        crate::oauth::dpop::nonce_requested(&r.http)
    });
    let (Some(nonce), Some(proof)) = (asked.filter(|_| first.request.dpop.is_some()), proof) else {
        return Ok(first);
    };
    let mut model = build()?;
    proof.attach(&mut model, Some(&nonce))?;
    let mut second = run(client, model, ctx).await;
    if let Some(r) = second.response() {
        nonces.remember(&url, &r.http);
    }
    second.first_attempt = Some(Box::new(first));
    Ok(second)
}

async fn read_response(
    transport: &impl HttpClient,
    request: &RequestModel,
    http: HttpResponse,
    ctx: &ExchangeContext,
) -> ExchangeResponse {
    let body = ResponseBody::classify(http.status, &http.body);
    let body_text = String::from_utf8_lossy(&http.body).into_owned();
    let echoed = http.header("x-fapi-interaction-id").map(str::to_owned);
    let interaction_id = match (&request.interaction_id, echoed) {
        (Some(sent), Some(got)) if *sent == got => InteractionEcho::Echoed,
        (Some(_), Some(got)) => InteractionEcho::Different(got),
        (Some(_), None) => InteractionEcho::Missing,
        (None, got) => InteractionEcho::NotSent(got),
    };
    let mut tokens = Vec::new();
    if let Some(Value::Object(map)) = body.json() {
        let access_token = map.get("access_token").and_then(Value::as_str);
        let code = request.param("code");
        for (path, kind) in [
            ("id_token", TokenKind::IdToken),
            ("access_token", TokenKind::AccessToken),
            ("refresh_token", TokenKind::Unknown),
        ] {
            let Some(raw) = map.get(path).and_then(Value::as_str) else {
                continue;
            };
            if path != "id_token" && !jwt::looks_like_jose(raw) {
                continue;
            }
            let mut cctx = check_context(ctx);
            cctx.access_token = access_token.map(str::to_owned);
            cctx.code = code.map(str::to_owned);
            cctx.state = ctx.expected_state.clone();
            tokens.push(decode_found(transport, path, kind, raw, &cctx, ctx).await);
        }
    }
    ExchangeResponse {
        http,
        body,
        body_text,
        interaction_id,
        tokens,
        layers: None,
        answer_signature: None,
    }
}

/// A token encrypted to the client (a JWE holding a JWS, as Open Finance Brasil sends its
/// id_tokens), opened with its key: the inner token and a finding saying so; otherwise
/// the token as it is (a JWE without the key is judged as one).
fn open_encrypted(raw: &str, key: Option<&crate::jose::jwe::JweKey>) -> (String, Vec<Finding>) {
    let (Some(key), Ok(decoded)) = (key, jwt::decode(raw)) else {
        return (raw.to_owned(), Vec::new());
    };
    if decoded.kind != jwt::JoseKind::Jwe {
        return (raw.to_owned(), Vec::new());
    }
    let alg = decoded.alg().unwrap_or("?").to_owned();
    match crate::jose::jwe::decrypt(&decoded, key) {
        Ok(jwt::Payload::Text(inner)) if jwt::looks_like_jose(inner.trim()) => {
            let note = Finding::new(
                Severity::Info,
                "jose.decrypted",
                format!(
                    "encrypted to this client ({alg}) and opened with its decryption key; the token inside is checked below"
                ),
                "RFC 7516; OIDC Core §10.2",
            );
            (inner.trim().to_owned(), vec![note])
        }
        Ok(_) => (raw.to_owned(), Vec::new()),
        Err(e) => {
            let note = Finding::new(
                Severity::Error,
                "jose.decryption_failed",
                format!(
                    "encrypted to this client ({alg}) but the decryption key does not open it: {e}"
                ),
                "RFC 7516 §5.2",
            );
            (raw.to_owned(), vec![note])
        }
    }
}

async fn decode_found(
    transport: &impl HttpClient,
    path: &str,
    kind: TokenKind,
    raw: &str,
    cctx: &CheckContext,
    ctx: &ExchangeContext,
) -> FoundToken {
    let (opened, mut notes) = open_encrypted(raw, ctx.decrypt_with.as_ref());
    match jwt::decode(&opened) {
        Ok(decoded) => {
            let signature = if kind == TokenKind::IdToken {
                Some(verify_with_issuer_keys(transport, &decoded, ctx).await)
            } else {
                None
            };
            let mut findings = checks::check_jwt(&decoded, kind, cctx, signature.as_ref());
            notes.append(&mut findings);
            let findings = notes;
            FoundToken {
                path: path.to_owned(),
                kind,
                raw: raw.to_owned(),
                header: Some(decoded.header.clone()),
                claims: match &decoded.payload {
                    jwt::Payload::Json(v) => Some(v.clone()),
                    _ => None,
                },
                error: None,
                signature,
                findings,
                decoded: Some(decoded),
            }
        }
        Err(e) => FoundToken {
            path: path.to_owned(),
            kind,
            raw: raw.to_owned(),
            header: None,
            claims: None,
            findings: vec![Finding::new(
                Severity::Error,
                "jwt.malformed",
                format!("does not decode: {e}"),
                "RFC 7519 §7.2",
            )],
            error: Some(e),
            signature: None,
            decoded: None,
        },
    }
}

async fn verify_with_issuer_keys(
    transport: &impl HttpClient,
    decoded: &DecodedJose,
    ctx: &ExchangeContext,
) -> SignatureStatus {
    let jwks = match (&ctx.jwks, &ctx.jwks_uri) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(uri)) if !uri.is_empty() => {
            match crate::oauth::discovery::fetch_jwks(transport, uri).await {
                Ok(jwks) => jwks,
                Err(e) => {
                    return SignatureStatus::NotVerifiable {
                        reason: format!("the issuer's JWKS could not be fetched: {e}"),
                    };
                }
            }
        }
        _ => {
            return SignatureStatus::NotVerifiable {
                reason: "no JWKS: run discovery or set the profile's JWKS URI".into(),
            };
        }
    };
    verify::verify(decoded, &VerificationKey::Jwks(jwks))
}

fn response_findings(
    request: &RequestModel,
    response: &ExchangeResponse,
    ctx: &ExchangeContext,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(binding_findings(response, &ctx.binding));
    if let (ResponseBody::Token(t), Some(asked)) = (&response.body, &ctx.requested_consent)
        && let Some(granted) = t.raw.get("authorization_details")
    {
        findings.extend(crate::oauth::consent::compare(
            asked,
            granted,
            ctx.consent_authorized.as_deref(),
        ));
    }
    if let Some(skew) =
        crate::oauth::http::clock_skew_secs(&response.http, std::time::SystemTime::now())
    {
        let date = response.http.header("date").unwrap_or_default();
        findings.extend(checks::clock::skew(skew, date));
    }
    if response.http.truncated {
        findings.push(Finding::new(
            Severity::Error,
            "response.truncated",
            format!(
                "the body is larger than {} MiB and was cut off; what is shown is the start",
                response.http.max_body / (1024 * 1024)
            ),
            "Token Inspector limit",
        ));
    }
    match &response.body {
        ResponseBody::Token(_) => {
            if let Some(json) = response.body.json() {
                let echoed = response.http.header("x-fapi-interaction-id");
                findings.extend(checks::check_token_response(
                    &json,
                    request.param("scope"),
                    request.interaction_id.as_deref(),
                    echoed,
                    crate::jose::numeric_date::now_unix(),
                ));
            }
        }
        // A nonce request is a normal step of DPoP, answered by the retry (RFC 9449 §8).
        ResponseBody::Error(e) if e.error == "use_dpop_nonce" => findings.push(Finding::new(
            Severity::Info,
            "response.use_dpop_nonce",
            format!("use_dpop_nonce: {}", e.explain()),
            "RFC 9449 §8",
        )),
        ResponseBody::Error(e) => findings.push(Finding::new(
            Severity::Error,
            "response.oauth_error",
            format!(
                "{}{}: {}",
                e.error,
                e.error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                e.explain()
            ),
            "RFC 6749 §5.2",
        )),
        ResponseBody::Text(_) if !(200..300).contains(&response.http.status) => {
            findings.push(Finding::new(
                Severity::Error,
                "response.not_json",
                format!(
                    "HTTP {} with a body that is not JSON: a proxy, gateway or WAF may have answered instead of the authorization server",
                    response.http.status
                ),
                "RFC 6749 §5.2",
            ))
        }
        // An API may answer with anything (PayNet: application/jose); a token endpoint
        // may not.
        ResponseBody::Text(_) if request.kind != crate::oauth::request::RequestKind::Resource => {
            findings.push(Finding::new(
                Severity::Error,
                "response.not_json",
                "the body is not JSON; a token response must be application/json",
                "RFC 6749 §5.1",
            ))
        }
        _ => {}
    }
    if !matches!(response.body, ResponseBody::Token(_)) {
        // Token responses get this inside check_token_response.
        checks::token_response::interaction_id(
            request.interaction_id.as_deref(),
            response.http.header("x-fapi-interaction-id"),
            &mut findings,
        );
    }
    findings
}

impl std::fmt::Debug for FoundToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoundToken")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("raw", &format_args!("<{} chars>", self.raw.len()))
            .field("header", &self.header)
            .field("error", &self.error)
            .field("signature", &self.signature)
            .field("findings", &self.findings)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ExchangeResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeResponse")
            .field("http", &self.http)
            .field("body", &self.body)
            .field("interaction_id", &self.interaction_id)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
