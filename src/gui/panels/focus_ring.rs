//! A visible keyboard focus: a ring around whichever control has the focus, drawn above
//! everything in the theme's selection colour (dark blue in the light theme, light blue in
//! the dark one), two points wide. egui marks a focused button only by a change of fill,
//! which is easy to miss; the ring makes Tab's position plain.

use egui::{Context, Id, LayerId, Order, Rect, Stroke, StrokeKind};

/// How far the ring stands off the control, and its width, in points.
const GAP: f32 = 2.0;
const WIDTH: f32 = 2.0;

/// Paints the ring around the focused control, if any is shown; returns the ring's rect.
pub fn paint(ctx: &Context) -> Option<Rect> {
    let focused = ctx.memory(|m| m.focused())?;
    let response = ctx.read_response(focused)?;
    // The part of the control that is shown (a control half scrolled away keeps a ring
    // on its visible part only).
    let rect = response.interact_rect;
    if !rect.is_positive() {
        return None;
    }
    let ring = rect.expand(GAP);
    let color = ctx.global_style().visuals.selection.stroke.color;
    let painter = ctx.layer_painter(LayerId::new(Order::Tooltip, Id::new("focus_ring")));
    painter.rect_stroke(ring, 3.0, Stroke::new(WIDTH, color), StrokeKind::Outside);
    Some(ring)
}
