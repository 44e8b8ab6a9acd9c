//! Ecosystem presets: the values a profile starts from for Open Finance Malaysia,
//! UAE, UK, Brazil and generic FAPI 2.0.
//!
//! The presets are data (`presets.toml`, compiled in): adding an ecosystem adds an entry,
//! not a code path. A profile made from a preset is an ordinary profile, editable
//! afterwards; it records which preset and version it came from.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::jose::keys::SigningAlg;
use crate::storage::profile::{AudienceChoice, AuthMethod, Profile};

/// The preset data as shipped.
const PRESETS_TOML: &str = include_str!("presets.toml");

/// The consent type of Open Finance Malaysia's account access consent (RAR, RFC 9396),
/// which the embedded sandbox also speaks.
pub const MALAYSIA_ACCOUNT_ACCESS_CONSENT: &str = "urn:openfinance-ml:account-access-consent:v1.2";

/// Which FAPI profile an ecosystem follows; it decides which checks apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FapiProfile {
    /// FAPI 2.0 Security Profile (PAR, PKCE, `iss` on the redirect, sender-constrained
    /// tokens, assertion `aud` = issuer).
    Fapi2,
    /// FAPI 1.0 Advanced (signed request object, PAR optional).
    Fapi1Advanced,
}

impl std::fmt::Display for FapiProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FapiProfile::Fapi2 => "FAPI 2.0",
            FapiProfile::Fapi1Advanced => "FAPI 1.0 Advanced",
        })
    }
}

/// How the consent comes to exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentCreation {
    /// Inside PAR, as `authorization_details` (Malaysia, UAE).
    InPar,
    /// By a POST with a client-credentials token before the authorization (UK, Brazil).
    BeforeAuthorization,
    /// The ecosystem has no consent object.
    None,
}

/// Where a consent created beforehand travels in the authorization request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentCarrier {
    /// The request object's `openbanking_intent_id` claim (UK).
    OpenbankingIntentId,
    /// A `consent:<id>` scope (Brazil).
    Scope,
}

/// Request object (JAR, RFC 9101) rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JarRules {
    /// PAR must carry a signed request object.
    pub required: bool,
    /// Signing algorithms the ecosystem accepts.
    pub algs: Vec<SigningAlg>,
    /// The most `exp` − `nbf` may be, in seconds (FAPI: 60 min; UAE: 10 min).
    pub max_lifetime_secs: u32,
}

/// The consent an ecosystem uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRules {
    /// How it is created.
    pub creation: ConsentCreation,
    /// Where a consent created beforehand is carried.
    #[serde(default)]
    pub carry: Option<ConsentCarrier>,
    /// The consent endpoint (a path on the resource server, or a URL), for consents
    /// created beforehand.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The `authorization_details` type, or the consent resource's name.
    #[serde(rename = "type")]
    pub consent_type: String,
    /// The status words the ecosystem uses.
    pub statuses: Vec<String>,
    /// The word for an authorised consent.
    pub authorized: String,
    /// The consent JSON to start from; `{expires_in_days:N}` and `{uuid}` are filled in by
    /// [`ConsentRules::render_template`].
    pub template: String,
    /// The permissions the consent editor offers.
    pub permissions: Vec<String>,
    /// The purposes the consent editor offers.
    pub purposes: Vec<String>,
}

impl ConsentRules {
    /// The template with its placeholders filled in (dates as RFC 3339 UTC, seconds).
    pub fn render_template(&self, now: time::OffsetDateTime) -> String {
        fill_placeholders(&self.template, now)
    }
}

/// Fills a consent template's placeholders: `{expires_in_days:N}` becomes the RFC 3339
/// UTC time N days from `now` (whole seconds), `{uuid}` a new UUID v4.
pub fn fill_placeholders(template: &str, now: time::OffsetDateTime) -> String {
    let mut out = template.trim().to_owned();
    let mut from = 0;
    while let Some(found) = out[from..].find("{expires_in_days:") {
        let start = from + found;
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let days: i64 = out[start + 17..start + len].parse().unwrap_or(30);
        let text = (now + time::Duration::days(days))
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        out.replace_range(start..start + len + 1, &text);
        from = start + text.len();
    }
    while out.contains("{uuid}") {
        out = out.replacen("{uuid}", &uuid::Uuid::new_v4().to_string(), 1);
    }
    out
}

