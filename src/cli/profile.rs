//! `token-inspector profile list|show|import|export|import-key`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Exit, InputError, output};
use token_inspector::jose::keys::PrivateKey;
use token_inspector::storage::profile::ProfileStore;

/// Arguments of `profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ProfileAction,
    /// Print JSON (a list, a profile, or what was done) and JSON errors.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Profile actions.
#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// List the saved profiles (and the files that do not load, with why).
    List,
    /// List the ecosystem presets a new profile can start from.
    Presets,
    /// Create a profile from an ecosystem preset (editable afterwards, like any profile).
    New {
        /// Profile name.
        name: String,
        /// The preset id (see `profile presets`), e.g. ofm-paynet-sandbox.
        #[arg(long)]
        preset: String,
        /// The client_id the ecosystem registered for you.
        #[arg(long)]
        client_id: Option<String>,
        /// The issuer (presets for ecosystems with one issuer per bank have none).
        #[arg(long)]
        issuer: Option<String>,
        /// The redirect_uri registered for the client.
        #[arg(long)]
        redirect_uri: Option<String>,
    },
    /// Print a profile as TOML.
    Show {
        /// Profile name.
        name: String,
    },
    /// Import a profile TOML file (checked first).
    Import {
        /// The TOML file.
        file: PathBuf,
        /// Replace a profile of the same name (without it, import never overwrites).
        #[arg(long)]
        force: bool,
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
pub async fn run(args: ProfileArgs) -> anyhow::Result<Exit> {
    let store = ProfileStore::default_location().map_err(input)?;
    let json = args.json;
    match args.action {
        ProfileAction::List => Ok(list(&store, json)),
        ProfileAction::Presets => {
            let presets = token_inspector::storage::presets::all();
            if json {
                outln!("{}", output::pretty(&serde_json::to_value(presets)?));
            } else {
                for p in presets {
                    outln!("{:<20} {} (v{})", p.id, p.name, p.version);
                    outln!("{:<20} {}", "", p.summary());
                }
            }
            Ok(Exit::Ok)
        }
        ProfileAction::New {
            name,
            preset,
            client_id,
            issuer,
            redirect_uri,
        } => {
            let wanted = NewProfile {
                name,
                preset,
                client_id,
                issuer,
                redirect_uri,
            };
            new_profile(&store, wanted, json)
        }
        ProfileAction::Show { name } | ProfileAction::Export { name, out: None } => {
            let p = store.load(&name).map_err(input)?;
            if json {
                outln!("{}", output::pretty(&serde_json::to_value(&p)?));
            } else {
                out!("{}", p.to_toml());
            }
            Ok(Exit::Ok)
        }
        ProfileAction::Export {
            name,
            out: Some(path),
        } => {
            let p = store.load(&name).map_err(input)?;
            std::fs::write(&path, p.to_toml())
                .map_err(|e| InputError::new(format!("{}: {e}", path.display())))?;
            done(
                json,
                &format!("exported {:?} to {}", p.name, path.display()),
            );
            Ok(Exit::Ok)
        }
        ProfileAction::Import { file, force } => import(&store, &file, force, json).await,
        ProfileAction::ImportKey { name, file } => import_key(&store, &name, &file, json).await,
    }
}

fn input(e: impl std::fmt::Display) -> InputError {
    InputError::new(e.to_string())
}

/// `profile list`: the saved profiles, and the files that could not be read (exit 2).
fn list(store: &ProfileStore, json: bool) -> Exit {
    let (good, bad) = store.list();
    if json {
        let out = serde_json::json!({
            "dir": store.dir(),
            "profiles": good.iter().map(|p| serde_json::json!({
                "name": p.name, "issuer": p.issuer, "client_id": p.client_id,
                "preset": p.preset,
            })).collect::<Vec<_>>(),
            "unreadable": bad.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        outln!("{}", output::pretty(&out));
    } else {
        if good.is_empty() && bad.is_empty() {
            outln!("no profiles in {}", store.dir().display());
        }
        for p in &good {
            let client = if p.client_id.is_empty() {
                "-"
            } else {
                &p.client_id
            };
            outln!("{:<32} {:<44} {client}", p.name, p.issuer);
        }
        for e in &bad {
            eprintln!("error: {e}");
        }
    }
    if bad.is_empty() {
        Exit::Ok
    } else {
        Exit::Usage
    }
}

/// What `profile new` was asked for.
struct NewProfile {
    name: String,
    preset: String,
    client_id: Option<String>,
    issuer: Option<String>,
    redirect_uri: Option<String>,
}

/// `profile new`: a profile from a preset, with the client's own values.
fn new_profile(store: &ProfileStore, wanted: NewProfile, json: bool) -> anyhow::Result<Exit> {
    let NewProfile {
        name,
        preset,
        client_id,
        issuer,
        redirect_uri,
    } = wanted;
    let found = token_inspector::storage::presets::find(&preset).ok_or_else(|| {
        let ids: Vec<&str> = token_inspector::storage::presets::all()
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        InputError::new(format!(
            "no preset {preset:?}; the presets are {}",
            ids.join(", ")
        ))
    })?;
    if store.load(&name).is_ok() {
        return Err(InputError::new(format!(
            "a profile named {name:?} exists already: pick another name or delete it"
        ))
        .into());
    }
    let mut profile = found.to_profile(&name);
    if let Some(v) = client_id {
        profile.client_id = v;
    }
    if let Some(v) = issuer
        && v != profile.issuer
    {
        // Another server (a bank's own, or the local sandbox): its endpoints come
        // from its discovery, not from the preset.
        profile.issuer = v;
        profile.endpoints = Default::default();
    }
    if let Some(v) = redirect_uri {
        profile.redirect_uri = v;
    }
    let path = store.save(&profile).map_err(input)?;
    if json {
        outln!(
            "{}",
            output::pretty(
                &serde_json::json!({"done": "created", "path": path, "profile": profile})
            )
        );
        return Ok(Exit::Ok);
    }
    outln!(
        "created {:?} from {} in {}",
        profile.name,
        found.name,
        path.display()
    );
    outln!(
        "assertion aud: {} ({})",
        profile.auth.aud.as_str(),
        found.aud_note
    );
    if !found.redirect_note.is_empty() {
        outln!("redirect_uri: {}", found.redirect_note);
    }
    let quoted = token_inspector::oauth::render::shell_quote(&profile.name);
    outln!(
        "next: token-inspector profile import-key {quoted} KEY.pem, then authorize --profile {quoted} --listen"
    );
    Ok(Exit::Ok)
}

/// `profile import FILE`: a shared profile read as untrusted input (checked, its
/// references to other profiles' keychain entries dropped, an overlong assertion
/// lifetime lowered) and saved; an existing profile is replaced only with `--force`.
async fn import(
    store: &ProfileStore,
    file: &std::path::Path,
    force: bool,
    json: bool,
) -> anyhow::Result<Exit> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| InputError::new(format!("{}: {e}", file.display())))?;
    let shared = token_inspector::storage::profile::read_shared(&text, file).map_err(input)?;
    if !force && store.load(&shared.profile.name).is_ok() {
        return Err(
            input(token_inspector::storage::profile::ProfileError::Exists(
                shared.profile.name.clone(),
            ))
            .into(),
        );
    }
    for (entry, value) in &shared.header_secrets {
        super::keygen::keep_in_keychain(entry.clone(), value.clone()).await?;
    }
    let path = store.import(&shared, force).map_err(input)?;
    let message = format!("imported {:?} into {}", shared.profile.name, path.display());
    if json {
        outln!(
            "{}",
            output::pretty(&serde_json::json!({ "done": message, "notes": shared.notes }))
        );
    } else {
        for note in &shared.notes {
            eprintln!("{note}");
        }
        outln!("{message}");
    }
    Ok(Exit::Ok)
}

/// `profile import-key NAME FILE`: the key kept in the keychain entry of the profile.
async fn import_key(
    store: &ProfileStore,
    name: &str,
    file: &std::path::Path,
    json: bool,
) -> anyhow::Result<Exit> {
    let mut profile = store.load(name).map_err(input)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| InputError::new(format!("{}: {e}", file.display())))?;
    let key =
        PrivateKey::load(&text).map_err(|e| InputError::new(format!("{}: {e}", file.display())))?;
    let entry = profile.key_entry();
    let describe =
        super::keygen::keep_in_keychain(entry.clone(), key.to_pkcs8_pem().clone()).await?;
    profile.auth.key = Some(entry.clone());
    store.save(&profile).map_err(input)?;
    done(
        json,
        &format!(
            "stored the {} key in the keychain entry {entry:?} of {describe} (thumbprint {})",
            key.key_type(),
            key.thumbprint()
        ),
    );
    Ok(Exit::Ok)
}

/// Says what was done: a line, or `{"done": "..."}`.
fn done(json: bool, message: &str) {
    if json {
        outln!(
            "{}",
            output::pretty(&serde_json::json!({ "done": message }))
        );
    } else {
        outln!("{message}");
    }
}
