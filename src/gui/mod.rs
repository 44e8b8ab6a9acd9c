//! The desktop app (eframe, glow) (issue 5).

/// Opens the window and runs until it closes.
pub fn run(_handle: tokio::runtime::Handle) -> anyhow::Result<()> {
    anyhow::bail!("the desktop app is not built yet")
}
