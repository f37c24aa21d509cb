//! The body in the frontal plane, as a camera behind the person sees it: the person's
//! right is on the image's right (world z to the right, y up), so the picture matches
//! what a coach standing behind the athlete sees.

use super::data::{deepest_row, Side, Summary, TaskKind, TimeSeries};
use super::figures::DrawResult;
use super::style::{self, FONT};
use super::{run_caption, Comparison};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// How long a GIF holds its last frame (the end of the stance, or the fall) before it
/// loops, in milliseconds.
pub const GIF_HOLD_MS: u32 = 1500;
/// Animation plays at half speed so the drop can be followed.
const SLOW_MOTION: f64 = 2.0;

/// Which rows a GIF shows and how many frames it has: `(stride, frames)` for a time
/// series of `rows` rows and at most `max_frames` frames. Frames are rows 0, stride,
/// 2 stride, ..., the last row; the last frame is shown for [`GIF_HOLD_MS`].
pub fn gif_frame_plan(rows: usize, max_frames: usize) -> (usize, usize) {
    if rows == 0 {
        return (1, 0);
    }
    let stride = rows.div_ceil(max_frames.max(2) - 1).max(1);
    let animated = (rows - 1).div_ceil(stride) + 1;
    (stride, animated)
}

/// The rows a GIF shows: every `stride`-th row from the first, and the last row (see
/// [`gif_frame_plan`]), so the whole recording plays, the end held for [`GIF_HOLD_MS`].
/// `keep` (a squat's deepest row) replaces the nearest planned row between the first
/// and the last, so the animation passes through the deepest pose itself without
/// changing the frame count or the pace.
pub fn gif_rows(rows: usize, max_frames: usize, keep: Option<usize>) -> Vec<usize> {
    if rows == 0 {
        return Vec::new();
    }
    let (stride, _) = gif_frame_plan(rows, max_frames);
    let mut v: Vec<usize> = (0..rows).step_by(stride).collect();
    if v.last() != Some(&(rows - 1)) {
        v.push(rows - 1);
    }
    if let Some(k) = keep.filter(|&k| k < rows && !v.contains(&k)) {
        if let Some(i) = (1..v.len().saturating_sub(1)).min_by_key(|&i| v[i].abs_diff(k)) {
            v[i] = k;
        }
    }
    v
}

/// Set the display time of the last frame of a GIF file's bytes to `centis`
/// hundredths of a second (its Graphic Control Extension's delay), leaving every other
/// byte as it is. The encoder writes one delay for all frames; this makes the final
/// pose stay on screen. Errors if the bytes are not a GIF or the last frame has no
/// Graphic Control Extension.
pub fn hold_last_frame(bytes: &mut [u8], centis: u16) -> Result<(), String> {
    let bad = |what: &str| Err(format!("not a GIF file the plot can edit: {what}"));
    if bytes.len() < 13 || !bytes.starts_with(b"GIF8") {
        return bad("no GIF header");
    }
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3 * (1usize << ((packed & 7) + 1))
        } else {
            0
        }
    };
    let mut i = 13 + table(bytes[10]);
    // Skip data sub-blocks starting at `i`; returns the index after the terminator.
    let skip_blocks = |mut i: usize| -> Option<usize> {
        loop {
            let n = *bytes.get(i)? as usize;
            i += 1 + n;
            if n == 0 {
                return Some(i);
            }
        }
    };
    let mut pending_gce: Option<usize> = None;
    let mut last_frame_gce: Option<usize> = None;
    loop {
        match bytes.get(i) {
            Some(0x21) => {
                let label = *bytes.get(i + 1).ok_or("truncated extension")?;
                if label == 0xF9 && bytes.get(i + 2) == Some(&4) {
                    pending_gce = Some(i + 4);
                }
                i = match skip_blocks(i + 2) {
                    Some(j) => j,
                    None => return bad("truncated extension"),
                };
            }
            Some(0x2C) => {
                let packed = *bytes.get(i + 9).ok_or("truncated image descriptor")?;
                last_frame_gce = pending_gce.take();
                // Descriptor (10 bytes), local colour table, LZW code size, data.
                i = match skip_blocks(i + 10 + table(packed) + 1) {
                    Some(j) => j,
                    None => return bad("truncated image data"),
                };
            }
            Some(0x3B) => break,
            _ => return bad("unexpected block"),
        }
    }
    let Some(d) = last_frame_gce else {
        return bad("the last frame has no delay to set");
    };
    bytes[d..d + 2].copy_from_slice(&centis.to_le_bytes());
    Ok(())
}

/// The region of the image plane to show, common to all rows of one or more runs.
#[derive(Clone, Copy)]
struct View {
    u0: f64,
    u1: f64,
    v0: f64,
    v1: f64,
    ground: f64,
    /// Seen from the front (a camera in front of the person, as the FPPA is filmed):
    /// the person's right on the image's left. Otherwise from behind.
    mirror: bool,
    /// A step-down's box under the stance foot: (left, right, top) on the image.
    step_box: Option<(f64, f64, f64)>,
}

impl View {
    /// Projection onto the image plane: (z, y) from behind, (-z, y) from the front.
    fn uv(&self, p: [f64; 3]) -> (f64, f64) {
        if self.mirror {
            (-p[2], p[1])
        } else {
            (p[2], p[1])
        }
    }

