//! Charts: dose-response curves, heat map, time series of measures and muscles.
//!
//! Runs are compared only on values that mean the same for every run: the steady
//! state of runs that held the stance, and the time until the pelvic drop passed 2 cm
//! or the model fell. A run that did not hold is never drawn at its value at the
//! moment it ended as if that were a steady value: it is marked on the x axis of the
//! measure panels and drawn with its times in the time panel.

use super::data::{RunStatus, Side, Summary, TimeSeries};
use super::style::{self, FONT};
use super::text::{self as words, num, LabelBox};
use super::{param_label, param_short, run_caption};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Result of drawing one figure.
pub type DrawResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A reference drawn into a measure's panel.
#[derive(Clone, Copy, PartialEq)]
enum Reference {
    None,
    /// The 2 cm Trendelenburg line, area above shaded.
    Trendelenburg,
    /// The Trendelenburg line and, between two x values, the band where the runs
    /// change from falling to holding.
    TrendelenburgBand(f64, f64),
    /// FPPA of healthy and patellofemoral pain groups, mean ± SD bands.
    Fppa,
    /// In-vivo hip contact force band.
    HipContact,
    /// Zero line.
    Zero,
    /// Activation: the axis spans 0 to 1, with the saturation line.
    Unit,
    /// Effort in %: the axis spans 0 to 100 %, with the 100 % line.
    Percent,
}

/// One clinical measure and how to show it.
struct Measure {
    key: &'static str,
    title: &'static str,
    unit: &'static str,
    reference: Reference,
}

const MEASURES: &[Measure] = &[
    Measure {
        key: "pelvic_drop_cm",
        title: "Pelvic drop, swing side lower",
        unit: "cm",
        reference: Reference::Trendelenburg,
    },
    Measure {
        key: "pelvic_drop_deg",
        title: "Pelvic drop (tilt of the ASIS line)",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "hip_adduction_deg",
        title: "Hip adduction (thigh toward midline)",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "hip_internal_rotation_deg",
        title: "Hip internal rotation",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "knee_fppa_deg",
        title: "Knee FPPA (+ = knee caves in)",
        unit: "deg",
        reference: Reference::Fppa,
    },
    Measure {
        key: "trunk_lean_deg",
        title: "Trunk lean (+ = over stance leg)",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "hip_contact_force_bw",
        title: "Hip joint force",
        unit: "x body weight",
        reference: Reference::HipContact,
    },
];

/// The sweep panels of squats and step-downs: whole-run peaks, comparable between the
/// runs that completed the task. The second entry's place holds the times panel.
const PEAK_MEASURES: &[Measure] = &[
    Measure {
        key: "pelvic_drop_peak_deg",
        title: "Pelvic drop, largest (deg)",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "",
        title: "",
        unit: "",
        reference: Reference::None,
    },
    Measure {
        key: "hip_adduction_peak_deg",
        title: "Hip adduction, largest",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "hip_internal_rotation_peak_deg",
        title: "Hip internal rotation, largest",
        unit: "deg",
        reference: Reference::Zero,
    },
    Measure {
        key: "knee_fppa_peak_deg",
        title: "Knee FPPA, largest (+ = knee in)",
        unit: "deg",
        reference: Reference::Fppa,
    },
    Measure {
        key: "knee_medial_shift_peak_mm",
        title: "Knee medial shift, largest",
        unit: "mm",
        reference: Reference::Zero,
    },
    Measure {
        key: "knee_flexion_peak_deg",
        title: "Knee flexion reached (depth)",
        unit: "deg",
        reference: Reference::None,
    },
    Measure {
        key: "glut_med_activation_peak",
        title: "Glute med activation, largest",
        unit: "0-1",
        reference: Reference::Unit,
    },
];

const MOMENT: &str = "hip_abductor_moment_nm_per_kg";
const CAPACITY: &str = "hip_abductor_capacity_nm_per_kg";
const USABLE: &str = "hip_abductor_usable_capacity_nm_per_kg";
const EFFORT: &str = "hip_abductor_effort";

/// How the runs of a sweep are arranged into curves.
pub struct SweepLayout {
    /// Axis title of the x axis.
    pub x_label: String,
    /// Tick labels when x is categorical (positions 0, 1, ...), else empty.
    pub x_ticks: Vec<String>,
    /// The curves.
    pub curves: Vec<Curve>,
    /// A complete two-parameter grid, if the runs form one.
    pub grid: Option<Grid>,
}

/// One curve: (x, row index), sorted by x.
pub struct Curve {
    /// Legend text ("" when there is only one curve).
    pub label: String,
    /// The parameter this curve varies, when it is the only one that does.
    pub param: Option<usize>,
    /// Points.
    pub points: Vec<(f64, usize)>,
}

/// A complete grid over two numeric parameters.
pub struct Grid {
    /// Parameter column on the x axis.
    pub px: usize,
    /// Parameter column on the y axis.
    pub py: usize,
    /// Sorted distinct x values.
    pub xs: Vec<f64>,
    /// Sorted distinct y values.
    pub ys: Vec<f64>,
    /// Row index at (ix, iy).
    pub cell: Vec<Vec<Option<usize>>>,
    /// The values of the other varying parameters shared by the grid's runs ("" if none),
    /// e.g. "mass kg 60" when a third parameter splits the sweep into several grids.
    pub group: String,
}

fn distinct(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    v
}

impl SweepLayout {
    /// Arrange the runs of `s`.
    ///
    /// Non-numeric varying parameters (e.g. `task.compensation`) split the runs into
    /// groups drawn as separate curves. Within a group: one numeric parameter gives one
    /// curve; two that form a complete grid give one curve per value of the second (and a
    /// heat map); otherwise each numeric parameter gets its own curve through the runs
    /// where the others sit at their most common value. With no numeric parameter the
    /// runs are placed side by side as categories.
    pub fn new(s: &Summary) -> Self {
        let varying = s.varying_params();
        let mut numeric: Vec<usize> = varying
            .iter()
            .copied()
            .filter(|&i| s.param_is_numeric(i))
            .collect();
        // The abductors are the story: put them on the x axis when they vary, then the
        // other strengths, then everything else.
        numeric.sort_by_key(|&i| {
            (
                s.params[i] != "strength.hip_abductors",
                !s.params[i].starts_with("strength."),
                i,
            )
        });
        // Beyond two numeric parameters (e.g. glute med x glute min x body mass), the
        // third and later split the runs into groups like text parameters do, so each
        // group is a two-parameter grid drawn as curves on a common x axis.
        numeric.truncate(2);
        let categorical: Vec<usize> = varying
            .iter()
            .copied()
            .filter(|i| !numeric.contains(i))
            .collect();

        let n = s.rows.len();
        if numeric.is_empty() {
            return Self {
                x_label: match categorical.as_slice() {
                    [one] => param_label(&s.params[*one]),
                    _ => "run".into(),
                },
                x_ticks: (0..n)
                    .map(|r| {
                        let c = run_caption(s, r);
                        if c.is_empty() {
                            s.rows[r].run_id.clone()
                        } else {
                            c
                        }
                    })
                    .collect(),
                curves: vec![Curve {
                    label: String::new(),
                    param: None,
                    points: (0..n).map(|r| (r as f64, r)).collect(),
                }],
                grid: None,
            };
        }
        // Group rows by the categorical values.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for r in 0..n {
            let key = categorical
                .iter()
                .map(|&i| super::param_words(&s.params[i], &s.rows[r].params[i]))
                .collect::<Vec<_>>()
                .join(", ");
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.1.push(r),
                None => groups.push((key, vec![r])),
            }
        }
        let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
            (true, _) => b.to_string(),
            (_, true) => a.to_string(),
            _ => format!("{a}, {b}"),
        };
        let mut curves = Vec::new();
        let mut grid = None;
        let mut x_params = Vec::new();
        for (gkey, rows) in &groups {
            let px = numeric[0];
            let sorted = |mut pts: Vec<(f64, usize)>| {
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                pts
            };
            if numeric.len() == 1 {
                x_params.push(px);
                curves.push(Curve {
                    label: gkey.clone(),
                    param: (groups.len() == 1).then_some(px),
                    points: sorted(
                        rows.iter()
                            .map(|&r| (s.param_f64(r, px).unwrap_or(f64::NAN), r))
                            .collect(),
                    ),
                });
                continue;
            }
            let py = numeric[1];
            let xs = distinct(rows.iter().filter_map(|&r| s.param_f64(r, px)).collect());
            let ys = distinct(rows.iter().filter_map(|&r| s.param_f64(r, py)).collect());
            let mut cell = vec![vec![None; ys.len()]; xs.len()];
            for &r in rows {
                let ix = xs.iter().position(|&v| Some(v) == s.param_f64(r, px));
                let iy = ys.iter().position(|&v| Some(v) == s.param_f64(r, py));
                if let (Some(ix), Some(iy)) = (ix, iy) {
                    cell[ix][iy] = Some(r);
                }
            }
            let complete = numeric.len() == 2
                && xs.len() >= 2
                && ys.len() >= 2
                && cell.iter().all(|c| c.iter().all(Option::is_some));
            if complete {
                x_params.push(px);
                for (iy, y) in ys.iter().enumerate() {
                    curves.push(Curve {
                        label: join(
                            gkey,
                            &format!(
                                "{} {}",
                                param_short(&s.params[py]),
                                if s.params[py].starts_with("strength.") {
                                    super::pct(Some(*y))
                                } else {
                                    format!("{y}")
                                }
                            ),
                        ),
                        param: None,
                        points: xs
                            .iter()
                            .enumerate()
                            .filter_map(|(ix, &x)| cell[ix][iy].map(|r| (x, r)))
                            .collect(),
                    });
                }
                if grid.is_none() {
                    grid = Some(Grid {
                        px,
                        py,
                        xs,
                        ys,
                        cell,
                        group: gkey.clone(),
                    });
                }
                continue;
            }
            // Not a grid: one curve per parameter, the others at their modal value.
            for &p in &numeric {
                let others: Vec<(usize, String)> = numeric
                    .iter()
                    .filter(|&&q| q != p)
                    .map(|&q| (q, s.modal_value(q)))
                    .collect();
                let pts: Vec<(f64, usize)> = rows
                    .iter()
                    .copied()
                    .filter(|&r| others.iter().all(|(q, v)| s.rows[r].params[*q] == *v))
                    .map(|r| (s.param_f64(r, p).unwrap_or(f64::NAN), r))
                    .collect();
                if pts.len() >= 2 {
                    x_params.push(p);
                    curves.push(Curve {
                        label: join(gkey, &format!("changing {}", param_short(&s.params[p]))),
                        param: (groups.len() == 1).then_some(p),
                        points: sorted(pts),
                    });
                }
            }
        }
        x_params.dedup();
        let x_label = if x_params
            .iter()
            .all(|&p| Some(p) == x_params.first().copied())
        {
            x_params
                .first()
                .map(|&p| param_label(&s.params[p]))
                .unwrap_or_else(|| "parameter".into())
        } else if x_params
            .iter()
            .all(|&p| s.params[p].starts_with("strength."))
        {
            "muscle strength setting, % of normal".into()
        } else {
            "parameter value".into()
        };
        if curves.len() == 1 {
            curves[0].label.clear();
        }
        Self {
            x_label,
            x_ticks: Vec::new(),
            curves,
            grid,
        }
    }

    fn x_range(&self) -> (f64, f64) {
        if !self.x_ticks.is_empty() {
            return (-0.5, self.x_ticks.len() as f64 - 0.5);
        }
        let xs: Vec<f64> = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
            .collect();
        pad_range(&xs, 0.06, None)
    }
}

