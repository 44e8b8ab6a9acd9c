//! UAE Open Finance (Nebras API Hub, Al Tareq): request bodies as signed JWTs
//! (`application/jwt`, the JSON under `message`, `iss` the client, `aud` the issuer,
//! `exp` five minutes on), personal data (`PersonalIdentifiableInformation`) as a PS256
//! JWT encrypted to the bank's `use: enc` key, the `x-idempotency-key` (at most 40
//! characters, the same on a retry) and the customer headers. Everything is signed and
//! encrypted here: the hub's helper endpoints that take a private key are never needed.

use serde_json::{Map, Value, json};

use super::{AnswerSignature, MessageSigningError, Parties, SignedBodySettings, SignedMessage};
use crate::checks::{Finding, Severity};
use crate::jose::encrypt::{JweRecipient, encrypt};
use crate::jose::jwe::KeyManagement;
use crate::jose::jwt::{self, JoseKind};
use crate::jose::verify::{self, SignatureStatus};
use crate::oauth::x_signature::Signer;

/// The content type of a signed body.
pub const CONTENT_TYPE: &str = "application/jwt";
/// The idempotency header.
pub const IDEMPOTENCY_HEADER: &str = "x-idempotency-key";
/// The longest idempotency key the standard allows.
pub const IDEMPOTENCY_KEY_MAX: usize = 40;
/// How long a signed body is valid.
pub const LIFETIME_SECS: i64 = 300;
/// The member holding personal data, encrypted wherever it appears.
pub const PII_MEMBER: &str = "PersonalIdentifiableInformation";
/// Where signed bodies are described.
pub const SIGNING_SOURCE: &str = "UAE Open Finance standards: security/fapi/message-signing and the payment API guides (AEPaymentRequestSigned)";
/// Where the request headers are described.
pub const HEADERS_SOURCE: &str =
    "UAE Open Finance standards: security/request-headers; FAPI 2.0 Security Profile";
/// The two documents that disagree on the key management of personal data.
pub const PII_SOURCES: &str = "Nebras community-standards security/fapi/message-encryption.md (RSA-OAEP-256); Al Tareq developer-guide implementation-guides encrypting-pii.md (RSA-OAEP)";

/// A body sealed: the signed JWT and what was decided on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Sealed {
    /// The signed JWT that is the body.
    pub signed: SignedMessage,
    /// Findings (the key management chosen, personal data encrypted).
    pub findings: Vec<Finding>,
}

/// The key management for personal data: the profile's, `RSA-OAEP-256` by default.
pub fn pii_key_management(
    settings: &SignedBodySettings,
) -> Result<KeyManagement, MessageSigningError> {
    match settings.pii_alg.trim() {
        "" => Ok(KeyManagement::RsaOaep256),
        name => KeyManagement::from_name(name).ok_or_else(|| {
            MessageSigningError::Invalid(format!(
                "pii_alg {name:?} is not RSA-OAEP-256 or RSA-OAEP"
            ))
        }),
    }
}

/// Signs `body` as the UAE asks: personal data encrypted to `bank_key` first, then the
/// whole under `message` in a JWT signed by the client.
pub fn seal(
    body: &Value,
    settings: &SignedBodySettings,
    signer: Signer<'_>,
    bank_key: Option<&JweRecipient>,
    parties: Parties<'_>,
    now: i64,
    jti: &str,
) -> Result<Sealed, MessageSigningError> {
    let audience = audience(settings, parties)?;
    // A body given with its `message` wrapper is taken as it is.
    let mut message = match body {
        Value::Object(o) if o.len() == 1 && o.contains_key("message") => o["message"].clone(),
        other => other.clone(),
    };
    let mut findings = Vec::new();
    let what = PersonalData {
        settings,
        signer,
        bank_key,
        parties,
        now,
        jti,
    };
    findings.extend(what.encrypt_in(&mut message)?);
    let claims = json!({
        "message": message,
        "iss": parties.client_id,
        "aud": audience,
        "iat": now,
        "nbf": now - 10,
        "exp": now + LIFETIME_SECS,
        "jti": jti,
    });
    let header = header(signer);
    let value = jwt::sign_compact(
        &header,
        &claims,
        signer.key.encoding_key(),
        signer.alg.jsonwebtoken(),
    )
    .map_err(|e| MessageSigningError::Signing(e.to_string()))?;
    findings.push(Finding::new(
        Severity::Info,
        "uae.signed_body",
        format!(
            "the body is a JWT signed with {} (kid {}): the JSON under message, iss {}, aud {audience}, exp five minutes on; sent as application/jwt",
            signer.alg.as_str(),
            signer.kid,
            parties.client_id
        ),
        SIGNING_SOURCE,
    ));
    Ok(Sealed {
        signed: SignedMessage {
            scheme: "signed JWT body",
            value,
            header,
            claims,
        },
        findings,
    })
}

