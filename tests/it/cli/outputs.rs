//! The binary's outputs and exit codes: dry runs, curl, JSON errors, network failures, closed pipes, canaries.

use super::*;

#[test]
fn dry_run_json_reproduces_the_seed_request() {
    let env = Cli::new();
    let key = env.key_file();
    let mut args = seed_args(&key, "https://as1.sandbox.mya.ozoneapi.io/token");
    args.extend(["--dry-run", "--json"]);
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = crate::support::cli::json(&out);
    let req = &v["request"];
    assert_eq!(req["url"], "https://as1.sandbox.mya.ozoneapi.io/token");
    let names: Vec<&str> = req["form"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "grant_type",
            "scope",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    // Secrets are not printed in the JSON; the decoded assertion is.
    assert_eq!(req["form"][4]["redacted"], true);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(VERIFIER));
    let claims = &req["client_assertion"]["claims"];
    assert_eq!(claims["aud"], ISSUER);
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    let exp = claims["exp"].as_f64().unwrap();
    let iat = claims["iat"].as_f64().unwrap();
    assert!((exp - iat - 300.0).abs() < 0.001);
    assert_eq!(
        req["client_assertion"]["header"]["kid"],
        "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"
    );
    let headers = req["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h["name"] == "x-fapi-interaction-id"
        && h["value"] == "968bed68-6694-44a8-8daa-b955bb4d1283"));
}

#[test]
fn human_dry_run_shows_the_raw_request_and_decoded_assertion() {
    let env = Cli::new();
    let key = env.key_file();
    let mut args = seed_args(&key, "https://as1.sandbox.mya.ozoneapi.io/token");
    args.push("--dry-run");
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("POST /token HTTP/1.1\nHost: as1.sandbox.mya.ozoneapi.io\n"),
        "{text}"
    );
    assert!(text.contains("grant_type=authorization_code&\nscope=accounts&\n"));
    assert!(text.contains("\"alg\": \"PS256\""));
    assert!(text.contains("Findings on the request"));
}

#[test]
fn curl_and_redacted_curl() {
    let env = Cli::new();
    let key = env.key_file();
    let mut args = seed_args(&key, "https://as1.sandbox.mya.ozoneapi.io/token");
    args.push("--curl");
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("curl "));
    assert!(text.contains(&format!("--data-urlencode code_verifier={VERIFIER}")));

    let mut args = seed_args(&key, "https://as1.sandbox.mya.ozoneapi.io/token");
    args.push("--curl-redacted");
    let out = env.run(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(VERIFIER));
    assert!(text.contains("${CODE_VERIFIER}"));
    assert!(text.contains("${CLIENT_ASSERTION}"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("$CLIENT_ASSERTION"));
}

#[test]
fn input_errors_exit_2_with_a_clear_message() {
    let env = Cli::new();
    std::fs::write(
        env.path("bad.pem"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let bad = env.path("bad.pem");
    let args = seed_args(&bad, "https://as1.sandbox.mya.ozoneapi.io/token");
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("encrypted"));

    let key = env.key_file();
    let mut args = seed_args(&key, "https://as1.sandbox.mya.ozoneapi.io/token");
    let pos = args.iter().position(|a| *a == "--code-verifier").unwrap();
    args[pos + 1] = "too-short";
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("43 to 128"));

    let out = env.run(&["exchange", "--grant", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn refused_connection_exits_3() {
    let env = Cli::new();
    let key = env.key_file();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    drop(listener);
    let out = env.run(&seed_args(&key, &url));
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("connection refused"));
}

#[test]
fn server_error_exits_1_and_success_exits_0() {
    let env = Cli::new();
    let key = env.key_file();
    let url = fixed_server(
        "400 Bad Request",
        r#"{"error":"invalid_grant","error_description":"code already used"}"#,
    );
    let mut args = seed_args(&key, &url);
    args.push("--json");
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v = crate::support::cli::json(&out);
    assert_eq!(v["response"]["status"], 400);
    assert_eq!(v["response"]["body_kind"], "oauth_error");
    assert_eq!(v["response"]["body"]["error"], "invalid_grant");
    // This server does not echo x-fapi-interaction-id, on an error answer too.
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"token_response.interaction_id_missing"),
        "{codes:?}"
    );

    let url = fixed_server(
        "200 OK",
        r#"{"access_token":"26e0bf38-9fab-48e5-8be6-4a906905f959","expires_in":600,"token_type":"Bearer","scope":"accounts profile"}"#,
    );
    let out = env.run(&seed_args(&key, &url));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("200 OK"), "{text}");
    assert!(text.contains("access token expires in 10 min"), "{text}");
}

