//! Human-readable output shared by the subcommands (`decode`, `exchange`): findings
//! grouped by severity, claims with their NumericDates annotated (UTC and relative),
//! pretty JSON.

use serde_json::Value;

use token_inspector::checks::{Finding, Severity};
use token_inspector::jose::numeric_date::{NUMERIC_DATE_CLAIMS, describe_numeric_date};

/// Writes to stdout; a closed pipe ends the process quietly (status 0, like `yes | head`)
/// instead of a panic.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// The "Why?" section for a refusal's causes (after a blank line), when there are any.
pub fn why(causes: &[token_inspector::diagnosis::Cause]) -> Option<String> {
    let text = token_inspector::diagnosis::render(causes);
    (!text.is_empty()).then(|| format!("\n{}", text.trim_end()))
}

/// Pretty JSON (numbers exactly as received).
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Findings grouped by severity, one per line with code and source.
pub fn render_findings(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "Findings: none\n".to_owned();
    }
    let mut out = String::new();
    for (severity, title) in [
        (Severity::Error, "Errors"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Info"),
    ] {
        let group: Vec<&Finding> = findings.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        out.push_str(&format!("{title} ({})\n", group.len()));
        for f in group {
            out.push_str(&format!("  [{}] {} ({})\n", f.code, f.message, f.source));
        }
    }
    out
}

/// Pretty JSON of the claims with each top-level NumericDate annotated, e.g.
/// `"exp": 1769767012.739,  // 2026-01-30T09:56:52.739Z, expired 3 h ago`.
pub fn annotate_claims(claims: &Value, now: f64) -> String {
    let text = pretty(claims);
    let Some(map) = claims.as_object() else {
        return text;
    };
    text.lines()
        .map(|line| {
            let note = NUMERIC_DATE_CLAIMS.iter().find_map(|name| {
                let prefix = format!("  \"{name}\": ");
                if !line.starts_with(&prefix) {
                    return None;
                }
                let view = describe_numeric_date(map.get(*name)?, now)?;
                Some(format!("  // {}, {}", view.utc, view.for_claim(name, now)))
            });
            match note {
                Some(n) => format!("{line}{n}"),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_annotated_without_changing_digits() {
        let claims: Value =
            serde_json::from_str(r#"{"aud":"x","exp":1769767012.739,"iat":1769766702.739}"#)
                .unwrap();
        let text = annotate_claims(&claims, 1_769_766_702.739);
        assert!(
            text.contains(
                r#""exp": 1769767012.739,  // 2026-01-30T09:56:52.739Z, expires in 5 min"#
            ),
            "{text}"
        );
        assert!(text.contains(r#""aud": "x","#));
    }

    #[test]
    fn findings_are_grouped_by_severity() {
        let f = vec![
            Finding::new(Severity::Error, "a.b", "bad", "RFC 1"),
            Finding::new(Severity::Info, "c.d", "fyi", "RFC 2"),
        ];
        let text = render_findings(&f);
        assert!(
            text.starts_with("Errors (1)\n  [a.b] bad (RFC 1)\nInfo (1)\n"),
            "{text}"
        );
        assert_eq!(render_findings(&[]), "Findings: none\n");
    }
}
