//! The front channels of FAPI 1 Advanced against the sandbox, from the command line: the
//! hybrid flow (`code id_token` in the fragment; the id_token's signature, c_hash and
//! s_hash checked before the code is redeemed), JARM (`response_mode=jwt`: the response
//! JWT verified and read), Brazil's encrypted id_token (opened with --decrypt-key), and
//! each broken on request: the code is then not sent.

use serde_json::Value;

use crate::support::bank::MockServer;
use crate::support::cli::{code_and_json, keypair, run_in};

fn exchange(
    dir: &std::path::Path,
    bank: &MockServer,
    key: &std::path::Path,
    extra: &[&str],
) -> (i32, Value) {
    let callback = format!("{}/callback", bank.issuer);
    let mut args = vec![
        "exchange",
        "--issuer",
        &bank.issuer,
        "--client-id",
        "uk-tpp",
        "--key",
        key.to_str().unwrap(),
        "--alg",
        "PS256",
        "--redirect-uri",
        &callback,
        "--scope",
        "openid accounts",
        "--auto-approve",
        "--json",
    ];
    args.extend_from_slice(extra);
    code_and_json(&run_in(dir, &args))
}

fn errors(out: &Value, part: &str) -> Vec<String> {
    out["authorization"]["front_channel"][part]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn bank(dir: &std::path::Path, jwks: &std::path::Path, extra: &[&str]) -> MockServer {
    let _ = dir;
    let client = format!("uk-tpp={}", jwks.display());
    let mut args = vec!["--client", client.as_str()];
    args.extend_from_slice(extra);
    MockServer::start(&args)
}

#[test]
fn the_hybrid_flow_and_jarm_are_checked_before_the_code_is_redeemed() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client", "rsa2048");
    let good = bank(dir.path(), &jwks, &[]);
    for (what, flags) in [
        ("hybrid", vec!["--response-type", "code id_token"]),
        ("jarm", vec!["--response-mode", "jwt"]),
        (
            "hybrid with jarm",
            vec!["--response-type", "code id_token", "--response-mode", "jwt"],
        ),
    ] {
        let (code, out) = exchange(dir.path(), &good, &key, &flags);
        assert_eq!(code, 0, "{what}: {out:#}");
        assert_eq!(out["response"]["status"], 200, "{what}");
        let front = &out["authorization"]["front_channel"];
        for part in ["id_token", "jarm"] {
            if front.get(part).is_some() {
                assert_eq!(
                    front[part]["signature"]["status"], "valid",
                    "{what} {part}: {front:#}"
                );
                assert!(errors(&out, part).is_empty(), "{what} {part}: {front:#}");
            }
        }
        assert_eq!(front.get("jarm").is_some(), what.contains("jarm"), "{what}");
        assert_eq!(
            front.get("id_token").is_some(),
            what.contains("hybrid"),
            "{what}"
        );
    }
    drop(good);

    for (failure, flags, blocker) in [
        (
            "wrong-c-hash",
            vec!["--response-type", "code id_token"],
            "id_token.c_hash_mismatch",
        ),
        (
            "wrong-s-hash",
            vec!["--response-type", "code id_token"],
            "id_token.s_hash_mismatch",
        ),
        (
            "id-token-other-audience",
            vec!["--response-type", "code id_token"],
            "id_token.aud_mismatch",
        ),
        (
            "jarm-other-key",
            vec!["--response-mode", "jwt"],
            "front_channel.jarm_signature",
        ),
    ] {
        let broken = bank(dir.path(), &jwks, &["--fail", failure]);
        let (code, out) = exchange(dir.path(), &broken, &key, &flags);
        assert_eq!(code, 2, "{failure}: {out:#}");
        assert_eq!(out["error"]["kind"], "redirect", "{failure}");
        let part = if failure.starts_with("jarm") {
            "jarm"
        } else {
            "id_token"
        };
        assert!(
            errors(&out, part).iter().any(|c| c == blocker),
            "{failure}: {out:#}"
        );
        // --force-redeem sends the code anyway (to test the bank's own checks).
        let mut forced = flags.clone();
        forced.push("--force-redeem");
        let (code, out) = exchange(dir.path(), &broken, &key, &forced);
        assert_eq!(out["response"]["status"], 200, "{failure} forced: {out:#}");
        assert_eq!(code, 0, "{failure} forced");
    }
}

/// Open Finance Brasil: the front-channel id_token comes encrypted to the client's
/// use:enc key; --decrypt-key opens it and it is then checked like any; without the key
/// the code is not redeemed, and says why.
#[test]
fn brazils_encrypted_id_token_is_opened_then_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (key, sig_jwks) = keypair(dir.path(), "client", "rsa2048");
    let (enc, enc_jwks) = keypair(dir.path(), "enc", "rsa2048");
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let mut sig = read(&sig_jwks)["keys"][0].clone();
    sig["use"] = "sig".into();
    let mut enc_key = read(&enc_jwks)["keys"][0].clone();
    enc_key["use"] = "enc".into();
    enc_key.as_object_mut().unwrap().remove("alg");
    let both = dir.path().join("both.jwks.json");
    std::fs::write(
        &both,
        serde_json::json!({"keys": [sig, enc_key]}).to_string(),
    )
    .unwrap();
    let brazil = bank(dir.path(), &both, &["--encrypt-id-tokens"]);
    let hybrid = ["--response-type", "code id_token"];
    let mut with_key = hybrid.to_vec();
    with_key.extend(["--decrypt-key", enc.to_str().unwrap()]);
    let (code, out) = exchange(dir.path(), &brazil, &key, &with_key);
    assert_eq!(code, 0, "{out:#}");
    let token = &out["authorization"]["front_channel"]["id_token"];
    assert_eq!(token["encryption"]["alg"], "RSA-OAEP", "{token:#}");
    assert_eq!(token["signature"]["status"], "valid", "{token:#}");
    assert!(token["claims"]["c_hash"].is_string(), "{token:#}");

    let (code, out) = exchange(dir.path(), &brazil, &key, &hybrid);
    assert_eq!(code, 2, "{out:#}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.contains("decryption key"), "{message}");
}

/// A JARM error response (the user denies): the error inside the verified JWT is read and
/// diagnosed like any redirect error; no code, no token request.
#[test]
fn a_jarm_error_is_read_and_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client", "rsa2048");
    let denying = bank(dir.path(), &jwks, &["--fail", "deny"]);
    let (code, out) = exchange(dir.path(), &denying, &key, &["--response-mode", "jwt"]);
    assert_eq!(code, 1, "{out:#}");
    assert_eq!(out["error"]["kind"], "authorization", "{out:#}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("access_denied"),
        "{out:#}"
    );
    assert_eq!(
        out["authorization"]["front_channel"]["jarm"]["signature"]["status"], "valid",
        "{out:#}"
    );
    assert!(
        out["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "redirect.error"),
        "{out:#}"
    );
}
