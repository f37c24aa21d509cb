//! Writing results: time-series CSV, OpenSim `.mot` and `.sto`, written atomically (temporary file,
//! then rename) so that an interrupted run never leaves a file that looks complete.

use crate::model::Model;
use crate::sim::{Metrics, RunResult};
use std::io::Write;
use std::path::Path;

/// A metric column: name (unit in the name), unit, meaning, and how to read it from
/// [`Metrics`]. [`METRICS`] is the one list behind the time-series columns, the steady-state
/// columns of `summary.csv` and `result.json`, and the table in `docs/scenarios.md` (tested).
#[derive(Clone, Copy)]
pub struct MetricSpec {
    /// Column name.
    pub name: &'static str,
    /// Unit (`-` for none).
    pub unit: &'static str,
    /// What it is.
    pub meaning: &'static str,
    /// Its value at one instant.
    pub get: fn(&Metrics) -> f64,
}

/// Every metric, in column order; all measured on the simulated bodies.
pub const METRICS: [MetricSpec; 24] = [
    MetricSpec {
        name: "pelvic_drop_deg",
        unit: "deg",
        meaning: "Contralateral pelvic drop: frontal-plane tilt of the inter-ASIS line, positive when the swing side is lower.",
        get: |m| m.pelvic_drop_deg,
    },
    MetricSpec {
        name: "pelvic_drop_cm",
        unit: "cm",
        meaning: "Height of the stance ASIS above the swing ASIS.",
        get: |m| m.pelvic_drop_cm,
    },
    MetricSpec {
        name: "hip_adduction_deg",
        unit: "deg",
        meaning: "Stance hip adduction (OpenSim hip_adduction).",
        get: |m| m.hip_adduction_deg,
    },
    MetricSpec {
        name: "hip_internal_rotation_deg",
        unit: "deg",
        meaning: "Stance hip internal rotation (OpenSim hip_rotation).",
        get: |m| m.hip_internal_rotation_deg,
    },
    MetricSpec {
        name: "hip_flexion_deg",
        unit: "deg",
        meaning: "Stance hip flexion.",
        get: |m| m.hip_flexion_deg,
    },
    MetricSpec {
        name: "knee_flexion_deg",
        unit: "deg",
        meaning: "Stance knee flexion.",
        get: |m| m.knee_flexion_deg,
    },
    MetricSpec {
        name: "knee_fppa_deg",
        unit: "deg",
        meaning: "Knee frontal plane projection angle, positive in valgus (knee medial of the hip-ankle line), as a camera in front sees the hip, knee and ankle centres.",
        get: |m| m.knee_fppa_deg,
    },
    MetricSpec {
        name: "knee_medial_shift_mm",
        unit: "mm",
        meaning: "Distance of the knee centre medial of the hip-ankle line in the frontal plane.",
        get: |m| m.knee_medial_shift_mm,
    },
    MetricSpec {
        name: "ankle_dorsiflexion_deg",
        unit: "deg",
        meaning: "Stance ankle dorsiflexion.",
        get: |m| m.ankle_dorsiflexion_deg,
    },
    MetricSpec {
        name: "subtalar_inversion_deg",
        unit: "deg",
        meaning: "Stance subtalar inversion (negative: eversion).",
        get: |m| m.subtalar_inversion_deg,
    },
    MetricSpec {
        name: "trunk_lean_deg",
        unit: "deg",
        meaning: "Trunk lateral lean from vertical, positive toward the stance side.",
        get: |m| m.trunk_lean_deg,
    },
    MetricSpec {
        name: "hip_abductor_moment_nm_per_kg",
        unit: "N m/kg",
        meaning: "Abduction moment of the muscles (active and passive) about the stance hip adduction axis.",
        get: |m| m.hip_abductor_moment_nm_per_kg,
    },
    MetricSpec {
        name: "hip_abductor_capacity_nm_per_kg",
        unit: "N m/kg",
        meaning: "Abduction moment every abducting muscle would produce at full activation at this posture.",
        get: |m| m.hip_abductor_capacity_nm_per_kg,
    },
    MetricSpec {
        name: "hip_contact_force_bw",
        unit: "BW",
        meaning: "Hip joint contact force on the stance femoral head, from Newton-Euler on the bodies above the hip.",
        get: |m| m.hip_contact_force_bw,
    },
    MetricSpec {
        name: "hip_contact_angle_deg",
        unit: "deg",
        meaning: "Frontal-plane inclination of the force on the femoral head from the femur's long axis, positive lateral (OrthoLoad's convention).",
        get: |m| m.hip_contact_angle_deg,
    },
    MetricSpec {
        name: "grf_vertical_bw",
        unit: "BW",
        meaning: "Vertical ground reaction on the stance foot, from the bodies' momentum rates.",
        get: |m| m.grf_vertical_bw,
    },
    MetricSpec {
        name: "cop_anterior_mm",
        unit: "mm",
        meaning: "Centre of pressure anterior of the stance ankle.",
        get: |m| m.cop_anterior_mm,
    },
    MetricSpec {
        name: "cop_lateral_mm",
        unit: "mm",
        meaning: "Centre of pressure lateral of the stance ankle.",
        get: |m| m.cop_lateral_mm,
    },
    MetricSpec {
        name: "hip_abduction_shortfall_nm",
        unit: "N m",
        meaning: "Stance-hip abduction demand the muscles left unmet in the static optimisation (about 0 while they can meet it).",
        get: |m| m.hip_abduction_shortfall_nm,
    },
    MetricSpec {
        name: "hip_abductor_usable_capacity_nm_per_kg",
        unit: "N m/kg",
        meaning: "Largest abduction moment the stance leg's muscles could produce at this instant while the leg's other moments stay what they are (a linear programme; recorded rows only).",
        get: |m| m.hip_abductor_usable_capacity_nm_per_kg,
    },
    MetricSpec {
        name: "hip_abductor_effort",
        unit: "-",
        meaning: "Abduction moment over the usable capacity (1: nothing left; recorded rows only).",
        get: |m| m.hip_abductor_effort,
    },
    MetricSpec {
        name: "hip_abductors_saturated",
        unit: "-",
        meaning: "Stance glut_med1-3 and glut_min1-3 compartments at activation 0.95 or more (recorded rows only).",
        get: |m| m.hip_abductors_saturated,
    },
    MetricSpec {
        name: "lumbar_reserve_nm",
        unit: "N m",
        meaning: "Magnitude of the lumbar reserve torques (the trunk's ideal actuators).",
        get: |m| m.lumbar_reserve_nm,
    },
    MetricSpec {
        name: "swing_reserve_nm",
        unit: "N m",
        meaning: "Magnitude of the swing leg's reserve torques (the lifted leg's ideal actuators; the stance leg has none).",
        get: |m| m.swing_reserve_nm,
    },
];

