//! Scenario files (TOML): what to simulate, and which parameters to sweep.
//!
//! One source of truth, [`keys`], lists every key the loader accepts with its unit,
//! default, allowed range and meaning; it drives validation, `hipdrop list keys` and
//! the test that `docs/scenarios.md` documents every key.
//!
//! Loading: the file and its `include`s (relative to the including file, recursive,
//! cycles rejected) are flattened to `section.key = value` leaves, later files and then
//! `--set KEY=VALUE` overriding earlier ones. Every leaf is checked (unknown keys get the
//! nearest valid key suggested; type and range errors name file, line, key, value and
//! the allowed range) and every problem is reported at once. The sweep is then expanded
//! into runs ([`crate::sweep`]), and each run's scenario is checked again.

use crate::model::{Side, Subject};
use crate::sim::StanceConfig;
use crate::task::{StepDirection, Task, TaskKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// File (or `--set`).
    pub file: String,
    /// Line (1-based; 0 when unknown, e.g. `--set`).
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{}", self.file)
        }
    }
}

/// One problem in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub origin: Origin,
    /// What is wrong.
    pub msg: String,
}

/// A bad scenario: every problem found, each naming file, line, key, value and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", p.origin, p.msg)?;
        }
        Ok(())
    }
}
impl std::error::Error for ScenarioError {}

/// The problem reported for a scenario file without any key.
pub const EMPTY_FILE: &str = "the file has no keys: a scenario needs at least one key, e.g. `include = [\"single_leg_stance.toml\"]` or `[task]` `duration_s = 2.0`; to run every default, say so with `name = \"defaults\"` (every key: `hipdrop list keys`)";

/// Type of a key's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A number (integers accepted).
    Float,
    /// An integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// One of the listed strings.
    Choice(&'static [&'static str]),
    /// Any string.
    Text,
    /// A list of file names.
    Files,
    /// A sweep axis: a list of values or a table (see `docs/scenarios.md`).
    Axis,
}

/// One accepted key: the single source of truth for validation, `hipdrop list keys` and the docs test.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// Full dotted name; `<...>` marks a family (`strength.<muscle or group>`).
    pub name: &'static str,
    /// Value type.
    pub kind: Kind,
    /// Unit (empty when dimensionless).
    pub unit: &'static str,
    /// Default value.
    pub default: toml::Value,
    /// Smallest allowed value (numbers).
    pub min: f64,
    /// Largest allowed value (numbers).
    pub max: f64,
    /// What it does.
    pub doc: &'static str,
}

impl KeySpec {
    /// Allowed values, for messages and docs.
    pub fn allowed(&self) -> String {
        match &self.kind {
            Kind::Float | Kind::Int => {
                let u = if self.unit.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.unit)
                };
                format!("{} to {}{u}", self.min, self.max)
            }
            Kind::Bool => "true or false".into(),
            Kind::Choice(c) => c
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(" or "),
            Kind::Text => "a string usable as a directory name (no / or \\, not . or ..)".into(),
            Kind::Files => "a list of file names".into(),
            Kind::Axis => {
                "a list, {start, stop, count} or {min, max[, distribution, mean, sd]}".into()
            }
        }
    }
    /// Whether the key can be a sweep axis.
    pub fn sweepable(&self) -> bool {
        matches!(
            self.kind,
            Kind::Float | Kind::Int | Kind::Bool | Kind::Choice(_)
        ) && !self.name.starts_with("sweep.")
            && self.name != "model.muscle_set"
            && self.name != "output.timeseries"
    }
}

/// Sweep modes.
pub const SWEEP_MODES: &[&str] = &["grid", "zip", "one_at_a_time", "random", "latin_hypercube"];

/// Defaults of the scenario keys: owned here, by the scenario layer (the simulator's
/// `StanceConfig::default()` agrees with them, tested).
pub mod defaults {
    /// `task.duration_s` (s) of single-leg stance.
    pub const DURATION_S: f64 = 3.0;
    /// `task.stance_knee_flexion_deg` (deg).
    pub const STANCE_KNEE_FLEXION_DEG: f64 = 10.0;
    /// `task.swing_hip_flexion_deg` (deg) of single-leg stance.
    pub const SWING_HIP_FLEXION_DEG: f64 = 30.0;
    /// `task.swing_knee_flexion_deg` (deg) of single-leg stance.
    pub const SWING_KNEE_FLEXION_DEG: f64 = 60.0;
    /// `task.squat_depth_deg` (deg): the clinical single-leg squat to 60 deg knee flexion.
    pub const SQUAT_DEPTH_DEG: f64 = 60.0;
    /// `task.step_height_m` (m): a 20 cm box.
    pub const STEP_HEIGHT_M: f64 = 0.20;
    /// Standing time after the ascent of a squat or step-down (s), added to the default
    /// `task.duration_s`: time for the pelvis to settle after the ascent (at the clinical pace it is
    /// still moving at 1.4 deg/s 0.5 s after it) before the settle check (0.2 s).
    pub const FINAL_STAND_S: f64 = 1.0;
    /// `controller.posture_frequency_rad_s` (rad/s).
    pub const POSTURE_FREQUENCY_RAD_S: f64 = 10.0;
    /// `controller.posture_damping_ratio`.
    pub const POSTURE_DAMPING_RATIO: f64 = 1.0;
    /// `controller.balance_frequency_rad_s` (rad/s).
    pub const BALANCE_FREQUENCY_RAD_S: f64 = 3.0;
    /// `controller.control_period_s` (s).
    pub const CONTROL_PERIOD_S: f64 = 0.002;
    /// `controller.compensation_gain`.
    pub const COMPENSATION_GAIN: f64 = 1.0;
    /// `controller.compensation_max_lean_deg` (deg).
    pub const COMPENSATION_MAX_LEAN_DEG: f64 = 15.0;
    /// `integration.dt_s` (s).
    pub const DT_S: f64 = 0.002;
    /// `integration.substeps`.
    pub const SUBSTEPS: i64 = 1;
    /// `output.record_interval_s` (s).
    pub const RECORD_INTERVAL_S: f64 = 0.01;
    /// `output.steady_window_s` (s).
    pub const STEADY_WINDOW_S: f64 = 0.5;
}

