//! The requests a session sends, built the one way Send sends them: the model from the
//! profile and the grant, the mTLS key file curl names, and the DPoP proof with the nonce
//! the server gave last. The app's preview is built here too, so the preview, the curl
//! command and the request sent are one value.

use std::path::Path;

use crate::oauth::dpop::{DpopKey, NonceStore};
use crate::oauth::exchange::{self, Proof};
use crate::oauth::request::{
    self, BuildError, ClientSecrets, Grant, RequestKind, RequestModel, RequestOptions,
};
use crate::secret::Secret;
use crate::storage::profile::Profile;

/// What a request is built and signed with.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// The profile (endpoints, client authentication, headers, TLS settings).
    pub profile: &'a Profile,
    /// The signing key and the client secret.
    pub secrets: &'a ClientSecrets,
    /// The DPoP key, when the client sender-constrains its tokens (RFC 9449).
    pub dpop: Option<&'a DpopKey>,
    /// The mTLS key file, when the key came from a file (curl names it).
    pub client_key_file: Option<&'a Path>,
}

impl Credentials<'_> {
    /// The proof of possession a request to the authorization server carries.
    pub fn proof(&self) -> Option<Proof<'_>> {
        self.dpop.map(|key| Proof {
            key,
            access_token: None,
        })
    }

    fn finish(&self, mut model: RequestModel) -> RequestModel {
        model.transport.client_key_file = self.client_key_file.map(Path::to_path_buf);
        model
    }
}

/// A token request (RFC 6749 §3.2): the grant and what the user adds for this request.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// The grant.
    pub grant: Grant,
    /// Scope, interaction id, FAPI headers.
    pub options: RequestOptions,
}

impl TokenRequest {
    /// A request for this grant with no options.
    pub fn new(grant: Grant) -> Self {
        Self {
            grant,
            options: RequestOptions::default(),
        }
    }
}

/// The token request without its proof (each attempt gets its own).
pub(crate) fn token_model(
    credentials: &Credentials<'_>,
    request: &TokenRequest,
) -> Result<RequestModel, BuildError> {
    let model = request::build_token_request(
        credentials.profile,
        credentials.secrets,
        &request.grant,
        &request.options,
    )?;
    Ok(credentials.finish(model))
}

/// The token request exactly as its first attempt is sent: the model, and with a DPoP
/// key a proof carrying the nonce this server gave last (RFC 9449 §8.2).
pub fn token_request(
    credentials: &Credentials<'_>,
    request: &TokenRequest,
    nonces: &NonceStore,
) -> Result<RequestModel, BuildError> {
    exchange::first_attempt(nonces, credentials.proof(), || {
        token_model(credentials, request)
    })
}

/// A revocation (RFC 7009) or introspection (RFC 7662) request without its proof.
pub(crate) fn token_management_model(
    credentials: &Credentials<'_>,
    kind: &RequestKind,
    token: &Secret,
    hint: Option<&str>,
) -> Result<RequestModel, BuildError> {
    let model = request::build_token_management_request(
        credentials.profile,
        credentials.secrets,
        kind.clone(),
        token,
        hint,
        &RequestOptions::default(),
    )?;
    Ok(credentials.finish(model))
}
