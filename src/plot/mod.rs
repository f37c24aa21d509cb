//! Pictures that explain hip drop, drawn only from recorded outputs.
//!
//! [`plot_dir`] reads an output directory written by `hipdrop run` (`summary.csv`,
//! `<run_id>_timeseries.csv`, optionally `manifest.json`) and writes figures into
//! `DIR/figures/` and a self-contained `DIR/report.html`. No simulation happens here,
//! so a chart change can never change the physics, and any output directory —
//! including one from another machine — can be re-plotted.
//!
//! What is drawn:
//! - a sweep (two or more runs): dose-response curves of the clinical measures against
//!   the swept parameter(s) with the clinical references drawn in, a heat map when two
//!   parameters form a grid, and the pelvic drop over time of every run;
//! - every run: time series of the clinical measures and of the stance-side hip
//!   muscles' activations and forces, and a frontal-plane figure seen from behind;
//! - the demo runs: an animated GIF of the stance and side-by-side comparisons
//!   chosen by [`select_comparisons`].
//!
//! Squats and step-downs (`task.kind`, from the summary or the recorded scenario) are
//! shown as a camera in front sees them, at the deepest point (the row of largest knee
//! flexion, [`deepest_row`]) with the FPPA drawn as a 2D camera measures it; their GIF
//! plays the whole movement; the chain is drawn against the knee's flexion; and sweeps
//! compare the runs that completed the task (`ok`) on their whole-run peaks.
//!
//! Text is set in the bundled DejaVu Sans font (`assets/fonts/`), so rendering needs no
//! system font libraries.

mod body;
pub mod data;
mod figures;
mod report;
pub mod style;
pub mod text;
pub mod viewer;

pub use body::{
    deepest_words, fppa_2d, gif_frame_plan, gif_rows, hold_last_frame, shown_row, trunk_lean_words,
    GIF_HOLD_MS,
};
pub use data::{
    deepest_row, read_summary, read_timeseries, RunStatus, Side, Summary, TaskKind, TimeSeries,
};
pub use figures::{heat_cell, nice_ticks, Cell};
pub use report::{
    describe_run, knee_sentence, knee_verdict, outcome, outcome_phrase, reading,
    strength_sweep_sentences, sweep_counts_sentence, takeaway, Outcome,
};

use std::path::{Path, PathBuf};

/// Errors from plotting. Each names the file involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The directory has no `summary.csv`.
    #[error("{}: not found; is this an output directory written by `hipdrop run`?", path.display())]
    MissingSummary {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// A CSV file could not be read or parsed.
    #[error("{}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file parsed but its content is not usable.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A run id given for a comparison is not in `summary.csv`.
    #[error("run `{run_id}` is not in {}", path.display())]
    UnknownRun {
        /// The requested run id.
        run_id: String,
        /// The summary searched.
        path: PathBuf,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Drawing a figure failed.
    #[error("cannot draw {}: {message}", path.display())]
    Draw {
        /// The figure file.
        path: PathBuf,
        /// What plotters reported.
        message: String,
    },
}

impl PlotError {
    /// The CLI exit code: 2 for bad input (not an output directory, an unreadable or
    /// malformed result file, an unknown run id), 1 when writing or drawing failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            PlotError::MissingSummary { .. }
            | PlotError::Csv { .. }
            | PlotError::Format { .. }
            | PlotError::UnknownRun { .. } => 2,
            PlotError::Io { .. } | PlotError::Draw { .. } => 1,
        }
    }
}

/// What to draw. `PlotOptions::default()` draws everything.
#[derive(Clone, Debug)]
#[must_use]
pub struct PlotOptions {
    /// Write animated GIFs of the demo runs (the slowest part). Default: true.
    pub gif: bool,
    /// Write `report.html`. Default: true.
    pub report: bool,
    /// An explicit side-by-side comparison of two run ids, drawn in addition to the
    /// automatic ones (left, right). Default: none.
    pub compare: Option<(String, String)>,
    /// Per-run figures (time series, frontal plane) are drawn for at most this many runs:
    /// the demo runs first, then in file order. Default: 24.
    pub max_run_figures: usize,
    /// Largest number of animation frames in a GIF (rows are skipped evenly). Default: 120.
    pub gif_max_frames: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            gif: true,
            report: true,
            compare: None,
            max_run_figures: 24,
            gif_max_frames: 120,
        }
    }
}