/// Every key the loader accepts.
pub fn keys() -> Vec<KeySpec> {
    use defaults as c;
    use toml::Value::{Boolean as B, Float as F, Integer as I, String as S};
    let squat = crate::task::protocol(TaskKind::SingleLegSquat, StepDirection::Forward);
    let k = |name, kind, unit, default, min, max, doc| KeySpec {
        name,
        kind,
        unit,
        default,
        min,
        max,
        doc,
    };
    vec![
        k("name", Kind::Text, "", S(String::new()), 0.0, 0.0,
          "Scenario name: the output directory is output/<name>. Default: the file name without .toml. Not inherited from included files."),
        k("include", Kind::Files, "", toml::Value::Array(vec![]), 0.0, 0.0,
          "Files read first (paths relative to this file, recursively); this file's keys override theirs."),
        k("subject.mass_kg", Kind::Float, "kg", F(crate::model::GENERIC_MASS_KG), 30.0, 200.0,
          "Body mass. Segment masses scale with it; muscle forces scale with mass^(2/3)."),
        k("subject.height_m", Kind::Float, "m", F(crate::model::GENERIC_HEIGHT_M), 1.2, 2.3,
          "Height. All lengths (segments, muscle paths, fibre and tendon lengths) scale with height / 1.80 m."),
        k("subject.stance_side", Kind::Choice(&["left", "right"]), "", S("right".into()), 0.0, 0.0,
          "The leg stood on; the other leg is lifted."),
        k("model.muscle_set", Kind::Choice(&["gait2392"]), "", S("gait2392".into()), 0.0, 0.0,
          "Muscle data set. Only OpenSim gait2392 (92 muscles) exists."),
        k("strength.<muscle or group>", Kind::Float, "", F(1.0), 0.0, 10.0,
          "Factor of the nominal max isometric force of a gait2392 muscle (glut_med1) or group (hip_abductors; see `hipdrop list groups`), both sides, or one side with _r/_l. Factors multiply where a muscle is named twice."),
        k("task.kind", Kind::Choice(&TaskKind::NAMES), "", S("single_leg_stance".into()), 0.0, 0.0,
          "The task: single_leg_stance (quiet stance, the Trendelenburg test), single_leg_squat (the stance knee bends to task.squat_depth_deg and back) or step_down (standing on a box of task.step_height_m, the stance leg lowers the body until the swing foot reaches floor level, then rises). The squat and step-down prescribe only the sagittal plane (stance knee; pelvic tilt and trunk flexion from data/tasks/single_leg_squat_reference.csv); their swing-leg posture and pace default to data/tasks/protocols.csv."),
        k("task.duration_s", Kind::Float, "s", F(c::DURATION_S), 0.01, 600.0,
          "Simulated time. Default for single_leg_squat and step_down: task.descent_s + task.hold_s + task.ascent_s + 1 s of standing (at least the movement's duration)."),
        k("task.squat_depth_deg", Kind::Float, "deg", F(c::SQUAT_DEPTH_DEG), 15.0, 90.0,
          "single_leg_squat: stance knee flexion at the bottom (more than task.stance_knee_flexion_deg). Past 60 deg the pelvic tilt and trunk flexion of the reference stay at their 60 deg values (the published data end there). A run whose knee stays more than 5 deg short ends short_of_depth."),
        k("task.descent_s", Kind::Float, "s", F(squat.descent_s), 0.2, 10.0,
          "single_leg_squat, step_down: duration of the descent (minimum-jerk). Default from data/tasks/protocols.csv: squat 1 s (one squat per 2 s, McGovern et al. 2018), step_down 2 s."),
        k("task.hold_s", Kind::Float, "s", F(squat.hold_s), 0.0, 30.0,
          "single_leg_squat, step_down: time held at the bottom."),
        k("task.ascent_s", Kind::Float, "s", F(squat.ascent_s), 0.2, 10.0,
          "single_leg_squat, step_down: duration of the ascent back to the start posture (minimum-jerk). Default as task.descent_s."),
        k("task.step_height_m", Kind::Float, "m", F(c::STEP_HEIGHT_M), 0.05, 0.4,
          "step_down: height of the box the stance foot stands on. The bottom is the knee flexion at which the swing foot's lowest point reaches floor level in the quasi-static posture; the descent ends when the swing foot reaches floor level. A run whose swing foot stays more than 2 cm above floor level ends short_of_depth; one whose foot went more than 2 cm below it says so in status_detail (the model has no floor under the swing foot)."),
        k("task.step_direction", Kind::Choice(&StepDirection::NAMES), "", S("forward".into()), 0.0, 0.0,
          "step_down: forward (the swing leg reaches in front of the box) or lateral (it hangs beside the box); sets the swing leg's default posture (data/tasks/protocols.csv)."),
        k("task.stance_knee_flexion_deg", Kind::Float, "deg", F(c::STANCE_KNEE_FLEXION_DEG), 0.0, 60.0,
          "Stance-knee flexion held by the controller; in single_leg_squat and step_down, the knee flexion at the start and the end of the movement."),
        k("task.swing_hip_flexion_deg", Kind::Float, "deg", F(c::SWING_HIP_FLEXION_DEG), 0.0, 90.0,
          "Hip flexion of the lifted leg: relative to the pelvis in single_leg_stance; in single_leg_squat and step_down the thigh's angle from vertical in the lab frame, held while the pelvis tilts. Default for those tasks from data/tasks/protocols.csv (squat 0, step_down forward 15, lateral 0)."),
        k("task.swing_knee_flexion_deg", Kind::Float, "deg", F(c::SWING_KNEE_FLEXION_DEG), 0.0, 120.0,
          "Knee flexion of the lifted leg. Default for single_leg_squat and step_down from data/tasks/protocols.csv (squat 90, step_down 10)."),
        k("task.compensation", Kind::Bool, "", B(false), 0.0, 0.0,
          "Lean the trunk over the stance leg (the compensated Trendelenburg): before the foot is lifted, by the smallest whole degree at which the abductors meet the demand, then further while they fall short."),
        k("controller.posture_frequency_rad_s", Kind::Float, "rad/s", F(c::POSTURE_FREQUENCY_RAD_S), 0.5, 50.0,
          "Natural frequency of the posture PD loops."),
        k("controller.posture_damping_ratio", Kind::Float, "", F(c::POSTURE_DAMPING_RATIO), 0.1, 5.0,
          "Damping ratio of the posture PD loops."),
        k("controller.balance_frequency_rad_s", Kind::Float, "rad/s", F(c::BALANCE_FREQUENCY_RAD_S), 0.1, 20.0,
          "Natural frequency of the centre-of-mass balance loop."),
        k("controller.control_period_s", Kind::Float, "s", F(c::CONTROL_PERIOD_S), 1e-4, 0.05,
          "Period of the static optimisation; at least integration.dt_s (if not set, it grows to integration.dt_s)."),
        k("controller.compensation_gain", Kind::Float, "", F(c::COMPENSATION_GAIN), 0.0, 5.0,
          "Gain of the lean that grows while the abductors fall short (1 = the mechanical estimate of the lean that removes the shortfall, reached with a 0.15 s time constant)."),
        k("controller.compensation_max_lean_deg", Kind::Float, "deg", F(c::COMPENSATION_MAX_LEAN_DEG), 0.0, 30.0,
          "Largest compensating trunk lean."),
        k("integration.dt_s", Kind::Float, "s", F(c::DT_S), 1e-4, 5e-3,
          "Physics step. 2 ms is the largest step whose results agree within 0.1 deg with a 4x finer step (tests/convergence.rs)."),
        k("integration.substeps", Kind::Int, "", I(c::SUBSTEPS), 1.0, 16.0,
          "rapier solver iterations per step."),
        k("output.record_interval_s", Kind::Float, "s", F(c::RECORD_INTERVAL_S), 1e-4, 1.0,
          "Interval between time-series rows (.csv, .mot, .sto); at least integration.dt_s (if not set, it grows to integration.dt_s)."),
        k("output.steady_window_s", Kind::Float, "s", F(c::STEADY_WINDOW_S), 0.0, 600.0,
          "Window at the end of the run averaged for the steady-state metrics in summary.csv; at most task.duration_s (if not set, it shrinks to task.duration_s). A run that ends early (lost_balance, diverged) reports the state at its end instead."),
        k("output.timeseries", Kind::Bool, "", B(true), 0.0, 0.0,
          "Write each run's time series (runs/<id>/timeseries.csv, kinematics.mot, states.sto, grf.mot). false: only runs/<id>/result.json per run, with summary.csv, summary.json and manifest.json (about 6 kB per run instead of about 1.2 MB for a 2 s run); hipdrop plot then draws the summary figures only. Cannot be swept."),
        k("sweep.mode", Kind::Choice(SWEEP_MODES), "", S("grid".into()), 0.0, 0.0,
          "How axes combine: grid (cartesian product), zip (varied together), one_at_a_time (each axis alone, the others at the base value), random or latin_hypercube (sweep.samples draws)."),
        k("sweep.samples", Kind::Int, "", I(10), 1.0, 100000.0,
          "Number of runs drawn in random and latin_hypercube modes."),
        k("sweep.seed", Kind::Int, "", I(1), 0.0, 9007199254740991.0,
          "Seed of the random and latin_hypercube draws: the same seed gives the same runs."),
        k("sweep.axes.<key>", Kind::Axis, "", toml::Value::Array(vec![]), 0.0, 0.0,
          "A swept key (any number, boolean or choice key above, quoted: \"strength.hip_abductors\"): a list [1.0, 0.5], a range {start, stop, count} (count = 1 only with start = stop), or for sweep.mode = \"random\" {min, max} (uniform) or {min, max, distribution = \"normal\", mean, sd} (normal truncated to [min, max]); latin_hypercube takes only uniform {min, max} axes."),
    ]
}

