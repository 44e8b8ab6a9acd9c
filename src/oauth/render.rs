//! Renderings of a [`RequestModel`]: the raw HTTP/1.1 text, a curl command that sends
//! byte-for-byte the same form and headers when pasted into a POSIX shell, and a
//! redacted curl for sharing where secrets become named shell variables.

use crate::oauth::request::{RequestModel, percent_encode};

/// Whether secrets are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redaction {
    /// Everything as sent.
    None,
    /// Secrets replaced by `${NAME}` placeholders.
    Redacted,
}

/// The placeholder variable for a secret form parameter or header.
pub fn placeholder(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    upper
}

/// The raw HTTP/1.1 request as it goes on the wire (with the `Host` and
/// `Content-Length` the transport adds).
pub fn raw_http(model: &RequestModel, redaction: Redaction) -> String {
    let url = url::Url::parse(&model.url).ok();
    let target = url
        .as_ref()
        .map(|u| {
            let mut t = u.path().to_owned();
            if let Some(q) = u.query() {
                t.push('?');
                t.push_str(q);
            }
            t
        })
        .unwrap_or_else(|| model.url.clone());
    let body = match redaction {
        Redaction::None => model.body(),
        Redaction::Redacted => redacted_body(model),
    };
    let mut out = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        model.method,
        target,
        model.host()
    );
    for h in &model.headers {
        let value = if h.value.is_secret() && redaction == Redaction::Redacted {
            format!("<{}>", placeholder(&h.name))
        } else {
            h.value.expose().to_owned()
        };
        out.push_str(&format!("{}: {}\r\n", h.name, value));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", model.body().len()));
    out.push_str(&body);
    out
}

