//! `token-inspector mock-server`: runs the embedded Open Finance sandbox authorization
//! server ([`token_inspector::sandbox`]) until Ctrl-C, printing its issuer first and then one line
//! per request (method, path, status, and the reason of every refusal).

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{Exit, InputError};
use token_inspector::sandbox::{
    ClientRegistration, DEMO_USERS, Failures, Sandbox, SandboxConfig, TlsOptions,
};
use token_inspector::secret::Secret;

/// Arguments of `mock-server`.
#[derive(Debug, clap::Args)]
pub struct MockServerArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on (0 = a free port; the issuer line says which).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Register a client: its id and a file holding its public JWK Set
    /// (`{"keys":[...]}`) or a single public JWK. Repeatable.
    #[arg(long = "client", value_name = "ID=JWKS_FILE")]
    pub clients: Vec<String>,
    /// Accept the token endpoint URL as the client assertion `aud` (older servers);
    /// by default only the issuer is accepted (FAPI 2.0).
    #[arg(long)]
    pub lenient_aud: bool,
    /// Rotate refresh tokens: a used refresh token is refused afterwards.
    #[arg(long)]
    pub rotate_refresh_tokens: bool,
    /// Serve HTTPS; without --cert/--key a local CA and a certificate for 127.0.0.1 and
    /// localhost are generated (the CA is written to stdout).
    #[arg(long)]
    pub tls: bool,
    /// Server certificate chain PEM (with --tls).
    #[arg(long, requires = "tls", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Server private key PEM (with --tls and --cert).
    #[arg(long, requires = "tls", requires = "cert")]
    pub key: Option<PathBuf>,
    /// CA PEM that client certificates must chain to (with --tls); without it any
    /// client certificate is accepted, self-signed included.
    #[arg(long, requires = "tls")]
    pub client_ca: Option<PathBuf>,
    /// Refuse TLS connections without a client certificate (mutual TLS, RFC 8705).
    #[arg(long, requires = "tls")]
    pub require_client_cert: bool,
    /// Play Open Finance Malaysia strictly: a signed request object inside PAR, and a
    /// client certificate on the back channel (PAR, token, revoke, introspect, userinfo)
    /// while the browser's authorize stays open. Implies --tls.
    #[arg(long)]
    pub malaysia: bool,
    /// Require a DPoP nonce in proofs (RFC 9449 §8): a proof without it is answered
    /// use_dpop_nonce with the nonce in DPoP-Nonce.
    #[arg(long)]
    pub dpop_nonce: bool,
    /// Open Finance Brasil: the hybrid flow's front-channel id_token comes encrypted to
    /// the client's use:enc key (RSA-OAEP, A256GCM).
    #[arg(long)]
    pub encrypt_id_tokens: bool,
    /// Play a bank whose clock is off: the sandbox's clock runs this many seconds from
    /// the system's (negative: behind), in its checks of iat/nbf/exp and in the Date
    /// header it sends. `--clock-offset -120` refuses a correct client's assertion as
    /// "iat in the future", as a real server with a slow clock does.
    #[arg(
        long,
        value_name = "SECS",
        allow_hyphen_values = true,
        default_value_t = 0
    )]
    pub clock_offset: i64,
    /// How long an authorization code stays valid, in seconds (FAPI 2.0: at most 60).
    /// A short one plays a bank whose codes expire before a slow client comes back.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub code_lifetime: u64,
    /// Fail on request, as real servers do (repeatable): `interaction-id` refuses
    /// back-channel requests without x-fapi-interaction-id (Brazil); `stale-dpop-nonce`
    /// answers every DPoP proof use_dpop_nonce with a fresh nonce; `deny` makes the
    /// consent page's auto-approval deny (access_denied); `revoke-consent` revokes each
    /// consent once its tokens are issued (the APIs answer invalid_token);
    /// `tamper-layer`, `other-encryption-key` and `stale-x-signature` break PayNet-style
    /// data calls (/v1); `wrong-c-hash`, `wrong-s-hash`, `id-token-other-audience` and
    /// `jarm-other-key` break the hybrid flow and JARM.
    #[arg(long = "fail", value_enum, value_name = "FAILURE")]
    pub failures: Vec<FailureArg>,
    /// JSON lines: one object when ready (issuer, discovery URL, local CA), then one
    /// `{"log": ...}` per request; errors as `{"error": ...}`.
    #[arg(long)]
    pub json: bool,
    /// Return once the sandbox listens: it goes on as its own process (stop it with
    /// `kill PID`), its output in --log; this prints its issuer, process id and log.
    #[arg(long)]
    pub background: bool,
    /// With --background: where the sandbox's output goes (default
    /// mock-server-PORT.log here).
    #[arg(long, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,
}

/// A failure `mock-server --fail` plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailureArg {
    /// Refuse back-channel requests without x-fapi-interaction-id.
    InteractionId,
    /// Every DPoP nonce is stale when it comes back.
    StaleDpopNonce,
    /// The consent page's auto-approval denies.
    Deny,
    /// Consents are revoked once their tokens are issued.
    RevokeConsent,
    /// The hub's signature on /v1 answers is tampered with.
    TamperLayer,
    /// /v1 answers are encrypted to another key than the client's.
    OtherEncryptionKey,
    /// Every x-signature is judged ten minutes late (stale).
    StaleXSignature,
    /// The hybrid flow's id_token carries the c_hash of another code.
    WrongCHash,
    /// The hybrid flow's id_token carries the s_hash of another state.
    WrongSHash,
    /// The hybrid flow's id_token is for another client (aud).
    IdTokenOtherAudience,
    /// JARM responses are signed with another key.
    JarmOtherKey,
}

