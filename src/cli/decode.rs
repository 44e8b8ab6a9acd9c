//! `token-inspector decode`: decode any compact JOSE value, verify it, decrypt a JWE, and
//! list findings (RFC 8725, RFC 7523, OIDC Core §3.1.3.7, RFC 9068, FAPI 2.0).
//!
//! Exit codes: 0 decoded (signature valid or not checked), 1 signature invalid or JWE
//! decryption failed, 2 malformed token or bad input, 3 JWKS fetch failed.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::Value;

use super::Exit;
use super::output::{annotate_claims, pretty, render_findings};
use token_inspector::checks::{CheckContext, TokenKind};
use token_inspector::inspector::{Inspection, Report, inspect};
use token_inspector::jose::jwe::JweKey;
use token_inspector::jose::jwt::JoseKind;
use token_inspector::jose::verify::{SignatureStatus, VerificationKey, parse_key_text};
use token_inspector::oauth::discovery;
use token_inspector::oauth::transport::{Transport, TransportConfig};
use token_inspector::secret::Secret;

/// The environment variable that can hold the `--secret` (keeps it out of `ps`).
pub const SECRET_ENV: &str = "TOKEN_INSPECTOR_SECRET";

/// Largest token or key file read.
const INPUT_LIMIT: u64 = 10 * 1024 * 1024;

/// Arguments of `decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The token, or `-` (the default) to read standard input. Prefer stdin for live
    /// tokens: command lines are visible to other local users.
    pub token: Option<String>,
    /// Verify with a JWK Set from a file or an http(s) URL (the key is picked by kid);
    /// repeatable, the sets tried together (a layered answer's hub and provider keys).
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Vec<String>,
    /// Verify with a public key file: PEM (SPKI, PKCS#1, X.509 certificate) or a JWK.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Shared secret for HS256/384/512. Prefer the TOKEN_INSPECTOR_SECRET environment
    /// variable.
    #[arg(long, value_name = "S", value_parser = parse_secret)]
    pub secret: Option<Secret>,
    /// Decrypt a JWE: RSA private key PEM (RSA-OAEP-256 or RSA-OAEP), or the raw key for
    /// `dir` (a JWK with "k", base64url text, or raw bytes). `--jwe-key` is its old name.
    #[arg(long = "decrypt-key", alias = "jwe-key", value_name = "FILE")]
    pub decrypt_key: Option<PathBuf>,
    /// The payload of a detached JWS (`header..signature`, RFC 7515 Appendix F; RFC 7797
    /// with `b64: false`): the file whose bytes were signed, such as an HTTP body.
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// What the token is: assertion, id_token, access_token, request_object or auto.
    #[arg(long, default_value = "auto")]
    pub kind: String,
    /// The authorization server's issuer identifier.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Our client_id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// The token endpoint URL (recognises an old-style assertion aud).
    #[arg(long)]
    pub token_endpoint: Option<String>,
    /// The nonce sent in the authorization request (ID Token check).
    #[arg(long, allow_hyphen_values = true)]
    pub nonce: Option<String>,
    /// The access token of the same response (ID Token at_hash check): the value, @FILE,
    /// or - (standard input); prefer the environment variable.
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_ACCESS_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true,
        value_name = "TOKEN|@FILE|-"
    )]
    pub access_token: Option<String>,
    /// The authorization code (ID Token c_hash check): the value, @FILE, or - (standard
    /// input); prefer the environment variable.
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_CODE",
        hide_env_values = true,
        allow_hyphen_values = true,
        value_name = "CODE|@FILE|-"
    )]
    pub code: Option<String>,
    /// The state (ID Token s_hash check).
    #[arg(long, allow_hyphen_values = true)]
    pub state: Option<String>,
    /// The alg registered for this token, such as PS256.
    #[arg(long, value_name = "ALG")]
    pub expected_alg: Option<String>,
    /// Judge exp/nbf/iat at this unix time instead of now.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    pub now: Option<f64>,
    /// Clock skew allowed, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub clock_skew: f64,
    /// Longest acceptable client assertion lifetime, seconds.
    #[arg(long, default_value_t = 600.0)]
    pub max_assertion_lifetime: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

/// Runs `decode`.
pub async fn run(args: DecodeArgs) -> anyhow::Result<Exit> {
    run_inner(&args).await.map_err(|f| {
        super::Classified {
            kind: f.kind,
            exit: f.exit,
            message: f.message,
        }
        .into()
    })
}

struct Failure {
    exit: Exit,
    kind: &'static str,
    message: String,
}

impl Failure {
    fn input(e: anyhow::Error) -> Self {
        Failure {
            exit: Exit::Usage,
            kind: "input",
            message: format!("{e:#}"),
        }
    }
}

