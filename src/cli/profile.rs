//! `token-inspector profile list|show|import|export|import-key`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Exit;
use token_inspector::jose::keys::PrivateKey;
use token_inspector::storage::profile::{Profile, ProfileStore};

/// Arguments of `profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ProfileAction,
}

/// Profile actions.
#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// List the saved profiles (and the files that do not load, with why).
    List,
    /// Print a profile as TOML.
    Show {
        /// Profile name.
        name: String,
    },
    /// Import a profile TOML file (checked first).
    Import {
        /// The TOML file.
        file: PathBuf,
    },
    /// Export a profile as TOML (it holds no secrets, only keychain entry names).
    Export {
        /// Profile name.
        name: String,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Put a private key file (PEM or JWK) into the keychain for a profile.
    ImportKey {
        /// Profile name.
        name: String,
        /// The key file.
        file: PathBuf,
    },
}

/// Runs `profile`.
pub async fn run(args: ProfileArgs) -> Exit {
    let store = match ProfileStore::default_location() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    match args.action {
        ProfileAction::List => {
            let (good, bad) = store.list();
            if good.is_empty() && bad.is_empty() {
                println!("no profiles in {}", store.dir().display());
            }
            for p in &good {
                println!(
                    "{:<32} {:<44} {}",
                    p.name,
                    p.issuer,
                    if p.client_id.is_empty() {
                        "-"
                    } else {
                        &p.client_id
                    }
                );
            }
            for e in &bad {
                eprintln!("error: {e}");
            }
            if bad.is_empty() {
                Exit::Ok
            } else {
                Exit::Usage
            }
        }
        ProfileAction::Show { name } | ProfileAction::Export { name, out: None } => {
            match store.load(&name) {
                Ok(p) => {
                    print!("{}", p.to_toml());
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Exit::Usage
                }
            }
        }
        ProfileAction::Export {
            name,
            out: Some(path),
        } => match store.load(&name) {
            Ok(p) => match std::fs::write(&path, p.to_toml()) {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    Exit::Usage
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Usage
            }
        },
        ProfileAction::Import { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return Exit::Usage;
                }
            };
            let profile = match Profile::from_toml(&text, &file) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Exit::Usage;
                }
            };
            let problems = profile.validate();
            if !problems.is_empty() {
                for p in problems {
                    eprintln!("error: {}: {p}", file.display());
                }
                return Exit::Usage;
            }
            match store.save(&profile) {
                Ok(path) => {
                    println!("imported {:?} into {}", profile.name, path.display());
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Exit::Usage
                }
            }
        }
        ProfileAction::ImportKey { name, file } => {
            let result = (|| -> anyhow::Result<String> {
                let mut profile = store.load(&name)?;
                let text = std::fs::read_to_string(&file)?;
                let key = PrivateKey::load(&text)?;
                let entry = profile.key_entry();
                token_inspector::storage::secret_store::open_default_store()?
                    .set(&entry, key.to_pkcs8_pem())?;
                profile.auth.key = Some(entry.clone());
                store.save(&profile)?;
                Ok(format!(
                    "stored the {} key in the keychain entry {entry:?} (thumbprint {})",
                    key.key_type(),
                    key.thumbprint()
                ))
            })();
            match result {
                Ok(msg) => {
                    println!("{msg}");
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    Exit::Usage
                }
            }
        }
    }
}
