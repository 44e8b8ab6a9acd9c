//! The app's doors to the desktop: the clipboard (arboard, one instance kept alive so
//! copied text survives on X11) and native file dialogs (rfd), each behind a trait with a
//! fake for tests.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

/// A text clipboard.
pub trait Clipboard: Send + Sync {
    /// Puts text on the clipboard.
    fn set_text(&self, text: &str) -> Result<(), String>;
    /// Reads text from the clipboard.
    fn get_text(&self) -> Result<String, String>;
}

/// Native file dialogs. Called from the worker (they block), never the UI thread.
pub trait FileDialog: Send + Sync {
    /// Asks for a file to open; `None` when cancelled.
    fn pick_file(&self, title: &str) -> Option<PathBuf>;
    /// Asks where to save; `None` when cancelled.
    fn save_file(&self, title: &str, file_name: &str) -> Option<PathBuf>;
}

/// Opens a URL in the user's browser (the bank's login and consent page).
pub trait Browser: Send + Sync {
    /// Opens the URL; the error says why it could not.
    fn open(&self, url: &str) -> Result<(), String>;
}

/// The system's default browser (xdg-open, open, start).
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        open::that_detached(url).map_err(|e| e.to_string())
    }
}

/// A browser for tests: records the URLs and, when given, plays the user with them.
#[derive(Default)]
pub struct FakeBrowser {
    opened: Mutex<Vec<String>>,
    visit: Option<Box<dyn Fn(String) + Send + Sync>>,
}

impl FakeBrowser {
    /// A browser that plays the user: `visit` gets each URL opened.
    pub fn visiting(visit: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self {
            opened: Mutex::new(Vec::new()),
            visit: Some(Box::new(visit)),
        }
    }

    /// The URLs opened so far.
    pub fn opened(&self) -> Vec<String> {
        self.opened.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl Browser for FakeBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        if let Ok(mut opened) = self.opened.lock() {
            opened.push(url.to_owned());
        }
        if let Some(visit) = &self.visit {
            visit(url.to_owned());
        }
        Ok(())
    }
}

/// The system clipboard through arboard. One instance lives as long as the app: on X11
/// the copied text is served by this process.
pub struct SystemClipboard {
    inner: Mutex<Option<arboard::Clipboard>>,
    error: Option<String>,
}

impl SystemClipboard {
    /// Opens the clipboard; a failure is kept and reported on each use.
    pub fn new() -> Self {
        match arboard::Clipboard::new() {
            Ok(c) => Self {
                inner: Mutex::new(Some(c)),
                error: None,
            },
            Err(e) => Self {
                inner: Mutex::new(None),
                error: Some(e.to_string()),
            },
        }
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut arboard::Clipboard) -> Result<R, arboard::Error>,
    ) -> Result<R, String> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| "the clipboard is unusable after an earlier failure".to_owned())?;
        match guard.as_mut() {
            Some(c) => f(c).map_err(|e| format!("the clipboard refused: {e}")),
            None => Err(format!(
                "no clipboard is available ({}); select the text and copy it by hand",
                self.error.as_deref().unwrap_or("unknown reason")
            )),
        }
    }
}

impl Default for SystemClipboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Clipboard for SystemClipboard {
    fn set_text(&self, text: &str) -> Result<(), String> {
        self.with(|c| c.set_text(text.to_owned()))
    }

    fn get_text(&self) -> Result<String, String> {
        self.with(|c| c.get_text())
    }
}

/// Native dialogs through rfd (xdg-desktop-portal or zenity on Linux).
#[derive(Default)]
pub struct NativeFileDialog;

impl FileDialog for NativeFileDialog {
    fn pick_file(&self, title: &str) -> Option<PathBuf> {
        rfd::FileDialog::new().set_title(title).pick_file()
    }

    fn save_file(&self, title: &str, file_name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(file_name)
            .save_file()
    }
}

/// An in-memory clipboard for tests.
#[derive(Default)]
pub struct FakeClipboard {
    text: Mutex<String>,
}

impl FakeClipboard {
    /// A clipboard holding `text`.
    pub fn with_text(text: &str) -> Self {
        Self {
            text: Mutex::new(text.to_owned()),
        }
    }

    /// What was copied last.
    pub fn text(&self) -> String {
        self.text.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Clipboard for FakeClipboard {
    fn set_text(&self, text: &str) -> Result<(), String> {
        let mut guard = self.text.lock().map_err(|e| e.to_string())?;
        *guard = text.to_owned();
        Ok(())
    }

    fn get_text(&self) -> Result<String, String> {
        Ok(self.text())
    }
}

/// File dialogs for tests: answers queued paths in order, then `None`.
#[derive(Default)]
pub struct FakeFileDialog {
    picks: Mutex<VecDeque<PathBuf>>,
    saves: Mutex<VecDeque<PathBuf>>,
}

impl FakeFileDialog {
    /// Queues the answer of the next `pick_file`.
    pub fn push_pick(&self, path: impl Into<PathBuf>) {
        if let Ok(mut q) = self.picks.lock() {
            q.push_back(path.into());
        }
    }

    /// Queues the answer of the next `save_file`.
    pub fn push_save(&self, path: impl Into<PathBuf>) {
        if let Ok(mut q) = self.saves.lock() {
            q.push_back(path.into());
        }
    }
}

impl FileDialog for FakeFileDialog {
    fn pick_file(&self, _title: &str) -> Option<PathBuf> {
        self.picks.lock().ok()?.pop_front()
    }

    fn save_file(&self, _title: &str, _file_name: &str) -> Option<PathBuf> {
        self.saves.lock().ok()?.pop_front()
    }
}
