//! The directory of profile files: list, load, save (owner-only), import, delete.

use std::path::{Path, PathBuf};

use super::{Profile, ProfileError, SharedProfile};

/// The directory of profile files.
#[derive(Clone, Debug)]
pub struct ProfileStore {
    dir: PathBuf,
}

impl ProfileStore {
    /// A store in the given directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The OS config directory (`~/.config/token-inspector/profiles` on Linux), or
    /// `$TOKEN_INSPECTOR_CONFIG_DIR/profiles` when set.
    pub fn default_location() -> Result<Self, ProfileError> {
        if let Some(dir) = std::env::var_os("TOKEN_INSPECTOR_CONFIG_DIR") {
            return Ok(Self::at(PathBuf::from(dir).join("profiles")));
        }
        let dirs = directories::ProjectDirs::from("io", "token-inspector", "token-inspector")
            .ok_or(ProfileError::NoConfigDir)?;
        Ok(Self::at(dirs.config_dir().join("profiles")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a profile is saved in.
    pub fn path_for(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.toml", file_stem(name)))
    }

    /// Every profile file: the good ones and, separately, the errors of the bad ones, so
    /// one broken file does not hide the others.
    pub fn list(&self) -> (Vec<Profile>, Vec<ProfileError>) {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (good, bad),
            Err(source) => {
                bad.push(ProfileError::Io {
                    path: self.dir.clone(),
                    source,
                });
                return (good, bad);
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            match self.load_path(&path) {
                Ok(p) => good.push(p),
                Err(e) => bad.push(e),
            }
        }
        good.sort_by_key(|p| p.name.to_lowercase());
        (good, bad)
    }

    /// Loads one profile file.
    pub fn load_path(&self, path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Profile::from_toml(&text, path)
    }

    /// Loads a profile by name.
    pub fn load(&self, name: &str) -> Result<Profile, ProfileError> {
        let path = self.path_for(name);
        if !path.exists() {
            let (all, _) = self.list();
            return all
                .into_iter()
                .find(|p| p.name == name)
                .ok_or_else(|| ProfileError::NotFound(name.to_owned()));
        }
        self.load_path(&path)
    }

    /// Saves a profile (creating the directory), replacing the file of the same name.
    pub fn save(&self, profile: &Profile) -> Result<PathBuf, ProfileError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| ProfileError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let path = self.path_for(&profile.name);
        let tmp = path.with_extension("toml.tmp");
        write_owner_only(&tmp, profile.to_toml().as_bytes()).map_err(|source| {
            ProfileError::Io {
                path: tmp.clone(),
                source,
            }
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| ProfileError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Saves a shared profile ([`read_shared`]); an existing profile of the same name is
    /// replaced only when `replace` says so.
    pub fn import(&self, shared: &SharedProfile, replace: bool) -> Result<PathBuf, ProfileError> {
        let name = &shared.profile.name;
        if !replace && (self.path_for(name).exists() || self.load(name).is_ok()) {
            return Err(ProfileError::Exists(name.clone()));
        }
        self.save(&shared.profile)
    }

    /// Deletes a profile's file.
    pub fn delete(&self, name: &str) -> Result<(), ProfileError> {
        let path = self.path_for(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(ProfileError::NotFound(name.to_owned()))
            }
            Err(source) => Err(ProfileError::Io { path, source }),
        }
    }
}

/// Writes a file only its owner can read (mode 0600 on Unix): a profile names the
/// client, its endpoints and its headers, which are not for every user of the machine.
/// A file left by an earlier run is replaced, never followed through a symlink.
fn write_owner_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    match std::fs::symlink_metadata(path) {
        Ok(_) => std::fs::remove_file(path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// A file-name-safe stem for a profile name.
pub fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-').to_owned();
    if stem.is_empty() {
        "profile".to_owned()
    } else {
        stem
    }
}