async fn run_inner(args: &DecodeArgs) -> Result<Exit, Failure> {
    // The token reads standard input when it is not given (or given as -).
    let mut stdin_taken = args.token.as_deref().is_none_or(|t| t == "-");
    let access_token = super::secret_arg::read(
        "--access-token",
        args.access_token.as_deref(),
        &mut stdin_taken,
    )
    .map_err(Failure::input)?;
    let code = super::secret_arg::read("--code", args.code.as_deref(), &mut stdin_taken)
        .map_err(Failure::input)?;
    let token = read_token(args.token.as_deref()).map_err(Failure::input)?;
    let kind = TokenKind::parse(&args.kind).map_err(|e| Failure::input(anyhow::anyhow!(e)))?;
    let (key, jwks) = load_key(args).await?;
    let jwe_key = match &args.decrypt_key {
        Some(path) => Some(load_jwe_key(path).map_err(Failure::input)?),
        None => None,
    };
    let ctx = CheckContext {
        issuer: args.issuer.clone(),
        client_id: args.client_id.clone(),
        token_endpoint: args.token_endpoint.clone(),
        expected_nonce: args.nonce.clone(),
        access_token,
        code,
        state: args.state.clone(),
        expected_alg: args.expected_alg.clone(),
        now: args
            .now
            .unwrap_or_else(token_inspector::jose::numeric_date::now_unix),
        clock_skew: args.clock_skew,
        max_assertion_lifetime: args.max_assertion_lifetime,
    };
    if let Some(path) = &args.payload {
        return decode_detached(&token, path, key.as_ref(), args.json);
    }
    if token_inspector::oauth::layers::is_layered(&token) {
        return Ok(decode_layered(
            &token,
            &jwks,
            jwe_key.as_ref(),
            ctx.now,
            args.json,
        ));
    }
    let how = Inspection { key, jwe_key, kind };
    match inspect(&token, &how, &ctx) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => outln!("{text}"),
                    Err(e) => {
                        return Err(Failure::input(anyhow::anyhow!("cannot print JSON: {e}")));
                    }
                }
            } else {
                out!("{}", render_report(&report, ctx.now));
            }
            Ok(if report.failed() {
                Exit::ServerError
            } else {
                Exit::Ok
            })
        }
        Err(e) => {
            if args.json {
                let out = serde_json::json!({"error": {
                    "kind": "malformed",
                    "segment": e.segment,
                    "message": e.to_string(),
                }});
                outln!("{out}");
            } else {
                eprintln!("error: malformed token: {e}");
            }
            Ok(Exit::Usage)
        }
    }
}

fn read_token(arg: Option<&str>) -> anyhow::Result<String> {
    match arg {
        Some(t) if t != "-" => Ok(t.to_owned()),
        _ => {
            use std::io::IsTerminal as _;
            if std::io::stdin().is_terminal() {
                eprintln!("Paste the token, then press Ctrl-D:");
            }
            let mut text = String::new();
            std::io::stdin()
                .take(INPUT_LIMIT)
                .read_to_string(&mut text)
                .context("cannot read the token from standard input")?;
            Ok(text)
        }
    }
}