    /// With the box of a step-down drawn under the stance foot of `ts` (its height: the
    /// stance foot's lowest landmark at the start).
    fn with_box(mut self, ts: &TimeSeries, stance: Side) -> View {
        let st = stance.suffix();
        let feet: Vec<[f64; 3]> = ["toe", "ankle"]
            .iter()
            .filter_map(|n| ts.landmark(&format!("{n}_{st}"), 0))
            .collect();
        let top = feet.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min);
        if let (Some(a), true) = (feet.last(), top > self.ground + 0.03) {
            let u = self.uv(*a).0;
            self.step_box = Some((u - 0.16, u + 0.16, top - 0.01));
        }
        self
    }

    fn of(runs: &[&TimeSeries], mirror: bool) -> View {
        let mut lo_y = f64::INFINITY;
        let mut hi_y = f64::NEG_INFINITY;
        let mut cu = 0.0;
        let mut n = 0.0;
        for ts in runs {
            for row in 0..ts.len() {
                for name in ["toe_r", "toe_l", "ankle_r", "ankle_l"] {
                    if let Some(p) = ts.landmark(name, row) {
                        lo_y = lo_y.min(p[1]);
                    }
                }
                if let Some(p) = ts.landmark("neck", row) {
                    hi_y = hi_y.max(p[1]);
                }
            }
            for name in ["hip_r", "hip_l"] {
                if let Some(p) = ts.landmark(name, 0) {
                    cu += if mirror { -p[2] } else { p[2] };
                    n += 1.0;
                }
            }
        }
        if !lo_y.is_finite() {
            lo_y = 0.0;
        }
        if !hi_y.is_finite() {
            hi_y = 1.5;
        }
        // The floor: y = 0 if the feet start near it, else just under the lowest point.
        let ground = if (-0.03..0.12).contains(&lo_y) {
            0.0_f64.min(lo_y)
        } else {
            lo_y - 0.02
        };
        let cu = if n > 0.0 { cu / n } else { 0.0 };
        View {
            u0: cu - 0.62,
            u1: cu + 0.62,
            v0: ground - 0.08,
            v1: hi_y + 0.32,
            ground,
            mirror,
            step_box: None,
        }
    }

    /// Ranges with equal metres per pixel horizontally and vertically in a `w` x `h` plot.
    fn fit(&self, w: u32, h: u32) -> ((f64, f64), (f64, f64)) {
        let (du, dv) = (self.u1 - self.u0, self.v1 - self.v0);
        let s = (w as f64 / du).min(h as f64 / dv);
        let (cu, cv) = ((self.u0 + self.u1) / 2.0, (self.v0 + self.v1) / 2.0);
        let (hu, hv) = (w as f64 / s / 2.0, h as f64 / s / 2.0);
        // Keep the floor at the bottom rather than centring vertically.
        let v0 = self.v0.min(cv - hv);
        ((cu - hu, cu + hu), (v0, v0 + 2.0 * hv))
    }
}

fn text(size: u32, color: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size).into_font()).color(color)
}

fn bold(size: u32, color: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size, FontStyle::Bold).into_font()).color(color)
}

/// What to write on the body.
#[derive(Clone, Copy)]
struct Annotate {
    /// Angle and distance labels, COM plumb line.
    labels: bool,
    /// Font scale (1 = 1000 px tall figure).
    scale: f64,
    /// The FPPA as a 2D camera measures it: the hip-knee and knee-ankle lines and the
    /// angle between them.
    fppa: bool,
}

fn line<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    pts: &[(f64, f64)],
    color: &RGBColor,
    w: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart.draw_series(std::iter::once(PathElement::new(
        pts.to_vec(),
        color.stroke_width(w),
    )))?;
    Ok(())
}

fn dashed<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    pts: &[(f64, f64)],
    color: &RGBColor,
    w: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart.draw_series(DashedLineSeries::new(
        pts.to_vec(),
        9,
        7,
        color.stroke_width(w),
    ))?;
    Ok(())
}

