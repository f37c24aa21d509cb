//! Scenario files (TOML): what to simulate. Plain serde types, no physics; `--set`
//! overrides are applied to the TOML tree before it is checked, so a typo in an
//! override is caught exactly like a typo in the file.

use crate::model::{Side, Subject};
use crate::sim::StanceConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A bad scenario: file, key, value and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct ScenarioError {
    /// File (or `--set`).
    pub file: String,
    /// What is wrong.
    pub msg: String,
}

/// The subject.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SubjectSection {
    /// Body mass (kg), 30-200.
    pub mass_kg: f64,
    /// Height (m), 1.2-2.3.
    pub height_m: f64,
    /// Stance side, "left" or "right".
    pub stance_side: Side,
}
impl Default for SubjectSection {
    fn default() -> Self {
        Self {
            mass_kg: crate::model::GENERIC_MASS_KG,
            height_m: crate::model::GENERIC_HEIGHT_M,
            stance_side: Side::Right,
        }
    }
}

/// The task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
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
}
impl Default for TaskSection {
    fn default() -> Self {
        let c = StanceConfig::default();
        Self {
            duration_s: c.duration_s,
            stance_knee_flexion_deg: c.stance_knee_flexion_deg,
            swing_hip_flexion_deg: c.swing_hip_flexion_deg,
            swing_knee_flexion_deg: c.swing_knee_flexion_deg,
            compensation: c.compensation,
        }
    }
}

/// The controller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerSection {
    /// Natural frequency of the posture PD loops (rad/s).
    pub posture_frequency_rad_s: f64,
    /// Damping ratio of the PD loops.
    pub posture_damping_ratio: f64,
    /// Natural frequency of the centre-of-mass balance loop (rad/s).
    pub balance_frequency_rad_s: f64,
    /// Static optimisation period (s).
    pub control_period_s: f64,
    /// Trunk lean per degree of pelvic drop when compensating.
    pub compensation_gain: f64,
    /// Largest compensating trunk lean (deg).
    pub compensation_max_lean_deg: f64,
}
impl Default for ControllerSection {
    fn default() -> Self {
        let c = StanceConfig::default();
        Self {
            posture_frequency_rad_s: c.posture_frequency_rad_s,
            posture_damping_ratio: c.posture_damping_ratio,
            balance_frequency_rad_s: c.balance_frequency_rad_s,
            control_period_s: c.control_period_s,
            compensation_gain: c.compensation_gain,
            compensation_max_lean_deg: c.compensation_max_lean_deg,
        }
    }
}

/// Integration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrationSection {
    /// Physics step (s), 1e-4 to 5e-3.
    pub dt_s: f64,
    /// rapier solver iterations per step, 1-16.
    pub substeps: usize,
}
impl Default for IntegrationSection {
    fn default() -> Self {
        let c = StanceConfig::default();
        Self {
            dt_s: c.dt_s,
            substeps: c.substeps,
        }
    }
}

/// Outputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSection {
    /// Interval between time-series rows (s).
    pub record_interval_s: f64,
    /// Window at the end of the run averaged for steady-state metrics (s).
    pub steady_window_s: f64,
}
impl Default for OutputSection {
    fn default() -> Self {
        let c = StanceConfig::default();
        Self {
            record_interval_s: c.record_interval_s,
            steady_window_s: c.steady_window_s,
        }
    }
}

/// A whole scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Name (default: the file stem).
    pub name: String,
    /// The subject.
    pub subject: SubjectSection,
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

/// Parse a `--set KEY=VALUE` value: TOML literal if it parses, else a string.
fn parse_value(v: &str) -> toml::Value {
    let doc = format!("x = {v}");
    match doc.parse::<toml::Table>() {
        Ok(t) => t.get("x").cloned().unwrap_or(toml::Value::String(v.into())),
        Err(_) => toml::Value::String(v.to_string()),
    }
}

