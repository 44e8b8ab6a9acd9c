//! The floor under the app's first frame and idle memory: an eframe window with the
//! app's own renderer and features (glow, default fonts, accesskit) and one label,
//! nothing else. `cargo run --release --example empty_window` prints the time from
//! `main` to the first frame (`TOKEN_INSPECTOR_FIRST_FRAME_LOG=1` makes the app print
//! the same figure), so the two can be compared under the same display (Xvfb +
//! llvmpipe here).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool

use std::time::Instant;

struct Empty {
    started: Option<Instant>,
}

impl eframe::App for Empty {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if let Some(started) = self.started.take() {
            eprintln!("first frame after {} ms", started.elapsed().as_millis());
        }
        egui::CentralPanel::default().show(ui, |ui| ui.label("empty"));
    }
}

fn main() {
    let started = Instant::now();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1200.0, 780.0]),
        renderer: eframe::Renderer::Glow,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "empty-window",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(Empty {
                started: Some(started),
            }))
        }),
    )
    .expect("window");
}
