//! The 3D viewer of `report.html`: the data of each recorded run, decimated, and the
//! page's script and styles (`assets/viewer/`, compiled in so that the report stays one
//! self-contained file).
//!
//! Everything drawn comes from the recorded files of a run: bones and joint centres,
//! ASIS and centre of mass from the landmark columns of `timeseries.csv`; muscle
//! activations and forces from its `activation_*` and `force_*` columns; the ground
//! reaction from `grf.mot`; the muscle paths from the recorded coordinates
//! (`kinematics.mot`) through the model's own path geometry (gait2392 scaled to the
//! subject in `summary.csv`: the same function that placed them in the simulation).
//! Positions are written in whole millimetres, activations in percent, forces in
//! newtons, angles to 0.1 degree, times to 1 ms.

use super::data::{Summary, TimeSeries};
use super::PlotError;
use crate::model::{body, coord, coord_names, Model, Side, Subject};
use std::fmt::Write;
use std::path::Path;

/// The viewer's script.
pub const SCRIPT: &str = include_str!("../../assets/viewer/viewer.js");
/// The viewer's styles.
pub const STYLE: &str = include_str!("../../assets/viewer/viewer.css");

/// Time between the viewer's frames (s of simulated time): 25 frames per simulated
/// second; the page interpolates between them when it plays.
pub const FRAME_INTERVAL_S: f64 = 0.04;

/// Most runs the viewer embeds; a larger sweep embeds this many, evenly spaced (the
/// strength slider then steps through them), so that the page stays small.
pub const MAX_RUNS: usize = 24;

/// Landmarks the viewer draws, in this order (`lm_<name>_{x,y,z}_m` columns).
pub const LANDMARKS: [&str; 12] = [
    "neck", "asis_r", "asis_l", "hip_r", "hip_l", "knee_r", "knee_l", "ankle_r", "ankle_l",
    "toe_r", "toe_l", "com",
];

/// Measures shown beside the view, updating with time: (column, label, unit, decimals).
pub const MEASURES: [(&str, &str, &str, usize); 9] = [
    ("pelvic_drop_deg", "pelvic drop", "deg", 1),
    ("pelvic_drop_cm", "pelvic drop", "cm", 1),
    ("hip_adduction_deg", "hip adduction", "deg", 1),
    (
        "hip_internal_rotation_deg",
        "hip internal rotation",
        "deg",
        1,
    ),
    ("knee_flexion_deg", "knee flexion", "deg", 1),
    ("knee_fppa_deg", "knee FPPA", "deg", 1),
    ("trunk_lean_deg", "trunk lean", "deg", 1),
    ("hip_abductor_effort", "abductor effort", "", 2),
    ("grf_vertical_bw", "vertical ground force", "BW", 2),
];

/// Muscle groups named on hover, with the words a coach uses.
const NAMED_GROUPS: [(&str, &str); 5] = [
    ("gluteus_medius", "gluteus medius"),
    ("gluteus_minimus", "gluteus minimus"),
    ("gluteus_maximus", "gluteus maximus"),
    ("tensor_fasciae_latae", "tensor fasciae latae"),
    ("adductors", "adductor"),
];

/// gait2392's muscles in words (base name, words), for the hover label.
const MUSCLE_WORDS: [(&str, &str); 43] = [
    ("glut_med1", "gluteus medius, anterior"),
    ("glut_med2", "gluteus medius, middle"),
    ("glut_med3", "gluteus medius, posterior"),
    ("glut_min1", "gluteus minimus, anterior"),
    ("glut_min2", "gluteus minimus, middle"),
    ("glut_min3", "gluteus minimus, posterior"),
    ("semimem", "semimembranosus"),
    ("semiten", "semitendinosus"),
    ("bifemlh", "biceps femoris, long head"),
    ("bifemsh", "biceps femoris, short head"),
    ("sar", "sartorius"),
    ("add_long", "adductor longus"),
    ("add_brev", "adductor brevis"),
    ("add_mag1", "adductor magnus, upper"),
    ("add_mag2", "adductor magnus, middle"),
    ("add_mag3", "adductor magnus, lower"),
    ("tfl", "tensor fasciae latae"),
    ("pect", "pectineus"),
    ("grac", "gracilis"),
    ("glut_max1", "gluteus maximus, upper"),
    ("glut_max2", "gluteus maximus, middle"),
    ("glut_max3", "gluteus maximus, lower"),
    ("iliacus", "iliacus"),
    ("psoas", "psoas"),
    ("quad_fem", "quadratus femoris"),
    ("gem", "gemelli"),
    ("peri", "piriformis"),
    ("rect_fem", "rectus femoris"),
    ("vas_med", "vastus medialis"),
    ("vas_int", "vastus intermedius"),
    ("vas_lat", "vastus lateralis"),
    ("med_gas", "gastrocnemius, medial head"),
    ("lat_gas", "gastrocnemius, lateral head"),
    ("soleus", "soleus"),
    ("tib_post", "tibialis posterior"),
    ("flex_dig", "flexor digitorum longus"),
    ("flex_hal", "flexor hallucis longus"),
    ("tib_ant", "tibialis anterior"),
    ("per_brev", "peroneus brevis"),
    ("per_long", "peroneus longus"),
    ("per_tert", "peroneus tertius"),
    ("ext_dig", "extensor digitorum longus"),
    ("ext_hal", "extensor hallucis longus"),
];

