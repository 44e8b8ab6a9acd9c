//! The hashes OAuth and OpenID Connect put into tokens and headers, each written once:
//! base64url of a SHA-256 ([`s256`]: PKCE's S256 challenge, DPoP's `ath`, a
//! certificate's `x5t#S256`, a JWK thumbprint), the left half of the hash an `alg`
//! implies ([`half_hash`]: `c_hash`, `at_hash`, `s_hash`), and a short fingerprint of
//! a secret ([`fingerprint`]) to compare values without keeping them.

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::jose::jwt::b64url;

/// base64url(SHA-256(bytes)), no padding (RFC 7636 §4.2, RFC 9449 §4.2, RFC 8705 §3.1,
/// RFC 7638 §3).
pub fn s256(bytes: impl AsRef<[u8]>) -> String {
    b64url(Sha256::digest(bytes.as_ref()))
}

/// The `ath` of an access token: base64url(SHA-256(ASCII(token))) (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    s256(access_token.as_bytes())
}

/// The `x5t#S256` of a certificate: base64url(SHA-256(DER)) (RFC 8705 §3.1).
pub fn x5t_s256(der: &[u8]) -> String {
    s256(der)
}

/// The left half of the hash the `alg` implies, base64url (OIDC Core §3.1.3.6 for
/// `at_hash`, §3.3.2.11 for `c_hash`; FAPI 1 Advanced §5.2.2.1 for `s_hash`). `None`
/// when the alg implies no hash (`none`, an unknown alg).
pub fn half_hash(alg: &str, value: &str) -> Option<String> {
    let digest: Vec<u8> = if alg == "EdDSA" || alg == "Ed25519" || alg.ends_with("512") {
        Sha512::digest(value.as_bytes()).to_vec()
    } else if alg.ends_with("384") {
        Sha384::digest(value.as_bytes()).to_vec()
    } else if alg.ends_with("256") {
        Sha256::digest(value.as_bytes()).to_vec()
    } else {
        return None;
    };
    let half = digest.get(..digest.len() / 2)?;
    Some(b64url(half))
}

/// A short, non-reversible fingerprint of a secret value (a code, a token) to compare
/// and show without keeping it: `sha256:` and the first 12 characters of its
/// base64url SHA-256.
pub fn fingerprint(value: &str) -> String {
    let text = s256(value.as_bytes());
    format!("sha256:{}", text.get(..12).unwrap_or(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_challenge() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn half_hash_follows_the_alg() {
        // OIDC Core's example: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        let at = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(
            half_hash("RS256", at).as_deref(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        );
        assert_eq!(half_hash("PS384", at).map(|h| h.len()), Some(32));
        assert_eq!(half_hash("EdDSA", at).map(|h| h.len()), Some(43));
        assert_eq!(half_hash("none", at), None);
    }

    #[test]
    fn fingerprints_are_short_and_stable() {
        let f = fingerprint("code-1");
        assert!(f.starts_with("sha256:"));
        assert_eq!(f.len(), "sha256:".len() + 12);
        assert_eq!(f, fingerprint("code-1"));
        assert_ne!(f, fingerprint("code-2"));
    }
}
