//! Extreme but valid settings and numerical divergence, through the CLI: each run either
//! completes or fails cleanly (exit code 0 or 1, no panic, a status in summary.csv with
//! its time and the body or muscle for `diverged`), and the rest of the sweep is written.
//! (tests/robustness.rs checks the same settings at the library level.)
//!
//! CI time: 0.3 s of simulated time per run, two threads.

mod common;

fn hipdrop(args: &[String]) -> Output {
    common::hipdrop_output(args)
}

fn tmp(name: &str) -> PathBuf {
    common::tmp("rcli", name)
}

use std::path::PathBuf;
use std::process::Output;

/// One summary.csv row: column -> cell.
type Row = std::collections::BTreeMap<String, String>;

/// Run `sets` on the single-leg stance for 0.3 s; check the clean-failure contract and
/// return the rows of summary.csv.
fn run_clean(name: &str, sets: &[&str]) -> (Output, Vec<Row>) {
    let out = tmp(name);
    let mut a: Vec<String> = [
        "run",
        "scenarios/single_leg_stance.toml",
        "--quiet",
        "--threads",
        "2",
        "--set",
        "task.duration_s=0.3",
        "--set",
        "output.steady_window_s=0.1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in sets {
        a.extend(["--set".to_string(), s.to_string()]);
    }
    a.extend(["--out".to_string(), out.display().to_string()]);
    let o = hipdrop(&a);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert!(matches!(o.status.code(), Some(0 | 1)), "{name}: {err}");
    let s = std::fs::read_to_string(out.join("summary.csv"))
        .unwrap_or_else(|e| panic!("{name}: no summary.csv ({e}): {err}"));
    let header: Vec<String> = s
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let rows: Vec<Row> = s
        .lines()
        .skip(1)
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect();
    let mut failed = false;
    for r in &rows {
        let st = r["status"].as_str();
        assert!(
            ["ok", "lost_balance", "diverged", "failed"].contains(&st),
            "{name}: {r:?}"
        );
        if st != "ok" {
            let t: f64 = r["status_time_s"].parse().unwrap();
            assert!((0.0..=0.3 + 1e-9).contains(&t), "{name}: {r:?}");
            assert!(!r["status_detail"].is_empty(), "{name}: {r:?}");
        }
        if st == "diverged" {
            let d = &r["status_detail"];
            assert!(d.starts_with("body ") || d.starts_with("muscle "), "{d}");
        }
        failed |= st == "diverged" || st == "failed";
        assert!(
            out.join("runs")
                .join(&r["run_id"])
                .join("result.json")
                .is_file(),
            "{name}: every run has its record"
        );
    }
    assert_eq!(
        o.status.code(),
        Some(if failed { 1 } else { 0 }),
        "{name}: {err}"
    );
    // The manifest covers what was written, failed runs included.
    let c = hipdrop(&["check-output".into(), out.display().to_string()]);
    assert_eq!(c.status.code(), Some(0), "{name}");
    std::fs::remove_dir_all(&out).unwrap();
    (o, rows)
}

fn status(r: &Row) -> &str {
    r["status"].as_str()
}

#[test]
fn all_abductors_at_strength_zero_run_or_fail_cleanly() {
    let (_, rows) = run_clean("abd0", &["strength.hip_abductors=0"]);
    assert_eq!(rows.len(), 1);
    // Today: the centre of pressure leaves the foot (tests/robustness.rs).
    assert_eq!(status(&rows[0]), "lost_balance", "{:?}", rows[0]);
}

#[test]
fn light_heavy_short_and_tall_subjects_run_or_fail_cleanly() {
    // The range (40-150 kg, 1.4-2.1 m) and the loader's limits (30-200 kg, 1.2-2.3 m),
    // each alone with the other at its default.
    let (_, rows) = run_clean(
        "subjects",
        &[
            "sweep.mode=\"one_at_a_time\"",
            "sweep.axes.subject.mass_kg=[40, 150, 30, 200]",
            "sweep.axes.subject.height_m=[1.4, 2.1, 1.2, 2.3]",
        ],
    );
    assert_eq!(rows.len(), 8);
    // The range stands (as at the library level).
    for r in &rows {
        let m: f64 = r["subject.mass_kg"].parse().unwrap();
        let h: f64 = r["subject.height_m"].parse().unwrap();
        if (40.0..=150.0).contains(&m) && (1.4..=2.1).contains(&h) {
            assert_eq!(status(r), "ok", "{r:?}");
        }
    }
}

#[test]
fn the_largest_allowed_step_runs_or_fails_cleanly() {
    // integration.dt_s up to 5 ms; the control period at the step and at its own maximum.
    let (_, rows) = run_clean(
        "dt",
        &[
            "sweep.mode=\"zip\"",
            "sweep.axes.integration.dt_s=[0.005, 0.005]",
            "sweep.axes.controller.control_period_s=[0.005, 0.05]",
        ],
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(status(&rows[0]), "ok", "{:?}", rows[0]);
}

/// A diverging run in a sweep: `diverged` with its time and the body or muscle, exit
/// code 1, and the runs after it still complete.
#[test]
fn a_diverged_run_is_reported_with_time_and_place_and_the_sweep_continues() {
    let (o, rows) = run_clean(
        "diverge",
        &[
            "sweep.mode=\"zip\"",
            "sweep.axes.integration.dt_s=[0.001, 0.005, 0.001]",
            "sweep.axes.controller.control_period_s=[0.001, 0.005, 0.001]",
            "sweep.axes.controller.posture_frequency_rad_s=[10, 50, 10]",
            "sweep.axes.strength.all=[1.0, 0.01, 0.9]",
        ],
    );
    let st: Vec<&str> = rows.iter().map(status).collect();
    assert_eq!(st, ["ok", "diverged", "ok"]);
    assert_eq!(o.status.code(), Some(1));
    let t: f64 = rows[1]["status_time_s"].parse().unwrap();
    assert!(t > 0.0 && t < 0.3, "{t}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{}: diverged {}",
            rows[1]["run_id"], rows[1]["status_detail"]
        )),
        "{err}"
    );
    // The ok runs after it have their steady-state metrics.
    assert!(rows[2]["pelvic_drop_deg"].parse::<f64>().is_ok());
}
