//! Token Inspector: build, send and explain FAPI token exchanges.
//!
//! The core is plain Rust with no GUI. Its folders follow the architecture:
//! - [`oauth`]: the pipeline from a profile to an exchange (settings, authorization,
//!   request model, client assertion, rendering, transport, response);
//! - [`jose`]: decoding, keys, verification and decryption of JOSE objects;
//! - [`storage`]: profiles, ecosystem presets and the secret store;
//! - [`checks`]: findings, pure functions from what was sent and received;
//! - [`diagnosis`]: why a refused exchange failed, each cause judged on local evidence;
//! - [`history`]: every exchange kept per profile without its secrets (entry, store,
//!   compare, redaction);
//! - [`inspector`]: the JWT inspector pipeline for one pasted token;
//! - [`sandbox`]: the embedded authorization server;
//! - [`support_bundle`]: one exchange, redacted, for a bank's support desk;
//! - [`gui`] (feature `gui`): the desktop app.
//!
//! The command line lives in the binary (`src/cli`), on top of this library.

pub mod checks;
pub mod diagnosis;
pub mod flow;
#[cfg(feature = "gui")]
pub mod gui;
pub mod history;
pub mod inspector;
pub mod jose;
pub mod oauth;
pub mod sandbox;
pub mod secret;
pub mod session;
pub mod storage;
pub mod support_bundle;
