//! The secret store and the keys in it: opening the keychain (or keeping secrets for
//! this session only), the signing key, the DPoP key, the client secret, and private
//! keys imported for mTLS and decryption. Every keychain call runs off the async threads.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};

use super::{Area, Event, Inner, PemKeyUse};
use crate::gui::state::Notice;
use crate::jose::keys::{KeyType, PrivateKey};
use crate::secret::Secret;
use crate::session::settings::{self, Keychain};
use crate::storage::profile::Profile;
use crate::storage::secret_store::{self, MemoryStore, SecretStore};

impl Inner {
    pub(super) fn store(&self) -> anyhow::Result<Arc<dyn SecretStore>> {
        self.store
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| {
                anyhow!(
                    "no secret store is open: unlock or start the OS keychain, or choose \"Keep secrets for this session only\" in the Client panel"
                )
            })
    }

    pub(super) fn keychain(&self) -> anyhow::Result<Keychain> {
        Ok(Keychain::given(self.store()?))
    }

    pub(super) async fn secret_get(&self, entry: String) -> anyhow::Result<Option<Secret>> {
        let store = self.store()?;
        Ok(self.blocking(move || store.get(&entry)).await??)
    }

    pub(super) async fn secret_set(&self, entry: String, value: Secret) -> anyhow::Result<()> {
        let store = self.store()?;
        Ok(self.blocking(move || store.set(&entry, &value)).await??)
    }

    pub(super) async fn open_store(&self) {
        let result = match &self.injected_store {
            // Probe it as the keychain is probed: a locked store answers with an error.
            Some(store) => {
                let probe = store.clone();
                match self
                    .blocking(move || probe.get("probe-entry-that-does-not-exist"))
                    .await
                {
                    Ok(Ok(_)) => Ok(store.clone()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            None => match self.blocking(secret_store::open_default_store).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        match result {
            Ok(store) => {
                let info = (store.describe(), store.is_persistent());
                if let Ok(mut slot) = self.store.lock() {
                    *slot = Some(store);
                }
                self.emit(Event::Store(Ok(info)));
            }
            Err(e) => self.emit(Event::Store(Err(e))),
        }
    }

    pub(super) fn use_session_store(&self) {
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
        let info = (store.describe(), store.is_persistent());
        if let Ok(mut slot) = self.store.lock() {
            *slot = Some(store);
        }
        self.emit(Event::Store(Ok(info)));
    }

    /// Switches to the in-memory store after the keychain refused, and says so.
    pub(super) fn fall_back_to_session_store(&self, why: &str) {
        if self.store().is_ok_and(|s| !s.is_persistent()) {
            return;
        }
        self.use_session_store();
        self.notice(
            Area::Client,
            Notice::info(format!(
                "The OS keychain could not keep the Local sandbox key ({why}); it is kept for this session only. Start a keychain (gnome-keyring, KeePassXC) to keep keys across restarts."
            )),
        );
    }

    pub(super) async fn load_key(&self, profile: &Profile) -> Result<Option<PrivateKey>, String> {
        let keychain = self.keychain().map_err(|e| format!("{e:#}"))?;
        let profile = profile.clone();
        self.blocking(move || settings::signing_key(&profile, &keychain))
            .await
            .map_err(|e| format!("{e:#}"))?
            .map_err(|e| e.to_string())
    }

    pub(super) async fn store_key(
        &self,
        profile: &Profile,
        key: &PrivateKey,
    ) -> anyhow::Result<()> {
        self.secret_set(profile.key_entry(), key.to_pkcs8_pem().clone())
            .await
    }

    pub(super) async fn generate_key(&self, key_type: KeyType) -> anyhow::Result<PrivateKey> {
        self.blocking(move || PrivateKey::generate(key_type))
            .await?
            .map_err(|e| anyhow!("{e}"))
    }

    /// The profile's keys for the UI: its certificate read, its signing key, its client
    /// secret. (Its DPoP key is [`Inner::load_dpop_key`].)
    pub(super) async fn load_keys(&self, profile: Profile) {
        if let Some(path) = profile.tls.client_cert.clone() {
            self.read_certificate(path).await;
        }
        let result = self.load_key(&profile).await;
        self.emit(Event::Key {
            profile: profile.name.clone(),
            result,
        });
        if profile.headers.iter().any(|h| h.keychain) {
            let mut filled = profile.clone();
            let read = match self.keychain() {
                Ok(keychain) => self
                    .blocking(move || {
                        settings::header_values(&mut filled, &keychain).map(|()| filled.headers)
                    })
                    .await
                    .map_err(|e| format!("{e:#}"))
                    .and_then(|r| r.map_err(|e| e.to_string())),
                Err(e) => Err(format!("{e:#}")),
            };
            match read {
                Ok(headers) => self.emit(Event::HeaderValues {
                    profile: profile.name.clone(),
                    headers,
                }),
                Err(e) => self.notice(Area::Client, Notice::error(e)),
            }
        }
        if let Some(entry) = profile.auth.client_secret.clone() {
            let result = self
                .secret_get(entry.clone())
                .await
                .map_err(|e| format!("{e:#}"));
            self.emit(Event::ClientSecret {
                profile: profile.name,
                entry,
                result,
            });
        }
    }

    /// The profile's DPoP key (RFC 9449) for the preview: from the keychain, made on
    /// first use; `None` when the profile does not use DPoP.
    pub(super) async fn load_dpop_key(&self, profile: &Profile) {
        let result = async {
            if !profile.dpop {
                return Ok(None);
            }
            let keychain = self.keychain()?;
            let profile = profile.clone();
            // One at a time: a key made on first use is made once.
            let _made_once = self.dpop_key_lock.lock().await;
            Ok(self
                .blocking(move || {
                    settings::dpop_key(&profile, &settings::Overrides::default(), true, &keychain)
                })
                .await??)
        }
        .await;
        self.emit(Event::DpopKey {
            profile: profile.name.clone(),
            result: result.map_err(|e: anyhow::Error| format!("{e:#}")),
        });
    }

    /// Moves the values of a profile's secret headers into the keychain before it is
    /// saved (a profile file holds no secret); false, and said, when the keychain
    /// refused (the profile is not saved).
    pub(super) async fn keep_header_secrets(&self, profile: &mut Profile) -> bool {
        for (entry, value) in profile.take_secret_header_values() {
            if let Err(e) = self.secret_set(entry, value).await {
                self.notice(
                    Area::Client,
                    Notice::error(format!(
                        "not saved: a secret header value could not be kept in the keychain ({e:#})"
                    )),
                );
                return false;
            }
        }
        true
    }

    /// Copies (or, for a rename, moves) a profile's secrets to another profile's own
    /// keychain entries: a profile uses only its own entries.
    pub(super) async fn carry_secrets(&self, from: &str, to: &str, remove: bool) {
        use crate::storage::profile::{
            CLIENT_SECRET, DECRYPTION_KEY, DPOP_KEY, MTLS_KEY, SIGNING_KEY,
        };
        let Ok(store) = self.store() else {
            return;
        };
        let (from, to) = (from.to_owned(), to.to_owned());
        let carried = self
            .blocking(
                move || -> Result<(), crate::storage::secret_store::SecretStoreError> {
                    for what in [
                        SIGNING_KEY,
                        CLIENT_SECRET,
                        MTLS_KEY,
                        DECRYPTION_KEY,
                        DPOP_KEY,
                    ] {
                        let old = secret_store::entry_name(&from, what);
                        if let Some(secret) = store.get(&old)? {
                            store.set(&secret_store::entry_name(&to, what), &secret)?;
                            if remove {
                                store.delete(&old)?;
                            }
                        }
                    }
                    Ok(())
                },
            )
            .await;
        let problem = match carried {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("{e:#}"),
        };
        self.notice(
            Area::Client,
            Notice::error(format!(
                "the profile's secrets could not be carried to its new keychain entries ({problem}): import its key again"
            )),
        );
    }

    pub(super) async fn store_client_secret(&self, profile: Profile, secret: Secret) {
        let entry = profile.client_secret_entry();
        let result = self
            .secret_set(entry.clone(), secret.clone())
            .await
            .map(|()| Some(secret))
            .map_err(|e| format!("{e:#}"));
        self.emit(Event::ClientSecret {
            profile: profile.name,
            entry,
            result,
        });
    }

    pub(super) async fn generate_and_store_key(&self, profile: Profile, key_type: KeyType) {
        let result = async {
            let key = self.generate_key(key_type).await?;
            self.store_key(&profile, &key).await?;
            anyhow::Ok(key)
        }
        .await;
        self.key_result(&profile, result, "generated").await;
    }

    pub(super) async fn import_key(&self, profile: Profile) {
        let result = async {
            let Some((path, text)) = self.read_picked("Import a signing key").await? else {
                return Ok(None);
            };
            let key = PrivateKey::load(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            self.store_key(&profile, &key).await?;
            anyhow::Ok(Some(key))
        }
        .await;
        match result {
            Ok(None) => {}
            Ok(Some(key)) => self.key_result(&profile, Ok(key), "imported").await,
            Err(e) => self.key_result(&profile, Err(e), "imported").await,
        }
    }

    pub(super) async fn import_pem_key(&self, profile: Profile, used_for: PemKeyUse) {
        let result = async {
            let Some((path, text)) = self.read_picked(used_for.title()).await? else {
                return Ok(None);
            };
            if !text.contains("PRIVATE KEY") {
                return Err(anyhow!(
                    "{} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)",
                    path.display()
                ));
            }
            let entry = secret_store::entry_name(&profile.name, used_for.entry());
            self.secret_set(entry.clone(), Secret::new(text)).await?;
            anyhow::Ok(Some(entry))
        }
        .await;
        match result {
            Ok(Some(entry)) => self.emit(Event::PemKey {
                profile: profile.name,
                used_for,
                entry,
            }),
            Ok(None) => {}
            Err(e) => self.notice(Area::Client, Notice::error(format!("{e:#}"))),
        }
    }

    async fn key_result(&self, profile: &Profile, result: anyhow::Result<PrivateKey>, how: &str) {
        match result {
            Ok(key) => {
                let thumbprint = key.thumbprint();
                let key_type = key.key_type();
                self.emit(Event::Key {
                    profile: profile.name.clone(),
                    result: Ok(Some(key)),
                });
                self.notice(
                    Area::Client,
                    Notice::info(format!(
                        "key {how} and kept in the secret store (thumbprint {thumbprint}); register its public JWKS with the server"
                    )),
                );
                if profile.local_sandbox {
                    // The sandbox must know the new public key (with an alg that fits it).
                    let mut profile = profile.clone();
                    if !profile.auth.alg.fits(key_type) {
                        profile.auth.alg = crate::jose::keys::SigningAlg::default_for(key_type);
                    }
                    self.start_sandbox(profile).await;
                }
            }
            Err(e) => self.notice(Area::Client, Notice::error(format!("{e:#}"))),
        }
    }

    /// Reads a client certificate file and says what it holds (RFC 8705 §3.1 `x5t#S256`).
    pub(super) async fn read_certificate(&self, path: PathBuf) {
        let result = match tokio::fs::read_to_string(&path).await {
            Ok(text) => crate::jose::public_key::certificate_info(&text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        };
        self.emit(Event::Certificate { path, result });
    }

    pub(super) async fn pick_file(&self, title: &'static str) -> anyhow::Result<Option<PathBuf>> {
        let files = self.files.clone();
        self.blocking(move || files.pick_file(title)).await
    }

    pub(super) async fn read_picked(
        &self,
        title: &'static str,
    ) -> anyhow::Result<Option<(PathBuf, String)>> {
        let Some(path) = self.pick_file(title).await? else {
            return Ok(None);
        };
        let text = tokio::fs::read_to_string(&path)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Some((path, text)))
    }
}
