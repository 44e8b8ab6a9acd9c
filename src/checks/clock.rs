//! Our clock against the server's: a server whose `Date` is more than a few seconds
//! away from ours will refuse the `iat`, `nbf` and `exp` this machine signs.

#![deny(clippy::arithmetic_side_effects)]

use crate::checks::{Finding, Severity};

/// More skew than this (either way) is worth a warning before signing: servers accept
/// `iat` at most a few seconds ahead (FAPI 2.0 SP §5.3.2.1 allows 10 s). `Date` has
/// whole seconds, so one second of this is rounding.
pub const CLOCK_SKEW_WARNING_SECS: i64 = 5;

/// A warning when the server's `Date` says our clock is off (FAPI 2.0 SP §5.3.3 Note 1;
/// the `iat` in the future error developers hit, E2). `skew_secs`: how far the server is
/// ahead of us (negative: behind); `date`: its `Date` header as sent.
pub fn skew(skew_secs: i64, date: &str) -> Option<Finding> {
    (skew_secs.unsigned_abs() > CLOCK_SKEW_WARNING_SECS.unsigned_abs()).then(|| {
        Finding::new(
            Severity::Warning,
            "clock.skew",
            format!(
                "the server's clock (Date: {date}) is {} s {} ours: assertions and request objects this machine signs carry iat/nbf/exp {}; servers refuse an iat in the future. Synchronise the clock (timedatectl, NTP).",
                skew_secs.unsigned_abs(),
                if skew_secs > 0 { "ahead of" } else { "behind" },
                if skew_secs > 0 {
                    "in the server's past (fine until they expire early)"
                } else {
                    "in the server's future"
                }
            ),
            "FAPI 2.0 SP §5.3.3 Note 1; RFC 7523 §3",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_seconds_are_rounding_a_minute_is_a_warning() {
        assert!(skew(5, "d").is_none());
        assert!(skew(-5, "d").is_none());
        let ahead = skew(60, "Thu, 03 Dec 2026 08:00:00 GMT").unwrap();
        assert!(ahead.message.contains("60 s ahead of"), "{}", ahead.message);
        let behind = skew(-61, "d").unwrap();
        assert!(behind.message.contains("61 s behind"), "{}", behind.message);
        assert!(skew(i64::MIN, "d").is_some(), "no overflow");
    }
}
