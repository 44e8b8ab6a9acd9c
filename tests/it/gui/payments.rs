//! The app's signed payments against the Local sandbox: after a token, Call an API with
//! POST, a JSON body holding personal data, signed the UAE way: the body goes as a signed
//! JWT, the personal data encrypted to the sandbox's use:enc key, and the sandbox's signed
//! answer is shown verified, with the creditor it read from the decrypted data. Then the
//! same body signed the UK way: x-jws-signature, and the sandbox's own verified.

use super::*;

const BODY: &str = r#"{"Data": {"ConsentId": "c-1", "Instruction": {"Amount": {"Amount": "100.00", "Currency": "AED"}}, "PersonalIdentifiableInformation": {"Initiation": {"CreditorAccount": {"Name": {"en": "Ivan England"}}}}}}"#;

fn call_and_wait(h: &mut Harness<'_, App>) -> Box<token_inspector::oauth::exchange::Exchange> {
    h.state_mut().state.api.result = None;
    click(h, "Call API");
    wait_for(h, "the payment", |a| {
        a.state.api.result.is_some() && !a.state.api.work.is_running()
    });
    let result = h.state().state.api.result.clone().unwrap();
    result.unwrap_or_else(|e| panic!("the call failed: {e}"))
}

#[test]
fn a_payment_is_signed_and_its_personal_data_encrypted() {
    let s = Setup::new();
    let mut h = s.harness();
    token_from_the_local_sandbox(&mut h);
    let issuer = h.state().state.profile().unwrap().issuer.clone();

    choose(&mut h, "Method", "POST");
    type_into(
        &mut h,
        "API URL",
        &format!("{issuer}/open-finance/payment/v2.2/payments"),
    );
    type_into(&mut h, "Body (JSON)", BODY);
    choose(
        &mut h,
        "Sign the body",
        "UAE signed JWT (personal data encrypted)",
    );
    let exchange = call_and_wait(&mut h);
    let response = exchange.response().expect("an HTTP answer");
    assert_eq!(response.http.status, 201, "{}", response.body_text);
    assert_eq!(
        exchange.request.header("Content-Type"),
        Some("application/jwt")
    );
    assert!(exchange.request.header("x-idempotency-key").is_some());
    let signed = exchange
        .request
        .signed_message
        .as_ref()
        .expect("a signed body");
    let pii = &signed.claims["message"]["Data"]["PersonalIdentifiableInformation"];
    assert_eq!(pii.as_str().map(|j| j.split('.').count()), Some(5), "{pii}");
    let answer = response.answer_signature.as_ref().expect("a signed answer");
    assert!(answer.signature.is_valid(), "{answer:?}");
    assert_eq!(
        answer.claims["message"]["Data"]["CreditorName"],
        "Ivan England"
    );
    h.get_by_label_contains("Answer signature (signed JWT body)");
    h.get_by_label_contains("Request signed (signed JWT body)");
    // The payment editor and both signatures' views, every control named (Escape first
    // closes the Sign the body list, which egui keeps open after an AccessKit click: an
    // open list's backdrop has no name).
    h.key_press(Key::Escape);
    h.run_ok();
    assert_every_control_named(&h, "a signed payment");

    // The UK way: the same JSON with x-jws-signature; the profile names no iss, so the
    // error says what to set, and nothing typed is lost.
    type_into(
        &mut h,
        "API URL",
        &format!("{issuer}/open-banking/v3.1/pisp/domestic-payments"),
    );
    choose(&mut h, "Sign the body", "UK x-jws-signature");
    h.state_mut().state.api.result = None;
    click(&mut h, "Call API");
    wait_for(&mut h, "the refusal", |a| {
        a.state.api.result.is_some() && !a.state.api.work.is_running()
    });
    let refused = h.state().state.api.result.clone().unwrap().unwrap_err();
    assert!(refused.contains("openbanking.org.uk/iss"), "{refused}");
    assert_eq!(h.state().state.api.body, BODY);
    h.state_mut()
        .state
        .profile_mut()
        .unwrap()
        .data_calls
        .jws_signature = Some(token_inspector::storage::profile::JwsSignatureSettings {
        version: "3.1.2".into(),
        iss: "org-1/ssa-1".into(),
        tan: String::new(),
    });
    let exchange = call_and_wait(&mut h);
    let response = exchange.response().expect("an HTTP answer");
    assert_eq!(response.http.status, 201, "{}", response.body_text);
    let signed = exchange.request.signed_message.as_ref().unwrap();
    assert_eq!(signed.header["b64"], false);
    let answer = response
        .answer_signature
        .as_ref()
        .expect("the ASPSP's signature");
    assert!(answer.signature.is_valid(), "{answer:?}");
    h.get_by_label_contains("Answer signature (x-jws-signature)");
}