/// Draw the skeleton of row `row` (thin grey when `ghost`).
#[allow(clippy::too_many_arguments)]
fn skeleton<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    view: &View,
    ts: &TimeSeries,
    row: usize,
    stance: Side,
    ghost: bool,
    px_per_m: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let lm = |n: &str| ts.landmark(n, row).map(|p| view.uv(p));
    let (limb_w, pelvis_w, trunk_w) = if ghost { (3, 3, 3) } else { (9, 8, 12) };
    let grey = style::GHOST;
    let color = |side: Side| {
        if ghost {
            grey
        } else if side == stance {
            style::STANCE
        } else {
            style::SWING
        }
    };
    // Trunk and head: from mid-pelvis to the neck.
    if let (Some(a), Some(b), Some(neck)) = (lm("asis_r"), lm("asis_l"), lm("neck")) {
        let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let c = if ghost { grey } else { style::TRUNK };
        line(chart, &[mid, neck], &c, trunk_w)?;
        let (dx, dy) = (neck.0 - mid.0, neck.1 - mid.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let head = (neck.0 + dx / len * 0.13, neck.1 + dy / len * 0.13);
        let r = (0.1 * px_per_m) as i32;
        if ghost {
            chart
                .plotting_area()
                .draw(&Circle::new(head, r, grey.stroke_width(3)))?;
        } else {
            chart
                .plotting_area()
                .draw(&Circle::new(head, r, RGBColor(225, 225, 225).filled()))?;
            chart
                .plotting_area()
                .draw(&Circle::new(head, r, style::TRUNK.stroke_width(3)))?;
        }
    }
    // Legs.
    for side in [stance.other(), stance] {
        let s = side.suffix();
        let pts: Vec<(f64, f64)> = ["hip", "knee", "ankle", "toe"]
            .iter()
            .filter_map(|n| lm(&format!("{n}_{s}")))
            .collect();
        line(chart, &pts, &color(side), limb_w)?;
        if !ghost {
            for p in pts.iter().take(3) {
                chart
                    .plotting_area()
                    .draw(&Circle::new(*p, 8, WHITE.filled()))?;
                chart
                    .plotting_area()
                    .draw(&Circle::new(*p, 8, color(side).stroke_width(3)))?;
            }
        }
    }
    // Pelvis: ASIS line and each ASIS to its hip, coloured by side.
    if let (Some(ar), Some(al), Some(hr), Some(hl)) =
        (lm("asis_r"), lm("asis_l"), lm("hip_r"), lm("hip_l"))
    {
        let mid = ((ar.0 + al.0) / 2.0, (ar.1 + al.1) / 2.0);
        for (side, a, h) in [(Side::Right, ar, hr), (Side::Left, al, hl)] {
            line(chart, &[mid, a, h], &color(side), pelvis_w)?;
        }
        if !ghost {
            line(chart, &[hr, hl], &RGBColor(150, 150, 150), 3)?;
            for (side, a) in [(Side::Right, ar), (Side::Left, al)] {
                chart
                    .plotting_area()
                    .draw(&Circle::new(a, 10, color(side).filled()))?;
            }
        }
    }
    Ok(())
}

