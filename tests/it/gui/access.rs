//! Every control on the first-launch path has a role and a name that says what it does,
//! and the path works from the keyboard: switch panels, Authorize, Send (Ctrl+Enter), copy
//! curl, the Response panel's findings and id_token readable as text.

use egui::accesskit::Role;

use super::*;

/// A control reached from the keyboard: focused, then Enter.
fn press(h: &mut Harness<'_, App>, label: &str) {
    h.get_by_label(label).focus();
    h.run_ok();
    h.key_press(Key::Enter);
    h.run_ok();
}

#[test]
fn the_first_launch_path_is_named_and_works_from_the_keyboard() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for(&mut h, "the sandbox and key", |a| {
        matches!(a.state.sandbox, SandboxStatus::Running { .. }) && a.state.loaded_key().is_some()
    });
    // The panels, by role and name.
    for tab in ["Client", "Request", "Response", "JWT", "Flows"] {
        h.get_by_role_and_label(Role::Button, tab);
    }
    press(&mut h, "Request");
    h.get_by_role_and_label(Role::Button, "Authorize");
    press(&mut h, "Authorize");
    wait_for_code(&mut h);
    h.get_by_role_and_label(Role::Button, "Send");
    h.get_by_role_and_label(Role::Button, "Copy curl");
    // Send from the keyboard: Ctrl+Enter.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    wait_for(&mut h, "the token", |a| !a.state.history.is_empty());
    // Send shows the Response panel; the request's curl is on the Request panel.
    press(&mut h, "Request");
    press(&mut h, "Copy curl");
    assert!(
        s.clipboard.text().contains("curl"),
        "Copy curl from the keyboard puts the command on the clipboard"
    );
    // The Response panel reads as text: the status and the id_token's verdict.
    press(&mut h, "Response");
    assert!(shows_text(&h, "HTTP 200"));
    assert!(shows_text(&h, "id_token"));
    // Each finding with its severity, and the consent card, as text.
    assert!(shows_text(&h, "Findings"));
    assert!(
        shows_text(&h, "WARNING"),
        "the sandbox's id_token draws warnings (amr)"
    );
    assert!(shows_text(&h, "id_token.amr_not_array"));
    assert!(shows_text(&h, "Consent") && shows_text(&h, "Purpose") && shows_text(&h, "Greenbank"));
}

/// Tab moves the keyboard focus through the Request panel in reading order: from the
/// grant type to Authorize, and on to Send; Enter on a focused control presses it. In the
/// Response panel, Enter on the id_token's header folds and unfolds it.
#[test]
fn tab_walks_the_request_panel_and_enter_opens_the_id_token() {
    let s = Setup::new();
    let mut h = s.harness();
    token_from_the_local_sandbox(&mut h);
    press(&mut h, "Request");
    // From the panel switch, Tab until Authorize has the focus, then on to Send.
    let mut reached = Vec::new();
    for _ in 0..60 {
        h.key_press(Key::Tab);
        h.run_ok();
        for label in ["Authorize", "Send"] {
            if h.query_by_label(label).is_some_and(|n| n.is_focused()) && !reached.contains(&label)
            {
                reached.push(label);
            }
        }
        if reached.len() == 2 {
            break;
        }
    }
    assert_eq!(
        reached,
        ["Authorize", "Send"],
        "Tab reaches Authorize, then Send"
    );
    press(&mut h, "Response");
    let header = "id_token (id_token)";
    let open =
        |h: &Harness<'_, App>| shows_text(h, "\"c_hash\"") || shows_text(h, "Copy id_token claims");
    let before = open(&h);
    press(&mut h, header);
    assert_ne!(
        open(&h),
        before,
        "Enter on the id_token's header folds or unfolds it"
    );
}
