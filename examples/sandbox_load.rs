//! Sandbox throughput from a separate load client:
//! `cargo build --release && cargo run --release --example sandbox_load`.
//!
//! (An example, not a `cargo bench` target: benches build with unwinding, so they would
//! not share the release build's artifacts, and the server measured must be the binary
//! that ships.) Starts `target/release/token-inspector mock-server` (or the binary in
//! `TOKEN_INSPECTOR_BIN`) as its own process on a free loopback port, registers a client with an Ed25519 key,
//! signs every client assertion before the clock starts (each has its own `jti`: the
//! sandbox refuses a replay), then sends `client_credentials` token requests over keep-
//! alive connections and prints requests per second and latency percentiles. It checks
//! that every answer is a 200 with a distinct access token. Nothing here is a timed
//! assertion: the figures go to the README.
//!
//! `LOAD_TOTAL` (default 10000) and `LOAD_CONNECTIONS` (default 50) change the shape;
//! `LOAD_RUNS` (default 3) repeats the measurement against the same server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a failed unwrap is a failed run

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let total = env_usize("LOAD_TOTAL", 10_000);
    let connections = env_usize("LOAD_CONNECTIONS", 50).clamp(1, total);
    let runs = env_usize("LOAD_RUNS", 3).max(1);

    let dir = tempfile::tempdir().expect("temp dir");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8v1(&rng).expect("Ed25519 keygen");
    let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).expect("Ed25519 parse");
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let jwks_path = dir.path().join("load.jwks.json");
    std::fs::write(
        &jwks_path,
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "load", "use": "sig"}]})
            .to_string(),
    )
    .expect("write JWKS");
    let key = jsonwebtoken::EncodingKey::from_ed_der(doc.as_ref());

    let bin = std::env::var("TOKEN_INSPECTOR_BIN").unwrap_or_else(|_| {
        format!(
            "{}/target/release/token-inspector",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let mut server = Command::new(&bin)
        .args(["mock-server", "--port", "0", "--client"])
        .arg(format!("load={}", jwks_path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin} mock-server (cargo build --release first): {e}"));
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let issuer = loop {
        let line = lines.next().expect("an issuer line").expect("read stdout");
        if let Some(rest) = line.strip_prefix("issuer: ") {
            break rest.trim().to_owned();
        }
    };
    // Keep reading the request log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "sandbox load: {total} client_credentials token requests over {connections} connections, server pid {} (release), client in another process",
        server.id()
    );
    for run in 1..=runs {
        let assertions: Vec<String> = (0..total)
            .map(|_| assertion(&key, &issuer))
            .collect::<Vec<_>>();
        let (elapsed, mut latencies) = runtime.block_on(fire(&issuer, assertions, connections));
        latencies.sort();
        let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
        println!(
            "run {run}: {:.2} s, {:.0} req/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            ms(pct(50)),
            ms(pct(90)),
            ms(pct(99)),
            ms(*latencies.last().expect("latencies")),
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn assertion(key: &jsonwebtoken::EncodingKey, issuer: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let header = json!({"alg": "EdDSA", "kid": "load"});
    let claims = json!({"iss": "load", "sub": "load", "aud": issuer,
        "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, jsonwebtoken::Algorithm::EdDSA)
        .expect("sign");
    format!("{input}.{sig}")
}

async fn fire(
    issuer: &str,
    assertions: Vec<String>,
    connections: usize,
) -> (Duration, Vec<Duration>) {
    let url = format!("{issuer}/token");
    let per = assertions.len().div_ceil(connections);
    let chunks: Vec<Vec<String>> = assertions.chunks(per).map(<[String]>::to_vec).collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            // One connection per task (HTTP/1.1 keep-alive), as 50 separate clients would.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client");
            let mut out = Vec::with_capacity(chunk.len());
            for assertion in chunk {
                let t = Instant::now();
                let response = http
                    .post(&url)
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("scope", "accounts"),
                        ("client_assertion_type", JWT_BEARER),
                        ("client_assertion", assertion.as_str()),
                    ])
                    .send()
                    .await
                    .expect("answered");
                let status = response.status().as_u16();
                let body: Value = response.json().await.expect("JSON");
                out.push((t.elapsed(), status, body["access_token"].clone()));
            }
            out
        }));
    }
    let mut latencies = Vec::new();
    let mut tokens = std::collections::HashSet::new();
    for task in tasks {
        for (latency, status, token) in task.await.expect("task") {
            assert_eq!(status, 200, "every request answered 200");
            tokens.insert(token.as_str().expect("access_token").to_owned());
            latencies.push(latency);
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(tokens.len(), latencies.len(), "every access token distinct");
    (elapsed, latencies)
}
