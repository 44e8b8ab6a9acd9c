//! DPoP proof rules (RFC 9449 §4.2, §4.3): `typ` `dpop+jwt`, a public `jwk` in the
//! header, `jti`, `htm`, `htu` without query or fragment, a recent `iat`, and `ath` (the
//! access token's hash) on resource calls.

use super::{CheckContext, Finding, Severity, seconds_claim, str_claim};
use crate::jose::jwt::DecodedJose;

/// The DPoP proof checks.
pub fn check(decoded: &DecodedJose, ctx: &CheckContext) -> Vec<Finding> {
    let mut out = Vec::new();
    let source = "RFC 9449 §4.2";
    if decoded.typ().map(str::to_ascii_lowercase).as_deref() != Some("dpop+jwt") {
        out.push(Finding::new(
            Severity::Error,
            "dpop.typ",
            "typ is not \"dpop+jwt\"; a server refuses the proof",
            source,
        ));
    }
    match decoded.header.get("jwk") {
        None => out.push(Finding::new(
            Severity::Error,
            "dpop.jwk_missing",
            "the header has no jwk: the proof must carry the public key it is signed with",
            source,
        )),
        Some(jwk) if jwk.get("d").is_some() || jwk.get("k").is_some() => out.push(Finding::new(
            Severity::Error,
            "dpop.jwk_private",
            "the header's jwk holds private key material: anyone who sees the proof can now sign as this client",
            source,
        )),
        Some(_) => {}
    }
    for name in ["jti", "htm", "htu"] {
        if str_claim(decoded, name).is_none() {
            out.push(Finding::new(
                Severity::Error,
                "dpop.claim_missing",
                format!("the proof has no {name} claim"),
                source,
            ));
        }
    }
    if let Some(htm) = str_claim(decoded, "htm")
        && htm != htm.to_ascii_uppercase()
    {
        out.push(Finding::new(
            Severity::Warning,
            "dpop.htm_case",
            format!("htm is {htm:?}: the HTTP method is compared as sent, in capitals"),
            "RFC 9110 §9.1; RFC 9449 §4.3",
        ));
    }
    if let Some(htu) = str_claim(decoded, "htu")
        && htu.contains(['?', '#'])
    {
        out.push(Finding::new(
            Severity::Error,
            "dpop.htu_query",
            format!("htu {htu:?} has a query or fragment; it must be the URL without them"),
            source,
        ));
    }
    match seconds_claim(decoded, "iat") {
        None => out.push(Finding::new(
            Severity::Error,
            "dpop.iat_missing",
            "the proof has no iat",
            source,
        )),
        Some(iat) if (iat - ctx.now).abs() > ctx.clock_skew.max(60.0) => out.push(Finding::new(
            Severity::Warning,
            "dpop.iat_window",
            format!(
                "iat is {:.0} s from now: servers accept proofs made within a short window only",
                iat - ctx.now
            ),
            "RFC 9449 §11.1",
        )),
        Some(_) => {}
    }
    match (str_claim(decoded, "ath"), ctx.access_token.as_deref()) {
        (Some(ath), Some(token)) if ath != crate::jose::hash::ath(token) => out.push(Finding::new(
            Severity::Error,
            "dpop.ath_mismatch",
            "ath is not the hash of the access token it goes with",
            "RFC 9449 §4.3",
        )),
        (None, Some(_)) => out.push(Finding::new(
            Severity::Error,
            "dpop.ath_missing",
            "a proof for a resource call must carry ath, the access token's hash",
            "RFC 9449 §4.2, §7",
        )),
        _ => {}
    }
    if decoded
        .unverified_claims()
        .is_some_and(|c| c.get("exp").is_some_and(|v| !v.is_null()))
    {
        out.push(Finding::new(
            Severity::Info,
            "dpop.exp",
            "the proof carries exp; servers judge proofs by iat and their own window",
            "RFC 9449 §4.2",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{TokenKind, check_jwt, guess_kind};
    use crate::jose::jwt::decode;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use crate::oauth::dpop::{DpopKey, proof};

    #[test]
    fn a_proof_is_recognised_and_checked() {
        let key = DpopKey {
            key: PrivateKey::generate(KeyType::EC_P256).unwrap(),
            alg: SigningAlg::ES256,
        };
        let p = proof(
            &key,
            "GET",
            "https://rs.example/accounts",
            None,
            Some("at-1"),
            1_800_000_000,
        )
        .unwrap();
        let decoded = decode(&p.jwt).unwrap();
        assert_eq!(guess_kind(&decoded), TokenKind::DpopProof);
        let ctx = CheckContext {
            now: 1_800_000_010.0,
            access_token: Some("at-1".into()),
            ..CheckContext::default()
        };
        let errors: Vec<_> = check_jwt(&decoded, TokenKind::DpopProof, &ctx, None)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let other = CheckContext {
            access_token: Some("another token".into()),
            now: 1_800_000_900.0,
            ..ctx
        };
        let codes: Vec<_> = check(&decoded, &other)
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert!(codes.contains(&"dpop.ath_mismatch"), "{codes:?}");
        assert!(codes.contains(&"dpop.iat_window"), "{codes:?}");
    }
}
