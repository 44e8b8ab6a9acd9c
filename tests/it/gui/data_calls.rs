//! The app's PayNet-style data calls against the Local sandbox: the profile set up with
//! one button (a decryption key made and registered, the compact x-signature, the
//! sandbox's /v1 and JWKS), then after a token, Balances: a signed call whose three
//! layers are shown verified, with the data inside.

use super::*;

#[test]
fn signed_data_calls_show_their_layers() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    click(&mut h, "Client");
    click(&mut h, "Set up signed data calls with the sandbox");
    wait_for(&mut h, "the data-call settings", |a| {
        a.state
            .profile()
            .is_some_and(|p| p.data_calls.resource_server.is_some() && p.encryption_key.is_some())
            && matches!(a.state.sandbox, SandboxStatus::Running { .. })
    });
    let profile = h.state().state.profile().unwrap().clone();
    let signing = profile.data_calls.x_signature.clone().unwrap();
    assert_eq!(signing.dc_id, profile.client_id);
    assert!(profile.data_calls.response_jwks[0].ends_with("/jwks"));

    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    click(&mut h, "Send");
    wait_for(&mut h, "the token", |a| !a.state.history.is_empty());
    click(&mut h, "Balances");
    wait_for(&mut h, "the signed call", |a| {
        a.state.api.result.is_some() && !a.state.api.work.is_running()
    });
    let result = h.state().state.api.result.clone().unwrap();
    let exchange = result.unwrap_or_else(|e| panic!("the call failed: {e}"));
    let response = exchange.response().expect("an HTTP answer");
    assert_eq!(response.http.status, 200, "{}", response.body_text);
    assert!(exchange.request.header("x-signature").is_some());
    let layered = response.layers.as_ref().expect("a layered answer");
    assert!(layered.verified, "{layered:#?}");
    h.get_by_label("Data (verified)");
    h.get_by_label_contains("Layer 1: hub valid");
    h.get_by_label_contains("Layer 2: encryption valid");
    h.get_by_label_contains("Layer 3: provider valid");
    // The layers view and the data-call buttons, every control named.
    assert_every_control_named(&h, "the layers of a signed data call");

    // Another of the consent's accounts, its transactions, then the next page.
    choose(&mut h, "Account", "Greenbank Savings Account");
    click(&mut h, "Transactions");
    let done = |a: &App| a.state.api.result.is_some() && !a.state.api.work.is_running();
    wait_for(&mut h, "the transactions", |a| {
        done(a)
            && matches!(&a.state.api.result, Some(Ok(e)) if e.request.url.contains("/transactions"))
    });
    let first = h.state().state.api.result.clone().unwrap().unwrap();
    assert!(
        first.request.url.contains("100004000000000000000002"),
        "{}",
        first.request.url
    );
    click(&mut h, "Next page");
    wait_for(&mut h, "the next page", |a| {
        done(a)
            && matches!(&a.state.api.result, Some(Ok(e)) if e.request.url.contains("next_page_params"))
    });
    let next = h.state().state.api.result.clone().unwrap().unwrap();
    let layered = next
        .response()
        .and_then(|r| r.layers.clone())
        .expect("layers");
    assert!(layered.verified, "{layered:#?}");
    assert!(next.request.header("x-signature").is_some());
}
