//! The command line as a user meets it: bad input gets exit code 2 and writes nothing.

mod common;
use common::hipdrop;
use common::{hipdrop_output, stderr, tree};
use std::path::Path;

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

/// `hipdrop plot` on bad input exits 2, like every other command: a directory that
/// `hipdrop run` did not write, and a `--compare` run id that is not in it. Both are
/// refused before anything is drawn.
#[test]
fn plot_bad_input_exits_2_and_writes_nothing() {
    let empty = tmp("plot_not_output");
    std::fs::create_dir_all(&empty).unwrap();
    let o = hipdrop_output(["plot".as_ref(), empty.as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("summary.csv"), "{}", stderr(&o));
    assert!(tree(&empty).is_empty() && !empty.join("figures").exists());

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plot_fixture");
    let copy = tmp("plot_unknown_run");
    copy_dir(&fixture, &copy);
    let before = tree(&copy);
    let o = hipdrop_output([
        "plot".as_ref(),
        copy.as_os_str(),
        "--compare".as_ref(),
        "r9999_nothere,r9998_nothere".as_ref(),
        "--no-gif".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("r9999_nothere"), "{}", stderr(&o));
    assert_eq!(tree(&copy), before, "nothing written");
    assert!(!copy.join("figures").exists());
    let _ = std::fs::remove_dir_all(&empty);
    let _ = std::fs::remove_dir_all(&copy);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dst = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

/// A run in `summary.csv` whose time series is gone (a damaged output directory): `plot`
/// draws the others and names the missing file instead of leaving the run out silently.
#[test]
fn plot_names_a_missing_time_series() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plot_fixture");
    let copy = tmp("plot_missing_series");
    copy_dir(&fixture, &copy);
    std::fs::remove_file(copy.join("run_0001_timeseries.csv")).unwrap();
    let o = hipdrop_output(["plot".as_ref(), copy.as_os_str(), "--no-gif".as_ref()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning:") && err.contains("run_0001") && !err.contains("run_0000 were"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&copy);
}
