//! Three-layer answers, as PayNet's data providers send them through the hub
//! (`Content-Type: application/jose`): a JWS signed by the hub whose claim `data` is a
//! compact JWE (RSA-OAEP-256, A256GCM, `cty: JWT`) encrypted to the data consumer,
//! holding a JWT signed by the data provider whose claim `data` is the JSON. Each layer
//! is verified or opened in the guide's order (the signature first, then the
//! decryption) and judged on its own; a layer that fails is shown failed, never skipped,
//! and the JSON inside is then shown as unverified.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::{Finding, Severity};
use crate::jose::jwe::{self, JweKey};
use crate::jose::jwt::{self, DecodedJose, JoseKind, Payload};
use crate::jose::verify::{self, SignatureStatus};

/// Where the layers are described.
pub const SOURCE: &str = "PayNet OFP sandbox guide, developers-guide/09-accessing-account-data";
/// How far a layer's `iat`/`nbf`/`exp` may be off this machine's clock.
const LEEWAY_SECS: f64 = 60.0;

/// How a layer came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Verified (or decrypted) and its claims hold.
    Valid,
    /// Its signature, decryption or claims failed.
    Invalid,
    /// Not checked: no key was given for it.
    NotChecked,
}

/// One layer.
#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    /// What it is: `hub` (the hub's JWS), `encryption` (the JWE to the client),
    /// `provider` (the data provider's JWT).
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, when not valid.
    pub reason: Option<String>,
    /// The protected header.
    pub header: Map<String, Value>,
    /// The claims of a signed layer, the `data` of the outer one shortened (it is the
    /// next layer).
    pub claims: Option<Value>,
    /// The signature's outcome, for a signed layer.
    pub signature: Option<SignatureStatus>,
    /// Findings on this layer.
    pub findings: Vec<Finding>,
}

/// An answer opened layer by layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayeredAnswer {
    /// Outermost first.
    pub layers: Vec<Layer>,
    /// The JSON inside, when it could be reached (verified or not: see `verified`).
    pub data: Option<Value>,
    /// True only when every layer is valid.
    pub verified: bool,
}

impl LayeredAnswer {
    /// True when a layer failed (not merely unchecked): the answer cannot be trusted.
    pub fn failed(&self) -> bool {
        self.layers.iter().any(|l| l.verdict == Verdict::Invalid)
    }

    /// The first layer that is not valid, by name.
    pub fn first_failure(&self) -> Option<&Layer> {
        self.layers.iter().find(|l| l.verdict != Verdict::Valid)
    }
}

/// What the layers are checked with.
#[derive(Clone, Copy, Debug, Default)]
pub struct LayerKeys<'a> {
    /// JWK Sets that may hold the hub's and the provider's keys.
    pub jwks: &'a [Value],
    /// The client's decryption key.
    pub decrypt: Option<&'a JweKey>,
    /// The data consumer id the layers should be addressed to (`aud`), when known.
    pub audience: Option<&'a str>,
    /// Unix seconds.
    pub now: f64,
}

/// True when `text` is a JWS whose `data` claim is a JWE: a three-layer answer.
pub fn is_layered(text: &str) -> bool {
    outer_data(text).is_some()
}

fn outer_data(text: &str) -> Option<(DecodedJose, String)> {
    let text = text.trim();
    if !jwt::looks_like_jose(text) {
        return None;
    }
    let outer = jwt::decode(text).ok()?;
    let data = outer.unverified_claim("data")?.as_str()?.trim().to_owned();
    (outer.kind == JoseKind::Jws && data.split('.').count() == 5).then_some((outer, data))
}

/// Opens a three-layer answer; `None` when `text` is not one.
pub fn open(text: &str, keys: &LayerKeys<'_>) -> Option<LayeredAnswer> {
    let (outer, data) = outer_data(text)?;
    let mut layers = vec![signed_layer("hub", &outer, keys, true)];
    let jwe = match jwt::decode(&data) {
        Ok(jwe) => jwe,
        Err(e) => {
            layers.push(failed(
                "encryption",
                Map::new(),
                format!("the data claim is not a JWE: {e}"),
            ));
            return Some(finish(layers, None));
        }
    };
    let (encryption, plaintext) = encryption_layer(&jwe, keys);
    layers.push(encryption);
    let Some(plaintext) = plaintext else {
        layers.push(Layer {
            name: "provider",
            verdict: Verdict::NotChecked,
            reason: Some("inside the encrypted layer, which was not opened".into()),
            header: Map::new(),
            claims: None,
            signature: None,
            findings: Vec::new(),
        });
        return Some(finish(layers, None));
    };
    let inner = match jwt::decode(&plaintext) {
        Ok(inner) if inner.kind == JoseKind::Jws => inner,
        Ok(_) => {
            layers.push(failed(
                "provider",
                Map::new(),
                "the decrypted content is not a signed JWT".into(),
            ));
            return Some(finish(layers, None));
        }
        Err(e) => {
            layers.push(failed(
                "provider",
                Map::new(),
                format!("the decrypted content is not a JWT: {e}"),
            ));
            return Some(finish(layers, None));
        }
    };
    let data = inner.unverified_claim("data").cloned();
    let mut provider = signed_layer("provider", &inner, keys, false);
    if data.is_none() {
        provider.findings.push(Finding::new(
            Severity::Error,
            "layers.no_data",
            "the provider's JWT has no data claim: there is no answer inside",
            SOURCE,
        ));
        provider.verdict = Verdict::Invalid;
    }
    layers.push(provider);
    Some(finish(layers, data))
}

