//! The command line, run as a user runs it: the built binary, its output and its exit
//! codes (0 success, 1 server error, 2 usage/input error, 3 network failure).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::cli::{BIN, Cli};

mod outputs;
mod security;

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

/// A loopback port with nothing listening.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
