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
}
