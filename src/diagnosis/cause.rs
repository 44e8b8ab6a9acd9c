//! The rule each family's checks judge a [`Cause`] with, and the clocks they read (ours,
//! the server's `Date`, the request's).

use serde_json::Value;

use crate::checks::cause::{Cause, Status};
use crate::diagnosis::Evidence;
use crate::oauth::exchange::Exchange;

/// One cause the diagnosis knows: its code, what it says and the rule it comes from.
pub(super) struct Rule {
    pub(super) code: &'static str,
    pub(super) what: &'static str,
    pub(super) source: &'static str,
}

impl Rule {
    pub(super) fn judge(&self, status: Status, evidence: impl Into<String>) -> Option<Cause> {
        Some(Cause {
            cause: self.what.to_owned(),
            code: self.code.to_owned(),
            status,
            evidence: evidence.into(),
            source: self.source.to_owned(),
        })
    }

    pub(super) fn likely(&self, evidence: impl Into<String>) -> Option<Cause> {
        self.judge(Status::Likely, evidence)
    }

    pub(super) fn unknown(&self, evidence: impl Into<String>) -> Option<Cause> {
        self.judge(Status::Unknown, evidence)
    }

    pub(super) fn ruled_out(&self, evidence: impl Into<String>) -> Option<Cause> {
        self.judge(Status::RuledOut, evidence)
    }
}

pub(super) fn now(evidence: &Evidence) -> i64 {
    if evidence.now != 0 {
        evidence.now
    } else {
        crate::jose::numeric_date::now_unix() as i64
    }
}

pub(super) fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

/// The server's clock when it answered (its `Date`), Unix seconds.
pub(super) fn server_time(exchange: &Exchange) -> Option<i64> {
    exchange.response()?.http.server_time()
}

/// Our clock when the request left (`sent_at`), Unix seconds.
pub(super) fn sent_time(exchange: &Exchange) -> Option<i64> {
    crate::jose::numeric_date::parse_rfc3339(&exchange.sent_at)
}