/// Two runs shown side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// File stem, e.g. `compare_strong_vs_weak`.
    pub stem: String,
    /// Figure title.
    pub title: String,
    /// Row index (in `summary.csv`) of the left run.
    pub left: usize,
    /// Row index of the right run.
    pub right: usize,
    /// Caption of the left run.
    pub left_label: String,
    /// Caption of the right run.
    pub right_label: String,
}

/// Readable name and unit of a parameter column, for axes and captions.
pub fn param_label(name: &str) -> String {
    match name {
        "strength.hip_abductors" => "hip abductor strength (glute med + min), % of normal".into(),
        "strength.gluteus_maximus" => "glute max strength, % of normal".into(),
        "strength.gluteus_medius" => "gluteus medius strength, % of normal".into(),
        "strength.gluteus_minimus" => "gluteus minimus strength, % of normal".into(),
        "task.compensation" => "trunk-lean compensation".into(),
        "task.stance_knee_flexion_deg" => "stance knee flexion (deg)".into(),
        "subject.mass_kg" => "body mass (kg)".into(),
        _ => name.into(),
    }
}

/// Short readable name of a parameter, for legends.
pub fn param_short(name: &str) -> String {
    match name {
        "strength.hip_abductors" => "abductors".into(),
        "strength.gluteus_maximus" => "glute max".into(),
        "task.compensation" => "compensation".into(),
        _ => name.rsplit('.').next().unwrap_or(name).replace('_', " "),
    }
}

fn fmt_value(v: &str) -> String {
    match v.trim().parse::<f64>() {
        Ok(x) => format!("{}", (x * 1000.0).round() / 1000.0),
        Err(_) => v.trim().to_string(),
    }
}

/// The varying parameters of a row, e.g. "abductors 0.3, glute max 1"; "" for a single run.
///
/// Strength factors are written as percentages of normal ("abductors 30 %").
pub fn run_caption(s: &Summary, row: usize) -> String {
    caption_without(s, row, None)
}

/// One parameter's value in words: "abductors 30 %", "no trunk lean", "mass kg 60".
pub fn param_words(name: &str, value: &str) -> String {
    match (name, value.trim()) {
        ("task.compensation", "true") => "trunk lean allowed".into(),
        ("task.compensation", "false") => "no trunk lean".into(),
        (n, v) => match v.parse::<f64>() {
            Ok(x) if n.starts_with("strength.") => format!("{} {}", param_short(n), pct(Some(x))),
            _ => format!("{} {}", param_short(n), fmt_value(v)),
        },
    }
}