/// The `aud` of a signed body and of personal data: the settings', else the issuer.
fn audience<'a>(
    settings: &'a SignedBodySettings,
    parties: Parties<'a>,
) -> Result<&'a str, MessageSigningError> {
    let audience = match settings.audience.trim() {
        "" => parties.issuer.trim(),
        aud => aud,
    };
    if audience.is_empty() || parties.client_id.trim().is_empty() {
        return Err(MessageSigningError::Missing(
            "a signed body needs the client_id (iss) and the issuer (aud): set them in the profile"
                .into(),
        ));
    }
    Ok(audience)
}

/// Everything personal data is signed and encrypted with.
#[derive(Clone, Copy, Debug)]
pub struct PersonalData<'a> {
    /// The key management and the audience.
    pub settings: &'a SignedBodySettings,
    /// The client's key.
    pub signer: Signer<'a>,
    /// The bank's `use: enc` key.
    pub bank_key: Option<&'a JweRecipient>,
    /// The client and the issuer.
    pub parties: Parties<'a>,
    /// Unix seconds.
    pub now: i64,
    /// The base of each JWT's `jti`.
    pub jti: &'a str,
}

impl PersonalData<'_> {
    /// Signs and encrypts every `PersonalIdentifiableInformation` object in `value` (a
    /// payment's message, a consent's `authorization_details`); a finding says how, when
    /// there was any.
    pub fn encrypt_in(&self, value: &mut Value) -> Result<Option<Finding>, MessageSigningError> {
        let audience = audience(self.settings, self.parties)?;
        let how = pii_key_management(self.settings)?;
        let mut count = 0;
        let mut encrypt_one = |pii: &Value| -> Result<String, MessageSigningError> {
            let key = self.bank_key.ok_or_else(|| {
                MessageSigningError::Missing(format!(
                    "{PII_MEMBER} is encrypted to the bank's use:enc key: name the bank's JWK Set (signed_body.encryption_jwks, --encryption-jwks, or the profile's jwks_uri)"
                ))
            })?;
            count += 1;
            encrypt_pii(
                pii,
                self.signer,
                key,
                how,
                self.parties,
                audience,
                self.now,
                &format!("{}-pii-{count}", self.jti),
            )
        };
        encrypt_personal_data(value, &mut encrypt_one)?;
        Ok((count > 0).then(|| pii_finding(how, count)))
    }
}

fn header(signer: Signer<'_>) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("alg".into(), signer.alg.as_str().into());
    header.insert("kid".into(), signer.kid.into());
    header.insert("typ".into(), "JWT".into());
    header
}

