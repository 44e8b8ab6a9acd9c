//! Token Inspector: build, send and explain FAPI token exchanges.
//!
//! The core is plain Rust with no GUI: profiles, keys, client assertions, the request
//! model and its renderings (raw HTTP, curl), the HTTP exchange, JOSE decoding and
//! verification, findings, and the embedded sandbox authorization server. The desktop
//! app (`gui`, behind the default `gui` feature) and the command line (`cli`) sit on it.

pub mod assertion;
pub mod authorize;
pub mod checks;
pub mod cli;
pub mod discovery;
pub mod exchange;
#[cfg(feature = "gui")]
pub mod gui;
pub mod http;
pub mod jwe;
pub mod jwt;
pub mod keys;
pub mod numeric_date;
pub mod pkce;
pub mod profile;
pub mod redirect;
pub mod render;
pub mod request;
pub mod response;
pub mod sandbox;
pub mod secret;
pub mod secrets;
pub mod verify;
