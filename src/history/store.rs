//! The history files, one JSON-lines file per profile, and what they tell the diagnosis
//! of a later refusal.

#![deny(clippy::arithmetic_side_effects)]

use std::path::{Path, PathBuf};

use crate::jose::hash::fingerprint;

use crate::history::HistoryEntry;

/// How many exchanges a profile keeps (and lists); the oldest go first.
pub const HISTORY_CAPACITY: usize = 200;

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// No data directory on this system.
    #[error("no data directory for the history (set TOKEN_INSPECTOR_DATA_DIR)")]
    NoDataDir,
    /// A file operation failed.
    #[error("history {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The history files: one JSON-lines file per profile in `<data dir>/history/`.
#[derive(Clone, Debug)]
pub struct HistoryStore {
    dir: PathBuf,
}

impl HistoryStore {
    /// A store in this directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default place: `TOKEN_INSPECTOR_DATA_DIR`, else the config directory's
    /// `data/` when `TOKEN_INSPECTOR_CONFIG_DIR` is set (tests), else the OS data
    /// directory (`~/.local/share/token-inspector` on Linux); then `history/`.
    pub fn default_location() -> Result<Self, HistoryError> {
        if let Some(dir) = std::env::var_os("TOKEN_INSPECTOR_DATA_DIR") {
            return Ok(Self::at(PathBuf::from(dir).join("history")));
        }
        if let Some(dir) = std::env::var_os("TOKEN_INSPECTOR_CONFIG_DIR") {
            return Ok(Self::at(PathBuf::from(dir).join("data").join("history")));
        }
        let dirs = directories::ProjectDirs::from("io", "token-inspector", "token-inspector")
            .ok_or(HistoryError::NoDataDir)?;
        Ok(Self::at(dirs.data_dir().join("history")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(super) fn file(&self, profile: &str) -> PathBuf {
        let stem: String = profile
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{stem}.jsonl"))
    }

    /// Adds an entry: one line appended (mode 0600), so an exchange pays for one
    /// small write, not for the whole history. When the file holds a quarter more than
    /// [`HISTORY_CAPACITY`] entries it is rewritten with the newest ones only (written
    /// beside, then renamed, so it is never seen half written).
    pub fn append(&self, entry: &HistoryEntry) -> Result<(), HistoryError> {
        use std::io::Write as _;
        let path = self.file(&entry.profile);
        let io = |source| HistoryError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let mut line = serde_json::to_string(entry).map_err(|e| io(std::io::Error::other(e)))?;
        line.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(io)?;
        // Entries are a few KiB: a size well past the cap's is the cue to count.
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > (HISTORY_CAPACITY as u64).saturating_mul(1024) {
            let lines = std::fs::read_to_string(&path).map_err(io)?;
            let all: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
            if all.len() > HISTORY_CAPACITY.saturating_add(HISTORY_CAPACITY / 4) {
                let newest = all.len().saturating_sub(HISTORY_CAPACITY);
                let keep = format!("{}\n", all.get(newest..).unwrap_or_default().join("\n"));
                let partial = path.with_extension("jsonl.partial");
                write_private(&partial, keep.as_bytes()).map_err(io)?;
                std::fs::rename(&partial, &path).map_err(io)?;
            }
        }
        Ok(())
    }

    /// A profile's entries, newest first. A line that does not read is skipped (a
    /// history is a convenience, not a record to refuse over).
    pub fn list(&self, profile: &str) -> Result<Vec<HistoryEntry>, HistoryError> {
        let path = self.file(profile);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(HistoryError::Io { path, source }),
        };
        let mut out: Vec<HistoryEntry> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        out.reverse();
        out.truncate(HISTORY_CAPACITY);
        Ok(out)
    }

    /// Adds what this profile's earlier requests tell the diagnosis: the jtis and code
    /// fingerprints already sent, and, where the caller does not know them, the PKCE
    /// challenge and redirect_uri of the authorization (the newest successful PAR with
    /// this `state`, or the newest one when the state is not known).
    pub fn enrich(
        &self,
        profile: &str,
        state: Option<&str>,
        evidence: &mut crate::diagnosis::Evidence,
    ) {
        let entries = self.list(profile).unwrap_or_default();
        evidence.earlier_jtis = Some(entries.iter().filter_map(|e| e.jti.clone()).collect());
        evidence.earlier_codes = Some(
            entries
                .iter()
                .filter_map(|e| e.code_fingerprint.clone())
                .collect(),
        );
        if evidence.consent.is_none() {
            evidence.consent = entries.iter().find_map(consent_of);
        }
        if evidence.pkce_challenge.is_some() {
            return;
        }
        let par = entries
            .iter()
            .filter(|e| e.kind == "par" && e.is_success())
            .find(|e| state.is_none_or(|s| authorization_param(e, "state").as_deref() == Some(s)));
        if let Some(par) = par {
            evidence.pkce_challenge = authorization_param(par, "code_challenge");
            if evidence.authorization_started_at.is_none() {
                evidence.authorization_started_at =
                    crate::jose::numeric_date::parse_rfc3339(&par.sent_at);
            }
            if evidence.authorization_redirect_uri.is_none() {
                evidence.authorization_redirect_uri = authorization_param(par, "redirect_uri");
            }
        }
    }

    /// What the history tells about an access token used in an API call: the
    /// certificate it was issued over (its binding), and the consent it carries.
    pub fn enrich_call(
        &self,
        profile: &str,
        access_token: &str,
        evidence: &mut crate::diagnosis::Evidence,
    ) {
        let print = format!("<{}>", fingerprint(access_token));
        let entries = self.list(profile).unwrap_or_default();
        let issued = entries.iter().find(|e| {
            e.kind.starts_with("token") && e.response["body"]["access_token"] == print.as_str()
        });
        if let Some(issued) = issued {
            evidence.token_certificate_x5t = Some(issued.certificate_x5t.clone());
            if evidence.consent.is_none() {
                evidence.consent = consent_of(issued);
            }
        }
        if evidence.consent.is_none() {
            evidence.consent = entries.iter().find_map(consent_of);
        }
    }
}

/// The consent a kept token answer granted (Ozone's `authorization_details[].consent`):
/// its status and expiry as last seen.
fn consent_of(entry: &HistoryEntry) -> Option<crate::diagnosis::ConsentState> {
    if !entry.is_success() {
        return None;
    }
    let details = entry.response["body"]["authorization_details"].as_array()?;
    details.iter().find_map(|d| {
        let consent = crate::oauth::response::AuthorizationDetail::from_value(d).consent?;
        let expires_at = consent
            .expiration_datetime
            .as_deref()
            .and_then(crate::jose::numeric_date::parse_rfc3339);
        Some(crate::diagnosis::ConsentState {
            status: consent.status,
            authorized_word: None,
            expires_at,
        })
    })
}

/// A parameter of an authorization request as kept: the PAR form's, else the signed
/// request object's claim.
fn authorization_param(entry: &HistoryEntry, name: &str) -> Option<String> {
    entry.request["form"]
        .as_array()
        .and_then(|form| form.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str().map(str::to_owned))
        .or_else(|| {
            entry.request["request_object"]["claims"][name]
                .as_str()
                .map(str::to_owned)
        })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    // No fsync: the history is a convenience, and the rename keeps it whole; an fsync
    // per exchange would cost the command line more than the exchange itself.
    options.open(path)?.write_all(bytes)
}