/// Runs `mock-server`.
pub async fn run(args: MockServerArgs) -> anyhow::Result<Exit> {
    if args.background {
        return super::background::start(args.log.clone(), args.port, args.json).await;
    }
    // Ten years either way plays any clock a real bank has; more is a typo.
    const TEN_YEARS: i64 = 10 * 366 * 24 * 3600;
    if args.clock_offset.unsigned_abs() > TEN_YEARS.unsigned_abs() {
        return Err(InputError::new(format!(
            "--clock-offset {}: at most {TEN_YEARS} seconds (ten years) either way",
            args.clock_offset
        ))
        .into());
    }
    token_inspector::sandbox::set_clock_offset(args.clock_offset);
    let config = config(&args).map_err(|e| InputError::new(format!("{e:#}")))?;
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    let issuer = sandbox.issuer().to_owned();
    if !args.bind.is_loopback() {
        eprintln!(
            "WARNING: the sandbox listens on {} and is reachable from other machines; it issues tokens to anyone who asks (it answers only requests addressed to {issuer} or localhost)",
            args.bind
        );
    }
    let mut log = sandbox.subscribe_log();
    if args.json {
        let ready = serde_json::json!({
            "issuer": issuer,
            "discovery": format!("{issuer}/.well-known/openid-configuration"),
            "ca_pem": sandbox.ca_pem(),
        });
        outln!("{ready}");
    } else {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "issuer: {issuer}");
        let _ = writeln!(out, "discovery: {issuer}/.well-known/openid-configuration");
        let _ = writeln!(
            out,
            "register a client: POST {issuer}/register {{\"client_id\":..., \"jwks\":{{\"keys\":[...]}}}}"
        );
        let _ = writeln!(
            out,
            "redirect_uri for humans: {issuer}/callback; auto-approve: add auto_approve=true to /authorize"
        );
        for user in DEMO_USERS {
            let accounts: Vec<&str> = user.accounts.iter().map(|a| a.account_name).collect();
            let _ = writeln!(
                out,
                "demo user {} ({}): {}",
                user.sub,
                user.name,
                accounts.join(", ")
            );
        }
        if let Some(ca) = sandbox.ca_pem() {
            let _ = writeln!(out, "local CA (trust it to reach the sandbox over HTTPS):");
            let _ = write!(out, "{ca}");
        }
        let _ = writeln!(out, "press Ctrl-C to stop");
        let _ = out.flush();
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            entry = log.recv() => match entry {
                Ok(entry) => {
                    let mut out = std::io::stdout().lock();
                    let _ = if args.json {
                        writeln!(out, "{}", serde_json::json!({ "log": entry.to_string() }))
                    } else {
                        writeln!(out, "{entry}")
                    };
                    let _ = out.flush();
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    outln!("({n} log lines skipped: the server is busy)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    sandbox.shutdown().await;
    Ok(Exit::Ok)
}

fn config(args: &MockServerArgs) -> anyhow::Result<SandboxConfig> {
    let mut clients = Vec::new();
    for spec in &args.clients {
        let (id, file) = spec
            .split_once('=')
            .filter(|(id, file)| !id.is_empty() && !file.is_empty())
            .with_context(|| format!("--client {spec:?}: write it as ID=JWKS_FILE"))?;
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("--client {id}: cannot read {file}"))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("--client {id}: {file} is not JSON"))?;
        // A single JWK is accepted too.
        let jwks = if value.get("keys").is_some() {
            value
        } else {
            serde_json::json!({ "keys": [value] })
        };
        clients.push(ClientRegistration {
            client_id: id.to_owned(),
            jwks,
            redirect_uris: Vec::new(),
        });
    }
    let read = |path: &Option<PathBuf>, what: &str| -> anyhow::Result<Option<String>> {
        path.as_ref()
            .map(|p| {
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read the {what} {}", p.display()))
            })
            .transpose()
    };
    let tls = if args.tls || args.malaysia {
        Some(TlsOptions {
            require_client_cert: args.require_client_cert,
            cert_pem: read(&args.cert, "certificate")?,
            key_pem: read(&args.key, "key")?.map(Secret::new),
            client_ca_pem: read(&args.client_ca, "client CA")?,
        })
    } else {
        None
    };
    Ok(SandboxConfig {
        bind: args.bind,
        port: args.port,
        lenient_aud: args.lenient_aud,
        rotate_refresh_tokens: args.rotate_refresh_tokens,
        malaysia: args.malaysia,
        dpop_nonce: args.dpop_nonce,
        encrypt_id_tokens: args.encrypt_id_tokens,
        code_lifetime: std::time::Duration::from_secs(args.code_lifetime),
        failures: Failures {
            require_interaction_id: args.failures.contains(&FailureArg::InteractionId),
            stale_dpop_nonce: args.failures.contains(&FailureArg::StaleDpopNonce),
            deny_consent: args.failures.contains(&FailureArg::Deny),
            revoke_consent: args.failures.contains(&FailureArg::RevokeConsent),
            tamper_layer: args.failures.contains(&FailureArg::TamperLayer),
            other_encryption_key: args.failures.contains(&FailureArg::OtherEncryptionKey),
            stale_x_signature: args.failures.contains(&FailureArg::StaleXSignature),
            wrong_c_hash: args.failures.contains(&FailureArg::WrongCHash),
            wrong_s_hash: args.failures.contains(&FailureArg::WrongSHash),
            id_token_other_audience: args.failures.contains(&FailureArg::IdTokenOtherAudience),
            jarm_other_key: args.failures.contains(&FailureArg::JarmOtherKey),
        },
        tls,
        clients,
        ..SandboxConfig::default()
    })
}