/// One ecosystem's preset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Stable id, recorded in profiles made from it.
    pub id: String,
    /// The name shown in pickers.
    pub name: String,
    /// Raised when the values change.
    pub version: u32,
    /// The FAPI profile.
    pub fapi: FapiProfile,
    /// The issuer (empty: each bank has its own; discovery fills the endpoints).
    pub issuer: String,
    /// The token endpoint when it is known ahead of discovery.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// The PAR endpoint when it is known ahead of discovery.
    #[serde(default)]
    pub par_endpoint: Option<String>,
    /// The authorization endpoint when it is known ahead of discovery.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// The scope asked for.
    pub scope: String,
    /// Client authentication.
    pub auth_method: AuthMethod,
    /// The assertion's signing algorithm.
    pub alg: SigningAlg,
    /// The assertion audience.
    pub aud: AudienceChoice,
    /// Why that audience (shown next to the switch).
    pub aud_note: String,
    /// The assertion lifetime.
    pub assertion_lifetime_secs: u32,
    /// Every back-channel call needs the client certificate.
    pub mtls_required: bool,
    /// Whether the AS is expected to rotate refresh tokens.
    pub refresh_rotation_expected: bool,
    /// What the ecosystem accepts as a redirect URI.
    pub redirect_note: String,
    /// Where the values come from.
    pub sources: Vec<String>,
    /// Request object rules.
    pub jar: JarRules,
    /// The consent.
    pub consent: ConsentRules,
    /// How data calls are signed (PayNet's x-signature, UK x-jws-signature, UAE signed
    /// bodies).
    #[serde(default)]
    pub data_calls: crate::storage::profile::DataCalls,
    /// How the bank answers the authorization (the hybrid flow in the UK and Brazil).
    #[serde(default)]
    pub front_channel: crate::storage::profile::FrontChannelSettings,
}

#[derive(Deserialize)]
struct PresetFile {
    preset: Vec<Preset>,
}

/// Every preset, in the order pickers show them. Reading the compiled-in data cannot fail
/// at run time: a test parses it.
pub fn all() -> &'static [Preset] {
    static PRESETS: OnceLock<Vec<Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| {
        toml::from_str::<PresetFile>(PRESETS_TOML)
            .map(|f| f.preset)
            .unwrap_or_default()
    })
}

/// The preset a profile started from (its `preset` is `id@version`).
pub fn for_profile(profile: &Profile) -> Option<&'static Preset> {
    let id = profile.preset.as_deref()?.split('@').next()?;
    find(id)
}

/// What a profile misses that its preset requires: a client certificate where every
/// back-channel call is mTLS, signed request objects switched off, an algorithm the
/// ecosystem refuses.
pub fn profile_findings(profile: &Profile) -> Vec<crate::checks::Finding> {
    use crate::checks::{Finding, Severity};
    let Some(preset) = for_profile(profile) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if preset.mtls_required && profile.tls.client_cert.is_none() {
        out.push(Finding::new(
            Severity::Warning,
            "preset.mtls_missing",
            format!(
                "{} requires a client certificate (mTLS) on every back-channel call; the profile has none: give --cert/--cert-key or set the profile's certificate",
                preset.name
            ),
            "RFC 8705 §2; the ecosystem's security profile",
        ));
    }
    if preset.jar.required && !profile.request_object.signed {
        out.push(Finding::new(
            Severity::Warning,
            "preset.jar_off",
            format!(
                "{} requires a signed request object inside PAR; the profile sends plain parameters",
                preset.name
            ),
            "RFC 9101; RFC 9126 §3",
        ));
    }
    if preset.jar.max_lifetime_secs < profile.request_object.lifetime_secs {
        out.push(Finding::new(
            Severity::Warning,
            "preset.jar_lifetime",
            format!(
                "{} accepts request objects living at most {} s; the profile signs them for {} s",
                preset.name, preset.jar.max_lifetime_secs, profile.request_object.lifetime_secs
            ),
            "FAPI 2.0 Message Signing; the ecosystem's security profile",
        ));
    }
    if !preset.jar.algs.contains(&profile.auth.alg) {
        out.push(Finding::new(
            Severity::Warning,
            "preset.alg",
            format!(
                "{} accepts {:?}; the profile signs with {}",
                preset.name, preset.jar.algs, profile.auth.alg
            ),
            "the ecosystem's security profile",
        ));
    }
    out
}

/// The preset with this id.
pub fn find(id: &str) -> Option<&'static Preset> {
    all().iter().find(|p| p.id == id)
}

impl Preset {
    /// One line on what the ecosystem asks: its FAPI profile, client authentication,
    /// JAR, mTLS and consent type.
    pub fn summary(&self) -> String {
        let required = |yes: bool| if yes { "required" } else { "optional" };
        format!(
            "{}, {}, JAR {}, mTLS {}, consent {}",
            self.fapi,
            self.auth_method.as_str(),
            required(self.jar.required),
            required(self.mtls_required),
            if self.consent.consent_type.is_empty() {
                "none"
            } else {
                &self.consent.consent_type
            }
        )
    }

