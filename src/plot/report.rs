//! `report.html`: one self-contained page (images embedded as data URIs) with the
//! question, the results table, the figures and a plain-language reading.

use super::data::{scenario_question, RunStatus, Summary};
use super::style;
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

/// One sentence about one run, for a reader who has never seen the model.
pub fn describe_run(s: &Summary, r: usize) -> String {
    let row = &s.rows[r];
    let drop = row.metric("pelvic_drop_cm");
    let deg = row.metric("pelvic_drop_deg");
    // Effective strengths: factors multiply where a muscle is named twice
    // (`hip_abductors` x `gluteus_medius`), as the model applies them.
    let factor = |name: &str| {
        s.param_index(name)
            .and_then(|i| s.param_f64(r, i))
            .unwrap_or(1.0)
    };
    let named = |name: &str| s.param_index(name).is_some();
    let who = if named("strength.hip_abductors")
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
            let _ = write!(
                w,
                ", leaning the trunk over the stance leg ({:.0}°)",
                row.metric("trunk_lean_deg")
            );
        }
        w
    } else {
        let c = run_caption(s, r);
        if c.is_empty() {
            "In this run".into()
        } else {
            format!("With {c}")
        }
    };
    let mut out = if !drop.is_finite() {
        format!("{who}, the pelvic drop was not recorded.")
    } else if drop > style::TRENDELENBURG_CM {
        format!(
            "{who}, the pelvis dropped {drop:.1} cm ({deg:.1}°) on the swing ({}) side — more than the 2 cm that clinicians call a positive Trendelenburg sign.",
            swing_word(s, r)
        )
    } else if drop > 0.3 {
        format!(
            "{who}, the pelvis dropped {drop:.1} cm ({deg:.1}°) on the swing ({}) side — less than the 2 cm that would count as a positive Trendelenburg sign.",
            swing_word(s, r)
        )
    } else {
        format!(
            "{who}, the pelvis stayed level (drop {:.1} cm).",
            drop.max(0.0)
        )
    };
    let (m, cap) = (
        row.metric("hip_abductor_moment_nm_per_kg"),
        row.metric("hip_abductor_capacity_nm_per_kg"),
    );
    if m.is_finite() && cap.is_finite() && cap > 0.0 {
        let use_pct = 100.0 * m / cap;
        if use_pct > 95.0 {
            let _ = write!(
                out,
                " The abductors were maxed out ({use_pct:.0} % of what they can produce)."
            );
        } else {
            let _ = write!(
                out,
                " The abductors used {use_pct:.0} % of what they can produce."
            );
        }
    }
    match row.status {
        RunStatus::LostBalance => {
            let _ = write!(
                out,
                " The model could not hold the stance and lost its balance{}.",
                row.status_time_s
                    .map(|t| format!(" after {t:.2} s"))
                    .unwrap_or_default()
            );
        }
        RunStatus::Diverged => {
            out.push_str(" The simulation broke down (diverged), so treat these numbers with care.")
        }
        _ => {}
    }
    out
}

/// One plain sentence under a side-by-side figure saying which run came out better,
/// or `None` when they came out about the same.
pub fn takeaway(s: &Summary, c: &Comparison) -> Option<String> {
    let held = |r: usize| s.rows[r].status == RunStatus::Ok;
    let drop = |r: usize| s.rows[r].metric("pelvic_drop_cm");
    let ok = |r: usize| held(r) && drop(r) <= style::TRENDELENBURG_CM;
    let (l, r) = (c.left, c.right);
    let (ld, rd) = (drop(l), drop(r));
    let verdict = |a: usize| {
        if ok(a) {
            "kept the pelvis level".to_string()
        } else if held(a) {
            format!("let it drop {:.1} cm", drop(a))
        } else {
            "could not stop the drop, and the model lost its balance".to_string()
        }
    };
    if ok(l) == ok(r) && held(l) == held(r) && (ld - rd).abs() < 0.3 {
        return None;
    }
    if c.stem == "compare_squats_vs_abductors" {
        Some(format!(
            "Squats {}; abductor training {}.",
            verdict(l),
            verdict(r)
        ))
    } else if c.stem == "compare_strong_vs_weak" {
        Some(format!(
            "Strong abductors {}; weak abductors {}.",
            verdict(l),
            verdict(r)
        ))
    } else {
        Some(format!("Left: {}. Right: {}.", verdict(l), verdict(r)))
    }
}