/// Muscle base names and group names valid after `strength.` (without `_r`/`_l`).
pub fn strength_names() -> Vec<String> {
    let m = generic_model();
    let mut v: Vec<String> = m.groups.keys().cloned().collect();
    for mu in &m.muscles {
        if !v.contains(&mu.base) {
            v.push(mu.base.clone());
        }
    }
    v.push("all".into());
    v
}

fn generic_model() -> &'static crate::model::Model {
    static M: std::sync::OnceLock<crate::model::Model> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        crate::model::Model::gait2392(Subject::GENERIC, &BTreeMap::new())
            .expect("built-in model data are valid")
    })
}

/// The subject.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubjectSection {
    /// Body mass (kg), 30-200.
    pub mass_kg: f64,
    /// Height (m), 1.2-2.3.
    pub height_m: f64,
    /// Stance side, "left" or "right".
    pub stance_side: Side,
}

/// The model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Muscle data set: "gait2392".
    pub muscle_set: String,
}

/// The task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSection {
    /// Simulated time (s).
    pub duration_s: f64,
    /// Stance knee flexion (deg).
    pub stance_knee_flexion_deg: f64,
    /// Swing hip flexion (deg).
    pub swing_hip_flexion_deg: f64,
    /// Swing knee flexion (deg).
    pub swing_knee_flexion_deg: f64,
    /// Trunk-lean compensation on or off.
    pub compensation: bool,
    /// `single_leg_stance`, `single_leg_squat` or `step_down`.
    #[serde(default = "stance_kind")]
    pub kind: String,
    /// Squat depth: stance knee flexion at the bottom (deg).
    #[serde(default = "squat_depth")]
    pub squat_depth_deg: f64,
    /// Descent (s).
    #[serde(default = "one")]
    pub descent_s: f64,
    /// Hold at the bottom (s).
    #[serde(default)]
    pub hold_s: f64,
    /// Ascent (s).
    #[serde(default = "one")]
    pub ascent_s: f64,
    /// Box height of the step-down (m).
    #[serde(default = "step_height")]
    pub step_height_m: f64,
    /// `forward` or `lateral`.
    #[serde(default = "forward")]
    pub step_direction: String,
}

fn stance_kind() -> String {
    "single_leg_stance".into()
}
fn squat_depth() -> f64 {
    defaults::SQUAT_DEPTH_DEG
}
fn one() -> f64 {
    1.0
}
fn step_height() -> f64 {
    defaults::STEP_HEIGHT_M
}
fn forward() -> String {
    "forward".into()
}

