//! Reading recorded outputs: `summary.csv`, `runs/<run_id>/timeseries.csv` and, if
//! present, `manifest.json`. Nothing here simulates; everything is parsed from files.

use super::PlotError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Metric columns the summary and the time series may contain, in the order the
/// simulator writes them. The first of these in `summary.csv` ends the parameter columns.
pub const KNOWN_METRICS: &[&str] = &[
    "pelvic_drop_deg",
    "pelvic_drop_cm",
    "hip_adduction_deg",
    "hip_internal_rotation_deg",
    "hip_flexion_deg",
    "knee_flexion_deg",
    "knee_fppa_deg",
    "knee_medial_shift_mm",
    "ankle_dorsiflexion_deg",
    "subtalar_inversion_deg",
    "trunk_lean_deg",
    "hip_abductor_moment_nm_per_kg",
    "hip_abductor_capacity_nm_per_kg",
    "hip_abductor_usable_capacity_nm_per_kg",
    "hip_abductor_effort",
    "hip_abductors_saturated",
    "hip_contact_force_bw",
    "hip_contact_angle_deg",
    "grf_vertical_bw",
    "cop_anterior_mm",
    "cop_lateral_mm",
    "hip_abduction_shortfall_nm",
    "lumbar_reserve_nm",
    "swing_reserve_nm",
    "pelvic_drop_peak_deg",
    "pelvic_drop_peak_cm",
    "knee_fppa_peak_deg",
    "knee_medial_shift_peak_mm",
    "hip_adduction_peak_deg",
    "hip_internal_rotation_peak_deg",
    "trunk_lean_peak_deg",
    "knee_flexion_peak_deg",
    "glut_med_activation_peak",
    "time_to_trendelenburg_s",
    "joint_range_excess_deg",
];

/// Summary columns that [`fill_from_timeseries`] derives from a run's time series when
/// an older `summary.csv` does not have them: (summary column, time-series column).
/// `time_to_trendelenburg_s` is derived from `pelvic_drop_cm` as well.
pub const PEAK_FROM_SERIES: &[(&str, &str)] = &[
    ("pelvic_drop_peak_cm", "pelvic_drop_cm"),
    ("pelvic_drop_peak_deg", "pelvic_drop_deg"),
    ("knee_fppa_peak_deg", "knee_fppa_deg"),
    ("knee_medial_shift_peak_mm", "knee_medial_shift_mm"),
    ("hip_adduction_peak_deg", "hip_adduction_deg"),
    (
        "hip_internal_rotation_peak_deg",
        "hip_internal_rotation_deg",
    ),
    ("trunk_lean_peak_deg", "trunk_lean_deg"),
    ("knee_flexion_peak_deg", "knee_flexion_deg"),
];

/// Columns after the metrics that describe how a run ended.
const STATUS_COLUMNS: &[&str] = &[
    "status",
    "status_time_s",
    "status_detail",
    "sim_time_s",
    "wall_time_s",
];

/// How a run ended, as recorded in the `status` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// The stance was held to the end and the pelvis had settled.
    Ok,
    /// The run reached its end with the centre of pressure still on the foot, but the
    /// pelvis was still dropping: not a steady state, and not "held".
    StillFalling,
    /// The model fell (the centre of pressure left the foot).
    LostBalance,
    /// A squat or step-down whose stance knee stayed more than 5 deg short of the task's
    /// depth, or whose swing foot never came down to floor level: the task was not done,
    /// so its peaks are not comparable with a run that reached the depth.
    ShortOfDepth,
    /// The integration produced non-finite values.
    Diverged,
    /// The run did not start or stopped with an error.
    Failed,
    /// Any other or missing label.
    Unknown,
}

impl RunStatus {
    /// The status for a `status` cell of `summary.csv`.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "ok" => Self::Ok,
            "still_falling" => Self::StillFalling,
            "lost_balance" => Self::LostBalance,
            "short_of_depth" => Self::ShortOfDepth,
            "diverged" => Self::Diverged,
            "failed" => Self::Failed,
            _ => Self::Unknown,
        }
    }

    /// Whether the run held the stance with a settled pelvis: only such a run has
    /// steady-state values that can be compared with other runs'.
    pub fn held(self) -> bool {
        self == Self::Ok
    }

    /// Plain-language label; "held the stance" only for [`RunStatus::Ok`].
    pub fn describe(self) -> &'static str {
        match self {
            Self::Ok => "held the stance",
            Self::StillFalling => "still dropping when the run ended",
            Self::LostBalance => "lost balance",
            Self::ShortOfDepth => "did not reach the task's depth",
            Self::Diverged => "simulation diverged",
            Self::Failed => "run failed",
            Self::Unknown => "status unknown",
        }
    }
}

