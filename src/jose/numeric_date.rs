//! NumericDate display (RFC 7519 §2): any JSON number of seconds since the epoch shown as
//! UTC with milliseconds and relative to "now", without rounding the value itself, and
//! without overflow or panic for fractional, negative or huge values.
//!
//! Used by the CLI (`decode`, `exchange`) and the GUI to annotate `exp`, `iat`, `nbf`,
//! `auth_time` and similar claims.

#![deny(clippy::arithmetic_side_effects)]

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value, json};

/// The claims that hold a NumericDate (RFC 7519 §4.1, OIDC Core §2).
pub const NUMERIC_DATE_CLAIMS: &[&str] = &["exp", "nbf", "iat", "auth_time", "updated_at"];

/// Seconds of 9999-12-31T23:59:59Z: the last instant shown as a calendar date.
const MAX_CALENDAR_SECONDS: f64 = 253_402_300_799.0;
/// Seconds of -9999-01-01T00:00:00Z: the first instant shown as a calendar date.
const MIN_CALENDAR_SECONDS: f64 = -377_705_116_800.0;

/// How `iat` and `exp` are written (RFC 7519 §2 allows any JSON number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NumericDateStyle {
    /// Whole seconds, e.g. `1769767012`.
    #[default]
    Seconds,
    /// Seconds with milliseconds, as the seed's `1769767012.739` (JavaScript's
    /// `Date.now() / 1000`).
    Milliseconds,
}

/// Writes a Unix time in milliseconds as a NumericDate in the given style.
pub fn write(unix_millis: i128, style: NumericDateStyle) -> Value {
    let secs = unix_millis.div_euclid(1000);
    let millis = unix_millis.rem_euclid(1000);
    match style {
        NumericDateStyle::Seconds => json!(secs as i64),
        NumericDateStyle::Milliseconds => {
            if millis == 0 {
                return json!(secs as i64);
            }
            let frac = format!("{millis:03}");
            let text = format!("{secs}.{}", frac.trim_end_matches('0'));
            text.parse::<Number>()
                .map(Value::Number)
                .unwrap_or_else(|_| json!(secs as i64))
        }
    }
}

/// A NumericDate made readable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumericDateView {
    /// UTC with milliseconds, such as `2026-01-30T10:36:52.739Z`, or a sentence when the
    /// value lies outside years -9999..=9999.
    pub utc: String,
    /// Relative to now, such as `in 9 min`, `3 h ago` or `now`.
    pub relative: String,
    /// The value as a float (only for arithmetic; the JSON keeps the exact digits).
    pub seconds: f64,
}

impl NumericDateView {
    /// The relative time phrased for a claim: `exp` gives "expires in 9 min" / "expired
    /// 3 h ago", `nbf` "valid from …", `iat` "issued …"; other claims the plain phrase.
    pub fn for_claim(&self, claim: &str, now_unix: f64) -> String {
        let rel = &self.relative;
        if rel == "now" {
            let phrase = match claim {
                "exp" => "expires now",
                "nbf" => "valid from now",
                "iat" => "issued now",
                "auth_time" => "authenticated now",
                _ => "now",
            };
            return phrase.to_owned();
        }
        let future = self.seconds > now_unix;
        match (claim, future) {
            ("exp", true) => format!("expires {rel}"),
            ("exp", false) => format!("expired {rel}"),
            ("nbf", true) => format!("not valid until {rel}"),
            ("nbf", false) => format!("valid since {rel}"),
            ("iat", true) => format!("issued in the future ({rel})"),
            ("iat", false) => format!("issued {rel}"),
            ("auth_time", _) => format!("authenticated {rel}"),
            _ => rel.clone(),
        }
    }
}

/// Reads a JSON number as seconds; `None` for anything that is not a number.
///
/// Huge values such as `1e400` become infinite; callers treat non-finite values as
/// "out of range" rather than panicking.
pub fn numeric_date_seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.to_string().parse::<f64>().ok(),
        _ => None,
    }
}

/// Describes a NumericDate (RFC 7519 §2) as UTC and relative to `now_unix`.
///
/// Returns `None` when the value is not a JSON number.
pub fn describe_numeric_date(value: &Value, now_unix: f64) -> Option<NumericDateView> {
    let seconds = numeric_date_seconds(value)?;
    Some(NumericDateView {
        utc: format_utc(seconds),
        relative: format_relative(seconds - now_unix),
        seconds,
    })
}

/// UTC with milliseconds (`2026-01-30T10:36:52.739Z`) for any float; values outside years
/// -9999..=9999 (or not finite) give a sentence instead of a date.
pub fn format_utc(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "not a finite number of seconds".to_owned();
    }
    if !(MIN_CALENDAR_SECONDS..=MAX_CALENDAR_SECONDS + 0.999).contains(&seconds) {
        let side = if seconds > 0.0 {
            "after the year 9999"
        } else {
            "before the year -9999"
        };
        return format!("out of range ({side})");
    }
    // Within range the millisecond count fits easily in an i64 (|ms| < 4e14).
    let total_ms = (seconds * 1000.0).round() as i64;
    let ms = total_ms.rem_euclid(1000);
    let secs = total_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{y:+05}")
    };
    format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// A duration relative to now: positive is the future (`in 5 s`), negative the past