impl TaskSection {
    /// The typed task (the names were checked when the scenario was loaded).
    pub fn task(&self) -> Task {
        Task {
            kind: TaskKind::parse(&self.kind).unwrap_or(TaskKind::SingleLegStance),
            squat_depth_deg: self.squat_depth_deg,
            descent_s: self.descent_s,
            hold_s: self.hold_s,
            ascent_s: self.ascent_s,
            step_height_m: self.step_height_m,
            step_direction: StepDirection::parse(&self.step_direction)
                .unwrap_or(StepDirection::Forward),
        }
    }
}

/// The controller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControllerSection {
    /// Natural frequency of the posture PD loops (rad/s).
    pub posture_frequency_rad_s: f64,
    /// Damping ratio of the PD loops.
    pub posture_damping_ratio: f64,
    /// Natural frequency of the centre-of-mass balance loop (rad/s).
    pub balance_frequency_rad_s: f64,
    /// Static optimisation period (s).
    pub control_period_s: f64,
    /// Gain of the trunk lean that grows with the abductor shortfall (1 = mechanical estimate).
    pub compensation_gain: f64,
    /// Largest compensating trunk lean (deg).
    pub compensation_max_lean_deg: f64,
}

/// Integration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSection {
    /// Physics step (s), 1e-4 to 5e-3.
    pub dt_s: f64,
    /// rapier solver iterations per step, 1-16.
    pub substeps: usize,
}

/// Outputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Interval between time-series rows (s).
    pub record_interval_s: f64,
    /// Window at the end of the run averaged for steady-state metrics (s).
    pub steady_window_s: f64,
    /// Write the per-run time-series files (default true); false: result.json only.
    #[serde(default = "yes")]
    pub timeseries: bool,
}

fn yes() -> bool {
    true
}

/// One run's fully resolved scenario (sweep values applied).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// The subject.
    pub subject: SubjectSection,
    /// The model.
    pub model: ModelSection,
    /// Strength factor per muscle or group (1 = nominal gait2392 force).
    pub strength: BTreeMap<String, f64>,
    /// The task.
    pub task: TaskSection,
    /// The controller.
    pub controller: ControllerSection,
    /// Integration.
    pub integration: IntegrationSection,
    /// Outputs.
    pub output: OutputSection,
}

/// A loaded scenario: the base values, the sweep and where every value came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Scenario name.
    pub name: String,
    /// The top-level file.
    pub path: PathBuf,
    /// Every plain key (defaults filled in) -> value, sweep keys excluded.
    pub base: BTreeMap<String, toml::Value>,
    /// Sweep settings and axes (`sweep.mode`, `sweep.axes.<key>`, ...) as written.
    pub sweep: BTreeMap<String, toml::Value>,
    /// Keys given with `--set`, in order.
    pub set_keys: Vec<String>,
    /// Origin of every key that was written somewhere.
    pub origins: BTreeMap<String, Origin>,
}

/// A flattened leaf.
struct Leaf {
    key: String,
    value: toml::Value,
    origin: Origin,
}

/// Parse a `--set KEY=VALUE` value: TOML literal if it parses, else a string.
fn parse_value(v: &str) -> toml::Value {
    let doc = format!("x = {v}");
    match doc.parse::<toml::Table>() {
        Ok(t) => t.get("x").cloned().unwrap_or(toml::Value::String(v.into())),
        Err(_) => toml::Value::String(v.to_string()),
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// Line of the key at `path` in the document (0 if not found).
fn key_line(doc: &toml_edit::ImDocument<&str>, text: &str, path: &[String]) -> usize {
    let mut t: &dyn toml_edit::TableLike = doc.as_table();
    let mut line = 0;
    for (i, p) in path.iter().enumerate() {
        let Some((k, item)) = t.get_key_value(p) else {
            break;
        };
        if let Some(s) = k.span().or_else(|| item.span()) {
            line = line_of(text, s.start);
        }
        if i + 1 < path.len() {
            match item.as_table_like() {
                Some(tt) => t = tt,
                None => break,
            }
        }
    }
    line
}

fn flatten(
    prefix: &mut Vec<String>,
    t: &toml::Table,
    doc: &toml_edit::ImDocument<&str>,
    text: &str,
    file: &str,
    out: &mut Vec<Leaf>,
) {
    for (k, v) in t {
        prefix.push(k.clone());
        let axis = prefix.len() == 3 && prefix[0] == "sweep" && prefix[1] == "axes";
        let strength = prefix.len() == 2 && prefix[0] == "strength";
        match v {
            toml::Value::Table(sub) if !axis && !strength => {
                flatten(prefix, sub, doc, text, file, out)
            }
            _ => out.push(Leaf {
                key: prefix.join("."),
                value: v.clone(),
                origin: Origin {
                    file: file.to_string(),
                    line: key_line(doc, text, prefix),
                },
            }),
        }
        prefix.pop();
    }
}

/// Read `path` and its includes into `leaves` (includes first).
fn read_layers(
    path: &Path,
    shown: &str,
    stack: &mut Vec<PathBuf>,
    top: bool,
    leaves: &mut Vec<Leaf>,
    problems: &mut Vec<Problem>,
) {
    let at = |line| Origin {
        file: shown.to_string(),
        line,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem {
                origin: at(0),
                msg: format!("cannot read: {e}"),
            });
            return;
        }
    };
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            let e: toml::de::Error = e;
            let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(0);
            problems.push(Problem {
                origin: at(line),
                msg: format!("not valid TOML: {}", e.message().trim().replace('\n', "; ")),
            });
            return;
        }
    };
    let doc = match toml_edit::ImDocument::parse(text.as_str()) {
        Ok(d) => d,
        Err(e) => {
            problems.push(Problem {
                origin: at(0),
                msg: format!("not valid TOML: {e}"),
            });
            return;
        }
    };
    let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    stack.push(canon);
    if let Some(inc) = table.get("include") {
        let line = key_line(&doc, &text, &["include".to_string()]);
        let list: Option<Vec<&str>> = inc
            .as_array()
            .and_then(|a| a.iter().map(|v| v.as_str()).collect());
        match list {
            None => problems.push(Problem {
                origin: at(line),
                msg: format!(
                    "include = {inc}: allowed a list of file names, e.g. include = [\"base.toml\"]"
                ),
            }),
            Some(files) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                for f in files {
                    let p = dir.join(f);
                    let c = p.canonicalize().unwrap_or_else(|_| p.clone());
                    if stack.contains(&c) {
                        let chain: Vec<String> = stack
                            .iter()
                            .chain(std::iter::once(&c))
                            .map(|p| {
                                p.file_name()
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .unwrap_or_default()
                            })
                            .collect();
                        problems.push(Problem {
                            origin: at(line),
                            msg: format!("include cycle: {}", chain.join(" -> ")),
                        });
                        continue;
                    }
                    if !p.exists() {
                        problems.push(Problem {
                            origin: at(line),
                            msg: format!("include = \"{f}\": no such file {}", p.display()),
                        });
                        continue;
                    }
                    read_layers(&p, &p.display().to_string(), stack, false, leaves, problems);
                }
            }
        }
    }
    stack.pop();
    let mut own = Vec::new();
    flatten(&mut Vec::new(), &table, &doc, &text, shown, &mut own);
    // An empty scenario (no key at all: an empty file, only comments or empty tables) is
    // more likely a wrong or truncated file than a request for every default: refuse it.
    if top && own.is_empty() {
        problems.push(Problem {
            origin: at(0),
            msg: EMPTY_FILE.to_string(),
        });
    }
    own.retain(|l| l.key != "include" && (top || l.key != "name"));
    leaves.extend(own);
}