fn redacted_body(model: &RequestModel) -> String {
    if model.json_body.is_some() || model.text_body.is_some() {
        return model.body();
    }
    model
        .form
        .iter()
        .map(|p| {
            if p.value.is_secret() {
                format!("{}=<{}>", p.name, placeholder(&p.name))
            } else {
                format!("{}={}", p.name, percent_encode(p.value.expose()))
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The raw request for reading, like the seed shows it: one form parameter per line.
pub fn readable_http(model: &RequestModel, redaction: Redaction) -> String {
    let raw = raw_http(model, redaction);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut out = head.replace("\r\n", "\n");
    out.push_str("\n\n");
    match (&model.json_body, &model.text_body) {
        (_, Some(text)) => out.push_str(text),
        (Some(json), None) => {
            out.push_str(&serde_json::to_string_pretty(json).unwrap_or_default());
        }
        (None, None) => out.push_str(&body.replace('&', "&\n")),
    }
    out
}

/// Quotes a word for a POSIX shell: single quotes, with `'` written as `'\''`.
///
/// Kept by hand rather than `shlex::try_quote`: shlex also quotes `=` and `%` (so every
/// `--data-urlencode name=value` would gain quotes), switches to double quotes around a
/// `'`, and refuses a NUL with an error, where this one always answers with one
/// predictable single-quoted form that POSIX shells read back byte for byte.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A curl command that sends exactly this request.
///
/// One `--data-urlencode` per form parameter (curl encodes the value as
/// [`RequestModel::body`] does); every header given with `-H` so curl's own defaults
/// (`User-Agent`, `Accept`) are replaced by the model's. With
/// [`Redaction::Redacted`], secret values become `"${NAME}"` shell variables, so the
/// command can be shared and still run after `export NAME=...`.
pub fn curl(model: &RequestModel, redaction: Redaction) -> String {
    let mut lines: Vec<String> = Vec::new();
    lines.push(format!(
        "curl --silent --show-error --request {} {}",
        model.method,
        shell_quote(&model.url)
    ));
    // curl would add `Expect: 100-continue` to larger bodies; the model sends no such header.
    lines.push("--header 'Expect:'".to_owned());
    let t = &model.transport;
    if t.insecure_skip_verify {
        lines.push("--insecure".to_owned());
    }
    if let Some(ca) = &t.ca_file {
        lines.push(format!(
            "--cacert {}",
            shell_quote(&ca.display().to_string())
        ));
    }
    if let Some(cert) = &t.client_cert {
        lines.push(format!(
            "--cert {}",
            shell_quote(&cert.display().to_string())
        ));
        match &t.client_key_file {
            Some(key) => lines.push(format!("--key {}", shell_quote(&key.display().to_string()))),
            None if t.mtls => lines.push("--key \"${MTLS_KEY_FILE}\"".to_owned()),
            None => {}
        }
    }
    if t.connect_timeout_secs > 0 {
        lines.push(format!("--connect-timeout {}", t.connect_timeout_secs));
    }
    if t.timeout_secs > 0 {
        lines.push(format!("--max-time {}", t.timeout_secs));
    }
    for h in &model.headers {
        if h.value.is_secret() && redaction == Redaction::Redacted {
            lines.push(format!(
                "--header \"{}: ${{{}}}\"",
                h.name,
                placeholder(&h.name)
            ));
        } else if h.value.is_empty() {
            // `Name;` makes curl send an empty header (`Name:` would remove it).
            lines.push(format!("--header {}", shell_quote(&format!("{};", h.name))));
        } else {
            lines.push(format!(
                "--header {}",
                shell_quote(&format!("{}: {}", h.name, h.value.expose()))
            ));
        }
    }
    if model.json_body.is_some() || model.text_body.is_some() {
        lines.push(format!("--data-raw {}", shell_quote(&model.body())));
    }
    for p in &model.form {
        if p.value.is_secret() && redaction == Redaction::Redacted {
            lines.push(format!(
                "--data-urlencode \"{}=${{{}}}\"",
                p.name,
                placeholder(&p.name)
            ));
        } else {
            lines.push(format!(
                "--data-urlencode {}",
                shell_quote(&format!("{}={}", p.name, p.value.expose()))
            ));
        }
    }
    lines.join(" \\\n  ")
}

/// The names of the shell variables a redacted curl needs.
pub fn redacted_variables(model: &RequestModel) -> Vec<String> {
    let mut vars: Vec<String> = model
        .headers
        .iter()
        .filter(|h| h.value.is_secret())
        .map(|h| placeholder(&h.name))
        .chain(
            model
                .form
                .iter()
                .filter(|p| p.value.is_secret())
                .map(|p| placeholder(&p.name)),
        )
        .collect();
    if model.transport.client_cert.is_some()
        && model.transport.client_key_file.is_none()
        && model.transport.mtls
    {
        vars.push("MTLS_KEY_FILE".into());
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::request::{RequestKind, TransportSettings, header, param};

    fn model() -> RequestModel {
        RequestModel {
            kind: RequestKind::Token("authorization_code".into()),
            method: "POST".into(),
            url: "https://as1.sandbox.mya.ozoneapi.io/token".into(),
            headers: vec![
                header("Content-Type", "application/x-www-form-urlencoded", false),
                header(
                    "x-fapi-interaction-id",
                    "968bed68-6694-44a8-8daa-b955bb4d1283",
                    false,
                ),
            ],
            form: vec![
                param("grant_type", "authorization_code", false),
                param("note", "it's a b&c", false),
                param("client_assertion", "eyJ.x.y", true),
            ],
            client_assertion: None,
            request_object: None,
            x_signature: None,
            text_body: None,
            signed_message: None,
            json_body: None,
            dpop: None,
            interaction_id: None,
            transport: TransportSettings::default(),
        }
    }

    #[test]
    fn raw_http_has_host_and_length() {
        let raw = raw_http(&model(), Redaction::None);
        assert!(raw.starts_with("POST /token HTTP/1.1\r\nHost: as1.sandbox.mya.ozoneapi.io\r\n"));
        let body = "grant_type=authorization_code&note=it%27s+a+b%26c&client_assertion=eyJ.x.y";
        assert!(
            raw.ends_with(&format!("Content-Length: {}\r\n\r\n{body}", body.len())),
            "{raw}"
        );
    }

    #[test]
    fn redaction_hides_secrets_only() {
        let raw = raw_http(&model(), Redaction::Redacted);
        assert!(raw.contains("client_assertion=<CLIENT_ASSERTION>"));
        assert!(!raw.contains("eyJ.x.y"));
        let c = curl(&model(), Redaction::Redacted);
        assert!(
            c.contains("--data-urlencode \"client_assertion=${CLIENT_ASSERTION}\""),
            "{c}"
        );
        assert!(!c.contains("eyJ.x.y"));
        assert!(c.contains("grant_type=authorization_code"));
        assert_eq!(redacted_variables(&model()), ["CLIENT_ASSERTION"]);
    }

    #[test]
    fn curl_quotes_for_posix_shells() {
        let c = curl(&model(), Redaction::None);
        assert!(c.contains(r"--data-urlencode 'note=it'\''s a b&c'"), "{c}");
        assert!(
            c.contains("--header 'x-fapi-interaction-id: 968bed68-6694-44a8-8daa-b955bb4d1283'")
        );
        assert!(c.starts_with(
            "curl --silent --show-error --request POST https://as1.sandbox.mya.ozoneapi.io/token"
        ));
    }

    #[test]
    fn shell_quote_cases() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn readable_form_splits_parameters() {
        let text = readable_http(&model(), Redaction::Redacted);
        assert!(
            text.contains("grant_type=authorization_code&\nnote="),
            "{text}"
        );
    }
}