/// Replaces every `PersonalIdentifiableInformation` member that holds an object (the
/// personal data in clear) with what `encrypt_one` makes of it; a string is taken as
/// already encrypted.
fn encrypt_personal_data(
    value: &mut Value,
    encrypt_one: &mut impl FnMut(&Value) -> Result<String, MessageSigningError>,
) -> Result<(), MessageSigningError> {
    match value {
        Value::Object(map) => {
            for (name, member) in map.iter_mut() {
                if name == PII_MEMBER && member.is_object() {
                    *member = Value::String(encrypt_one(member)?);
                } else {
                    encrypt_personal_data(member, encrypt_one)?;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                encrypt_personal_data(item, encrypt_one)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// True when `value` holds personal data in clear (a `PersonalIdentifiableInformation`
/// object) that a signed body encrypts.
pub fn holds_personal_data(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(name, v)| (name == PII_MEMBER && v.is_object()) || holds_personal_data(v)),
        Value::Array(items) => items.iter().any(holds_personal_data),
        _ => false,
    }
}

/// Personal data as the UAE asks: a JWT signed by the client (`iss` = `sub` = client_id,
/// `aud` the issuer, `exp` five minutes on, `jti`) encrypted to the bank's key (`cty` JWT).
#[allow(clippy::too_many_arguments)]
pub fn encrypt_pii(
    pii: &Value,
    signer: Signer<'_>,
    to: &JweRecipient,
    how: KeyManagement,
    parties: Parties<'_>,
    audience: &str,
    now: i64,
    jti: &str,
) -> Result<String, MessageSigningError> {
    let mut claims = pii.as_object().cloned().unwrap_or_default();
    for (name, value) in [
        ("iss", json!(parties.client_id)),
        ("sub", json!(parties.client_id)),
        ("aud", json!(audience)),
        ("iat", json!(now)),
        ("exp", json!(now + LIFETIME_SECS)),
        ("jti", json!(jti)),
    ] {
        claims.insert(name.into(), value);
    }
    let signed = jwt::sign_compact(
        &header(signer),
        &Value::Object(claims),
        signer.key.encoding_key(),
        signer.alg.jsonwebtoken(),
    )
    .map_err(|e| MessageSigningError::Signing(e.to_string()))?;
    let mut extra = Map::new();
    extra.insert("cty".into(), "JWT".into());
    encrypt(signed.as_bytes(), &extra, to, how)
        .map_err(|e| MessageSigningError::Signing(format!("encrypting personal data: {e}")))
}

fn pii_finding(how: KeyManagement, count: usize) -> Finding {
    let other = match how {
        KeyManagement::RsaOaep256 => "RSA-OAEP",
        KeyManagement::RsaOaep => "RSA-OAEP-256",
    };
    Finding::new(
        Severity::Info,
        "uae.pii.key_management",
        format!(
            "{count} {PII_MEMBER} member(s) signed and encrypted to the bank's key with {} / A256GCM; the two UAE documents disagree (the community standards say RSA-OAEP-256, the Al Tareq developer guide RSA-OAEP): if the bank cannot decrypt, set pii_alg to {other}",
            how.as_str()
        ),
        PII_SOURCES,
    )
}

/// The `x-idempotency-key`: the one given (at most 40 visible ASCII characters), or a
/// fresh UUID. A retry of the same request reuses it with the same body.
pub fn idempotency_key(given: Option<&str>) -> Result<String, MessageSigningError> {
    let Some(key) = given.map(str::trim) else {
        return Ok(uuid::Uuid::new_v4().to_string());
    };
    if key.is_empty()
        || key.len() > IDEMPOTENCY_KEY_MAX
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(MessageSigningError::Invalid(format!(
            "the x-idempotency-key {key:?} must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters ({HEADERS_SOURCE})"
        )));
    }
    Ok(key.to_owned())
}

/// The customer headers, checked: `x-fapi-customer-ip-address` an IP address and
/// `x-fapi-auth-date` an HTTP-date (RFC 7231 §7.1.1.1; `now` makes one).
pub fn customer_headers(
    ip: Option<&str>,
    auth_date: Option<&str>,
) -> Result<Vec<(String, String)>, MessageSigningError> {
    let mut out = Vec::new();
    if let Some(ip) = ip.map(str::trim) {
        ip.parse::<std::net::IpAddr>().map_err(|_| {
            MessageSigningError::Invalid(format!(
                "x-fapi-customer-ip-address {ip:?} is not an IPv4 or IPv6 address"
            ))
        })?;
        out.push(("x-fapi-customer-ip-address".to_owned(), ip.to_owned()));
    }
    if let Some(date) = auth_date.map(str::trim) {
        let value = if date.eq_ignore_ascii_case("now") {
            httpdate::fmt_http_date(std::time::SystemTime::now())
        } else {
            httpdate::parse_http_date(date).map_err(|_| {
                MessageSigningError::Invalid(format!(
                    "x-fapi-auth-date {date:?} is not an HTTP-date such as \"Sun, 10 Sep 2017 19:43:31 GMT\" (RFC 7231 §7.1.1.1), or now"
                ))
            })?;
            date.to_owned()
        };
        out.push(("x-fapi-auth-date".to_owned(), value));
    }
    Ok(out)
}

/// Checks the UAE headers a request carries however they were given (a flag, the app's
/// headers box): the customer's address and login time, the idempotency key.
pub fn check_headers(headers: &[(String, String)]) -> Result<(), MessageSigningError> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let auth_date = find("x-fapi-auth-date");
    if auth_date.is_some_and(|d| d.trim().eq_ignore_ascii_case("now")) {
        return Err(MessageSigningError::Invalid(
            "x-fapi-auth-date must be an HTTP-date such as \"Sun, 10 Sep 2017 19:43:31 GMT\" (RFC 7231 §7.1.1.1)".into(),
        ));
    }
    customer_headers(find("x-fapi-customer-ip-address"), auth_date)?;
    if let Some(key) = find(IDEMPOTENCY_HEADER) {
        idempotency_key(Some(key))?;
    }
    Ok(())
}

/// Checks an answer that is a signed JWT (`application/jwt`): its signature with the
/// bank's JWK Sets, `exp`, and `aud` when it names one.
pub fn check_answer(
    text: &str,
    jwks: &[Value],
    client_id: &str,
    now: i64,
) -> Option<(AnswerSignature, Vec<Finding>)> {
    let decoded = jwt::decode(text.trim()).ok()?;
    if decoded.kind != JoseKind::Jws {
        return None;
    }
    let signature = verify::with_any_set(jwks, |key| verify::verify(&decoded, key));
    let claims = decoded
        .unverified_claims()
        .map_or(Value::Null, |c| Value::Object(c.clone()));
    let mut findings = vec![verdict_finding(&signature)];
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
        && exp < now - 60
    {
        findings.push(Finding::new(
            Severity::Error,
            "uae.signed_answer.expired",
            format!("the signed answer expired {} s ago (exp)", now - exp),
            "RFC 7519 §4.1.4",
        ));
    }
    let aud_fits = match claims.get("aud") {
        None => true,
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v == client_id),
        Some(_) => false,
    };
    if !aud_fits {
        findings.push(Finding::new(
            Severity::Error,
            "uae.signed_answer.audience",
            format!(
                "the signed answer's aud {} does not name this client ({client_id})",
                claims["aud"]
            ),
            "RFC 7519 §4.1.3",
        ));
    }
    let answer = AnswerSignature {
        scheme: "signed JWT body",
        header: decoded.header.clone(),
        claims,
        signature,
    };
    Some((answer, findings))
}