fn type_name(v: &toml::Value) -> &'static str {
    v.type_str()
}

fn nearest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (strsim::levenshtein(key, c), c))
        .min()
        .filter(|(d, c)| *d <= (c.len().max(key.len()) / 2).max(2))
        .map(|(_, c)| c.to_string())
}

/// Check one value against a spec; `Err(msg)` names key, value and what is allowed.
pub fn check_value(spec: &KeySpec, key: &str, v: &toml::Value) -> Result<toml::Value, String> {
    let bad = || format!("{key} = {v}: allowed {}", spec.allowed());
    match &spec.kind {
        Kind::Float | Kind::Int => {
            let x = match v {
                toml::Value::Float(f) if spec.kind == Kind::Float => *f,
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) if f.fract() == 0.0 => *f,
                _ => {
                    let want = if spec.kind == Kind::Int {
                        "an integer"
                    } else {
                        "a number"
                    };
                    return Err(format!(
                        "{key} = {v}: expected {want} ({}), found {}",
                        spec.allowed(),
                        type_name(v)
                    ));
                }
            };
            if !(x.is_finite() && x >= spec.min && x <= spec.max) {
                return Err(bad());
            }
            Ok(if spec.kind == Kind::Int {
                toml::Value::Integer(x as i64)
            } else {
                toml::Value::Float(x)
            })
        }
        Kind::Bool => match v {
            toml::Value::Boolean(_) => Ok(v.clone()),
            _ => Err(bad()),
        },
        Kind::Choice(c) => match v.as_str() {
            Some(s) if c.contains(&s) => Ok(v.clone()),
            _ => Err(bad()),
        },
        // `name` names the output directory: one path component.
        Kind::Text => match v {
            toml::Value::String(s) if !s.contains(['/', '\\', '\0']) && s != "." && s != ".." => {
                Ok(v.clone())
            }
            _ => Err(bad()),
        },
        Kind::Files | Kind::Axis => Ok(v.clone()),
    }
}

/// The spec for a plain key (`strength.glut_med1` maps to the strength family), if any.
pub fn spec_for(key: &str) -> Option<KeySpec> {
    let all = keys();
    if let Some(name) = key.strip_prefix("strength.") {
        let base = name
            .strip_suffix("_r")
            .or_else(|| name.strip_suffix("_l"))
            .unwrap_or(name);
        let names = strength_names();
        if names.iter().any(|n| n == name || n == base) {
            return all.into_iter().find(|s| s.name.starts_with("strength."));
        }
        return None;
    }
    all.into_iter()
        .find(|s| s.name == key && !s.name.contains('<'))
}

/// A key as messages show it: as written when it is a dotted path of bare keys
/// (`task.duration_s`), else quoted as one TOML basic string (`"task..x"`).
pub fn shown_key(key: &str) -> String {
    let bare = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if key.split('.').all(bare) {
        key.to_string()
    } else {
        quoted(key)
    }
}

