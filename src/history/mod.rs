//! The exchange history: every exchange, per profile, kept in the data directory
//! (newest first, capped, files 0600), with what a diagnosis and a support request need
//! and no more (see `redaction`). A secret the request carried (the client assertion, a
//! code, a refresh token, a client secret, the Authorization header) is kept as `null`
//! with `"redacted": true`, and where it is a high-entropy credential also as a short
//! SHA-256 fingerprint, so "was this code used before?" can still be answered. A whole
//! JWT (the DPoP proof, the request object) is kept as its fingerprint and its decoded
//! header and claims. Credentials in answers are caught by name pattern and by shape and
//! replaced by fingerprints; personal data (an API answer's values, account numbers,
//! names, the end user's IP address) and bodies that are not JSON are left out; response
//! headers keep their values only where the diagnosis reads them.

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
