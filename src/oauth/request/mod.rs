//! The request model: one plain value per request (method, URL, ordered headers,
//! ordered form parameters). The preview, the raw HTTP text, the curl command and the
//! request actually sent are all rendered from it, so they cannot disagree. Freshly
//! generated values (assertion `jti`, `iat`/`exp`, interaction id) are created once,
//! when the model is built.
//!
//! One file per builder: the model ([`model`]), the grant ([`grant`]), client
//! authentication ([`client_auth`]), the token, revocation and introspection requests
//! ([`token`]), pushed authorization with its signed request object ([`par`],
//! [`request_object`]), and the resource calls made with a token ([`resource`]).

pub mod client_auth;
pub mod grant;
pub mod model;
pub mod par;
pub mod request_object;
pub mod resource;
#[cfg(test)]
mod tests;
pub mod token;

pub use grant::{Grant, GrantType};
pub use model::{
    BuildError, ClientSecrets, FORM_CONTENT_TYPE, FieldValue, FormParam, Header, RequestKind,
    RequestModel, RequestOptions, TransportSettings, USER_AGENT, header, insert_before_accept,
    now_millis, param, percent_encode,
};
pub use par::{AuthorizationParams, build_par_request};
pub use resource::{
    attach_dpop, build_consent_request, build_resource_request, use_dpop_for_resource,
};
pub use token::{build_token_management_request, build_token_request};
