//! A cause of a refusal as data: what might be wrong, judged likely, ruled out or
//! impossible to tell, with its evidence and its rule. The judging is
//! [`crate::diagnosis`]; the type lives here, at the bottom, because an exchange record
//! carries its causes as it carries its findings.

use serde::{Deserialize, Serialize};

/// How a cause is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The evidence points at it.
    Likely,
    /// Nothing here can decide it.
    Unknown,
    /// The evidence clears it.
    RuledOut,
}

impl Status {
    /// The word the command line prints.
    pub fn label(self) -> &'static str {
        match self {
            Status::Likely => "likely",
            Status::Unknown => "cannot tell",
            Status::RuledOut => "ruled out",
        }
    }
}

/// One possible cause of a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// What might be wrong, in a few words.
    pub cause: String,
    /// A stable code such as `diagnosis.assertion_aud`.
    pub code: String,
    /// The judgement.
    pub status: Status,
    /// What the judgement rests on (values compared, what is missing).
    pub evidence: String,
    /// The rule it comes from.
    pub source: String,
}
