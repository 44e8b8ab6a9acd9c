//! The command line under attack (issue 20): shared profiles, redirects, discovery, TLS off, secrets in arguments, key files, absurd numbers, credential headers.

use super::*;

#[test]
fn redirect_url_is_read_and_checked() {
    let env = Cli::new();
    let key = env.key_file();
    let mut args = seed_args(&key, "https://as1.sandbox.mya.ozoneapi.io/token");
    // Replace --code with a pasted redirect URL whose iss is wrong.
    let pos = args.iter().position(|a| *a == "--code").unwrap();
    args.drain(pos..pos + 2);
    let url = "https://www.auth-app.ozoneapi.co.uk/redirect-url?code=abc&state=s1&iss=https%3A%2F%2Fevil.example";
    args.extend([
        "--redirect-url",
        url,
        "--state",
        "s1",
        "--dry-run",
        "--json",
    ]);
    // A code whose iss is not the issuer is never redeemed (a mix-up attack), not even
    // built into a request: exit 2 with the finding.
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let refused = crate::support::cli::json(&out);
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("evil.example"), "{message}");
    assert!(message.contains("--force-redeem"), "{message}");
    // To test a bank's own checks, --force-redeem builds (and would send) it anyway.
    args.push("--force-redeem");
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = crate::support::cli::json(&out);
    let form = v["request"]["form"].as_array().unwrap();
    // The code is a credential: redacted in JSON, sent as read from the URL (curl).
    assert!(
        form.iter()
            .any(|p| p["name"] == "code" && p["redacted"] == true && p["value"].is_null())
    );
    let curl_args: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--dry-run" && *a != "--json")
        .chain(["--curl"])
        .collect();
    let curl = env.run(&curl_args);
    assert!(
        String::from_utf8_lossy(&curl.stdout).contains("code=abc"),
        "{curl:?}"
    );
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"redirect.iss_mismatch"), "{codes:?}");
}

