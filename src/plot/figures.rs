//! Charts: dose-response curves, heat map, time series of measures and muscles.

use super::data::{RunStatus, Side, Summary, TimeSeries};
use super::style::{self, FONT};
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
    /// Activation: the axis spans 0 to 1.
    Unit,
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

const MOMENT: &str = "hip_abductor_moment_nm_per_kg";
const CAPACITY: &str = "hip_abductor_capacity_nm_per_kg";

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
                .map(|&i| format!("{} {}", param_short(&s.params[i]), s.rows[r].params[i]))
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

/// Draw reference lines and bands for a measure into a chart.
fn draw_reference<DB: DrawingBackend>(
    chart: &mut ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    reference: Reference,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    small: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let fs = if small { 14 } else { 19 };
    let label = |chart: &mut ChartContext<DB, _>, y: f64, s: String, c: RGBColor| {
        chart.plotting_area().draw(&Text::new(
            s,
            (x1 - (x1 - x0) * 0.02, y),
            text(fs, &c).pos(Pos::new(HPos::Right, VPos::Bottom)),
        ))
    };
    match reference {
        Reference::None | Reference::Unit => {}
        Reference::Zero => {
            chart.draw_series(LineSeries::new(
                [(x0, 0.0), (x1, 0.0)],
                style::GHOST.stroke_width(1),
            ))?;
        }
        Reference::Trendelenburg | Reference::TrendelenburgBand(..) => {
            if let Reference::TrendelenburgBand(a, b) = reference {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y0), (b, y1)],
                    style::GHOST.mix(0.25).filled(),
                )))?;
                chart.plotting_area().draw(
                    &(EmptyElement::at(((a + b) / 2.0, y0))
                        + Text::new(
                            "somewhere in here".to_string(),
                            (0, -20 - fs as i32),
                            text(fs, &style::TRUNK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )
                        + Text::new(
                            "the reserve runs out".to_string(),
                            (0, -16),
                            text(fs, &style::TRUNK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )),
                )?;
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
            label(
                chart,
                t,
                if small {
                    format!("2 cm Trendelenburg line ({})", style::TRENDELENBURG_CITE)
                } else {
                    format!(
                        "2 cm: positive Trendelenburg sign ({})",
                        style::TRENDELENBURG_CITE
                    )
                },
                style::REFERENCE,
            )?;
        }
        Reference::Fppa => {
            for ((m, sd), c, name) in [
                (style::FPPA_HEALTHY, style::HEALTHY, "healthy"),
                (style::FPPA_PFP, style::PFP, "knee pain (PFP)"),
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
                label(chart, m, format!("{name} {m:.1} ± {sd:.1}°"), c)?;
            }
            let (m, sd) = style::FPPA_PFP;
            label(chart, m + sd, format!("({})", style::FPPA_CITE), style::PFP)?;
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
            label(
                chart,
                m + sd,
                format!(
                    "measured in vivo {m:.2} ± {sd:.2} ({})",
                    style::HIP_CONTACT_CITE
                ),
                style::HEALTHY,
            )?;
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
        Reference::Unit => vec![0.0, 1.0],
        Reference::None => vec![],
    }
}

/// A data line with per-point status markers.
struct Line {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64, RunStatus)>,
    dashed: bool,
    /// Mark every point (sweeps); time series only mark how a run ended.
    dots: bool,
    /// Short notes written above points, e.g. "fell at 0.39 s".
    notes: Vec<(f64, f64, String)>,
}

