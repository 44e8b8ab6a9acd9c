//! Keys and signing helpers shared by the unit tests of `verify`, `checks` and `jwe`.

use std::sync::OnceLock;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};

use crate::jose::jwt::{b64url, sign_compact};

/// A generated key pair with its public forms.
pub(crate) struct TestKey {
    pub alg: &'static str,
    pub pkcs8: Vec<u8>,
    /// PKCS#1 DER of RSA keys (what aws-lc's RSA signer reads); empty otherwise.
    pub rsa_pkcs1: Vec<u8>,
    pub public_pem: String,
    pub cert_pem: String,
    pub jwk: Value,
}

impl TestKey {
    /// Signs raw JSON claims with this key; `kid` is put in the header when given.
    pub fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), json!(self.alg));
        if let Some(kid) = kid {
            header.insert("kid".into(), json!(kid));
        }
        self.sign_with_header(&header, claims)
    }

    /// Signs with a caller-built header (which must carry this key's `alg`).
    pub fn sign_with_header(&self, header: &Map<String, Value>, claims: &Value) -> String {
        if self.alg == "ES512" {
            use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair};
            let kp =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_FIXED_SIGNING, &self.pkcs8).unwrap();
            let input = format!(
                "{}.{}",
                b64url(serde_json::to_vec(header).unwrap()),
                b64url(serde_json::to_vec(claims).unwrap())
            );
            let sig = kp
                .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
                .unwrap();
            return format!("{input}.{}", b64url(sig.as_ref()));
        }
        let (key, alg) = match self.alg {
            "PS256" => (EncodingKey::from_rsa_der(&self.rsa_pkcs1), Algorithm::PS256),
            "ES256" => (EncodingKey::from_ec_der(&self.pkcs8), Algorithm::ES256),
            "ES384" => (EncodingKey::from_ec_der(&self.pkcs8), Algorithm::ES384),
            "EdDSA" => (EncodingKey::from_ed_der(&self.pkcs8), Algorithm::EdDSA),
            other => panic!("no test key for {other}"),
        };
        sign_compact(header, claims, &key, alg).unwrap()
    }

    /// Signs with the same RSA key under another RSA alg (RS*/PS*).
    pub fn sign_rsa_as(&self, alg: Algorithm, alg_name: &str, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), json!(alg_name));
        sign_compact(
            &header,
            claims,
            &EncodingKey::from_rsa_der(&self.rsa_pkcs1),
            alg,
        )
        .unwrap()
    }
}

fn make(rc_alg: &'static rcgen::SignatureAlgorithm, alg: &'static str, rsa: bool) -> TestKey {
    let kp = if rsa {
        rcgen::KeyPair::generate_rsa_for(rc_alg, rcgen::RsaKeySize::_2048).unwrap()
    } else {
        rcgen::KeyPair::generate_for(rc_alg).unwrap()
    };
    let cert = rcgen::CertificateParams::new(vec!["test.example".to_owned()])
        .unwrap()
        .self_signed(&kp)
        .unwrap();
    let public_pem = kp.public_key_pem();
    let raw = kp.public_key_raw().to_vec();
    let jwk = match alg {
        "PS256" => {
            // public_key_raw is the PKCS#1 RSAPublicKey: read n and e from it.
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let pk = rsa::PublicKey::from_pkcs1_der(&raw).unwrap();
            json!({"kty": "RSA", "n": b64url(pk.n_bytes()), "e": b64url(pk.e_bytes())})
        }
        "ES256" | "ES384" | "ES512" => {
            let crv = match alg {
                "ES256" => "P-256",
                "ES384" => "P-384",
                _ => "P-521",
            };
            let n = (raw.len() - 1) / 2;
            json!({"kty": "EC", "crv": crv, "x": b64url(&raw[1..1 + n]), "y": b64url(&raw[1 + n..])})
        }
        _ => json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(&raw)}),
    };
    let rsa_pkcs1 = if rsa {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        rsa::PrivateKey::from_pkcs8_der(&kp.serialize_der())
            .unwrap()
            .to_pkcs1_der()
            .unwrap()
            .as_bytes()
            .to_vec()
    } else {
        Vec::new()
    };
    TestKey {
        alg,
        rsa_pkcs1,
        pkcs8: kp.serialize_der(),
        public_pem,
        cert_pem: cert.pem(),
        jwk,
    }
}

/// A 2048-bit RSA key (PS256 and the other RS/PS algs), generated once.
pub(crate) fn rsa() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(&rcgen::PKCS_RSA_SHA256, "PS256", true))
}

/// A second RSA key, for "wrong key" cases.
pub(crate) fn rsa2() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(&rcgen::PKCS_RSA_SHA256, "PS256", true))
}

/// An EC P-256 key (ES256).
pub(crate) fn p256() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(&rcgen::PKCS_ECDSA_P256_SHA256, "ES256", false))
}

/// An EC P-384 key (ES384).
pub(crate) fn p384() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(&rcgen::PKCS_ECDSA_P384_SHA384, "ES384", false))
}

/// An EC P-521 key (ES512, signed with aws-lc-rs directly).
pub(crate) fn p521() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(&rcgen::PKCS_ECDSA_P521_SHA512, "ES512", false))
}

/// An Ed25519 key (EdDSA).
pub(crate) fn ed25519() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(&rcgen::PKCS_ED25519, "EdDSA", false))
}

/// Signs with HMAC.
pub(crate) fn sign_hs(alg: Algorithm, alg_name: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg_name));
    sign_compact(&header, claims, &EncodingKey::from_secret(secret), alg).unwrap()
}