/// Draw the annotated body at `row` into `area`; `ghost_row` is drawn underneath in grey.
#[allow(clippy::too_many_arguments)]
fn body<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &View,
    ts: &TimeSeries,
    row: usize,
    ghost_row: Option<usize>,
    stance: Side,
    ann: Annotate,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let m = 10;
    let ((u0, u1), (v0, v1)) = view.fit(w - 2 * m, h - 2 * m);
    let px_per_m = (w - 2 * m) as f64 / (u1 - u0);
    let mut chart = ChartBuilder::on(area)
        .margin(m)
        .build_cartesian_2d(u0..u1, v0..v1)?;
    let fs = |x: f64| (x * ann.scale).round().max(10.0) as u32;
    // Floor.
    chart.draw_series(std::iter::once(Rectangle::new(
        [(u0, v0), (u1, view.ground)],
        RGBColor(235, 230, 220).filled(),
    )))?;
    line(
        &mut chart,
        &[(u0, view.ground), (u1, view.ground)],
        &RGBColor(160, 150, 130),
        2,
    )?;
    if let Some((b0, b1, top)) = view.step_box {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(b0, view.ground), (b1, top)],
            RGBColor(222, 214, 198).filled(),
        )))?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(b0, view.ground), (b1, top)],
            RGBColor(160, 150, 130).stroke_width(2),
        )))?;
    }
    if let Some(g) = ghost_row {
        skeleton(&mut chart, view, ts, g, stance, true, px_per_m)?;
    }
    let lm = |n: &str| ts.landmark(n, row).map(|p| view.uv(p));
    // The stance leg's lateral side on the image: +u from behind for the right leg.
    let lat0: f64 = if (stance == Side::Right) != view.mirror {
        1.0
    } else {
        -1.0
    };
    let st = stance.suffix();
    let sw = stance.other().suffix();
    // Level line through the stance ASIS and the drop bracket at the swing ASIS.
    if let (Some(a_st), Some(a_sw)) = (lm(&format!("asis_{st}")), lm(&format!("asis_{sw}"))) {
        let dir = (a_sw.0 - a_st.0).signum();
        let far = a_sw.0 + dir * 0.16;
        dashed(
            &mut chart,
            &[(a_st.0 - dir * 0.06, a_st.1), (far, a_st.1)],
            &style::TRUNK,
            2,
        )?;
        let drop_cm = ts.at("pelvic_drop_cm", row);
        let drop_deg = ts.at("pelvic_drop_deg", row);
        let bad = drop_cm > style::TRENDELENBURG_CM;
        let c = if bad { style::REFERENCE } else { style::TRUNK };
        let bx = a_sw.0 + dir * 0.06;
        line(&mut chart, &[(bx, a_st.1), (bx, a_sw.1)], &c, 4)?;
        for y in [a_st.1, a_sw.1] {
            line(&mut chart, &[(bx - 0.015, y), (bx + 0.015, y)], &c, 4)?;
        }
        if ann.labels && drop_cm.is_finite() {
            let hpos = if dir > 0.0 { HPos::Left } else { HPos::Right };
            let msg = if drop_cm.abs() < 0.3 {
                "pelvis level".to_string()
            } else if drop_cm > 0.0 {
                format!("drops {drop_cm:.1} cm")
            } else {
                format!("rises {:.1} cm", -drop_cm)
            };
            chart.plotting_area().draw(&Text::new(
                msg,
                (bx + dir * 0.035, a_st.1 + 0.015),
                bold(fs(30.0), &c).pos(Pos::new(hpos, VPos::Bottom)),
            ))?;
            chart.plotting_area().draw(&Text::new(
                format!("tilt {}°", super::text::num(drop_deg, 1)),
                (bx + dir * 0.035, a_st.1 - 0.012),
                text(fs(24.0), &c).pos(Pos::new(hpos, VPos::Top)),
            ))?;
            if bad {
                chart.plotting_area().draw(&Text::new(
                    "Trendelenburg +".to_string(),
                    (bx + dir * 0.035, a_st.1 - 0.05),
                    bold(fs(22.0), &style::REFERENCE).pos(Pos::new(hpos, VPos::Top)),
                ))?;
            }
        }
    }
    // FPPA: the hip-ankle line of the stance leg.
    if let (Some(hp), Some(kn), Some(an)) = (
        lm(&format!("hip_{st}")),
        lm(&format!("knee_{st}")),
        lm(&format!("ankle_{st}")),
    ) {
        dashed(&mut chart, &[hp, an], &style::TRUNK, 2)?;
        if ann.labels && !ann.fppa {
            let fppa = ts.at("knee_fppa_deg", row);
            let shift = ts.at("knee_medial_shift_mm", row);
            // Write on the lateral side of the stance knee.
            let lat = lat0;
            let hpos = if lat > 0.0 { HPos::Left } else { HPos::Right };
            chart.plotting_area().draw(&Text::new(
                format!("knee FPPA {}°", super::text::num(fppa, 1)),
                (kn.0 + lat * 0.07, kn.1 + 0.01),
                bold(fs(24.0), &style::STANCE).pos(Pos::new(hpos, VPos::Bottom)),
            ))?;
            let how = if fppa > 0.5 {
                format!("knee {shift:.0} mm inside the hip-ankle line")
            } else {
                "(+ = knee caves in)".to_string()
            };
            chart.plotting_area().draw(&Text::new(
                how,
                (kn.0 + lat * 0.07, kn.1 - 0.005),
                text(fs(19.0), &style::STANCE).pos(Pos::new(hpos, VPos::Top)),
            ))?;
        }
    }
    // Trunk lean: a plumb line up from mid-pelvis and the angle, on the stance side.
    if let (Some(a), Some(b), Some(neck)) = (lm("asis_r"), lm("asis_l"), lm("neck")) {
        let lean = ts.at("trunk_lean_deg", row);
        if ann.labels && lean.is_finite() {
            let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
            dashed(&mut chart, &[mid, (mid.0, neck.1 + 0.04)], &style::GHOST, 2)?;
            let lat = lat0;
            let hpos = if lat > 0.0 { HPos::Left } else { HPos::Right };
            // Beside whichever of neck and mid-pelvis is further toward the stance side.
            let x = if lat > 0.0 {
                neck.0.max(mid.0)
            } else {
                neck.0.min(mid.0)
            };
            let (msg, sub) = trunk_lean_words(lean);
            chart.plotting_area().draw(&Text::new(
                msg,
                (x + lat * 0.09, neck.1 - 0.02),
                bold(fs(24.0), &style::TRUNK).pos(Pos::new(hpos, VPos::Bottom)),
            ))?;
            chart.plotting_area().draw(&Text::new(
                sub,
                (x + lat * 0.09, neck.1 - 0.03),
                text(fs(19.0), &style::TRUNK).pos(Pos::new(hpos, VPos::Top)),
            ))?;
        }
    }
    skeleton(&mut chart, view, ts, row, stance, false, px_per_m)?;
    if ann.fppa {
        fppa_camera(&mut chart, view, ts, row, stance, lat0, ann)?;
    }
    // Glute med line of action.
    if let (Some(o), Some(i)) = (lm("glut_med_origin"), lm("glut_med_insertion")) {
        line(&mut chart, &[o, i], &style::GLUT_MED, 7)?;
        for p in [o, i] {
            chart
                .plotting_area()
                .draw(&Circle::new(p, 6, style::GLUT_MED.filled()))?;
        }
        if ann.labels {
            let lat = lat0;
            let top = if o.1 > i.1 { o } else { i };
            let hpos = if lat > 0.0 { HPos::Left } else { HPos::Right };
            chart.plotting_area().draw(&Text::new(
                "glute med".to_string(),
                (top.0 + lat * 0.04, top.1 + 0.03),
                bold(fs(24.0), &style::GLUT_MED).pos(Pos::new(hpos, VPos::Bottom)),
            ))?;
        }
    }
    // Centre of mass and its plumb line.
    if let Some(c) = lm("com") {
        if ann.labels {
            dashed(
                &mut chart,
                &[c, (c.0, view.ground)],
                &RGBColor(90, 90, 90),
                2,
            )?;
        }
        chart
            .plotting_area()
            .draw(&Circle::new(c, 11, WHITE.filled()))?;
        chart
            .plotting_area()
            .draw(&Circle::new(c, 11, BLACK.stroke_width(3)))?;
        chart
            .plotting_area()
            .draw(&Cross::new(c, 7, BLACK.stroke_width(2)))?;
    }
    // Side labels in the floor's corners: right on the right, as seen from behind.
    for side in [Side::Right, Side::Left] {
        let (c, what) = if side == stance {
            (style::STANCE, "stance")
        } else {
            (style::SWING, "swing")
        };
        let (x, hpos) = if (side == Side::Right) != view.mirror {
            (u1 - 0.02, HPos::Right)
        } else {
            (u0 + 0.02, HPos::Left)
        };
        chart.plotting_area().draw(&Text::new(
            format!("{} leg ({what})", side.word().to_uppercase()),
            (x, view.ground - 0.012),
            bold(fs(22.0), &c).pos(Pos::new(hpos, VPos::Top)),
        ))?;
    }
    if ann.labels {
        key(area, ghost_row.is_some(), ann.fppa, ann.scale)?;
    }
    Ok(())
}