/// Load `path`, apply `sets` ("key.path=value"), check and return the scenario.
pub fn load(path: &std::path::Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        msg: format!("cannot read: {e}"),
    })?;
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| ScenarioError {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    for s in sets {
        let (k, v) = s.split_once('=').ok_or_else(|| ScenarioError {
            file: "--set".into(),
            msg: format!("'{s}' is not KEY=VALUE"),
        })?;
        let mut node = &mut table;
        let parts: Vec<&str> = k.trim().split('.').collect();
        for p in &parts[..parts.len() - 1] {
            let e = node
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            node = e.as_table_mut().ok_or_else(|| ScenarioError {
                file: "--set".into(),
                msg: format!("{k}: '{p}' is not a section"),
            })?;
        }
        node.insert(parts[parts.len() - 1].to_string(), parse_value(v.trim()));
    }
    let mut sc: Scenario = table
        .try_into()
        .map_err(|e: toml::de::Error| ScenarioError {
            file: file.clone(),
            msg: e.message().to_string(),
        })?;
    if sc.name.is_empty() {
        sc.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
    }
    validate(&sc).map_err(|msg| ScenarioError { file, msg })?;
    Ok(sc)
}

fn validate(sc: &Scenario) -> Result<(), String> {
    let mut errs = Vec::new();
    let mut range = |key: &str, v: f64, lo: f64, hi: f64, unit: &str| {
        if !(v.is_finite() && v >= lo && v <= hi) {
            errs.push(format!("{key} = {v}: allowed {lo} to {hi} {unit}"));
        }
    };
    range("subject.mass_kg", sc.subject.mass_kg, 30.0, 200.0, "kg");
    range("subject.height_m", sc.subject.height_m, 1.2, 2.3, "m");
    range("task.duration_s", sc.task.duration_s, 0.01, 600.0, "s");
    range(
        "task.stance_knee_flexion_deg",
        sc.task.stance_knee_flexion_deg,
        0.0,
        60.0,
        "deg",
    );
    range(
        "task.swing_hip_flexion_deg",
        sc.task.swing_hip_flexion_deg,
        0.0,
        90.0,
        "deg",
    );
    range(
        "task.swing_knee_flexion_deg",
        sc.task.swing_knee_flexion_deg,
        0.0,
        120.0,
        "deg",
    );
    range("integration.dt_s", sc.integration.dt_s, 1e-4, 5e-3, "s");
    range(
        "integration.substeps",
        sc.integration.substeps as f64,
        1.0,
        16.0,
        "",
    );
    range(
        "controller.control_period_s",
        sc.controller.control_period_s,
        sc.integration.dt_s,
        0.05,
        "s (at least integration.dt_s)",
    );
    range(
        "controller.posture_frequency_rad_s",
        sc.controller.posture_frequency_rad_s,
        0.5,
        50.0,
        "rad/s",
    );
    range(
        "controller.posture_damping_ratio",
        sc.controller.posture_damping_ratio,
        0.1,
        5.0,
        "",
    );
    range(
        "controller.balance_frequency_rad_s",
        sc.controller.balance_frequency_rad_s,
        0.1,
        20.0,
        "rad/s",
    );
    range(
        "controller.compensation_gain",
        sc.controller.compensation_gain,
        0.0,
        5.0,
        "deg/deg",
    );
    range(
        "controller.compensation_max_lean_deg",
        sc.controller.compensation_max_lean_deg,
        0.0,
        30.0,
        "deg",
    );
    range(
        "output.record_interval_s",
        sc.output.record_interval_s,
        sc.integration.dt_s,
        1.0,
        "s",
    );
    range(
        "output.steady_window_s",
        sc.output.steady_window_s,
        0.0,
        sc.task.duration_s,
        "s (at most task.duration_s)",
    );
    for (k, v) in &sc.strength {
        range(
            &format!("strength.{k}"),
            *v,
            0.0,
            10.0,
            "(factor of nominal force)",
        );
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n  "))
    }
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
        }
    }
}
