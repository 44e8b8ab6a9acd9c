//! What is kept between runs: profiles on disk (secret references only), the ecosystem
//! presets profiles start from, and the secret store (the OS keychain) that holds the
//! secrets the profiles refer to. The exchange history is [`crate::history`].

#[cfg(target_os = "linux")]
pub mod kernel_keyring;
pub mod presets;
pub mod profile;
pub mod secret_store;