/// The knee's frontal plane projection angle of row `row` as a 2D camera measures it:
/// the angle between the hip-knee and knee-ankle lines of the stance leg in the frontal
/// plane, + when the knee sits inside (medial to) the hip-ankle line. The simulator's
/// definition ([`crate::sim::frontal_knee`]) applied to the recorded landmarks.
pub fn fppa_2d(ts: &TimeSeries, row: usize, stance: Side) -> Option<f64> {
    let st = stance.suffix();
    let p = |n: &str| {
        ts.landmark(&format!("{n}_{st}"), row)
            .map(|p| crate::math::Vec3::new(p[0], p[1], p[2]))
    };
    let (h, k, a) = (p("hip")?, p("knee")?, p("ankle")?);
    let (fppa, _) = crate::sim::frontal_knee(h, k, a, stance);
    fppa.is_finite().then_some(fppa)
}

/// The FPPA drawn as a camera measures it: the hip-knee line (extended past the knee,
/// dashed), the knee-ankle line, the arc between them and the angle.
#[allow(clippy::too_many_arguments)]
fn fppa_camera<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    view: &View,
    ts: &TimeSeries,
    row: usize,
    stance: Side,
    lat: f64,
    ann: Annotate,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let st = stance.suffix();
    let lm = |n: &str| ts.landmark(&format!("{n}_{st}"), row).map(|p| view.uv(p));
    let (Some(hp), Some(kn), Some(an)) = (lm("hip"), lm("knee"), lm("ankle")) else {
        return Ok(());
    };
    let ink = RGBColor(20, 20, 20);
    line(chart, &[hp, kn, an], &ink, 3)?;
    let (tx, ty) = (kn.0 - hp.0, kn.1 - hp.1);
    let tl = (tx * tx + ty * ty).sqrt().max(1e-9);
    let (sx, sy) = (an.0 - kn.0, an.1 - kn.1);
    let sl = (sx * sx + sy * sy).sqrt().max(1e-9);
    let ext = sl;
    dashed(
        chart,
        &[kn, (kn.0 + tx / tl * ext, kn.1 + ty / tl * ext)],
        &ink,
        2,
    )?;
    // The arc from the thigh's extension to the shank, the short way round.
    let a0 = ty.atan2(tx);
    let mut a1 = sy.atan2(sx);
    while a1 - a0 > std::f64::consts::PI {
        a1 -= 2.0 * std::f64::consts::PI;
    }
    while a0 - a1 > std::f64::consts::PI {
        a1 += 2.0 * std::f64::consts::PI;
    }
    let r = 0.5 * sl;
    let arc: Vec<(f64, f64)> = (0..=24)
        .map(|i| {
            let a = a0 + (a1 - a0) * i as f64 / 24.0;
            (kn.0 + r * a.cos(), kn.1 + r * a.sin())
        })
        .collect();
    line(chart, &arc, &style::REFERENCE, 6)?;
    let fs = |x: f64| (x * ann.scale).round().max(10.0) as u32;
    let hpos = if lat > 0.0 { HPos::Left } else { HPos::Right };
    let fppa = fppa_2d(ts, row, stance).unwrap_or(f64::NAN);
    chart.plotting_area().draw(&Text::new(
        format!("FPPA {}°", super::text::num(fppa, 1)),
        (kn.0 + lat * 0.07, kn.1 + 0.01),
        bold(fs(28.0), &style::REFERENCE).pos(Pos::new(hpos, VPos::Bottom)),
    ))?;
    let how = if fppa > 0.5 {
        "knee inside the hip-ankle line"
    } else if fppa < -0.5 {
        "knee outside the hip-ankle line"
    } else {
        "knee on the hip-ankle line"
    };
    chart.plotting_area().draw(&Text::new(
        how.to_string(),
        (kn.0 + lat * 0.07, kn.1 - 0.005),
        text(fs(19.0), &style::REFERENCE).pos(Pos::new(hpos, VPos::Top)),
    ))?;
    Ok(())
}

/// The trunk-lean label of the frontal figure: (headline, explanation); + = over the
/// stance leg, as `trunk_lean_deg` is signed. Never "-0°".
pub fn trunk_lean_words(lean_deg: f64) -> (String, String) {
    let a = super::text::num(lean_deg.abs(), 0);
    if lean_deg.abs() < 0.5 {
        ("trunk upright (0°)".into(), "no lean to either side".into())
    } else if lean_deg > 0.0 {
        (
            format!("trunk lean {a}°"),
            "over the stance leg (compensating)".into(),
        )
    } else {
        (format!("trunk lean {a}°"), "toward the swing side".into())
    }
}