/// The reading of the whole directory, as paragraphs.
pub fn reading(s: &Summary, comparisons: &[Comparison]) -> Vec<String> {
    let mut p = Vec::new();
    if s.rows.len() == 1 {
        p.push(describe_run(s, 0));
    }
    // Trunk lean on and off: compare runs that differ only in `task.compensation`.
    if let Some(c) = s
        .param_index("task.compensation")
        .filter(|c| s.varying_params().contains(c))
    {
        let others: Vec<usize> = s.varying_params().into_iter().filter(|&i| i != c).collect();
        let mut lines = Vec::new();
        for off in (0..s.rows.len()).filter(|&r| s.rows[r].params[c].trim() == "false") {
            let Some(on) = (0..s.rows.len()).find(|&r| {
                s.rows[r].params[c].trim() == "true"
                    && others
                        .iter()
                        .all(|&i| s.rows[r].params[i] == s.rows[off].params[i])
            }) else {
                continue;
            };
            let (a, b) = (&s.rows[off], &s.rows[on]);
            let helped = a.status != RunStatus::Ok && b.status == RunStatus::Ok
                || b.metric("pelvic_drop_cm") < a.metric("pelvic_drop_cm") - 0.5;
            if helped {
                let caption = run_caption(s, off)
                    .split(", ")
                    .filter(|t| !t.starts_with("compensation"))
                    .collect::<Vec<_>>()
                    .join(", ");
                lines.push(format!(
                    "With {caption}: without leaning, the pelvis dropped {:.1} cm{}; leaning the trunk {:.0}° over the stance leg, it dropped {:.1} cm{}.",
                    a.metric("pelvic_drop_cm").max(0.0),
                    if a.status == RunStatus::LostBalance { " and the model lost its balance" } else { "" },
                    b.metric("trunk_lean_deg"),
                    b.metric("pelvic_drop_cm").max(0.0),
                    if b.status == RunStatus::Ok { " and the stance was held" } else { " and the model still lost its balance" },
                ));
            }
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
        let mut pts: Vec<(f64, f64, RunStatus)> = (0..s.rows.len())
            .filter(|&r| {
                s.varying_params()
                    .iter()
                    .filter(|&&i| i != a)
                    .all(|&i| s.rows[r].params[i] == s.modal_value(i))
            })
            .map(|r| {
                (
                    s.param_f64(r, a).unwrap_or(f64::NAN),
                    s.rows[r].metric("pelvic_drop_cm"),
                    s.rows[r].status,
                )
            })
            .collect();
        pts.sort_by(|x, y| x.0.total_cmp(&y.0));
        if pts.len() >= 2 {
            let ok: Vec<&(f64, f64, RunStatus)> = pts
                .iter()
                .filter(|x| x.1 <= style::TRENDELENBURG_CM && x.2 == RunStatus::Ok)
                .collect();
            let bad: Vec<&(f64, f64, RunStatus)> = pts
                .iter()
                .filter(|x| x.1 > style::TRENDELENBURG_CM || x.2 != RunStatus::Ok)
                .collect();
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
            match (ok.first(), bad.last()) {
                (Some(o), Some(b)) if b.0 < o.0 => {
                    let _ = write!(
                        t,
                        "The pelvis stayed within the 2 cm limit down to abductors at {} of normal strength; at {} and weaker it dropped further or the model lost its balance.",
                        pct(Some(o.0)),
                        pct(Some(b.0))
                    );
                }
                (Some(_), None) => t.push_str(
                    "At every abductor strength tried, the pelvis stayed within the 2 cm limit.",
                ),
                (None, Some(_)) => t.push_str(
                    "At every abductor strength tried, the pelvis dropped more than 2 cm or the model lost its balance.",
                ),
                _ => t.push_str(
                    "The pelvic drop does not change monotonically with abductor strength in these runs; look at the curve.",
                ),
            }
            let fell: Vec<String> = pts
                .iter()
                .filter(|x| x.2 == RunStatus::LostBalance)
                .map(|x| pct(Some(x.0)))
                .collect();
            if !fell.is_empty() {
                let _ = write!(
                    t,
                    " The model lost its balance with the abductors at {}.",
                    fell.join(", ")
                );
            }
            // The reserve: a clearly weakened run that still held a level pelvis.
            if let Some(w) = pts
                .iter()
                .find(|x| x.0 < 0.75 && x.1 < 1.0 && x.2 == RunStatus::Ok)
            {
                let _ = write!(
                    t,
                    " Losing {} of abductor strength still left the pelvis level: standing on one leg normally needs only part of what the abductors can do, so a moderate loss is absorbed by the reserve (as in people whose abductors were weakened by half with a nerve block, Kendall et al. 2013). The drop appears once the abductors can no longer produce the moment the stance needs while also doing their other jobs (they also flex and rotate the hip).",
                    pct(Some(1.0 - w.0))
                );
            }
            p.push(t);
        }
    }
    for c in comparisons {
        let outcome = |r: usize| {
            let row = &s.rows[r];
            let d = row.metric("pelvic_drop_cm");
            match row.status {
                RunStatus::Ok => format!("the pelvis dropped {d:.1} cm and the stance was held"),
                st => format!(
                    "the model {}{} (pelvic drop {d:.1} cm at that moment)",
                    st.describe(),
                    row.status_time_s
                        .map(|t| format!(" after {t:.2} s"))
                        .unwrap_or_default()
                ),
            }
        };
        // Held beats fell; then the smaller drop.
        let score = |r: usize| {
            let row = &s.rows[r];
            (row.status == RunStatus::Ok, -row.metric("pelvic_drop_cm"))
        };
        let (sl, sr) = (score(c.left), score(c.right));
        if c.stem == "compare_squats_vs_abductors" {
            let better = if sr.0 && !sl.0 || (sr.0 == sl.0 && sr.1 > sl.1 + 0.2) {
                "Training the abductors helped more than squats"
            } else if sl.0 && !sr.0 || (sr.0 == sl.0 && sl.1 > sr.1 + 0.2) {
                "Here squats helped more than abductor training"
            } else {
                "Both came out about the same"
            };
            p.push(format!(
                "Squats vs abductor training. {}: {}. {}: {}. {better}: squats mostly strengthen glute max, whose fibres run largely into the iliotibial band and barely hold the pelvis sideways, while glute med and min are the muscles that keep it level.",
                c.left_label,
                outcome(c.left),
                c.right_label,
                outcome(c.right)
            ));
        } else {
            p.push(format!(
                "{}. {}: {}. {}: {}.",
                c.title,
                c.left_label,
                outcome(c.left),
                c.right_label,
                outcome(c.right)
            ));
        }
    }
    // Any other sweep: which runs held a level pelvis and which did not.
    if s.rows.len() > 1 && p.is_empty() {
        let bad: Vec<String> = (0..s.rows.len())
            .filter(|&r| {
                s.rows[r].status != RunStatus::Ok
                    || s.rows[r].metric("pelvic_drop_cm") > style::TRENDELENBURG_CM
            })
            .map(|r| {
                let what = if s.rows[r].status == RunStatus::LostBalance {
                    "lost its balance"
                } else {
                    "dropped past 2 cm"
                };
                format!("{} ({what})", run_caption(s, r))
            })
            .collect();
        p.push(if bad.is_empty() {
            format!(
                "All {} runs held the stance with the pelvis within the 2 cm limit.",
                s.rows.len()
            )
        } else {
            format!(
                "{} of {} runs held the stance with the pelvis within the 2 cm limit. The others: {}.",
                s.rows.len() - bad.len(),
                s.rows.len(),
                bad.join("; ")
            )
        });
    }
    // The knee.
    let fppa: Vec<f64> = s
        .rows
        .iter()
        .map(|r| r.metric("knee_fppa_deg"))
        .filter(|x| x.is_finite())
        .collect();
    if !fppa.is_empty() {
        let lo = fppa.iter().cloned().fold(f64::MAX, f64::min);
        let hi = fppa.iter().cloned().fold(f64::MIN, f64::max);
        let range = if (hi - lo).abs() < 0.05 {
            format!("{lo:.1}°")
        } else {
            format!("between {lo:.1}° and {hi:.1}°")
        };
        let (h, pf) = (style::FPPA_HEALTHY, style::FPPA_PFP);
        let verdict = if hi < h.0 - h.1 {
            "below the healthy group's range, so the knee did not cave in"
        } else if hi < pf.0 - pf.1 {
            "within the healthy range"
        } else {
            "in the range seen in people with knee pain"
        };
        p.push(format!(
            "The knee: its frontal plane projection angle (FPPA, how far the knee falls inward as seen by a camera in front) was {range}, {verdict} (healthy {:.1} ± {:.1}°, patellofemoral pain {:.1} ± {:.1}°; {}; a squat bends the knee more than this stance, so those values are an upper guide).",
            h.0, h.1, pf.0, pf.1, style::FPPA_CITE
        ));
    }
    p
}

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
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hipdrop report: {}</title><style>{CSS}</style></head><body>\n",
        esc(&crate::plot::data::scenario_name(dir))
    );
    let _ = write!(
        h,
        "<h1>Hip drop on one leg: what the simulation shows</h1>\n<p class=\"question\">{}</p>\n",
        esc(&question)
    );
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
    let cols: &[(&str, &str)] = &[
        ("pelvic_drop_cm", "pelvic drop (cm)"),
        ("pelvic_drop_deg", "pelvic drop (deg)"),
        ("hip_adduction_deg", "hip adduction (deg)"),
        ("hip_internal_rotation_deg", "hip int. rotation (deg)"),
        ("knee_fppa_deg", "knee FPPA (deg)"),
        ("knee_medial_shift_mm", "knee medial shift (mm)"),
        ("trunk_lean_deg", "trunk lean (deg)"),
        ("hip_contact_force_bw", "hip force (x BW)"),
    ];
    for (_, t) in cols {
        let _ = write!(h, "<th>{t}</th>");
    }
    h.push_str("<th>abductor effort</th><th>outcome</th></tr>\n");
    for (r, row) in s.rows.iter().enumerate() {
        let _ = write!(h, "<tr><td class=\"id\">{}</td>", esc(&row.run_id));
        for &i in &shown {
            // Strength factors as percentages, as the column title says.
            let v = match s.param_f64(r, i) {
                Some(x) if s.params[i].starts_with("strength.") => pct(Some(x)),
                _ => row.params[i].clone(),
            };
            let _ = write!(h, "<td>{}</td>", esc(&v));
        }
        for (k, _) in cols {
            let v = row.metric(k);
            let bad = *k == "pelvic_drop_cm" && v > style::TRENDELENBURG_CM;
            let cell = if v.is_finite() {
                format!("{v:.1}")
            } else {
                "–".into()
            };
            if bad {
                let _ = write!(h, "<td class=\"bad\">{cell}</td>");
            } else {
                let _ = write!(h, "<td>{cell}</td>");
            }
        }
        let (m, c) = (
            row.metric("hip_abductor_moment_nm_per_kg"),
            row.metric("hip_abductor_capacity_nm_per_kg"),
        );
        let eff = if m.is_finite() && c > 0.0 {
            format!("{:.0} %", 100.0 * m / c)
        } else {
            "–".into()
        };
        let _ = write!(h, "<td>{eff}</td>");
        let mut outcome = row.status.describe().to_string();
        if let Some(t) = row.status_time_s.filter(|_| row.status != RunStatus::Ok) {
            let _ = write!(outcome, " at {t:.2} s");
        }
        let cls = if row.status == RunStatus::Ok {
            ""
        } else {
            " class=\"bad\""
        };
        let _ = writeln!(h, "<td{cls}>{}</td></tr>", esc(&outcome));
        let _ = r;
    }
    h.push_str("</table>\n<p>Values are averages over the last part of each run (its steady state); for a run that lost balance, the values at the moment it lost balance, so they are not a resting value. Red: pelvic drop above the 2 cm Trendelenburg line.</p>\n");

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
            h.push_str(&embed(
                g,
                "the stance from its start, seen from behind (animated)",
            )?);
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