#[test]
fn keygen_outputs_a_loadable_key_and_jwks() {
    let env = Cli::new();
    let out = env.run(&[
        "keygen",
        "--type",
        "p256",
        "--out",
        env.path("ec.pem").to_str().unwrap(),
        "--jwks-out",
        env.path("ec.jwks").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let pem = std::fs::read_to_string(env.path("ec.pem")).unwrap();
    let key = token_inspector::jose::keys::PrivateKey::load(&pem).unwrap();
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("ec.jwks")).unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], key.thumbprint());
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert!(jwks["keys"][0].get("d").is_none(), "public JWKS leaks d");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path("ec.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn profile_import_reports_file_line_and_field() {
    let env = Cli::new();
    let file = env.path("broken.toml");
    std::fs::write(
        &file,
        "name = \"Broken\"\nissuer = \"https://a.example\"\n[auth]\nlifetime_secs = \"soon\"\n",
    )
    .unwrap();
    let out = env.run(&["profile", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml:4:"), "{err}");
    assert!(err.contains("auth.lifetime_secs"), "{err}");

    let good = env.path("good.toml");
    std::fs::write(
        &good,
        "name = \"Ozone MY\"\nissuer = \"https://auth1.sandbox.mya.ozoneapi.io\"\nclient_id = \"c\"\n",
    )
    .unwrap();
    let out = env.run(&["profile", "import", good.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let out = env.run(&["profile", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Ozone MY"));
    let out = env.run(&["profile", "show", "Ozone MY"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("client_id = \"c\""));
}

/// With `--json`, every subcommand reports a failure as one JSON object on stdout
/// (`{"error": {"kind", "message"}}`), nothing on stderr, and the documented exit code.
#[test]
fn every_subcommand_reports_failures_as_json_with_its_exit_code() {
    let env = Cli::new();
    let key = env.key_file();
    let key = key.to_str().unwrap();
    let port = refused_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let jwks = format!("{issuer}/jwks");
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    let missing_dir = env.path("no/such/dir/key.pem");
    let cases: Vec<(Vec<&str>, &str, i32)> = vec![
        (
            vec![
                "exchange",
                "--issuer",
                &issuer,
                "--client-id",
                "c",
                "--key",
                key,
                "--code",
                "x",
                "--redirect-uri",
                "https://c.example/cb",
            ],
            "network",
            3,
        ),
        (vec!["exchange", "--profile", "no such profile"], "input", 2),
        (
            vec![
                "authorize",
                "--issuer",
                &issuer,
                "--client-id",
                "c",
                "--key",
                key,
            ],
            "network",
            3,
        ),
        (vec!["discover", &issuer], "network", 3),
        (vec!["discover", "not a url"], "input", 2),
        (vec!["call", "http://127.0.0.1:9/accounts"], "input", 2),
        (vec!["introspect", "--issuer", &issuer], "input", 2),
        (
            vec!["revoke", "--issuer", &issuer, "--token", "t", "--key", key],
            "network",
            3,
        ),
        (vec!["decode", "not-a-token"], "malformed", 2),
        (vec!["decode", token, "--jwks", &jwks], "network", 3),
        (
            vec!["keygen", "--out", missing_dir.to_str().unwrap()],
            "input",
            2,
        ),
        (vec!["profile", "show", "no such profile"], "input", 2),
        (
            vec!["mock-server", "--client", "no-equals-sign"],
            "input",
            2,
        ),
    ];
    for (args, kind, code) in cases {
        let mut args = args;
        args.push("--json");
        let out = env.run(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}\n{stdout}\n{stderr}"
        );
        let value: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON object ({e}): {stdout}"));
        assert_eq!(value["error"]["kind"], kind, "{args:?}: {value}");
        assert!(
            value["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{args:?}: {value}"
        );
        // Nothing else: no human line, no library log line.
        let noise: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("note:") && !l.starts_with("wrote the PRIVATE"))
            .collect();
        assert!(noise.is_empty(), "{args:?}: stderr {stderr}");
    }
}

/// Without `--json` a failure is one line on stderr, starting `error:`, with no library
/// log lines or colour codes; a refused discovery is a network failure (exit 3).
#[test]
fn network_failures_exit_3_with_one_clean_line() {
    let env = Cli::new();
    let key = env.key_file();
    let issuer = format!("http://127.0.0.1:{}", refused_port());
    let out = env.run(&[
        "exchange",
        "--issuer",
        &issuer,
        "--client-id",
        "c",
        "--key",
        key.to_str().unwrap(),
        "--code",
        "x",
        "--redirect-uri",
        "https://c.example/cb",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: discovery failed"), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes: {stderr}");
}

/// A reader that goes away (`| head -1`) ends the output quietly, not with a panic.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    let env = Cli::new();
    let mut child = Command::new(BIN)
        .args(["keygen", "--type", "p256"])
        .env("TOKEN_INSPECTOR_CONFIG_DIR", env.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end of stdout at once.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// Every file below `dir`, recursively.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A client secret, a refresh token and a code with unique canary values, sent with
/// `RUST_LOG=trace` through every output mode: the canaries appear only where the user
/// asked for the secrets (`--curl`), in no other output, and in no file under the
/// config, data and cache directories.
#[test]
fn canaries_appear_only_in_curl() {
    use token_inspector::sandbox::{Sandbox, SandboxConfig};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt
        .block_on(Sandbox::start(SandboxConfig::default()))
        .unwrap();
    let issuer = sandbox.issuer().to_owned();
    let env = Cli::new();
    let home = env.path("home");
    for d in ["home/.config", "home/.local/share", "home/.cache"] {
        std::fs::create_dir_all(env.path(d)).unwrap();
    }
    const SECRET: &str = "canary-client-secret-7f3a9e";
    const REFRESH: &str = "canary-refresh-token-2b8d1c";
    const CODE: &str = "canary-authorization-code-5c4e0a";
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env(
                "TOKEN_INSPECTOR_CONFIG_DIR",
                env.path("home/.config/token-inspector"),
            )
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", env.path("home/.config"))
            .env("XDG_DATA_HOME", env.path("home/.local/share"))
            .env("XDG_CACHE_HOME", env.path("home/.cache"))
            .env("RUST_LOG", "trace")
            .env("TOKEN_INSPECTOR_CLIENT_SECRET", SECRET)
            .env_remove("TOKEN_INSPECTOR_REFRESH_TOKEN")
            .output()
            .unwrap()
    };
    let client = [
        "exchange",
        "--issuer",
        &issuer,
        "--client-id",
        "canary-client",
        "--auth-method",
        "client_secret_post",
    ];
    let redirect = format!("https://client.example/cb?code={CODE}&state=st");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--grant", "refresh_token", "--refresh-token", REFRESH],
        vec![
            "--grant",
            "refresh_token",
            "--refresh-token",
            REFRESH,
            "--json",
        ],
        vec![
            "--grant",
            "refresh_token",
            "--refresh-token",
            REFRESH,
            "--dry-run",
        ],
        vec![
            "--grant",
            "refresh_token",
            "--refresh-token",
            REFRESH,
            "--dry-run",
            "--json",
        ],
        vec![
            "--grant",
            "refresh_token",
            "--refresh-token",
            REFRESH,
            "--curl-redacted",
        ],
        vec![
            "--code",
            CODE,
            "--redirect-uri",
            "https://client.example/cb",
        ],
        vec![
            "--code",
            CODE,
            "--redirect-uri",
            "https://client.example/cb",
            "--json",
        ],
        vec!["--redirect-url", &redirect, "--state", "st", "--dry-run"],
        vec!["--redirect-url", &redirect, "--state", "st", "--json"],
    ];
    for case in &cases {
        let args: Vec<&str> = client.iter().copied().chain(case.iter().copied()).collect();
        let out = run(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("panicked"), "{case:?}: {text}");
        for canary in [SECRET, REFRESH, CODE] {
            assert!(!text.contains(canary), "{case:?} printed {canary}:\n{text}");
        }
    }
    // Sanity: the canaries were really used; --curl prints what it was asked to.
    let args: Vec<&str> = client
        .iter()
        .copied()
        .chain([
            "--grant",
            "refresh_token",
            "--refresh-token",
            REFRESH,
            "--curl",
        ])
        .collect();
    let curl = String::from_utf8_lossy(&run(&args).stdout).into_owned();
    assert!(curl.contains(REFRESH) && curl.contains(SECRET), "{curl}");
    // A profile saved on the way holds no secret either.
    let saved = run(&["discover", &issuer, "--save-to", "canary profile"]);
    assert!(saved.status.success(), "{saved:?}");
    let files = files_below(&home);
    assert!(!files.is_empty(), "the profile was written under {home:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for canary in [SECRET, REFRESH, CODE] {
            assert!(!text.contains(canary), "{} holds {canary}", file.display());
        }
    }
    rt.block_on(sandbox.shutdown());
}

/// The message-signing and data-consumer flags refuse bad values before anything is sent,
/// each naming what is wrong, in JSON with --json.
#[test]
fn message_and_data_consumer_flags_are_checked_before_sending() {
    let env = Cli::new();
    let key = env.key_file();
    let key = key.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "call",
                "http://127.0.0.1:9/p",
                "--token",
                "t",
                "--data",
                "{not json",
                "--json",
            ],
            "not JSON",
        ),
        (
            &[
                "call",
                "http://127.0.0.1:9/p",
                "--token",
                "t",
                "--data",
                "{}",
                "--signed-body",
                "--pii-alg",
                "RSA1_5",
                "--json",
            ],
            "RSA-OAEP-256",
        ),
        (
            &[
                "call",
                "http://127.0.0.1:9/p",
                "--token",
                "t",
                "--data",
                "{}",
                "--x-fapi-customer-ip-address",
                "10.0.0.300",
                "--json",
            ],
            "x-fapi-customer-ip-address",
        ),
        (
            &[
                "call",
                "http://127.0.0.1:9/p",
                "--token",
                "t",
                "--data",
                "{}",
                "--x-jws-signature",
                "3.1.2",
                "--key",
                key,
                "--json",
            ],
            "openbanking.org.uk/iss",
        ),
        (
            &[
                "providers",
                "--issuer",
                "http://127.0.0.1:9",
                "--token-endpoint",
                "http://127.0.0.1:9/token",
                "--json",
            ],
            "--rs",
        ),
        (
            &[
                "consent-revoke",
                "a/b",
                "--rs",
                "http://127.0.0.1:9/v1",
                "--issuer",
                "http://127.0.0.1:9",
                "--token-endpoint",
                "http://127.0.0.1:9/token",
                "--client-id",
                "c",
                "--key",
                key,
                "--json",
            ],
            "not a consent id",
        ),
    ];
    for (args, needle) in cases {
        let out = env.run(args);
        let (code, body) = crate::support::cli::code_and_json(&out);
        assert_eq!(code, 2, "{args:?}: {out:?}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{args:?}: {message}");
    }
}

/// `mock-server --background` returns once the sandbox listens: its issuer answers at
/// once, its pid and log are printed; no script waits a fixed time for it.
#[test]
fn mock_server_in_the_background_returns_once_it_listens() {
    let env = Cli::new();
    let log = env.path("sandbox.log");
    let out = env.run(&[
        "mock-server",
        "--port",
        "0",
        "--background",
        "--json",
        "--log",
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let ready: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pid = ready["pid"].as_u64().unwrap();
    let issuer = ready["issuer"].as_str().unwrap();
    let address = issuer.trim_start_matches("http://");
    let listening = std::net::TcpStream::connect(address).is_ok();
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    assert!(listening, "{issuer} answers as soon as the command returns");
    assert_eq!(ready["log"].as_str().unwrap(), log.to_str().unwrap());
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains(issuer),
        "the sandbox's own output goes to the log: {said}"
    );
}
