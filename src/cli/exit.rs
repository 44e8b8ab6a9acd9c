//! Documented exit codes.

use token_inspector::oauth::exchange::Exchange;

/// The process exit codes of every subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success (a 2xx answer, a valid decode).
    Ok = 0,
    /// 1: the server answered with an error (non-2xx), or a token failed verification.
    ServerError = 1,
    /// 2: usage or input error (bad flag, malformed token, unreadable file).
    Usage = 2,
    /// 3: network or TLS failure (refused, timeout, DNS, certificate).
    Network = 3,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The code of one exchange: 0 for a 2xx answer, 1 for another answer, a layered
    /// answer whose layer failed or an answer whose signature fails, 3 when no answer came.
    pub fn of(exchange: &Exchange) -> Exit {
        match &exchange.outcome {
            // A layered answer whose layer failed is not an answer to trust.
            Ok(r) if r.layers.as_ref().is_some_and(|l| l.failed()) => Exit::ServerError,
            // Nor is one whose own signature (x-jws-signature, a signed JWT) fails.
            Ok(r) if r.answer_signature.as_ref().is_some_and(|s| s.failed()) => Exit::ServerError,
            Ok(r) if (200..300).contains(&r.http.status) => Exit::Ok,
            Ok(_) => Exit::ServerError,
            Err(_) => Exit::Network,
        }
    }

    /// A successful exchange followed by an API call (`--call`) that failed is a failure.
    pub fn and_call(self, call: Option<&Exchange>) -> Exit {
        if self == Exit::Ok && call.is_some_and(|c| !c.is_success()) {
            Exit::ServerError
        } else {
            self
        }
    }
}