/// One row of `summary.csv`.
#[derive(Clone, Debug)]
pub struct RunRow {
    /// The `run_id` column; names the time-series file `<run_id>_timeseries.csv`.
    pub run_id: String,
    /// Parameter values as written, parallel to [`Summary::params`].
    pub params: Vec<String>,
    /// Metric values by column name (NaN when empty or unparsable).
    pub metrics: HashMap<String, f64>,
    /// How the run ended.
    pub status: RunStatus,
    /// When the status was set (s), if recorded.
    pub status_time_s: Option<f64>,
    /// Free-text detail of the status.
    pub status_detail: String,
    /// The task the run did: the `task.kind` parameter column if the summary has one,
    /// else what [`read_task_kinds`] finds in the recorded scenario; single-leg stance
    /// when nothing says otherwise.
    pub task: TaskKind,
}

impl RunRow {
    /// A metric by name, NaN if absent.
    pub fn metric(&self, name: &str) -> f64 {
        self.metrics.get(name).copied().unwrap_or(f64::NAN)
    }

    /// A metric by name if it is a finite number.
    pub fn metric_opt(&self, name: &str) -> Option<f64> {
        Some(self.metric(name)).filter(|x| x.is_finite())
    }

    /// How the run ended in words: [`RunStatus::describe`], except that a squat or
    /// step-down that ended `ok` "completed the task" (it did not hold a stance).
    pub fn status_words(&self) -> &'static str {
        if self.status == RunStatus::Ok && self.task.is_dynamic() {
            "completed the task"
        } else {
            self.status.describe()
        }
    }

    /// When the model fell (`status_time_s` of a `lost_balance` run).
    pub fn fall_time_s(&self) -> Option<f64> {
        self.status_time_s
            .filter(|_| self.status == RunStatus::LostBalance)
    }

    /// When the pelvic drop first passed the 2 cm Trendelenburg line; `None` if it
    /// never did (or the column is missing and no time series gave it).
    pub fn time_to_trendelenburg_s(&self) -> Option<f64> {
        self.metric_opt("time_to_trendelenburg_s")
    }

    /// The steady-state value of a metric: only for a run that held the stance.
    pub fn steady(&self, name: &str) -> Option<f64> {
        self.metric_opt(name).filter(|_| self.status.held())
    }
}

/// The parsed `summary.csv`.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Parameter column names (between `run_id` and the first metric column).
    pub params: Vec<String>,
    /// Every metric column name in `summary.csv` (or filled in from the time series).
    pub columns: Vec<String>,
    /// One entry per run, in file order.
    pub rows: Vec<RunRow>,
}

impl Summary {
    /// Index of a parameter column.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p == name)
    }

    /// Parameters whose value differs between rows, in column order.
    pub fn varying_params(&self) -> Vec<usize> {
        (0..self.params.len())
            .filter(|&i| {
                let first = self.rows.first().map(|r| r.params[i].as_str());
                self.rows
                    .iter()
                    .any(|r| Some(r.params[i].as_str()) != first)
            })
            .collect()
    }

    /// Numeric value of parameter `i` in row `r` (None if not a number).
    pub fn param_f64(&self, r: usize, i: usize) -> Option<f64> {
        self.rows[r].params[i].trim().parse::<f64>().ok()
    }

    /// Whether every row holds a number in parameter `i`.
    pub fn param_is_numeric(&self, i: usize) -> bool {
        (0..self.rows.len()).all(|r| self.param_f64(r, i).is_some())
    }

    /// The most common value of parameter `i` (ties: the first seen).
    pub fn modal_value(&self, i: usize) -> String {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for r in &self.rows {
            match counts.iter_mut().find(|(v, _)| *v == r.params[i]) {
                Some(c) => c.1 += 1,
                None => counts.push((r.params[i].clone(), 1)),
            }
        }
        let best = counts.iter().map(|c| c.1).max().unwrap_or(0);
        counts
            .into_iter()
            .find(|c| c.1 == best)
            .map(|c| c.0)
            .unwrap_or_default()
    }

    /// Row index of a run id.
    pub fn row_of(&self, run_id: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.run_id == run_id)
    }

    /// Whether `summary.csv` has the column (even if every cell is empty).
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// Whether every run is a squat or a step-down: then runs are compared on their
    /// whole-run peaks, not on the values at the end (standing again).
    pub fn dynamic(&self) -> bool {
        self.rows.iter().all(|r| r.task.is_dynamic())
    }

    /// Whether the abductor effort against the usable capacity was recorded.
    pub fn has_effort(&self) -> bool {
        self.has_column("hip_abductor_effort")
    }
}