    /// A new profile with this preset's values, named `name`; the client's own values
    /// (client_id, keys, certificate, redirect URI) are left for the user.
    pub fn to_profile(&self, name: &str) -> Profile {
        let mut p = Profile::new(name, &self.issuer);
        p.scope = self.scope.clone();
        p.endpoints.token = self.token_endpoint.clone();
        p.endpoints.par = self.par_endpoint.clone();
        p.endpoints.authorization = self.authorization_endpoint.clone();
        p.auth.method = self.auth_method;
        p.auth.alg = self.alg;
        p.auth.aud = self.aud.clone();
        p.auth.lifetime_secs = self.assertion_lifetime_secs;
        p.preset = Some(format!("{}@{}", self.id, self.version));
        p.request_object.signed = self.jar.required;
        p.request_object.lifetime_secs = self.jar.max_lifetime_secs.min(300);
        p.data_calls = self.data_calls.clone();
        p.front_channel = self.front_channel.clone();
        if !self.consent.template.trim().is_empty() {
            p.consent = Some(match self.consent.creation {
                // authorization_details is an array of objects.
                ConsentCreation::InPar => format!("[{}]", self.consent.template.trim()),
                _ => self.consent.template.trim().to_owned(),
            });
        }
        p
    }
}

/// The seed's client at the Open Finance Malaysia sandbox: the Malaysia preset with the
/// seed's client_id, redirect URI, kid and assertion style (the key must still be
/// imported). Tests and the README's walkthrough reproduce the seed with it.
pub fn seed_client() -> Profile {
    let mut p = find("ofm-paynet-sandbox")
        .map(|preset| preset.to_profile("Ozone Open Finance Malaysia sandbox"))
        .unwrap_or_else(|| {
            Profile::new(
                "Ozone Open Finance Malaysia sandbox",
                "https://auth1.sandbox.mya.ozoneapi.io",
            )
        });
    p.client_id = "55aa605c-89ef-4473-aa88-47709f0ff383".into();
    p.redirect_uri = "https://www.auth-app.ozoneapi.co.uk/redirect-url".into();
    p.scope = "accounts".into();
    p.endpoints.par = None;
    p.endpoints.authorization = None;
    p.request_object.lifetime_secs = 310;
    p.auth.kid = Some("CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI".into());
    p.auth.numeric_date = crate::jose::numeric_date::NumericDateStyle::Milliseconds;
    p.auth.lifetime_secs = 310;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_presets_parse_and_have_unique_ids() {
        let parsed: PresetFile = toml::from_str(PRESETS_TOML).expect("presets.toml parses");
        assert_eq!(parsed.preset.len(), all().len());
        let ids: Vec<&str> = all().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ofm-paynet-sandbox",
                "uae-nebras",
                "uk-openbanking",
                "br-openfinance",
                "fapi2-generic"
            ]
        );
        for p in all() {
            if p.consent.creation != ConsentCreation::None {
                let rendered = p.consent.render_template(time::OffsetDateTime::now_utc());
                let json: serde_json::Value = serde_json::from_str(&rendered)
                    .unwrap_or_else(|e| panic!("{}: template is not JSON: {e}", p.id));
                assert!(json.is_object(), "{}", p.id);
                assert!(!rendered.contains('{') || !rendered.contains("{expires"));
            }
        }
    }

    #[test]
    fn malaysia_preset_matches_the_seed_ecosystem() {
        let my = find("ofm-paynet-sandbox").unwrap();
        assert_eq!(my.consent.consent_type, MALAYSIA_ACCOUNT_ACCESS_CONSENT);
        assert_eq!(my.fapi, FapiProfile::Fapi2);
        assert!(my.jar.required && my.mtls_required && !my.refresh_rotation_expected);
        let p = my.to_profile("MY");
        assert_eq!(p.preset.as_deref(), Some("ofm-paynet-sandbox@2"));
        assert_eq!(p.auth.aud, AudienceChoice::Issuer);
        assert!(p.validate().is_empty(), "{:?}", p.validate());
        let uae = find("uae-nebras").unwrap();
        assert_eq!(uae.jar.max_lifetime_secs, 600);
        assert_eq!(uae.jar.algs, [SigningAlg::PS256]);
    }

    #[test]
    fn template_placeholders_are_filled() {
        let rules = &find("uae-nebras").unwrap().consent;
        let now = time::macros::datetime!(2026-12-01 10:00:00 UTC);
        let text = rules.render_template(now);
        assert!(text.contains("2026-12-31T10:00:00Z"), "{text}");
        assert!(!text.contains("{uuid}"), "{text}");
    }
}