/// A range around `v` with `frac` padding; `include` forces values into it.
fn pad_range(v: &[f64], frac: f64, include: Option<&[f64]>) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &x in v.iter().chain(include.unwrap_or(&[]).iter()) {
        if x.is_finite() {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        let w = lo.abs().max(1.0) * 0.5;
        return (lo - w, hi + w);
    }
    let pad = (hi - lo) * frac;
    (lo - pad, hi + pad)
}

/// Colours for distinct curves: blue, orange, green, purple, brown, teal.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 100, 190),
    RGBColor(235, 120, 20),
    RGBColor(30, 130, 70),
    RGBColor(130, 60, 170),
    RGBColor(120, 95, 60),
    RGBColor(0, 150, 160),
];

/// A curve's colour: the muscle's colour when the curve varies one muscle group's
/// strength (as in the muscle figures), otherwise a palette colour.
fn curve_colors(s: &Summary, layout: &SweepLayout) -> Vec<RGBColor> {
    let n = layout.curves.len();
    layout
        .curves
        .iter()
        .enumerate()
        .map(|(k, c)| match c.param.map(|p| s.params[p].as_str()) {
            Some("strength.hip_abductors") => style::GLUT_MED,
            Some("strength.gluteus_maximus") => style::GLUT_MAX,
            _ if n <= PALETTE.len() => PALETTE[k],
            _ => style::ramp(k as f64 / (n - 1) as f64),
        })
        .collect()
}

fn line_colors(n: usize) -> Vec<RGBColor> {
    if n <= 1 {
        return vec![style::TRUNK];
    }
    (0..n)
        .map(|i| style::ramp(i as f64 / (n - 1) as f64))
        .collect()
}

fn text(size: u32, color: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size).into_font()).color(color)
}

fn bold(size: u32, color: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size, FontStyle::Bold).into_font()).color(color)
}

/// A titled figure: white background, bold title and a smaller subtitle line.
fn titled<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    root.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 14),
        bold(30, &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let mut top = 56;
    if !subtitle.is_empty() {
        root.draw(&Text::new(
            subtitle.to_string(),
            (w as i32 / 2, 54),
            text(19, &style::TRUNK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        top = 84;
    }
    Ok(root.margin(top, 0, 0, 0))
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Data positions in pixels (markers and points along lines), which labels avoid.
type Obstacles = Vec<(f64, f64)>;

/// One label with candidate places (data coordinates and anchors, preferred first):
/// it is drawn where it covers the fewest data points, and then becomes an obstacle
/// for the next label.
fn place_label<DB: DrawingBackend>(
    chart: &Chart<DB>,
    lines: &[String],
    style: &TextStyle,
    candidates: &[((f64, f64), HPos, VPos)],
    obstacles: &mut Obstacles,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    place_label_alts(chart, &[lines.to_vec()], style, candidates, obstacles)
}

/// As [`place_label`], with shorter wordings to fall back to: the first wording that
/// fits somewhere without covering data wins; if none does, the placement covering
/// the fewest data points.
fn place_label_alts<DB: DrawingBackend>(
    chart: &Chart<DB>,
    alts: &[Vec<String>],
    style: &TextStyle,
    candidates: &[((f64, f64), HPos, VPos)],
    obstacles: &mut Obstacles,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = chart.plotting_area();
    let (ox, oy) = area.get_base_pixel();
    let (aw, ah) = area.dim_in_pixel();
    let inside = |b: &LabelBox| {
        b.x >= ox as f64 - 1.0
            && b.y >= oy as f64 - 1.0
            && b.x + b.w <= (ox + aw as i32) as f64 + 1.0
            && b.y + b.h <= (oy + ah as i32) as f64 + 1.0
    };
    // (covered points + a penalty for leaving the plot, alternative, candidate, box, line height)
    let mut best: Option<(usize, usize, usize, LabelBox, f64)> = None;
    for (ai, lines) in alts.iter().enumerate() {
        let mut w: u32 = 0;
        let mut lh: u32 = 0;
        for l in lines {
            let (tw, th) = area.estimate_text_size(l, style)?;
            w = w.max(tw);
            lh = lh.max(th);
        }
        let lh = lh as f64 + 3.0;
        let h = lh * lines.len() as f64;
        for (ci, &(at, hp, vp)) in candidates.iter().enumerate() {
            let (px, py) = chart.backend_coord(&at);
            let x = match hp {
                HPos::Left => px as f64,
                HPos::Center => px as f64 - w as f64 / 2.0,
                HPos::Right => px as f64 - w as f64,
            };
            let y = match vp {
                VPos::Top => py as f64 + 2.0,
                VPos::Center => py as f64 - h / 2.0,
                VPos::Bottom => py as f64 - h - 2.0,
            };
            let b = LabelBox {
                x,
                y,
                w: w as f64,
                h,
            };
            let covered = words::coverage(&b, obstacles, 3.0) + if inside(&b) { 0 } else { 10_000 };
            if best.as_ref().is_none_or(|x| covered < x.0) {
                best = Some((covered, ai, ci, b, lh));
            }
        }
        if best.as_ref().is_some_and(|x| x.0 == 0) {
            break;
        }
    }
    let Some((_, ai, ci, b, lh)) = best else {
        return Ok(());
    };
    let (at, hp, _) = candidates[ci];
    let (px, _) = chart.backend_coord(&at);
    let flat = area.strip_coord_spec();
    for (i, l) in alts[ai].iter().enumerate() {
        let y = b.y + i as f64 * lh;
        flat.draw(&Text::new(
            l.clone(),
            (px - ox, y as i32 - oy),
            style.pos(Pos::new(hp, VPos::Top)),
        ))?;
    }
    // The label is now an obstacle for the next one.
    let step = 6.0;
    let mut yy = b.y;
    while yy <= b.y + b.h {
        let mut xx = b.x;
        while xx <= b.x + b.w {
            obstacles.push((xx, yy));
            xx += step;
        }
        yy += step;
    }
    Ok(())
}

/// Draw the shapes of a reference (lines, bands) under the data.
fn draw_reference_shapes<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    reference: Reference,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    match reference {
        Reference::None => {}
        Reference::Zero => {
            chart.draw_series(LineSeries::new(
                [(x0, 0.0), (x1, 0.0)],
                style::GHOST.stroke_width(1),
            ))?;
        }
        Reference::Unit => {
            let t = style::SATURATED_ACTIVATION;
            chart.draw_series(DashedLineSeries::new(
                [(x0, t), (x1, t)],
                10,
                6,
                style::REFERENCE.stroke_width(2),
            ))?;
        }
        Reference::Percent => {
            chart.draw_series(DashedLineSeries::new(
                [(x0, 100.0), (x1, 100.0)],
                10,
                6,
                style::REFERENCE.stroke_width(2),
            ))?;
        }
        Reference::Trendelenburg | Reference::TrendelenburgBand(..) => {
            if let Reference::TrendelenburgBand(a, b) = reference {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y0), (b, y1)],
                    style::GHOST.mix(0.25).filled(),
                )))?;
            }
            let t = style::TRENDELENBURG_CM;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, t), (x1, y1.max(t))],
                style::REFERENCE.mix(0.07).filled(),
            )))?;
            chart.draw_series(DashedLineSeries::new(
                [(x0, t), (x1, t)],
                10,
                6,
                style::REFERENCE.stroke_width(2),
            ))?;
        }
        Reference::Fppa => {
            for ((m, sd), c) in [
                (style::FPPA_HEALTHY, style::HEALTHY),
                (style::FPPA_PFP, style::PFP),
            ] {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, m - sd), (x1, m + sd)],
                    c.mix(0.08).filled(),
                )))?;
                chart.draw_series(DashedLineSeries::new(
                    [(x0, m), (x1, m)],
                    8,
                    6,
                    c.stroke_width(2),
                ))?;
            }
            chart.draw_series(LineSeries::new(
                [(x0, 0.0), (x1, 0.0)],
                style::GHOST.stroke_width(1),
            ))?;
        }
        Reference::HipContact => {
            let (m, sd) = style::HIP_CONTACT_INVIVO;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, m - sd), (x1, m + sd)],
                style::HEALTHY.mix(0.10).filled(),
            )))?;
        }
    }
    Ok(())
}

