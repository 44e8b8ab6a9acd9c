//! `mock-server --background`: the sandbox started as its own process, this command
//! returning once it listens: it prints the issuer, the process id and the log file
//! (with `--json`, the ready object with `pid` and `log` added), so scripts and docs
//! never wait a fixed time for it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Exit, InputError};

/// How long the sandbox may take to listen.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts this same command without `--background`, its output to `log`, and waits for
/// its ready line.
pub async fn start(log: Option<PathBuf>, port: u16, json: bool) -> anyhow::Result<Exit> {
    let log = log.unwrap_or_else(|| match port {
        0 => PathBuf::from(format!("mock-server-{}.log", std::process::id())),
        port => PathBuf::from(format!("mock-server-{port}.log")),
    });
    let exe = std::env::current_exe()
        .map_err(|e| InputError::new(format!("this program's path: {e}")))?;
    let args: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--background")
        .collect();
    let out = std::fs::File::create(&log)
        .map_err(|e| InputError::new(format!("--log {}: {e}", log.display())))?;
    let err = out
        .try_clone()
        .map_err(|e| InputError::new(e.to_string()))?;
    let mut command = std::process::Command::new(exe);
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err);
    // Its own process group: a Ctrl-C meant for the shell's next command leaves it be.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| InputError::new(format!("the sandbox could not start: {e}")))?;
    let started = Instant::now();
    loop {
        if let Some(ready) = ready_line(&log, json) {
            let pid = child.id();
            if json {
                let mut object: serde_json::Value =
                    serde_json::from_str(&ready).unwrap_or_default();
                object["pid"] = pid.into();
                object["log"] = log.display().to_string().into();
                outln!("{object}");
            } else {
                outln!("{ready}\npid: {pid}\nlog: {}", log.display());
            }
            return Ok(Exit::Ok);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(InputError::new(format!(
                "the sandbox stopped before it listened ({status}): {}",
                said.trim()
            ))
            .into());
        }
        if started.elapsed() > READY_TIMEOUT {
            let _ = child.kill();
            return Err(InputError::new("the sandbox did not listen within 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sandbox's ready line, once its log has one: `issuer: …`, or with `--json` the
/// first JSON object.
fn ready_line(log: &std::path::Path, json: bool) -> Option<String> {
    let file = std::fs::File::open(log).ok()?;
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .find(|line| {
            if json {
                line.starts_with('{') && line.contains("\"issuer\"")
            } else {
                line.starts_with("issuer: ")
            }
        })
}