/// (`3 h ago`); less than a second either way is `now`.
pub fn format_relative(delta_seconds: f64) -> String {
    if delta_seconds.is_nan() {
        return "unknown".to_owned();
    }
    let amount = format_duration(delta_seconds.abs());
    if delta_seconds.abs() < 1.0 {
        "now".to_owned()
    } else if delta_seconds > 0.0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A positive duration in the largest unit that reads well: `45 s`, `9 min`, `3 h`,
/// `12 days`, `4 years`, `3.2e292 years`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.abs();
    if s.is_infinite() {
        return "forever".to_owned();
    }
    if s < 60.0 {
        format!("{} s", s.floor())
    } else if s < 3600.0 {
        format!("{} min", (s / 60.0).floor())
    } else if s < 48.0 * 3600.0 {
        let h = s / 3600.0;
        let whole = h.floor();
        let min = ((h - whole) * 60.0).floor();
        if min >= 1.0 && whole < 10.0 {
            format!("{whole} h {min} min")
        } else {
            format!("{whole} h")
        }
    } else if s < 730.0 * 86_400.0 {
        format!("{} days", (s / 86_400.0).floor())
    } else {
        let years = s / 31_556_952.0;
        if years < 1e6 {
            format!("{} years", years.floor())
        } else {
            format!("{years:.1e} years")
        }
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm); valid for the whole range used here.
// The callers pass days within years -9999..=9999 (about ±3.7 million, checked against
// MIN/MAX_CALENDAR_SECONDS first): no step of the algorithm comes near i64's range.
#[allow(clippy::arithmetic_side_effects)]
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An RFC 3339 date-time (`2026-12-02T10:00:00Z`) as unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// The current time as unix seconds (fractional).
pub fn now_unix() -> f64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_date_styles() {
        assert_eq!(
            write(1_000_500, NumericDateStyle::Milliseconds).to_string(),
            "1000.5"
        );
        assert_eq!(
            write(1_000_000, NumericDateStyle::Milliseconds).to_string(),
            "1000"
        );
        assert_eq!(
            write(1_000_999, NumericDateStyle::Seconds).to_string(),
            "1000"
        );
    }

    fn num(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn seed_fractional_exp_with_milliseconds() {
        let now = 1_769_766_702.739; // the seed's iat
        let v = describe_numeric_date(&num("1769767012.739"), now).unwrap();
        assert_eq!(v.utc, "2026-01-30T09:56:52.739Z");
        assert_eq!(v.relative, "in 5 min");
        assert_eq!(v.for_claim("exp", now), "expires in 5 min");
        let later = 1_769_767_012.739 + 3.0 * 3600.0 + 20.0;
        let v = describe_numeric_date(&num("1769767012.739"), later).unwrap();
        assert_eq!(v.for_claim("exp", later), "expired 3 h ago");
        let at_now = describe_numeric_date(&serde_json::json!(1000), 1000.0).unwrap();
        assert_eq!(at_now.for_claim("iat", 1000.0), "issued now");
        assert_eq!(at_now.for_claim("exp", 1000.0), "expires now");
        assert_eq!(at_now.for_claim("jti_time", 1000.0), "now");
    }

    #[test]
    fn known_dates() {
        assert_eq!(format_utc(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc(-5.0), "1969-12-31T23:59:55.000Z");
        assert_eq!(format_utc(951_782_400.5), "2000-02-29T00:00:00.500Z");
        assert_eq!(format_utc(1_769_768_007.0), "2026-01-30T10:13:27.000Z");
        assert_eq!(format_utc(MAX_CALENDAR_SECONDS), "9999-12-31T23:59:59.000Z");
        assert!(format_utc(MIN_CALENDAR_SECONDS).starts_with("-9999-01-01"));
    }

    #[test]
    fn huge_and_odd_values_do_not_panic() {
        for text in [
            "1e300",
            "-1e300",
            "18446744073709551616",
            "1e400",
            "-0",
            "0.0000001",
            "253402300800",
        ] {
            let v = describe_numeric_date(&num(text), 1.7e9).unwrap();
            assert!(!v.utc.is_empty(), "{text}");
            assert!(!v.relative.is_empty(), "{text}");
        }
        let v = describe_numeric_date(&num("1e300"), 0.0).unwrap();
        assert_eq!(v.utc, "out of range (after the year 9999)");
        assert!(v.relative.starts_with("in 3.2e292 years"), "{}", v.relative);
        let v = describe_numeric_date(&num("1e400"), 0.0).unwrap();
        assert_eq!(v.relative, "in forever");
    }

    #[test]
    fn non_numbers_are_none() {
        assert!(describe_numeric_date(&Value::String("1769767012".into()), 0.0).is_none());
        assert!(describe_numeric_date(&Value::Null, 0.0).is_none());
    }

    #[test]
    fn relative_units() {
        assert_eq!(format_relative(0.4), "now");
        assert_eq!(format_relative(-45.0), "45 s ago");
        assert_eq!(format_relative(540.0), "in 9 min");
        assert_eq!(format_relative(-3.0 * 3600.0), "3 h ago");
        assert_eq!(format_relative(5400.0), "in 1 h 30 min");
        assert_eq!(format_relative(-10.0 * 86_400.0), "10 days ago");
        assert_eq!(format_relative(5.0 * 31_556_952.0), "in 5 years");
    }
}