/// `s` as a TOML basic string.
fn quoted(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => q.push_str(&format!("\\u{:04X}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// The smallest muscle group (`data/muscle_groups.csv`) that contains the muscle
/// `base` (a name without `_r`/`_l`), if `base` is a muscle and not itself a group.
fn smallest_group_of(base: &str) -> Option<String> {
    let model = crate::model::Model::gait2392(Subject::GENERIC, &BTreeMap::new()).ok()?;
    if model.groups.contains_key(base) {
        return None;
    }
    model
        .groups
        .iter()
        .filter(|(_, members)| members.iter().any(|m| m == base))
        .min_by_key(|(name, members)| (members.len(), name.len()))
        .map(|(name, _)| name.clone())
}

fn suggest(key: &str) -> String {
    let shown = shown_key(key);
    let mut cands: Vec<String> = keys()
        .iter()
        .filter(|s| !s.name.contains('<'))
        .map(|s| s.name.to_string())
        .collect();
    // A misspelt table name (`strenght.hip_abductors`): compare against strength keys too.
    let table_near_strength = key
        .split_once('.')
        .is_some_and(|(t, _)| t != "strength" && strsim::levenshtein(t, "strength") <= 2);
    if key.starts_with("strength.") {
        cands = strength_names()
            .into_iter()
            .map(|n| format!("strength.{n}"))
            .collect();
    } else if table_near_strength {
        cands.extend(
            strength_names()
                .into_iter()
                .map(|n| format!("strength.{n}")),
        );
    }
    match nearest(key, cands.iter().map(|s| s.as_str())) {
        Some(n) => {
            // A muscle compartment is rarely what a student means: name its group too.
            let group = n.strip_prefix("strength.").and_then(smallest_group_of);
            match group {
                Some(g) => format!(
                    "unknown key `{shown}`; did you mean `{n}` (one part of the group `strength.{g}`)?"
                ),
                None => format!("unknown key `{shown}`; did you mean `{n}`?"),
            }
        }
        None if key.starts_with("strength.") => {
            format!(
                "unknown key `{shown}`: no muscle or group of that name (see `hipdrop list groups`)"
            )
        }
        None => format!("unknown key `{shown}` (see `hipdrop list keys`)"),
    }
}

/// A `--set` key written as a TOML dotted key (`task.duration_s`, or with quoted parts:
/// `sweep.axes."strength.hip_abductors"`) as the dotted path the scenario keys use, the
/// same path the key has in a scenario file. A key that is not valid TOML, or has an
/// empty part, is kept as given, to be reported as it was written.
fn set_key_path(k: &str) -> String {
    match toml_edit::Key::parse(k) {
        Ok(parts) if !parts.is_empty() && parts.iter().all(|p| !p.get().is_empty()) => {
            parts.iter().map(|p| p.get()).collect::<Vec<_>>().join(".")
        }
        _ => k.to_string(),
    }
}

/// Load `path` with its includes, apply `sets` ("key.path=value"), check every key.
pub fn load(path: &Path, sets: &[String]) -> Result<Loaded, ScenarioError> {
    let shown = path.display().to_string();
    let mut leaves = Vec::new();
    let mut problems = Vec::new();
    read_layers(
        path,
        &shown,
        &mut Vec::new(),
        true,
        &mut leaves,
        &mut problems,
    );
    let mut set_keys = Vec::new();
    for s in sets {
        let origin = Origin {
            file: "--set".to_string(),
            line: 0,
        };
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                let k = set_key_path(k.trim());
                // `--set sweep.axes.strength.hip_abductors=[1, 0.5]`: the axis name is the rest.
                set_keys.push(k.clone());
                leaves.push(Leaf {
                    key: k,
                    value: parse_value(v.trim()),
                    origin,
                });
            }
            // Reported in command-line order with the other --set problems.
            _ => leaves.push(Leaf {
                key: String::new(),
                value: toml::Value::String(s.clone()),
                origin,
            }),
        }
    }
    let mut base: BTreeMap<String, toml::Value> = BTreeMap::new();
    let mut sweep: BTreeMap<String, toml::Value> = BTreeMap::new();
    let mut origins = BTreeMap::new();
    for spec in keys() {
        if !spec.name.contains('<') && !spec.name.starts_with("sweep.") && spec.name != "include" {
            base.insert(spec.name.to_string(), spec.default.clone());
        }
    }
    for l in leaves {
        let key = l.key.clone();
        let res: Result<(), String> = if key.is_empty() && l.origin.file == "--set" {
            Err("expected KEY=VALUE, e.g. --set strength.hip_abductors=0.3".into())
        } else if key.is_empty() {
            Err("unknown key `\"\"` (an empty key)".into())
        } else if key == "include" {
            Err("include: only in a scenario file, not with --set".into())
        } else if let Some(axis) = key.strip_prefix("sweep.axes.") {
            check_axis(axis, &l.value).map(|_| {
                sweep.insert(key.clone(), l.value.clone());
            })
        } else if key.starts_with("sweep.") {
            match spec_for(&key) {
                Some(spec) => check_value(&spec, &key, &l.value).map(|v| {
                    sweep.insert(key.clone(), v);
                }),
                None => Err(suggest(&key)),
            }
        } else {
            match spec_for(&key) {
                Some(spec) => check_value(&spec, &key, &l.value).map(|v| {
                    base.insert(key.clone(), v);
                }),
                None => Err(suggest(&key)),
            }
        };
        match res {
            Ok(()) => {
                origins.insert(key, l.origin);
            }
            Err(msg) => problems.push(Problem {
                origin: l.origin,
                msg,
            }),
        }
    }
    if let Some(toml::Value::String(n)) = base.get("name") {
        if n.is_empty() {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into());
            base.insert("name".into(), toml::Value::String(stem));
        }
    }
    if !problems.is_empty() {
        // File order: files in the order they were read, then by line; --set last.
        let mut files: Vec<String> = Vec::new();
        for p in &problems {
            if !files.contains(&p.origin.file) {
                files.push(p.origin.file.clone());
            }
        }
        problems.sort_by_key(|p| {
            let f = files.iter().position(|f| *f == p.origin.file).unwrap_or(0);
            (p.origin.file == "--set", f, p.origin.line)
        });
        return Err(ScenarioError { problems });
    }
    let name = base
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("scenario")
        .to_string();
    Ok(Loaded {
        name,
        path: path.to_path_buf(),
        base,
        sweep,
        set_keys,
        origins,
    })
}

/// How messages show the axis of `target`: `sweep.axes."<target>"`, the target quoted as a
/// TOML basic string (so that a key path is recognisable whatever the target's characters).
pub fn axis_name(target: &str) -> String {
    format!("sweep.axes.{}", quoted(target))
}