fn verdict_finding(signature: &SignatureStatus) -> Finding {
    match signature {
        SignatureStatus::Valid { kid } => Finding::new(
            Severity::Info,
            "uae.signed_answer.valid",
            format!(
                "the answer is a signed JWT that verifies with the bank's key (kid {})",
                kid.as_deref().unwrap_or("?")
            ),
            SIGNING_SOURCE,
        ),
        SignatureStatus::Invalid { reason } => Finding::new(
            Severity::Error,
            "uae.signed_answer.invalid",
            format!("the answer's signature does not verify: {reason}; do not trust its content"),
            SIGNING_SOURCE,
        ),
        SignatureStatus::NotVerifiable { reason } => Finding::new(
            Severity::Warning,
            "uae.signed_answer.not_checked",
            format!("the signed answer was not checked: {reason}"),
            SIGNING_SOURCE,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::jwe::{JweKey, decrypt};
    use crate::jose::jwt::Payload;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};

    const PARTIES: Parties<'static> = Parties {
        client_id: "client-uae",
        issuer: "https://lfi.example",
    };

    fn signer(key: &PrivateKey) -> Signer<'_> {
        Signer {
            key,
            alg: SigningAlg::PS256,
            kid: "sig-1",
        }
    }

    /// The body under `message` in a JWT (iss the client, aud the issuer, exp five
    /// minutes on); the personal data object replaced by a JWE the bank's key opens,
    /// holding a JWT with iss = sub = the client.
    #[test]
    fn a_body_is_signed_and_its_personal_data_encrypted() {
        let client = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let bank = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let bank_pem = bank.to_pkcs8_pem().clone();
        let to = JweRecipient::from_private_pem(bank_pem.expose(), Some("enc-1")).unwrap();
        let body = json!({"Data": {"ConsentId": "c1", PII_MEMBER: {"Initiation": {"Creditor": {"Name": "Ivan"}}}}});
        assert!(holds_personal_data(&body));
        let settings = SignedBodySettings {
            pii_alg: "RSA-OAEP".into(),
            ..SignedBodySettings::default()
        };
        let sealed = seal(
            &body,
            &settings,
            signer(&client),
            Some(&to),
            PARTIES,
            1_800_000_000,
            "j1",
        )
        .unwrap();
        let claims = &sealed.signed.claims;
        assert_eq!(claims["iss"], "client-uae");
        assert_eq!(claims["aud"], "https://lfi.example");
        assert_eq!(claims["exp"], 1_800_000_300);
        assert_eq!(claims["message"]["Data"]["ConsentId"], "c1");
        assert!(!holds_personal_data(claims));
        let jwe = claims["message"]["Data"][PII_MEMBER].as_str().unwrap();
        let decoded = jwt::decode(jwe).unwrap();
        assert_eq!(decoded.alg(), Some("RSA-OAEP"));
        assert_eq!(decoded.header["cty"], "JWT");
        let Payload::Text(inner) = decrypt(&decoded, &JweKey::RsaPrivatePem(bank_pem)).unwrap()
        else {
            panic!("not text")
        };
        let inner = jwt::decode(&inner).unwrap();
        let pii = inner.unverified_claims().unwrap();
        assert_eq!(pii["sub"], "client-uae");
        assert_eq!(pii["Initiation"]["Creditor"]["Name"], "Ivan");
        let jwks = vec![client.public_jwks(Some("sig-1"), SigningAlg::PS256)];
        let (answer, findings) = check_answer(
            &sealed.signed.value,
            &jwks,
            "https://lfi.example",
            1_800_000_000,
        )
        .unwrap();
        assert!(!answer.failed(), "{findings:?}");
        assert!(
            sealed
                .findings
                .iter()
                .any(|f| f.code == "uae.pii.key_management")
        );
    }

    #[test]
    fn personal_data_without_the_banks_key_is_refused_by_name() {
        let client = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let body = json!([{PII_MEMBER: {"a": 1}}]);
        let err = seal(
            &body,
            &SignedBodySettings::default(),
            signer(&client),
            None,
            PARTIES,
            0,
            "j",
        )
        .unwrap_err();
        assert!(err.to_string().contains("use:enc"), "{err}");
        // Already encrypted (a string): left as it is, no key needed.
        let body = json!({"message": {"Data": {PII_MEMBER: "eyJ.x.y.z.w"}}});
        let sealed = seal(
            &body,
            &SignedBodySettings::default(),
            signer(&client),
            None,
            PARTIES,
            0,
            "j",
        )
        .unwrap();
        assert_eq!(
            sealed.signed.claims["message"]["Data"][PII_MEMBER],
            "eyJ.x.y.z.w"
        );
    }

    #[test]
    fn headers_are_checked() {
        assert_eq!(idempotency_key(None).unwrap().len(), 36);
        assert_eq!(idempotency_key(Some("pay-1")).unwrap(), "pay-1");
        assert!(idempotency_key(Some(&"k".repeat(41))).is_err());
        assert!(idempotency_key(Some("with space")).is_err());
        let h =
            customer_headers(Some("2001:db8::1"), Some("Sun, 10 Sep 2017 19:43:31 GMT")).unwrap();
        assert_eq!(h.len(), 2);
        assert!(customer_headers(Some("10.0.0.300"), None).is_err());
        let err = customer_headers(None, Some("2017-09-10")).unwrap_err();
        assert!(err.to_string().contains("HTTP-date"), "{err}");
        let now = customer_headers(None, Some("now")).unwrap();
        assert!(httpdate::parse_http_date(&now[0].1).is_ok());
        let given = |name: &str, value: &str| vec![(name.to_owned(), value.to_owned())];
        assert!(check_headers(&given("X-FAPI-Auth-Date", "now")).is_err());
        assert!(check_headers(&given("x-fapi-customer-ip-address", "localhost")).is_err());
        assert!(check_headers(&given("x-idempotency-key", &"k".repeat(41))).is_err());
        assert!(check_headers(&given("x-fapi-auth-date", "Sun, 10 Sep 2017 19:43:31 GMT")).is_ok());
    }

    /// A signed answer that another key signed, or for another client, fails.
    #[test]
    fn a_signed_answer_is_verified() {
        let bank = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let other = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let claims =
            json!({"message": {"Data": {"Status": "Pending"}}, "aud": "someone-else", "exp": 100});
        let mut header = Map::new();
        header.insert("alg".into(), "ES256".into());
        let text = jwt::sign_compact(
            &header,
            &claims,
            other.encoding_key(),
            jsonwebtoken::Algorithm::ES256,
        )
        .unwrap();
        let jwks = vec![bank.public_jwks(None, SigningAlg::ES256)];
        let (answer, findings) = check_answer(&text, &jwks, "client-uae", 1000).unwrap();
        assert!(answer.failed());
        let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                "uae.signed_answer.invalid",
                "uae.signed_answer.expired",
                "uae.signed_answer.audience"
            ]
        );
        assert!(check_answer("{}", &jwks, "c", 0).is_none());
    }
}