/// The symbol key in the top-left corner of the body figure.
fn key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ghost: bool,
    fppa: bool,
    scale: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let fs = (21.0 * scale).round().max(10.0) as u32;
    let step = (31.0 * scale) as i32;
    let (x, mut y) = (24, 24);
    let mut row = |draw: &dyn Fn(i32) -> DrawResult, label: &str| -> DrawResult {
        draw(y)?;
        area.draw(&Text::new(
            label.to_string(),
            (x + 44, y),
            text(fs, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += step;
        Ok(())
    };
    row(
        &|y| {
            area.draw(&Circle::new((x + 16, y), 9, BLACK.stroke_width(3)))?;
            area.draw(&Cross::new((x + 16, y), 6, BLACK.stroke_width(2)))?;
            Ok(())
        },
        "centre of mass; dashed below it: straight down",
    )?;
    row(
        &|y| {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 32, y)],
                style::GLUT_MED.stroke_width(6),
            ))?;
            Ok(())
        },
        "glute med: line of pull, hip bone to thigh",
    )?;
    row(
        &|y| {
            area.draw(&DashedPathElement::new(
                vec![(x, y), (x + 32, y)],
                6,
                4,
                style::TRUNK.stroke_width(2),
            ))?;
            Ok(())
        },
        "level line; hip-to-ankle line",
    )?;
    if fppa {
        row(
            &|y| {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 32, y)],
                    style::REFERENCE.stroke_width(4),
                ))?;
                Ok(())
            },
            "FPPA: angle between hip-knee and knee-ankle lines (2D camera)",
        )?;
    }
    if ghost {
        row(
            &|y| {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 32, y)],
                    style::GHOST.stroke_width(4),
                ))?;
                Ok(())
            },
            "grey: the pose at the start",
        )?;
    }
    Ok(())
}

/// Header text: a bold title and lines under it; returns the area below.
fn header<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    lines: &[(String, RGBColor)],
    scale: f64,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    let fs = |x: f64| (x * scale).round().max(10.0) as u32;
    area.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, (12.0 * scale) as i32),
        bold(fs(32.0), &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let mut y = 12.0 * scale + 46.0 * scale;
    for (l, c) in lines {
        area.draw(&Text::new(
            l.clone(),
            (w as i32 / 2, y as i32),
            text(fs(22.0), c).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        y += 30.0 * scale;
    }
    Ok(area.margin(y as u32 + 4, 0, 0, 0))
}

fn steady_line(s: &Summary, r: usize, ts: &TimeSeries, row: usize) -> String {
    let t = ts.time().get(row).copied().unwrap_or(f64::NAN);
    match s.rows[r].status {
        super::RunStatus::Ok => format!("t = {t:.2} s, steady state; grey: the start"),
        super::RunStatus::StillFalling => {
            format!("t = {t:.2} s, the end: still dropping, not settled; grey: the start")
        }
        st => format!("t = {t:.2} s, {}; grey: the start", st.describe()),
    }
}

/// The row a still picture of run `r` shows: for a squat or step-down that completed its
/// task the deepest point ([`deepest_row`]); for one that lost balance or did not settle,
/// the moment the run ended (where the pelvis fell, which the deepest point, before the
/// fall, would hide); for stance the last row (steady state, or the moment the run ended).
pub fn shown_row(s: &Summary, r: usize, ts: &TimeSeries) -> usize {
    let last = ts.len().saturating_sub(1);
    if s.rows[r].task.is_dynamic() && s.rows[r].status == super::RunStatus::Ok {
        deepest_row(ts).unwrap_or(last)
    } else {
        last
    }
}

/// "deepest point, knee 61°" (or "end of the run, knee 10°" when `row` is not the deepest):
/// what the still picture of a squat or step-down shows.
pub fn deepest_words(ts: &TimeSeries, row: usize) -> String {
    let knee = super::text::num(ts.at("knee_flexion_deg", row), 0);
    if deepest_row(ts) == Some(row) {
        format!("deepest point, knee {knee}°")
    } else {
        format!("end of the run, knee {knee}°")
    }
}

/// The task in words, for titles: "Single-leg squat", "Step-down", "Standing".
pub fn task_words(task: TaskKind) -> &'static str {
    match task {
        TaskKind::SingleLegStance => "Standing on one leg",
        TaskKind::SingleLegSquat => "Single-leg squat",
        TaskKind::StepDown => "Step-down",
    }
}

/// The frontal-plane figure, PNG or SVG by extension: for single-leg stance at steady
/// state (the last row) seen from behind; for a squat or step-down at the deepest point
/// seen from the front, with the FPPA as a 2D camera measures it.
pub fn frontal(path: &Path, s: &Summary, r: usize, ts: &TimeSeries, side: Side) -> DrawResult {
    let size = (1000, 1250);
    if path.extension().and_then(|e| e.to_str()) == Some("svg") {
        frontal_on(
            &SVGBackend::new(path, size).into_drawing_area(),
            s,
            r,
            ts,
            side,
        )
    } else {
        frontal_on(
            &BitMapBackend::new(path, size).into_drawing_area(),
            s,
            r,
            ts,
            side,
        )
    }
}

fn frontal_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Summary,
    r: usize,
    ts: &TimeSeries,
    side: Side,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let task = s.rows[r].task;
    let dynamic = task.is_dynamic();
    let row = shown_row(s, r, ts);
    let cap = run_caption(s, r);
    let with_cap = |l: String| {
        if cap.is_empty() {
            l
        } else {
            format!("{cap}; {l}")
        }
    };
    let (title, lines) = if dynamic {
        let t = ts.time().get(row).copied().unwrap_or(f64::NAN);
        let status = match s.rows[r].status {
            super::RunStatus::Ok => String::new(),
            st => format!("; the run {}", st.describe()),
        };
        (
            format!(
                "{}: seen from the front, {}",
                task_words(task),
                if deepest_row(ts) == Some(row) {
                    "at the deepest point"
                } else {
                    "when the run ended"
                }
            ),
            vec![
                (
                    format!(
                        "On the {} leg, as a camera in front sees it (the person's right on the image's left).",
                        side.word()
                    ),
                    style::TRUNK,
                ),
                (
                    with_cap(format!(
                        "{}, t = {t:.2} s{status}; grey: the start",
                        deepest_words(ts, row)
                    )),
                    style::TRUNK,
                ),
                (
                    "Red: the FPPA, the angle between the hip-knee and knee-ankle lines in the picture".to_string(),
                    BLACK,
                ),
                (
                    "(+ = knee inside the hip-ankle line). Dashed at the pelvis: level; bracket: the drop.".to_string(),
                    BLACK,
                ),
            ],
        )
    } else {
        (
            "Seen from behind".to_string(),
            vec![
                (
                    format!(
                        "Standing on the {} leg. Blue: stance side, orange: swing side.",
                        side.word()
                    ),
                    style::TRUNK,
                ),
                (with_cap(steady_line(s, r, ts, row)), style::TRUNK),
                (
                    "The stance hip is a see-saw's pivot: body weight pulls the swing side down,"
                        .to_string(),
                    BLACK,
                ),
                (
                    "glute med on the stance side holds it level.".to_string(),
                    BLACK,
                ),
            ],
        )
    };
    let area = header(root, &title, &lines, 1.0)?;
    let mut view = View::of(&[ts], dynamic);
    if task == TaskKind::StepDown {
        view = view.with_box(ts, side);
    }
    body(
        &area,
        &view,
        ts,
        row,
        Some(0),
        side,
        Annotate {
            labels: true,
            scale: 1.0,
            fppa: dynamic,
        },
    )?;
    root.present()?;
    Ok(())
}