/// [`run_caption`] without the parameter `skip` (e.g. the one two runs differ in).
pub fn caption_without(s: &Summary, row: usize, skip: Option<usize>) -> String {
    s.varying_params()
        .iter()
        .filter(|&&i| Some(i) != skip)
        .map(|&i| param_words(&s.params[i], &s.rows[row].params[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Among `rows`, the one whose parameters other than `skip` most often equal their
/// modal values (the sweep's baseline); ties go to the first in file order.
fn most_baseline(s: &Summary, rows: &[usize], skip: &[usize]) -> Option<usize> {
    let varying = s.varying_params();
    let modal: Vec<(usize, String)> = varying
        .iter()
        .filter(|i| !skip.contains(i))
        .map(|&i| (i, s.modal_value(i)))
        .collect();
    rows.iter().copied().max_by_key(|&r| {
        let score = modal
            .iter()
            .filter(|(i, v)| s.rows[r].params[*i] == *v)
            .count();
        // max_by_key keeps the last maximum; bias toward earlier rows.
        (score, usize::MAX - r)
    })
}

fn rows_where(s: &Summary, i: usize, pick_max: bool) -> Vec<usize> {
    let vals: Vec<f64> = (0..s.rows.len())
        .filter_map(|r| s.param_f64(r, i))
        .collect();
    if vals.is_empty() {
        return Vec::new();
    }
    let target = if pick_max {
        vals.iter().cloned().fold(f64::MIN, f64::max)
    } else {
        vals.iter().cloned().fold(f64::MAX, f64::min)
    };
    (0..s.rows.len())
        .filter(|&r| s.param_f64(r, i) == Some(target))
        .collect()
}

/// The effective abductor strength of row `r`: `strength.hip_abductors` times the mean
/// of `strength.gluteus_medius` and `strength.gluteus_minimus` (each 1 when absent).
pub fn abductor_factor(s: &Summary, r: usize) -> f64 {
    let f = |name: &str| {
        s.param_index(name)
            .and_then(|i| s.param_f64(r, i))
            .unwrap_or(1.0)
    };
    f("strength.hip_abductors") * (f("strength.gluteus_medius") + f("strength.gluteus_minimus"))
        / 2.0
}

/// Pairs of rows (lean off, lean on) that differ only in `task.compensation` (column
/// `c`), in file order of the "off" run.
pub fn lean_pairs(s: &Summary, c: usize) -> Vec<(usize, usize)> {
    let others: Vec<usize> = s.varying_params().into_iter().filter(|&i| i != c).collect();
    let is = |r: usize, v: &str| s.rows[r].params[c].trim() == v;
    (0..s.rows.len())
        .filter(|&off| is(off, "false"))
        .filter_map(|off| {
            (0..s.rows.len())
                .find(|&on| {
                    is(on, "true")
                        && others
                            .iter()
                            .all(|&i| s.rows[on].params[i] == s.rows[off].params[i])
                })
                .map(|on| (off, on))
        })
        .collect()
}

/// The lean-off vs lean-on pair a compensation sweep exists to show: among pairs that
/// differ only in `task.compensation`, those where leaning changed whether the stance
/// was held (if any; else all pairs); of these the one with the weakest abductors
/// ([`abductor_factor`]); ties: the first in file order.
pub fn lean_comparison(s: &Summary) -> Option<(usize, usize)> {
    let c = s
        .param_index("task.compensation")
        .filter(|c| s.varying_params().contains(c))?;
    let pairs = lean_pairs(s, c);
    let changed: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(off, on)| s.rows[off].status.held() != s.rows[on].status.held())
        .collect();
    let pool = if changed.is_empty() { pairs } else { changed };
    pool.into_iter().min_by(|a, b| {
        abductor_factor(s, a.0)
            .total_cmp(&abductor_factor(s, b.0))
            .then(a.0.cmp(&b.0))
    })
}

/// The side-by-side comparisons this summary supports.
///
/// The rule:
/// 0. **Trunk lean off vs on**: if `task.compensation` varies, the pair chosen by
///    [`lean_comparison`] — no lean on the left, leaning on the right. It comes first:
///    it is the comparison a compensation sweep is for.
/// 1. **Strong vs weak abductors**: if `strength.hip_abductors` varies, the run with the
///    largest value (left) against the run with the smallest (right). Among runs with
///    that value, the one whose other varying parameters sit at their most common
///    value (the sweep's baseline) is taken, then the first in file order.
/// 2. **Squats vs abductor training**: if both `strength.gluteus_maximus` and
///    `strength.hip_abductors` are columns and at least one varies: the run with the
///    largest glute max strength (ties: the smallest abductor strength) on the left,
///    "squats", against the run with the largest abductor strength (ties: the smallest
///    glute max strength) on the right, "abductor training" — drawn only if the two
///    runs differ and each is stronger than the other in its own muscle group.
/// 3. **Explicit**: `explicit` (left, right) run ids, if given.
pub fn select_comparisons(
    s: &Summary,
    explicit: Option<&(String, String)>,
    summary_path: &Path,
) -> Result<Vec<Comparison>, PlotError> {
    let mut out = Vec::new();
    let abd = s.param_index("strength.hip_abductors");
    let gmax = s.param_index("strength.gluteus_maximus");
    let varying = s.varying_params();
    if let Some((off, on)) = lean_comparison(s) {
        let what = caption_without(s, off, s.param_index("task.compensation"));
        out.push(Comparison {
            stem: "compare_lean_off_vs_on".into(),
            title: if what.is_empty() {
                "Trunk lean off vs on, standing on one leg".into()
            } else {
                format!("Trunk lean off vs on ({what})")
            },
            left: off,
            right: on,
            left_label: "No trunk lean".into(),
            right_label: format!(
                "Leaning {}° over the stance leg",
                text::num(s.rows[on].metric("trunk_lean_deg"), 0)
            ),
        });
    }
    if let Some(a) = abd.filter(|a| varying.contains(a) && s.param_is_numeric(*a)) {
        let strong = most_baseline(s, &rows_where(s, a, true), &[a]);
        let weak = most_baseline(s, &rows_where(s, a, false), &[a]);
        if let (Some(l), Some(r)) = (strong, weak) {
            out.push(Comparison {
                stem: "compare_strong_vs_weak".into(),
                title: format!("Strong vs weak hip abductors, {}", task_phrase(s)),
                left: l,
                right: r,
                left_label: format!("Abductors at {}", pct(s.param_f64(l, a))),
                right_label: format!("Abductors at {}", pct(s.param_f64(r, a))),
            });
        }
    }
    if let (Some(a), Some(g)) = (abd, gmax) {
        if (varying.contains(&a) || varying.contains(&g))
            && s.param_is_numeric(a)
            && s.param_is_numeric(g)
        {
            let n = s.rows.len();
            let key = |r: usize, i: usize| s.param_f64(r, i).unwrap_or(f64::NAN);
            let pick = |main: usize, other: usize| {
                (0..n).max_by(|&x, &y| {
                    key(x, main)
                        .total_cmp(&key(y, main))
                        .then(key(y, other).total_cmp(&key(x, other)))
                        .then(y.cmp(&x))
                })
            };
            if let (Some(sq), Some(ab)) = (pick(g, a), pick(a, g)) {
                if sq != ab && key(sq, g) > key(ab, g) && key(ab, a) > key(sq, a) {
                    out.push(Comparison {
                        stem: "compare_squats_vs_abductors".into(),
                        title: "Squats (glute max) vs abductor training (glute med + min)".into(),
                        left: sq,
                        right: ab,
                        left_label: format!(
                            "Squats: glute max {}, abductors {}",
                            pct(Some(key(sq, g))),
                            pct(Some(key(sq, a)))
                        ),
                        right_label: format!(
                            "Abductor training: abductors {}, glute max {}",
                            pct(Some(key(ab, a))),
                            pct(Some(key(ab, g)))
                        ),
                    });
                }
            }
        }
    }
    if let Some((l, r)) = explicit {
        let find = |id: &String| {
            s.row_of(id).ok_or_else(|| PlotError::UnknownRun {
                run_id: id.clone(),
                path: summary_path.to_path_buf(),
            })
        };
        let (li, ri) = (find(l)?, find(r)?);
        let cap = |r: usize| {
            let c = run_caption(s, r);
            if c.is_empty() {
                s.rows[r].run_id.clone()
            } else {
                format!("{}: {c}", s.rows[r].run_id)
            }
        };
        out.push(Comparison {
            stem: format!("compare_{l}_vs_{r}"),
            title: format!("{l} vs {r}"),
            left: li,
            right: ri,
            left_label: cap(li),
            right_label: cap(ri),
        });
    }
    Ok(out)
}

/// What the runs did, for titles: "standing on one leg", "in the single-leg squat", "in
/// the step-down" (when every run did that task), else "in the tasks".
pub fn task_phrase(s: &Summary) -> &'static str {
    let first = s.rows.first().map(|r| r.task);
    if s.rows.iter().any(|r| Some(r.task) != first) {
        return "in the tasks";
    }
    match first {
        Some(TaskKind::SingleLegSquat) => "in the single-leg squat",
        Some(TaskKind::StepDown) => "in the step-down",
        _ => "standing on one leg",
    }
}

/// A strength factor as a percentage of normal with as many decimals (up to 2) as it
/// has: `Some(0.3)` -> "30 %", `Some(0.495)` -> "49.5 %", `Some(0.4965)` -> "49.65 %",
/// so that runs of a fine sweep near a threshold are never labelled alike.
pub fn pct(x: Option<f64>) -> String {
    match x {
        Some(v) => {
            let t = format!("{:.2}", v * 100.0);
            let t = t.trim_end_matches('0').trim_end_matches('.');
            let t = if t == "-0" { "0" } else { t };
            format!("{t} %")
        }
        None => "?".into(),
    }
}

/// Draw every figure for the output directory `dir` and return the files written.
///
/// Figures go to `dir/figures/`, the report to `dir/report.html`. Only recorded files
/// are read; a missing time series skips that run's per-run figures.
pub fn plot_dir(dir: &Path, opts: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    style::register_fonts().map_err(|message| PlotError::Draw {
        path: dir.to_path_buf(),
        message,
    })?;
    let mut summary = read_summary(dir)?;
    data::read_task_kinds(dir, &mut summary);
    let summary_path = dir.join("summary.csv");
    let mut series: Vec<Option<TimeSeries>> = Vec::with_capacity(summary.rows.len());
    for r in &summary.rows {
        series.push(read_timeseries(dir, &r.run_id)?);
    }
    // Older outputs: peaks and the time to the 2 cm drop from the time series.
    data::fill_from_timeseries(&mut summary, &series);
    let comparisons = select_comparisons(&summary, opts.compare.as_ref(), &summary_path)?;
    // Every input is read and checked before anything is written.
    let figdir = dir.join("figures");
    std::fs::create_dir_all(&figdir).map_err(|source| PlotError::Io {
        path: figdir.clone(),
        source,
    })?;
    let mut written: Vec<PathBuf> = Vec::new();
    let mut figs = report::Figures::default();
    let draw_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: Box<dyn std::error::Error + Send + Sync>| PlotError::Draw {
            path,
            message: e.to_string(),
        }
    };

    if summary.rows.len() >= 2 {
        let layout = figures::SweepLayout::new(&summary);
        let p = figdir.join("sweep_pelvic_drop.png");
        figures::sweep_headline(&p, &summary, &layout).map_err(draw_err(&p))?;
        figs.sweep
            .push((p.clone(), "pelvic drop against the swept parameter".into()));
        written.push(p);
        let p = figdir.join("sweep_measures.png");
        figures::sweep_measures(&p, &summary, &layout).map_err(draw_err(&p))?;
        figs.sweep.push((
            p.clone(),
            "all clinical measures against the swept parameter".into(),
        ));
        written.push(p);
        if let Some(grid) = &layout.grid {
            let p = figdir.join("sweep_heatmap.png");
            figures::heatmap(&p, &summary, grid).map_err(draw_err(&p))?;
            figs.sweep
                .push((p.clone(), "pelvic drop over the parameter grid".into()));
            written.push(p);
        }
        if series.iter().any(Option::is_some) {
            let p = figdir.join("sweep_drop_over_time.png");
            figures::sweep_over_time(&p, &summary, &series).map_err(draw_err(&p))?;
            figs.sweep
                .push((p.clone(), "pelvic drop over time, every run".into()));
            written.push(p);
        }
    }

    // Squats and step-downs: the chain against the knee's flexion, every such run.
    let dynamic: Vec<usize> = (0..summary.rows.len())
        .filter(|&r| summary.rows[r].task.is_dynamic() && series[r].is_some())
        .collect();
    let mut knee_fig = None;
    if !dynamic.is_empty() {
        let p = figdir.join("knee_flexion_chain.png");
        figures::against_knee(&p, &summary, &dynamic, &series).map_err(draw_err(&p))?;
        let what = if dynamic.len() > 1 {
            "FPPA, hip adduction and rotation and pelvic drop against the stance knee's flexion, every run (solid down, dashed up)"
        } else {
            "FPPA, hip adduction and rotation and pelvic drop against the stance knee's flexion (solid down, dashed up)"
        };
        if summary.rows.len() >= 2 {
            figs.sweep.insert(0, (p.clone(), what.into()));
        } else {
            knee_fig = Some((p.clone(), what.to_string()));
        }
        written.push(p);
    }

    for c in &comparisons {
        if let (Some(a), Some(b)) = (&series[c.left], &series[c.right]) {
            if a.has_landmarks() && b.has_landmarks() {
                let p = figdir.join(format!("{}.png", c.stem));
                body::side_by_side(&p, &summary, c, a, b).map_err(draw_err(&p))?;
                figs.compare.push((p.clone(), c.title.clone()));
                written.push(p);
            }
        }
    }

    // Demo runs first, then the rest in file order.
    let mut order: Vec<usize> = Vec::new();
    for c in &comparisons {
        for r in [c.left, c.right] {
            if !order.contains(&r) {
                order.push(r);
            }
        }
    }
    let gif_runs: Vec<usize> = if order.is_empty() {
        vec![0]
    } else {
        order.clone()
    };
    for r in 0..summary.rows.len() {
        if !order.contains(&r) {
            order.push(r);
        }
    }
    for &r in order.iter().take(opts.max_run_figures) {
        let Some(ts) = &series[r] else { continue };
        if ts.is_empty() {
            continue;
        }
        let id = summary.rows[r].run_id.clone();
        let side = data::stance_side(&summary, r, Some(ts));
        let mut run_figs = report::RunFigures {
            row: r,
            ..Default::default()
        };
        if let Some(k) = knee_fig.take() {
            run_figs.files.push(k);
        }
        let p = figdir.join(format!("{id}_measures.png"));
        figures::run_measures(&p, &summary, r, ts).map_err(draw_err(&p))?;
        run_figs
            .files
            .push((p.clone(), "clinical measures over time".into()));
        written.push(p);
        let p = figdir.join(format!("{id}_muscles.png"));
        figures::run_muscles(&p, &summary, r, ts, side).map_err(draw_err(&p))?;
        run_figs
            .files
            .push((p.clone(), "stance-side hip muscles over time".into()));
        written.push(p);
        if ts.has_landmarks() {
            for ext in ["png", "svg"] {
                let p = figdir.join(format!("{id}_frontal.{ext}"));
                body::frontal(&p, &summary, r, ts, side).map_err(draw_err(&p))?;
                if ext == "png" {
                    let when = if summary.rows[r].task.is_dynamic() {
                        format!(
                            "seen from the front at the {}, with the FPPA as a 2D camera measures it",
                            body::deepest_words(ts, body::shown_row(&summary, r, ts))
                        )
                    } else if summary.rows[r].status == RunStatus::Ok {
                        "seen from behind at steady state".into()
                    } else {
                        "seen from behind at the moment the run ended".into()
                    };
                    run_figs.files.insert(0, (p.clone(), when));
                }
                written.push(p);
            }
            if opts.gif && gif_runs.contains(&r) {
                let p = figdir.join(format!("{id}_stance.gif"));
                body::animation(&p, &summary, r, ts, side, opts.gif_max_frames)
                    .map_err(draw_err(&p))?;
                run_figs.gif = Some(p.clone());
                written.push(p);
            }
        }
        figs.runs.push(run_figs);
    }

    if opts.report {
        let p = dir.join("report.html");
        figs.viewer = viewer::data_json(dir, &summary, &series)?;
        let html = report::render(dir, &summary, &comparisons, &figs)?;
        std::fs::write(&p, html).map_err(|source| PlotError::Io {
            path: p.clone(),
            source,
        })?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod pct_tests {
    #[test]
    fn strengths_print_with_the_decimals_they_have() {
        let p = |v| super::pct(Some(v));
        assert_eq!(p(0.3), "30 %");
        assert_eq!(p(1.0), "100 %");
        assert_eq!(p(0.495), "49.5 %");
        assert_eq!(p(0.485), "48.5 %");
        assert_eq!(p(0.48), "48 %");
        assert_eq!(p(0.4965), "49.65 %");
        assert_eq!(p(-0.0), "0 %");
    }
}
