//! The front channel as a user drives it from the command line: `authorize --listen`
//! pushes the authorization (plain or as a signed request object), prints
//! `authorization_url:` on stderr, catches the bank's redirect on a loopback
//! redirect_uri, and exchanges the code. The test plays the browser: it opens the URL at
//! the embedded sandbox (which approves for its first demo user) and follows the redirect
//! to the listener.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use serde_json::Value;
use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
use token_inspector::oauth::loopback::free_port;
use token_inspector::sandbox::{SandboxConfig, SandboxHandle};

struct Bank {
    rt: tokio::runtime::Runtime,
    sandbox: SandboxHandle,
    dir: tempfile::TempDir,
}

fn bank(config: SandboxConfig, key: &PrivateKey, alg: SigningAlg) -> Bank {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt.block_on(crate::support::bank::embedded(
        config,
        "cli-client",
        key,
        alg,
    ));
    Bank {
        rt,
        sandbox,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// The browser: opens the authorization URL (the sandbox approves with
/// `auto_approve=true`) and follows the redirect to the loopback listener.
fn play_browser(rt: &tokio::runtime::Runtime, authorization_url: &str, ca_pem: Option<&str>) {
    rt.block_on(async {
        let location = crate::support::bank::approve(authorization_url, ca_pem).await;
        let browser = crate::support::bank::browser(ca_pem);
        let page = browser.get(&location).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.text().await.unwrap().contains("close this tab"));
    });
}

/// Runs `authorize --listen --json` and plays the browser once the URL is printed.
fn authorize_listen(bank: &Bank, key_file: &str, extra: &[&str]) -> (i32, Value, String) {
    let redirect_uri = format!("http://127.0.0.1:{}/callback", free_port().unwrap());
    let mut child = crate::support::cli::command(bank.dir.path())
        .args([
            "authorize",
            "--issuer",
            bank.sandbox.issuer(),
            "--client-id",
            "cli-client",
            "--key",
            key_file,
            "--redirect-uri",
            &redirect_uri,
            "--scope",
            "openid accounts",
            "--listen",
            "--listen-timeout",
            "60",
            "--json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .strip_prefix("authorization_url: ")
        .unwrap_or_else(|| panic!("the first stderr line is the URL: {first:?}"))
        .trim()
        .to_owned();
    play_browser(&bank.rt, &url, bank.sandbox.ca_pem().as_deref());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let value: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {stdout}\n{rest}"));
    (output.status.code().unwrap_or(-1), value, rest)
}

fn key_file(bank: &Bank, key: &PrivateKey) -> String {
    let path = bank.dir.path().join("client.pem");
    std::fs::write(&path, key.to_pkcs8_pem().expose()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn authorize_listen_exchanges_the_code_with_a_signed_request_object() {
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let bank = bank(SandboxConfig::default(), &key, SigningAlg::ES256);
    let file = key_file(&bank, &key);
    let (code, out, stderr) = authorize_listen(&bank, &file, &["--jar"]);
    assert_eq!(code, 0, "{out}\n{stderr}");
    assert_eq!(out["response"]["status"], 200, "{out}");
    let authorization = &out["authorization"];
    let object = &authorization["request_object"];
    assert_eq!(
        object["header"]["typ"], "oauth-authz-req+jwt",
        "{authorization}"
    );
    assert_eq!(object["claims"]["aud"], bank.sandbox.issuer());
    // No profile and no --authorization-details: no consent is invented, though the
    // server's discovery lists the Malaysia type (the sandbox grants its default).
    assert!(
        object["claims"].get("authorization_details").is_none(),
        "{object}"
    );
    assert_eq!(authorization["par"]["response"]["status"], 201);
    // The PAR form carried only client_id, request and client authentication.
    let names: Vec<&str> = authorization["par"]["request"]["form"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "client_id",
            "request",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    // The consent came back with the token.
    let body = &out["response"]["body"];
    assert!(body["authorization_details"][0]["consent"]["consent_id"].is_string());
    // No redirect findings of error severity (state and iss matched).
    let errors: Vec<&Value> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The consent asked for is the one given, as given.
    let asked = r#"[{"type":"urn:openfinance-ml:account-access-consent:v1.2","consent":{"permissions":["read_accounts"],"consent_purpose":"pfm"}}]"#;
    let (code, out, stderr) =
        authorize_listen(&bank, &file, &["--jar", "--authorization-details", asked]);
    assert_eq!(code, 0, "{out}\n{stderr}");
    let claims = &out["authorization"]["request_object"]["claims"];
    assert_eq!(
        claims["authorization_details"][0]["consent"]["permissions"],
        serde_json::json!(["read_accounts"])
    );
}

#[test]
fn authorize_listen_with_plain_par_parameters() {
    let key = PrivateKey::generate(KeyType::ED25519).unwrap();
    let bank = bank(SandboxConfig::default(), &key, SigningAlg::EdDSA);
    let file = key_file(&bank, &key);
    let (code, out, stderr) = authorize_listen(&bank, &file, &[]);
    assert_eq!(code, 0, "{out}\n{stderr}");
    assert_eq!(out["response"]["status"], 200);
    assert!(out["authorization"]["request_object"].is_null());
}

#[test]
fn a_redirect_uri_that_is_not_loopback_cannot_be_listened_on() {
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let bank = bank(SandboxConfig::default(), &key, SigningAlg::ES256);
    let file = key_file(&bank, &key);
    let out = crate::support::cli::command(bank.dir.path())
        .args([
            "authorize",
            "--issuer",
            bank.sandbox.issuer(),
            "--client-id",
            "cli-client",
            "--key",
            &file,
            "--redirect-uri",
            "https://client.example/cb",
            "--listen",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a loopback URL")
    );
}

/// A self-signed transport certificate and its key, as PayNet's sandbox accepts them.
fn transport_certificate(bank: &Bank) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["tpp.example".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_file = bank.dir.path().join("transport.pem");
    let key_file = bank.dir.path().join("transport-key.pem");
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (
        cert_file.to_str().unwrap().to_owned(),
        key_file.to_str().unwrap().to_owned(),
    )
}

/// The sandbox playing Open Finance Malaysia strictly (HTTPS, JAR required, mTLS on the
/// back channel): `authorize --listen` signs the request object because discovery says
/// so, presents the transport certificate on PAR and token, and gets a bound token;
/// without the certificate the back channel refuses.
#[test]
fn the_strict_malaysia_sandbox_with_mtls() {
    use token_inspector::sandbox::TlsOptions;
    let key = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
    let bank = bank(
        SandboxConfig {
            malaysia: true,
            tls: Some(TlsOptions::default()),
            ..SandboxConfig::default()
        },
        &key,
        SigningAlg::PS256,
    );
    let file = key_file(&bank, &key);
    let ca = bank.dir.path().join("ca.pem");
    std::fs::write(&ca, bank.sandbox.ca_pem().unwrap()).unwrap();
    let ca = ca.to_str().unwrap().to_owned();
    let (cert, cert_key) = transport_certificate(&bank);
    let (code, out, stderr) = authorize_listen(
        &bank,
        &file,
        &["--cacert", &ca, "--cert", &cert, "--cert-key", &cert_key],
    );
    assert_eq!(code, 0, "{out}\n{stderr}");
    assert_eq!(out["response"]["status"], 200, "{out}");
    assert_eq!(
        out["authorization"]["request_object"]["header"]["typ"], "oauth-authz-req+jwt",
        "discovery's require_signed_request_object turned JAR on"
    );

    // Without the transport certificate, PAR is refused on the back channel.
    let out = crate::support::cli::command(bank.dir.path())
        .args([
            "authorize",
            "--issuer",
            bank.sandbox.issuer(),
            "--client-id",
            "cli-client",
            "--key",
            &file,
            "--redirect-uri",
            "http://127.0.0.1:1/cb",
            "--cacert",
            &ca,
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("mTLS") || message.contains("certificate"),
        "{message}"
    );
}

/// DPoP against a server that requires nonces (RFC 9449 §8): a client-credentials
/// exchange answers the nonce request once with a fresh proof and assertion and gets a
/// DPoP-bound token; `authorize --listen --dpop --call` binds the code, the token and the
/// API call (a proof with `ath`) to the key.
#[test]
fn dpop_with_required_nonces_from_the_token_to_the_api_call() {
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let bank = bank(
        SandboxConfig {
            dpop_nonce: true,
            ..SandboxConfig::default()
        },
        &key,
        SigningAlg::ES256,
    );
    let file = key_file(&bank, &key);
    let out = crate::support::cli::command(bank.dir.path())
        .args([
            "exchange",
            "--grant",
            "client_credentials",
            "--issuer",
            bank.sandbox.issuer(),
            "--client-id",
            "cli-client",
            "--key",
            &file,
            "--scope",
            "accounts",
            "--dpop",
            "--json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["response"]["body"]["token_type"], "DPoP", "{v}");
    // The first attempt was refused for the nonce; both are in the record.
    assert_eq!(v["first_attempt"]["response"]["status"], 400, "{v}");
    assert_eq!(
        v["first_attempt"]["response"]["body"]["error"],
        "use_dpop_nonce"
    );
    assert!(v["dpop_proof"]["claims"]["nonce"].is_string());
    let errors: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    let accounts = format!("{}/accounts", bank.sandbox.issuer());
    let (code, out, stderr) = authorize_listen(&bank, &file, &["--dpop", "--call", &accounts]);
    assert_eq!(code, 0, "{out}\n{stderr}");
    assert_eq!(out["response"]["body"]["token_type"], "DPoP");
    let call = &out["call"];
    assert_eq!(call["response"]["status"], 200, "{call}");
    assert!(
        call["response"]["body"]["data"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(call["dpop_proof"]["claims"]["ath"].is_string(), "{call}");
    let auth_header = call["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "Authorization")
        .unwrap();
    assert_eq!(auth_header["redacted"], true);

    // The history keeps what a diagnosis needs, not the answer's personal data, not a
    // whole DPoP proof or request object.
    let history =
        std::fs::read_to_string(bank.dir.path().join("data/history/command_line.jsonl")).unwrap();
    let proof = call["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "DPoP")
        .and_then(|h| h["value"].as_str())
        .unwrap();
    assert!(proof.starts_with("eyJ") && !history.contains(proof));
    assert!(
        !history.contains("\"request\",\"value\":\"eyJ"),
        "{history}"
    );
    let account = &call["response"]["body"]["data"][0];
    for value in account.as_object().unwrap().values() {
        if let Some(text) = value.as_str().filter(|t| t.len() > 3) {
            assert!(!history.contains(text), "{text:?} kept: {history}");
        }
    }
    let kept: Vec<Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kept_call = kept.iter().find(|e| e["kind"] == "resource").unwrap();
    assert_eq!(kept_call["response"]["status"], 200);
    assert!(
        kept_call["response"]["body"]["shape"]["data"].is_object(),
        "{kept_call}"
    );
    assert!(kept_call["request"]["dpop_proof"]["claims"]["ath"].is_string());
}

/// `introspect` and `revoke` with DPoP at a server that requires nonces: the nonce
/// request is answered, introspection shows the token bound to our DPoP key
/// (`cnf.jkt`), and a revoked token is inactive.
#[test]
fn introspect_and_revoke_with_dpop_nonces() {
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let bank = bank(
        SandboxConfig {
            dpop_nonce: true,
            ..SandboxConfig::default()
        },
        &key,
        SigningAlg::ES256,
    );
    let file = key_file(&bank, &key);
    let dpop_file = bank.dir.path().join("dpop.pem");
    let dpop_key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    std::fs::write(&dpop_file, dpop_key.to_pkcs8_pem().expose()).unwrap();
    let dpop_file = dpop_file.to_str().unwrap().to_owned();
    let run = |args: &[&str], token: &str| -> (i32, Value) {
        let out = crate::support::cli::command(bank.dir.path())
            .args(args)
            .args([
                "--issuer",
                bank.sandbox.issuer(),
                "--client-id",
                "cli-client",
                "--key",
                &file,
                "--dpop-key",
                &dpop_file,
                "--json",
            ])
            .env("TOKEN_INSPECTOR_TOKEN", token)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), v)
    };
    let (code, v) = run(
        &[
            "exchange",
            "--grant",
            "client_credentials",
            "--scope",
            "accounts",
        ],
        "",
    );
    assert_eq!(code, 0, "{v}");
    let token = v["response"]["body"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (code, v) = run(&["introspect"], &token);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["first_attempt"]["response"]["body"]["error"],
        "use_dpop_nonce"
    );
    assert_eq!(v["response"]["body"]["active"], true);
    assert_eq!(v["response"]["body"]["token_type"], "DPoP");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"binding.jkt_match"), "{codes:?}");

    let (code, v) = run(&["revoke"], &token);
    assert_eq!(code, 0, "{v}");
    let (_, v) = run(&["introspect"], &token);
    assert_eq!(v["response"]["body"]["active"], false, "{v}");
}

/// A bank whose client registered a signing key and an RSA encryption key (`use: enc`),
/// as a PayNet data consumer does; `config` plays the failures.
fn paynet_bank(config: SandboxConfig, key: &PrivateKey, enc: &PrivateKey) -> Bank {
    let mut sig = key.public_jwk(Some(&key.thumbprint()), SigningAlg::ES256);
    sig["use"] = "sig".into();
    let mut enc_jwk = enc.public_jwk(Some("enc-1"), SigningAlg::PS256);
    enc_jwk["use"] = "enc".into();
    enc_jwk.as_object_mut().unwrap().remove("alg");
    let mut config = config;
    config
        .clients
        .push(token_inspector::sandbox::ClientRegistration {
            client_id: "cli-client".into(),
            jwks: serde_json::json!({"keys": [sig, enc_jwk]}),
            redirect_uris: Vec::new(),
        });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt
        .block_on(token_inspector::sandbox::Sandbox::start(config))
        .unwrap();
    Bank {
        rt,
        sandbox,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// The sandbox's data provider id.
const DP: &str = "DP9876543210";

/// A consent's token, then `call --x-signature` against the sandbox's PayNet data API.
fn paynet_call(bank: &Bank, enc: &PrivateKey, format: &str, dp_id: &str) -> (i32, Value) {
    let key_path = bank.dir.path().join("client.pem");
    let (code, out, stderr) = authorize_listen(bank, key_path.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{out}\n{stderr}");
    let token = out["response"]["body"]["access_token"].as_str().unwrap();
    let account =
        out["response"]["body"]["authorization_details"][0]["consent"]["accounts"][0]["account_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let enc_path = bank.dir.path().join("enc.pem");
    std::fs::write(&enc_path, enc.to_pkcs8_pem().expose()).unwrap();
    let issuer = bank.sandbox.issuer();
    let output = crate::support::cli::command(bank.dir.path())
        .args([
            "call",
            &format!("{issuer}/v1/accounts/{account}/balances"),
            "--token",
            token,
            "--key",
            key_path.to_str().unwrap(),
            "--alg",
            "ES256",
            "--x-signature",
            format,
            "--dc-id",
            "cli-client",
            "--dp-id",
            dp_id,
            "--decrypt-key",
            enc_path.to_str().unwrap(),
            "--response-jwks",
            &format!("{issuer}/jwks"),
            "--json",
        ])
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), value)
}

/// PayNet's data call from the command line: the x-signature in either format is
/// accepted, the three layers are verified and opened and the balances come out; a
/// wrong dp_id is refused naming the claim; a tampered hub signature exits 1 naming the
/// layer, with the data shown unverified; an answer for another key names the kid.
#[test]
fn paynet_data_calls_are_signed_and_their_layers_opened() {
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let enc = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
    let bank = paynet_bank(SandboxConfig::default(), &key, &enc);
    key_file(&bank, &key);
    for format in ["compact", "detached"] {
        let (code, out) = paynet_call(&bank, &enc, format, DP);
        assert_eq!(code, 0, "{format}: {out}");
        let response = &out["response"];
        assert_eq!(response["body_kind"], "layered", "{out}");
        assert_eq!(response["verified"], true, "{out}");
        assert!(
            response["body"]["data"]["balance"]["amount"].is_string(),
            "{out}"
        );
        let layers: Vec<&str> = response["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(layers, ["valid", "valid", "valid"], "{out}");
        let header = out["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "x-signature")
            .unwrap();
        assert_eq!(
            header["value"].as_str().unwrap().contains(".."),
            format == "detached"
        );
        assert!(
            out["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "x_signature.format")
        );
    }
    let (code, out) = paynet_call(&bank, &enc, "compact", "DP-OTHER");
    assert_eq!(code, 1, "{out}");
    let refusal = out["response"]["body"]["error_description"]
        .as_str()
        .unwrap();
    assert!(refusal.contains("aud"), "{refusal}");

    let stale = paynet_bank(
        SandboxConfig {
            failures: token_inspector::sandbox::Failures {
                stale_x_signature: true,
                ..Default::default()
            },
            ..SandboxConfig::default()
        },
        &key,
        &enc,
    );
    key_file(&stale, &key);
    for format in ["compact", "detached"] {
        let (code, out) = paynet_call(&stale, &enc, format, DP);
        assert_eq!(code, 1, "{out}");
        let refusal = out["response"]["body"]["error_description"]
            .as_str()
            .unwrap();
        assert!(refusal.contains("stale"), "{format}: {refusal}");
    }

    let tampered = paynet_bank(
        SandboxConfig {
            failures: token_inspector::sandbox::Failures {
                tamper_layer: true,
                ..Default::default()
            },
            ..SandboxConfig::default()
        },
        &key,
        &enc,
    );
    key_file(&tampered, &key);
    let (code, out) = paynet_call(&tampered, &enc, "compact", DP);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["response"]["verified"], false);
    assert_eq!(out["response"]["layers"][0]["verdict"], "invalid");
    assert!(
        out["response"]["body"]["data"]["balance"].is_object(),
        "shown, unverified"
    );
    let finding = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "layers.invalid")
        .unwrap();
    assert!(
        finding["message"].as_str().unwrap().contains("hub"),
        "{finding}"
    );

    let other = paynet_bank(
        SandboxConfig {
            failures: token_inspector::sandbox::Failures {
                other_encryption_key: true,
                ..Default::default()
            },
            ..SandboxConfig::default()
        },
        &key,
        &enc,
    );
    key_file(&other, &key);
    let (code, out) = paynet_call(&other, &enc, "compact", DP);
    assert_eq!(code, 1, "{out}");
    let layer = &out["response"]["layers"][1];
    assert_eq!(layer["verdict"], "invalid", "{out}");
    assert!(layer["reason"].as_str().unwrap().contains("kid"), "{layer}");
}