/// First time (s) at which `drop_cm` exceeds `threshold`, None if it never does.
pub fn first_crossing(t: &[f64], drop_cm: &[f64], threshold: f64) -> Option<f64> {
    t.iter()
        .zip(drop_cm)
        .find(|(_, d)| **d > threshold)
        .map(|(t, _)| *t)
}

/// Summary columns that an older `summary.csv` lacks, derived from the recorded time
/// series (peaks of [`PEAK_FROM_SERIES`], and `time_to_trendelenburg_s` as the first
/// time the pelvic drop passes 2 cm). A column that exists is never overwritten, even
/// where its cells are empty (empty means "undefined", e.g. never passed 2 cm).
pub fn fill_from_timeseries(s: &mut Summary, series: &[Option<TimeSeries>]) {
    let mut derived: Vec<&str> = PEAK_FROM_SERIES
        .iter()
        .map(|p| p.0)
        .filter(|c| !s.has_column(c))
        .collect();
    if !s.has_column("time_to_trendelenburg_s") {
        derived.push("time_to_trendelenburg_s");
    }
    if derived.is_empty() {
        return;
    }
    for (row, ts) in s.rows.iter_mut().zip(series) {
        let Some(ts) = ts else { continue };
        for &col in &derived {
            let v = if col == "time_to_trendelenburg_s" {
                ts.col("pelvic_drop_cm")
                    .and_then(|d| first_crossing(&ts.time(), d, super::style::TRENDELENBURG_CM))
                    .unwrap_or(f64::NAN)
            } else {
                let src = PEAK_FROM_SERIES.iter().find(|p| p.0 == col).map(|p| p.1);
                src.and_then(|c| ts.col(c))
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|x| x.is_finite())
                            .fold(f64::NAN, f64::max)
                    })
                    .unwrap_or(f64::NAN)
            };
            row.metrics.insert(col.to_string(), v);
        }
    }
    for col in derived {
        s.columns.push(col.to_string());
    }
}

fn csv_error(path: &Path, e: csv::Error) -> PlotError {
    PlotError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn parse_num(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return f64::NAN;
    }
    t.parse().unwrap_or(f64::NAN)
}

/// Read `dir/summary.csv`.
pub fn read_summary(dir: &Path) -> Result<Summary, PlotError> {
    let path = dir.join("summary.csv");
    if !path.is_file() {
        return Err(PlotError::MissingSummary { path });
    }
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .map_err(|e| csv_error(&path, e))?;
    let headers: Vec<String> = rd
        .headers()
        .map_err(|e| csv_error(&path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let id_col = headers
        .iter()
        .position(|h| h == "run_id")
        .ok_or_else(|| PlotError::Format {
            path: path.clone(),
            message: "no `run_id` column".into(),
        })?;
    let first_metric = headers
        .iter()
        .enumerate()
        .skip(id_col + 1)
        .find(|(_, h)| KNOWN_METRICS.contains(&h.as_str()) || STATUS_COLUMNS.contains(&h.as_str()))
        .map(|(i, _)| i)
        .unwrap_or(headers.len());
    let param_cols: Vec<usize> = (id_col + 1..first_metric).collect();
    let params = param_cols.iter().map(|&i| headers[i].clone()).collect();
    let columns = headers
        .iter()
        .skip(first_metric)
        .filter(|h| !STATUS_COLUMNS.contains(&h.as_str()))
        .cloned()
        .collect();
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| csv_error(&path, e))?;
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        let mut metrics = HashMap::new();
        let mut status = RunStatus::Unknown;
        let mut status_time_s = None;
        let mut status_detail = String::new();
        for (i, h) in headers.iter().enumerate().skip(first_metric) {
            let v = get(i);
            match h.as_str() {
                "status" => status = RunStatus::parse(&v),
                "status_time_s" => {
                    let x = parse_num(&v);
                    status_time_s = x.is_finite().then_some(x);
                }
                "status_detail" => status_detail = v,
                _ => {
                    metrics.insert(h.clone(), parse_num(&v));
                }
            }
        }
        rows.push(RunRow {
            run_id: get(id_col),
            params: param_cols.iter().map(|&i| get(i)).collect(),
            metrics,
            status,
            status_time_s,
            status_detail,
            task: TaskKind::SingleLegStance,
        });
    }
    if rows.is_empty() {
        return Err(PlotError::Format {
            path,
            message: "no runs (the file has a header but no rows)".into(),
        });
    }
    let mut s = Summary {
        params,
        columns,
        rows,
    };
    if let Some(i) = s.param_index("task.kind") {
        for r in &mut s.rows {
            if let Some(k) = TaskKind::parse(r.params[i].trim().trim_matches('"')) {
                r.task = k;
            }
        }
    }
    Ok(s)
}

