//! The integration tests, one crate (one link on a 2-core machine): the command line
//! run as a user runs it, the core against servers over loopback, the app driven by
//! label, the keychain stores. What they share is in [`support`].

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod cli;
mod decode_nested;
mod diagnosis;
mod exchange;
mod flow;
mod front_channel;
mod fuzz;
#[cfg(feature = "gui")]
mod gui;
mod hybrid;
mod jwt;
mod keyring;
mod run_flow;
mod sandbox;
mod support;
