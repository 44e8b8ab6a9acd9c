//! The desktop app (eframe, glow) (issue 5): profiles, the request builder with a live
//! preview of the exact request sent, the response inspector, and a JWT inspector, on a
//! background worker so the window never waits on the network or the keychain.
//!
//! - [`app`]: the `App` (state + worker handle; drains events, paints panels).
//! - [`worker`]: commands in, events out, on the tokio runtime given to [`run`].
//! - [`state`]: plain data, including the non-secret persisted part.
//! - [`platform`]: clipboard and file dialogs behind traits (fakes for tests).
//! - [`panels`]: one function per panel.

pub mod app;
pub mod panels;
pub mod platform;
pub mod state;
pub mod worker;

use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;

pub use app::App;

/// The application id (Wayland app id, X11 class, storage folder name).
pub const APP_ID: &str = "token-inspector";

/// The window title.
pub const TITLE: &str = "Token Inspector";

/// The window's icon: `assets/icon.png` at 128×128 as raw RGBA, made with
/// `convert assets/icon.png -filter box -resize 128x128 -depth 8 rgba:assets/icon-128.rgba`. Raw, so
/// that no PNG decoder runs (or stays in memory) before the first frame.
pub const ICON_RGBA: &[u8] = include_bytes!("../../assets/icon-128.rgba");

/// The icon's side in pixels.
pub const ICON_SIDE: u32 = 128;

/// Opens the window and runs until it closes.
pub fn run(handle: tokio::runtime::Handle) -> anyhow::Result<()> {
    let started = Instant::now();
    let profiles = crate::storage::profile::ProfileStore::default_location()
        .map_err(|e| anyhow!("cannot find the profile folder: {e}"))?;
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(TITLE)
        .with_app_id(APP_ID)
        .with_inner_size([1200.0, 780.0])
        .with_min_inner_size([720.0, 480.0]);
    viewport = viewport.with_icon(Arc::new(egui::IconData {
        rgba: ICON_RGBA.to_vec(),
        width: ICON_SIDE,
        height: ICON_SIDE,
    }));
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        persist_window: true,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        APP_ID,
        options,
        Box::new(move |cc| {
            let clipboard: Arc<dyn platform::Clipboard> =
                Arc::new(platform::SystemClipboard::new());
            let files: Arc<dyn platform::FileDialog> = Arc::new(platform::NativeFileDialog);
            Ok(Box::new(App::new(
                cc, handle, profiles, clipboard, files, started,
            )))
        }),
    )
    .map_err(|e| anyhow!("the window could not open: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_icon_is_a_whole_opaque_picture() {
        let side = ICON_SIDE as usize;
        assert_eq!(ICON_RGBA.len(), side * side * 4, "128×128 RGBA");
        let opaque = ICON_RGBA.chunks(4).filter(|px| px[3] == 255).count();
        assert!(opaque > side * side / 4, "{opaque} opaque pixels");
    }
}