/// An OpenSim storage file (`.mot`): column names and rows.
struct Storage {
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl Storage {
    fn read(path: &Path) -> Option<Storage> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut lines = text.lines();
        lines.by_ref().find(|l| l.trim() == "endheader")?;
        let names: Vec<String> = lines.next()?.split('\t').map(str::to_string).collect();
        let rows = lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                l.split('\t')
                    .map(|v| v.parse().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        Some(Storage { names, rows })
    }
    fn col(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// The rows shown: one every [`FRAME_INTERVAL_S`], and the last.
pub fn frame_rows(t: &[f64]) -> Vec<usize> {
    let mut rows = Vec::new();
    let mut next = f64::NEG_INFINITY;
    for (i, &ti) in t.iter().enumerate() {
        if ti >= next - 1e-9 {
            rows.push(i);
            next = ti + FRAME_INTERVAL_S;
        }
    }
    if let Some(last) = t.len().checked_sub(1) {
        if rows.last() != Some(&last) {
            rows.push(last);
        }
    }
    rows
}

fn mm(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

fn num(s: &mut String, v: f64, decimals: usize) {
    if !v.is_finite() {
        s.push_str("null");
        return;
    }
    let t = format!("{v:.decimals$}");
    // "-0.0" reads as a negative sign where none is meant.
    match t.strip_prefix('-') {
        Some(u) if u.bytes().all(|b| b == b'0' || b == b'.') => s.push_str(u),
        _ => s.push_str(&t),
    }
}

/// The stance-side muscles drawn: every muscle of the stance side, its hover label in
/// words (`vastus lateralis (vas_lat_r)`), and whether it is one of the muscles the
/// viewer names first (the glutes, TFL and adductors: `gluteus medius, middle
/// (glut_med2_r)`).
fn drawn_muscles(model: &Model, stance: Side) -> Vec<(usize, String, Option<String>, bool)> {
    model
        .muscles
        .iter()
        .enumerate()
        .filter(|(_, m)| m.side == stance)
        .map(|(i, m)| {
            let key = NAMED_GROUPS
                .iter()
                .any(|(g, _)| model.groups.get(*g).is_some_and(|ms| ms.contains(&m.base)));
            let label = MUSCLE_WORDS
                .iter()
                .find(|(b, _)| *b == m.base)
                .map(|(_, words)| format!("{words} ({})", m.name));
            (i, m.name.clone(), label, key)
        })
        .collect()
}

/// The viewer data of run `r` as a JSON object, or `None` when its recorded files do not
/// hold what the viewer draws (no landmarks, or no `kinematics.mot`).
pub fn run_json(
    dir: &Path,
    s: &Summary,
    r: usize,
    ts: &TimeSeries,
) -> Result<Option<String>, PlotError> {
    let row = &s.rows[r];
    if !ts.has_landmarks() {
        return Ok(None);
    }
    let rdir = dir.join("runs").join(&row.run_id);
    let Some(kin) = Storage::read(&rdir.join("kinematics.mot")) else {
        return Ok(None);
    };
    if kin.rows.len() != ts.len() {
        return Ok(None);
    }
    let grf = Storage::read(&rdir.join("grf.mot")).filter(|g| g.rows.len() == ts.len());
    let param = |name: &str| {
        s.param_index(name)
            .and_then(|i| s.param_f64(r, i))
            .filter(|v| v.is_finite())
    };
    let subject = Subject {
        mass_kg: param("subject.mass_kg").unwrap_or(Subject::GENERIC.mass_kg),
        height_m: param("subject.height_m").unwrap_or(Subject::GENERIC.height_m),
    };
    let stance = match s
        .param_index("subject.stance_side")
        .map(|i| row.params[i].trim_matches('"'))
    {
        Some("left") => Side::Left,
        _ => Side::Right,
    };
    let model = Model::gait2392(subject, &Default::default()).map_err(|e| PlotError::Draw {
        path: rdir.clone(),
        message: format!("cannot build the model of the run's subject: {e}"),
    })?;
    let pelvis_cols: Option<Vec<usize>> = crate::output::PELVIS_COORDINATES
        .iter()
        .map(|n| kin.col(n))
        .collect();
    let q_cols: Option<Vec<usize>> = coord_names().iter().map(|n| kin.col(n)).collect();
    let (Some(pelvis_cols), Some(q_cols)) = (pelvis_cols, q_cols) else {
        return Ok(None);
    };
    let t = ts.time();
    let frames = frame_rows(&t);
    let muscles = drawn_muscles(&model, stance);

    let mut j = String::with_capacity(64 * 1024);
    j.push('{');
    let _ = write!(
        j,
        "\"id\":{},\"index\":{r},\"status\":{},\"task\":{},\"stance\":\"{}\",",
        json_str(&row.run_id),
        json_str(row.status_words()),
        json_str(super::body::task_words(row.task)),
        stance.word()
    );
    let _ = write!(j, "\"caption\":{},", json_str(&super::run_caption(s, r)));
    // The swept parameters' values (for the strength slider).
    j.push_str("\"params\":{");
    let mut first = true;
    for i in s.varying_params() {
        if let Some(v) = s.param_f64(r, i) {
            if !first {
                j.push(',');
            }
            first = false;
            let _ = write!(j, "{}:", json_str(&s.params[i]));
            num(&mut j, v, 6);
        }
    }
    j.push_str("},\"t\":[");
    for (k, &i) in frames.iter().enumerate() {
        if k > 0 {
            j.push(',');
        }
        num(&mut j, t[i], 3);
    }
    j.push_str("],\"measures\":{");
    let mut first = true;
    for (name, _, _, dec) in MEASURES {
        let Some(c) = ts.col(name) else { continue };
        if !first {
            j.push(',');
        }
        first = false;
        let _ = write!(j, "\"{name}\":[");
        for (k, &i) in frames.iter().enumerate() {
            if k > 0 {
                j.push(',');
            }
            num(&mut j, c[i], dec.max(2));
        }
        j.push(']');
    }
    j.push_str("},\"lm\":[");
    for (k, &i) in frames.iter().enumerate() {
        if k > 0 {
            j.push(',');
        }
        j.push('[');
        for (n, name) in LANDMARKS.iter().enumerate() {
            let p = ts.landmark(name, i).unwrap_or([f64::NAN; 3]);
            for (c, v) in p.iter().enumerate() {
                if n + c > 0 {
                    j.push(',');
                }
                if v.is_finite() {
                    let _ = write!(j, "{}", mm(*v));
                } else {
                    j.push_str("null");
                }
            }
        }
        j.push(']');
    }
    j.push(']');
    if let Some(g) = &grf {
        // Force (N) and centre of pressure (m); the free moment is not drawn.
        let cols: Vec<Option<usize>> = crate::output::GRF_COLUMNS[..6]
            .iter()
            .map(|n| g.col(n))
            .collect();
        if cols.iter().all(Option::is_some) {
            j.push_str(",\"grf\":[");
            for (k, &i) in frames.iter().enumerate() {
                if k > 0 {
                    j.push(',');
                }
                let v = |c: usize| g.rows[i][cols[c].expect("checked")];
                let _ = write!(
                    j,
                    "[{},{},{},{},{},{}]",
                    v(0).round(),
                    v(1).round(),
                    v(2).round(),
                    mm(v(3)),
                    mm(v(4)),
                    mm(v(5))
                );
            }
            j.push(']');
        }
    }
    let _ = write!(j, ",\"body_weight_n\":{:.1}", model.mass_kg() * 9.80665);
    if row.task == super::data::TaskKind::StepDown {
        // The stance foot stands on the box (its top is y = 0); the floor is below.
        let _ = write!(j, ",\"box_m\":{:.3}", super::data::step_height_m(dir, s, r));
    }
    j.push_str(",\"muscles\":[");
    for (k, (_, name, label, key)) in muscles.iter().enumerate() {
        if k > 0 {
            j.push(',');
        }
        let _ = write!(
            j,
            "{{\"name\":{},\"label\":{},\"key\":{key}}}",
            json_str(name),
            label.as_deref().map_or("null".to_string(), json_str)
        );
    }
    // Per frame, per muscle: [activation %, force N, x, y, z, x, y, z, ...] (mm).
    j.push_str("],\"paths\":[");
    for (k, &i) in frames.iter().enumerate() {
        if k > 0 {
            j.push(',');
        }
        let kr = &kin.rows[i];
        let a = [
            kr[pelvis_cols[0]].to_radians(),
            kr[pelvis_cols[1]].to_radians(),
            kr[pelvis_cols[2]].to_radians(),
        ];
        let pelvis = crate::model::Iso::from_parts(
            nalgebra::Translation3::new(kr[pelvis_cols[3]], kr[pelvis_cols[4]], kr[pelvis_cols[5]]),
            crate::model::cardan(a),
        );
        let mut q = [0.0; coord::COUNT];
        for (c, &col) in q_cols.iter().enumerate() {
            q[c] = kr[col].to_radians();
        }
        let poses = model.forward_kinematics(&pelvis, &q);
        debug_assert_eq!(poses.len(), body::COUNT);
        j.push('[');
        for (m, (mi, name, _, _)) in muscles.iter().enumerate() {
            if m > 0 {
                j.push(',');
            }
            let act = ts.at(&format!("activation_{name}"), i);
            let force = ts.at(&format!("force_{name}_n"), i);
            j.push('[');
            let _ = write!(
                j,
                "{},{}",
                if act.is_finite() {
                    (act * 100.0).round() as i64
                } else {
                    0
                },
                if force.is_finite() {
                    force.round() as i64
                } else {
                    0
                }
            );
            for (_, p) in model.path_points(*mi, &poses, &q) {
                let _ = write!(j, ",{},{},{}", mm(p.x), mm(p.y), mm(p.z));
            }
            j.push(']');
        }
        j.push(']');
    }
    j.push_str("]}");
    Ok(Some(j))
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The runs the viewer embeds: those with a time series, at most [`MAX_RUNS`], evenly
/// spaced in run order.
pub fn viewer_runs(series: &[Option<TimeSeries>]) -> Vec<usize> {
    let with: Vec<usize> = (0..series.len()).filter(|&r| series[r].is_some()).collect();
    if with.len() <= MAX_RUNS {
        return with;
    }
    let n = with.len();
    let mut picked: Vec<usize> = (0..MAX_RUNS)
        .map(|k| with[k * (n - 1) / (MAX_RUNS - 1)])
        .collect();
    picked.dedup();
    picked
}

/// The viewer's data for the report: `{"runs": [...], "measures": [...], "slider": ...}`,
/// or `None` when no run can be drawn.
pub fn data_json(
    dir: &Path,
    s: &Summary,
    series: &[Option<TimeSeries>],
) -> Result<Option<String>, PlotError> {
    let mut runs = Vec::new();
    for r in viewer_runs(series) {
        let Some(ts) = &series[r] else { continue };
        if let Some(j) = run_json(dir, s, r, ts)? {
            runs.push(j);
        }
    }
    if runs.is_empty() {
        return Ok(None);
    }
    let mut j = String::from("{\"measures\":[");
    for (k, (name, label, unit, dec)) in MEASURES.iter().enumerate() {
        if k > 0 {
            j.push(',');
        }
        let meaning = crate::output::METRICS
            .iter()
            .find(|m| m.name == *name)
            .map_or("", |m| m.meaning);
        let _ = write!(
            j,
            "{{\"name\":\"{name}\",\"label\":{},\"unit\":{},\"decimals\":{dec},\"meaning\":{}}}",
            json_str(label),
            json_str(unit),
            json_str(meaning)
        );
    }
    // The strength slider: the first swept strength key, if any.
    let slider = s
        .varying_params()
        .into_iter()
        .find(|&i| s.params[i].starts_with("strength.") && s.param_is_numeric(i));
    let _ = write!(
        j,
        "],\"slider\":{},\"total_runs\":{},\"runs\":[",
        slider.map_or("null".to_string(), |i| json_str(&s.params[i])),
        s.rows.len()
    );
    j.push_str(&runs.join(","));
    j.push_str("]}");
    // Inside <script>: no "</" may close the element early.
    Ok(Some(j.replace("</", "<\\/")))
}

/// The viewer's HTML section (controls, canvases, data and script).
pub fn section(data: &str) -> String {
    let mut h = String::new();
    h.push_str("<h2 id=\"viewer\">See it move</h2>\n");
    h.push_str(include_str!("../../assets/viewer/viewer.html"));
    let _ = write!(
        h,
        "<script id=\"hv-data\" type=\"application/json\">{data}</script>\n<script>\n{SCRIPT}\n</script>\n"
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_every_40_ms_and_the_last_row() {
        let t: Vec<f64> = (0..=25).map(|i| i as f64 * 0.01).collect();
        assert_eq!(frame_rows(&t), [0, 4, 8, 12, 16, 20, 24, 25]);
        assert!(frame_rows(&[]).is_empty());
    }

    #[test]
    fn numbers_have_no_negative_zero() {
        for (v, d, want) in [
            (-0.0001, 1, "0.0"),
            (-0.4, 0, "0"),
            (-1.25, 1, "-1.2"),
            (3.0, 2, "3.00"),
        ] {
            let mut s = String::new();
            num(&mut s, v, d);
            assert_eq!(s, want, "{v}");
        }
    }
}