fn read_file(path: &PathBuf) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > INPUT_LIMIT {
        anyhow::bail!("{} is larger than {INPUT_LIMIT} bytes", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The verification key, and the JWK Sets given one by one (a layered answer tries each).
async fn load_key(args: &DecodeArgs) -> Result<(Option<VerificationKey>, Vec<Value>), Failure> {
    let given = [
        !args.jwks.is_empty(),
        args.key.is_some(),
        args.secret.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given > 1 {
        return Err(Failure::input(anyhow::anyhow!(
            "give only one of --jwks, --key and --secret"
        )));
    }
    if !args.jwks.is_empty() {
        let mut sets = Vec::new();
        for source in &args.jwks {
            sets.push(load_jwks(source).await?);
        }
        let all: Vec<Value> = sets
            .iter()
            .filter_map(|s| s.get("keys").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect();
        let key = VerificationKey::Jwks(serde_json::json!({ "keys": all }));
        return Ok((Some(key), sets));
    }
    let single = if let Some(path) = &args.key {
        let text = read_file(path).map_err(Failure::input)?;
        Some(
            parse_key_text(&text)
                .map_err(|e| Failure::input(anyhow::anyhow!("{}: {e}", path.display())))?,
        )
    } else if let Some(secret) = &args.secret {
        Some(VerificationKey::Secret(secret.expose().as_bytes().to_vec()))
    } else {
        std::env::var(SECRET_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .map(|s| VerificationKey::Secret(s.into_bytes()))
    };
    Ok((single, Vec::new()))
}

/// One JWK Set: fetched (a URL) or read (a file; a single JWK is a set of one).
async fn load_jwks(jwks: &str) -> Result<Value, Failure> {
    if jwks.starts_with("https://") || jwks.starts_with("http://") {
        let network = |message: String| Failure {
            exit: Exit::Network,
            kind: "network",
            message,
        };
        // A JWKS is small: short timeouts and a 1 MiB cap.
        let transport = Transport::new(TransportConfig {
            connect_timeout: std::time::Duration::from_secs(5),
            timeout: std::time::Duration::from_secs(10),
            max_body: discovery::JWKS_SIZE_LIMIT,
            ..TransportConfig::default()
        })
        .map_err(|e| network(e.to_string()))?;
        return discovery::fetch_jwks(&transport, jwks)
            .await
            .map_err(|e| network(format!("{e} ({jwks})")));
    }
    let path = PathBuf::from(jwks);
    let text = read_file(&path).map_err(Failure::input)?;
    match parse_key_text(&text) {
        Ok(VerificationKey::Jwks(set)) => Ok(set),
        Ok(VerificationKey::Jwk(jwk)) => Ok(serde_json::json!({ "keys": [jwk] })),
        Ok(_) => Err(Failure::input(anyhow::anyhow!(
            "{} is a PEM; use --key for PEM files",
            path.display()
        ))),
        Err(e) => Err(Failure::input(anyhow::anyhow!("{}: {e}", path.display()))),
    }
}

/// Header parameters of detached signatures that `decode` shows and lets pass `crit`:
/// PayNet's (`iss`, `jti`, `iat`) and UK Open Banking's. Their checks belong to the call
/// that sent them.
const KNOWN_CRITICAL: &[&str] = &[
    "iss",
    "jti",
    "iat",
    "http://openbanking.org.uk/iat",
    "http://openbanking.org.uk/iss",
    "http://openbanking.org.uk/tan",
];

/// A detached JWS verified over the bytes of `payload`.
fn decode_detached(
    token: &str,
    payload: &PathBuf,
    key: Option<&VerificationKey>,
    json: bool,
) -> Result<Exit, Failure> {
    use token_inspector::jose::detached::parse_detached;
    let detached = parse_detached(token)
        .map_err(|e| Failure::input(anyhow::anyhow!("--payload is for a detached JWS: {e}")))?;
    let meta = std::fs::metadata(payload)
        .with_context(|| format!("cannot read {}", payload.display()))
        .map_err(Failure::input)?;
    if meta.len() > INPUT_LIMIT {
        return Err(Failure::input(anyhow::anyhow!(
            "{} is larger than {INPUT_LIMIT} bytes",
            payload.display()
        )));
    }
    let bytes = std::fs::read(payload)
        .with_context(|| format!("cannot read {}", payload.display()))
        .map_err(Failure::input)?;
    let signature = match key {
        Some(key) => detached.verify(&bytes, key, KNOWN_CRITICAL),
        None => SignatureStatus::NotVerifiable {
            reason: "no key given (--jwks, --key or --secret)".into(),
        },
    };
    if json {
        let out = serde_json::json!({
            "kind": "detached_jws",
            "header": detached.header,
            "b64": detached.b64,
            "payload_bytes": bytes.len(),
            "signature": signature,
        });
        outln!("{}", pretty(&out));
    } else {
        outln!(
            "Detached JWS ({}) over {} bytes of {}{}\n",
            detached
                .header
                .get("alg")
                .and_then(Value::as_str)
                .unwrap_or("?"),
            bytes.len(),
            payload.display(),
            if detached.b64 {
                ""
            } else {
                " (unencoded, b64: false)"
            }
        );
        outln!(
            "Header\n{}\n",
            pretty(&Value::Object(detached.header.clone()))
        );
        outln!("Signature: {}", describe_signature(&signature));
    }
    Ok(if signature.status() == "invalid" {
        Exit::ServerError
    } else {
        Exit::Ok
    })
}

/// A layered answer (a JWS whose `data` is a JWE holding a JWT), opened layer by layer.
fn decode_layered(
    token: &str,
    jwks: &[Value],
    decrypt: Option<&JweKey>,
    now: f64,
    json: bool,
) -> Exit {
    use token_inspector::oauth::layers::{LayerKeys, open};
    let keys = LayerKeys {
        jwks,
        decrypt,
        audience: None,
        now,
    };
    let Some(opened) = open(token, &keys) else {
        return Exit::Usage;
    };
    if json {
        let out = serde_json::json!({
            "kind": "layered",
            "verified": opened.verified,
            "data": opened.data,
            "layers": opened.layers,
        });
        outln!("{}", pretty(&out));
    } else {
        outln!("A layered answer: a signed JWS holding a JWE holding a signed JWT");
        super::render::print_layers(&opened);
    }
    if opened.failed() {
        Exit::ServerError
    } else {
        Exit::Ok
    }
}

fn load_jwe_key(path: &PathBuf) -> anyhow::Result<JweKey> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let trimmed = text.trim();
    if trimmed.starts_with("-----BEGIN") {
        return Ok(JweKey::RsaPrivatePem(Secret::new(trimmed)));
    }
    if let Ok(jwk) = serde_json::from_str::<Value>(trimmed)
        && let Some(k) = jwk.get("k").and_then(Value::as_str)
    {
        let key = token_inspector::jose::jwt::decode_segment(
            token_inspector::jose::jwt::Segment::Whole,
            k,
        )
        .map_err(|e| anyhow::anyhow!("{}: the JWK's \"k\" {}", path.display(), e.problem))?;
        return Ok(JweKey::Direct(key));
    }
    if let Ok(key) = token_inspector::jose::jwt::decode_segment(
        token_inspector::jose::jwt::Segment::Whole,
        trimmed,
    ) && matches!(key.len(), 16 | 24 | 32 | 48 | 64)
    {
        return Ok(JweKey::Direct(key));
    }
    Ok(JweKey::Direct(bytes))
}

/// The human rendering of a report.
pub fn render_report(report: &Report, now: f64) -> String {
    let mut out = String::new();
    let alg = report
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let kind = match report.kind {
        JoseKind::Jws => "JWS",
        JoseKind::Jwe => "JWE",
        JoseKind::Unsecured => "Unsecured JWT",
    };
    out.push_str(&format!(
        "{kind} ({alg}) · {}{}\n\n",
        report.token_kind.as_str(),
        if report.token_kind_guessed {
            " (guessed; set --kind to choose)"
        } else {
            ""
        }
    ));
    out.push_str("Header\n");
    out.push_str(&pretty(&Value::Object(report.header.clone())));
    out.push_str("\n\n");
    if let Some(claims) = &report.claims {
        out.push_str("Claims (unverified unless the signature is valid)\n");
        out.push_str(&annotate_claims(claims, now));
        out.push_str("\n\n");
    } else if let Some(text) = &report.payload_text {
        out.push_str("Payload (text)\n");
        out.push_str(text);
        out.push_str("\n\n");
    } else if let Some(b) = &report.payload_base64url {
        out.push_str(&format!("Payload (binary, base64url)\n{b}\n\n"));
    } else if report.kind == JoseKind::Jwe {
        out.push_str("Payload: encrypted (give --decrypt-key to decrypt)\n\n");
    }
    if let Some(e) = &report.decryption_error {
        out.push_str(&format!("Decryption: FAILED: {e}\n"));
    }
    out.push_str(&format!(
        "Signature: {}\n",
        describe_signature(&report.signature)
    ));
    out.push('\n');
    out.push_str(&render_findings(&report.findings));
    if let Some(nested) = &report.nested {
        out.push_str("\n── Nested token ──\n\n");
        out.push_str(&render_report(nested, now));
    }
    out
}

/// A signature's outcome in a few words.
fn describe_signature(status: &SignatureStatus) -> String {
    match status {
        SignatureStatus::Valid { kid } => format!(
            "valid{}",
            kid.as_deref()
                .map(|k| format!(" (kid {k})"))
                .unwrap_or_default()
        ),
        SignatureStatus::Invalid { reason } => format!("INVALID: {reason}"),
        SignatureStatus::NotVerifiable { reason } => format!("not verified: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse() {
        assert_eq!(
            TokenKind::parse("assertion"),
            Ok(Some(TokenKind::ClientAssertion))
        );
        assert_eq!(TokenKind::parse("auto"), Ok(None));
        assert!(TokenKind::parse("refresh_token").is_err());
    }

    #[test]
    fn report_names_a_valid_signature() {
        let key = b"a shared secret of at least thirty-two bytes!";
        let token = token_inspector::jose::jwt::sign_compact(
            serde_json::json!({"alg": "HS256", "typ": "JWT"})
                .as_object()
                .unwrap(),
            &serde_json::json!({"sub": "alice", "exp": 2000000000.0}),
            &jsonwebtoken::EncodingKey::from_secret(key),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        let how = Inspection {
            key: Some(VerificationKey::Secret(key.to_vec())),
            ..Inspection::default()
        };
        let ctx = CheckContext {
            now: 1.9e9,
            ..CheckContext::default()
        };
        let report = inspect(&token, &how, &ctx).unwrap();
        let text = render_report(&report, 1.9e9);
        assert!(text.contains("Signature: valid"), "{text}");
        assert!(text.contains("alice"), "{text}");
    }
}