/// An animated GIF of the stance from its first row, at half speed.
pub fn animation(
    path: &Path,
    s: &Summary,
    r: usize,
    ts: &TimeSeries,
    side: Side,
    max_frames: usize,
) -> DrawResult {
    let keep = if s.rows[r].task.is_dynamic() {
        deepest_row(ts)
    } else {
        None
    };
    let rows = gif_rows(ts.len(), max_frames, keep);
    let (stride, _) = gif_frame_plan(ts.len(), max_frames);
    let t = ts.time();
    let dt = if t.len() >= 2 {
        (t[t.len() - 1] - t[0]) / (t.len() - 1) as f64
    } else {
        0.01
    };
    let delay_ms = ((stride as f64 * dt * 1000.0 * SLOW_MOTION).round() as u32).max(20);
    {
        let root = BitMapBackend::gif(path, (600, 760), delay_ms)?.into_drawing_area();
        animation_frames(&root, s, r, ts, side, &rows)?;
    }
    // Hold the last frame (the end, or the fall) before the animation loops.
    let mut bytes = std::fs::read(path)?;
    let centis = (GIF_HOLD_MS.max(delay_ms) / 10).min(u16::MAX as u32) as u16;
    hold_last_frame(&mut bytes, centis)?;
    std::fs::write(path, bytes)?;
    Ok(())
}

fn animation_frames<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Summary,
    r: usize,
    ts: &TimeSeries,
    side: Side,
    rows: &[usize],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let t = ts.time();
    let task = s.rows[r].task;
    let dynamic = task.is_dynamic();
    let deepest = deepest_row(ts);
    let mut view = View::of(&[ts], dynamic);
    if task == TaskKind::StepDown {
        view = view.with_box(ts, side);
    }
    let cap = run_caption(s, r);
    let title = if dynamic {
        format!(
            "{} on the {} leg, from the front",
            task_words(task),
            side.word()
        )
    } else {
        format!("Standing on the {} leg, from behind", side.word())
    };
    for &row in rows {
        root.fill(&WHITE)?;
        let drop = ts.at("pelvic_drop_cm", row);
        let bad = drop > style::TRENDELENBURG_CM;
        let mut l = vec![(
            format!(
                "t = {:.2} s (half speed)   pelvic drop {} cm",
                t[row],
                super::text::num(drop, 1)
            ),
            if bad { style::REFERENCE } else { style::TRUNK },
        )];
        if dynamic {
            let phase = match deepest {
                Some(d) if row < d => "going down",
                Some(d) if row == d => "deepest point",
                Some(_) => "coming back up",
                None => "",
            };
            l.push((
                format!(
                    "knee flexion {}° ({phase})   FPPA {}°",
                    super::text::num(ts.at("knee_flexion_deg", row), 0),
                    super::text::num(fppa_2d(ts, row, side).unwrap_or(f64::NAN), 1)
                ),
                style::TRUNK,
            ));
        }
        if !cap.is_empty() {
            l.insert(0, (cap.clone(), style::TRUNK));
        }
        if row == ts.len() - 1 && s.rows[r].status != super::RunStatus::Ok {
            l.push((s.rows[r].status.describe().to_string(), style::REFERENCE));
        }
        let area = header(root, &title, &l, 0.75)?;
        body(
            &area,
            &view,
            ts,
            row,
            None,
            side,
            Annotate {
                labels: false,
                scale: 0.7,
                fppa: false,
            },
        )?;
        root.present()?;
    }
    Ok(())
}

