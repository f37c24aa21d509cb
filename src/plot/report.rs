//! `report.html`: one self-contained page (images embedded as data URIs) with the
//! question, the results table, the figures and a plain-language reading.

use super::data::{scenario_question, RunStatus, Summary, TaskKind};
use super::style;
use super::text::{self, num, pct_dec};
use super::{param_label, param_short, pct, run_caption, Comparison, PlotError};
use base64::Engine;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Figures of one run.
#[derive(Default)]
pub struct RunFigures {
    /// Row in the summary.
    pub row: usize,
    /// (file, caption) in display order.
    pub files: Vec<(PathBuf, String)>,
    /// The animation, if drawn.
    pub gif: Option<PathBuf>,
}

/// Everything drawn for the report.
#[derive(Default)]
pub struct Figures {
    /// Sweep figures (file, caption).
    pub sweep: Vec<(PathBuf, String)>,
    /// Side-by-side comparisons (file, title).
    pub compare: Vec<(PathBuf, String)>,
    /// Per-run figures.
    pub runs: Vec<RunFigures>,
    /// The 3D viewer's data (JSON), when some run can be drawn.
    pub viewer: Option<String>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn embed(path: &Path, caption: &str) -> Result<String, PlotError> {
    let bytes = std::fs::read(path).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mime = match path.extension().and_then(|e| e.to_str()) {
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        _ => "image/png",
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    Ok(format!(
        "<figure><img src=\"data:{mime};base64,{b64}\" alt=\"{}\"><figcaption>{} <span class=\"file\">(figures/{})</span></figcaption></figure>\n",
        esc(caption),
        esc(caption),
        esc(&name)
    ))
}

/// "the left side" etc. for the swing side of row `r`.
fn swing_word(s: &Summary, r: usize) -> &'static str {
    super::data::stance_side(s, r, None).other().word()
}

fn secs(t: f64) -> String {
    format!("{} s", num(t, 2))
}

/// What happened in run `r`, as a phrase after "the model"/"it", e.g. "kept the pelvis
/// level (drop 0.4 cm)" or "lost its balance after 0.39 s (the drop passed 2 cm after
/// 0.21 s)". A run that did not hold is described by its times, never by its drop at
/// the moment it ended, which is not comparable with a steady drop.
pub fn outcome_phrase(s: &Summary, r: usize) -> String {
    let row = &s.rows[r];
    let t2 = row
        .time_to_trendelenburg_s()
        .map(|t| format!("the drop passed 2 cm after {}", secs(t)));
    match row.status {
        RunStatus::Ok if row.task.is_dynamic() => format!(
            "completed the {} ({})",
            task_noun(row.task),
            peak_words(row)
        ),
        RunStatus::Ok => match row.metric_opt("pelvic_drop_cm") {
            Some(d) if d > style::TRENDELENBURG_CM => format!(
                "held the stance with the pelvis dropped {} cm (more than 2 cm)",
                num(d, 1)
            ),
            Some(d) => format!("kept the pelvis level (drop {} cm)", num(d.max(0.0), 1)),
            None => "held the stance".into(),
        },
        RunStatus::StillFalling => {
            let end = row
                .status_time_s
                .map(|t| format!(" at {}", secs(t)))
                .unwrap_or_default();
            match t2 {
                Some(t2) => format!("was still dropping when the run ended{end} ({t2})"),
                None => format!("was still dropping when the run ended{end} (not yet past 2 cm)"),
            }
        }
        RunStatus::LostBalance => {
            let when = row
                .fall_time_s()
                .map(|t| format!(" after {}", secs(t)))
                .unwrap_or_default();
            match t2 {
                Some(t2) => format!("lost its balance{when} ({t2})"),
                None => format!("lost its balance{when}"),
            }
        }
        RunStatus::ShortOfDepth => short_of_depth_phrase(row),
        RunStatus::Diverged => "broke down (the simulation diverged)".into(),
        RunStatus::Failed => "did not run (failed)".into(),
        RunStatus::Unknown => "ended with an unknown status".into(),
    }
}

/// "did not reach the task's depth (the stance knee reached 50.1 deg of the 60 deg squat
/// depth ...)": the status and its recorded detail, if any.
fn short_of_depth_phrase(row: &super::data::RunRow) -> String {
    let d = row.status_detail.trim();
    if d.is_empty() {
        RunStatus::ShortOfDepth.describe().into()
    } else {
        format!("{} ({d})", RunStatus::ShortOfDepth.describe())
    }
}

/// How well run `r` kept the pelvis up, for choosing the better of two runs: held runs
/// first (smaller steady drop better), then runs that did not hold, ranked by how long
/// they kept the pelvis within 2 cm and then how long until they fell. Larger is better.
pub fn rank(s: &Summary, r: usize) -> (u8, f64, f64) {
    let row = &s.rows[r];
    let end = row.status_time_s.unwrap_or(f64::INFINITY);
    match row.status {
        RunStatus::Ok => (
            2,
            -row.metric_opt(if row.task.is_dynamic() {
                "pelvic_drop_peak_cm"
            } else {
                "pelvic_drop_cm"
            })
            .unwrap_or(f64::INFINITY),
            0.0,
        ),
        RunStatus::StillFalling | RunStatus::LostBalance | RunStatus::ShortOfDepth => (
            1,
            row.time_to_trendelenburg_s().unwrap_or(end),
            if row.status != RunStatus::LostBalance {
                f64::INFINITY
            } else {
                end
            },
        ),
        _ => (0, 0.0, 0.0),
    }
}

/// Whether run `a` kept the pelvis up clearly better than run `b` (see [`rank`]):
/// a different class, or a steady drop smaller by more than 0.2 cm, or more than
/// 0.05 s longer before the drop passed 2 cm or the model fell.
pub fn clearly_better(s: &Summary, a: usize, b: usize) -> bool {
    let (x, y) = (rank(s, a), rank(s, b));
    if x.0 != y.0 {
        return x.0 > y.0;
    }
    match x.0 {
        2 => x.1 > y.1 + 0.2,
        1 => x.1 > y.1 + 0.05 || ((x.1 - y.1).abs() <= 0.05 && x.2 > y.2 + 0.05),
        _ => false,
    }
}

/// The effort sentence: the abductor moment against what the muscles could usably
/// produce (every other moment of the stance leg held), and how many of the six
/// glute med and min compartments were saturated. Older outputs without the usable
/// capacity get the moment against the all-out maximum, said to be an upper bound.
pub fn effort_sentence(s: &Summary, r: usize) -> Option<String> {
    let row = &s.rows[r];
    let when = match row.status {
        RunStatus::Ok => "At steady state",
        _ => "When the run ended",
    };
    if s.has_effort() {
        let e = row.metric_opt("hip_abductor_effort")?;
        let usable = row
            .metric_opt("hip_abductor_usable_capacity_nm_per_kg")
            .map(|u| format!(" ({} N·m/kg)", num(u, 2)))
            .unwrap_or_default();
        let sat = row.metric_opt("hip_abductors_saturated").map(|n| {
            let (count, verb) = if n.round() == 0.0 && n.abs() < 0.05 {
                ("none".to_string(), "was")
            } else if (n - 1.0).abs() < 0.05 {
                ("1".to_string(), "was")
            } else if (n - n.round()).abs() < 0.05 {
                (num(n.round(), 0), "were")
            } else {
                (format!("on average {}", num(n, 1)), "were")
            };
            format!(
                "; {count} of the 6 glute med and min compartments {verb} fully switched on (activation ≥ {})",
                style::SATURATED_ACTIVATION
            )
        });
        let head = if e >= 0.98 {
            format!("{when} the abductors were maxed out: they produced all of the abduction moment they could{usable} while every other moment of the stance leg (hip flexion and rotation, knee, ankle) stayed as it was")
        } else {
            format!("{when} the abductors produced {} of the abduction moment they could{usable} while every other moment of the stance leg (hip flexion and rotation, knee, ankle) stayed as it was", pct_dec(e, 0))
        };
        return Some(format!("{head}{}.", sat.unwrap_or_default()));
    }
    let (m, cap) = (
        row.metric_opt("hip_abductor_moment_nm_per_kg")?,
        row.metric_opt("hip_abductor_capacity_nm_per_kg")?,
    );
    (cap > 0.0).then(|| {
        format!(
            "{when} the abductors produced {} N·m/kg ({} of the all-out maximum, an upper bound not all of which is usable; this output predates the usable-capacity measure).",
            num(m, 2),
            pct_dec(m / cap, 0)
        )
    })
}

/// "With the hip abductors (glute med and min) at 30 % of normal strength" etc.: who
/// run `r` simulates, for the start of a sentence.
fn who_phrase(s: &Summary, r: usize) -> String {
    let row = &s.rows[r];
    // Effective strengths: factors multiply where a muscle is named twice
    // (`hip_abductors` x `gluteus_medius`), as the model applies them.
    let factor = |name: &str| {
        s.param_index(name)
            .and_then(|i| s.param_f64(r, i))
            .unwrap_or(1.0)
    };
    let named = |name: &str| s.param_index(name).is_some();
    if named("strength.hip_abductors")
        || named("strength.gluteus_medius")
        || named("strength.gluteus_minimus")
    {
        let abd = factor("strength.hip_abductors");
        let (med, min) = (
            abd * factor("strength.gluteus_medius"),
            abd * factor("strength.gluteus_minimus"),
        );
        let mut w = if (med - min).abs() < 1e-9 {
            format!(
                "With the hip abductors (glute med and min) at {}",
                pct(Some(med))
            )
        } else {
            format!(
                "With glute med at {} and glute min at {}",
                pct(Some(med)),
                pct(Some(min))
            )
        };
        let g = factor("strength.gluteus_maximus");
        if (g - 1.0).abs() > 1e-9 {
            let _ = write!(w, " and glute max at {}", pct(Some(g)));
        }
        w.push_str(" of normal strength");
        if let Some(m) = s
            .param_index("subject.mass_kg")
            .filter(|&i| s.varying_params().contains(&i))
        {
            let _ = write!(w, ", body mass {} kg", s.rows[r].params[m]);
        }
        if s.param_index("task.compensation")
            .is_some_and(|i| s.rows[r].params[i].trim() == "true")
        {
            let lean = row.metric("trunk_lean_deg");
            if lean.abs() < 0.5 {
                w.push_str(", allowed to lean the trunk (it did not need to)");
            } else {
                let _ = write!(
                    w,
                    ", leaning the trunk over the stance leg ({}°)",
                    num(lean, 0)
                );
            }
        }
        w
    } else {
        let c = run_caption(s, r);
        if c.is_empty() {
            "In this run".into()
        } else {
            format!("With {c}")
        }
    }
}

/// One sentence about one run, for a reader who has never seen the model.
pub fn describe_run(s: &Summary, r: usize) -> String {
    let row = &s.rows[r];
    let drop = row.metric("pelvic_drop_cm");
    let deg = row.metric("pelvic_drop_deg");
    let who = who_phrase(s, r);
    if row.task.is_dynamic() {
        return describe_dynamic_run(s, r, &who);
    }
    let mut out = match row.status {
        RunStatus::Ok if !drop.is_finite() => {
            format!("{who}, the model held the stance; the pelvic drop was not recorded.")
        }
        RunStatus::Ok if drop > style::TRENDELENBURG_CM => format!(
            "{who}, the model held the stance but the pelvis dropped {} cm ({}°) on the swing ({}) side — more than the 2 cm that clinicians call a positive Trendelenburg sign.",
            num(drop, 1),
            num(deg, 1),
            swing_word(s, r)
        ),
        RunStatus::Ok if drop > 0.3 => format!(
            "{who}, the model held the stance and the pelvis dropped {} cm ({}°) on the swing ({}) side — less than the 2 cm that would count as a positive Trendelenburg sign.",
            num(drop, 1),
            num(deg, 1),
            swing_word(s, r)
        ),
        RunStatus::Ok => format!(
            "{who}, the model held the stance and the pelvis stayed level (drop {} cm).",
            num(drop.max(0.0), 1)
        ),
        RunStatus::StillFalling => {
            let end = row
                .status_time_s
                .map(|t| format!(" at {}", secs(t)))
                .unwrap_or_default();
            let t2 = row
                .time_to_trendelenburg_s()
                .map(|t| format!(" (it had passed 2 cm after {})", secs(t)))
                .unwrap_or_else(|| " (not yet past 2 cm)".into());
            format!(
                "{who}, the foot stayed flat but the pelvis was still dropping on the swing ({}) side when the run ended{end}{t2}: it had not settled, so the stance was not shown to be held and its numbers are not a resting value.",
                swing_word(s, r)
            )
        }
        RunStatus::LostBalance => format!(
            "{who}, the model could not hold the stance: it {}.",
            outcome_phrase(s, r)
        ),
        RunStatus::ShortOfDepth => format!(
            "{who}, the model {}: the task was not done as asked, so its peaks are not comparable with those of runs that reached the depth.",
            outcome_phrase(s, r)
        ),
        RunStatus::Diverged => format!(
            "{who}, the simulation broke down (diverged), so treat its numbers with care."
        ),
        RunStatus::Failed | RunStatus::Unknown => {
            format!("{who}, the run {}.", outcome_phrase(s, r))
        }
    };
    if let Some(e) = effort_sentence(s, r) {
        out.push(' ');
        out.push_str(&e);
    }
    out
}

/// One plain sentence under a side-by-side figure saying which run came out better,
/// or `None` when they came out about the same.
pub fn takeaway(s: &Summary, c: &Comparison) -> Option<String> {
    let (l, r) = (c.left, c.right);
    if !clearly_better(s, l, r) && !clearly_better(s, r, l) {
        return None;
    }
    let verdict = |a: usize| {
        let row = &s.rows[a];
        match row.status {
            RunStatus::Ok if row.task.is_dynamic() => format!(
                "completed the {} (FPPA up to {}°)",
                task_noun(row.task),
                num(row.metric("knee_fppa_peak_deg"), 1)
            ),
            RunStatus::Ok => match row.metric_opt("pelvic_drop_cm") {
                Some(d) if d > style::TRENDELENBURG_CM => format!("let it drop {} cm", num(d, 1)),
                _ => "kept the pelvis level".to_string(),
            },
            RunStatus::StillFalling => "could not stop the drop before the run ended".into(),
            RunStatus::LostBalance => row
                .fall_time_s()
                .map(|t| format!("could not stop the drop and fell after {}", secs(t)))
                .unwrap_or_else(|| "could not stop the drop and fell".into()),
            RunStatus::ShortOfDepth => "did not reach the task's depth".into(),
            _ => "did not give a usable result".into(),
        }
    };
    Some(match c.stem.as_str() {
        "compare_squats_vs_abductors" => {
            format!("Squats {}; abductor training {}.", verdict(l), verdict(r))
        }
        "compare_strong_vs_weak" => format!(
            "Strong abductors {}; weak abductors {}.",
            verdict(l),
            verdict(r)
        ),
        "compare_lean_off_vs_on" => format!(
            "Without trunk lean the model {}; leaning over the stance leg it {}.",
            verdict(l),
            verdict(r)
        ),
        _ => format!("Left: {}. Right: {}.", verdict(l), verdict(r)),
    })
}

/// What the largest knee FPPA of the runs means, against stated thresholds: the knee
/// is said to cave in only above [`style::FPPA_VISIBLE_DEG`], the smallest FPPA a 2D
/// video measurement can tell from a straight knee.
pub fn knee_verdict(max_fppa_deg: f64) -> String {
    let (h, pf) = (style::FPPA_HEALTHY, style::FPPA_PFP);
    let v = style::FPPA_VISIBLE_DEG;
    if max_fppa_deg <= 0.5 {
        "the knee did not move inward".into()
    } else if max_fppa_deg < v {
        format!(
            "the knee moved slightly inward (toward valgus), by less than the {}° that a 2D video measurement can tell apart from a straight knee ({}), so it did not visibly cave in",
            num(v, 1),
            style::FPPA_VISIBLE_CITE
        )
    } else if max_fppa_deg < pf.0 - pf.1 {
        format!(
            "the knee caved in visibly (more than {}°), within the range of healthy people in a single-leg squat ({} ± {}°)",
            num(v, 1),
            num(h.0, 1),
            num(h.1, 1)
        )
    } else {
        format!(
            "the knee caved in as far as in people with patellofemoral pain in a single-leg squat ({} ± {}°)",
            num(pf.0, 1),
            num(pf.1, 1)
        )
    }
}

/// The knee paragraph: the largest FPPA reached in each run (`knee_fppa_peak_deg`, or
/// the recorded value where the peak is missing), read against [`knee_verdict`].
pub fn knee_sentence(s: &Summary) -> Option<String> {
    let key = if s.has_column("knee_fppa_peak_deg") {
        "knee_fppa_peak_deg"
    } else {
        "knee_fppa_deg"
    };
    let fppa: Vec<f64> = s.rows.iter().filter_map(|r| r.metric_opt(key)).collect();
    if fppa.is_empty() {
        return None;
    }
    let lo = fppa.iter().cloned().fold(f64::MAX, f64::min);
    let hi = fppa.iter().cloned().fold(f64::MIN, f64::max);
    let what = if key == "knee_fppa_peak_deg" {
        "at its largest"
    } else {
        "recorded"
    };
    let range = if (hi - lo).abs() < 0.05 || s.rows.len() == 1 {
        format!("{}°", num(hi, 1))
    } else {
        format!(
            "between {}° and {}° (depending on the run)",
            num(lo, 1),
            num(hi, 1)
        )
    };
    Some(format!(
        "The knee: its frontal plane projection angle (FPPA: how far the knee sits inside the line from hip to ankle, as a camera in front sees it; + = inward) was, {what}, {range}: {}. For comparison, healthy people reach {} ± {}° and people with patellofemoral pain {} ± {}° in a single-leg squat ({}), which bends the knee more than this stance.",
        knee_verdict(hi),
        num(style::FPPA_HEALTHY.0, 1),
        num(style::FPPA_HEALTHY.1, 1),
        num(style::FPPA_PFP.0, 1),
        num(style::FPPA_PFP.1, 1),
        style::FPPA_CITE
    ))
}

/// How a run ended, in five classes used to summarise sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Held, drop within 2 cm.
    Level,
    /// Held, drop above 2 cm.
    Dropped,
    /// Still dropping at the end.
    StillFalling,
    /// Lost balance.
    Fell,
    /// A squat or step-down that did not reach the task's depth.
    ShortOfDepth,
    /// Diverged, failed or unknown.
    Broken,
}