fn finish(layers: Vec<Layer>, data: Option<Value>) -> LayeredAnswer {
    let verified = data.is_some() && layers.iter().all(|l| l.verdict == Verdict::Valid);
    LayeredAnswer {
        layers,
        data,
        verified,
    }
}

fn failed(name: &'static str, header: Map<String, Value>, reason: String) -> Layer {
    Layer {
        name,
        verdict: Verdict::Invalid,
        reason: Some(reason),
        header,
        claims: None,
        signature: None,
        findings: Vec::new(),
    }
}

/// A signed layer: its signature against every JWK Set given, its claims' times and
/// audience.
fn signed_layer(
    name: &'static str,
    decoded: &DecodedJose,
    keys: &LayerKeys<'_>,
    outer: bool,
) -> Layer {
    let signature = verify_any(decoded, keys.jwks);
    let mut claims = decoded.unverified_claims().cloned().map(Value::Object);
    if outer && let Some(Value::Object(map)) = &mut claims {
        map.insert(
            "data".into(),
            Value::String("<the encrypted layer, below>".into()),
        );
    }
    let mut findings = claim_findings(name, decoded, keys);
    let alg = decoded.alg().unwrap_or_default();
    if matches!(alg, "none" | "HS256" | "HS384" | "HS512" | "RS256") {
        findings.push(Finding::new(
            Severity::Error,
            "layers.weak_alg",
            format!("the {name} layer is signed with {alg}, which FAPI does not allow (PS256, ES256, EdDSA)"),
            "FAPI 2.0 SP §5.4.1",
        ));
    }
    let errors = findings.iter().any(|f| f.severity == Severity::Error);
    let (verdict, reason) = match (&signature, errors) {
        (SignatureStatus::Invalid { reason }, _) => {
            (Verdict::Invalid, Some(format!("signature: {reason}")))
        }
        (_, true) => (
            Verdict::Invalid,
            Some("its claims do not hold (see the findings)".into()),
        ),
        (SignatureStatus::NotVerifiable { reason }, false) => {
            (Verdict::NotChecked, Some(reason.clone()))
        }
        (SignatureStatus::Valid { .. }, false) => (Verdict::Valid, None),
    };
    Layer {
        name,
        verdict,
        reason,
        header: decoded.header.clone(),
        claims,
        signature: Some(signature),
        findings,
    }
}

/// Valid with the first JWK Set that verifies (see [`verify::with_any_set`]).
fn verify_any(decoded: &DecodedJose, jwks: &[Value]) -> SignatureStatus {
    verify::with_any_set(jwks, |key| verify::verify(decoded, key))
}

fn claim_findings(name: &'static str, decoded: &DecodedJose, keys: &LayerKeys<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(claims) = decoded.unverified_claims() else {
        out.push(Finding::new(
            Severity::Error,
            "layers.no_claims",
            format!("the {name} layer has no JSON claims"),
            SOURCE,
        ));
        return out;
    };
    let number = |n: &str| claims.get(n).and_then(Value::as_f64);
    if let Some(exp) = number("exp")
        && exp + LEEWAY_SECS < keys.now
    {
        out.push(Finding::new(
            Severity::Error,
            "layers.expired",
            format!(
                "the {name} layer expired {:.0} s ago (exp {exp})",
                keys.now - exp
            ),
            "RFC 7519 §4.1.4",
        ));
    }
    for (claim, code) in [
        ("nbf", "layers.not_yet_valid"),
        ("iat", "layers.issued_in_the_future"),
    ] {
        if let Some(t) = number(claim)
            && t - LEEWAY_SECS > keys.now
        {
            out.push(Finding::new(
                Severity::Error,
                code,
                format!("the {name} layer's {claim} is {:.0} s in the future ({claim} {t}): a clock is off", t - keys.now),
                "RFC 7519 §4.1.5, §4.1.6",
            ));
        }
    }
    if claims
        .get("iss")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(Finding::new(
            Severity::Warning,
            "layers.no_iss",
            format!("the {name} layer names no issuer (iss)"),
            SOURCE,
        ));
    }
    if let Some(audience) = keys.audience.filter(|a| !a.is_empty()) {
        let aud = claims.get("aud");
        let addressed = match aud {
            Some(Value::String(a)) => a == audience,
            Some(Value::Array(list)) => list.iter().any(|a| a == audience),
            _ => true,
        };
        if !addressed {
            out.push(Finding::new(
                Severity::Error,
                "layers.wrong_audience",
                format!(
                    "the {name} layer is addressed to {} and not to this data consumer ({audience})",
                    aud.map(Value::to_string).unwrap_or_default()
                ),
                "RFC 7519 §4.1.3",
            ));
        }
    }
    out
}

