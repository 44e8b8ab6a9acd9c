//! A flow run written out: JUnit XML for CI systems, and a Markdown report fit for a
//! support ticket (each exchange by the support bundle's rules: no secret, credentials as
//! fingerprints, answers by their shape).

use super::FlowOutcome;
use crate::history::HistoryEntry;

/// The run as JUnit XML: one testcase per step, the failing assertions as its failure.
pub fn junit(outcome: &FlowOutcome) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let failures = outcome.steps.iter().filter(|s| !s.passed()).count();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n",
        escape(&outcome.name),
        outcome.steps.len(),
        outcome.elapsed_ms / 1000.0
    );
    for step in &outcome.steps {
        xml.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            escape(&outcome.name),
            escape(&step.name),
            step.elapsed_ms / 1000.0
        ));
        if !step.passed() {
            let message = step.failures.join("; ");
            xml.push_str(&format!(
                "<failure message=\"{}\">{}</failure>",
                escape(&message),
                escape(&message)
            ));
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("</testsuite>\n");
    xml
}

/// The run as Markdown: a table of the steps, then each step's failures and its
/// exchanges as support bundles.
pub fn report(outcome: &FlowOutcome, profile: &str) -> String {
    let passed = outcome.steps.iter().filter(|s| s.passed()).count();
    let mut out = format!(
        "# Flow report: {}

{passed} of {} steps run passed, in {:.0} ms (token-inspector {}).

| # | step | does | HTTP | ms | result |\n|---|---|---|---|---|---|\n",
        outcome.name,
        outcome.steps.len(),
        outcome.elapsed_ms,
        env!("CARGO_PKG_VERSION")
    );
    for (i, step) in outcome.steps.iter().enumerate() {
        let status = step
            .status
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        let result = if step.passed() {
            "passed".to_owned()
        } else {
            format!("**failed**: {}", step.failures.join("; "))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {status} | {:.0} | {result} |\n",
            i + 1,
            step.name,
            step.kind,
            step.elapsed_ms
        ));
    }
    for step in &outcome.steps {
        out.push_str(&format!("\n## Step: {}\n\n", step.name));
        for failure in &step.failures {
            out.push_str(&format!("- failed: {failure}\n"));
        }
        for exchange in &step.exchanges {
            let entry = HistoryEntry::of(profile, exchange);
            let bundle = crate::support_bundle::markdown(&entry);
            // One level down: the step is the heading.
            for line in bundle.lines() {
                if line.starts_with('#') {
                    out.push('#');
                }
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}
