//! Running a sweep: runs in parallel (rayon), per-run files written atomically with a
//! per-run record (`result.json`, written last: the run's done-marker), then the summary,
//! built from the records in run order so that it is byte-identical for any thread
//! count and after `--resume`.
//!
//! Layout of an output directory:
//! `plan.json` (runs and columns, written first), `runs/<id>/timeseries.csv`,
//! `runs/<id>/kinematics.mot`, `runs/<id>/states.sto`, `runs/<id>/result.json`,
//! then `summary.csv`, `summary.json`, `timing.csv` (wall times: the one file that
//! differs between otherwise identical runs) and `manifest.json`.

use crate::measures::MEASURES;
use crate::model::Model;
use crate::output::{
    fmt, grf_mot, metric_columns, mot, sto, time_value, timeseries_csv, write_atomic,
};
use crate::scenario::{spec_for, Loaded};
use crate::sim::StanceSim;
use crate::sweep::{canon, Run};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The record of one finished run (its `result.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Position in the sweep.
    pub index: usize,
    /// The run's `task.kind` (`single_leg_stance`, `single_leg_squat`, `step_down`).
    #[serde(default)]
    pub task_kind: String,
    /// Parameter column values, aligned with the plan's columns.
    pub params: Vec<toml::Value>,
    /// Steady-state metrics aligned with [`metric_columns`]; `None` when not finite or the run did not start.
    pub metrics: Vec<Option<f64>>,
    /// Whole-run measures aligned with [`crate::measures::MEASURES`]; `None` when undefined.
    #[serde(default)]
    pub measures: Vec<Option<f64>>,
    /// `ok`, `still_falling`, `lost_balance`, `short_of_depth`, `diverged` or `failed` (did not start).
    pub status: String,
    /// When the status was reached (s); `None` for `ok`.
    pub status_time_s: Option<f64>,
    /// Why (empty for `ok`).
    pub status_detail: String,
    /// Simulated time reached (s).
    pub sim_time_s: f64,
    /// Steps taken.
    pub steps: usize,
    /// Wall time (s): not deterministic, kept out of summary.csv.
    pub wall_time_s: f64,
    /// Files of the run (relative to the output directory) and their SHA-256.
    pub files: BTreeMap<String, String>,
}

impl RunRecord {
    /// Whether the run is a failure (diverged or did not start); `still_falling`,
    /// `lost_balance` and `short_of_depth` are results.
    pub fn failed(&self) -> bool {
        self.status == "diverged" || self.status == "failed"
    }
}

/// The plan of a sweep (`plan.json`): written before the first run, compared on `--resume`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// Scenario name.
    pub name: String,
    /// Parameter columns of summary.csv.
    pub columns: Vec<String>,
    /// Run ids, in order.
    pub runs: Vec<String>,
    /// Every run's full parameter list (`key=value` lines), to detect a changed scenario.
    pub resolved: Vec<Vec<String>>,
    /// The command that made it, without `--out` (`hipdrop run FILE --set ...`): what to
    /// run with `--resume` to finish it. Not compared by `--resume`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub command: String,
    /// The part of the sweep this directory holds (`hipdrop run --shard K/N`); `None`
    /// (and absent from `plan.json`) for the whole sweep. `runs`, `resolved` and
    /// `columns` are always the whole sweep's, so that every shard has the same plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

/// One of `count` deterministic parts of a sweep (`--shard index/count`, `index` from 1):
/// run `i` (0-based, in sweep order) belongs to shard `i % count + 1`, so that shards
/// differ by at most one run and each gets runs from the whole range of a swept axis
/// (neighbouring runs of a strength sweep cost alike; weak ones stop early).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// Which part, from 1 to `count`.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// Parse `K/N` (`1 <= K <= N`); the error says what is allowed.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "--shard {s}: give K/N with 1 <= K <= N, e.g. --shard 1/4 (the first of four parts)"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { index: k, count: n })
    }

    /// Whether run `index` (0-based position in the sweep) belongs to this shard.
    pub fn holds(&self, index: usize) -> bool {
        index % self.count + 1 == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Plan {
    /// The runs this directory holds: the whole sweep, or its shard's part (ids in order).
    pub fn own_runs(&self) -> Vec<&str> {
        self.runs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.shard.is_none_or(|s| s.holds(*i)))
            .map(|(_, id)| id.as_str())
            .collect()
    }

    /// The recorded command, or `hipdrop run SCENARIO` when none was recorded.
    pub fn command_or_placeholder(&self) -> String {
        if self.command.is_empty() {
            "hipdrop run SCENARIO".to_string()
        } else {
            self.command.clone()
        }
    }

    /// The command that finishes this directory: the recorded command (or
    /// `hipdrop run SCENARIO`), its `--shard`, `--resume --out DIR`.
    pub fn resume_command(&self, dir: &Path) -> String {
        let mut c = self.command_or_placeholder();
        if let Some(s) = self.shard {
            c.push_str(&format!(" --shard {s}"));
        }
        c.push_str(" --resume --out ");
        c.push_str(&shell_word(&dir.display().to_string()));
        c
    }
}

/// `s` as one word for a POSIX shell (single-quoted when it holds anything but
/// `[A-Za-z0-9_./=:,+@%-]`).
pub fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./=:,+@%-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// What differs between the plan recorded in an output directory (`old`) and a new one:
/// one line per difference (`task.duration_s = 0.2 there, 0.3 now`); empty when
/// `--resume` may finish `old` with `new`. The recording command is not compared.
pub fn plan_differences(old: &Plan, new: &Plan) -> Vec<String> {
    let mut d = Vec::new();
    if old.shard != new.shard {
        let shown = |s: Option<Shard>| match s {
            Some(s) => format!("shard {s}"),
            None => "the whole sweep".to_string(),
        };
        d.push(format!(
            "{} there, {} now",
            shown(old.shard),
            shown(new.shard)
        ));
    }
    if old.name != new.name {
        d.push(format!(
            "name = \"{}\" there, \"{}\" now",
            old.name, new.name
        ));
    }
    if old.runs.len() != new.runs.len() {
        d.push(format!(
            "{} runs there, {} now",
            old.runs.len(),
            new.runs.len()
        ));
    }
    let lines = |v: &Vec<String>| -> BTreeMap<String, String> {
        v.iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.clone(), String::new()),
            })
            .collect()
    };
    // Each differing key once, with the values of the first run where it differs.
    let mut keys: BTreeMap<String, (String, String, String, usize)> = BTreeMap::new();
    for (i, (a, b)) in old.resolved.iter().zip(&new.resolved).enumerate() {
        let (a, b) = (lines(a), lines(b));
        let union: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for k in union {
            let (x, y) = (a.get(k), b.get(k));
            if x != y {
                let e = keys.entry(k.clone()).or_insert_with(|| {
                    let shown =
                        |v: Option<&String>| v.cloned().unwrap_or_else(|| "(not set)".into());
                    (
                        shown(x),
                        shown(y),
                        new.runs.get(i).cloned().unwrap_or_default(),
                        0,
                    )
                });
                e.3 += 1;
            }
        }
    }
    let runs = old.runs.len().min(new.runs.len());
    for (k, (x, y, id, n)) in &keys {
        let n = *n;
        let which = if runs <= 1 {
            String::new()
        } else if n == 1 {
            format!(" (run {id})")
        } else {
            format!(" (in {n} of {runs} runs; first: {id})")
        };
        d.push(format!("{k} = {x} there, {y} now{which}"));
    }
    if keys.is_empty() && old.runs != new.runs {
        let first = old.runs.iter().zip(&new.runs).find(|(a, b)| a != b);
        if let Some((a, b)) = first {
            d.push(format!("run ids differ: {a} there, {b} now"));
        }
    }
    if d.is_empty() && old.columns != new.columns {
        d.push(format!(
            "summary columns {} there, {} now",
            old.columns.join(","),
            new.columns.join(",")
        ));
    }
    d
}

/// Parameter columns: subject, compensation, strength keys, swept keys, `--set` keys.
pub fn columns(l: &Loaded, runs: &[Run]) -> Vec<String> {
    let mut c: Vec<String> = [
        "subject.mass_kg",
        "subject.height_m",
        "subject.stance_side",
        "task.compensation",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut push = |k: &str| {
        if !c.iter().any(|x| x == k) {
            c.push(k.to_string());
        }
    };
    for r in runs {
        for k in r.flat.keys().filter(|k| k.starts_with("strength.")) {
            push(k);
        }
    }
    for r in runs {
        for (k, _) in &r.params {
            push(k);
        }
    }
    for k in &l.set_keys {
        if !k.starts_with("sweep.")
            && !NOT_PARAMETERS.contains(&k.as_str())
            && spec_for(k).is_some()
        {
            push(k);
        }
    }
    c
}

/// Keys that choose what is written, not what is simulated: never a parameter column
/// of summary.csv, and not part of a run's id (but part of plan.json, so that `--resume`
/// does not mix runs written with and without them).
pub const NOT_PARAMETERS: &[&str] = &["output.timeseries"];

/// Value of `key` in a run (strength keys absent in that run are 1).
fn value_of(run: &Run, key: &str) -> toml::Value {
    run.flat.get(key).cloned().unwrap_or_else(|| {
        spec_for(key)
            .map(|s| s.default)
            .unwrap_or(toml::Value::Float(1.0))
    })
}

/// The plan of `runs`.
pub fn plan(l: &Loaded, runs: &[Run]) -> Plan {
    Plan {
        name: l.name.clone(),
        columns: columns(l, runs),
        runs: runs.iter().map(|r| r.id.clone()).collect(),
        resolved: runs
            .iter()
            .map(|r| {
                r.flat
                    .iter()
                    .map(|(k, v)| format!("{k}={}", canon(v)))
                    .collect()
            })
            .collect(),
        command: String::new(),
        shard: None,
    }
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("cannot write {}: {e}", path.display())
}

/// Simulate one run and write its files and record. Errors are I/O errors.
pub fn run_one(dir: &Path, name: &str, plan: &Plan, run: &Run) -> Result<RunRecord, String> {
    let rel = PathBuf::from("runs").join(&run.id);
    let rdir = dir.join(&rel);
    std::fs::create_dir_all(&rdir).map_err(|e| io_err(&rdir, e))?;
    let sc = &run.scenario;
    let mut rec = RunRecord {
        id: run.id.clone(),
        index: run.index,
        task_kind: run.scenario.task.task().kind.name().to_string(),
        params: plan.columns.iter().map(|k| value_of(run, k)).collect(),
        metrics: vec![None; metric_columns().len()],
        measures: vec![None; MEASURES.len()],
        status: "failed".into(),
        status_time_s: Some(0.0),
        status_detail: String::new(),
        sim_time_s: 0.0,
        steps: 0,
        wall_time_s: 0.0,
        files: BTreeMap::new(),
    };
    let started = Model::gait2392(sc.subject(), &sc.strength)
        .map_err(|e| e.to_string())
        .and_then(|m| {
            let r = StanceSim::new(&m, sc.stance_config())?.run();
            Ok((r, m))
        });
    match started {
        Err(e) => rec.status_detail = format!("did not start: {e}").replace(',', ";"),
        Ok((r, model)) => {
            rec.metrics = metric_columns()
                .iter()
                .map(|(_, f)| Some(f(&r.steady)).filter(|v| v.is_finite()))
                .collect();
            rec.measures = r.measures.clone();
            rec.status = r.status.label().to_string();
            rec.status_time_s = r.status.time_s().map(time_value);
            let detail: Vec<String> = std::iter::once(r.status.detail())
                .filter(|d| !d.is_empty())
                .chain(r.notes.iter().cloned())
                .collect();
            rec.status_detail = detail.join("; ").replace(',', ";");
            rec.sim_time_s = time_value(r.series.last().map(|m| m.time_s).unwrap_or(0.0));
            rec.steps = r.steps;
            rec.wall_time_s = r.wall_time_s;
            let title = format!("{name}_{}", run.id);
            let files = if sc.output.timeseries {
                vec![
                    ("timeseries.csv", timeseries_csv(&model, &r)),
                    ("kinematics.mot", mot(&title, &r)),
                    ("states.sto", sto(&title, &model, &r)),
                    ("grf.mot", grf_mot(&format!("{title}_grf"), &r)),
                ]
            } else {
                Vec::new()
            };
            for (file, text) in files {
                let p = rdir.join(file);
                write_atomic(&p, text.as_bytes()).map_err(|e| io_err(&p, e))?;
                rec.files.insert(
                    rel.join(file).to_string_lossy().replace('\\', "/"),
                    sha256_hex(text.as_bytes()),
                );
            }
        }
    }
    let p = rdir.join("result.json");
    let json = serde_json::to_string_pretty(&rec).expect("records serialise");
    write_atomic(&p, json.as_bytes()).map_err(|e| io_err(&p, e))?;
    Ok(rec)
}

/// The record of a complete run in `dir`: its `result.json` parses, belongs to `run`,
/// and every file it lists exists with the recorded checksum.
pub fn completed(dir: &Path, run: &Run) -> Option<RunRecord> {
    let p = dir.join("runs").join(&run.id).join("result.json");
    let rec: RunRecord = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
    if rec.id != run.id || rec.index != run.index {
        return None;
    }
    for (f, sum) in &rec.files {
        let b = std::fs::read(dir.join(f)).ok()?;
        if &sha256_hex(&b) != sum {
            return None;
        }
    }
    Some(rec)
}

fn cell(v: &toml::Value) -> String {
    let s = canon(v);
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// summary.csv: one row per run, in run order.
pub fn summary_csv(plan: &Plan, recs: &[RunRecord]) -> String {
    let mut s = String::from("run_id");
    for c in &plan.columns {
        s.push(',');
        s.push_str(c);
    }
    for (c, _) in metric_columns() {
        s.push(',');
        s.push_str(c);
    }
    for m in &MEASURES {
        s.push(',');
        s.push_str(m.name);
    }
    s.push_str(",status,status_time_s,status_detail,sim_time_s\n");
    for r in recs {
        s.push_str(&r.id);
        for v in &r.params {
            s.push(',');
            s.push_str(&cell(v));
        }
        // Records written before the measures existed have none: empty cells.
        let measures = (0..MEASURES.len()).map(|i| r.measures.get(i).copied().flatten());
        for m in r.metrics.iter().copied().chain(measures) {
            s.push(',');
            if let Some(v) = m {
                s.push_str(&fmt(v));
            }
        }
        s.push_str(&format!(
            ",{},{},{},{}\n",
            r.status,
            r.status_time_s.map(fmt).unwrap_or_default(),
            r.status_detail,
            fmt(r.sim_time_s)
        ));
    }
    s
}

/// summary.json: an array with one object per run (keys as summary.csv's columns).
pub fn summary_json(plan: &Plan, recs: &[RunRecord]) -> String {
    let rows: Vec<serde_json::Value> = recs
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("run_id".into(), r.id.clone().into());
            let mut params = serde_json::Map::new();
            for (c, v) in plan.columns.iter().zip(&r.params) {
                params.insert(c.clone(), serde_json::to_value(v).unwrap_or_default());
            }
            o.insert("params".into(), params.into());
            let mut metrics = serde_json::Map::new();
            for ((c, _), v) in metric_columns().iter().zip(&r.metrics) {
                metrics.insert(c.to_string(), serde_json::to_value(v).unwrap_or_default());
            }
            o.insert("metrics".into(), metrics.into());
            let mut measures = serde_json::Map::new();
            for (i, m) in MEASURES.iter().enumerate() {
                let v = r.measures.get(i).copied().flatten();
                measures.insert(
                    m.name.to_string(),
                    serde_json::to_value(v).unwrap_or_default(),
                );
            }
            o.insert("measures".into(), measures.into());
            o.insert("status".into(), r.status.clone().into());
            o.insert(
                "status_time_s".into(),
                serde_json::to_value(r.status_time_s).unwrap_or_default(),
            );
            o.insert("status_detail".into(), r.status_detail.clone().into());
            o.insert("sim_time_s".into(), r.sim_time_s.into());
            o.insert(
                "files".into(),
                serde_json::to_value(r.files.keys().collect::<Vec<_>>()).unwrap_or_default(),
            );
            serde_json::Value::Object(o)
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&rows).expect("summary serialises");
    s.push('\n');
    s
}

/// What `manifest.json` says of the scenario, apart from its runs and files: the same in
/// a whole sweep's directory and in each of its shards', so that `hipdrop merge` writes
/// the manifest of a one-machine run from the shards alone.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestHead {
    /// The version of hipdrop that wrote the results.
    pub hipdrop_version: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file, as given on the command line.
    pub source: String,
    /// `sweep.seed` of random sweeps, else null.
    pub seed: Option<i64>,
    /// The resolved base scenario (defaults filled in).
    pub resolved: serde_json::Value,
    /// The `[sweep]` table.
    pub sweep: serde_json::Value,
}

impl ManifestHead {
    /// The head of a scenario's manifest.
    pub fn of(l: &Loaded) -> ManifestHead {
        ManifestHead {
            hipdrop_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: l.name.clone(),
            source: l.path.display().to_string(),
            seed: seed(l),
            resolved: serde_json::to_value(crate::scenario::resolved_base(l).ok())
                .unwrap_or_default(),
            sweep: serde_json::to_value(&l.sweep).unwrap_or_default(),
        }
    }
}

/// Write summary.csv, summary.json, timing.csv and manifest.json from the records.
pub fn finish(dir: &Path, l: &Loaded, plan: &Plan, recs: &[RunRecord]) -> Result<(), String> {
    finish_with(dir, &ManifestHead::of(l), plan, recs)
}

/// [`finish`] with the manifest's head given (`hipdrop merge` reads it from the shards).
/// A shard's manifest also names the shard (`"shard": {"index": K, "count": N}`).
pub fn finish_with(
    dir: &Path,
    head: &ManifestHead,
    plan: &Plan,
    recs: &[RunRecord],
) -> Result<(), String> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for r in recs {
        files.extend(r.files.clone());
    }
    let mut timing = String::from("run_id,steps,wall_time_s\n");
    for r in recs {
        timing.push_str(&format!("{},{},{:.3}\n", r.id, r.steps, r.wall_time_s));
    }
    for (name, text) in [
        ("summary.csv", summary_csv(plan, recs)),
        ("summary.json", summary_json(plan, recs)),
        ("timing.csv", timing),
    ] {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes()).map_err(|e| io_err(&p, e))?;
        if name != "timing.csv" {
            files.insert(name.into(), sha256_hex(text.as_bytes()));
        }
    }
    let mut manifest = serde_json::json!({
        "hipdrop_version": head.hipdrop_version,
        "scenario": head.scenario,
        "source": head.source,
        "seed": head.seed,
        "resolved": head.resolved,
        "sweep": head.sweep,
        "columns": plan.columns,
        "runs": recs.iter().map(|r| serde_json::json!({
            "id": r.id, "index": r.index, "status": r.status,
            "params": plan.columns.iter().zip(&r.params).map(|(c, v)| (c.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "files_sha256": files,
        "not_checksummed": ["timing.csv (wall times differ between runs)", "plan.json", "runs/*/result.json"],
    });
    if let Some(s) = plan.shard {
        manifest["shard"] = serde_json::json!({"index": s.index, "count": s.count});
    }
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    text.push('\n');
    let p = dir.join("manifest.json");
    write_atomic(&p, text.as_bytes()).map_err(|e| io_err(&p, e))
}

/// The seed of the random draws: `sweep.seed` (default 1) in random modes, else `None`.
pub fn seed(l: &Loaded) -> Option<i64> {
    let mode = l.sweep.get("sweep.mode").and_then(|v| v.as_str());
    match mode {
        Some("random") | Some("latin_hypercube") => Some(
            l.sweep
                .get("sweep.seed")
                .and_then(|v| v.as_integer())
                .unwrap_or(1),
        ),
        _ => None,
    }
}

/// When `dir` holds an interrupted `hipdrop run` (a readable `plan.json` but no
/// `summary.csv`, which is written after the last run, before `manifest.json`): a
/// message saying so, how many runs are complete and the command that finishes it.
/// A directory with a summary but no manifest is damaged, not interrupted.
pub fn interrupted(dir: &Path) -> Option<String> {
    if dir.join("summary.csv").exists() {
        return None;
    }
    let plan: Plan = serde_json::from_slice(&std::fs::read(dir.join("plan.json")).ok()?).ok()?;
    let own = plan.own_runs();
    let done = own
        .iter()
        .filter(|id| dir.join("runs").join(id).join("result.json").is_file())
        .count();
    let what = match plan.shard {
        Some(s) => format!("shard {s}: "),
        None => String::new(),
    };
    Some(format!(
        "{}: an interrupted `hipdrop run` ({what}{done} of {} runs complete; plan.json is there, summary.csv and manifest.json are written after the last run): finish it with `{}`",
        dir.display(),
        own.len(),
        plan.resume_command(dir)
    ))
}

/// Whether run `id` in `dir` was written without time series on purpose
/// (`output.timeseries = false`): its `result.json` exists and lists no `timeseries.csv`.
pub fn written_without_series(dir: &Path, id: &str) -> bool {
    let p = dir.join("runs").join(id).join("result.json");
    let Some(rec) = std::fs::read(p)
        .ok()
        .and_then(|b| serde_json::from_slice::<RunRecord>(&b).ok())
    else {
        return false;
    };
    rec.status != "failed" && !rec.files.keys().any(|f| f.ends_with("/timeseries.csv"))
}

/// Files and directories hipdrop writes in an output directory (removed by `--force`).
pub const OWN_ENTRIES: &[&str] = &[
    "figures",
    "report.html",
    "plan.json",
    "runs",
    "summary.csv",
    "summary.json",
    "timing.csv",
    "manifest.json",
];

/// Remove hipdrop's own files and directories ([`OWN_ENTRIES`]) in `dir`, and `also`
/// (paths of any kind), for `--force`; nothing else there is touched.
pub fn remove_results(dir: &Path, also: &[PathBuf]) -> Result<(), String> {
    for p in OWN_ENTRIES
        .iter()
        .map(|e| dir.join(e))
        .chain(also.iter().cloned())
    {
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else if p.exists() {
            std::fs::remove_file(&p)
        } else {
            Ok(())
        };
        r.map_err(|e| format!("cannot remove {}: {e}", p.display()))?;
    }
    Ok(())
}

/// What `hipdrop check-output` found: files listed in `manifest.json`, by state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputCheck {
    /// Listed files whose SHA-256 matches.
    pub intact: Vec<String>,
    /// Listed files that do not exist (or cannot be read).
    pub missing: Vec<String>,
    /// Listed files whose SHA-256 differs: (file, expected, found).
    pub damaged: Vec<(String, String, String)>,
    /// Temporary files (`*.tmp`) left by an interrupted write: not results, reported only.
    pub leftover_tmp: Vec<String>,
}

impl OutputCheck {
    /// Whether every listed file is present and intact.
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.damaged.is_empty()
    }
}

/// Check every file listed in `dir/manifest.json` against its SHA-256. `Err` when the
/// directory or the manifest cannot be read or is not a hipdrop manifest (listed paths
/// must be relative and stay inside `dir`).
pub fn check_output(dir: &Path) -> Result<OutputCheck, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let mp = dir.join("manifest.json");
    if !mp.exists() {
        if let Some(msg) = interrupted(dir) {
            return Err(msg);
        }
    }
    let bytes = std::fs::read(&mp).map_err(|e| format!("cannot read {}: {e}", mp.display()))?;
    let m: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not valid JSON: {e}", mp.display()))?;
    let files = m
        .get("files_sha256")
        .and_then(|f| f.as_object())
        .ok_or_else(|| format!("{}: no files_sha256 table", mp.display()))?;
    let mut c = OutputCheck::default();
    for (f, sum) in files {
        let sum = sum
            .as_str()
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("{}: files_sha256.\"{f}\" is not a SHA-256", mp.display()))?;
        let rel = Path::new(f);
        let inside = !f.is_empty()
            && rel
                .components()
                .all(|p| matches!(p, std::path::Component::Normal(_)));
        if !inside {
            return Err(format!(
                "{}: files_sha256.\"{f}\" is not a path inside the directory",
                mp.display()
            ));
        }
        match std::fs::read(dir.join(rel)) {
            Err(_) => c.missing.push(f.clone()),
            Ok(b) => {
                let found = sha256_hex(&b);
                if found.eq_ignore_ascii_case(sum) {
                    c.intact.push(f.clone());
                } else {
                    c.damaged.push((f.clone(), sum.to_string(), found));
                }
            }
        }
    }
    fn tmp_files(root: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                tmp_files(root, &p, out);
            } else if p.extension().is_some_and(|e| e == "tmp") {
                let rel = p.strip_prefix(root).unwrap_or(&p);
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    tmp_files(dir, dir, &mut c.leftover_tmp);
    Ok(c)
}

/// CPU time of one simulation step (s): 25 us per simulated ms at the default 2 ms step
/// (`docs/performance.md`: 36-40 us per step on the reference machine before the
/// usable-capacity linear programme, which adds about 25 % at the default recording).
pub const CPU_S_PER_STEP: f64 = 50e-6;

/// Bytes of each per-run file: (file, fixed part (its header and its line in
/// manifest.json), bytes per time-series row), measured from
/// `hipdrop run scenarios/single_leg_stance.toml` at 0.3 s and 3 s with 10 ms rows.
pub const FILE_BYTES: &[(&str, f64, f64)] = &[
    ("timeseries.csv", 4700.0, 4000.0),
    ("kinematics.mot", 450.0, 436.0),
    ("states.sto", 3900.0, 1501.0),
    ("grf.mot", 400.0, 124.0),
];

/// Bytes per run outside the time series: its `result.json` (about 1.2 kB) and its rows
/// in summary.csv, summary.json, manifest.json, plan.json and timing.csv (measured on
/// sweeps of 3 and 30 runs with `output.timeseries = false`).
pub const RECORD_BYTES: f64 = 5800.0;

/// Bytes of an output directory outside its runs (headers of the summaries, manifest
/// and plan), measured as for [`RECORD_BYTES`].
pub const FIXED_BYTES: f64 = 3200.0;

/// What a sweep will cost, estimated before running it (`hipdrop check`).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Runs.
    pub runs: usize,
    /// Simulated time of all runs (s), if none stops early.
    pub simulated_s: f64,
    /// Steps of all runs.
    pub steps: f64,
    /// CPU time (s): `steps * CPU_S_PER_STEP`.
    pub cpu_s: f64,
    /// Bytes of all output files.
    pub bytes: f64,
    /// Of which the time-series files (0 with `output.timeseries = false`).
    pub series_bytes: f64,
}

/// Estimate the simulated time, CPU time and disk space of `runs`: an upper bound in
/// time (a run that loses balance stops early), the full files on disk.
pub fn estimate(runs: &[Run]) -> Estimate {
    let mut e = Estimate {
        runs: runs.len(),
        simulated_s: 0.0,
        steps: 0.0,
        cpu_s: 0.0,
        bytes: FIXED_BYTES,
        series_bytes: 0.0,
    };
    for r in runs {
        let sc = &r.scenario;
        let t = sc.task.duration_s;
        let steps = (t / sc.integration.dt_s).round();
        let rows = (t / sc.output.record_interval_s + 1e-9).floor() + 1.0;
        e.simulated_s += t;
        e.steps += steps;
        e.bytes += RECORD_BYTES;
        if sc.output.timeseries {
            let b: f64 = FILE_BYTES.iter().map(|(_, h, row)| h + row * rows).sum();
            e.series_bytes += b;
            e.bytes += b;
        }
    }
    e.cpu_s = e.steps * CPU_S_PER_STEP;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every run belongs to exactly one shard, and shards differ by at most one run.
        #[test]
        fn shards_partition_the_sweep_and_balance_it(runs in 1usize..500, n in 1usize..64) {
            prop_assume!(n <= runs);
            let sizes: Vec<usize> = (1..=n)
                .map(|k| (0..runs).filter(|&i| Shard { index: k, count: n }.holds(i)).count())
                .collect();
            for i in 0..runs {
                let owners = (1..=n).filter(|&k| Shard { index: k, count: n }.holds(i)).count();
                prop_assert_eq!(owners, 1);
            }
            prop_assert_eq!(sizes.iter().sum::<usize>(), runs);
            prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }

        /// Any text: parsed to a valid shard, or an error naming the value and what is allowed.
        #[test]
        fn shard_parse_accepts_k_of_n_only(s in "\\PC{0,12}") {
            match Shard::parse(&s) {
                Ok(sh) => {
                    prop_assert!(sh.index >= 1 && sh.index <= sh.count);
                    prop_assert_eq!(Shard::parse(&sh.to_string()), Ok(sh));
                }
                Err(e) => {
                    prop_assert!(e.contains(&format!("--shard {s}")), "{}", e);
                    prop_assert!(e.contains("1 <= K <= N"), "{}", e);
                }
            }
        }
    }

    #[test]
    fn shard_parse_examples() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in [
            "0/4", "5/4", "4", "/4", "1/", "a/b", "1/0", "-1/4", "1/4/5", "",
        ] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        // Run i belongs to shard i mod N + 1.
        let s = Shard { index: 2, count: 3 };
        assert_eq!((0..7).filter(|&i| s.holds(i)).collect::<Vec<_>>(), [1, 4]);
    }

    #[test]
    fn plan_without_a_shard_serialises_as_before_and_resume_command_names_the_shard() {
        let mut p = Plan {
            name: "x".into(),
            columns: vec![],
            runs: vec!["r0000_a".into(), "r0001_b".into(), "r0002_c".into()],
            resolved: vec![],
            command: "hipdrop run s.toml".into(),
            shard: None,
        };
        assert!(!serde_json::to_string(&p).unwrap().contains("shard"));
        assert_eq!(p.own_runs().len(), 3);
        p.shard = Some(Shard { index: 2, count: 2 });
        assert_eq!(p.own_runs(), ["r0001_b"]);
        assert_eq!(
            p.resume_command(Path::new("out dir")),
            "hipdrop run s.toml --shard 2/2 --resume --out 'out dir'"
        );
        let back: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