/// One panel: a measure against x, with lines and markers.
#[allow(clippy::too_many_arguments)]
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    unit: &str,
    x_label: &str,
    x_range: (f64, f64),
    x_ticks: &[String],
    lines: &[Line],
    reference: Reference,
    big: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // A legend column on the right, so the legend never covers data.
    let mut labelled: Vec<&Line> = lines.iter().filter(|l| !l.label.is_empty()).collect();
    labelled.sort_by_key(|l| l.dashed);
    labelled.dedup_by(|a, b| a.label == b.label);
    let (area, legend_area) = if big && !labelled.is_empty() {
        let (w, _) = area.dim_in_pixel();
        let lw = legend_width(&labelled);
        let (a, b) = area.split_horizontally(w.saturating_sub(lw));
        (a, Some(b))
    } else {
        (area.clone(), None)
    };
    let area = &area;
    if let Some(la) = &legend_area {
        let mut y = 70;
        for l in &labelled {
            let c = l.color;
            if l.dashed {
                la.draw(&DashedPathElement::new(
                    vec![(10, y), (44, y)],
                    6,
                    4,
                    c.stroke_width(4),
                ))?;
            } else {
                la.draw(&PathElement::new(vec![(10, y), (44, y)], c.stroke_width(5)))?;
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
    let y_range = pad_range(&ys, 0.1, Some(&reference_span(reference)));
    // Never zoom into numerical noise: a flat 1e-5 deg must look flat.
    let min_span = match unit {
        "deg" => 2.0,
        "cm" | "pelvic drop (cm)" => 1.0,
        "x body weight" => 0.5,
        "N m / kg" => 0.2,
        _ => 0.0,
    };
    let y_range = if y_range.1 - y_range.0 < min_span {
        let c = (y_range.0 + y_range.1) / 2.0;
        (c - min_span / 2.0, c + min_span / 2.0)
    } else {
        y_range
    };
    let (tf, lf, df) = if big { (26, 20, 22) } else { (20, 15, 16) };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, tf, FontStyle::Bold).into_font())
        .margin(if big { 20 } else { 10 })
        .x_label_area_size(if big { 60 } else { 46 })
        .y_label_area_size(if big { 80 } else { 62 })
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    let ticks = x_ticks.to_vec();
    let percent = x_label.contains("% of normal");
    let fmt_x = move |v: &f64| {
        if ticks.is_empty() && percent {
            format!("{:.0} %", v * 100.0)
        } else if ticks.is_empty() {
            let s = format!("{:.2}", v);
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
        .x_desc(x_label)
        .y_desc(unit)
        .x_labels(if x_ticks.is_empty() {
            7
        } else {
            x_ticks.len() * 4 + 1
        })
        .y_labels(6)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&|v| {
            let s = format!("{:.2}", v);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        })
        .label_style((FONT, lf))
        .axis_desc_style((FONT, df))
        .light_line_style(WHITE)
        .bold_line_style(style::GHOST.mix(0.35))
        .draw()?;
    draw_reference(&mut chart, reference, x_range, y_range, !big)?;
    let ms = if big { 9 } else { 6 };
    // The first line is drawn last, on top (glute med over TFL, abductors over glute max).
    let mut noted: Vec<(i64, String)> = Vec::new();
    for l in lines.iter().rev() {
        // In a sweep, a run that fell has no steady state: connect only runs that held.
        let mut pieces: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in l.points.iter().filter(|p| p.1.is_finite()) {
            let held = matches!(p.2, RunStatus::Ok | RunStatus::Unknown);
            if l.dots && !held {
                pieces.push(Vec::new());
            } else if let Some(last) = pieces.last_mut() {
                last.push((p.0, p.1));
            }
        }
        let w = if big { 4 } else { 3 };
        for pts in pieces.into_iter().filter(|p| p.len() >= 2) {
            if l.dashed {
                chart.draw_series(DashedLineSeries::new(pts, 10, 6, l.color.stroke_width(w)))?;
            } else {
                chart.draw_series(LineSeries::new(pts, l.color.stroke_width(w)))?;
            }
        }
        for (x, y, note) in l.notes.iter().filter(|_| big) {
            // One note per position and text, even when curves coincide.
            let key = (
                (x / (x_range.1 - x_range.0).max(1e-12) * 200.0).round() as i64,
                note.clone(),
            );
            if y.is_finite() && !noted.contains(&key) {
                noted.push(key);
                let dy = if big { -16 } else { -11 };
                chart.plotting_area().draw(
                    &(EmptyElement::at((*x, *y))
                        + Text::new(
                            note.clone(),
                            (0, dy),
                            text(if big { 18 } else { 13 }, &style::TRUNK)
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )),
                )?;
            }
        }
        for p in l.points.iter().filter(|p| p.1.is_finite()) {
            let at = (p.0, p.1);
            match p.2 {
                RunStatus::Ok | RunStatus::Unknown => {
                    if l.dots {
                        chart
                            .plotting_area()
                            .draw(&Circle::new(at, ms, l.color.filled()))?;
                    }
                }
                RunStatus::LostBalance => {
                    if l.dots {
                        chart
                            .plotting_area()
                            .draw(&Circle::new(at, ms + 2, WHITE.filled()))?;
                    }
                    // The shape says "fell", the colour says which curve.
                    chart
                        .plotting_area()
                        .draw(&Cross::new(at, ms + 2, l.color.stroke_width(4)))?;
                }
                RunStatus::Diverged => {
                    chart.plotting_area().draw(&TriangleMarker::new(
                        at,
                        ms + 2,
                        style::DIVERGED.filled(),
                    ))?;
                }
            }
        }
    }
    Ok(())
}

fn legend_width(labelled: &[&Line]) -> u32 {
    let chars = labelled
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0);
    (70 + chars * 11).clamp(300, 520) as u32
}