/// One recorded time series, stored column by column.
#[derive(Clone, Debug)]
pub struct TimeSeries {
    /// Where it was read from.
    pub path: PathBuf,
    cols: HashMap<String, Vec<f64>>,
    /// Column names in file order.
    pub names: Vec<String>,
    len: usize,
}

impl TimeSeries {
    /// A column by name.
    pub fn col(&self, name: &str) -> Option<&[f64]> {
        self.cols.get(name).map(|v| v.as_slice())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The time column (s), or row indices at 10 ms if absent.
    pub fn time(&self) -> Vec<f64> {
        match self.col("time_s") {
            Some(t) => t.to_vec(),
            None => (0..self.len).map(|i| i as f64 * 0.01).collect(),
        }
    }

    /// Value of a column at a row, NaN if absent.
    pub fn at(&self, name: &str, row: usize) -> f64 {
        self.col(name)
            .and_then(|c| c.get(row).copied())
            .unwrap_or(f64::NAN)
    }

    /// Landmark `name` at `row` as (x, y, z) in metres, if all three columns are present and finite.
    pub fn landmark(&self, name: &str, row: usize) -> Option<[f64; 3]> {
        let p = [
            self.at(&format!("lm_{name}_x_m"), row),
            self.at(&format!("lm_{name}_y_m"), row),
            self.at(&format!("lm_{name}_z_m"), row),
        ];
        p.iter().all(|v| v.is_finite()).then_some(p)
    }

    /// Whether landmark columns are present.
    pub fn has_landmarks(&self) -> bool {
        self.names.iter().any(|n| n.starts_with("lm_"))
    }
}

/// Read a run's time series: `dir/runs/<run_id>/timeseries.csv` as `hipdrop run` writes
/// it, or `dir/<run_id>_timeseries.csv` (flat layout); `Ok(None)` if neither exists.
pub fn read_timeseries(dir: &Path, run_id: &str) -> Result<Option<TimeSeries>, PlotError> {
    let nested = dir.join("runs").join(run_id).join("timeseries.csv");
    let path = if nested.is_file() {
        nested
    } else {
        dir.join(format!("{run_id}_timeseries.csv"))
    };
    if !path.is_file() {
        return Ok(None);
    }
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .map_err(|e| csv_error(&path, e))?;
    let names: Vec<String> = rd
        .headers()
        .map_err(|e| csv_error(&path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut data: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut len = 0;
    for rec in rd.records() {
        let rec = rec.map_err(|e| csv_error(&path, e))?;
        for (i, col) in data.iter_mut().enumerate() {
            col.push(parse_num(rec.get(i).unwrap_or("")));
        }
        len += 1;
    }
    let cols = names.iter().cloned().zip(data).collect();
    Ok(Some(TimeSeries {
        path,
        cols,
        names,
        len,
    }))
}

pub use crate::model::Side;
pub use crate::task::TaskKind;

/// A `task.kind` anywhere in a JSON value: `"task": {"kind": ...}` or `"task.kind": ...`.
fn find_task_kind(v: &serde_json::Value) -> Option<TaskKind> {
    match v {
        serde_json::Value::Object(o) => {
            let direct = o
                .get("task")
                .and_then(|t| t.get("kind"))
                .or_else(|| o.get("task.kind"))
                .and_then(|k| k.as_str())
                .and_then(TaskKind::parse);
            direct.or_else(|| o.values().find_map(find_task_kind))
        }
        serde_json::Value::Array(a) => a.iter().find_map(find_task_kind),
        _ => None,
    }
}

fn read_json(p: &Path) -> Option<serde_json::Value> {
    std::fs::read_to_string(p)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// The `task.kind` recorded for a run: in `dir/runs/<run_id>/result.json` if that
/// records one, else in the resolved scenario of `dir/manifest.json`. `None` when
/// neither does (older outputs: single-leg stance).
pub fn recorded_task_kind(dir: &Path, run_id: &str) -> Option<TaskKind> {
    run_task_kind(dir, run_id).or_else(|| manifest_task_kind(dir))
}

fn run_task_kind(dir: &Path, run_id: &str) -> Option<TaskKind> {
    read_json(&dir.join("runs").join(run_id).join("result.json"))
        .as_ref()
        .and_then(find_task_kind)
}

fn manifest_task_kind(dir: &Path) -> Option<TaskKind> {
    let m = read_json(&dir.join("manifest.json"))?;
    m.get("resolved")
        .and_then(find_task_kind)
        .or_else(|| find_task_kind(&m))
}

/// The step-down's box height (m) of a run: its `task.step_height_m` column, else the
/// resolved scenario's in `dir/manifest.json`, else the default.
pub fn step_height_m(dir: &Path, s: &Summary, r: usize) -> f64 {
    s.param_index("task.step_height_m")
        .and_then(|i| s.param_f64(r, i))
        .or_else(|| {
            read_json(&dir.join("manifest.json"))?
                .get("resolved")?
                .get("task")?
                .get("step_height_m")?
                .as_f64()
        })
        .unwrap_or(crate::scenario::defaults::STEP_HEIGHT_M)
}

/// Set each row's [`RunRow::task`] from the recorded files ([`recorded_task_kind`];
/// the manifest is read once) where the summary has no `task.kind` column.
pub fn read_task_kinds(dir: &Path, s: &mut Summary) {
    if s.param_index("task.kind").is_some() {
        return;
    }
    let base = manifest_task_kind(dir);
    for r in &mut s.rows {
        if let Some(k) = run_task_kind(dir, &r.run_id).or(base) {
            r.task = k;
        }
    }
}

/// The recorded row of the deepest point of a squat or step-down: the row of the
/// largest stance knee flexion (`knee_flexion_deg`; the first such row if it is reached
/// more than once). `None` without a finite knee flexion.
pub fn deepest_row(ts: &TimeSeries) -> Option<usize> {
    let k = ts.col("knee_flexion_deg")?;
    let mut best: Option<(usize, f64)> = None;
    for (i, &v) in k.iter().enumerate() {
        if v.is_finite() && best.is_none_or(|b| v > b.1) {
            best = Some((i, v));
        }
    }
    best.map(|b| b.0)
}

/// The stance side of a run: the `subject.stance_side` parameter if present,
/// otherwise the foot whose ankle is lower on average over the recording, otherwise right.
pub fn stance_side(summary: &Summary, row: usize, ts: Option<&TimeSeries>) -> Side {
    if let Some(i) = summary.param_index("subject.stance_side") {
        match summary.rows[row].params[i].trim().trim_matches('"') {
            "left" | "l" => return Side::Left,
            "right" | "r" => return Side::Right,
            _ => {}
        }
    }
    if let Some(ts) = ts {
        let mean = |name: &str| {
            let v: Vec<f64> = ts
                .col(name)
                .unwrap_or(&[])
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        if let (Some(r), Some(l)) = (mean("lm_ankle_r_y_m"), mean("lm_ankle_l_y_m")) {
            if l < r {
                return Side::Left;
            }
        }
    }
    Side::Right
}

/// The scenario name recorded in `manifest.json` (`"scenario"`), else the directory's name.
pub fn scenario_name(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("scenario")?.as_str().map(String::from))
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "hipdrop".into())
        })
}

/// The question the scenario asks: the leading `#` comment block of the resolved
/// scenario recorded in `manifest.json`, if that file exists and holds one.
///
/// The manifest's layout belongs to the run command; this looks for the first string
/// value anywhere in it that starts with a TOML comment, so it survives layout changes.
pub fn scenario_question(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    // The scenario file's opening comment, if the file is still where the run read it.
    if let Some(src) = v["source"].as_str() {
        if let Ok(file) = std::fs::read_to_string(src) {
            let lines: Vec<&str> = file
                .lines()
                .map(str::trim)
                .take_while(|l| l.starts_with('#'))
                .map(|l| l.trim_start_matches('#').trim())
                .collect();
            let q = lines.join(" ");
            let q = q.strip_prefix("Question:").unwrap_or(&q).trim();
            let mut c = q.chars();
            if let Some(first) = c.next() {
                return Some(first.to_uppercase().chain(c).collect());
            }
        }
    }
    fn find(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.trim_start().starts_with('#') => {
                let lines: Vec<&str> = s
                    .lines()
                    .map(str::trim)
                    .take_while(|l| l.starts_with('#'))
                    .map(|l| l.trim_start_matches('#').trim())
                    .collect();
                Some(lines.join(" "))
            }
            serde_json::Value::Array(a) => a.iter().find_map(find),
            serde_json::Value::Object(o) => o.values().find_map(find),
            _ => None,
        }
    }
    find(&v).filter(|s| !s.is_empty())
}
