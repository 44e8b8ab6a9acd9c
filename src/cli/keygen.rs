//! `token-inspector keygen`: generate a signing key into a profile's keychain entry
//! (or, only when asked explicitly, a file) and print its kid and public JWKS.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use anyhow::Context as _;

use super::{Exit, InputError, output};
use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
use token_inspector::storage::profile::ProfileStore;

/// Key types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyTypeArg {
    /// RSA 2048 (PS256).
    Rsa2048,
    /// RSA 3072 (PS256).
    Rsa3072,
    /// EC P-256 (ES256).
    P256,
    /// Ed25519 (EdDSA).
    Ed25519,
}

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key type.
    #[arg(long = "type", value_enum, default_value = "rsa2048")]
    pub key_type: KeyTypeArg,
    /// Store the private key in the OS keychain for this profile and point the profile
    /// at it (the profile is created when missing).
    #[arg(long)]
    pub profile: Option<String>,
    /// Also write the PRIVATE key to this file (PKCS#8 PEM, mode 0600). Explicit export:
    /// the file holds the secret in plaintext.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the public JWKS to this file.
    #[arg(long, value_name = "FILE")]
    pub jwks_out: Option<PathBuf>,
    /// The kid (default: the RFC 7638 thumbprint).
    #[arg(long)]
    pub kid: Option<String>,
    /// Print one JSON object (type, alg, kid, thumbprint, keychain entry, public JWKS).
    #[arg(long)]
    pub json: bool,
}

/// Keeps a private key in the OS keychain entry (a blocking call: off the async
/// threads) and says which keychain took it.
pub(super) async fn keep_in_keychain(
    entry: String,
    pem: token_inspector::secret::Secret,
) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let secrets = token_inspector::storage::secret_store::open_default_store()?;
        secrets.set(&entry, &pem)?;
        anyhow::Ok(secrets.describe())
    })
    .await
    .context("the keychain call stopped")?
}

/// Runs `keygen`.
pub async fn run(args: KeygenArgs) -> anyhow::Result<Exit> {
    let key_type = match args.key_type {
        KeyTypeArg::Rsa2048 => KeyType::Rsa { bits: 2048 },
        KeyTypeArg::Rsa3072 => KeyType::Rsa { bits: 3072 },
        KeyTypeArg::P256 => KeyType::EC_P256,
        KeyTypeArg::Ed25519 => KeyType::ED25519,
    };
    let key = tokio::task::spawn_blocking(move || PrivateKey::generate(key_type))
        .await
        .context("key generation stopped")?
        .map_err(|e| InputError::new(e.to_string()))?;
    let alg = SigningAlg::default_for(key.key_type());
    let kid = args.kid.clone().unwrap_or_else(|| key.thumbprint());
    let jwks = key.public_jwks(Some(&kid), alg);

    let mut stored_in = None;
    if let Some(name) = &args.profile {
        let store = ProfileStore::default_location().map_err(|e| InputError::new(e.to_string()))?;
        let mut profile = store
            .load(name)
            .unwrap_or_else(|_| token_inspector::storage::profile::Profile::new(name, ""));
        let entry = profile.key_entry();
        let describe = keep_in_keychain(entry.clone(), key.to_pkcs8_pem().clone()).await?;
        profile.auth.key = Some(entry.clone());
        profile.auth.kid = Some(kid.clone());
        profile.auth.alg = alg;
        let path = store
            .save(&profile)
            .map_err(|e| InputError::new(e.to_string()))?;
        if !args.json {
            eprintln!(
                "stored the private key in the keychain ({describe}); profile saved in {}",
                path.display()
            );
        }
        stored_in = Some(entry);
    }
    if let Some(path) = &args.out {
        write_private(path, key.to_pkcs8_pem().expose())
            .map_err(|e| InputError::new(format!("{}: {e}", path.display())))?;
        eprintln!(
            "wrote the PRIVATE key to {} (plaintext, mode 0600): keep it out of version control",
            path.display()
        );
    }
    if let Some(path) = &args.jwks_out {
        std::fs::write(path, output::pretty(&jwks))
            .map_err(|e| InputError::new(format!("{}: {e}", path.display())))?;
    }
    if args.profile.is_none() && args.out.is_none() {
        eprintln!(
            "note: the private key was not kept; use --profile NAME (keychain) or --out FILE"
        );
    }
    if args.json {
        let out = serde_json::json!({
            "type": key.key_type().to_string(),
            "alg": alg.as_str(),
            "kid": kid,
            "thumbprint": key.thumbprint(),
            "keychain_entry": stored_in,
            "jwks": jwks,
        });
        outln!("{}", output::pretty(&out));
    } else {
        outln!("type        {}", key.key_type());
        outln!("alg         {alg}");
        outln!("kid         {kid}");
        outln!("thumbprint  {}", key.thumbprint());
        outln!("\n{}", output::pretty(&jwks));
    }
    Ok(Exit::Ok)
}

fn write_private(path: &std::path::Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    // A symlink could point the private key anywhere (another user's file, a shared
    // folder): refused, never followed.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other(
            "is a symbolic link: give the path of a regular file",
        ));
    }
    // Written whole to a new file that only the owner can read, then renamed over the
    // path: an existing file's looser mode is not kept, and no reader sees half a key.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".into());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options
        .open(&tmp)
        .and_then(|mut file| file.write_all(pem.as_bytes()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
