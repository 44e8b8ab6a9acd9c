//! Token Inspector: build, send and explain FAPI token exchanges.
//!
//! The core is plain Rust with no GUI: profiles, keys, client assertions, the request
//! model and its renderings (raw HTTP, curl), the HTTP exchange, JOSE decoding and
//! verification, findings, and the embedded sandbox authorization server. The desktop
//! app (`gui`, behind the default `gui` feature) and the command line (`cli`) sit on it.

pub mod checks;
pub mod cli;
#[cfg(feature = "gui")]
pub mod gui;
pub mod jwe;
pub mod jwt;
pub mod numeric_date;
pub mod sandbox;
pub mod secret;
pub mod verify;
pub mod keys;
pub mod pkce;
pub mod secrets;
pub mod assertion;
pub mod profile;
pub mod render;
pub mod request;
pub mod http;
pub mod response;
pub mod discovery;
pub mod exchange;
pub mod redirect;
pub mod authorize;