/// Two runs side by side at steady state, on the same scale.
pub fn side_by_side(
    path: &Path,
    s: &Summary,
    c: &Comparison,
    a: &TimeSeries,
    b: &TimeSeries,
) -> DrawResult {
    let root = BitMapBackend::new(path, (1800, 1250)).into_drawing_area();
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    root.draw(&Text::new(
        c.title.clone(),
        (w as i32 / 2, 12),
        bold(36, &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let dynamic = s.rows[c.left].task.is_dynamic() && s.rows[c.right].task.is_dynamic();
    root.draw(&Text::new(
        if dynamic {
            "Seen from the front at each run's deepest point (a run that did not complete the task: when it ended), same scale. Blue: stance leg, orange: swing leg."
        } else {
            "Seen from behind, same scale. Blue: stance leg, orange: swing leg, red: glute med."
        }
        .to_string(),
        (w as i32 / 2, 60),
        text(22, &style::TRUNK).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let below = root.margin(96, 70, 0, 0);
    let halves = below.split_evenly((1, 2));
    let mut view = View::of(&[a, b], dynamic);
    if s.rows[c.left].task == TaskKind::StepDown {
        view = view.with_box(a, super::data::stance_side(s, c.left, Some(a)));
    }
    for (k, (ts, r, label)) in [(a, c.left, &c.left_label), (b, c.right, &c.right_label)]
        .into_iter()
        .enumerate()
    {
        let area = &halves[k];
        let row = if dynamic {
            shown_row(s, r, ts)
        } else {
            ts.len() - 1
        };
        let side = super::data::stance_side(s, r, Some(ts));
        let drop = ts.at("pelvic_drop_cm", row);
        let verdict = if !drop.is_finite() {
            ("pelvic drop not recorded".to_string(), style::TRUNK)
        } else if !s.rows[r].status.held() {
            (
                format!(
                    "Pelvis {} cm down at this moment: not a steady state",
                    super::text::num(drop, 1)
                ),
                style::REFERENCE,
            )
        } else if drop > style::TRENDELENBURG_CM {
            (
                format!(
                    "Pelvis drops {} cm: positive Trendelenburg (> 2 cm)",
                    super::text::num(drop, 1)
                ),
                style::REFERENCE,
            )
        } else {
            (
                format!(
                    "Pelvis drops {} cm: within the 2 cm limit",
                    super::text::num(drop, 1)
                ),
                style::HEALTHY,
            )
        };
        let t = ts.time().get(row).copied().unwrap_or(f64::NAN);
        let t2 = s.rows[r]
            .time_to_trendelenburg_s()
            .map(|x| format!(" (past 2 cm at {x:.2} s)"))
            .unwrap_or_default();
        let when = match s.rows[r].status {
            super::RunStatus::Ok => (format!("held the stance; shown at {t:.2} s"), style::TRUNK),
            super::RunStatus::StillFalling => (
                format!("still dropping when the run ended at {t:.2} s{t2}"),
                style::REFERENCE,
            ),
            st => (
                format!("{} at {t:.2} s{t2}; shown at that moment", st.describe()),
                style::REFERENCE,
            ),
        };
        let lines = if dynamic {
            let st = s.rows[r].status;
            vec![
                (
                    format!(
                        "{}: FPPA {}°, pelvis tilted {}°",
                        deepest_words(ts, row),
                        super::text::num(fppa_2d(ts, row, side).unwrap_or(f64::NAN), 1),
                        super::text::num(ts.at("pelvic_drop_deg", row), 1)
                    ),
                    style::TRUNK,
                ),
                if st == super::RunStatus::Ok {
                    ("completed the task".to_string(), style::TRUNK)
                } else {
                    (format!("the run {}", st.describe()), style::REFERENCE)
                },
            ]
        } else {
            vec![verdict, when]
        };
        let inner = header(area, label, &lines, 0.9)?;
        body(
            &inner,
            &view,
            ts,
            row,
            Some(0),
            side,
            Annotate {
                labels: true,
                scale: 0.85,
                fppa: dynamic,
            },
        )?;
    }
    if let Some(t) = super::report::takeaway(s, c) {
        let (w, h) = root.dim_in_pixel();
        // The largest font (30 px down to 16) at which the sentence fits the width.
        let mut fs = 30;
        while fs > 16 && root.estimate_text_size(&t, &bold(fs, &BLACK))?.0 + 40 > w {
            fs -= 2;
        }
        root.draw(&Text::new(
            t,
            (w as i32 / 2, h as i32 - 34),
            bold(fs, &BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    // Divider.
    let (w, h) = below.dim_in_pixel();
    below.draw(&PathElement::new(
        vec![(w as i32 / 2, 10), (w as i32 / 2, h as i32 - 10)],
        style::GHOST.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}
