//! The command line as a user meets it: bad input gets exit code 2 and writes nothing.

mod common;
use common::hipdrop;

fn tmp(name: &str) -> std::path::PathBuf {
    common::tmp("cli", name)
}

#[test]
fn unknown_strength_key_is_rejected_with_exit_2_and_nothing_written() {
    let out = tmp("bad-strength");
    let o = hipdrop()
        .args([
            "run",
            "scenarios/single_leg_stance.toml",
            "--set",
            "strength.glute_med=0.3",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--set") && err.contains("strength.glute_med"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn misspelt_task_key_and_out_of_range_value_are_rejected() {
    let out = tmp("bad-task");
    let o = hipdrop()
        .args([
            "run",
            "scenarios/single_leg_stance.toml",
            "--set",
            "task.duraton_s=1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("unknown key `task.duraton_s`; did you mean `task.duration_s`?"));
    let o = hipdrop()
        .args([
            "run",
            "scenarios/single_leg_stance.toml",
            "--set",
            "subject.mass_kg=-3",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("subject.mass_kg = -3: allowed 30 to 200 kg"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn run_writes_summary_with_the_contract_columns_and_a_timeseries() {
    let out = tmp("run");
    let o = hipdrop()
        .args([
            "run",
            "scenarios/single_leg_stance.toml",
            "--set",
            "task.duration_s=0.1",
            "--set",
            "output.steady_window_s=0.05",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for col in [
        "pelvic_drop_deg",
        "pelvic_drop_cm",
        "hip_adduction_deg",
        "hip_internal_rotation_deg",
        "knee_fppa_deg",
        "knee_medial_shift_mm",
        "trunk_lean_deg",
        "hip_abductor_moment_nm_per_kg",
        "hip_contact_force_bw",
        "status",
        "task.duration_s",
    ] {
        assert!(header.split(',').any(|c| c == col), "missing column {col}");
    }
    assert_eq!(summary.lines().count(), 2);
    // A single run without a sweep: id r0000_ and a hash of its --set overrides.
    let run_dir = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    assert!(run_dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("r0000_"));
    let ts = std::fs::read_to_string(run_dir.join("timeseries.csv")).unwrap();
    assert_eq!(ts.lines().count(), 1 + 10, "header + one row per 10 ms");
    assert!(ts
        .lines()
        .next()
        .unwrap()
        .contains("activation_glut_med1_r"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn moment_arm_table_covers_the_hip_muscles_over_adduction() {
    let o = hipdrop()
        .args(["muscles", "--moment-arms"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let t = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with("glut_med1_r,"))
        .collect();
    assert_eq!(rows.len(), 9, "-20..20 deg in 5 deg steps");
    assert!(rows[0].starts_with("glut_med1_r,0,-20,"));
}
