//! Human-readable output shared by the subcommands: findings, claims with their
//! NumericDates annotated (UTC and relative), pretty JSON.

use serde_json::Value;

use crate::checks::{Finding, Severity};
use crate::numeric_date::{NUMERIC_DATE_CLAIMS, describe_numeric_date, now_unix};

/// Pretty JSON (numbers exactly as received).
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Indents every line of a block.
pub fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines such as `exp  1769767012.739  2026-01-30T09:56:52.739Z  expired 3 h ago` for
/// each NumericDate claim present.
pub fn time_annotations(claims: &Value) -> Vec<String> {
    let now = now_unix();
    let Some(map) = claims.as_object() else {
        return Vec::new();
    };
    NUMERIC_DATE_CLAIMS
        .iter()
        .filter_map(|name| {
            let value = map.get(*name)?;
            let view = describe_numeric_date(value, now)?;
            let relative = if view.relative == "now" {
                "now".to_owned()
            } else {
                view.for_claim(name, now)
            };
            Some(format!("{name:<9} {value:<16} {}  ({relative})", view.utc))
        })
        .collect()
}

/// One line per finding, errors first.
pub fn findings(list: &[Finding]) -> String {
    if list.is_empty() {
        return "  (none)".to_owned();
    }
    let mut sorted: Vec<&Finding> = list.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    sorted
        .iter()
        .map(|f| {
            let label = match f.severity {
                Severity::Error => "ERROR  ",
                Severity::Warning => "WARNING",
                Severity::Info => "INFO   ",
            };
            format!("  {label} {}: {} [{}]", f.code, f.message, f.source)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotates_fractional_dates() {
        let lines = time_annotations(&json!({"exp": 1769767012.739_f64, "sub": "x"}));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("2026-01-30T09:56:52.739Z"), "{lines:?}");
    }

    #[test]
    fn findings_are_sorted_with_labels() {
        let text = findings(&[
            Finding::new(Severity::Info, "a.info", "i", "X"),
            Finding::new(Severity::Error, "a.err", "e", "Y"),
        ]);
        assert!(text.find("ERROR").unwrap() < text.find("INFO").unwrap());
    }
}
