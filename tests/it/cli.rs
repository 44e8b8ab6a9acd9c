//! The command line, run as a user runs it: the built binary, its output and its exit
//! codes (0 success, 1 server error, 2 usage/input error, 3 network failure).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::cli::{BIN, Cli};

const ISSUER: &str = "https://auth1.sandbox.mya.ozoneapi.io";
const CLIENT_ID: &str = "55aa605c-89ef-4473-aa88-47709f0ff383";
const VERIFIER: &str = "7ff8feab-c016-46f5-98e3-921e9c4556c4b25fedb6-f448-4f7a-9fde-cce1282f0626";

fn seed_args<'a>(key: &'a Path, token_endpoint: &'a str) -> Vec<&'a str> {
    vec![
        "exchange",
        "--issuer",
        ISSUER,
        "--token-endpoint",
        token_endpoint,
        "--client-id",
        CLIENT_ID,
        "--key",
        key.to_str().unwrap(),
        "--kid",
        "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI",
        "--code",
        "160ed384-bb0d-439e-85e8-68d2b681e45d",
        "--redirect-uri",
        "https://www.auth-app.ozoneapi.co.uk/redirect-url",
        "--code-verifier",
        VERIFIER,
        "--scope",
        "accounts",
        "--interaction-id",
        "968bed68-6694-44a8-8daa-b955bb4d1283",
        "--numeric-date",
        "milliseconds",
    ]
}

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

/// A one-shot HTTP server answering every request with a fixed status and body.
fn fixed_server(status: &'static str, body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    fixed_server_on(listener, status, body.to_owned())
}

/// As [`fixed_server`], on a listener the caller bound (its address can be in `body`).
fn fixed_server_on(listener: std::net::TcpListener, status: &'static str, body: String) -> String {
    use std::io::{Read, Write};
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            // Read until the end of headers and the announced body.
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    url
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

/// A loopback port with nothing listening.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
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