/// The outcome class of run `r`.
pub fn outcome(s: &Summary, r: usize) -> Outcome {
    let row = &s.rows[r];
    match row.status {
        RunStatus::Ok => {
            if row.metric("pelvic_drop_cm") > style::TRENDELENBURG_CM {
                Outcome::Dropped
            } else {
                Outcome::Level
            }
        }
        RunStatus::StillFalling => Outcome::StillFalling,
        RunStatus::LostBalance => Outcome::Fell,
        RunStatus::ShortOfDepth => Outcome::ShortOfDepth,
        _ => Outcome::Broken,
    }
}

/// The range of some times (s), e.g. "0.21 s" or "0.21–0.95 s".
fn time_range(ts: &[f64]) -> Option<String> {
    let lo = ts.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = ts.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return None;
    }
    Some(if num(lo, 2) == num(hi, 2) {
        secs(lo)
    } else {
        format!("{}–{}", num(lo, 2), secs(hi))
    })
}

/// Sentences for a sweep along one strength factor (`xs` sorted, with their rows):
/// where the pelvis stayed within 2 cm, and what happened below, as ranges of strength
/// with the times to the 2 cm drop and to the fall.
pub fn strength_sweep_sentences(s: &Summary, pts: &[(f64, usize)], muscle: &str) -> String {
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let cls: Vec<Outcome> = pts.iter().map(|p| outcome(s, p.1)).collect();
    // Enough decimals that the strengths either side of every change of outcome differ.
    let boundaries: Vec<(f64, f64)> = (1..pts.len())
        .filter(|&i| cls[i] != cls[i - 1])
        .map(|i| (xs[i - 1], xs[i]))
        .collect();
    let d = text::pct_decimals_pairs(&boundaries);
    let f = move |x: f64| pct_dec(x, d);
    let is = |o: Outcome| cls.iter().map(|c| *c == o).collect::<Vec<bool>>();
    let level = is(Outcome::Level);
    let mut t = String::new();
    let first_level = level.iter().position(|l| *l);
    let last_bad = level.iter().rposition(|l| !*l);
    let separated = match (first_level, last_bad) {
        (Some(a), Some(b)) => b < a && level[a..].iter().all(|l| *l),
        _ => false,
    };
    if separated {
        let (a, b) = (first_level.unwrap_or(0), last_bad.unwrap_or(0));
        let _ = write!(
            t,
            "The pelvis stayed within the 2 cm limit with the {muscle} at {} of normal strength or more; with {} or less it did not.",
            f(xs[a]),
            f(xs[b])
        );
    } else if first_level.is_none() {
        let _ = write!(
            t,
            "At none of the {muscle} strengths tried did the pelvis stay within the 2 cm limit."
        );
    } else if last_bad.is_none() {
        let _ = write!(
            t,
            "At every {muscle} strength tried ({}), the pelvis stayed within the 2 cm limit.",
            text::summarise_ranges(&xs, &level, 3, &f)
        );
    } else {
        let _ = write!(
            t,
            "The pelvis stayed within the 2 cm limit with the {muscle} at {}; the outcome does not change in one step with strength here, so look at the curve.",
            text::summarise_ranges(&xs, &level, 3, &f)
        );
    }
    let times = |o: Outcome, get: &dyn Fn(usize) -> Option<f64>| -> Vec<f64> {
        pts.iter()
            .zip(&cls)
            .filter(|(_, c)| **c == o)
            .filter_map(|(p, _)| get(p.1))
            .collect()
    };
    let mut parts = Vec::new();
    let dropped = is(Outcome::Dropped);
    if dropped.iter().any(|x| *x) {
        parts.push(format!(
            "at {} the model held the stance with the pelvis dropped more than 2 cm",
            text::summarise_ranges(&xs, &dropped, 3, &f)
        ));
    }
    let still = is(Outcome::StillFalling);
    if still.iter().any(|x| *x) {
        let t2 = time_range(&times(Outcome::StillFalling, &|r| {
            s.rows[r].time_to_trendelenburg_s()
        }))
        .map(|x| format!(" (the drop passed 2 cm after {x})"))
        .unwrap_or_default();
        parts.push(format!(
            "at {} the pelvis was still dropping when the run ended{t2}",
            text::summarise_ranges(&xs, &still, 3, &f)
        ));
    }
    let fell = is(Outcome::Fell);
    if fell.iter().any(|x| *x) {
        let tf = times(Outcome::Fell, &|r| s.rows[r].fall_time_s());
        let when = time_range(&tf)
            .map(|x| {
                // Sooner the weaker: fall times rising with strength.
                let rising = tf.windows(2).all(|w| w[1] >= w[0] - 1e-9) && tf.len() >= 3;
                format!(
                    " after {x}{}",
                    if rising {
                        ", the sooner the weaker"
                    } else {
                        ""
                    }
                )
            })
            .unwrap_or_default();
        let t2 = time_range(&times(Outcome::Fell, &|r| {
            s.rows[r].time_to_trendelenburg_s()
        }))
        .map(|x| format!("; the drop had passed 2 cm after {x}"))
        .unwrap_or_default();
        parts.push(format!(
            "at {} the model lost its balance{when}{t2}",
            text::summarise_ranges(&xs, &fell, 3, &f)
        ));
    }
    let short = is(Outcome::ShortOfDepth);
    if short.iter().any(|x| *x) {
        parts.push(format!(
            "at {} the knee did not reach the task's depth",
            text::summarise_ranges(&xs, &short, 3, &f)
        ));
    }
    let broken = is(Outcome::Broken);
    if broken.iter().any(|x| *x) {
        parts.push(format!(
            "at {} the run did not finish normally (diverged or failed)",
            text::summarise_ranges(&xs, &broken, 3, &f)
        ));
    }
    if !parts.is_empty() {
        let mut j = text::join_and(&parts);
        if let Some(c) = j.get(..1) {
            j = c.to_uppercase() + &j[1..];
        }
        let _ = write!(t, " {j}.");
    }
    // The reserve: a clearly weakened run that still held a level pelvis.
    if let Some(w) = pts.iter().zip(&cls).find(|(p, c)| {
        p.0 < 0.75 && **c == Outcome::Level && s.rows[p.1].metric("pelvic_drop_cm") < 1.0
    }) {
        let _ = write!(
            t,
            " Losing {} of {} strength still left the pelvis level: standing on one leg normally needs only part of what the abductors can do, so a moderate loss is absorbed by the reserve (as in people whose abductors were weakened by half with a nerve block, Kendall et al. 2013). The drop appears once the abductors can no longer produce the moment the stance needs while also doing their other jobs (they also flex and rotate the hip).",
            pct_dec(1.0 - w.0 .0, d),
            muscle.trim_end_matches('s')
        );
    }
    t
}