/// A metric column: name with unit, and how to read it from [`Metrics`].
pub type MetricColumn = (&'static str, fn(&Metrics) -> f64);

/// Metric columns, in output order (the names and readers of [`METRICS`]).
pub fn metric_columns() -> Vec<MetricColumn> {
    METRICS.iter().map(|m| (m.name, m.get)).collect()
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

/// Shortest text that round-trips `v` (ryu: `1.0`, `0.25`, `1e-7`, `NaN`, `inf`):
/// bit-identical values give identical text. Negative zero is written `0.0` (a value
/// that rounds to zero from below is not a measurement of "minus nothing").
pub fn fmt(v: f64) -> String {
    let mut s = String::new();
    push_f64(&mut s, v);
    s
}

/// Append the shortest round-trip text of `v` to `s`, without allocating (`-0.0` as `0.0`).
pub fn push_f64(s: &mut String, v: f64) {
    if v == 0.0 {
        s.push_str("0.0");
    } else if v.is_finite() {
        s.push_str(ryu::Buffer::new().format_finite(v));
    } else if v.is_nan() {
        s.push_str("NaN");
    } else if v > 0.0 {
        s.push_str("inf");
    } else {
        s.push_str("-inf");
    }
}

/// `x` rounded to `digits` significant decimal digits, as the nearest `f64`: a value
/// computed as `k * dt` or `a + (b - a) * i / n` that misses the decimal it stands for
/// by an ulp (`0.28800000000000003`) prints as that decimal (`0.288`). Negative zero
/// becomes `0.0`; non-finite values are returned as they are.
pub fn round_sig(x: f64, digits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if x == 0.0 {
        return 0.0;
    }
    format!("{:.*e}", digits.clamp(1, 17) - 1, x)
        .parse()
        .unwrap_or(x)
}

/// A recorded time (s) as written in every output file: rounded to 12 significant
/// digits, so that step-count times print as the decimal they are (`0.288`, not
/// `0.28800000000000003`).
pub fn time_value(t: f64) -> f64 {
    round_sig(t, 12)
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
        push_f64(&mut s, time_value(row.time_s));
        for (_, f) in metric_columns() {
            s.push(',');
            push_f64(&mut s, f(row));
        }
        let lm = model.landmarks(&r.poses[i], &r.coords[i], r.stance_side);
        for p in lm {
            for v in [p.x, p.y, p.z] {
                s.push(',');
                push_f64(&mut s, v);
            }
        }
        for v in r.muscles[i]
            .activation
            .iter()
            .chain(r.muscles[i].force_n.iter())
        {
            s.push(',');
            push_f64(&mut s, *v);
        }
        s.push('\n');
    }
    s
}

/// gait2392 joint owning each coordinate (OpenSim state names `/jointset/<joint>/<coord>`).
fn joint_of(coord_name: &str) -> String {
    if coord_name.starts_with("pelvis_") {
        return "ground_pelvis".into();
    }
    if coord_name.starts_with("lumbar_") {
        return "back".into();
    }
    // hip_flexion_r -> hip_r, knee_angle_l -> knee_l, subtalar_angle_r -> subtalar_r
    let side = &coord_name[coord_name.len() - 1..];
    let joint = coord_name.split('_').next().unwrap_or(coord_name);
    format!("{joint}_{side}")
}

/// The pelvis's six OpenSim coordinates, as `kinematics.mot` names them: tilt (about z),
/// list (about x), rotation (about y) in degrees, then the translation in metres.
pub const PELVIS_COORDINATES: [&str; 6] = [
    "pelvis_tilt",
    "pelvis_list",
    "pelvis_rotation",
    "pelvis_tx",
    "pelvis_ty",
    "pelvis_tz",
];

/// OpenSim coordinate columns of a run, in gait2392 order: the six pelvis coordinates
/// (from the recorded pelvis pose), then the model's coordinates. `(name, is_angle, values per row)`.
pub fn opensim_coordinates(r: &RunResult) -> Vec<(String, bool, Vec<f64>)> {
    let names = crate::model::coord_names();
    let mut cols: Vec<(String, bool, Vec<f64>)> = Vec::new();
    let pelvis: Vec<[f64; 6]> = r
        .poses
        .iter()
        .map(|poses| {
            let p = &poses[crate::model::body::PELVIS];
            // gait2392 ground_pelvis: tilt about z, list about x, rotation about y (body-fixed), then translation.
            let a = crate::math::cardan_zxy(&p.rotation);
            let t = p.translation.vector;
            [a[0], a[1], a[2], t.x, t.y, t.z]
        })
        .collect();
    for (k, n) in PELVIS_COORDINATES.iter().enumerate() {
        cols.push((n.to_string(), k < 3, pelvis.iter().map(|p| p[k]).collect()));
    }
    for (i, n) in names.iter().enumerate() {
        cols.push((n.clone(), true, r.coords.iter().map(|q| q[i]).collect()));
    }
    cols
}

fn storage(name: &str, in_degrees: bool, header: &[String], rows: &[Vec<f64>]) -> String {
    let mut s = format!(
        "{name}\nversion=1\nnRows={}\nnColumns={}\ninDegrees={}\nDataType=double\nendheader\n",
        rows.len(),
        header.len(),
        if in_degrees { "yes" } else { "no" }
    );
    s.push_str(&header.join("\t"));
    s.push('\n');
    for row in rows {
        for (k, v) in row.iter().enumerate() {
            if k > 0 {
                s.push('\t');
            }
            push_f64(&mut s, *v);
        }
        s.push('\n');
    }
    s
}

/// OpenSim motion (`.mot`): time, then the coordinates with gait2392 names; angles in
/// degrees, translations in metres (OpenSim's convention for `inDegrees=yes`).
pub fn mot(name: &str, r: &RunResult) -> String {
    let cols = opensim_coordinates(r);
    let mut header = vec!["time".to_string()];
    header.extend(cols.iter().map(|c| c.0.clone()));
    let rows: Vec<Vec<f64>> = (0..r.series.len())
        .map(|i| {
            let mut row = vec![time_value(r.series[i].time_s)];
            for (_, angle, v) in &cols {
                row.push(if *angle { v[i].to_degrees() } else { v[i] });
            }
            row
        })
        .collect();
    storage(name, true, &header, &rows)
}

/// Columns of [`grf_mot`] after `time`, as OpenSim's ExternalLoads expects them.
pub const GRF_COLUMNS: [&str; 9] = [
    "ground_force_vx",
    "ground_force_vy",
    "ground_force_vz",
    "ground_force_px",
    "ground_force_py",
    "ground_force_pz",
    "ground_torque_x",
    "ground_torque_y",
    "ground_torque_z",
];

/// Ground reaction (`grf.mot`) for OpenSim's ExternalLoads: the force the ground exerts
/// on the stance foot (N) at the centre of pressure on the floor (m), both in ground axes
/// (x anterior, y up, z right); the torque columns are 0, because the free moment about
/// the vertical is not computed. One row per recorded row, aligned with kinematics.mot.
pub fn grf_mot(name: &str, r: &RunResult) -> String {
    let mut header = vec!["time".to_string()];
    header.extend(GRF_COLUMNS.iter().map(|c| c.to_string()));
    let rows: Vec<Vec<f64>> = r
        .series
        .iter()
        .zip(&r.ground)
        .map(|(m, g)| {
            let (f, p) = (g.force_n, g.cop_m);
            vec![
                time_value(m.time_s),
                f.x,
                f.y,
                f.z,
                p.x,
                p.y,
                p.z,
                0.0,
                0.0,
                0.0,
            ]
        })
        .collect();
    storage(name, false, &header, &rows)
}

/// OpenSim states (`.sto`, OpenSim 4 state names): coordinate values (rad, m) as
/// `/jointset/<joint>/<coordinate>/value`, and muscle activations as `/forceset/<muscle>/activation`.
pub fn sto(name: &str, model: &Model, r: &RunResult) -> String {
    let cols = opensim_coordinates(r);
    let mut header = vec!["time".to_string()];
    header.extend(
        cols.iter()
            .map(|c| format!("/jointset/{}/{}/value", joint_of(&c.0), c.0)),
    );
    header.extend(
        model
            .muscles
            .iter()
            .map(|m| format!("/forceset/{}/activation", m.name)),
    );
    let rows: Vec<Vec<f64>> = (0..r.series.len())
        .map(|i| {
            let mut row = vec![time_value(r.series[i].time_s)];
            row.extend(cols.iter().map(|c| c.2[i]));
            row.extend(r.muscles[i].activation.iter().copied());
            row
        })
        .collect();
    storage(name, false, &header, &rows)
}

#[cfg(test)]
mod tests {
    use crate::model::{coord, Iso};
    use crate::sim::{Metrics, MuscleSample, RunResult, Status};

    /// The pelvis columns are gait2392's ground_pelvis coordinates of the recorded pose.
    #[test]
    fn pelvis_coordinates_invert_the_ground_pelvis_joint() {
        let (tilt, list, rot) = (0.1, -0.2, 0.3);
        let r = crate::math::from_cardan_zxy([tilt, list, rot]);
        let pose = Iso::from_parts(nalgebra::Translation3::new(0.1, 0.9, -0.05), r);
        let res = RunResult {
            status: Status::Ok,
            series: vec![Metrics::default()],
            muscles: vec![MuscleSample::default()],
            coords: vec![[0.0; coord::COUNT]],
            poses: vec![{
                let mut p = [Iso::identity(); crate::model::body::COUNT];
                p[crate::model::body::PELVIS] = pose;
                p
            }],
            ground: vec![Default::default()],
            stance_side: crate::model::Side::Right,
            steady: Metrics::default(),
            steady_muscles: MuscleSample::default(),
            measures: Vec::new(),
            notes: Vec::new(),
            steps: 1,
            wall_time_s: 0.0,
        };
        let c = super::opensim_coordinates(&res);
        let got: Vec<f64> = c.iter().take(6).map(|x| x.2[0]).collect();
        let want = [tilt, list, rot, 0.1, 0.9, -0.05];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(c[7].0, "hip_adduction_r");
        // ground_pelvis applies Rz(tilt) Rx(list) Ry(rotation), as OpenSim's CustomJoint.
        let z = nalgebra::UnitQuaternion::from_axis_angle(&nalgebra::Vector3::z_axis(), tilt);
        let x = nalgebra::UnitQuaternion::from_axis_angle(&nalgebra::Vector3::x_axis(), list);
        let y = nalgebra::UnitQuaternion::from_axis_angle(&nalgebra::Vector3::y_axis(), rot);
        assert!((z * x * y).angle_to(&r) < 1e-12);
    }

    #[test]
    fn negative_zero_is_written_as_zero_and_other_values_round_trip() {
        assert_eq!(super::fmt(-0.0), "0.0");
        assert_eq!(super::fmt(0.0), "0.0");
        for v in [
            0.1,
            -0.1,
            1e-300,
            -5e-324,
            0.28800000000000003,
            123456.789,
            -1e21,
        ] {
            assert_eq!(super::fmt(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
        }
        assert_eq!(super::fmt(f64::NAN), "NaN");
        assert_eq!(super::fmt(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn step_count_times_print_as_their_decimal() {
        assert_eq!(144.0 * 0.002, 0.28800000000000003);
        assert_eq!(super::fmt(super::time_value(144.0 * 0.002)), "0.288");
        for k in 0..=300_000u32 {
            let t = super::time_value(k as f64 * 0.002);
            let want = format!("{}", k as f64 / 500.0);
            assert_eq!(
                super::fmt(t).trim_end_matches(".0"),
                want.trim_end_matches(".0"),
                "{k}"
            );
        }
        assert_eq!(super::round_sig(-0.0, 12).to_bits(), 0.0f64.to_bits());
        assert_eq!(super::round_sig(1.0 + (0.1 - 1.0) * 7.0 / 9.0, 12), 0.3);
    }

    #[test]
    fn grf_mot_has_the_external_loads_columns_in_ground_axes() {
        use crate::sim::GroundSample;
        let mut res = RunResult {
            status: Status::Ok,
            series: vec![Metrics::default(), Metrics::default()],
            muscles: vec![MuscleSample::default(); 2],
            coords: vec![[0.0; coord::COUNT]; 2],
            poses: vec![[Iso::identity(); crate::model::body::COUNT]; 2],
            ground: vec![
                GroundSample::default(),
                GroundSample {
                    force_n: nalgebra::Vector3::new(1.5, 700.25, -3.0),
                    cop_m: nalgebra::Vector3::new(0.05, 0.0, 0.1),
                },
            ],
            stance_side: crate::model::Side::Right,
            steady: Metrics::default(),
            steady_muscles: MuscleSample::default(),
            measures: Vec::new(),
            notes: Vec::new(),
            steps: 1,
            wall_time_s: 0.0,
        };
        res.series[1].time_s = 0.01;
        let t = super::grf_mot("x_grf", &res);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            &lines[..7],
            &[
                "x_grf",
                "version=1",
                "nRows=2",
                "nColumns=10",
                "inDegrees=no",
                "DataType=double",
                "endheader"
            ]
        );
        assert_eq!(
            lines[7],
            "time\tground_force_vx\tground_force_vy\tground_force_vz\tground_force_px\tground_force_py\tground_force_pz\tground_torque_x\tground_torque_y\tground_torque_z"
        );
        assert_eq!(
            lines[9],
            "0.01\t1.5\t700.25\t-3.0\t0.05\t0.0\t0.1\t0.0\t0.0\t0.0"
        );
        assert_eq!(lines.len(), 10);
    }

    #[test]
    fn joints_of_coordinates() {
        assert_eq!(super::joint_of("hip_adduction_r"), "hip_r");
        assert_eq!(super::joint_of("knee_angle_l"), "knee_l");
        assert_eq!(super::joint_of("subtalar_angle_r"), "subtalar_r");
        assert_eq!(super::joint_of("lumbar_bending"), "back");
        assert_eq!(super::joint_of("pelvis_tx"), "ground_pelvis");
    }
}

#[cfg(test)]
mod metric_docs {
    /// docs/scenarios.md documents every metric column, with its unit.
    #[test]
    fn every_metric_is_documented() {
        let doc = include_str!("../docs/scenarios.md");
        for m in &super::METRICS {
            let row = format!("| `{}` | {} |", m.name, m.unit);
            assert!(doc.contains(&row), "docs/scenarios.md lacks the row {row}");
        }
    }
}
