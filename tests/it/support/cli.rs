//! The command line as a user runs it: the built binary, a private config directory
//! (profiles, history), no secret inherited from the environment.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_token-inspector");

/// The variables that carry secrets: a test never inherits them.
const SECRET_VARIABLES: &[&str] = &[
    "TOKEN_INSPECTOR_CLIENT_SECRET",
    "TOKEN_INSPECTOR_REFRESH_TOKEN",
    "TOKEN_INSPECTOR_SECRET",
    "TOKEN_INSPECTOR_TOKEN",
    "TOKEN_INSPECTOR_ACCESS_TOKEN",
    "TOKEN_INSPECTOR_CODE",
    "TOKEN_INSPECTOR_CODE_VERIFIER",
    "TOKEN_INSPECTOR_REDIRECT_URL",
];

/// The binary with `dir` as its config directory and no secret from the environment.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("TOKEN_INSPECTOR_CONFIG_DIR", dir);
    for name in SECRET_VARIABLES {
        cmd.env_remove(name);
    }
    cmd
}

/// Runs the binary with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).output().unwrap()
}

/// What a run printed, and how it ended.
pub struct Run {
    /// The exit code (-1 for a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the binary with `args`, `stdin` piped in and `env` set, in `dir`.
pub fn run_with(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = command(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Standard output as one JSON value.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The exit code and standard output as JSON.
pub fn code_and_json(out: &Output) -> (i32, Value) {
    (out.status.code().unwrap_or(-1), json(out))
}

/// A key pair made by `keygen` in `dir`: the private key file and its public JWKS file
/// (kid: the RFC 7638 thumbprint). `key_type`: `rsa2048`, `p256`, `ed25519`.
pub fn keypair(dir: &Path, name: &str, key_type: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.pem"));
    let jwks = dir.join(format!("{name}.jwks.json"));
    let out = run_in(
        dir,
        &[
            "keygen",
            "--type",
            key_type,
            "--out",
            key.to_str().unwrap(),
            "--jwks-out",
            jwks.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    (key, jwks)
}

/// A private config directory for one test, and the binary run in it.
pub struct Cli {
    /// The directory (removed at the end of the test).
    pub dir: tempfile::TempDir,
}

impl Cli {
    /// A fresh directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A path in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the binary with `args`.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(self.dir.path(), args)
    }

    /// The RSA key `client.pem` (and `client.jwks.json`), made once by `keygen`.
    pub fn key_file(&self) -> PathBuf {
        let key = self.path("client.pem");
        if !key.exists() {
            keypair(self.dir.path(), "client", "rsa2048");
        }
        key
    }
}
