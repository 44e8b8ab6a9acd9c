//! The background worker: receives [`Command`]s from the UI thread over a channel, runs
//! each on the tokio runtime handed to the app (blocking work such as the keychain, file
//! dialogs and key generation on `spawn_blocking`), and sends [`Event`]s back, asking
//! egui for a repaint after each. Every command is dispatched the same way; a job with an
//! id (Send, Authorize, an API call) can be cancelled through its `AbortHandle`. The UI
//! thread never awaits, blocks or sleeps.
//!
//! The workflows themselves are the core session's steps ([`crate::session`]): the
//! worker resolves a session for the profile and calls them, as the command line does.

mod dispatch;
mod exchange;
mod files;
mod flows;
mod keys;
mod messages;
mod sandbox;

use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

pub use messages::{Area, Command, Event, PemKeyUse};

use super::platform::{Browser, FileDialog};
use super::state::Notice;
use crate::history::HistoryStore;
use crate::oauth::dpop::NonceStore;
use crate::sandbox::SandboxHandle;
use crate::storage::profile::ProfileStore;
use crate::storage::secret_store::SecretStore;

/// The UI's end: sends commands, receives events.
pub struct Worker {
    commands: UnboundedSender<Command>,
    events: std::sync::mpsc::Receiver<Event>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
    nonces: Arc<NonceStore>,
}

impl Worker {
    /// Starts the worker on `handle`. `store`: a store to use instead of the OS keychain
    /// (tests).
    pub fn start(
        handle: tokio::runtime::Handle,
        profiles: ProfileStore,
        files: Arc<dyn FileDialog>,
        browser: Arc<dyn Browser>,
        store: Option<Arc<dyn SecretStore>>,
        history: HistoryStore,
    ) -> Self {
        let (commands, rx) = unbounded_channel();
        let (events_tx, events) = std::sync::mpsc::channel();
        let ctx = Arc::new(Mutex::new(None));
        let nonces = Arc::<NonceStore>::default();
        let inner = Arc::new(Inner {
            handle: handle.clone(),
            events: Mutex::new(events_tx),
            ctx: ctx.clone(),
            injected_store: store,
            store: Mutex::new(None),
            files,
            browser,
            profiles,
            history,
            sandbox: tokio::sync::Mutex::new(None),
            sandbox_start: tokio::sync::Mutex::new(()),
            nonces: nonces.clone(),
            dpop_key_lock: tokio::sync::Mutex::new(()),
        });
        handle.spawn(dispatch::command_loop(inner, rx));
        Self {
            commands,
            events,
            ctx,
            nonces,
        }
    }

    /// Gives the worker the egui context to wake the UI with.
    pub fn set_context(&self, ctx: &egui::Context) {
        if let Ok(mut slot) = self.ctx.lock()
            && slot.is_none()
        {
            *slot = Some(ctx.clone());
        }
    }

    /// Queues a command (never blocks).
    pub fn send(&self, command: Command) {
        // The loop only stops with the runtime, when the app is closing.
        let _ = self.commands.send(command);
    }

    /// The next event, if one is waiting (never blocks).
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The DPoP nonces servers gave, shared with every session the worker runs, so the
    /// preview carries the nonce Send will send (RFC 9449 §8.2).
    pub fn nonces(&self) -> &Arc<NonceStore> {
        &self.nonces
    }
}

struct Inner {
    handle: tokio::runtime::Handle,
    events: Mutex<std::sync::mpsc::Sender<Event>>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
    injected_store: Option<Arc<dyn SecretStore>>,
    store: Mutex<Option<Arc<dyn SecretStore>>>,
    files: Arc<dyn FileDialog>,
    browser: Arc<dyn Browser>,
    profiles: ProfileStore,
    /// The exchange history on disk (no secrets).
    history: HistoryStore,
    sandbox: tokio::sync::Mutex<Option<SandboxHandle>>,
    /// Held for a whole sandbox start, so two starts (first launch and a selection)
    /// cannot each generate and register a different key.
    sandbox_start: tokio::sync::Mutex<()>,
    /// The latest DPoP nonce of each server (RFC 9449 §8.2).
    nonces: Arc<NonceStore>,
    /// Held while a profile's DPoP key is read (and made on first use), so two jobs
    /// cannot each make one.
    dpop_key_lock: tokio::sync::Mutex<()>,
}

impl Inner {
    fn emit(&self, event: Event) {
        if let Ok(tx) = self.events.lock() {
            let _ = tx.send(event);
        }
        if let Ok(ctx) = self.ctx.lock()
            && let Some(ctx) = ctx.as_ref()
        {
            ctx.request_repaint();
        }
    }

    fn notice(&self, area: Area, notice: Notice) {
        self.emit(Event::Notice(area, notice));
    }

    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        self.handle
            .spawn_blocking(f)
            .await
            .map_err(|e| anyhow!("background task failed: {e}"))
    }
}