/// Footer line explaining markers.
/// Width (px) a curve's entry takes in [`marker_key`].
fn key_entry_width(label: &str) -> i32 {
    60 + 11 * label.chars().count() as i32
}

/// Rows [`marker_key`] needs for `curves` in an area `width` px wide (the markers'
/// explanation takes about 620 px on the last row).
fn key_rows(curves: &[(String, RGBColor)], width: u32) -> u32 {
    let (mut rows, mut x) = (1, 30);
    for (label, _) in curves.iter().filter(|c| !c.0.is_empty()) {
        if x + key_entry_width(label) > width as i32 {
            rows += 1;
            x = 30;
        }
        x += key_entry_width(label);
    }
    if x + 620 > width as i32 {
        rows += 1;
    }
    rows
}

/// Height (px) of a footer holding [`marker_key`] for `curves` at `width` px.
fn key_height(curves: &[(String, RGBColor)], width: u32) -> u32 {
    20 + 28 * key_rows(curves, width)
}

fn marker_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    curves: &[(String, RGBColor)],
    over_time: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let rows = key_rows(curves, w) as i32;
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
    if x + 620 > w as i32 {
        x = 30;
        y += 28;
    }
    let fell = s.rows.iter().any(|r| r.status == RunStatus::LostBalance);
    let div = s.rows.iter().any(|r| r.status == RunStatus::Diverged);
    if !over_time {
        area.draw(&Circle::new((x, y), 7, style::TRUNK.filled()))?;
        area.draw(&Text::new(
            "held the stance".to_string(),
            (x + 14, y),
            text(18, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += 200;
    }
    if fell {
        area.draw(&Cross::new((x, y), 8, style::FELL.stroke_width(3)))?;
        let what = if over_time {
            "the moment the model lost its balance"
        } else {
            "lost balance (value at the moment it fell)"
        };
        area.draw(&Text::new(
            what.to_string(),
            (x + 14, y),
            text(18, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += 400;
    }
    if div {
        area.draw(&TriangleMarker::new((x, y), 9, style::DIVERGED.filled()))?;
        area.draw(&Text::new(
            "simulation diverged".to_string(),
            (x + 14, y),
            text(18, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    let _ = w;
    Ok(())
}

fn status_of(s: &Summary, r: usize) -> RunStatus {
    s.rows[r].status
}

fn sweep_lines(s: &Summary, layout: &SweepLayout, key: &str) -> Vec<Line> {
    let colors = curve_colors(s, layout);
    // Shift coinciding curves sideways a little (1 % of the axis per curve) so that
    // identical results stay visible; the notes stay at the true value.
    let n = layout.curves.len();
    let (x0, x1) = layout.x_range();
    let dodge = |k: usize| {
        if n <= 1 || !layout.x_ticks.is_empty() {
            0.0
        } else {
            (k as f64 - (n - 1) as f64 / 2.0) * 0.01 * (x1 - x0)
        }
    };
    layout
        .curves
        .iter()
        .zip(colors)
        .enumerate()
        .map(|(k, (c, color))| Line {
            label: c.label.clone(),
            color,
            points: c
                .points
                .iter()
                .map(|&(x, r)| (x + dodge(k), s.rows[r].metric(key), status_of(s, r)))
                .collect(),
            dashed: false,
            dots: true,
            notes: c
                .points
                .iter()
                .filter(|&&(_, r)| s.rows[r].status == RunStatus::LostBalance)
                .map(|&(x, r)| {
                    let t = s.rows[r]
                        .status_time_s
                        .map(|t| format!(" {t:.2} s"))
                        .unwrap_or_default();
                    (x, s.rows[r].metric(key), format!("fell{t}"))
                })
                .collect(),
        })
        .collect()
}

/// For a single abductor-strength curve where every run that fell is weaker than every
/// run that held: the band between the strongest that fell and the weakest that held.
fn reserve_band(s: &Summary, layout: &SweepLayout) -> Reference {
    let [c] = layout.curves.as_slice() else {
        return Reference::Trendelenburg;
    };
    if c.param.map(|p| s.params[p].as_str()) != Some("strength.hip_abductors") {
        return Reference::Trendelenburg;
    }
    let held = |r: usize| s.rows[r].status == RunStatus::Ok;
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

/// The headline: pelvic drop (cm) against the swept parameter, large.
pub fn sweep_headline(path: &Path, s: &Summary, layout: &SweepLayout) -> DrawResult {
    let root = BitMapBackend::new(path, (1400, 900)).into_drawing_area();
    let body = titled(
        &root,
        "How far does the pelvis drop on the swing side?",
        "Each dot is one simulated person standing on one leg. Above the red line a clinician would call the Trendelenburg sign positive.",
    )?;
    let (plot, foot) = body.split_vertically(body.dim_in_pixel().1 - 50);
    panel(
        &plot,
        "",
        "pelvic drop (cm)",
        &layout.x_label,
        layout.x_range(),
        &layout.x_ticks,
        &sweep_lines(s, layout, "pelvic_drop_cm"),
        reserve_band(s, layout),
        true,
    )?;
    marker_key(&foot, s, &[], false)?;
    root.present()?;
    Ok(())
}

/// All measures against the swept parameter, 2 x 4 panels.
pub fn sweep_measures(path: &Path, s: &Summary, layout: &SweepLayout) -> DrawResult {
    let root = BitMapBackend::new(path, (1800, 1000)).into_drawing_area();
    let body = titled(
        &root,
        "What changes down the chain as the parameter changes",
        &format!("x axis: {}", layout.x_label),
    )?;
    let curves: Vec<(String, RGBColor)> = layout
        .curves
        .iter()
        .zip(curve_colors(s, layout))
        .map(|(c, col)| (c.label.clone(), col))
        .collect();
    let (bw, bh) = body.dim_in_pixel();
    let (plots, foot) = body.split_vertically(bh - key_height(&curves, bw).max(46));
    let areas = plots.split_evenly((2, 4));
    for (m, area) in MEASURES.iter().zip(areas.iter()) {
        panel(
            area,
            m.title,
            m.unit,
            &param_short_axis(&layout.x_label),
            layout.x_range(),
            &layout.x_ticks,
            &sweep_lines(s, layout, m.key),
            m.reference,
            false,
        )?;
    }
    // Eighth panel: abductor moment used vs available.
    let mut lines = sweep_lines(s, layout, MOMENT);
    let cap = sweep_lines(s, layout, CAPACITY);
    for mut l in cap {
        l.dashed = true;
        lines.push(l);
    }
    panel(
        &areas[7],
        "Abductor moment: used (solid), max (dashed)",
        "N m / kg",
        &param_short_axis(&layout.x_label),
        layout.x_range(),
        &layout.x_ticks,
        &lines,
        Reference::None,
        false,
    )?;
    marker_key(&foot, s, &curves, false)?;
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

/// Heat map of pelvic drop (cm) over a two-parameter grid.
pub fn heatmap(path: &Path, s: &Summary, g: &Grid) -> DrawResult {
    let root = BitMapBackend::new(path, (1300, 1000)).into_drawing_area();
    let title = if g.group.is_empty() {
        "Pelvic drop (cm) for every combination".to_string()
    } else {
        format!("Pelvic drop (cm) for every combination ({})", g.group)
    };
    let body = titled(
        &root,
        &title,
        "Pale: level. Amber: 2 cm, where the Trendelenburg sign turns positive. Dark red: 4 cm or more.",
    )?;
    let (nx, ny) = (g.xs.len(), g.ys.len());
    // Colour bar on the right: 0 to 5 cm.
    let (bw, bh) = body.dim_in_pixel();
    let (body, bar) = body.split_horizontally(bw - 150);
    let (top, bottom) = (40_i32, bh as i32 - 110);
    let steps = 50;
    for k in 0..steps {
        let cm = 5.0 * (k as f64 + 0.5) / steps as f64;
        let y0 = bottom - (bottom - top) * k / steps;
        let y1 = bottom - (bottom - top) * (k + 1) / steps;
        bar.draw(&Rectangle::new(
            [(20, y1), (60, y0)],
            style::heat(cm).filled(),
        ))?;
    }
    bar.draw(&Rectangle::new(
        [(20, top), (60, bottom)],
        style::TRUNK.stroke_width(1),
    ))?;
    for cm in 0..=5 {
        let y = bottom - (bottom - top) * cm / 5;
        bar.draw(&PathElement::new(
            vec![(60, y), (68, y)],
            BLACK.stroke_width(1),
        ))?;
        bar.draw(&Text::new(
            format!("{cm} cm"),
            (72, y),
            text(18, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
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
    let fmt = |v: &[f64], x: f64, percent: bool| {
        let i = x.round();
        if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < v.len() {
            if percent {
                format!("{:.0} %", v[i as usize] * 100.0)
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
        .x_labels(nx * 4 + 1)
        .y_labels(ny * 4 + 1)
        .x_label_formatter(&|x| fmt(&xs, *x, px_pct))
        .y_label_formatter(&|y| fmt(&ys, *y, py_pct))
        .label_style((FONT, 20))
        .axis_desc_style((FONT, 22))
        .draw()?;
    for ix in 0..nx {
        for iy in 0..ny {
            let Some(r) = g.cell[ix][iy] else { continue };
            let cm = s.rows[r].metric("pelvic_drop_cm");
            let (x, y) = (ix as f64, iy as f64);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                style::heat(cm).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                WHITE.stroke_width(2),
            )))?;
            let dark = cm > style::TRENDELENBURG_CM * 1.3;
            let c = if dark { WHITE } else { BLACK };
            let fs = if nx * ny > 30 { 16 } else { 24 };
            chart.plotting_area().draw(&Text::new(
                format!("{cm:.1} cm"),
                (x, y),
                bold(fs, &c).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
            let note = match s.rows[r].status {
                RunStatus::LostBalance => Some(
                    s.rows[r]
                        .status_time_s
                        .map(|t| format!("fell at {t:.2} s"))
                        .unwrap_or_else(|| "lost balance".into()),
                ),
                RunStatus::Diverged => Some("diverged".to_string()),
                _ => None,
            };
            if let Some(note) = note {
                chart.plotting_area().draw(
                    &(EmptyElement::at((x, y))
                        + Text::new(
                            note,
                            (0, fs as i32),
                            text(fs * 3 / 4, &c).pos(Pos::new(HPos::Center, VPos::Center)),
                        )),
                )?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Pelvic drop over time, one line per run.
pub fn sweep_over_time(path: &Path, s: &Summary, series: &[Option<TimeSeries>]) -> DrawResult {
    let root = BitMapBackend::new(path, (1400, 900)).into_drawing_area();
    let body = titled(
        &root,
        "Pelvic drop from the moment the foot is lifted",
        "One line per run. A line that stops early: that run lost its balance.",
    )?;
    let layout = SweepLayout::new(s);
    // Colour by the x-axis parameter when it exists, else by file order.
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
    let colors = line_colors(order.len());
    let mut lines = Vec::new();
    let mut t_max: f64 = 0.0;
    for (k, &r) in order.iter().enumerate() {
        let Some(ts) = &series[r] else { continue };
        let t = ts.time();
        let Some(y) = ts.col("pelvic_drop_cm") else {
            continue;
        };
        t_max = t_max.max(t.last().copied().unwrap_or(0.0));
        let mut points: Vec<(f64, f64, RunStatus)> = t
            .iter()
            .zip(y)
            .map(|(&t, &y)| (t, y, RunStatus::Unknown))
            .collect();
        // Mark only the end of a run that fell.
        if let Some(last) = points.last_mut() {
            last.2 = s.rows[r].status;
            if last.2 == RunStatus::Ok {
                last.2 = RunStatus::Unknown;
            }
        }
        let cap = run_caption(s, r);
        lines.push(Line {
            label: if order.len() <= 14 {
                if cap.is_empty() {
                    s.rows[r].run_id.clone()
                } else {
                    cap
                }
            } else {
                String::new()
            },
            color: colors[k],
            points,
            dashed: false,
            dots: false,
            notes: Vec::new(),
        });
    }
    let (plot, foot) = body.split_vertically(body.dim_in_pixel().1 - 50);
    panel(
        &plot,
        "",
        "pelvic drop (cm)",
        "time since the swing foot left the ground (s)",
        (0.0, t_max.max(0.01)),
        &[],
        &lines,
        Reference::Trendelenburg,
        true,
    )?;
    marker_key(&foot, s, &[], true)?;
    root.present()?;
    Ok(())
}

fn time_lines(ts: &TimeSeries, key: &str, color: RGBColor, end: RunStatus) -> Vec<Line> {
    let t = ts.time();
    let Some(y) = ts.col(key) else {
        return Vec::new();
    };
    let mut points: Vec<(f64, f64, RunStatus)> = t
        .iter()
        .zip(y)
        .map(|(&t, &y)| (t, y, RunStatus::Unknown))
        .collect();
    if let Some(p) = points.last_mut() {
        if end != RunStatus::Ok {
            p.2 = end;
        }
    }
    vec![Line {
        label: String::new(),
        color,
        points,
        dashed: false,
        dots: false,
        notes: Vec::new(),
    }]
}

fn run_subtitle(s: &Summary, r: usize) -> String {
    let row = &s.rows[r];
    let cap = run_caption(s, r);
    let mut out = row.run_id.clone();
    if !cap.is_empty() {
        out.push_str(&format!(" ({cap})"));
    }
    match row.status {
        RunStatus::Ok => out.push_str(": held the stance"),
        st => {
            out.push_str(&format!(": {}", st.describe()));
            if let Some(t) = row.status_time_s {
                out.push_str(&format!(" at {t:.2} s"));
            }
        }
    }
    out
}

/// One run's measures over time, 2 x 4 panels.
pub fn run_measures(path: &Path, s: &Summary, r: usize, ts: &TimeSeries) -> DrawResult {
    let root = BitMapBackend::new(path, (1800, 1000)).into_drawing_area();
    let body = titled(
        &root,
        "Standing on one leg: the clinical measures over time",
        &run_subtitle(s, r),
    )?;
    let areas = body.split_evenly((2, 4));
    let t = ts.time();
    let xr = (0.0, t.last().copied().unwrap_or(1.0).max(0.01));
    let end = s.rows[r].status;
    for (m, area) in MEASURES.iter().zip(areas.iter()) {
        panel(
            area,
            m.title,
            m.unit,
            "time (s)",
            xr,
            &[],
            &time_lines(ts, m.key, style::STANCE, end),
            m.reference,
            false,
        )?;
    }
    let mut lines = time_lines(ts, MOMENT, style::GLUT_MED, end);
    for mut l in time_lines(ts, CAPACITY, style::TRUNK, RunStatus::Ok) {
        l.dashed = true;
        lines.push(l);
    }
    panel(
        &areas[7],
        "Abductor moment: used (red), max (dashed)",
        "N m / kg",
        "time (s)",
        xr,
        &[],
        &lines,
        Reference::None,
        false,
    )?;
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

/// The stance-side hip muscles over time: activation, force, and moment vs capacity.
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
    for (k, (kind, title, unit)) in [
        (
            "activation",
            "Activation: 0 = relaxed, 1 = fully switched on (mean of compartments)",
            "activation",
        ),
        ("force", "Muscle force (sum of compartments)", "force (N)"),
    ]
    .iter()
    .enumerate()
    {
        let mut lines = Vec::new();
        for (name, color, prefix) in MUSCLE_GROUPS {
            if let Some(v) = group_series(ts, kind, prefix, side) {
                lines.push(Line {
                    label: name.to_string(),
                    color: *color,
                    points: t
                        .iter()
                        .zip(&v)
                        .map(|(&t, &y)| (t, y, RunStatus::Unknown))
                        .collect(),
                    dashed: *prefix == "tfl",
                    dots: false,
                    notes: Vec::new(),
                });
            }
        }
        let reference = if *kind == "activation" {
            Reference::Unit
        } else {
            Reference::Zero
        };
        panel(
            &areas[k],
            title,
            unit,
            "time (s)",
            xr,
            &[],
            &lines,
            reference,
            true,
        )?;
    }
    let mut lines = Vec::new();
    let end = s.rows[r].status;
    for (key, label, color, dashed) in [
        (MOMENT, "used", style::GLUT_MED, false),
        (CAPACITY, "maximum possible", style::TRUNK, true),
    ] {
        for mut l in time_lines(ts, key, color, if dashed { RunStatus::Ok } else { end }) {
            l.label = label.into();
            l.dashed = dashed;
            lines.push(l);
        }
    }
    panel(
        &areas[2],
        "Abductor moment: where red meets dashed, the abductors are maxed out",
        "N m / kg",
        "time (s)",
        xr,
        &[],
        &lines,
        Reference::None,
        true,
    )?;
    root.present()?;
    Ok(())
}
