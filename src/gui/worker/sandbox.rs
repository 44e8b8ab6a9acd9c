//! The embedded sandbox behind the Local sandbox profile: created on first launch,
//! started (or reused) with the profile's key registered, its local CA trusted and a
//! transport certificate made for mTLS.

use anyhow::{Context as _, anyhow};

use super::files::write_replacing;
use super::{Area, Event, Inner};
use crate::gui::state::Notice;
use crate::jose::keys::{KeyType, PrivateKey};
use crate::oauth::discovery;
use crate::oauth::transport::{Transport, TransportConfig};
use crate::sandbox::{ClientRegistration, DEMO_CLIENT_ID, Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::storage::profile::{LOCAL_SANDBOX, Profile};

impl Inner {
    /// The registered JWK Set of a Local sandbox client, for the diagnosis.
    pub(super) async fn sandbox_registration(&self, client_id: &str) -> Option<serde_json::Value> {
        self.sandbox
            .lock()
            .await
            .as_ref()
            .and_then(|s| s.registered_jwks(client_id))
    }

    /// First launch: the "Local sandbox" profile, its key, and the sandbox started.
    pub(super) async fn create_local_sandbox(&self) {
        let mut profile = Profile::new(LOCAL_SANDBOX, "http://127.0.0.1");
        profile.local_sandbox = true;
        profile.client_id = DEMO_CLIENT_ID.to_owned();
        profile.scope = "accounts openid".to_owned();
        match self.profiles.save(&profile) {
            Ok(_) => self.emit(Event::ProfileSaved {
                profile: Box::new(profile.clone()),
                previous_name: None,
                select: true,
            }),
            Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
        }
        self.start_sandbox(profile).await;
    }

    /// The Local sandbox profile's TLS: trust the sandbox's local CA (written next to the
    /// profiles: it changes at every start) and present a transport certificate (made once,
    /// self-signed, as PayNet's sandbox accepts; its key in the secret store).
    async fn prepare_local_mtls(
        &self,
        profile: &mut Profile,
        ca_pem: Option<&str>,
    ) -> anyhow::Result<()> {
        let dir = self
            .profiles
            .dir()
            .parent()
            .map(|d| d.join("sandbox"))
            .ok_or_else(|| anyhow!("no folder for the sandbox's certificates"))?;
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if let Some(ca) = ca_pem {
            let ca_file = dir.join("local-ca.pem");
            write_replacing(&ca_file, ca).await?;
            profile.tls.ca_file = Some(ca_file);
        }
        let entry = crate::storage::secret_store::entry_name(&profile.name, "mtls-key");
        let cert_file = dir.join("local-transport.pem");
        // A certificate made for another key (another profile folder, another store)
        // is made again with this one.
        let key = self.secret_get(entry.clone()).await.ok().flatten();
        let matches = match (key, tokio::fs::read_to_string(&cert_file).await) {
            (Some(key), Ok(cert)) => !crate::jose::public_key::identity_key_mismatch(&format!(
                "{cert}\n{}",
                key.expose()
            )),
            _ => false,
        };
        if !matches {
            let (cert_pem, key_pem) = self
                .blocking(|| -> anyhow::Result<(String, String)> {
                    let key = rcgen::KeyPair::generate()?;
                    let mut params =
                        rcgen::CertificateParams::new(vec!["token-inspector.local".to_owned()])?;
                    params
                        .distinguished_name
                        .push(rcgen::DnType::CommonName, "Token Inspector local TPP");
                    let cert = params.self_signed(&key)?;
                    Ok((cert.pem(), key.serialize_pem()))
                })
                .await??;
            if let Err(e) = self
                .secret_set(entry.clone(), Secret::new(key_pem.clone()))
                .await
            {
                self.fall_back_to_session_store(&format!("{e:#}"));
                self.secret_set(entry.clone(), Secret::new(key_pem)).await?;
            }
            write_replacing(&cert_file, &cert_pem).await?;
        }
        profile.tls.client_cert = Some(cert_file);
        profile.tls.client_key = Some(entry);
        Ok(())
    }

    /// The public half of the profile's decryption key as a JWK with `use: enc`, when the
    /// profile has one the keychain can read.
    async fn decryption_jwk(&self, profile: &Profile) -> Option<serde_json::Value> {
        let entry = profile.encryption_key.clone()?;
        let pem = self.secret_get(entry).await.ok()??;
        let key = PrivateKey::from_pem(pem.expose()).ok()?;
        let mut jwk = key.public_jwk(Some("enc-1"), crate::jose::keys::SigningAlg::PS256);
        let map = jwk.as_object_mut()?;
        map.remove("alg");
        map.insert("use".into(), "enc".into());
        Some(jwk)
    }

    /// Makes a decryption key for the profile (RSA, kept in the keychain), sets its
    /// PayNet-style data-call settings against the sandbox, and starts the sandbox again
    /// so the client's registration carries the key.
    pub(super) async fn set_up_data_calls(&self, mut profile: Profile) {
        let made = async {
            let key = self.generate_key(KeyType::Rsa { bits: 2048 }).await?;
            let entry = profile.own_entry(crate::storage::profile::DECRYPTION_KEY);
            self.secret_set(entry.clone(), key.to_pkcs8_pem().clone())
                .await?;
            anyhow::Ok(entry)
        }
        .await;
        match made {
            Ok(entry) => profile.encryption_key = Some(entry),
            Err(e) => {
                self.emit(Event::SandboxFailed(format!(
                    "the decryption key could not be made or kept: {e:#}"
                )));
                return;
            }
        }
        let issuer = profile.issuer.trim_end_matches('/').to_owned();
        if profile.client_id.trim().is_empty() {
            profile.client_id = DEMO_CLIENT_ID.to_owned();
        }
        profile.data_calls = crate::storage::profile::DataCalls {
            x_signature: Some(crate::storage::profile::XSignatureSettings {
                format: crate::storage::profile::XSignatureFormat::Compact,
                dc_id: profile.client_id.clone(),
                dp_id: crate::sandbox::DATA_PROVIDER_ID.to_owned(),
                sub: None,
            }),
            response_jwks: vec![format!("{issuer}/jwks")],
            resource_server: Some(format!("{issuer}/v1")),
            ..Default::default()
        };
        self.start_sandbox(profile).await;
    }

    /// Starts the sandbox (or reuses the running one), makes sure the profile has a key,
    /// registers its public JWKS, and points the profile at the sandbox (discovery).
    pub(super) async fn start_sandbox(&self, mut profile: Profile) {
        let _one_at_a_time = self.sandbox_start.lock().await;
        self.emit(Event::SandboxStarting);
        let result = async {
            // A keychain that cannot be read here is no reason for the demo to fail: the
            // key is then made for this session only.
            let loaded = match self.load_key(&profile).await {
                Ok(loaded) => loaded,
                Err(e) => {
                    self.fall_back_to_session_store(&e);
                    None
                }
            };
            let key = match loaded {
                Some(key) => key,
                None => {
                    let key = self.generate_key(KeyType::Rsa { bits: 2048 }).await?;
                    if let Err(e) = self.store_key(&profile, &key).await {
                        self.fall_back_to_session_store(&format!("{e:#}"));
                        self.store_key(&profile, &key).await?;
                    }
                    self.emit(Event::Key {
                        profile: profile.name.clone(),
                        result: Ok(Some(key.clone())),
                    });
                    key
                }
            };
            let mut slot = self.sandbox.lock().await;
            if slot.is_none() {
                let port = url::Url::parse(&profile.issuer)
                    .ok()
                    .and_then(|u| u.port())
                    .unwrap_or(0);
                // The strict Open Finance Malaysia mode: the demo walks the real bank's
                // path (HTTPS, JAR in PAR, mTLS on the back channel).
                let strict = |port| SandboxConfig {
                    port,
                    malaysia: true,
                    tls: Some(crate::sandbox::TlsOptions::default()),
                    ..SandboxConfig::default()
                };
                let started = match Sandbox::start(strict(port)).await {
                    Ok(h) => h,
                    Err(_) if port != 0 => Sandbox::start(strict(0))
                        .await
                        .map_err(|e| anyhow!("{e}"))?,
                    Err(e) => return Err(anyhow!("{e}")),
                };
                *slot = Some(started);
            }
            let sandbox = slot
                .as_ref()
                .ok_or_else(|| anyhow!("the sandbox stopped while starting"))?;
            let issuer = sandbox.issuer().to_owned();
            let ca_pem = sandbox.ca_pem();
            if profile.client_id.trim().is_empty() {
                profile.client_id = DEMO_CLIENT_ID.to_owned();
            }
            let kid = profile.auth.kid.clone().filter(|k| !k.is_empty());
            let mut jwks = key.public_jwks(kid.as_deref(), profile.auth.alg);
            if let (Some(enc), Some(keys)) = (
                self.decryption_jwk(&profile).await,
                jwks.get_mut("keys")
                    .and_then(serde_json::Value::as_array_mut),
            ) {
                keys.push(enc);
            }
            sandbox.register_client(ClientRegistration {
                client_id: profile.client_id.clone(),
                jwks,
                redirect_uris: Vec::new(),
            });
            drop(slot);
            let old_issuer = std::mem::replace(&mut profile.issuer, issuer.clone());
            if profile.redirect_uri.is_empty() || profile.redirect_uri.starts_with(&old_issuer) {
                profile.redirect_uri = format!("{issuer}/callback");
            }
            self.prepare_local_mtls(&mut profile, ca_pem.as_deref())
                .await?;
            let transport = Transport::new(TransportConfig {
                ca_pem: ca_pem.clone(),
                ..TransportConfig::default()
            })
            .map_err(|e| anyhow!("{e}"))?;
            let found = discovery::discover(&transport, &issuer, false)
                .await
                .map_err(|e| anyhow!("discovery at the sandbox failed: {e}"))?;
            discovery::apply_to_profile(&found, &mut profile);
            self.profiles.save(&profile).map_err(|e| anyhow!("{e}"))?;
            anyhow::Ok(issuer)
        }
        .await;
        match result {
            Ok(issuer) => self.emit(Event::SandboxReady {
                profile: Box::new(profile),
                issuer,
            }),
            Err(e) => self.emit(Event::SandboxFailed(format!("{e:#}"))),
        }
    }
}
