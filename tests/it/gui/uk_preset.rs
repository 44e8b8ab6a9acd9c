//! The UK preset walked in the app against the Local sandbox: the profile takes the UK
//! preset's consent, consent-first creation and hybrid front channel; Authorize creates
//! the account-access consent (client-credentials token, POST), carries its id in the
//! request object as the essential claim openbanking_intent_id, and gets code, id_token
//! and state in the fragment; the front-channel id_token is shown verified; Send redeems.

use super::*;

#[test]
fn the_uk_preset_is_walked_against_the_sandbox() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    {
        let p = h.state_mut().state.profile_mut().unwrap();
        let uk = token_inspector::storage::presets::find("uk-openbanking")
            .unwrap()
            .to_profile(&p.name);
        p.preset = uk.preset;
        p.consent = uk.consent;
        p.front_channel = uk.front_channel;
        p.data_calls = uk.data_calls;
        p.endpoints.consent = Some(format!(
            "{}/open-banking/v3.1/aisp/account-access-consents",
            p.issuer
        ));
    }
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    let session = h.state().state.session.clone().expect("the authorization");
    assert_eq!(
        session.consent_steps.len(),
        2,
        "client-credentials token, then the consent"
    );
    let created = session.consent_steps[1].response().unwrap();
    assert_eq!(created.http.status, 201, "{}", created.body_text);
    let consent_id = session.consent_id.clone().expect("the consent id");
    assert!(consent_id.starts_with("aac-"), "{consent_id}");
    let object = session
        .par
        .as_ref()
        .and_then(|p| p.request.request_object.clone())
        .expect("a signed request object");
    assert_eq!(
        object.claims["claims"]["id_token"]["openbanking_intent_id"]["value"],
        consent_id.as_str()
    );
    assert_eq!(object.claims["response_type"], "code id_token");
    let front = h.state().state.request.authorization.front_channel.clone();
    let token = front.id_token.expect("the front-channel id_token");
    assert!(token.signature.is_valid(), "{token:?}");
    h.get_by_label("Front-channel id_token");
    click(&mut h, "Send");
    wait_for(&mut h, "the token", |a| !a.state.history.is_empty());
    let sent = h.state().state.history[0].exchange.clone();
    assert_eq!(sent.response().map(|r| r.http.status), Some(200));
}