/// The encryption layer: decrypted with the client's key, its algorithms judged; the
/// plaintext when it opened.
fn encryption_layer(jwe: &DecodedJose, keys: &LayerKeys<'_>) -> (Layer, Option<String>) {
    let mut layer = Layer {
        name: "encryption",
        verdict: Verdict::Valid,
        reason: None,
        header: jwe.header.clone(),
        claims: None,
        signature: None,
        findings: Vec::new(),
    };
    if jwe.kind != JoseKind::Jwe {
        layer.verdict = Verdict::Invalid;
        layer.reason = Some("the data claim is not a JWE (5 segments)".into());
        return (layer, None);
    }
    let header_str = |n: &str| {
        jwe.header
            .get(n)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (alg, enc, cty) = (header_str("alg"), header_str("enc"), header_str("cty"));
    if alg == "RSA-OAEP" {
        layer.findings.push(Finding::new(
            Severity::Warning,
            "layers.rsa_oaep",
            "the answer's key is wrapped with RSA-OAEP (SHA-1); the guide names RSA-OAEP-256",
            SOURCE,
        ));
    }
    if enc != "A256GCM" {
        layer.findings.push(Finding::new(
            Severity::Warning,
            "layers.enc",
            format!("the answer is encrypted with {enc:?}; the guide names A256GCM"),
            SOURCE,
        ));
    }
    if !cty.eq_ignore_ascii_case("JWT") {
        layer.findings.push(Finding::new(
            Severity::Warning,
            "layers.cty",
            format!("the JWE's cty is {cty:?}; a nested JWT says \"JWT\""),
            "RFC 7519 §5.2",
        ));
    }
    let Some(key) = keys.decrypt else {
        layer.verdict = Verdict::NotChecked;
        layer.reason = Some(
            "no decryption key: give --decrypt-key (the client's encryption key) or name it in the profile".into(),
        );
        return (layer, None);
    };
    match jwe::decrypt(jwe, key) {
        Ok(Payload::Text(text)) => (layer, Some(text)),
        Ok(_) => {
            layer.verdict = Verdict::Invalid;
            layer.reason = Some("the decrypted content is not a compact JWT".into());
            (layer, None)
        }
        Err(e) => {
            layer.verdict = Verdict::Invalid;
            let kid = jwe
                .kid()
                .map(|k| {
                    format!(" It was encrypted to the key with kid {k:?}: is that the key given?")
                })
                .unwrap_or_default();
            layer.reason = Some(format!("{e}.{kid}"));
            (layer, None)
        }
    }
}

/// Builds three-layer answers the way PayNet's hub does, for tests here and in the
/// sandbox's own tests.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jose::encrypt::{JweRecipient, encrypt};
    use crate::jose::jwe::KeyManagement;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use serde_json::json;

    struct Parties {
        hub: PrivateKey,
        provider: PrivateKey,
        client_pem: String,
        jwks: Vec<Value>,
    }

    fn parties() -> Parties {
        let hub = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let provider = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let k = crate::jose::verify::test_keys::rsa();
        let client_pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &k.pkcs8)
        );
        let jwks = vec![
            hub.public_jwks(Some("hub-1"), SigningAlg::ES256),
            provider.public_jwks(Some("dp-1"), SigningAlg::ES256),
        ];
        Parties {
            hub,
            provider,
            client_pem,
            jwks,
        }
    }

    fn sign(key: &PrivateKey, kid: &str, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), "ES256".into());
        header.insert("kid".into(), kid.into());
        jwt::sign_compact(
            &header,
            claims,
            key.encoding_key(),
            jsonwebtoken::Algorithm::ES256,
        )
        .unwrap()
    }

    fn answer(p: &Parties, to: &JweRecipient, now: f64, data: &Value) -> String {
        let inner = sign(
            &p.provider,
            "dp-1",
            &json!({"iss": "dp-bank", "aud": "dc-42", "iat": now, "exp": now + 300.0, "data": data}),
        );
        let mut cty = Map::new();
        cty.insert("cty".into(), "JWT".into());
        let jwe = encrypt(inner.as_bytes(), &cty, to, KeyManagement::RsaOaep256).unwrap();
        sign(
            &p.hub,
            "hub-1",
            &json!({"iss": "Paynet OFP", "aud": "dc-42", "iat": now, "nbf": now, "exp": now + 300.0, "jti": "j", "data": jwe}),
        )
    }

    /// Verified and opened in order; the innermost JSON comes out; each layer valid.
    #[test]
    fn three_layers_open_in_order() {
        let p = parties();
        let to = JweRecipient::from_private_pem(&p.client_pem, Some("enc-1")).unwrap();
        let now = 1_800_000_000.0;
        let balances = json!({"balances": [{"amount": "12.34"}]});
        let text = answer(&p, &to, now, &balances);
        assert!(is_layered(&text));
        let key = JweKey::RsaPrivatePem(p.client_pem.clone().into());
        let keys = LayerKeys {
            jwks: &p.jwks,
            decrypt: Some(&key),
            audience: Some("dc-42"),
            now,
        };
        let opened = open(&text, &keys).unwrap();
        assert!(opened.verified, "{opened:#?}");
        assert_eq!(opened.data, Some(balances));
        let names: Vec<&str> = opened.layers.iter().map(|l| l.name).collect();
        assert_eq!(names, ["hub", "encryption", "provider"]);
        assert_eq!(
            opened.layers[0].claims.as_ref().unwrap()["data"],
            "<the encrypted layer, below>"
        );
    }

    /// A tampered outer signature fails the hub layer; the JSON is still shown, unverified.
    /// Another client's key fails the encryption layer, naming the kid it was for. No
    /// key: not checked, and the provider layer says why it was not reached.
    #[test]
    fn a_layer_that_fails_is_shown_failed() {
        let p = parties();
        let to = JweRecipient::from_private_pem(&p.client_pem, Some("enc-1")).unwrap();
        let now = 1_800_000_000.0;
        let text = answer(&p, &to, now, &json!({"x": 1}));
        let key = JweKey::RsaPrivatePem(p.client_pem.clone().into());
        let keys = LayerKeys {
            jwks: &p.jwks,
            decrypt: Some(&key),
            audience: Some("dc-42"),
            now,
        };

        let (head, sig) = text.rsplit_once('.').unwrap();
        let rest = sig.get(1..).unwrap();
        let flipped = if sig.starts_with('A') {
            format!("B{rest}")
        } else {
            format!("A{rest}")
        };
        let tampered = open(&format!("{head}.{flipped}"), &keys).unwrap();
        assert!(!tampered.verified);
        assert_eq!(tampered.first_failure().unwrap().name, "hub");
        assert_eq!(tampered.data, Some(json!({"x": 1})), "shown, as unverified");

        let other = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let other_key = JweKey::RsaPrivatePem(other.to_pkcs8_pem().clone());
        let wrong = open(
            &text,
            &LayerKeys {
                decrypt: Some(&other_key),
                ..keys
            },
        )
        .unwrap();
        let failure = wrong.first_failure().unwrap();
        assert_eq!(failure.name, "encryption");
        assert!(
            failure.reason.as_deref().unwrap().contains("enc-1"),
            "{failure:?}"
        );
        assert_eq!(wrong.layers[2].verdict, Verdict::NotChecked);

        let late = open(
            &text,
            &LayerKeys {
                now: now + 3600.0,
                ..keys
            },
        )
        .unwrap();
        assert!(
            late.layers[0]
                .findings
                .iter()
                .any(|f| f.code == "layers.expired")
        );
        let elsewhere = open(
            &text,
            &LayerKeys {
                audience: Some("dc-other"),
                ..keys
            },
        )
        .unwrap();
        assert!(
            elsewhere.layers[0]
                .findings
                .iter()
                .any(|f| f.code == "layers.wrong_audience")
        );
        assert!(!elsewhere.verified);

        let unkeyed = open(
            &text,
            &LayerKeys {
                decrypt: None,
                ..keys
            },
        )
        .unwrap();
        assert_eq!(unkeyed.layers[1].verdict, Verdict::NotChecked);
        assert!(unkeyed.data.is_none() && !unkeyed.verified);
        assert!(!is_layered("eyJhbGciOiJub25lIn0.eyJ4IjoxfQ."));
    }
}