/// The values of parameter `i` among `rows`, as ranges over all its values in the
/// summary, e.g. "glute med 30–60 %".
fn param_ranges(s: &Summary, i: usize, rows: &[usize]) -> String {
    let name = param_short(&s.params[i]);
    let is_strength = s.params[i].starts_with("strength.");
    if s.param_is_numeric(i) {
        let mut all: Vec<f64> = (0..s.rows.len())
            .filter_map(|r| s.param_f64(r, i))
            .collect();
        all.sort_by(f64::total_cmp);
        all.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
        let flags: Vec<bool> = all
            .iter()
            .map(|v| rows.iter().any(|&r| s.param_f64(r, i) == Some(*v)))
            .collect();
        let d = text::pct_decimals(&all);
        let fmt = move |x: f64| {
            if is_strength {
                pct_dec(x, d)
            } else {
                format!("{}", (x * 1000.0).round() / 1000.0)
            }
        };
        format!("{name} {}", text::summarise_ranges(&all, &flags, 3, &fmt))
    } else {
        let mut vals: Vec<String> = rows
            .iter()
            .map(|&r| super::param_words(&s.params[i], &s.rows[r].params[i]))
            .collect();
        vals.sort();
        vals.dedup();
        vals.join(" or ")
    }
}

/// Any sweep: how many runs ended how, and where in the parameter space (as ranges
/// of each varying parameter, never a list of hundreds of runs).
pub fn sweep_counts_sentence(s: &Summary) -> String {
    let n = s.rows.len();
    let classes = [
        (
            Outcome::Level,
            "held the stance with the pelvis within 2 cm",
        ),
        (
            Outcome::Dropped,
            "held the stance with a drop of more than 2 cm",
        ),
        (
            Outcome::StillFalling,
            "were still dropping when the run ended",
        ),
        (Outcome::Fell, "lost their balance"),
        (Outcome::ShortOfDepth, "did not reach the task's depth"),
        (Outcome::Broken, "did not finish normally"),
    ];
    let varying = s.varying_params();
    let mut parts = Vec::new();
    let dynamic = s.dynamic();
    // A squat's or step-down's drop at the end (standing again) says nothing: one class.
    let class = |r: usize| match outcome(s, r) {
        Outcome::Dropped if dynamic => Outcome::Level,
        o => o,
    };
    for (o, what) in classes {
        let what = match o {
            Outcome::Level if dynamic => "completed the task",
            _ => what,
        };
        let rows: Vec<usize> = (0..n).filter(|&r| class(r) == o).collect();
        if rows.is_empty() {
            continue;
        }
        let k = rows.len();
        let head = if k == n {
            format!("All {n} runs {what}")
        } else {
            format!("{k} of {n} {what}")
        };
        let where_ = if k == n || varying.is_empty() {
            String::new()
        } else if k <= 3 {
            format!(
                " ({})",
                rows.iter()
                    .map(|&r| run_caption(s, r))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        } else {
            format!(
                " ({})",
                varying
                    .iter()
                    .map(|&i| param_ranges(s, i, &rows))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        parts.push(format!("{head}{where_}"));
    }
    let mut out = parts.join("; ");
    out.push('.');
    let t2: Vec<f64> = (0..n)
        .filter(|&r| !s.rows[r].status.held())
        .filter_map(|r| s.rows[r].time_to_trendelenburg_s())
        .collect();
    if let Some(x) = time_range(&t2) {
        let _ = write!(
            out,
            " In the runs that did not {}, the drop passed 2 cm after {x}.",
            if dynamic { "complete the task" } else { "hold" }
        );
    }
    out
}

/// The reading of the whole directory, as paragraphs.
pub fn reading(s: &Summary, comparisons: &[Comparison]) -> Vec<String> {
    if s.dynamic() {
        return dynamic_reading(s, comparisons);
    }
    let mut p = Vec::new();
    if s.rows.len() == 1 {
        p.push(describe_run(s, 0));
    }
    // Trunk lean on and off: compare runs that differ only in `task.compensation`.
    if let Some(c) = s
        .param_index("task.compensation")
        .filter(|c| s.varying_params().contains(c))
    {
        let pairs = super::lean_pairs(s, c);
        let mut lines = Vec::new();
        for &(off, on) in pairs.iter().take(6) {
            let caption = super::caption_without(s, off, Some(c));
            let better = if clearly_better(s, on, off) {
                "leaning helped"
            } else if clearly_better(s, off, on) {
                "leaning made it worse"
            } else {
                "leaning made little difference"
            };
            let lean = s.rows[on].metric("trunk_lean_deg");
            let leaning = if lean.abs() < 0.5 {
                "allowed to lean, it did not need to and".to_string()
            } else {
                format!("leaning the trunk {}° over the stance leg it", num(lean, 0))
            };
            lines.push(format!(
                "With {caption}: without leaning the model {}; {leaning} {} ({better}).",
                outcome_phrase(s, off),
                outcome_phrase(s, on),
            ));
        }
        if pairs.len() > 6 {
            let helped = pairs
                .iter()
                .filter(|&&(off, on)| clearly_better(s, on, off))
                .count();
            lines.push(format!(
                "Over all {} pairs of runs that differ only in the lean, leaning helped in {helped}.",
                pairs.len()
            ));
        }
        if !lines.is_empty() {
            p.push(format!(
                "Leaning the trunk over the stance leg (the compensated Trendelenburg) moves the upper body's weight over the hip, so the abductors have less to hold. {}",
                lines.join(" ")
            ));
        }
    }
    // Sweep over abductor strength: where does the drop pass 2 cm?
    if let Some(a) = s
        .param_index("strength.hip_abductors")
        .filter(|a| s.varying_params().contains(a) && s.param_is_numeric(*a))
    {
        let mut pts: Vec<(f64, usize)> = (0..s.rows.len())
            .filter(|&r| {
                s.varying_params()
                    .iter()
                    .filter(|&&i| i != a)
                    .all(|&i| s.rows[r].params[i] == s.modal_value(i))
            })
            .map(|r| (s.param_f64(r, a).unwrap_or(f64::NAN), r))
            .collect();
        pts.sort_by(|x, y| x.0.total_cmp(&y.0));
        if pts.len() >= 2 {
            let mut t = String::new();
            // The runs compared here have every other varying parameter at its most
            // common value; say which when that matters (e.g. no trunk lean).
            let held_fixed: Vec<String> = s
                .varying_params()
                .into_iter()
                .filter(|&i| i != a)
                .map(|i| match (s.params[i].as_str(), s.modal_value(i).trim()) {
                    ("task.compensation", "true") => "with trunk lean".to_string(),
                    ("task.compensation", _) => "without trunk lean".to_string(),
                    (p, v) => match (p.starts_with("strength."), v.parse::<f64>()) {
                        (true, Ok(x)) => {
                            format!("with {} at {}", super::param_short(p), pct(Some(x)))
                        }
                        _ => format!("with {} = {v}", super::param_short(p)),
                    },
                })
                .collect();
            if !held_fixed.is_empty() {
                let held = held_fixed.join(", ");
                let mut c = held.chars();
                let first = c.next().map(|f| f.to_uppercase().collect::<String>());
                let _ = write!(t, "{}{}: ", first.unwrap_or_default(), c.as_str());
            }
            t.push_str(&strength_sweep_sentences(s, &pts, "abductors"));
            p.push(t);
        }
    }
    for c in comparisons {
        let (l, r) = (c.left, c.right);
        if c.stem == "compare_squats_vs_abductors" {
            let better = if clearly_better(s, r, l) {
                "Training the abductors helped more than squats"
            } else if clearly_better(s, l, r) {
                "Here squats helped more than abductor training"
            } else {
                "Both came out about the same"
            };
            p.push(format!(
                "Squats vs abductor training. {}: the model {}. {}: the model {}. {better}: squats mostly strengthen glute max, whose fibres run largely into the iliotibial band and barely hold the pelvis sideways, while glute med and min are the muscles that keep it level.",
                c.left_label,
                outcome_phrase(s, l),
                c.right_label,
                outcome_phrase(s, r)
            ));
        } else {
            p.push(format!(
                "{}. {}: the model {}. {}: the model {}.",
                c.title,
                c.left_label,
                outcome_phrase(s, l),
                c.right_label,
                outcome_phrase(s, r)
            ));
        }
    }
    // Any sweep: how the runs ended, as counts and parameter ranges.
    if s.rows.len() > 1 {
        p.push(sweep_counts_sentence(s));
    }
    if let Some(k) = knee_sentence(s) {
        p.push(k);
    }
    p
}

/// The task as a noun: "single-leg squat", "step-down", "stance".
pub fn task_noun(t: TaskKind) -> &'static str {
    match t {
        TaskKind::SingleLegSquat => "single-leg squat",
        TaskKind::StepDown => "step-down",
        TaskKind::SingleLegStance => "stance",
    }
}

/// "largest FPPA 8.4°, pelvic drop 1.3°" for a squat or step-down.
fn peak_words(row: &super::data::RunRow) -> String {
    format!(
        "largest FPPA {}°, pelvic drop {}°",
        num(row.metric("knee_fppa_peak_deg"), 1),
        num(row.metric("pelvic_drop_peak_deg"), 1)
    )
}

/// One run of a squat or a step-down: its whole-run peaks if it completed the task,
/// else how it ended (its peaks then include the failure and are not compared).
fn describe_dynamic_run(s: &Summary, r: usize, who: &str) -> String {
    let row = &s.rows[r];
    let kf = num(row.metric("knee_flexion_peak_deg"), 0);
    match row.status {
        RunStatus::Ok => format!(
            "{who}, the model completed the {}: the knee bent to {kf}°; at their largest, the FPPA was {}° (the knee {} mm inside the hip-ankle line), hip adduction {}°, hip internal rotation {}° and pelvic drop {}° ({} cm); glute med's activation peaked at {}.",
            task_noun(row.task),
            num(row.metric("knee_fppa_peak_deg"), 1),
            num(row.metric("knee_medial_shift_peak_mm"), 0),
            num(row.metric("hip_adduction_peak_deg"), 1),
            num(row.metric("hip_internal_rotation_peak_deg"), 1),
            num(row.metric("pelvic_drop_peak_deg"), 1),
            num(row.metric("pelvic_drop_peak_cm"), 1),
            num(row.metric("glut_med_activation_peak"), 2)
        ),
        _ => format!(
            "{who}, the model {}; the knee had bent to {kf}°. Its largest values include the failure, so they are not compared with those of the runs that completed the task.",
            outcome_phrase(s, r)
        ),
    }
}

/// How a whole-run peak changed across the abductor strengths of the runs that completed
/// the task.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trend {
    /// Changed by less than the tolerance given to [`trend`].
    Flat,
    /// Larger the weaker the abductors (every step, within 0.2).
    GrowsAsWeaker,
    /// Smaller the weaker the abductors.
    ShrinksAsWeaker,
    /// Up and down.
    Mixed,
}

/// The trend of `pts` (abductor strength, value), any order: [`Trend::Flat`] when the
/// values span less than `flat`.
pub fn trend(pts: &[(f64, f64)], flat: f64) -> Trend {
    let mut v: Vec<(f64, f64)> = pts.iter().copied().filter(|p| p.1.is_finite()).collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let lo = v.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = v.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if v.len() < 2 || hi - lo < flat {
        return Trend::Flat;
    }
    let tol = 0.2;
    if v.windows(2).all(|w| w[1].1 >= w[0].1 - tol) {
        Trend::GrowsAsWeaker
    } else if v.windows(2).all(|w| w[1].1 <= w[0].1 + tol) {
        Trend::ShrinksAsWeaker
    } else {
        Trend::Mixed
    }
}

/// "8.4°" or "8.3–8.5°": the range of some values.
fn deg_range(v: &[f64], decimals: usize) -> String {
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if num(lo, decimals) == num(hi, decimals) {
        format!("{}°", num(lo, decimals))
    } else {
        format!("{}–{}°", num(lo, decimals), num(hi, decimals))
    }
}

/// Where FPPA values sit against the healthy control band of the single-leg squat.
fn fppa_band_words(v: &[f64]) -> String {
    let (m, sd) = style::FPPA_HEALTHY;
    let (a, b) = (m - sd, m + sd);
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let place = if lo >= a && hi <= b {
        "within"
    } else if lo > b {
        "above"
    } else if hi < a {
        "below"
    } else {
        "partly within"
    };
    format!(
        "{place} the healthy control band for the single-leg squat, {} ± {}° ({}–{}°; Herrington 2014, Knee 21:514)",
        num(m, 1),
        num(sd, 1),
        num(a, 1),
        num(b, 1)
    )
}

/// The chain a squat or a step-down can show, in general; what a run showed comes after.
fn chain_paragraph(task: TaskKind) -> String {
    format!(
        "What the {} asks of the hip: the stance knee and hip bend, and with the hip flexed the front (anterior) fibres of gluteus medius and minimus pass in front of the hip's axis of rotation, so they turn the thigh inward as well as holding the pelvis up. When the abductors cannot hold the pelvis and the femur, the pelvis drops on the swing side, the femur adducts and rotates inward, the knee moves toward the midline and the frontal plane projection angle (FPPA) that a camera in front of the person measures gets larger. That is the chain the model can show; what it did show is below.",
        task_noun(task)
    )
}

/// The reading of a squat or step-down directory: the chain, then what this run or
/// sweep showed, with the whole-run peaks of the runs that completed the task, the FPPA
/// against the healthy band and the 2D camera's smallest detectable difference, and
/// the runs that did not complete the task.
pub fn dynamic_reading(s: &Summary, comparisons: &[Comparison]) -> Vec<String> {
    let mut p = Vec::new();
    let task = s.rows[0].task;
    p.push(chain_paragraph(task));
    let sdd = format!(
        "{}–{}°",
        num(style::FPPA_VISIBLE_DEG, 1),
        num(style::FPPA_SDD_HIGH_DEG, 1)
    );
    if s.rows.len() == 1 {
        let row = &s.rows[0];
        let mut t = describe_run(s, 0);
        if row.status == RunStatus::Ok {
            if let Some(f) = row.metric_opt("knee_fppa_peak_deg") {
                let _ = write!(
                    t,
                    " That largest FPPA, {}°, is {}. One run cannot say whether weaker abductors would change it: that takes a sweep, and a change smaller than {sdd} (the smallest difference a 2D camera measurement can detect, Munro 2012) would not be visible in a clinic.",
                    num(f, 1),
                    fppa_band_words(&[f])
                );
            }
        }
        p.push(t);
        return p;
    }
    let abd = s
        .param_index("strength.hip_abductors")
        .filter(|a| s.varying_params().contains(a) && s.param_is_numeric(*a));
    if let Some(a) = abd {
        let mut pts: Vec<(f64, usize)> = (0..s.rows.len())
            .filter(|&r| {
                s.varying_params()
                    .iter()
                    .filter(|&&i| i != a)
                    .all(|&i| s.rows[r].params[i] == s.modal_value(i))
            })
            .map(|r| (s.param_f64(r, a).unwrap_or(f64::NAN), r))
            .collect();
        pts.sort_by(|x, y| x.0.total_cmp(&y.0));
        p.push(dynamic_strength_sentences(s, &pts, &sdd));
    }
    for c in comparisons {
        p.push(format!(
            "{}. {}: the model {}. {}: the model {}.",
            c.title,
            c.left_label,
            outcome_phrase(s, c.left),
            c.right_label,
            outcome_phrase(s, c.right)
        ));
    }
    p.push(sweep_counts_sentence(s));
    p
}

/// What a sweep of abductor strength (`pts`: strength, row; sorted) showed in a squat or
/// step-down: the peaks of the runs that completed the task and their trend, never more
/// than they show (flat is called flat, a failure below flat values a cliff), then the
/// runs that did not complete it.
pub fn dynamic_strength_sentences(s: &Summary, pts: &[(f64, usize)], sdd: &str) -> String {
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let ok: Vec<bool> = pts.iter().map(|p| s.rows[p.1].status.held()).collect();
    let d = text::pct_decimals(&xs);
    let f = move |x: f64| pct_dec(x, d);
    let noun = task_noun(s.rows[pts[0].1].task);
    let mut t = String::new();
    let held: Vec<(f64, usize)> = pts
        .iter()
        .copied()
        .filter(|p| s.rows[p.1].status.held())
        .collect();
    if held.is_empty() {
        let _ = write!(
            t,
            "In this sweep no run completed the {noun}, so there are no comparable peaks."
        );
    } else {
        let strengths = text::summarise_ranges(&xs, &ok, 3, &f);
        let vals = |k: &str| -> Vec<(f64, f64)> {
            held.iter().map(|p| (p.0, s.rows[p.1].metric(k))).collect()
        };
        let only = |v: &[(f64, f64)]| v.iter().map(|p| p.1).collect::<Vec<f64>>();
        let fppa = vals("knee_fppa_peak_deg");
        let fv = only(&fppa);
        let ft = trend(&fppa, 1.0);
        let spread = fv.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            - fv.iter().cloned().fold(f64::INFINITY, f64::min);
        let at = |v: &[(f64, f64)], pick_strong: bool| {
            let p = if pick_strong {
                v.iter().max_by(|a, b| a.0.total_cmp(&b.0))
            } else {
                v.iter().min_by(|a, b| a.0.total_cmp(&b.0))
            };
            p.map(|p| (p.0, p.1)).unwrap_or((f64::NAN, f64::NAN))
        };
        let (s0, v0) = at(&fppa, true);
        let (s1, v1) = at(&fppa, false);
        let fppa_words = match ft {
            Trend::Flat => format!(
                "the largest FPPA was {} at every abductor strength that completed the {noun} ({strengths}): it did not grow as the abductors weakened",
                deg_range(&fv, 1)
            ),
            _ if spread < style::FPPA_VISIBLE_DEG => format!(
                "the largest FPPA was {} over the abductor strengths that completed the {noun} ({strengths}); it changed by {}°, less than the {sdd} a 2D camera can detect (Munro 2012), so a clinician would not see the difference",
                deg_range(&fv, 1),
                num(spread, 1)
            ),
            Trend::GrowsAsWeaker => format!(
                "the largest FPPA grew from {}° with the abductors at {} to {}° at {} ({strengths} completed the {noun}), by more than the {sdd} a 2D camera can detect (Munro 2012)",
                num(v0, 1),
                f(s0),
                num(v1, 1),
                f(s1)
            ),
            Trend::ShrinksAsWeaker => format!(
                "the largest FPPA fell from {}° with the abductors at {} to {}° at {} ({strengths} completed the {noun})",
                num(v0, 1),
                f(s0),
                num(v1, 1),
                f(s1)
            ),
            Trend::Mixed => format!(
                "the largest FPPA went up and down between {} over the strengths that completed the {noun} ({strengths})",
                deg_range(&fv, 1)
            ),
        };
        let _ = write!(
            t,
            "In this sweep {fppa_words}. It was {}.",
            fppa_band_words(&fv)
        );
        // The other links of the chain, as measured.
        let mut other = Vec::new();
        for (k, what) in [
            ("pelvic_drop_peak_deg", "pelvic drop"),
            ("hip_adduction_peak_deg", "hip adduction"),
            ("hip_internal_rotation_peak_deg", "hip internal rotation"),
        ] {
            let v = vals(k);
            let vv = only(&v);
            if vv.iter().all(|x| !x.is_finite()) {
                continue;
            }
            let (sa, va) = at(&v, true);
            let (sb, vb) = at(&v, false);
            other.push(match trend(&v, 1.0) {
                Trend::Flat => format!("{what} {} (flat)", deg_range(&vv, 1)),
                Trend::GrowsAsWeaker => format!(
                    "{what} rising from {}° at {} to {}° at {}",
                    num(va, 1),
                    f(sa),
                    num(vb, 1),
                    f(sb)
                ),
                Trend::ShrinksAsWeaker => format!(
                    "{what} falling from {}° at {} to {}° at {}",
                    num(va, 1),
                    f(sa),
                    num(vb, 1),
                    f(sb)
                ),
                Trend::Mixed => format!("{what} {} (up and down)", deg_range(&vv, 1)),
            });
        }
        if !other.is_empty() {
            let _ = write!(
                t,
                " The rest of the chain in the same runs, at its largest: {}.",
                text::join_and(&other)
            );
        }
        let act = vals("glut_med_activation_peak");
        let (sa, va) = at(&act, true);
        let (sb, vb) = at(&act, false);
        if va.is_finite() && vb.is_finite() && vb > va + 0.05 {
            let head = if spread < style::FPPA_VISIBLE_DEG {
                "What changed instead was the effort: glute med's"
            } else {
                "Glute med's"
            };
            let _ = write!(
                t,
                " {head} largest activation rose from {} at {} to {} at {}.",
                num(va, 2),
                f(sa),
                num(vb, 2),
                f(sb)
            );
        }
        let weakest_ok = held.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let failed: Vec<&(f64, usize)> =
            pts.iter().filter(|p| !s.rows[p.1].status.held()).collect();
        let all_below = !failed.is_empty() && failed.iter().all(|p| p.0 < weakest_ok);
        if spread < style::FPPA_VISIBLE_DEG && all_below {
            let _ = write!(
                t,
                " So the knee did not cave in gradually as the abductors weakened: the FPPA stayed flat while they could still hold the pelvis and the femur, and below {} the runs failed outright — a cliff, not a slope.",
                f(weakest_ok)
            );
            if ft == Trend::Flat {
                let _ = write!(
                    t,
                    " Whatever produced the FPPA these runs did reach, it was not abductor weakness: the value was the same at full strength."
                );
            }
        }
    }
    // The runs that did not complete the task.
    let mut parts = Vec::new();
    let is =
        |st: RunStatus| -> Vec<bool> { pts.iter().map(|p| s.rows[p.1].status == st).collect() };
    let times = |st: RunStatus, get: &dyn Fn(usize) -> Option<f64>| -> Vec<f64> {
        pts.iter()
            .filter(|p| s.rows[p.1].status == st)
            .filter_map(|p| get(p.1))
            .collect()
    };
    let still = is(RunStatus::StillFalling);
    if still.iter().any(|x| *x) {
        let t2 = time_range(&times(RunStatus::StillFalling, &|r| {
            s.rows[r].time_to_trendelenburg_s()
        }))
        .map(|x| format!(" (past 2 cm after {x})"))
        .unwrap_or_default();
        parts.push(format!(
            "at {} the pelvis was still dropping when the run ended{t2}",
            text::summarise_ranges(&xs, &still, 3, &f)
        ));
    }
    let fell = is(RunStatus::LostBalance);
    if fell.iter().any(|x| *x) {
        let tf = time_range(&times(RunStatus::LostBalance, &|r| s.rows[r].fall_time_s()))
            .map(|x| format!(" after {x}"))
            .unwrap_or_default();
        parts.push(format!(
            "at {} the model lost its balance{tf}",
            text::summarise_ranges(&xs, &fell, 3, &f)
        ));
    }
    let short = is(RunStatus::ShortOfDepth);
    if short.iter().any(|x| *x) {
        parts.push(format!(
            "at {} the knee did not reach the task's depth",
            text::summarise_ranges(&xs, &short, 3, &f)
        ));
    }
    let broken: Vec<bool> = pts
        .iter()
        .map(|p| {
            matches!(
                s.rows[p.1].status,
                RunStatus::Diverged | RunStatus::Failed | RunStatus::Unknown
            )
        })
        .collect();
    if broken.iter().any(|x| *x) {
        parts.push(format!(
            "at {} the run did not finish normally",
            text::summarise_ranges(&xs, &broken, 3, &f)
        ));
    }
    if !parts.is_empty() {
        let j = text::join_and(&parts);
        let _ = write!(t, " The runs that did not complete the {noun}: {j}.");
    }
    t
}

/// The results table lists at most this many runs (evenly spaced).
const MAX_TABLE_ROWS: usize = 60;

const CSS: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.8em}h2{margin-top:2em;border-bottom:2px solid #ddd}
.question{font-size:1.25em;background:#f3f6fb;border-left:6px solid #1f64be;padding:.8em 1em}
.reading p{font-size:1.15em}
table{border-collapse:collapse;font-size:.95em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4}td.id{text-align:left}.bad{color:#c00000;font-weight:bold}
figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555}.file{color:#999;font-size:.85em}
dt{font-weight:bold}";

/// Render the whole page.
pub fn render(
    dir: &Path,
    s: &Summary,
    comparisons: &[Comparison],
    figs: &Figures,
) -> Result<String, PlotError> {
    let mut h = String::new();
    let question = scenario_question(dir).unwrap_or_else(|| {
        "When a person stands on one leg, does the pelvis stay level — and how does that depend on the strength of the hip abductors (gluteus medius and minimus)?".into()
    });
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\"><title>hipdrop report: {}</title><style>{CSS}{}</style></head><body>\n",
        esc(&crate::plot::data::scenario_name(dir)),
        if figs.viewer.is_some() {
            super::viewer::STYLE
        } else {
            ""
        }
    );
    let _ = write!(
        h,
        "<h1>Hip drop: what the simulation shows ({})</h1>\n<p class=\"question\">{}</p>\n",
        esc(&crate::plot::body::task_words(
            s.rows
                .first()
                .map_or(crate::plot::data::TaskKind::SingleLegStance, |r| r.task)
        )
        .to_lowercase()),
        esc(&question)
    );
    if let Some(d) = &figs.viewer {
        h.push_str(&super::viewer::section(d));
    } else {
        h.push_str("<p class=\"file\">No 3D view: no run has the recorded files the viewer draws from (<code>timeseries.csv</code> and <code>kinematics.mot</code>; a scenario run with <code>output.timeseries = false</code> writes neither).</p>\n");
    }
    h.push_str("<h2>In plain words</h2>\n<div class=\"reading\">\n");
    for p in reading(s, comparisons) {
        let _ = writeln!(h, "<p>{}</p>", esc(&p));
    }
    if s.rows.len() > 1 && s.rows.len() <= 12 {
        h.push_str("<p>Run by run:</p><ul>\n");
        for r in 0..s.rows.len() {
            let _ = writeln!(h, "<li>{}</li>", esc(&describe_run(s, r)));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</div>\n");

    // Results table.
    h.push_str("<h2>Results</h2>\n<table><tr><th>run</th>");
    let varying = s.varying_params();
    let shown: Vec<usize> = if varying.is_empty() {
        (0..s.params.len())
            .filter(|&i| s.params[i].starts_with("strength."))
            .collect()
    } else {
        varying
    };
    for &i in &shown {
        let _ = write!(h, "<th>{}</th>", esc(&param_label(&s.params[i])));
    }
    // Steady-state columns are filled only for runs that held the stance; the peak
    // and time columns are comparable for every run.
    let cols: &[(&str, &str, bool)] = &[
        ("pelvic_drop_cm", "pelvic drop, steady (cm)", true),
        ("pelvic_drop_peak_cm", "pelvic drop, peak (cm)", false),
        ("time_to_trendelenburg_s", "time to 2 cm drop (s)", false),
        ("hip_adduction_deg", "hip adduction, steady (deg)", true),
        (
            "hip_internal_rotation_deg",
            "hip int. rotation, steady (deg)",
            true,
        ),
        ("knee_fppa_peak_deg", "knee FPPA, peak (deg)", false),
        ("trunk_lean_deg", "trunk lean, steady (deg)", true),
        ("hip_contact_force_bw", "hip force, steady (x BW)", true),
    ];
    // Squats and step-downs: whole-run peaks, of the runs that completed the task.
    let dyn_cols: &[(&str, &str, bool)] = &[
        ("pelvic_drop_peak_deg", "pelvic drop, largest (deg)", true),
        ("pelvic_drop_peak_cm", "pelvic drop, largest (cm)", true),
        ("time_to_trendelenburg_s", "time to 2 cm drop (s)", false),
        (
            "hip_adduction_peak_deg",
            "hip adduction, largest (deg)",
            true,
        ),
        (
            "hip_internal_rotation_peak_deg",
            "hip int. rotation, largest (deg)",
            true,
        ),
        ("knee_fppa_peak_deg", "knee FPPA, largest (deg)", true),
        ("knee_flexion_peak_deg", "knee flexion reached (deg)", false),
        (
            "glut_med_activation_peak",
            "glute med activation, largest",
            true,
        ),
    ];
    let dynamic = s.dynamic();
    let cols = if dynamic { dyn_cols } else { cols };
    let cols: Vec<&(&str, &str, bool)> = cols.iter().filter(|c| s.has_column(c.0) || c.2).collect();
    for (_, t, _) in &cols {
        let _ = write!(h, "<th>{t}</th>");
    }
    let effort_head = if s.has_effort() {
        "abductor effort (moment / usable capacity)</th><th>compartments saturated (of 6)"
    } else {
        "abductor moment / all-out maximum (not all usable)"
    };
    if dynamic {
        let _ = writeln!(h, "<th>outcome</th></tr>");
    } else {
        let _ = writeln!(h, "<th>{effort_head}</th><th>outcome</th></tr>");
    }
    // A very large sweep: every k-th run, so the page stays readable; summary.csv has all.
    let n = s.rows.len();
    let shown_rows: Vec<usize> = if n <= MAX_TABLE_ROWS {
        (0..n).collect()
    } else {
        (0..MAX_TABLE_ROWS)
            .map(|k| k * (n - 1) / (MAX_TABLE_ROWS - 1))
            .collect()
    };
    for &r in &shown_rows {
        let row = &s.rows[r];
        let _ = write!(h, "<tr><td class=\"id\">{}</td>", esc(&row.run_id));
        for &i in &shown {
            // Strength factors as percentages, as the column title says.
            let v = match s.param_f64(r, i) {
                Some(x) if s.params[i].starts_with("strength.") => pct(Some(x)),
                _ => row.params[i].clone(),
            };
            let _ = write!(h, "<td>{}</td>", esc(&v));
        }
        for (k, _, steady) in &cols {
            let v = if *steady {
                row.steady(k)
            } else {
                row.metric_opt(k)
            };
            let cell = match v {
                Some(v) if *k == "time_to_trendelenburg_s" => num(v, 2),
                Some(v) if *k == "glut_med_activation_peak" => num(v, 2),
                Some(v) => num(v, 1),
                None if *k == "time_to_trendelenburg_s" => "never".into(),
                None => "–".into(),
            };
            let bad = match *k {
                "pelvic_drop_cm" | "pelvic_drop_peak_cm" => {
                    v.is_some_and(|v| v > style::TRENDELENBURG_CM)
                }
                "time_to_trendelenburg_s" => v.is_some(),
                _ => false,
            };
            if bad {
                let _ = write!(h, "<td class=\"bad\">{cell}</td>");
            } else {
                let _ = write!(h, "<td>{cell}</td>");
            }
        }
        if dynamic {
        } else if s.has_effort() {
            let e = row
                .metric_opt("hip_abductor_effort")
                .map(|e| pct_dec(e, 0))
                .unwrap_or_else(|| "–".into());
            let n = row
                .metric_opt("hip_abductors_saturated")
                .map(|n| num(n, if (n - n.round()).abs() < 0.05 { 0 } else { 1 }))
                .unwrap_or_else(|| "–".into());
            let _ = write!(h, "<td>{e}</td><td>{n}</td>");
        } else {
            let (m, c) = (
                row.metric("hip_abductor_moment_nm_per_kg"),
                row.metric("hip_abductor_capacity_nm_per_kg"),
            );
            let eff = if m.is_finite() && c > 0.0 {
                pct_dec(m / c, 0)
            } else {
                "–".into()
            };
            let _ = write!(h, "<td>{eff}</td>");
        }
        let mut outcome = row.status_words().to_string();
        if let Some(t) = row.status_time_s.filter(|_| row.status != RunStatus::Ok) {
            let _ = write!(outcome, " at {}", secs(t));
        }
        let cls = if row.status == RunStatus::Ok {
            ""
        } else {
            " class=\"bad\""
        };
        let _ = writeln!(h, "<td{cls}>{}</td></tr>", esc(&outcome));
    }
    h.push_str("</table>\n");
    if shown_rows.len() < n {
        let _ = writeln!(
            h,
            "<p>{} of the {n} runs are shown, evenly spaced; <code>summary.csv</code> has every run.</p>",
            shown_rows.len()
        );
    }
    if dynamic {
        h.push_str("<p>A squat or step-down has no steady state: each value is the largest during the run, shown only for the runs that completed the task (–: the run did not, so its largest values include the failure and are not comparable). The time until the pelvic drop passed 2 cm and the knee flexion reached mean the same for every run.</p>\n");
    } else {
        h.push_str("<p>Steady values are averages over the last part of a run that held the stance; a run that lost its balance or was still dropping at the end has no steady state, so those cells are empty (–). The time until the pelvic drop passed 2 cm means the same for every run; a peak is the largest value during the run (for a run that fell, before the fall). Red: pelvic drop above the 2 cm Trendelenburg line.</p>\n");
    }

    if !figs.compare.is_empty() {
        h.push_str("<h2>Side by side</h2>\n");
        for (p, t) in &figs.compare {
            h.push_str(&embed(p, t)?);
        }
    }
    if !figs.sweep.is_empty() {
        h.push_str("<h2>Across all runs</h2>\n");
        for (p, t) in &figs.sweep {
            h.push_str(&embed(p, t)?);
        }
    }
    // Embed every run's figures for a handful of runs; in a larger sweep only the demo
    // runs' (those with an animation), and list the rest as files, so the page stays small.
    let embed_all = figs.runs.len() <= 4;
    let others: Vec<&RunFigures> = figs
        .runs
        .iter()
        .filter(|rf| !embed_all && rf.gif.is_none())
        .collect();
    for rf in figs.runs.iter().filter(|rf| embed_all || rf.gif.is_some()) {
        let row = &s.rows[rf.row];
        let cap = run_caption(s, rf.row);
        let _ = writeln!(
            h,
            "<h2>Run {}{}</h2>\n<p>{}</p>",
            esc(&row.run_id),
            if cap.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&cap))
            },
            esc(&describe_run(s, rf.row))
        );
        if let Some(g) = &rf.gif {
            let what = match row.task {
                super::data::TaskKind::SingleLegStance => {
                    "the stance from its start, seen from behind (animated)".to_string()
                }
                t => format!(
                    "the whole {}, seen from the front: down, back up and standing, the last frame held (animated, half speed)",
                    super::body::task_words(t).to_lowercase()
                ),
            };
            h.push_str(&embed(g, &what)?);
        }
        for (p, t) in &rf.files {
            h.push_str(&embed(p, t)?);
        }
    }
    if !others.is_empty() {
        h.push_str("<h2>Other runs</h2>\n<p>Their figures are next to this page, in <code>figures/</code>:</p>\n<ul>\n");
        for rf in others {
            let _ = write!(
                h,
                "<li>{}: {}",
                esc(&s.rows[rf.row].run_id),
                esc(&describe_run(s, rf.row))
            );
            for (p, t) in &rf.files {
                if let Some(n) = p.file_name() {
                    let n = esc(&n.to_string_lossy());
                    let _ = write!(h, " <a href=\"figures/{n}\">{}</a>", esc(t));
                }
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n");
    }
    h.push_str(
        "<h2>Words used here</h2>\n<dl>\n\
<dt>Stance leg / swing leg</dt><dd>The leg standing on the ground (blue in the pictures) / the lifted leg (orange).</dd>\n\
<dt>Hip abductors</dt><dd>Gluteus medius and minimus, on the side of the hip. Standing on one leg, they hold the pelvis level against the weight of the body on the other side.</dd>\n\
<dt>Pelvic drop</dt><dd>How much lower the pelvis is on the swing side than on the stance side, measured at the front hip bones (ASIS).</dd>\n\
<dt>Trendelenburg sign</dt><dd>Clinicians call it positive when the swing side drops more than 2 cm (Hardcastle &amp; Nade 1985).</dd>\n\
<dt>FPPA</dt><dd>Frontal plane projection angle of the knee: how far the knee falls inward, as a camera in front sees it.</dd>\n\
<dt>Squats</dt><dd>Mostly train gluteus maximus, quadriceps and hamstrings; in the model, a stronger gluteus maximus.</dd>\n</dl>\n",
    );
    let _ = writeln!(
        h,
        "<p class=\"file\">Generated by hipdrop {} from the recorded files of scenario {} in this directory; no simulation was run to draw it. Parameters: {}.</p>\n</body></html>",
        env!("CARGO_PKG_VERSION"),
        esc(&crate::plot::data::scenario_name(dir)),
        esc(&s.params.iter().map(|p| param_short(p)).collect::<Vec<_>>().join(", "))
    );
    Ok(h)
}
