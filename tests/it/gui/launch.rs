//! A later launch: the Local sandbox profile exists, so the window opens without starting
//! the sandbox (nothing listens, nothing is held while idle); the first request that
//! needs it starts it and then goes on, here Authorize, then Send.

use super::*;

#[test]
fn the_local_sandbox_starts_with_the_first_request_that_needs_it() {
    let s = Setup::new();
    {
        // The first launch makes the profile and its key, and starts the sandbox.
        let mut first = s.harness();
        wait_for_sandbox_and_key(&mut first);
    }
    let mut h = s.harness();
    wait_for(&mut h, "the key", |a| {
        ready(a) && a.state.loaded_key().is_some()
    });
    // Idle frames: the key is loaded for the preview, the sandbox stays stopped.
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        matches!(h.state().state.sandbox, SandboxStatus::Stopped),
        "a later launch does not start the sandbox: {:?}",
        h.state().state.sandbox
    );
    assert!(shows_text(&h, "Sandbox: starts when needed"));
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    assert!(matches!(
        h.state().state.sandbox,
        SandboxStatus::Running { .. }
    ));
    click(&mut h, "Send");
    wait_for(&mut h, "the token", |a| !a.state.history.is_empty());
    let entry = h.state().state.history.last().unwrap();
    assert_eq!(
        entry.exchange.response().map(|r| r.http.status),
        Some(200),
        "the token after a sandbox started on demand"
    );
}
