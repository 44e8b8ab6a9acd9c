//! `token-inspector call URL`: call an API with a token (Bearer, or DPoP with a proof
//! bound to it), with the client certificate and an `x-fapi-interaction-id`, and show the
//! answer: status, headers, the body pretty-printed (a JWS or JWE body decoded), and
//! `WWW-Authenticate` errors explained. `--call URL` on `exchange` and `authorize` does
//! the same right after getting the token.

use clap::Args;

use super::client_args::ClientArgs;
use super::message_args::MessageArgs;
use super::render::{exchange_json, print_call};
use super::{Exit, InputError, output};
use token_inspector::oauth::resource::ResourceCall;
use token_inspector::secret::Secret;
use token_inspector::storage::profile::{Profile, XSignatureFormat, XSignatureSettings};

/// Arguments of `call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The API URL.
    pub url: String,
    /// The access token (prefer the environment variable).
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_ACCESS_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
    /// The HTTP method (default: GET, or POST with --data).
    #[arg(long)]
    pub method: Option<String>,
    /// Which client (for the certificate, the CA, the DPoP key: --profile, --cert,
    /// --cacert, --dpop, --dpop-key ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// A body and its signing (--data, --x-jws-signature, --signed-body ...).
    #[command(flatten)]
    pub message: MessageArgs,
    /// Sign the call with PayNet's x-signature (Open Finance Malaysia): compact (the
    /// sandbox guide's) or detached (PayNet's specification). Default: the profile's;
    /// --dc-id or --dp-id alone mean compact.
    #[arg(long, value_name = "compact|detached")]
    pub x_signature: Option<XSignatureFormat>,
    /// The data consumer id PayNet issued (the x-signature's iss).
    #[arg(long, value_name = "DC_ID")]
    pub dc_id: Option<String>,
    /// The data provider's id (the x-signature's aud, with "Paynet OFP").
    #[arg(long, value_name = "DP_ID")]
    pub dp_id: Option<String>,
    /// The compact x-signature's sub (default: the dc_id; PayNet's samples put the
    /// consent id there).
    #[arg(long, value_name = "SUB")]
    pub x_signature_sub: Option<String>,
    /// A JWK Set holding keys that sign the answer's layers (the hub's, the data
    /// provider's): a URL or a file; repeatable, beside the profile's.
    #[arg(long = "response-jwks", value_name = "URL|FILE")]
    pub response_jwks: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

impl CallArgs {
    /// The x-signature asked for: the flags over the profile's settings.
    fn x_signature(&self, profile: &Profile) -> Option<XSignatureSettings> {
        let given = self.x_signature.is_some()
            || self.dc_id.is_some()
            || self.dp_id.is_some()
            || self.x_signature_sub.is_some();
        let saved = profile.data_calls.x_signature.clone();
        if !given {
            return saved;
        }
        let mut settings = saved.unwrap_or_default();
        if let Some(format) = self.x_signature {
            settings.format = format;
        }
        for (flag, slot) in [
            (&self.dc_id, &mut settings.dc_id),
            (&self.dp_id, &mut settings.dp_id),
        ] {
            if let Some(value) = flag {
                slot.clone_from(value);
            }
        }
        if self.x_signature_sub.is_some() {
            settings.sub.clone_from(&self.x_signature_sub);
        }
        Some(settings)
    }
}

/// Runs `call`.
pub async fn run(args: CallArgs) -> anyhow::Result<Exit> {
    let token = args.token.clone().ok_or_else(|| {
        InputError::new("give the token with --token or TOKEN_INSPECTOR_ACCESS_TOKEN")
    })?;
    let session = args.client.session_without_server().await?;
    // With a DPoP key (--dpop, --dpop-key, the profile's), the token is presented as
    // DPoP-bound, with a proof.
    let token_type = if session.settings().dpop.is_some() {
        "DPoP"
    } else {
        "Bearer"
    };
    let profile = &session.settings().profile;
    let default_method = if args.message.data.is_some() {
        "POST"
    } else {
        "GET"
    };
    let mut what = ResourceCall {
        method: args
            .method
            .clone()
            .unwrap_or_else(|| default_method.to_owned()),
        url: args.url.clone(),
        // --header values reach the request through the profile's extra headers.
        headers: Vec::new(),
        x_signature: args.x_signature(profile),
        response_jwks: args.response_jwks.clone(),
        ..ResourceCall::default()
    };
    args.message.apply(profile, &mut what)?;
    let exchange = session
        .call(&Secret::new(token), token_type, what)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    super::render::warnings(&session);
    if args.json {
        outln!("{}", output::pretty(&exchange_json(&exchange)));
    } else {
        print_call(&exchange);
    }
    Ok(Exit::of(&exchange))
}
