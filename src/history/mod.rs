//! The exchange history: every exchange, per profile, kept in the data directory
//! (newest first, capped), with no secret in it. A secret the request carried (the
//! client assertion, a code, a refresh token, a client secret, the Authorization
//! header) is kept as `null` with `"redacted": true`, the way the JSON output shows it,
//! and where it is a high-entropy credential also as a short SHA-256 fingerprint, so
//! "was this code used before?" can still be answered. Tokens in the answer are
//! replaced by their fingerprint. Decoded claims (of the assertion, the request object,
//! the id_token) are kept: they are what a comparison needs.

mod compare;
mod entry;
mod redaction;
mod store;
#[cfg(test)]
mod tests;

pub use compare::{Difference, compare};
pub use entry::{HistoryEntry, Search};
pub use redaction::{redact_value, redacted_request, shown_value};
pub use store::{HISTORY_CAPACITY, HistoryError, HistoryStore};
