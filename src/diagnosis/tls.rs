//! The transport: the client certificate (missing, expired), the server's certificate,
//! and a token bound to another certificate (E5, E6).

use crate::diagnosis::cause::{Rule, now};
use crate::diagnosis::{Cause, Evidence, Refusal, closed_after_handshake};
use crate::oauth::exchange::Exchange;

pub(super) fn says_certificate(refusal: &Refusal) -> bool {
    let d = refusal.description().to_ascii_lowercase();
    d.contains("certificate") || d.contains("cert ") || d.contains("mtls") || d.contains("tls")
}

/// E5: no client certificate was presented where one is needed.
pub(super) fn client_certificate_missing(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.client_certificate_missing",
        what: "no client certificate was presented (mTLS)",
        source: "RFC 8705 §2, §3; FAPI 2.0 SP §5.3.2.1",
    };
    let sent = exchange.request.transport.mtls;
    if sent {
        let what = evidence
            .client_certificate
            .as_ref()
            .map(|c| {
                format!(
                    "the certificate {} (x5t#S256 {}) was presented",
                    c.subject, c.x5t_s256
                )
            })
            .unwrap_or_else(|| "a client certificate was presented".to_owned());
        return RULE.ruled_out(what);
    }
    let tls =
        |word: &str| matches!(refusal, Refusal::Tls(m) if m.to_ascii_lowercase().contains(word));
    if tls("invalid peer certificate") {
        return RULE.unknown(
            "the handshake failed on the server's certificate, before the server could ask for one",
        );
    }
    // The server's alert (CertificateRequired, HandshakeFailure…) ends a handshake
    // that lacked one; a server's words about a certificate, at the HTTP level.
    let tls_alert = tls("fatal alert")
        || matches!(refusal, Refusal::Network(_)) && closed_after_handshake(refusal, exchange);
    let said = !matches!(refusal, Refusal::Tls(_)) && says_certificate(refusal);
    if evidence.certificate_expected.is_some() || said || tls_alert {
        let why = if matches!(refusal, Refusal::Network(_)) {
            format!(
                "none was sent, and the server closed the connection without an answer right after the handshake, as a server that requires mTLS does ({})",
                refusal.description()
            )
        } else if said || tls_alert {
            format!(
                "none was sent, and the server speaks of one ({})",
                refusal.description()
            )
        } else {
            format!(
                "none was sent, and {}",
                evidence.certificate_expected.as_deref().unwrap_or_default()
            )
        };
        return RULE.likely(why);
    }
    RULE.unknown("none was sent; nothing says this server wants one")
}

/// E5: the client certificate presented is outside its validity window.
pub(super) fn client_certificate_expired(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.client_certificate_expired",
        what: "the client certificate is expired or not yet valid",
        source: "RFC 5280 §4.1.2.5; RFC 8705 §2",
    };
    if !exchange.request.transport.mtls {
        return None;
    }
    let alert = refusal.description().to_ascii_lowercase();
    let Some(cert) = &evidence.client_certificate else {
        if alert.contains("certificateexpired") || alert.contains("certificate expired") {
            return RULE.likely(format!(
                "the server says so ({}); the certificate sent could not be read here",
                refusal.description()
            ));
        }
        return RULE.unknown("the certificate sent could not be read");
    };
    let at = now(evidence);
    let fmt = |t: i64| crate::jose::numeric_date::format_utc(t as f64);
    if at > cert.not_after {
        RULE.likely(format!(
            "{} expired at {}",
            cert.subject,
            fmt(cert.not_after)
        ))
    } else if at < cert.not_before {
        RULE.likely(format!(
            "{} is valid only from {}",
            cert.subject,
            fmt(cert.not_before)
        ))
    } else {
        RULE.ruled_out(format!(
                "{} is valid from {} to {} (whether it chains to the ecosystem's CA only the server can tell)",
                cert.subject,
                fmt(cert.not_before),
                fmt(cert.not_after)
            ))
    }
}

/// The server's certificate is not trusted by this client.
pub(super) fn tls_server_untrusted(
    exchange: &Exchange,
    _: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.tls_server_untrusted",
        what: "the server's certificate is not trusted by this client",
        source: "RFC 8446 §4.4.2; RFC 5280 §6",
    };
    let message = refusal.description().to_ascii_lowercase();
    if matches!(refusal, Refusal::Network(_)) {
        return RULE.ruled_out(
            "the handshake got as far as this client accepting the server's certificate; the server then closed the connection",
        );
    }
    if message.contains("received fatal alert") {
        // The client checks the server's certificate before it sends its own; an
        // alert from the server means ours was the one refused.
        return RULE.ruled_out(format!(
            "this client accepted the server's certificate; the server then ended the handshake ({})",
            refusal.description()
        ));
    }
    let about_server = [
        "unknownissuer",
        "unknown issuer",
        "self-signed",
        "self signed",
        "not valid for name",
        "notvalidforname",
        "expired",
        "invalid peer certificate",
    ]
    .iter()
    .any(|w| message.contains(w));
    let ca = exchange.request.transport.ca_file.as_ref();
    if about_server {
        RULE.likely(match ca {
                Some(ca) => format!(
                    "the handshake failed on the server's certificate ({}); it does not chain to {}",
                    refusal.description(),
                    ca.display()
                ),
                None => format!(
                    "the handshake failed on the server's certificate ({}); give the ecosystem's CA with --cacert",
                    refusal.description()
                ),
            })
    } else {
        RULE.unknown(format!(
            "the handshake failed ({}) without naming the server's certificate",
            refusal.description()
        ))
    }
}

/// E6: the token is bound to another certificate than the one presented.
pub(super) fn certificate_binding(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.certificate_binding",
        what: "the token is bound to another client certificate (cnf.x5t#S256)",
        source: "RFC 8705 §3, §6.3",
    };
    let codes: Vec<&str> = exchange.findings.iter().map(|f| f.code).collect();
    let mtls = exchange.request.transport.mtls;
    let presented = evidence
        .client_certificate
        .as_ref()
        .filter(|_| mtls)
        .map(|c| c.x5t_s256.clone());
    if codes.contains(&"binding.x5t_mismatch") {
        return RULE.likely("the token's cnf.x5t#S256 is not the certificate presented (a rotated certificate?): get a new token with this certificate");
    }
    if codes.contains(&"binding.x5t_match") {
        return RULE.ruled_out("the token's cnf.x5t#S256 is the certificate presented");
    }
    match (&evidence.token_certificate_x5t, presented) {
        (Some(Some(issued)), None) => RULE.likely(format!(
            "the token was issued over mTLS with the certificate x5t#S256 {issued}; this call presented {}",
            if mtls { "one that could not be read" } else { "none" }
        )),
        (Some(Some(issued)), Some(now)) if *issued != now => RULE.likely(format!(
            "the token was issued over mTLS with the certificate x5t#S256 {issued}; this call presented {now}"
        )),
        (Some(Some(issued)), Some(_)) => RULE.ruled_out(format!(
            "this call presented the certificate the token was issued over (x5t#S256 {issued})"
        )),
        (Some(None), _) => RULE.ruled_out(
            "the token was issued without a client certificate, so it cannot be bound to one",
        ),
        (None, _) if !mtls => RULE.unknown("no client certificate was presented with the call; a certificate-bound token needs the one it was issued to"),
        (None, _) => RULE.unknown(
            "the token's binding cannot be read here (an opaque token not in this history: introspect it to see cnf)",
        ),
    }
}
