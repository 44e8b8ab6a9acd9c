//! The app on the hybrid flow of FAPI 1 Advanced (the UK and Brazil presets' response
//! type) against the Local sandbox: the Client panel's response type and mode, Authorize
//! (code, id_token and state come in the fragment), the front-channel id_token shown
//! verified with its c_hash and s_hash before Send; then JARM.

use super::*;

fn front_channel(h: &Harness<'_, App>) -> token_inspector::oauth::front_channel::FrontChannel {
    h.state().state.request.authorization.front_channel.clone()
}

fn authorize(h: &mut Harness<'_, App>) {
    click(h, "Request");
    h.state_mut().state.request.code.clear();
    click(h, "Authorize");
    wait_for_code(h);
}

#[test]
fn the_hybrid_flow_and_jarm_are_shown_checked() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    click(&mut h, "Client");
    choose(
        &mut h,
        "Response type",
        "code id_token (FAPI 1 Advanced: UK, Brazil)",
    );
    assert_eq!(
        h.state()
            .state
            .profile()
            .unwrap()
            .front_channel
            .response_type,
        "code id_token"
    );
    authorize(&mut h);
    let front = front_channel(&h);
    let token = front.id_token.expect("the front-channel id_token");
    assert!(token.signature.is_valid(), "{token:?}");
    let claims = token.claims.clone().unwrap();
    assert!(
        claims["c_hash"].is_string() && claims["s_hash"].is_string(),
        "{claims}"
    );
    assert!(
        !token
            .findings
            .iter()
            .any(|f| f.severity == token_inspector::checks::Severity::Error),
        "{:?}",
        token.findings
    );
    h.get_by_label("Front-channel id_token");
    click(&mut h, "Send");
    wait_for(&mut h, "the token", |a| !a.state.history.is_empty());
    let sent = h.state().state.history[0].exchange.clone();
    assert_eq!(sent.response().map(|r| r.http.status), Some(200));

    click(&mut h, "Client");
    choose(&mut h, "Response mode", "jwt");
    authorize(&mut h);
    let front = front_channel(&h);
    let jarm = front.jarm.expect("the JARM response");
    assert!(jarm.signature.is_valid(), "{jarm:?}");
    assert!(front.id_token.is_some_and(|t| t.signature.is_valid()));
    h.get_by_label("JARM response");
}