/// Check a sweep axis's target key and shape (values are checked when runs are expanded).
fn check_axis(target: &str, v: &toml::Value) -> Result<(), String> {
    let key = axis_name(target);
    let spec = match spec_for(target) {
        Some(s) if s.sweepable() => s,
        Some(_) => return Err(format!("{key}: `{target}` cannot be swept")),
        None => {
            let s = suggest(target);
            return Err(format!("{key}: {s}"));
        }
    };
    match v {
        toml::Value::Array(a) if !a.is_empty() => {
            let mut errs = Vec::new();
            for x in a {
                if let Err(e) = check_value(&spec, target, x) {
                    errs.push(e);
                }
            }
            if errs.is_empty() {
                Ok(())
            } else {
                Err(format!("{key}: {}", errs.join("; ")))
            }
        }
        toml::Value::Table(t) => {
            if !matches!(spec.kind, Kind::Float | Kind::Int) {
                return Err(format!(
                    "{key}: `{target}` is not a number; give a list of values"
                ));
            }
            let allowed = [
                "start",
                "stop",
                "count",
                "min",
                "max",
                "distribution",
                "mean",
                "sd",
            ];
            for k in t.keys() {
                if !allowed.contains(&k.as_str()) {
                    let n = nearest(k, allowed.iter().copied())
                        .map(|n| format!("; did you mean `{n}`?"))
                        .unwrap_or_default();
                    return Err(format!("{key}: unknown field `{k}`{n}"));
                }
            }
            let num = |f: &str| -> Result<Option<f64>, String> {
                match t.get(f) {
                    None => Ok(None),
                    Some(toml::Value::Float(x)) => Ok(Some(*x)),
                    Some(toml::Value::Integer(x)) => Ok(Some(*x as f64)),
                    Some(o) => Err(format!("{key}.{f} = {o}: expected a number")),
                }
            };
            let in_range = |f: &str, x: f64| -> Result<(), String> {
                if x.is_finite() && x >= spec.min && x <= spec.max {
                    Ok(())
                } else {
                    Err(format!(
                        "{key}.{f} = {x}: allowed {} (the range of {target})",
                        spec.allowed()
                    ))
                }
            };
            if t.contains_key("start") || t.contains_key("stop") || t.contains_key("count") {
                let (Some(a), Some(b)) = (num("start")?, num("stop")?) else {
                    return Err(format!("{key}: a range needs start, stop and count"));
                };
                in_range("start", a)?;
                in_range("stop", b)?;
                match t.get("count") {
                    Some(toml::Value::Integer(1)) if a != b => Err(format!(
                        "{key}: count = 1 with start = {a} and stop = {b} is ambiguous (which end is the one value?): allowed count = 1 only with start = stop (or give a list, [{a}]); count 2 to 100000 spans start to stop, both included"
                    )),
                    Some(toml::Value::Integer(n)) if *n >= 1 && *n <= 100000 => Ok(()),
                    Some(o) => Err(format!("{key}.count = {o}: allowed an integer 1 to 100000")),
                    None => Err(format!("{key}: a range needs start, stop and count")),
                }
            } else {
                let (Some(lo), Some(hi)) = (num("min")?, num("max")?) else {
                    return Err(format!(
                        "{key}: give a list, {{start, stop, count}} or {{min, max}}"
                    ));
                };
                in_range("min", lo)?;
                in_range("max", hi)?;
                if lo > hi {
                    return Err(format!("{key}: min = {lo} is above max = {hi}"));
                }
                match t.get("distribution").map(|d| d.as_str()) {
                    None | Some(Some("uniform")) => Ok(()),
                    Some(Some("normal")) => {
                        let (Some(_), Some(sd)) = (num("mean")?, num("sd")?) else {
                            return Err(format!("{key}: a normal distribution needs mean and sd"));
                        };
                        if sd > 0.0 {
                            Ok(())
                        } else {
                            Err(format!("{key}.sd = {sd}: allowed above 0"))
                        }
                    }
                    Some(_) => Err(format!(
                        "{key}.distribution = {}: allowed \"uniform\" or \"normal\"",
                        t["distribution"]
                    )),
                }
            }
        }
        _ => Err(format!(
            "{key} = {v}: allowed a non-empty list, {{start, stop, count}} or {{min, max}}"
        )),
    }
}

/// Defaults that follow other keys: a key the scenario does not set adapts to the keys it
/// does set, instead of contradicting them. `output.steady_window_s` shrinks to
/// `task.duration_s` for short runs; `controller.control_period_s` and
/// `output.record_interval_s` grow to `integration.dt_s` for large steps. A value set
/// explicitly is kept, and [`cross_check`] reports it if it contradicts another key.
/// `written(key)` tells whether a key was written in a file, with `--set` or as an axis.
pub fn adapt_defaults(sc: &mut Scenario, written: impl Fn(&str) -> bool) {
    let set = written;
    let task = sc.task.task();
    if task.kind.is_dynamic() {
        // The task's protocol (data/tasks/protocols.csv) for what the scenario leaves unset.
        let p = crate::task::protocol(task.kind, task.step_direction);
        if !set("task.swing_hip_flexion_deg") {
            sc.task.swing_hip_flexion_deg = p.swing_hip_flexion_deg;
        }
        if !set("task.swing_knee_flexion_deg") {
            sc.task.swing_knee_flexion_deg = p.swing_knee_flexion_deg;
        }
        if !set("task.descent_s") {
            sc.task.descent_s = p.descent_s;
        }
        if !set("task.hold_s") {
            sc.task.hold_s = p.hold_s;
        }
        if !set("task.ascent_s") {
            sc.task.ascent_s = p.ascent_s;
        }
        if !set("task.duration_s") {
            sc.task.duration_s = sc.task.task().movement_s() + defaults::FINAL_STAND_S;
        }
    }
    if !set("output.steady_window_s") {
        sc.output.steady_window_s = sc.output.steady_window_s.min(sc.task.duration_s);
    }
    let dt = sc.integration.dt_s;
    if !set("controller.control_period_s") {
        sc.controller.control_period_s = sc.controller.control_period_s.max(dt);
    }
    if !set("output.record_interval_s") {
        sc.output.record_interval_s = sc.output.record_interval_s.max(dt);
    }
}

/// The base scenario as its runs see it: the plain keys with defaults filled in and the
/// defaults that follow other keys adapted ([`adapt_defaults`]: a squat's duration, swing
/// leg and pace from `data/tasks/protocols.csv`, ...). What `hipdrop check` prints and
/// `manifest.json` records as `resolved`.
pub fn resolved_base(l: &Loaded) -> Result<Scenario, String> {
    let mut sc = from_flat(&l.base)?;
    adapt_defaults(&mut sc, |k| l.origins.contains_key(k));
    Ok(sc)
}

/// Warnings about a loaded scenario that are not errors: task keys written for runs whose
/// `task.kind` does not use them, and a step-down with gait2392's own vasti (too weak for
/// it: docs/validation.md). `kinds` are the runs' tasks.
pub fn warnings(l: &Loaded, kinds: &[TaskKind]) -> Vec<String> {
    let mut w = Vec::new();
    let written =
        |k: &str| l.origins.contains_key(k) || l.origins.contains_key(&format!("sweep.axes.{k}"));
    let any = |f: fn(TaskKind) -> bool| kinds.iter().any(|&k| f(k));
    type UsedBy = fn(TaskKind) -> bool;
    let uses: [(&str, UsedBy); 6] = [
        ("task.squat_depth_deg", |k| k == TaskKind::SingleLegSquat),
        ("task.step_height_m", |k| k == TaskKind::StepDown),
        ("task.step_direction", |k| k == TaskKind::StepDown),
        ("task.descent_s", TaskKind::is_dynamic),
        ("task.hold_s", TaskKind::is_dynamic),
        ("task.ascent_s", TaskKind::is_dynamic),
    ];
    for (key, used) in uses {
        if written(key) && !any(used) {
            let names: Vec<&str> = kinds
                .iter()
                .map(|k| k.name())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            w.push(format!(
                "{key} is set but no run uses it (task.kind = {}): it has no effect",
                names.join(", ")
            ));
        }
    }
    let vasti_set = l.origins.keys().any(|k| {
        let k = k.strip_prefix("sweep.axes.").unwrap_or(k);
        k.strip_prefix("strength.").is_some_and(|m| {
            let m = m.trim_end_matches("_r").trim_end_matches("_l");
            matches!(m, "vasti" | "quadriceps" | "all") || m.starts_with("vas_")
        })
    });
    if any(|k| k == TaskKind::StepDown) && !vasti_set {
        w.push("a step-down with gait2392's own vasti: they are half as strong as Rajagopal 2016's and cannot hold the 80 deg knee flexion of a 20 cm step-down (docs/validation.md); scenarios/step_down.toml sets strength.vasti = 2.12".into());
    }
    w
}

