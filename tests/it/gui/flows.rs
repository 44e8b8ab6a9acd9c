//! The Flows view against the Local sandbox: a flow file in flows/ beside the profiles is
//! listed, runs with the selected profile with each step shown as it ends, and a step's
//! exchange opens in the Response panel; a flow with a failing assertion shows that step
//! failed and stops there.

use super::*;

const FLOW: &str = r#"
name = "Local sandbox: token to balances"

[[step]]
do = "authorize"

[[step]]
name = "token"
do = "exchange"
[step.capture]
account = "/authorization_details/0/consent/accounts/0/account_id"

[[step]]
name = "balances"
do = "call"
url = "${issuer}/accounts/${account}/balances"
[step.expect]
json = { "/data/balance/currency" = "CURRENCY" }

[[step]]
do = "revoke"
"#;

#[test]
fn a_flow_file_runs_step_by_step_in_the_app() {
    let s = Setup::new();
    let flows = s.profile_dir().join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    std::fs::write(flows.join("good.toml"), FLOW.replace("CURRENCY", "MYR")).unwrap();
    std::fs::write(
        flows.join("wrong.toml"),
        FLOW.replace("CURRENCY", "SGD")
            .replace("Local sandbox:", "Wrong currency:"),
    )
    .unwrap();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    click(&mut h, "Flows");
    wait_for(&mut h, "the flow files", |a| a.state.flows.files.len() == 2);
    click(&mut h, "Run Local sandbox: token to balances");
    wait_for(&mut h, "the run", |a| a.state.flows.result.is_some());
    let flows_state = &h.state().state.flows;
    assert!(
        flows_state.result.as_ref().unwrap().is_ok(),
        "{:?}",
        flows_state.result
    );
    let names: Vec<&str> = flows_state.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["authorize", "token", "balances", "revoke"]);
    h.get_by_label_contains("balances passed");
    click(&mut h, "Open balances");
    assert_eq!(
        h.state().state.persisted.tab,
        token_inspector::gui::state::Tab::Response
    );

    click(&mut h, "Flows");
    click(&mut h, "Run Wrong currency: token to balances");
    wait_for(&mut h, "the failing run", |a| {
        a.state.flows.result.is_some()
    });
    let flows_state = &h.state().state.flows;
    assert!(flows_state.result.as_ref().unwrap().is_err());
    let last = flows_state.steps.last().unwrap();
    assert_eq!(last.name, "balances");
    assert!(
        last.failures[0].contains("/data/balance/currency"),
        "{:?}",
        last.failures
    );
    h.get_by_label_contains("balances FAILED");
}

/// Save as flow: the session's run (Authorize, Send, an API call) written as a flow file
/// in flows/, which then runs again and passes.
#[test]
fn a_run_is_saved_as_a_flow_that_runs_again() {
    let s = Setup::new();
    let mut h = s.harness();
    token_from_the_local_sandbox(&mut h);
    let issuer = h.state().state.profile().unwrap().issuer.clone();
    type_into(&mut h, "API URL", &format!("{issuer}/accounts"));
    h.state_mut().state.api.result = None;
    click(&mut h, "Call API");
    wait_for(&mut h, "the call", |a| {
        a.state.api.result.is_some() && !a.state.api.work.is_running()
    });
    click(&mut h, "Flows");
    click(&mut h, "Save as flow");
    wait_for(&mut h, "the saved flow", |a| a.state.flows.files.len() == 1);
    let file = h.state().state.flows.files[0].clone();
    let text = std::fs::read_to_string(&file.path).unwrap();
    assert!(
        text.contains("do = \"authorize\"") && text.contains("do = \"exchange\""),
        "{text}"
    );
    assert!(text.contains("url = \"${issuer}/accounts\""), "{text}");
    assert!(!text.contains("eyJ"), "no token in the file: {text}");
    click(&mut h, &format!("Run {}", file.name));
    wait_for(&mut h, "the saved flow's run", |a| {
        a.state.flows.result.is_some()
    });
    let result = h.state().state.flows.result.clone().unwrap();
    assert!(
        result.is_ok(),
        "{result:?}: {:?}",
        h.state()
            .state
            .flows
            .steps
            .iter()
            .map(|s| (&s.name, &s.failures))
            .collect::<Vec<_>>()
    );
}