/// Write a reference's labels over the data, each where it covers the least data.
fn draw_reference_labels<DB: DrawingBackend>(
    chart: &Chart<DB>,
    reference: Reference,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    small: bool,
    obstacles: &mut Obstacles,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let fs = if small { 14 } else { 19 };
    let pad = (x1 - x0) * 0.02;
    // Above or below a horizontal line at y, right or left: four places.
    let around = |y: f64| {
        vec![
            ((x1 - pad, y), HPos::Right, VPos::Bottom),
            ((x0 + pad, y), HPos::Left, VPos::Bottom),
            ((x1 - pad, y), HPos::Right, VPos::Top),
            ((x0 + pad, y), HPos::Left, VPos::Top),
            (((x0 + x1) / 2.0, y), HPos::Center, VPos::Bottom),
        ]
    };
    let st = |c: &'static RGBColor| -> TextStyle<'static> {
        TextStyle::from((FONT, fs).into_font()).color(c)
    };
    match reference {
        Reference::None | Reference::Zero => {}
        Reference::Unit => {
            let l = vec![format!(
                "{}: saturated",
                num(style::SATURATED_ACTIVATION, 2)
            )];
            let t = style::SATURATED_ACTIVATION;
            place_label(chart, &l, &st(&style::REFERENCE), &around(t), obstacles)?;
        }
        Reference::Percent => {
            let l = vec!["100 %: nothing left".to_string()];
            place_label(chart, &l, &st(&style::REFERENCE), &around(100.0), obstacles)?;
        }
        Reference::Trendelenburg | Reference::TrendelenburgBand(..) => {
            let t = style::TRENDELENBURG_CM;
            let long = if small {
                format!("2 cm Trendelenburg line ({})", style::TRENDELENBURG_CITE)
            } else {
                format!(
                    "2 cm: positive Trendelenburg sign ({})",
                    style::TRENDELENBURG_CITE
                )
            };
            let alts = [
                vec![long],
                vec![format!("2 cm ({})", style::TRENDELENBURG_CITE)],
                vec!["2 cm".to_string()],
            ];
            place_label_alts(chart, &alts, &st(&style::REFERENCE), &around(t), obstacles)?;
            if let Reference::TrendelenburgBand(a, b) = reference {
                let m = (a + b) / 2.0;
                let dy = (y1 - y0) * 0.03;
                let l = vec![
                    "somewhere in here".to_string(),
                    "the reserve runs out".to_string(),
                ];
                // In the band if it is free there, else beside it (left, then right).
                let mut cands = Vec::new();
                for (x, hp) in [(m, HPos::Center), (a, HPos::Right), (b, HPos::Left)] {
                    cands.extend([
                        ((x, y0 + dy), hp, VPos::Bottom),
                        ((x, (y0 + t) / 2.0), hp, VPos::Center),
                        ((x, y1 - dy), hp, VPos::Top),
                        ((x, t + dy), hp, VPos::Bottom),
                    ]);
                }
                place_label(chart, &l, &st(&style::TRUNK), &cands, obstacles)?;
            }
        }
        Reference::Fppa => {
            for ((m, sd), c, name) in [
                (style::FPPA_HEALTHY, &style::HEALTHY, "healthy"),
                (style::FPPA_PFP, &style::PFP, "knee pain (PFP)"),
            ] {
                let l = vec![format!("{name} {} ± {}°", num(m, 1), num(sd, 1))];
                place_label(chart, &l, &st(c), &around(m), obstacles)?;
            }
            let (m, sd) = style::FPPA_PFP;
            let l = vec![format!("({})", style::FPPA_CITE)];
            place_label(chart, &l, &st(&style::PFP), &around(m + sd), obstacles)?;
        }
        Reference::HipContact => {
            let (m, sd) = style::HIP_CONTACT_INVIVO;
            let alts = [
                vec![format!(
                    "measured in vivo {} ± {} ({})",
                    num(m, 2),
                    num(sd, 2),
                    style::HIP_CONTACT_CITE
                )],
                vec![
                    format!("in vivo {} ± {}", num(m, 2), num(sd, 2)),
                    format!("({})", style::HIP_CONTACT_CITE),
                ],
            ];
            let mut c = around(m + sd);
            c.extend(
                around(m - sd)
                    .into_iter()
                    .filter(|p| matches!(p.2, VPos::Top)),
            );
            place_label_alts(chart, &alts, &st(&style::HEALTHY), &c, obstacles)?;
        }
    }
    Ok(())
}

/// Values a reference needs to be visible on the y axis.
fn reference_span(r: Reference) -> Vec<f64> {
    match r {
        Reference::Trendelenburg | Reference::TrendelenburgBand(..) => {
            vec![0.0, style::TRENDELENBURG_CM * 1.6]
        }
        Reference::Fppa => vec![
            0.0,
            style::FPPA_PFP.0 + style::FPPA_PFP.1 + 4.0,
            style::FPPA_HEALTHY.0 - style::FPPA_HEALTHY.1 - 1.0,
        ],
        Reference::HipContact => vec![0.0, style::HIP_CONTACT_INVIVO.0 + 0.6],
        Reference::Zero => vec![0.0],
        Reference::Unit => vec![0.0, 1.05],
        Reference::Percent => vec![0.0, 110.0],
        Reference::None => vec![],
    }
}

/// How a point is marked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Marker {
    None,
    /// Filled dot: a run that held the stance (steady value).
    Dot,
    /// X: the model fell.
    Cross,
    /// Open circle: the time the drop passed 2 cm.
    Ring,
    /// Downward triangle: still dropping at the end of the run.
    Down,
    /// Grey triangle: the simulation diverged or failed.
    Broken,
    /// Open square: a squat or step-down that did not reach the task's depth.
    Square,
    /// A short upright tick (the key's symbol for marks on the x axis).
    Tick,
}

/// The end-of-run marker for a status; none for a run that held.
fn status_marker(st: RunStatus) -> Marker {
    match st {
        RunStatus::Ok => Marker::None,
        RunStatus::StillFalling => Marker::Down,
        RunStatus::LostBalance => Marker::Cross,
        RunStatus::ShortOfDepth => Marker::Square,
        RunStatus::Diverged | RunStatus::Failed | RunStatus::Unknown => Marker::Broken,
    }
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    m: Marker,
    color: RGBColor,
    size: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x, y) = at;
    match m {
        Marker::None => {}
        Marker::Dot => {
            area.draw(&Circle::new((x, y), size, color.filled()))?;
        }
        Marker::Cross => {
            // A white backing for a marker among few lines; none for small markers
            // among many, where it would punch holes in the neighbouring lines.
            if size >= 5 {
                area.draw(&Circle::new((x, y), size + 2, WHITE.filled()))?;
            }
            area.draw(&Cross::new(
                (x, y),
                size + 1,
                color.stroke_width(if size >= 5 { 3 } else { 2 }),
            ))?;
        }
        Marker::Ring => {
            area.draw(&Circle::new((x, y), size, WHITE.filled()))?;
            area.draw(&Circle::new((x, y), size, color.stroke_width(3)))?;
        }
        Marker::Down => {
            let s = size + 2;
            area.draw(&Polygon::new(
                vec![(x - s, y - s), (x + s, y - s), (x, y + s)],
                WHITE.filled(),
            ))?;
            area.draw(&PathElement::new(
                vec![(x - s, y - s), (x + s, y - s), (x, y + s), (x - s, y - s)],
                color.stroke_width(3),
            ))?;
        }
        Marker::Broken => {
            area.draw(&TriangleMarker::new(
                (x, y),
                size + 2,
                style::DIVERGED.filled(),
            ))?;
        }
        Marker::Square => {
            let s = size + 1;
            area.draw(&Rectangle::new(
                [(x - s, y - s), (x + s, y + s)],
                WHITE.filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(x - s, y - s), (x + s, y + s)],
                color.stroke_width(3),
            ))?;
        }
        Marker::Tick => {
            area.draw(&PathElement::new(
                vec![(x - 6, y + size), (x + 6, y + size)],
                color.stroke_width(1),
            ))?;
            area.draw(&PathElement::new(
                vec![(x, y + size), (x, y - size)],
                color.stroke_width(3),
            ))?;
        }
    }
    Ok(())
}

/// A data line: points (NaN breaks the line), how its points are marked, and the runs
/// along it that have no value here, drawn as marks on the x axis ("rug").
struct Line {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    dashed: bool,
    /// Stroke width (px); 0 = the panel's default.
    width: u32,
    /// Marker at every point.
    marker: Marker,
    /// Marker at the last finite point (how a time series ended).
    end: Marker,
    /// Runs without a value in this panel (they did not hold): x and how they ended.
    rug: Vec<(f64, Marker)>,
    /// Short notes written above points (big panels only), e.g. "0.39 s"; where two
    /// would overprint, the earlier one is kept ([`words::thin_labels`]).
    notes: Vec<(f64, f64, String)>,
}

