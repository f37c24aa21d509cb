//! Writing results: summary and time-series CSV, written atomically (temporary file,
//! then rename) so that an interrupted run never leaves a file that looks complete.

use crate::model::Model;
use crate::sim::{Metrics, RunResult};
use std::io::Write;
use std::path::Path;

/// Metric columns (name with unit, accessor), in output order.
pub fn metric_columns() -> Vec<(&'static str, fn(&Metrics) -> f64)> {
    vec![
        ("pelvic_drop_deg", |m| m.pelvic_drop_deg),
        ("pelvic_drop_cm", |m| m.pelvic_drop_cm),
        ("hip_adduction_deg", |m| m.hip_adduction_deg),
        ("hip_internal_rotation_deg", |m| m.hip_internal_rotation_deg),
        ("hip_flexion_deg", |m| m.hip_flexion_deg),
        ("knee_flexion_deg", |m| m.knee_flexion_deg),
        ("knee_fppa_deg", |m| m.knee_fppa_deg),
        ("knee_medial_shift_mm", |m| m.knee_medial_shift_mm),
        ("ankle_dorsiflexion_deg", |m| m.ankle_dorsiflexion_deg),
        ("subtalar_inversion_deg", |m| m.subtalar_inversion_deg),
        ("trunk_lean_deg", |m| m.trunk_lean_deg),
        ("hip_abductor_moment_nm_per_kg", |m| {
            m.hip_abductor_moment_nm_per_kg
        }),
        ("hip_abductor_capacity_nm_per_kg", |m| {
            m.hip_abductor_capacity_nm_per_kg
        }),
        ("hip_contact_force_bw", |m| m.hip_contact_force_bw),
        ("hip_contact_angle_deg", |m| m.hip_contact_angle_deg),
        ("grf_vertical_bw", |m| m.grf_vertical_bw),
        ("cop_anterior_mm", |m| m.cop_anterior_mm),
        ("cop_lateral_mm", |m| m.cop_lateral_mm),
        ("hip_abduction_shortfall_nm", |m| {
            m.hip_abduction_shortfall_nm
        }),
        ("lumbar_reserve_nm", |m| m.lumbar_reserve_nm),
        ("swing_reserve_nm", |m| m.swing_reserve_nm),
    ]
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn fmt(v: f64) -> String {
    // Shortest representation that round-trips: bit-identical values give identical text.
    format!("{v}")
}

/// Summary CSV: one row per run with its parameters and steady-state metrics.
pub fn summary_csv(params: &[String], rows: &[(String, Vec<String>, &RunResult)]) -> String {
    let mut s = String::from("run_id");
    for p in params {
        s.push(',');
        s.push_str(p);
    }
    for (c, _) in metric_columns() {
        s.push(',');
        s.push_str(c);
    }
    s.push_str(",status,status_time_s,status_detail,sim_time_s,wall_time_s\n");
    for (id, values, r) in rows {
        s.push_str(id);
        for v in values {
            s.push(',');
            s.push_str(v);
        }
        for (_, f) in metric_columns() {
            s.push(',');
            s.push_str(&fmt(f(&r.steady)));
        }
        let (t, detail) = match &r.status {
            crate::sim::Status::Ok => (String::new(), String::new()),
            crate::sim::Status::LostBalance { time_s } => {
                (fmt(*time_s), "centre of pressure left the foot".into())
            }
            crate::sim::Status::Diverged { time_s, what } => (fmt(*time_s), what.replace(',', ";")),
        };
        let sim_t = r.series.last().map(|m| m.time_s).unwrap_or(0.0);
        s.push_str(&format!(
            ",{},{},{},{},{:.3}\n",
            r.status.label(),
            t,
            detail,
            fmt(sim_t),
            r.wall_time_s
        ));
    }
    s
}

/// Time-series CSV of one run: metrics, then activation and force of every muscle.
pub fn timeseries_csv(model: &Model, r: &RunResult) -> String {
    let mut s = String::from("time_s");
    for (c, _) in metric_columns() {
        s.push(',');
        s.push_str(c);
    }
    for l in Model::LANDMARK_NAMES {
        for c in ["x", "y", "z"] {
            s.push_str(&format!(",lm_{l}_{c}_m"));
        }
    }
    for m in &model.muscles {
        s.push_str(&format!(",activation_{}", m.name));
    }
    for m in &model.muscles {
        s.push_str(&format!(",force_{}_n", m.name));
    }
    s.push('\n');
    for (i, row) in r.series.iter().enumerate() {
        s.push_str(&fmt(row.time_s));
        for (_, f) in metric_columns() {
            s.push(',');
            s.push_str(&fmt(f(row)));
        }
        let lm = model.landmarks(&r.poses[i], &r.coords[i], r.stance_side);
        for p in lm {
            for v in [p.x, p.y, p.z] {
                s.push(',');
                s.push_str(&fmt(v));
            }
        }
        for v in r.muscles[i]
            .activation
            .iter()
            .chain(r.muscles[i].force_n.iter())
        {
            s.push(',');
            s.push_str(&fmt(*v));
        }
        s.push('\n');
    }
    s
}