/// Cross-key checks on one resolved run; (key, message) pairs.
pub fn cross_check(sc: &Scenario) -> Vec<(&'static str, String)> {
    let mut e = Vec::new();
    let dt = sc.integration.dt_s;
    if sc.controller.control_period_s < dt {
        e.push((
            "controller.control_period_s",
            format!(
                "controller.control_period_s = {}: allowed at least integration.dt_s = {dt} s",
                sc.controller.control_period_s
            ),
        ));
    }
    if sc.output.record_interval_s < dt {
        e.push((
            "output.record_interval_s",
            format!(
                "output.record_interval_s = {}: allowed at least integration.dt_s = {dt} s",
                sc.output.record_interval_s
            ),
        ));
    }
    let task = sc.task.task();
    if task.kind.is_dynamic() && sc.task.duration_s + 1e-9 < task.movement_s() {
        e.push((
            "task.duration_s",
            format!(
                "task.duration_s = {}: allowed at least task.descent_s + task.hold_s + task.ascent_s = {} s for task.kind = \"{}\" (or leave it unset: the movement plus {} s)",
                sc.task.duration_s,
                task.movement_s(),
                task.kind.name(),
                defaults::FINAL_STAND_S
            ),
        ));
    }
    if task.kind == TaskKind::SingleLegSquat
        && task.squat_depth_deg <= sc.task.stance_knee_flexion_deg
    {
        e.push((
            "task.squat_depth_deg",
            format!(
                "task.squat_depth_deg = {}: allowed more than task.stance_knee_flexion_deg = {} deg (the squat starts there)",
                task.squat_depth_deg, sc.task.stance_knee_flexion_deg
            ),
        ));
    }
    if sc.output.steady_window_s > sc.task.duration_s {
        e.push((
            "output.steady_window_s",
            format!(
                "output.steady_window_s = {}: allowed at most task.duration_s = {} s",
                sc.output.steady_window_s, sc.task.duration_s
            ),
        ));
    }
    e
}

/// Build the typed scenario from a resolved flat map (keys already checked).
pub fn from_flat(flat: &BTreeMap<String, toml::Value>) -> Result<Scenario, String> {
    let mut root = toml::Table::new();
    root.insert("strength".into(), toml::Value::Table(Default::default()));
    for (k, v) in flat {
        let parts: Vec<&str> = match k.split_once('.') {
            Some((a, b)) => vec![a, b],
            None => vec![k.as_str()],
        };
        if parts.len() == 1 {
            root.insert(k.clone(), v.clone());
        } else {
            let sec = root
                .entry(parts[0].to_string())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            if let toml::Value::Table(t) = sec {
                let v = match (parts[0], v) {
                    ("strength", toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
                    _ => v.clone(),
                };
                t.insert(parts[1].to_string(), v);
            }
        }
    }
    root.try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
}

impl Scenario {
    /// Subject for model scaling.
    pub fn subject(&self) -> Subject {
        Subject {
            mass_kg: self.subject.mass_kg,
            height_m: self.subject.height_m,
        }
    }
    /// Simulation settings.
    pub fn stance_config(&self) -> StanceConfig {
        StanceConfig {
            stance_side: self.subject.stance_side,
            duration_s: self.task.duration_s,
            dt_s: self.integration.dt_s,
            substeps: self.integration.substeps,
            control_period_s: self.controller.control_period_s,
            stance_knee_flexion_deg: self.task.stance_knee_flexion_deg,
            swing_hip_flexion_deg: self.task.swing_hip_flexion_deg,
            swing_knee_flexion_deg: self.task.swing_knee_flexion_deg,
            compensation: self.task.compensation,
            compensation_gain: self.controller.compensation_gain,
            compensation_max_lean_deg: self.controller.compensation_max_lean_deg,
            posture_frequency_rad_s: self.controller.posture_frequency_rad_s,
            posture_damping_ratio: self.controller.posture_damping_ratio,
            balance_frequency_rad_s: self.controller.balance_frequency_rad_s,
            steady_window_s: self.output.steady_window_s,
            record_interval_s: self.output.record_interval_s,
            task: self.task.task(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_a_valid_scenario() {
        let mut flat = BTreeMap::new();
        for s in keys() {
            if !s.name.contains('<') && !s.name.starts_with("sweep.") && s.name != "include" {
                flat.insert(s.name.to_string(), s.default.clone());
            }
        }
        let sc = from_flat(&flat).unwrap();
        assert_eq!(sc.stance_config(), StanceConfig::default());
        assert!(cross_check(&sc).is_empty());
    }

    #[test]
    fn misspelt_strength_table_is_suggested() {
        assert_eq!(
            suggest("strenght.hip_abductors"),
            "unknown key `strenght.hip_abductors`; did you mean `strength.hip_abductors`?"
        );
    }

    #[test]
    fn nearest_key_is_suggested() {
        assert_eq!(
            suggest("task.duraton_s"),
            "unknown key `task.duraton_s`; did you mean `task.duration_s`?"
        );
        assert_eq!(
            suggest("strength.glute_med"),
            "unknown key `strength.glute_med`; did you mean `strength.glut_med1` (one part of the group `strength.gluteus_medius`)?"
        );
        // A group is suggested as itself.
        assert_eq!(
            suggest("strength.hip_abducters"),
            "unknown key `strength.hip_abducters`; did you mean `strength.hip_abductors`?"
        );
    }
}