impl Line {
    fn new(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            color,
            points,
            dashed: false,
            width: 0,
            marker: Marker::None,
            end: Marker::None,
            rug: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Pieces of a polyline between NaN values.
fn pieces(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &p in points {
        if p.0.is_finite() && p.1.is_finite() {
            if let Some(last) = out.last_mut() {
                last.push(p);
            }
        } else if out.last().is_some_and(|l| !l.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Options of one panel.
#[derive(Clone)]
struct PanelOpts<'a> {
    title: &'a str,
    unit: &'a str,
    x_label: &'a str,
    x_range: (f64, f64),
    x_ticks: &'a [String],
    reference: Reference,
    big: bool,
    /// A fixed y range instead of one fitted to the data.
    y_range: Option<(f64, f64)>,
    /// Legend column on the right (big panels only).
    legend: bool,
    /// x values are strength factors, labelled in % (else: if `x_label` says "% of normal").
    x_percent: bool,
    /// Legend column as wide as its labels need (else the common [`LEGEND_WIDTH`]).
    legend_fit: bool,
}

/// One panel: lines and markers against x, with a reference and labels placed where
/// they cover the least data.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    o: &PanelOpts,
    lines: &[Line],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // A legend column on the right, so the legend never covers data.
    let mut labelled: Vec<&Line> = lines.iter().filter(|l| !l.label.is_empty()).collect();
    labelled.dedup_by(|a, b| a.label == b.label);
    let (area, legend_area, title) = if o.big && o.legend && !labelled.is_empty() {
        // The title spans the legend column too, so a long title is not cut.
        let (w, _) = area.dim_in_pixel();
        let (strip, rest) = area.split_vertically(if o.title.is_empty() { 0 } else { 44 });
        strip.draw(&Text::new(
            o.title.to_string(),
            (w as i32 / 2, 10),
            bold(24, &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let lw = if o.legend_fit {
            legend_width(&labelled)
        } else {
            LEGEND_WIDTH.max(legend_width(&labelled))
        };
        let (a, b) = rest.split_horizontally(w.saturating_sub(lw));
        (a, Some(b), "")
    } else {
        (area.clone(), None, o.title)
    };
    let area = &area;
    if let Some(la) = &legend_area {
        let mut y = 30;
        for l in &labelled {
            let c = l.color;
            let w = if l.width > 0 { l.width } else { 4 };
            if l.dashed {
                la.draw(&DashedPathElement::new(
                    vec![(10, y), (44, y)],
                    6,
                    4,
                    c.stroke_width(w),
                ))?;
            } else {
                la.draw(&PathElement::new(vec![(10, y), (44, y)], c.stroke_width(w)))?;
            }
            if l.marker != Marker::None {
                draw_marker(la, (27, y), l.marker, c, 7)?;
            }
            la.draw(&Text::new(
                l.label.clone(),
                (54, y),
                text(19, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            y += 34;
        }
    }
    let ys: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .collect();
    let y_range = match o.y_range {
        Some(r) => r,
        None => {
            let y_range = pad_range(&ys, 0.1, Some(&reference_span(o.reference)));
            // Never zoom into numerical noise: a flat 1e-5 deg must look flat.
            let min_span = match o.unit {
                "deg" => 2.0,
                "cm" | "pelvic drop (cm)" => 1.0,
                "x body weight" => 0.5,
                "N m / kg" => 0.2,
                "s" => 0.2,
                _ => 0.0,
            };
            if y_range.1 - y_range.0 < min_span {
                let c = (y_range.0 + y_range.1) / 2.0;
                (c - min_span / 2.0, c + min_span / 2.0)
            } else {
                y_range
            }
        }
    };
    let big = o.big;
    let (tf, lf, df) = if big { (26, 20, 22) } else { (20, 15, 16) };
    let x_range = o.x_range;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, tf, FontStyle::Bold).into_font())
        .margin(if big { 20 } else { 10 })
        .x_label_area_size(if big { 60 } else { 46 })
        .y_label_area_size(if big { 80 } else { 62 })
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    let ticks = o.x_ticks.to_vec();
    let percent = o.x_percent || o.x_label.contains("% of normal");
    let fmt_x = move |v: &f64| {
        if ticks.is_empty() && percent {
            format!("{} %", num(v * 100.0, 0))
        } else if ticks.is_empty() {
            let s = num(*v, 2);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            let i = v.round();
            if (v - i).abs() < 0.01 && i >= 0.0 && (i as usize) < ticks.len() {
                ticks[i as usize].clone()
            } else {
                String::new()
            }
        }
    };
    chart
        .configure_mesh()
        .x_desc(o.x_label)
        .y_desc(o.unit)
        .x_labels(if o.x_ticks.is_empty() {
            7
        } else {
            o.x_ticks.len() * 4 + 1
        })
        .y_labels(6)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&|v| {
            let s = num(*v, 2);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        })
        .label_style((FONT, lf))
        .axis_desc_style((FONT, df))
        .light_line_style(WHITE)
        .bold_line_style(style::GHOST.mix(0.35))
        .draw()?;
    draw_reference_shapes(&mut chart, o.reference, x_range, y_range)?;
    // Where the data is, in pixels, for placing labels.
    let mut obstacles: Obstacles = Vec::new();
    for l in lines {
        for piece in pieces(&l.points) {
            let px: Vec<(f64, f64)> = piece
                .iter()
                .map(|p| {
                    let (x, y) = chart.backend_coord(p);
                    (x as f64, y as f64)
                })
                .collect();
            obstacles.extend(words::densify(&px, 6.0));
        }
    }
    let many = lines.iter().map(|l| l.points.len()).sum::<usize>() > 80;
    let ms = if many {
        3
    } else if big {
        8
    } else {
        5
    };
    // The first line is drawn last, on top; a line drawn under another is wider, so
    // coinciding lines stay visible as a core with a rim.
    let rug_y = y_range.0;
    for l in lines.iter().rev() {
        let w = if l.width > 0 {
            l.width
        } else if big {
            4
        } else {
            3
        };
        for pts in pieces(&l.points) {
            if pts.len() < 2 {
                continue;
            }
            if l.dashed {
                chart.draw_series(DashedLineSeries::new(pts, 10, 6, l.color.stroke_width(w)))?;
            } else {
                chart.draw_series(LineSeries::new(pts, l.color.stroke_width(w)))?;
            }
        }
        let pa = chart.plotting_area().strip_coord_spec();
        let (ox, oy) = pa.get_base_pixel();
        let rel = |p: (f64, f64)| {
            let (x, y) = chart.backend_coord(&p);
            (x - ox, y - oy)
        };
        if l.marker != Marker::None {
            for p in l
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
            {
                draw_marker(&pa, rel(*p), l.marker, l.color, ms)?;
            }
        }
        if l.end != Marker::None {
            if let Some(p) = l
                .points
                .iter()
                .rev()
                .find(|p| p.0.is_finite() && p.1.is_finite())
            {
                let es = if many {
                    3
                } else if big {
                    8
                } else {
                    6
                };
                draw_marker(&pa, rel(*p), l.end, l.color, es)?;
            }
        }
        // Runs without a value here: marks on the x axis, small when there are many.
        let small_rug = l.rug.len() > 30;
        for &(x, m) in &l.rug {
            let (px, py) = rel((x, rug_y));
            if small_rug {
                pa.draw(&PathElement::new(
                    vec![(px, py), (px, py - 10)],
                    l.color.stroke_width(2),
                ))?;
            } else {
                draw_marker(&pa, (px, py - ms - 3), m, l.color, ms)?;
            }
        }
    }
    draw_reference_labels(&chart, o.reference, x_range, y_range, !big, &mut obstacles)?;
    if big {
        draw_notes(&chart, lines)?;
    }
    Ok(())
}

/// The notes of all lines, thinned so that none overprints another or leaves the plot.
fn draw_notes<DB: DrawingBackend>(chart: &Chart<DB>, lines: &[Line]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = chart.plotting_area();
    let (ox, oy) = area.get_base_pixel();
    let (aw, ah) = area.dim_in_pixel();
    let st = text(17, &style::TRUNK);
    let mut notes: Vec<((i32, i32), String, RGBColor)> = Vec::new();
    let mut boxes = Vec::new();
    for l in lines {
        for (x, y, n) in &l.notes {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            let (px, py) = chart.backend_coord(&(*x, *y));
            let (w, h) = area.estimate_text_size(n, &st)?;
            boxes.push(LabelBox {
                x: px as f64 - w as f64 / 2.0,
                y: py as f64 - 12.0 - h as f64,
                w: w as f64,
                h: h as f64,
            });
            notes.push(((px, py), n.clone(), l.color));
        }
    }
    // Boxes outside the plot are never kept: give them no priority.
    let order: Vec<usize> = (0..boxes.len())
        .filter(|&i| {
            let b = boxes[i];
            b.x >= ox as f64
                && b.y >= oy as f64
                && b.x + b.w <= (ox + aw as i32) as f64
                && b.y + b.h <= (oy + ah as i32) as f64
        })
        .collect();
    let keep = words::thin_labels(&boxes, &order, 4.0);
    let flat = area.strip_coord_spec();
    for (((px, py), n, c), k) in notes.into_iter().zip(keep) {
        if k {
            flat.draw(&Text::new(
                n,
                (px - ox, py - oy - 12),
                text(17, &c).pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
        }
    }
    Ok(())
}

/// Width (px) of the legend column of big panels, the same in every panel of a figure
/// so their time axes line up (wider only for a longer label).
const LEGEND_WIDTH: u32 = 520;

fn legend_width(labelled: &[&Line]) -> u32 {
    let chars = labelled
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0);
    (70 + chars * 11).clamp(260, 520) as u32
}

/// Width (px) a curve's entry takes in [`marker_key`].
fn key_entry_width(label: &str) -> i32 {
    60 + 11 * label.chars().count() as i32
}

/// Rows [`marker_key`] needs for `curves` and `n_markers` marker explanations in an
/// area `width` px wide.
fn key_rows(curves: &[(String, RGBColor)], n_markers: usize, width: u32) -> u32 {
    let (mut rows, mut x) = (1, 30);
    for (label, _) in curves.iter().filter(|c| !c.0.is_empty()) {
        if x + key_entry_width(label) > width as i32 {
            rows += 1;
            x = 30;
        }
        x += key_entry_width(label);
    }
    for _ in 0..n_markers {
        if x + MARKER_ENTRY > width as i32 {
            rows += 1;
            x = 30;
        }
        x += MARKER_ENTRY;
    }
    rows
}

/// Width (px) of one marker explanation in the key.
const MARKER_ENTRY: i32 = 470;

/// Height (px) of a footer holding [`marker_key`].
fn key_height(curves: &[(String, RGBColor)], n_markers: usize, width: u32) -> u32 {
    20 + 28 * key_rows(curves, n_markers, width)
}

/// The marker explanations a sweep figure needs, given the statuses present.
fn sweep_markers(s: &Summary, kind: KeyKind) -> Vec<(Marker, String)> {
    let has = |st: RunStatus| s.rows.iter().any(|r| r.status == st);
    let broken = s.rows.iter().any(|r| {
        matches!(
            r.status,
            RunStatus::Diverged | RunStatus::Failed | RunStatus::Unknown
        )
    });
    let mut v = Vec::new();
    if kind == KeyKind::Steady && s.dynamic() {
        v.push((
            Marker::Dot,
            "completed the task (largest value during it)".to_string(),
        ));
        if s.rows.iter().any(|r| !r.status.held()) {
            v.push((
                Marker::Tick,
                "on the x axis: did not complete it (no comparable value)".to_string(),
            ));
        }
    } else if kind == KeyKind::Steady {
        v.push((Marker::Dot, "held the stance (steady value)".to_string()));
        if s.rows.iter().any(|r| !r.status.held()) {
            v.push((
                Marker::Tick,
                "on the x axis: did not hold (no steady value)".to_string(),
            ));
        }
    }
    if kind == KeyKind::Steady && has_times(s) {
        v.push((Marker::Ring, "time until the drop passed 2 cm".to_string()));
    }
    if has(RunStatus::LostBalance) {
        v.push((
            Marker::Cross,
            if kind == KeyKind::Steady {
                "the model fell (at the time of the fall)".to_string()
            } else {
                "the model lost its balance".to_string()
            },
        ));
    }
    if has(RunStatus::StillFalling) {
        v.push((
            Marker::Down,
            "still dropping when the run ended".to_string(),
        ));
    }
    if has(RunStatus::ShortOfDepth) {
        v.push((Marker::Square, "did not reach the task's depth".to_string()));
    }
    if broken {
        v.push((Marker::Broken, "simulation diverged or failed".to_string()));
    }
    v
}

#[derive(Clone, Copy, PartialEq)]
enum KeyKind {
    /// Sweep panels: dots for steady values, marks on the axis for the rest, and the
    /// times of the 2 cm drop and of the fall.
    Steady,
    /// Time series: how a run ended.
    OverTime,
}

fn marker_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &[(String, RGBColor)],
    markers: &[(Marker, String)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let rows = key_rows(curves, markers.len(), w) as i32;
    let mut y = h as i32 - 22 - 28 * (rows - 1);
    let mut x = 30;
    for (label, c) in curves.iter().filter(|c| !c.0.is_empty()) {
        if x + key_entry_width(label) > w as i32 {
            x = 30;
            y += 28;
        }
        area.draw(&PathElement::new(
            vec![(x - 12, y), (x + 20, y)],
            c.stroke_width(5),
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (x + 28, y),
            text(18, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += key_entry_width(label);
    }
    for (m, label) in markers {
        if x + MARKER_ENTRY > w as i32 {
            x = 30;
            y += 28;
        }
        draw_marker(area, (x, y), *m, style::TRUNK, 7)?;
        area.draw(&Text::new(
            label.clone(),
            (x + 16, y),
            text(18, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += MARKER_ENTRY;
    }
    Ok(())
}

/// Shift coinciding curves sideways a little (1 % of the axis per curve) so that
/// identical results stay visible.
fn dodge(layout: &SweepLayout, k: usize) -> f64 {
    let n = layout.curves.len();
    let (x0, x1) = layout.x_range();
    if n <= 1 || !layout.x_ticks.is_empty() {
        0.0
    } else {
        (k as f64 - (n - 1) as f64 / 2.0) * 0.01 * (x1 - x0)
    }
}

/// One line per curve of the steady value of `key`, through the runs that held the
/// stance; the runs that did not hold are marked on the x axis.
fn sweep_lines(s: &Summary, layout: &SweepLayout, key: &str) -> Vec<Line> {
    let colors = curve_colors(s, layout);
    let many = layout.curves.iter().any(|c| c.points.len() > 60);
    layout
        .curves
        .iter()
        .zip(colors)
        .enumerate()
        .map(|(k, (c, color))| {
            let d = dodge(layout, k);
            // A run that did not hold breaks the curve: no steady value there.
            let points = c
                .points
                .iter()
                .map(|&(x, r)| (x + d, s.rows[r].steady(key).unwrap_or(f64::NAN)))
                .collect();
            let rug = c
                .points
                .iter()
                .filter(|&&(_, r)| !s.rows[r].status.held())
                .map(|&(x, r)| (x + d, status_marker(s.rows[r].status)))
                .collect();
            let mut l = Line::new(c.label.clone(), color, points);
            l.marker = if many { Marker::None } else { Marker::Dot };
            l.rug = rug;
            l
        })
        .collect()
}

/// The times of the runs that passed 2 cm or did not hold: per curve, the time until
/// the drop passed 2 cm (dashed, rings) and the time of the fall (solid, X); a run
/// still dropping at the end is marked at its end time.
fn time_lines(s: &Summary, layout: &SweepLayout) -> Vec<Line> {
    let colors = curve_colors(s, layout);
    let many = layout.curves.iter().any(|c| c.points.len() > 60);
    let mut out = Vec::new();
    for (k, (c, color)) in layout.curves.iter().zip(colors).enumerate() {
        let d = dodge(layout, k);
        let t2: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|&(x, r)| {
                (
                    x + d,
                    s.rows[r].time_to_trendelenburg_s().unwrap_or(f64::NAN),
                )
            })
            .collect();
        let fall: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|&(x, r)| (x + d, s.rows[r].fall_time_s().unwrap_or(f64::NAN)))
            .collect();
        let still: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|&(x, r)| {
                let row = &s.rows[r];
                let t = row
                    .status_time_s
                    .filter(|_| row.status == RunStatus::StillFalling)
                    .unwrap_or(f64::NAN);
                (x + d, t)
            })
            .collect();
        // "fell 0.39 s" above each fall, thinned where they would overprint; the
        // strongest run that fell first (the edge of the reserve), then the weaker.
        let mut notes: Vec<(f64, f64, String)> = fall
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, t)| (x, t, format!("fell {} s", num(t, 2))))
            .collect();
        notes.reverse();
        let mut a = Line::new(c.label.clone(), color, fall);
        a.marker = if many { Marker::None } else { Marker::Cross };
        a.notes = notes;
        let mut b = Line::new(String::new(), color, t2);
        b.dashed = true;
        b.marker = if many { Marker::None } else { Marker::Ring };
        let mut e = Line::new(String::new(), color, still);
        e.marker = Marker::Down;
        e.width = 1;
        // Only the markers of "still dropping": their times are the run's end.
        e.points = e
            .points
            .iter()
            .flat_map(|&p| [p, (f64::NAN, f64::NAN)])
            .collect();
        out.extend([a, b, e]);
    }
    out
}

/// Whether any run passed 2 cm or fell, so that a time panel has something to show.
fn has_times(s: &Summary) -> bool {
    s.rows.iter().any(|r| {
        r.time_to_trendelenburg_s().is_some()
            || r.fall_time_s().is_some()
            || r.status == RunStatus::StillFalling
    })
}

/// The longest time any run reached (s), for time axes.
fn t_end(s: &Summary) -> f64 {
    s.rows
        .iter()
        .flat_map(|r| {
            [
                r.status_time_s,
                r.time_to_trendelenburg_s(),
                s.param_index("task.duration_s")
                    .and_then(|i| r.params[i].trim().parse().ok()),
            ]
        })
        .flatten()
        .filter(|t: &f64| t.is_finite())
        .fold(0.0, f64::max)
        .max(0.1)
}

/// For a single abductor-strength curve where every run that did not hold a level
/// pelvis is weaker than every run that did: the band between the strongest that did
/// not and the weakest that did.
fn reserve_band(s: &Summary, layout: &SweepLayout) -> Reference {
    let [c] = layout.curves.as_slice() else {
        return Reference::Trendelenburg;
    };
    if c.param.map(|p| s.params[p].as_str()) != Some("strength.hip_abductors") {
        return Reference::Trendelenburg;
    }
    let held = |r: usize| s.rows[r].status.held();
    let fell_max = c
        .points
        .iter()
        .filter(|p| !held(p.1))
        .map(|p| p.0)
        .fold(f64::NAN, f64::max);
    let held_min = c
        .points
        .iter()
        .filter(|p| held(p.1))
        .map(|p| p.0)
        .fold(f64::NAN, f64::min);
    if fell_max.is_finite() && held_min.is_finite() && fell_max < held_min {
        Reference::TrendelenburgBand(fell_max, held_min)
    } else {
        Reference::Trendelenburg
    }
}

fn curve_key(s: &Summary, layout: &SweepLayout) -> Vec<(String, RGBColor)> {
    layout
        .curves
        .iter()
        .zip(curve_colors(s, layout))
        .map(|(c, col)| (c.label.clone(), col))
        .collect()
}

/// The headline: the steady pelvic drop (cm) of the runs that held against the swept
/// parameter and, below it, when the others passed 2 cm and fell.
pub fn sweep_headline(path: &Path, s: &Summary, layout: &SweepLayout) -> DrawResult {
    let root = BitMapBackend::new(path, (1400, 900)).into_drawing_area();
    let dynamic = s.dynamic();
    let task = super::task_phrase(s);
    let (title, sub, key, unit, reference) = if dynamic {
        (
            format!("How far does the pelvis drop {task}?"),
            "Each dot: one run that completed the task (its largest drop during it). Runs that did not are marked on the x axis; below: how soon they dropped past 2 cm and fell.",
            "pelvic_drop_peak_deg",
            "pelvic drop, largest (deg)",
            Reference::Zero,
        )
    } else {
        (
            "How far does the pelvis drop on the swing side?".to_string(),
            "Each dot: one simulated person who held the stance (steady drop). Runs that did not hold are marked on the x axis; below: how soon they dropped past 2 cm and fell.",
            "pelvic_drop_cm",
            "pelvic drop (cm)",
            reserve_band(s, layout),
        )
    };
    let body = titled(&root, &title, sub)?;
    let curves = curve_key(s, layout);
    let times = has_times(s);
    let markers = sweep_markers(s, KeyKind::Steady);
    let (bw, bh) = body.dim_in_pixel();
    let (plots, foot) = body.split_vertically(bh - key_height(&curves, markers.len(), bw).max(50));
    let (top, bottom) = if times {
        let (_, ph) = plots.dim_in_pixel();
        let (a, b) = plots.split_vertically(ph * 3 / 5);
        (a, Some(b))
    } else {
        (plots, None)
    };
    let xl = layout.x_label.clone();
    panel(
        &top,
        &PanelOpts {
            title: "",
            unit,
            x_label: if times { "" } else { &xl },
            x_range: layout.x_range(),
            x_ticks: &layout.x_ticks,
            reference,
            big: true,
            y_range: None,
            legend: false,
            x_percent: xl.contains("% of normal"),
            legend_fit: false,
        },
        &sweep_lines(s, layout, key),
    )?;
    if let Some(b) = bottom {
        panel(
            &b,
            &PanelOpts {
                title: "",
                unit: "time (s)",
                x_label: &xl,
                x_range: layout.x_range(),
                x_ticks: &layout.x_ticks,
                reference: Reference::None,
                big: true,
                y_range: Some((0.0, t_end(s) * 1.2)),
                legend: false,
                x_percent: false,
                legend_fit: false,
            },
            &time_lines(s, layout),
        )?;
    }
    marker_key(&foot, &curves, &markers)?;
    root.present()?;
    Ok(())
}

/// All measures against the swept parameter, 2 x 4 panels.
pub fn sweep_measures(path: &Path, s: &Summary, layout: &SweepLayout) -> DrawResult {
    let root = BitMapBackend::new(path, (1800, 1000)).into_drawing_area();
    let dynamic = s.dynamic();
    let body = titled(
        &root,
        "What changes down the chain as the parameter changes",
        &if dynamic {
            format!(
                "x axis: {}. Largest values during the task of the runs that completed it; the others are marked on the x axis and timed in the second panel.",
                layout.x_label
            )
        } else {
            format!(
                "x axis: {}. Steady values of the runs that held; the others are marked on the x axis and timed in the second panel.",
                layout.x_label
            )
        },
    )?;
    let curves = curve_key(s, layout);
    let markers = sweep_markers(s, KeyKind::Steady);
    let (bw, bh) = body.dim_in_pixel();
    let (plots, foot) = body.split_vertically(bh - key_height(&curves, markers.len(), bw).max(46));
    let areas = plots.split_evenly((2, 4));
    let xl = param_short_axis(&layout.x_label);
    let opts = |title: &'static str, unit: &'static str, reference: Reference| PanelOpts {
        title,
        unit,
        x_label: "",
        x_range: layout.x_range(),
        x_ticks: &layout.x_ticks,
        reference,
        big: false,
        y_range: None,
        legend: false,
        x_percent: false,
        legend_fit: false,
    };
    let mut k = 0;
    for m in if dynamic { PEAK_MEASURES } else { MEASURES } {
        if m.key == "pelvic_drop_deg" || m.key.is_empty() {
            // Second panel: the times, comparable for every run.
            let mut o = opts(
                "Time to 2 cm drop (o) and to the fall (X)",
                "s",
                Reference::None,
            );
            o.y_range = Some((0.0, t_end(s) * 1.2));
            o.x_label = &xl;
            panel(&areas[k], &o, &time_lines(s, layout))?;
            k += 1;
            continue;
        }
        let mut o = opts(m.title, m.unit, m.reference);
        o.x_label = &xl;
        panel(&areas[k], &o, &sweep_lines(s, layout, m.key))?;
        k += 1;
    }
    if dynamic {
        marker_key(&foot, &curves, &markers)?;
        root.present()?;
        return Ok(());
    }
    // Last panel: abductor effort against the usable capacity.
    let mut o = if s.has_effort() {
        opts(
            "Abductor effort: moment / usable capacity",
            "%",
            Reference::Percent,
        )
    } else {
        opts(
            "Abductor moment (solid), all-out max (dashed)",
            "N m / kg",
            Reference::None,
        )
    };
    o.x_label = &xl;
    let lines = if s.has_effort() {
        let mut l = sweep_lines(s, layout, EFFORT);
        for line in &mut l {
            for p in &mut line.points {
                p.1 *= 100.0;
            }
        }
        l
    } else {
        let mut lines = sweep_lines(s, layout, MOMENT);
        for mut l in sweep_lines(s, layout, CAPACITY) {
            l.dashed = true;
            l.rug.clear();
            lines.push(l);
        }
        lines
    };
    panel(&areas[k.min(7)], &o, &lines)?;
    marker_key(&foot, &curves, &markers)?;
    root.present()?;
    Ok(())
}

/// A shorter axis title for small panels, keeping the unit ("% of normal").
fn param_short_axis(label: &str) -> String {
    let head = label.split(" (").next().unwrap_or(label);
    let head = head.split(", ").next().unwrap_or(head);
    match label.rsplit_once(", ") {
        Some((_, unit)) if unit.contains("% of normal") => format!("{head}, {unit}"),
        _ => head.to_string(),
    }
}

/// A vertical colour bar: `color(v)` from `lo` (bottom) to `hi` (top) with ticks.
#[allow(clippy::too_many_arguments)]
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, top, bottom): (i32, i32, i32),
    lo: f64,
    hi: f64,
    color: &dyn Fn(f64) -> RGBColor,
    ticks: &[(f64, String)],
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let steps = 60;
    for k in 0..steps {
        let v = lo + (hi - lo) * (k as f64 + 0.5) / steps as f64;
        let y0 = bottom - (bottom - top) * k / steps;
        let y1 = bottom - (bottom - top) * (k + 1) / steps;
        area.draw(&Rectangle::new([(x, y1), (x + 36, y0)], color(v).filled()))?;
    }
    area.draw(&Rectangle::new(
        [(x, top), (x + 36, bottom)],
        style::TRUNK.stroke_width(1),
    ))?;
    for (v, label) in ticks {
        let f = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        let y = bottom - ((bottom - top) as f64 * f).round() as i32;
        area.draw(&PathElement::new(
            vec![(x + 36, y), (x + 44, y)],
            BLACK.stroke_width(1),
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (x + 48, y),
            text(17, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    area.draw(&Text::new(
        title.to_string(),
        (x - 4, top - 14),
        text(17, &BLACK).pos(Pos::new(HPos::Left, VPos::Bottom)),
    ))?;
    Ok(())
}

/// Ticks for an axis from `lo` to `hi`: about `n` round values.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || n == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut v = Vec::new();
    let mut t = first;
    while t <= hi + step * 1e-9 {
        v.push((t / step).round() * step);
        t += step;
    }
    v
}

/// What a heat-map cell shows: its colour and up to two lines of text.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Fill colour.
    pub color: RGBColor,
    /// Text lines (first bold).
    pub lines: Vec<String>,
}

/// The colour and text of one run in the heat map: coloured by the time until the
/// pelvic drop passed 2 cm (the sooner, the darker), "held level" a colour of its own,
/// and a run still dropping but not yet at 2 cm another; never by the drop at the
/// moment a run ended.
pub fn heat_cell(s: &Summary, r: usize, t_max: f64) -> Cell {
    let row = &s.rows[r];
    let t2 = row.time_to_trendelenburg_s();
    let color = match (row.status, t2) {
        (_, Some(t)) => style::time_heat(t / t_max),
        (RunStatus::Ok, None) => style::HELD_LEVEL,
        (RunStatus::StillFalling | RunStatus::LostBalance | RunStatus::ShortOfDepth, None) => {
            style::NOT_SETTLED
        }
        _ => style::DIVERGED,
    };
    let mut lines = Vec::new();
    match t2 {
        Some(t) => lines.push(format!("2 cm at {} s", num(t, 2))),
        None if row.status.held() => lines.push(format!(
            "level, {} cm",
            num(row.metric("pelvic_drop_cm").max(0.0), 1)
        )),
        None => {}
    }
    let second = match row.status {
        RunStatus::Ok if t2.is_some() => {
            Some(format!("held, {} cm", num(row.metric("pelvic_drop_cm"), 1)))
        }
        RunStatus::Ok => None,
        RunStatus::StillFalling => Some("still dropping".into()),
        RunStatus::LostBalance => Some(
            row.fall_time_s()
                .map(|t| format!("fell at {} s", num(t, 2)))
                .unwrap_or_else(|| "fell".into()),
        ),
        RunStatus::ShortOfDepth => Some("short of depth".into()),
        RunStatus::Diverged => Some("diverged".into()),
        RunStatus::Failed => Some("failed".into()),
        RunStatus::Unknown => Some("status unknown".into()),
    };
    lines.extend(second);
    Cell { color, lines }
}

/// Heat map over a two-parameter grid, coloured by how soon the pelvic drop passed
/// 2 cm; runs that held a level pelvis have a colour of their own.
pub fn heatmap(path: &Path, s: &Summary, g: &Grid) -> DrawResult {
    let root = BitMapBackend::new(path, (1300, 1000)).into_drawing_area();
    let title = if g.group.is_empty() {
        "How soon does the pelvis drop past 2 cm?".to_string()
    } else {
        format!("How soon does the pelvis drop past 2 cm? ({})", g.group)
    };
    let body = titled(
        &root,
        &title,
        "Colour: time until the drop passed 2 cm (dark = soon). Green: held the stance with the pelvis level.",
    )?;
    let (nx, ny) = (g.xs.len(), g.ys.len());
    let t_max = t_end(s);
    let (bw, bh) = body.dim_in_pixel();
    let (body, bar) = body.split_horizontally(bw - 190);
    let (top, bottom) = (60_i32, bh as i32 - 300);
    let ticks: Vec<(f64, String)> = nice_ticks(0.0, t_max, 5)
        .into_iter()
        .map(|t| (t, format!("{} s", num(t, 2))))
        .collect();
    colour_bar(
        &bar,
        (20, top, bottom),
        0.0,
        t_max,
        &|t| style::time_heat(t / t_max),
        &ticks,
        "2 cm reached at",
    )?;
    // Swatches for the cells that have no time.
    let mut y = bottom + 40;
    for (c, label) in [
        (style::HELD_LEVEL, "held level"),
        (style::NOT_SETTLED, "not settled"),
        (style::DIVERGED, "diverged"),
    ] {
        bar.draw(&Rectangle::new([(20, y - 14), (56, y + 14)], c.filled()))?;
        bar.draw(&Rectangle::new(
            [(20, y - 14), (56, y + 14)],
            style::TRUNK.stroke_width(1),
        ))?;
        bar.draw(&Text::new(
            label.to_string(),
            (62, y),
            text(16, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += 40;
    }
    let mut chart = ChartBuilder::on(&body)
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)?;
    let xs = g.xs.clone();
    let ys = g.ys.clone();
    let (px_pct, py_pct) = (
        s.params[g.px].starts_with("strength."),
        s.params[g.py].starts_with("strength."),
    );
    // Thin the axis labels of a large grid: about 12 per axis.
    let every = |n: usize| n.div_ceil(12).max(1);
    let (ex, ey) = (every(nx), every(ny));
    let dx = words::pct_decimals(&xs);
    let dy = words::pct_decimals(&ys);
    let fmt = |v: &[f64], x: f64, percent: bool, each: usize, d: usize| {
        let i = x.round();
        if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < v.len() && (i as usize) % each == 0 {
            if percent {
                words::pct_dec(v[i as usize], d)
            } else {
                format!("{}", v[i as usize])
            }
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(param_label(&s.params[g.px]))
        .y_desc(param_label(&s.params[g.py]))
        .x_labels((nx * 4 + 1).min(400))
        .y_labels((ny * 4 + 1).min(400))
        .x_label_formatter(&|x| fmt(&xs, *x, px_pct, ex, dx))
        .y_label_formatter(&|y| fmt(&ys, *y, py_pct, ey, dy))
        .label_style((FONT, 20))
        .axis_desc_style((FONT, 22))
        .draw()?;
    let (cw, ch) = {
        let (a, _) = chart.backend_coord(&(0.0, 0.0));
        let (b, _) = chart.backend_coord(&(1.0, 0.0));
        let (_, c) = chart.backend_coord(&(0.0, 0.0));
        let (_, d) = chart.backend_coord(&(0.0, 1.0));
        ((b - a).abs() as f64, (c - d).abs() as f64)
    };
    let fs: u32 = if cw > 150.0 && ch > 90.0 { 22 } else { 16 };
    for ix in 0..nx {
        for iy in 0..ny {
            let Some(r) = g.cell[ix][iy] else { continue };
            let cell = heat_cell(s, r, t_max);
            let (x, y) = (ix as f64, iy as f64);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                cell.color.filled(),
            )))?;
            if cw >= 6.0 && ch >= 6.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    WHITE.stroke_width(if cw > 30.0 { 2 } else { 1 }),
                )))?;
            }
            // Text only where it fits in the cell; a large grid relies on the colours.
            let area = chart.plotting_area();
            let widest = cell
                .lines
                .iter()
                .map(|l| {
                    area.estimate_text_size(l, &bold(fs, &BLACK))
                        .map(|s| s.0)
                        .unwrap_or(u32::MAX)
                })
                .max()
                .unwrap_or(0) as f64;
            let tall = (fs as f64 * 1.25) * cell.lines.len() as f64;
            if widest + 8.0 > cw || tall + 6.0 > ch {
                continue;
            }
            let dark = {
                let RGBColor(r, g, b) = cell.color;
                0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64 <= 140.0
            };
            let c = if dark { WHITE } else { BLACK };
            let n = cell.lines.len() as f64;
            for (k, l) in cell.lines.iter().enumerate() {
                let off = ((k as f64 - (n - 1.0) / 2.0) * fs as f64 * 1.25) as i32;
                let st = if k == 0 { bold(fs, &c) } else { text(fs, &c) };
                area.draw(
                    &(EmptyElement::at((x, y))
                        + Text::new(
                            l.clone(),
                            (0, off),
                            st.pos(Pos::new(HPos::Center, VPos::Center)),
                        )),
                )?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// The parameter the runs of an over-time figure are coloured by: the x parameter of
/// the layout's first curve, else the first varying numeric parameter.
fn colour_param(s: &Summary, layout: &SweepLayout) -> Option<usize> {
    let varying = s.varying_params();
    let mut numeric: Vec<usize> = varying
        .iter()
        .copied()
        .filter(|&i| s.param_is_numeric(i))
        .collect();
    numeric.sort_by_key(|&i| {
        (
            s.params[i] != "strength.hip_abductors",
            !s.params[i].starts_with("strength."),
            i,
        )
    });
    layout
        .curves
        .first()
        .and_then(|c| c.param)
        .or(numeric.first().copied())
}

/// Pelvic drop over time, one line per run: a legend for a few runs, a colour scale of
/// the swept parameter for many.
pub fn sweep_over_time(path: &Path, s: &Summary, series: &[Option<TimeSeries>]) -> DrawResult {
    let root = BitMapBackend::new(path, (1400, 900)).into_drawing_area();
    let n_runs = series.iter().filter(|x| x.is_some()).count();
    let layout = SweepLayout::new(s);
    let cp = colour_param(s, &layout);
    let legend = n_runs <= 14;
    let subtitle = match (legend, cp) {
        (false, Some(p)) => format!(
            "One line per run ({n_runs}), coloured by {} (scale on the right). A line that stops early: that run lost its balance.",
            param_short(&s.params[p])
        ),
        _ => "One line per run. A line that stops early: that run lost its balance.".to_string(),
    };
    let body = titled(
        &root,
        "Pelvic drop from the moment the foot is lifted",
        &subtitle,
    )?;
    // Order: along the curves (by the x parameter), then the rest in file order.
    let order: Vec<usize> = layout
        .curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .chain(0..s.rows.len())
        .fold(Vec::new(), |mut v, r| {
            if !v.contains(&r) {
                v.push(r);
            }
            v
        });
    let (lo, hi) = match cp {
        Some(p) => {
            let v: Vec<f64> = (0..s.rows.len())
                .filter_map(|r| s.param_f64(r, p))
                .collect();
            (
                v.iter().cloned().fold(f64::INFINITY, f64::min),
                v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            )
        }
        None => (0.0, 1.0),
    };
    // A few runs: a colour each (with a legend); many: the swept value's colour scale.
    let colour_of = |k: usize, r: usize| match cp {
        Some(p) if hi > lo && !legend => {
            style::ramp((s.param_f64(r, p).unwrap_or(lo) - lo) / (hi - lo))
        }
        _ => line_colors(order.len())[k],
    };
    let mut lines = Vec::new();
    let mut t_max: f64 = 0.0;
    let width = match n_runs {
        0..=30 => 0,
        31..=150 => 2,
        _ => 1,
    };
    for (k, &r) in order.iter().enumerate() {
        let Some(ts) = &series[r] else { continue };
        let t = ts.time();
        let Some(y) = ts.col("pelvic_drop_cm") else {
            continue;
        };
        t_max = t_max.max(t.last().copied().unwrap_or(0.0));
        let cap = run_caption(s, r);
        let mut l = Line::new(
            if legend {
                if cap.is_empty() {
                    s.rows[r].run_id.clone()
                } else {
                    cap
                }
            } else {
                String::new()
            },
            colour_of(k, r),
            t.iter().zip(y).map(|(&t, &y)| (t, y)).collect(),
        );
        l.width = width;
        l.end = status_marker(s.rows[r].status);
        lines.push(l);
    }
    // Strongest first in the list = drawn last, on top.
    lines.reverse();
    if legend {
        // The lower a line is drawn, the wider: a line that coincides with one drawn
        // over it shows as a rim around it (up to four layers).
        for (i, l) in lines.iter_mut().enumerate() {
            l.width = 3 + 2 * i.min(3) as u32;
        }
    }
    let markers = sweep_markers(s, KeyKind::OverTime);
    let (bw, bh) = body.dim_in_pixel();
    let (plot, foot) = body.split_vertically(bh - key_height(&[], markers.len(), bw).max(50));
    let (plot, bar) = if legend || cp.is_none() {
        (plot, None)
    } else {
        let (pw, _) = plot.dim_in_pixel();
        let (a, b) = plot.split_horizontally(pw - 200);
        (a, Some(b))
    };
    panel(
        &plot,
        &PanelOpts {
            title: "",
            unit: "pelvic drop (cm)",
            x_label: "time since the swing foot left the ground (s)",
            x_range: (0.0, t_max.max(0.01)),
            x_ticks: &[],
            reference: Reference::Trendelenburg,
            big: true,
            y_range: None,
            legend,
            x_percent: false,
            legend_fit: true,
        },
        &lines,
    )?;
    if let (Some(bar), Some(p)) = (bar, cp) {
        let (_, h) = bar.dim_in_pixel();
        let strength = s.params[p].starts_with("strength.");
        let d = words::pct_decimals(&[lo, hi]);
        let ticks: Vec<(f64, String)> = nice_ticks(lo, hi, 5)
            .into_iter()
            .map(|v| {
                (
                    v,
                    if strength {
                        words::pct_dec(v, d)
                    } else {
                        num(v, 2)
                    },
                )
            })
            .collect();
        colour_bar(
            &bar,
            (30, 80, h as i32 - 90),
            lo,
            hi,
            &|v| style::ramp((v - lo) / (hi - lo)),
            &ticks,
            &param_short(&s.params[p]),
        )?;
    }
    marker_key(&foot, &[], &markers)?;
    root.present()?;
    Ok(())
}

/// A recorded column over time, ended by the run's status marker.
fn series_line(ts: &TimeSeries, key: &str, color: RGBColor, end: RunStatus) -> Option<Line> {
    let t = ts.time();
    let y = ts.col(key)?;
    let mut l = Line::new(
        String::new(),
        color,
        t.iter().zip(y).map(|(&t, &y)| (t, y)).collect(),
    );
    l.end = status_marker(end);
    Some(l)
}

fn run_subtitle(s: &Summary, r: usize) -> String {
    let row = &s.rows[r];
    let cap = run_caption(s, r);
    let mut out = row.run_id.clone();
    if !cap.is_empty() {
        out.push_str(&format!(" ({cap})"));
    }
    out.push_str(": ");
    out.push_str(row.status_words());
    if let Some(t) = row.status_time_s.filter(|_| !row.status.held()) {
        out.push_str(&format!(" at {} s", num(t, 2)));
    }
    if let Some(t) = row.time_to_trendelenburg_s() {
        out.push_str(&format!("; drop past 2 cm at {} s", num(t, 2)));
    }
    out
}

/// One run's measures over time, 2 x 4 panels.
pub fn run_measures(path: &Path, s: &Summary, r: usize, ts: &TimeSeries) -> DrawResult {
    let root = BitMapBackend::new(path, (1800, 1000)).into_drawing_area();
    let body = titled(
        &root,
        &format!(
            "{}: the clinical measures over time",
            super::body::task_words(s.rows[r].task)
        ),
        &run_subtitle(s, r),
    )?;
    let areas = body.split_evenly((2, 4));
    let t = ts.time();
    let xr = (0.0, t.last().copied().unwrap_or(1.0).max(0.01));
    let end = s.rows[r].status;
    let opts = |title: &'static str, unit: &'static str, reference: Reference| PanelOpts {
        title,
        unit,
        x_label: "time (s)",
        x_range: xr,
        x_ticks: &[],
        reference,
        big: false,
        y_range: None,
        legend: false,
        x_percent: false,
        legend_fit: false,
    };
    for (m, area) in MEASURES.iter().zip(areas.iter()) {
        let lines: Vec<Line> = series_line(ts, m.key, style::STANCE, end)
            .into_iter()
            .collect();
        panel(area, &opts(m.title, m.unit, m.reference), &lines)?;
    }
    if ts.col(EFFORT).is_some() {
        let mut lines: Vec<Line> = series_line(ts, EFFORT, style::GLUT_MED, end)
            .into_iter()
            .collect();
        for l in &mut lines {
            for p in &mut l.points {
                p.1 *= 100.0;
            }
        }
        panel(
            &areas[7],
            &opts(
                "Abductor effort: moment / usable capacity",
                "%",
                Reference::Percent,
            ),
            &lines,
        )?;
    } else {
        let mut lines: Vec<Line> = series_line(ts, MOMENT, style::GLUT_MED, end)
            .into_iter()
            .collect();
        if let Some(mut l) = series_line(ts, CAPACITY, style::TRUNK, RunStatus::Ok) {
            l.dashed = true;
            lines.push(l);
        }
        panel(
            &areas[7],
            &opts(
                "Abductor moment (red), all-out max (dashed)",
                "N m / kg",
                Reference::None,
            ),
            &lines,
        )?;
    }
    root.present()?;
    Ok(())
}

/// A hip muscle group on the stance side: name, colour, column-name prefixes.
pub const MUSCLE_GROUPS: &[(&str, RGBColor, &str)] = &[
    ("glute med", style::GLUT_MED, "glut_med"),
    ("glute min", style::GLUT_MIN, "glut_min"),
    ("glute max", style::GLUT_MAX, "glut_max"),
    ("TFL", style::TFL, "tfl"),
];

/// The six abductor compartments of the stance leg, as in `activation_<name>_<side>`:
/// (column stem, label, colour). Anterior to posterior: light to dark.
pub const ABDUCTOR_COMPARTMENTS: &[(&str, &str, RGBColor)] = &[
    (
        "glut_med1",
        "glute med 1 (anterior)",
        RGBColor(240, 110, 110),
    ),
    ("glut_med2", "glute med 2 (middle)", RGBColor(200, 30, 45)),
    (
        "glut_med3",
        "glute med 3 (posterior)",
        RGBColor(120, 10, 20),
    ),
    (
        "glut_min1",
        "glute min 1 (anterior)",
        RGBColor(190, 140, 225),
    ),
    ("glut_min2", "glute min 2 (middle)", RGBColor(130, 60, 170)),
    (
        "glut_min3",
        "glute min 3 (posterior)",
        RGBColor(70, 25, 100),
    ),
];

/// Columns `prefix<anything>_<side>` that exist, e.g. `activation_glut_med1_r`.
fn group_columns(
    ts: &TimeSeries,
    kind: &str,
    prefix: &str,
    side: Side,
    suffix: &str,
) -> Vec<String> {
    let head = format!("{kind}_{prefix}");
    let tail = format!("_{}{suffix}", side.suffix());
    ts.names
        .iter()
        .filter(|n| n.starts_with(&head) && n.ends_with(&tail))
        .cloned()
        .collect()
}

/// Per-row mean (activation) or sum (force) of a group's columns; None if no column.
pub fn group_series(ts: &TimeSeries, kind: &str, prefix: &str, side: Side) -> Option<Vec<f64>> {
    let (suffix, mean) = if kind == "activation" {
        ("", true)
    } else {
        ("_n", false)
    };
    let cols = group_columns(ts, kind, prefix, side, suffix);
    if cols.is_empty() {
        return None;
    }
    let n = ts.len();
    let mut out = vec![0.0; n];
    for c in &cols {
        let v = ts.col(c)?;
        for (o, x) in out.iter_mut().zip(v) {
            *o += x;
        }
    }
    if mean {
        for o in &mut out {
            *o /= cols.len() as f64;
        }
    }
    Some(out)
}

/// The stance-side hip muscles over time: the six abductor compartments' activations
/// with the saturation line, glute max and TFL, and the abductor moment against the
/// usable capacity (the largest abduction moment the muscles can give while the hip's
/// other moments and the knee moment stay as they are).
pub fn run_muscles(path: &Path, s: &Summary, r: usize, ts: &TimeSeries, side: Side) -> DrawResult {
    let root = BitMapBackend::new(path, (1400, 1300)).into_drawing_area();
    let body = titled(
        &root,
        &format!("How hard the {} (stance) hip muscles work", side.word()),
        &run_subtitle(s, r),
    )?;
    let areas = body.split_evenly((3, 1));
    let t = ts.time();
    let xr = (0.0, t.last().copied().unwrap_or(1.0).max(0.01));
    let end = s.rows[r].status;
    let opts = |title: &'static str, unit: &'static str, reference: Reference| PanelOpts {
        title,
        unit,
        x_label: "time (s)",
        x_range: xr,
        x_ticks: &[],
        reference,
        big: true,
        y_range: None,
        legend: true,
        x_percent: false,
        legend_fit: false,
    };
    let sfx = side.suffix();
    let over_time = |v: &[f64]| t.iter().zip(v).map(|(&t, &y)| (t, y)).collect::<Vec<_>>();
    // Panel 1: each abductor compartment. Lines drawn first (at the bottom) are wider,
    // so a compartment under another stays visible as a rim.
    let mut lines = Vec::new();
    for (k, (stem, label, color)) in ABDUCTOR_COMPARTMENTS.iter().enumerate() {
        if let Some(v) = ts.col(&format!("activation_{stem}_{sfx}")) {
            let mut l = Line::new(*label, *color, over_time(v));
            l.dashed = stem.starts_with("glut_min");
            l.width = 3 + k as u32;
            lines.push(l);
        }
    }
    if lines.is_empty() {
        for (name, color, prefix) in &MUSCLE_GROUPS[..2] {
            if let Some(v) = group_series(ts, "activation", prefix, side) {
                lines.push(Line::new(*name, *color, over_time(&v)));
            }
        }
    }
    panel(
        &areas[0],
        &PanelOpts {
            y_range: Some((0.0, 1.08)),
            ..opts(
                "Glute med and min compartments: activation (1 = fully on)",
                "activation",
                Reference::Unit,
            )
        },
        &lines,
    )?;
    // Panel 2: the other hip muscles, on their own so none hides under an abductor.
    let mut lines = Vec::new();
    for (k, (name, color, prefix)) in MUSCLE_GROUPS[2..].iter().enumerate() {
        if let Some(v) = group_series(ts, "activation", prefix, side) {
            let mut l = Line::new(*name, *color, over_time(&v));
            l.dashed = *prefix == "tfl";
            l.width = if k == 0 { 7 } else { 4 };
            lines.push(l);
        }
    }
    // TFL on top (first), glute max wider underneath.
    lines.reverse();
    panel(
        &areas[1],
        &PanelOpts {
            y_range: Some((0.0, 1.08)),
            ..opts(
                "Glute max and TFL: activation (mean of compartments)",
                "activation",
                Reference::Unit,
            )
        },
        &lines,
    )?;
    // Panel 3: moment against the usable capacity.
    // The usable capacity first (drawn on top, thin dashed) so that where the moment
    // reaches it, the dashes show on the wider red line.
    let mut lines = Vec::new();
    let usable = ts.col(USABLE).is_some();
    if usable {
        if let Some(mut l) = series_line(ts, USABLE, BLACK, RunStatus::Ok) {
            l.label = "usable capacity (leg's other moments held)".into();
            l.dashed = true;
            l.width = 3;
            lines.push(l);
        }
    }
    if let Some(mut l) = series_line(ts, MOMENT, style::GLUT_MED, end) {
        l.label = "abduction moment produced".into();
        l.width = 7;
        lines.push(l);
    }
    if let Some(mut l) = series_line(ts, CAPACITY, style::GHOST, RunStatus::Ok) {
        l.label = if usable {
            "all-out max, pulling only sideways (not usable)".into()
        } else {
            "all-out max, pulling only sideways (upper bound)".into()
        };
        l.dashed = !usable;
        l.width = 2;
        lines.push(l);
    }
    let title = if usable {
        "Abductor moment: where red meets dashed, the abductors can give no more"
    } else {
        "Abductor moment used (red) and the all-out maximum (grey: not all of it is usable)"
    };
    panel(&areas[2], &opts(title, "N m / kg", Reference::None), &lines)?;
    root.present()?;
    Ok(())
}

/// The rows of a squat's or step-down's time series going down (the first row to the
/// deepest, [`super::data::deepest_row`]) and coming back up (the deepest to the last,
/// including the standing at the end); `None` without knee flexion.
pub fn descent_ascent(ts: &TimeSeries) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let d = super::data::deepest_row(ts)?;
    Some((0..d + 1, d..ts.len()))
}

/// The measures of the kinetic chain against the stance knee's flexion, for the
/// squat and the step-down: FPPA, hip adduction, hip internal rotation and pelvic drop
/// (deg), going down solid and coming up dashed; one line per run of `rows`, coloured
/// by abductor strength ([`super::abductor_factor`]) when it differs between them.
pub fn against_knee(
    path: &Path,
    s: &Summary,
    rows: &[usize],
    series: &[Option<TimeSeries>],
) -> DrawResult {
    let root = BitMapBackend::new(path, (1800, 1100)).into_drawing_area();
    let mut runs: Vec<(usize, &TimeSeries)> = rows
        .iter()
        .filter_map(|&r| series[r].as_ref().map(|ts| (r, ts)))
        .filter(|(_, ts)| descent_ascent(ts).is_some())
        .collect();
    // Strongest first: the panel draws the first line on top.
    runs.sort_by(|a, b| super::abductor_factor(s, b.0).total_cmp(&super::abductor_factor(s, a.0)));
    let abd: Vec<f64> = runs
        .iter()
        .map(|&(r, _)| super::abductor_factor(s, r))
        .collect();
    let lo = abd.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = abd.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let by_strength = runs.len() > 1 && hi > lo + 1e-12;
    let task = super::body::task_words(s.rows[rows.first().copied().unwrap_or(0)].task);
    let subtitle = if by_strength {
        format!(
            "x: stance knee flexion. Solid: going down; dashed: coming back up (and standing at the end). One line per run ({}), coloured by abductor strength (scale on the right).",
            runs.len()
        )
    } else {
        "x: stance knee flexion. Solid: going down; dashed: coming back up (and standing at the end).".to_string()
    };
    let body = titled(
        &root,
        &format!("{task}: the chain against the knee's flexion"),
        &subtitle,
    )?;
    let colour = |k: usize| {
        if by_strength {
            style::ramp((abd[k] - lo) / (hi - lo))
        } else {
            style::STANCE
        }
    };
    let knee_all: Vec<f64> = runs
        .iter()
        .flat_map(|(_, ts)| ts.col("knee_flexion_deg").unwrap_or(&[]).to_vec())
        .filter(|x| x.is_finite())
        .collect();
    let x_range = pad_range(&knee_all, 0.04, None);
    let markers = sweep_markers(s, KeyKind::OverTime);
    let (bw, bh) = body.dim_in_pixel();
    let (plots, foot) = body.split_vertically(bh - key_height(&[], markers.len(), bw).max(50));
    let (plots, bar) = if by_strength {
        let (pw, _) = plots.dim_in_pixel();
        let (a, b) = plots.split_horizontally(pw - 200);
        (a, Some(b))
    } else {
        (plots, None)
    };
    let areas = plots.split_evenly((2, 2));
    let panels: [(&str, &str, &str, Reference); 4] = [
        (
            "knee_fppa_deg",
            "Knee FPPA (2D camera), + = knee inward",
            "deg",
            Reference::Fppa,
        ),
        (
            "hip_adduction_deg",
            "Hip adduction, + = thigh toward the midline",
            "deg",
            Reference::Zero,
        ),
        (
            "hip_internal_rotation_deg",
            "Hip internal rotation, + = thigh turned in",
            "deg",
            Reference::Zero,
        ),
        (
            "pelvic_drop_deg",
            "Pelvic drop, + = swing side lower",
            "deg",
            Reference::Zero,
        ),
    ];
    for (k_area, (key, title, unit, reference)) in panels.into_iter().enumerate() {
        let mut lines = Vec::new();
        for (k, &(r, ts)) in runs.iter().enumerate() {
            let (Some(x), Some(y)) = (ts.col("knee_flexion_deg"), ts.col(key)) else {
                continue;
            };
            let Some((down, up)) = descent_ascent(ts) else {
                continue;
            };
            let pts = |rg: std::ops::Range<usize>| -> Vec<(f64, f64)> {
                rg.map(|i| (x[i], y[i])).collect()
            };
            let mut a = Line::new(String::new(), colour(k), pts(down));
            a.width = 3;
            let mut b = Line::new(String::new(), colour(k), pts(up));
            b.dashed = true;
            b.width = 3;
            b.end = status_marker(s.rows[r].status);
            lines.push(a);
            lines.push(b);
        }
        panel(
            &areas[k_area],
            &PanelOpts {
                title,
                unit,
                x_label: "stance knee flexion (deg)",
                x_range,
                x_ticks: &[],
                reference,
                big: false,
                y_range: None,
                legend: false,
                x_percent: false,
                legend_fit: false,
            },
            &lines,
        )?;
    }
    if let Some(bar) = bar {
        let (_, h) = bar.dim_in_pixel();
        let d = words::pct_decimals(&[lo, hi]);
        let ticks: Vec<(f64, String)> = nice_ticks(lo, hi, 5)
            .into_iter()
            .map(|v| (v, words::pct_dec(v, d)))
            .collect();
        colour_bar(
            &bar,
            (30, 80, h as i32 - 90),
            lo,
            hi,
            &|v| style::ramp((v - lo) / (hi - lo)),
            &ticks,
            "abductors",
        )?;
    }
    marker_key(&foot, &[], &markers)?;
    root.present()?;
    Ok(())
}
