//! The OAuth pipeline, in the order a token is got: a profile's settings are resolved,
//! an authorization is started (PKCE, state, nonce, PAR), the bank redirects back, a
//! [`request::RequestModel`] is built (with its client assertion), rendered (raw HTTP,
//! curl) and sent over the [`transport`], and the answer becomes an
//! [`exchange::Exchange`] with its [`response`] parsed.

pub mod assertion;
pub mod authorize;
pub mod consent;
pub mod discovery;
pub mod dpop;
pub mod exchange;
pub mod front_channel;
pub mod http;
pub mod layers;
pub mod loopback;
pub mod message_signing;
pub mod pkce;
pub mod redirect;
pub mod render;
pub mod request;
pub mod resource;
pub mod response;
pub mod transport;
pub mod x_signature;
