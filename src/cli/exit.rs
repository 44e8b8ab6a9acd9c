//! Documented exit codes.

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
}
