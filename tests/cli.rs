//! The command line as a user meets it: bad input gets exit code 2 and writes nothing.

mod common;
use common::hipdrop;
use common::{copy_dir, hipdrop_output, stderr, tree};
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
    assert_eq!(
        ts.lines().count(),
        1 + 11,
        "header + one row per 10 ms, from t = 0"
    );
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

/// Issue 11, item 10: `--compare` takes run ids or an index naming one run; an unknown
/// one is refused with the valid ids listed; the help shows the real id form.
#[test]
fn plot_compare_takes_an_index_and_lists_the_run_ids_it_knows() {
    let help = hipdrop_output(["plot", "--help"]);
    let h = String::from_utf8_lossy(&help.stdout);
    assert!(
        h.contains("--compare r0000,r0003") && !h.contains("run_0000"),
        "{h}"
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plot_fixture");
    let copy = tmp("plot_compare_index");
    copy_dir(&fixture, &copy);
    let before = tree(&copy);
    let o = hipdrop_output([
        "plot".as_ref(),
        copy.as_os_str(),
        "--compare".as_ref(),
        "r0009,1".as_ref(),
        "--no-gif".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no run `r0009` among the 3 runs (run_0000, run_0001, run_0002)"),
        "{err}"
    );
    assert_eq!(tree(&copy), before, "nothing written");
    let o = hipdrop_output([
        "plot".as_ref(),
        copy.as_os_str(),
        "--compare".as_ref(),
        "0,r0002".as_ref(),
        "--no-gif".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(copy
        .join("figures/compare_run_0000_vs_run_0002.png")
        .is_file());
    let _ = std::fs::remove_dir_all(&copy);
}

fn run_short(args: &[&str], out: &Path) -> std::process::Output {
    hipdrop()
        .args(["run", "--quiet", "--no-plots"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Item 11: resuming with other `--set` values names each differing key with both
/// values, suggests another --out first and names --force last, as the one that deletes.
#[test]
fn resume_with_other_set_values_names_the_keys_and_suggests_another_out_first() {
    let out = tmp("resume-differs");
    let base = [
        "scenarios/single_leg_stance.toml",
        "--set",
        "task.duration_s=0.1",
    ];
    let o = run_short(&base, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = tree(&out);
    let o = run_short(
        &[
            "scenarios/single_leg_stance.toml",
            "--set",
            "task.duration_s=0.2",
            "--set",
            "strength.hip_abductors=0.5",
            "--resume",
        ],
        &out,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("task.duration_s = 0.1 there, 0.2 now"),
        "{err}"
    );
    assert!(
        err.contains("strength.hip_abductors = 1 there, 0.5 now"),
        "{err}"
    );
    let (o_at, f_at) = (
        err.find("another --out").unwrap(),
        err.find("--force").unwrap(),
    );
    assert!(o_at < f_at && err.contains("--force deletes them"), "{err}");
    assert!(
        err.contains(
            "hipdrop run scenarios/single_leg_stance.toml --set task.duration_s=0.1 --resume --out"
        ),
        "the command the results were made with: {err}"
    );
    assert_eq!(tree(&out), before, "nothing written");
    let _ = std::fs::remove_dir_all(&out);
}

/// Item 14: an empty scenario file, an `--out` that is a file and a one-value range with
/// two ends are bad input: exit 2, a message naming what is wrong, nothing written.
#[test]
fn empty_file_out_that_is_a_file_and_ambiguous_range_exit_2() {
    let d = tmp("bad-input-14");
    std::fs::create_dir_all(&d).unwrap();
    let empty = d.join("empty.toml");
    std::fs::write(&empty, "# only a comment\n").unwrap();
    let out = d.join("out");
    let o = hipdrop()
        .args([
            "run".as_ref(),
            empty.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}: the file has no keys", empty.display())),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());

    let file = d.join("a_file");
    std::fs::write(&file, "keep me").unwrap();
    for target in [file.clone(), file.join("sub")] {
        let o = hipdrop()
            .args(["run", "scenarios/single_leg_stance.toml", "--out"])
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("is a file, not a directory"),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");

    let o = hipdrop()
        .args([
            "run",
            "scenarios/single_leg_stance.toml",
            "--set",
            "sweep.axes.strength.hip_abductors={start=1, stop=0, count=1}",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is ambiguous"), "{}", stderr(&o));
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// Item 15: times are written as the decimal they are (no `0.28800000000000003`), and
/// no value is written as `-0.0`, in summary.csv, timeseries.csv and the .mot file.
#[test]
fn outputs_have_no_float_noise_in_times_and_no_negative_zero() {
    let out = tmp("float-noise");
    // Loses balance (status_time_s), 2 ms rows (every step count is a time).
    let o = run_short(
        &[
            "scenarios/single_leg_stance.toml",
            "--set",
            "strength.hip_abductors=0.2",
            "--set",
            "task.duration_s=0.5",
            "--set",
            "output.record_interval_s=0.002",
        ],
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let short = |cell: &str| cell.split_once('.').is_none_or(|(_, f)| f.len() <= 9);
    let ts = std::fs::read_to_string(run.join("timeseries.csv")).unwrap();
    let mot = std::fs::read_to_string(run.join("kinematics.mot")).unwrap();
    let times: Vec<&str> = ts
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .chain(
            mot.lines()
                .skip_while(|l| *l != "endheader")
                .skip(2)
                .map(|l| l.split('\t').next().unwrap()),
        )
        .collect();
    assert!(times.len() > 100);
    for t in &times {
        assert!(short(t), "time {t}");
    }
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    for c in ["status_time_s", "sim_time_s"] {
        let v = row[header.iter().position(|h| *h == c).unwrap()];
        assert!(!v.is_empty() && short(v), "{c} = {v}");
    }
    for text in [&summary, &ts, &mot] {
        assert!(
            !text
                .split([',', '\t', '\n'])
                .any(|c| c == "-0.0" || c == "-0"),
            "-0.0 written"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Item 16: run ids are `r` + the index zero-padded to at least 4 digits, as the docs say.
#[test]
fn run_ids_have_the_documented_form() {
    let p = [("task.compensation".to_string(), toml::Value::Boolean(true))];
    assert!(hipdrop::sweep::run_id(3, &p).starts_with("r0003_"));
    assert!(hipdrop::sweep::run_id(9999, &p).starts_with("r9999_"));
    assert!(hipdrop::sweep::run_id(10000, &p).starts_with("r10000_"));
    assert_eq!(hipdrop::sweep::run_id(99999, &p).len(), "r99999_".len() + 8);
    assert_eq!(hipdrop::sweep::MAX_RUNS, 100_000, "at most 5 digits");
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md"))
            .unwrap();
    let docs = docs.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        docs.contains(
            "zero-padded to at least 4 digits: `r0000` to `r9999`, then `r10000` to `r99999`"
        ),
        "docs/scenarios.md describes the run id"
    );
}

/// Item 13: Ctrl-C (SIGINT) in the middle of a sweep prints how many runs are complete
/// and the command that finishes it, exits with 130; `plot` and `check-output` then
/// recognise the interrupted run and print the same command; it resumes to the end.
#[cfg(unix)]
#[test]
fn ctrl_c_says_how_to_resume_and_plot_and_check_output_recognise_the_interrupted_run() {
    use std::time::{Duration, Instant};
    let out = tmp("sigint");
    let sets = [
        "--set",
        "task.duration_s=1",
        "--set",
        "sweep.axes.strength.hip_abductors={start=1, stop=0.62, count=20}",
    ];
    let mut args = vec!["run", "scenarios/single_leg_stance.toml"];
    args.extend(sets);
    args.extend(["--threads", "1", "--no-plots", "--out"]);
    let mut child = hipdrop()
        .args(&args)
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let records = || {
        std::fs::read_dir(out.join("runs"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join("result.json").exists())
                    .count()
            })
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    while records() < 1 {
        assert!(t0.elapsed() < Duration::from_secs(120), "no run finished");
        assert!(child.try_wait().unwrap().is_none(), "finished too soon");
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let resume = format!(
        "hipdrop run scenarios/single_leg_stance.toml --set task.duration_s=1 --set 'sweep.axes.strength.hip_abductors={{start=1, stop=0.62, count=20}}' --resume --out {}",
        out.display()
    );
    assert!(
        err.contains("interrupted: ") && err.contains(" of 20 runs complete"),
        "{err}"
    );
    assert!(err.contains(&resume), "{err}");
    assert!(!out.join("summary.csv").exists());

    let o = hipdrop_output(["plot".as_ref(), out.as_os_str(), "--no-gif".as_ref()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("an interrupted `hipdrop run`") && stderr(&o).contains(&resume),
        "{}",
        stderr(&o)
    );
    let o = hipdrop_output(["check-output".as_ref(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&resume), "{}", stderr(&o));

    let mut args = vec!["run", "scenarios/single_leg_stance.toml"];
    args.extend(sets);
    args.extend(["--resume", "--quiet", "--no-plots", "--out"]);
    let o = hipdrop().args(&args).arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = hipdrop_output(["check-output".as_ref(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&out);
}

/// Disk estimate printed by `hipdrop check`, in bytes.
fn estimated_disk(check_stdout: &str) -> f64 {
    let line = check_stdout
        .lines()
        .find(|l| l.contains("disk: about "))
        .expect("a disk estimate");
    let rest = line.split("disk: about ").nth(1).unwrap();
    let mut w = rest.split_whitespace();
    let n: f64 = w.next().unwrap().parse().unwrap();
    n * match w.next().unwrap() {
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        u => panic!("unit {u}"),
    }
}

fn dir_bytes(dir: &Path) -> f64 {
    tree(dir).values().map(|v| v.len() as f64).sum()
}

/// Item 17: `check` prints runs, simulated time, CPU and disk estimates; the disk
/// estimate is within 25 % of what a run writes, with and without time series.
/// `output.timeseries = false` writes result.json only per run; check-output and plot
/// still work, and plot says what it skipped.
#[test]
fn check_estimates_cost_and_output_timeseries_false_writes_the_summary_only() {
    let sc = "scenarios/abductor_strength_sweep.toml";
    let o = hipdrop_output(["check", sc]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("# estimate for 10 run(s): 20 s simulated (2.00 s per run), 10000 steps"),
        "{text}"
    );
    assert!(
        text.contains("CPU time: about 0.50 s (50 us per step"),
        "{text}"
    );
    let full = estimated_disk(&text);
    assert!((9e6..16e6).contains(&full), "{text}");

    for series in [true, false] {
        let set = format!("output.timeseries={series}");
        let args = [
            sc,
            "--set",
            "task.duration_s=0.3",
            "--set",
            "sweep.axes.strength.hip_abductors=[1, 0.8, 0.6]",
            "--set",
            &set,
        ];
        let o = hipdrop().arg("check").args(args).output().unwrap();
        let want = estimated_disk(&String::from_utf8_lossy(&o.stdout));
        let out = tmp(&format!("summary-only-{series}"));
        let o = run_short(&args, &out);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let got = dir_bytes(&out);
        assert!(
            (got / want - 1.0).abs() < 0.25,
            "timeseries={series}: estimated {want} bytes, wrote {got}"
        );
        if series {
            continue;
        }
        let files: Vec<String> = tree(&out).into_keys().collect();
        assert!(
            files
                .iter()
                .filter(|f| f.starts_with("runs/"))
                .all(|f| f.ends_with("/result.json")),
            "{files:?}"
        );
        assert_eq!(files.iter().filter(|f| f.starts_with("runs/")).count(), 3);
        let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert!(
            !summary.contains("output.timeseries"),
            "not a parameter column"
        );
        assert_eq!(summary.lines().count(), 4);
        let o = hipdrop_output(["check-output".as_ref(), out.as_os_str()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        let o = hipdrop_output(["plot".as_ref(), out.as_os_str(), "--no-gif".as_ref()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("note: 3 of 3 runs were written without time series")
                && !err.contains("warning:"),
            "{err}"
        );
        assert!(out.join("report.html").is_file());
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// Item 18: every run writes `grf.mot` (OpenSim ExternalLoads columns, ground axes) with
/// the rows of kinematics.mot, checksummed in result.json and manifest.json like the
/// other files; the vertical force carries the body weight in quiet stance.
#[test]
fn grf_mot_is_written_next_to_the_kinematics_and_checksummed() {
    let out = tmp("grf");
    let o = run_short(
        &[
            "scenarios/single_leg_stance.toml",
            "--set",
            "task.duration_s=0.3",
        ],
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let id = run.file_name().unwrap().to_string_lossy().into_owned();
    let grf = std::fs::read_to_string(run.join("grf.mot")).unwrap();
    let mot = std::fs::read_to_string(run.join("kinematics.mot")).unwrap();
    let body = |t: &str| -> Vec<Vec<String>> {
        t.lines()
            .skip_while(|l| *l != "endheader")
            .skip(1)
            .map(|l| l.split('\t').map(String::from).collect())
            .collect()
    };
    let (g, k) = (body(&grf), body(&mot));
    assert_eq!(
        g[0].join(" "),
        "time ground_force_vx ground_force_vy ground_force_vz ground_force_px ground_force_py ground_force_pz ground_torque_x ground_torque_y ground_torque_z"
    );
    assert!(grf.contains(&format!("nRows={}\n", g.len() - 1)));
    assert_eq!(g.len(), k.len(), "one row per kinematics row");
    let mass: f64 = 75.16;
    for (gr, kr) in g.iter().zip(&k).skip(2) {
        assert_eq!(gr[0], kr[0], "same times");
        let v: Vec<f64> = gr.iter().map(|c| c.parse().unwrap()).collect();
        assert!(
            (v[2] / (mass * 9.81) - 1.0).abs() < 0.2,
            "vertical force {v:?}"
        );
        assert_eq!((v[5], v[7], v[8], v[9]), (0.0, 0.0, 0.0, 0.0), "{v:?}");
    }
    let rel = format!("runs/{id}/grf.mot");
    let sum = hipdrop::runner::sha256_hex(grf.as_bytes());
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("result.json")).unwrap()).unwrap();
    assert_eq!(rec["files"][&rel], sum.as_str());
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(man["files_sha256"][&rel], sum.as_str());
    let _ = std::fs::remove_dir_all(&out);
}
