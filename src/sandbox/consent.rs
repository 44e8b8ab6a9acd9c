//! The small HTML pages: the consent page at `/authorize`, error pages for requests
//! that cannot be redirected, and the `/callback` page that shows what a redirect
//! carried.

use super::demo::DEMO_USERS;
use super::state::ParRecord;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Token Inspector sandbox</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}\
fieldset{{margin:1rem 0;border:1px solid #ccc;border-radius:6px}}label{{display:block;margin:.3rem 0}}\
button{{font-size:1rem;padding:.4rem 1.2rem;margin-right:.6rem}}code{{background:#f3f3f3;padding:0 .2rem;word-break:break-all}}\
.muted{{color:#666;font-size:.9rem}}</style></head><body>\n<h1>{title}</h1>\n{body}\n\
<p class=\"muted\">Token Inspector local sandbox: test data only.</p></body></html>\n",
        title = escape(title),
    )
}

/// The consent page for a pushed request.
pub(crate) fn consent_page(par: &ParRecord, request_uri: &str) -> String {
    let mut users = String::new();
    for (i, user) in DEMO_USERS.iter().enumerate() {
        let checked = if i == 0 { " checked" } else { "" };
        users.push_str(&format!(
            "<label><input type=\"radio\" name=\"user\" value=\"{sub}\"{checked}> {name} (sub {sub})</label>\n",
            sub = escape(user.sub),
            name = escape(user.name),
        ));
        for account in user.accounts {
            users.push_str(&format!(
                "<label style=\"margin-left:1.6rem\"><input type=\"checkbox\" name=\"account\" value=\"{id}\" checked> {name} · {number}</label>\n",
                id = escape(account.account_id),
                name = escape(account.account_name),
                number = escape(account.account_number),
            ));
        }
    }
    let permissions: Vec<String> = par
        .consent_request
        .permissions
        .iter()
        .map(|p| escape(p.as_str().unwrap_or_default()))
        .collect();
    let body = format!(
        "<p>The application <code>{client}</code> asks to access your accounts.</p>\n\
<ul><li>Scope: <code>{scope}</code></li><li>Permissions: {permissions}</li>\
<li>Purpose: {purpose}</li><li>Until: {until}</li></ul>\n\
<form method=\"post\" action=\"/authorize\">\n\
<input type=\"hidden\" name=\"client_id\" value=\"{client}\">\n\
<input type=\"hidden\" name=\"request_uri\" value=\"{request_uri}\">\n\
<fieldset><legend>Sign in as, and share these accounts (only the chosen user's are shared)</legend>\n{users}</fieldset>\n\
<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n</form>",
        client = escape(&par.client_id),
        scope = escape(&par.scope),
        permissions = permissions.join(", "),
        purpose = escape(&par.consent_request.purpose),
        until = escape(&par.consent_request.expiration_datetime),
        request_uri = escape(request_uri),
    );
    shell("Consent", &body)
}

/// A page for an authorization request that cannot be redirected back.
pub(crate) fn error_page(error: &str, description: &str) -> String {
    let body = format!(
        "<p><strong>{}</strong></p><p>{}</p>",
        escape(error),
        escape(description)
    );
    shell("Authorization refused", &body)
}

/// The `/callback` page listing every query parameter received.
pub(crate) fn callback_page(pairs: &[(String, String)]) -> String {
    let mut rows = String::new();
    for (name, value) in pairs {
        rows.push_str(&format!(
            "<tr><th style=\"text-align:left;padding-right:1rem\">{}</th><td><code>{}</code></td></tr>\n",
            escape(name),
            escape(value)
        ));
    }
    let title = if pairs.iter().any(|(k, _)| k == "error") {
        "Authorization refused"
    } else if pairs.iter().any(|(k, _)| k == "code") {
        "Authorization code received"
    } else {
        "Callback"
    };
    let body = if rows.is_empty() {
        "<p>No parameters were received.</p>".to_owned()
    } else {
        format!(
            "<table>\n{rows}</table>\n<p>Copy the <code>code</code> into the token request within 60 seconds; check that <code>iss</code> is the issuer and <code>state</code> is what you sent (RFC 9207).</p>"
        )
    };
    shell(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn callback_page_shows_what_it_received() {
        let html = callback_page(&[
            ("code".into(), "abc<1>".into()),
            ("state".into(), "s".into()),
        ]);
        assert!(html.contains("Authorization code received"));
        assert!(html.contains("abc&lt;1&gt;"));
    }
}
