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
    wait_for_sandbox_and_key(&mut h);
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
    // A finding opens from the keyboard onto its whole text and rule.
    // (It is listed with the exchange's findings and again with the id_token's.)
    let first = h
        .query_all_by_label("Open finding id_token.amr_not_array")
        .next();
    first.expect("the finding's fold button").focus();
    h.run_ok();
    h.key_press(Key::Enter);
    h.run_ok();
    let opened = h.get_by_label("finding id_token.amr_not_array");
    let text = opened.value().unwrap_or_default();
    assert!(
        text.starts_with("WARNING id_token.amr_not_array: ") && text.contains("\nRule: "),
        "{text}"
    );
    assert!(shows_text(&h, "Consent") && shows_text(&h, "Purpose") && shows_text(&h, "Greenbank"));
    // The body as a tree: each key and value is its own text, each fold button named.
    press(&mut h, "body as a tree");
    h.get_by_label("\"token_type\"");
    h.get_by_label("\"Bearer\"");
    h.get_by_role_and_label(Role::Button, "Fold or unfold the whole body");
    assert_every_control_named(&h, "the Response panel after a token");
}

/// Every panel as first shown: no control without a name.
#[test]
fn every_panel_names_every_control() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    for tab in ["Client", "Request", "Response", "JWT", "Flows"] {
        click(&mut h, tab);
        assert_every_control_named(&h, tab);
    }
}

/// The keyboard focus is visible: a ring is drawn around the focused control, wherever
/// Tab has taken it.
#[test]
fn the_focused_control_is_ringed() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    press(&mut h, "Request");
    let mut ringed = 0;
    for _ in 0..60 {
        h.key_press(Key::Tab);
        h.run_ok();
        let focused = h.query_all(By::new().predicate(|n| n.is_focused())).next();
        let Some(focused) = focused else { continue };
        let ring = h
            .state()
            .focus_ring()
            .expect("a ring around the focused control");
        let rect = focused.rect();
        assert!(
            ring.contains_rect(rect) && ring.area() < rect.expand(6.0).area(),
            "the ring {ring:?} hugs the focused {:?} {rect:?}",
            focused.accesskit_node().label()
        );
        ringed += 1;
        if focused.accesskit_node().label().as_deref() == Some("Authorize") {
            break;
        }
    }
    assert!(ringed > 1, "Tab moved the focus and each stop was ringed");
    assert_eq!(
        h.query_by_label("Authorize").map(|n| n.is_focused()),
        Some(true),
        "Tab reached Authorize"
    );
}

/// Ctrl +/− scale the whole interface (egui's zoom), Ctrl+0 resets it.
#[test]
fn ctrl_plus_and_minus_scale_the_text() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for(&mut h, "the profiles", ready);
    press(&mut h, "Request");
    // Sizes in physical pixels: a point grows with the zoom.
    let pixels =
        |h: &Harness<'_, App>| h.get_by_label("Authorize").rect().size() * h.ctx.pixels_per_point();
    let before = pixels(&h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Plus);
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Plus);
    h.run_ok();
    let zoomed = h.ctx.zoom_factor();
    assert!(zoomed > 1.1, "Ctrl+Plus zooms in: {zoomed}");
    let after = pixels(&h);
    assert!(
        after.y > before.y * 1.1 && after.x > before.x * 1.1,
        "Authorize grows with the text: {before:?} then {after:?} pixels"
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Minus);
    h.run_ok();
    assert!(h.ctx.zoom_factor() < zoomed, "Ctrl+Minus zooms out");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num0);
    h.run_ok();
    assert_eq!(h.ctx.zoom_factor(), 1.0, "Ctrl+0 resets the zoom");
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
