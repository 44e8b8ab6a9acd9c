//! What the integration tests share: running the command line ([`cli`]), starting a
//! test bank (the sandbox in this process, or `mock-server` as its own process) and
//! approving its consent as a browser would ([`bank`]).

pub mod bank;
pub mod cli;