/// A shared profile cannot borrow another profile's keys: on import its references to
/// other profiles' keychain entries are dropped (said on stderr) and an hour-long
/// assertion lifetime is lowered; an existing profile is replaced only with --force; a
/// profile file that still names another profile's entry, or asks for long-lived
/// assertions, is refused before the keychain is touched (--lifetime insists for a run).
#[test]
fn a_shared_profile_cannot_borrow_another_profiles_keys() {
    let env = Cli::new();
    let hostile = env.path("shared.toml");
    std::fs::write(
        &hostile,
        r#"name = "bank"
issuer = "https://bank.example"
client_id = "c1"
encryption_key = "profile/prod/enc-key"

[endpoints]
token = "https://attacker.example/token"

[auth]
key = "profile/prod/signing-key"
client_secret = "profile/prod/client-secret"
lifetime_secs = 3600

[tls]
client_key = "profile/prod/mtls-key"
insecure_skip_verify = true
"#,
    )
    .unwrap();
    let out = env.run(&["profile", "import", hostile.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for field in [
        "auth.key",
        "auth.client_secret",
        "tls.client_key",
        "encryption_key",
    ] {
        assert!(err.contains(&format!("dropped {field}")), "{field}: {err}");
    }
    assert!(err.contains("lowered to 300"), "{err}");
    assert!(err.contains("verification OFF"), "{err}");
    let shown = String::from_utf8_lossy(&env.run(&["profile", "show", "bank"]).stdout).into_owned();
    assert!(!shown.contains("profile/prod"), "{shown}");
    assert!(shown.contains("lifetime_secs = 300"), "{shown}");

    // Named like an existing profile: not replaced without --force.
    let out = env.run(&["profile", "import", hostile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = env.run(&["profile", "import", "--force", hostile.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");

    // A file put in the profiles folder by hand is checked when used.
    let profiles = env.path("profiles");
    std::fs::copy(&hostile, profiles.join("bank.toml")).unwrap();
    let out = env.run(&[
        "exchange",
        "--profile",
        "bank",
        "--grant",
        "client_credentials",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not this profile's own keychain entry"),
        "{err}"
    );
    assert!(err.contains("profile/prod/signing-key"), "{err}");

    // Its own entries, but hour-long assertions: refused unless asked for this run.
    let own: String = std::fs::read_to_string(&hostile)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("profile/prod/") && !l.contains("insecure"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(profiles.join("bank.toml"), own).unwrap();
    let key = env.key_file();
    let base = [
        "exchange",
        "--profile",
        "bank",
        "--grant",
        "client_credentials",
        "--key",
        key.to_str().unwrap(),
        "--dry-run",
        "--json",
    ];
    let out = env.run(&base);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("--lifetime 3600"));
    let mut insist = base.to_vec();
    insist.extend(["--lifetime", "3600"]);
    let out = env.run(&insist);
    assert!(out.status.success(), "{out:?}");
}

/// A discovery document that names another issuer is not used (exit 3, both values
/// shown); one whose endpoints are not https is taken without them (a finding each).
#[test]
fn discovery_is_not_trusted_blindly() {
    let env = Cli::new();
    let url = fixed_server(
        "200 OK",
        r#"{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}"#,
    );
    let issuer = url.trim_end_matches("/token").to_owned();
    let out = env.run(&["discover", &issuer, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let message = crate::support::cli::json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("https://evil.example"), "{message}");
    assert!(message.contains(&issuer), "{message}");
    // Used by exchange: the same refusal, before anything is signed or sent.
    let key = env.key_file();
    let out = env.run(&[
        "exchange",
        "--issuer",
        &issuer,
        "--client-id",
        "c",
        "--key",
        key.to_str().unwrap(),
        "--grant",
        "client_credentials",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let served = format!("http://{}", listener.local_addr().unwrap());
    let body = format!(
        r#"{{"issuer":"{served}","token_endpoint":"{served}/token","authorization_endpoint":"smb://evil.example/share","jwks_uri":"http://169.254.169.254/keys"}}"#
    );
    fixed_server_on(listener, "200 OK", body);
    let out = env.run(&["discover", &served, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = crate::support::cli::json(&out);
    assert!(v["endpoints"]["authorization"].is_null(), "{v}");
    assert!(v["endpoints"]["jwks"].is_null(), "{v}");
    assert_eq!(v["endpoints"]["token"], format!("{served}/token"));
    let refused = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "discovery.endpoint_refused")
        .count();
    assert_eq!(refused, 2, "{v}");
}

/// Turning TLS verification off is loud in every command that connects, not only in
/// exchange.
#[test]
fn insecure_is_loud_everywhere() {
    let env = Cli::new();
    let port = refused_port();
    let issuer = format!("https://127.0.0.1:{port}");
    let api = format!("{issuer}/accounts");
    let endpoint = format!("{issuer}/token");
    for args in [
        vec!["discover", issuer.as_str(), "--insecure"],
        vec!["call", api.as_str(), "--token", "t", "--insecure"],
        vec![
            "introspect",
            "--token",
            "t",
            "--token-endpoint",
            endpoint.as_str(),
            "--insecure",
        ],
        vec![
            "authorize",
            "--issuer",
            issuer.as_str(),
            "--client-id",
            "c",
            "--insecure",
        ],
    ] {
        let out = env.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("WARNING: TLS certificate verification is OFF"),
            "{args:?}: {err}"
        );
    }
}

/// The code, the verifier and the redirect URL need not be on the command line (where
/// ps and the shell's history see them): each also comes from its environment
/// variable, from @FILE or from standard input, and gives the same request.
#[test]
fn credentials_come_from_the_environment_a_file_or_stdin() {
    let env = Cli::new();
    let key = env.key_file();
    let endpoint = "https://as1.sandbox.mya.ozoneapi.io/token";
    let base: Vec<&str> = seed_args(&key, endpoint)
        .into_iter()
        .filter(|a| *a != "--numeric-date" && *a != "milliseconds")
        .collect();
    let without = |names: &[&str]| -> Vec<String> {
        let mut out = Vec::new();
        let mut skip = false;
        for a in &base {
            if skip {
                skip = false;
                continue;
            }
            if names.contains(a) {
                skip = true;
                continue;
            }
            out.push((*a).to_owned());
        }
        out.extend(["--curl".to_owned()]);
        out
    };
    let literal = env.run(&base.iter().copied().chain(["--curl"]).collect::<Vec<_>>());
    assert!(literal.status.success(), "{literal:?}");
    let body_of = |out: &std::process::Output| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains(VERIFIER), "{text}");
        assert!(
            text.contains("160ed384-bb0d-439e-85e8-68d2b681e45d"),
            "{text}"
        );
    };
    body_of(&literal);

    // The environment.
    let args = without(&["--code", "--code-verifier"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = crate::support::cli::run_with(
        env.dir.path(),
        &refs,
        None,
        &[
            (
                "TOKEN_INSPECTOR_CODE",
                "160ed384-bb0d-439e-85e8-68d2b681e45d",
            ),
            ("TOKEN_INSPECTOR_CODE_VERIFIER", VERIFIER),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(VERIFIER) && run.stdout.contains("160ed384"));

    // A file and standard input.
    std::fs::write(env.path("verifier.txt"), format!("{VERIFIER}\n")).unwrap();
    let verifier_file = format!("@{}", env.path("verifier.txt").display());
    let mut args = without(&["--code", "--code-verifier"]);
    args.extend([
        "--code-verifier".to_owned(),
        verifier_file,
        "--redirect-url".to_owned(),
        "-".to_owned(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = crate::support::cli::run_with(
        env.dir.path(),
        &refs,
        Some(
            "https://www.auth-app.ozoneapi.co.uk/redirect-url?code=160ed384-bb0d-439e-85e8-68d2b681e45d&state=s\n",
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(VERIFIER) && run.stdout.contains("160ed384"));

    // Only one value can come from standard input.
    let mut args = without(&["--code", "--code-verifier"]);
    args.extend(["--code-verifier", "-", "--redirect-url", "-"].map(str::to_owned));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = crate::support::cli::run_with(env.dir.path(), &refs, Some("x"), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("standard input is already read"),
        "{}",
        run.stderr
    );
}

/// `authorize` without --listen prints the next command with the verifier in the
/// environment and the redirect on standard input, not on the command line.
#[test]
fn authorize_prints_a_next_command_without_secrets_in_it() {
    let env = Cli::new();
    let (key, jwks) = crate::support::cli::keypair(env.dir.path(), "client", "p256");
    let client = format!("tpp={}", jwks.display());
    let bank = crate::support::bank::MockServer::start(&["--client", &client]);
    let redirect = format!("{}/callback", bank.issuer);
    let out = env.run(&[
        "authorize",
        "--issuer",
        &bank.issuer,
        "--client-id",
        "tpp",
        "--key",
        key.to_str().unwrap(),
        "--alg",
        "ES256",
        "--redirect-uri",
        &redirect,
        "--scope",
        "accounts",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("export TOKEN_INSPECTOR_CODE_VERIFIER="),
        "{text}"
    );
    assert!(text.contains("--redirect-url -"), "{text}");
    assert!(!text.contains("--code-verifier"), "{text}");
}

/// `keygen --out` over an existing world-readable file leaves a 0600 file (not the old
/// mode), and a symlink is refused, not followed.
#[cfg(unix)]
#[test]
fn keygen_writes_private_keys_owner_only_and_follows_no_symlink() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Cli::new();
    let path = env.path("key.pem");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(&["keygen", "--type", "p256", "--out", path.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("PRIVATE KEY")
    );

    let target = env.path("elsewhere.txt");
    std::fs::write(&target, "keep me").unwrap();
    let link = env.path("link.pem");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = env.run(&["keygen", "--type", "p256", "--out", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}

/// Values read from a file or a flag never overflow into a crash (release builds abort
/// on panic): a history line with an absurd elapsed time is shown and bundled, and an
/// absurd --clock-offset is an input error.
#[test]
fn absurd_numbers_from_files_and_flags_do_not_crash() {
    let env = Cli::new();
    let url = fixed_server("400 Bad Request", r#"{"error":"invalid_client"}"#);
    let key = env.key_file();
    let out = env.run(&[
        "exchange",
        "--token-endpoint",
        &url,
        "--aud",
        "token_endpoint",
        "--client-id",
        "c",
        "--key",
        key.to_str().unwrap(),
        "--grant",
        "client_credentials",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let file = env.path("data/history/command_line.jsonl");
    let line = std::fs::read_to_string(&file).unwrap();
    let mut entry: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    entry["elapsed_ms"] = serde_json::json!(1e300);
    std::fs::write(&file, format!("{entry}\n")).unwrap();
    for args in [
        vec!["history", "show", "1"],
        vec!["history", "bundle"],
        vec!["history", "bundle", "--format", "json"],
        vec!["history"],
    ] {
        let out = env.run(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    let out = env.run(&["mock-server", "--clock-offset", "9000000000000000000"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ten years"));
}

/// A header given on the command line that carries a credential (by its name) is a
/// secret: the redacted curl, the JSON output and the history never show it.
#[test]
fn credential_headers_stay_out_of_outputs_and_the_history() {
    let env = Cli::new();
    let url = fixed_server("400 Bad Request", r#"{"error":"invalid_client"}"#);
    let key = env.key_file();
    let base = [
        "exchange",
        "--token-endpoint",
        &url,
        "--aud",
        "token_endpoint",
        "--client-id",
        "c",
        "--key",
        key.to_str().unwrap(),
        "--grant",
        "client_credentials",
        "--header",
        "x-api-key: canary-header-key-42",
        "--header",
        "Authorization: Basic canary-basic-43",
    ];
    for extra in [
        vec!["--curl-redacted"],
        vec!["--dry-run", "--json"],
        vec!["--json"],
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = env.run(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("canary-header-key-42"), "{extra:?}: {text}");
        assert!(!text.contains("canary-basic-43"), "{extra:?}: {text}");
    }
    let history = std::fs::read_to_string(env.path("data/history/command_line.jsonl")).unwrap();
    assert!(!history.contains("canary-header-key-42"), "{history}");
    assert!(!history.contains("canary-basic-43"), "{history}");
}
