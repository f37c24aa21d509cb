//! Data safety and determinism through the CLI: a sweep killed with SIGKILL leaves no
//! partial file that looks complete and `--resume` completes it to the same results;
//! `hipdrop check-output` detects damaged and missing files; results are identical for
//! 1 and N threads and for repeated runs.
//!
//! CI time: runs are 0.2 s of simulated time (about 0.5 s of wall time each).

mod common;
use common::{hipdrop, stderr, tree};

fn tmp(name: &str) -> PathBuf {
    common::tmp("safety", name)
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const SHORT: [&str; 4] = [
    "--set",
    "task.duration_s=0.2",
    "--set",
    "output.steady_window_s=0.1",
];

fn run_args(scenario: &str, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["run".into(), scenario.into()];
    a.extend(SHORT.iter().map(|s| s.to_string()));
    a.extend(extra.iter().map(|s| s.to_string()));
    a.extend(["--quiet".into(), "--out".into(), out.display().to_string()]);
    a
}

fn run_ok(scenario: &str, out: &Path, extra: &[&str]) -> Output {
    let o = hipdrop()
        .args(run_args(scenario, out, extra))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{scenario}: {}", stderr(&o));
    o
}

/// The documented wall-time data: `timing.csv` (left out) and `wall_time_s` in each
/// run's `result.json` (set to 0). Everything else must be byte-identical.
fn without_wall_times(t: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    t.iter()
        .filter(|(k, _)| k.as_str() != "timing.csv")
        .map(|(k, v)| {
            if k.ends_with("result.json") {
                let mut j: serde_json::Value = serde_json::from_slice(v).unwrap();
                j["wall_time_s"] = serde_json::json!(0.0);
                (k.clone(), serde_json::to_vec_pretty(&j).unwrap())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

fn assert_same(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: the same files"
    );
    for (k, v) in a {
        assert!(v == &b[k], "{k} differs ({what})");
    }
}

/// Identical output for 1 and 2 threads and for a repeated run, in every file but the
/// wall times (like rapier's `thread_count_determinism`).
#[test]
fn thread_count_and_repeat_determinism_of_every_output_file() {
    let (a, b, c) = (tmp("det1"), tmp("det2"), tmp("det1again"));
    let sc = "scenarios/squats_vs_abductors.toml";
    run_ok(sc, &a, &["--threads", "1"]);
    run_ok(sc, &b, &["--threads", "2"]);
    run_ok(sc, &c, &["--threads", "1"]);
    let ta = without_wall_times(&tree(&a));
    assert!(
        ta.len() > 7 * 4,
        "every run's files are compared: {}",
        ta.len()
    );
    assert_same(&ta, &without_wall_times(&tree(&b)), "--threads 1 vs 2");
    assert_same(&ta, &without_wall_times(&tree(&c)), "repeated run");
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

fn check_output(dir: &Path) -> Output {
    hipdrop().arg("check-output").arg(dir).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_output_detects_a_damaged_byte_and_a_deleted_file() {
    let out = tmp("check");
    run_ok(
        "scenarios/abductor_strength_sweep.toml",
        &out,
        &["--set", "sweep.axes.strength.hip_abductors=[1.0, 0.5]"],
    );
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // 2 runs x (timeseries.csv, kinematics.mot, states.sto, grf.mot) + 2 summaries.
    assert!(
        stdout(&o).contains("all 10 listed files intact"),
        "{}",
        stdout(&o)
    );

    // One byte of a time series changed.
    let runs: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let ts = runs[1].join("timeseries.csv");
    let mut b = std::fs::read(&ts).unwrap();
    let i = b.len() / 2;
    b[i] = if b[i] == b'7' { b'8' } else { b'7' };
    std::fs::write(&ts, &b).unwrap();
    let id = runs[1].file_name().unwrap().to_string_lossy().into_owned();
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(1));
    let s = stdout(&o);
    assert!(
        s.contains(&format!("damaged: runs/{id}/timeseries.csv (sha256 ")),
        "{s}"
    );
    assert!(s.contains("1 of 10 listed files damaged or missing"), "{s}");

    // A file deleted.
    std::fs::remove_file(out.join("summary.csv")).unwrap();
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(1));
    let s = stdout(&o);
    assert!(s.contains("missing: summary.csv"), "{s}");
    assert!(s.contains("2 of 10 listed files damaged or missing"), "{s}");

    // A leftover temporary file is reported but is not damage.
    let o = run_ok(
        "scenarios/abductor_strength_sweep.toml",
        &out,
        &[
            "--set",
            "sweep.axes.strength.hip_abductors=[1.0, 0.5]",
            "--force",
        ],
    );
    drop(o);
    std::fs::write(runs[0].join("states.sto.tmp"), "torn").unwrap();
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("states.sto.tmp is a temporary file"));

    // Unreadable or invalid: exit 2.
    let o = check_output(&out.join("no_such_dir"));
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(out.join("manifest.json"), "{ not json").unwrap();
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("manifest.json: not valid JSON"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        out.join("manifest.json"),
        r#"{"files_sha256": {"../etc/passwd": "0000000000000000000000000000000000000000000000000000000000000000"}}"#,
    )
    .unwrap();
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a path inside the directory"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let o = check_output(&out);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

/// Number of runs in `dir` with a record (`result.json`, written last).
fn records(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("runs"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("result.json").exists())
                .count()
        })
        .unwrap_or(0)
}

/// Start `hipdrop args`, wait until `dir` holds more than `before` run records, then
/// SIGKILL it.
fn kill_after_next_record(args: &[String], dir: &Path, before: usize) {
    let mut child = hipdrop()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while records(dir) <= before {
        assert!(t0.elapsed() < Duration::from_secs(120), "no run finished");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success());
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
    }
}

/// After a kill: no summary or manifest, and every file is either a `.tmp` or identical
/// to the uninterrupted run's (records up to their wall time). Returns complete runs.
fn nothing_partial(dir: &Path, reference: &BTreeMap<String, Vec<u8>>) -> usize {
    let left = tree(dir);
    assert!(
        !left.contains_key("summary.csv") && !left.contains_key("manifest.json"),
        "killed before the end: no summary or manifest"
    );
    let mut complete_runs = 0;
    for (f, bytes) in &left {
        if f.ends_with(".tmp") {
            continue; // an interrupted write: not a result, and not named like one
        }
        let want = reference
            .get(f)
            .unwrap_or_else(|| panic!("{f}: a file the full run does not have"));
        if f.ends_with("result.json") {
            let strip = |b: &[u8]| {
                let mut j: serde_json::Value = serde_json::from_slice(b).unwrap();
                j["wall_time_s"] = serde_json::json!(0.0);
                j
            };
            assert_eq!(strip(bytes), strip(want), "{f}");
            complete_runs += 1;
        } else {
            assert!(bytes == want, "{f} is not the complete file");
        }
    }
    complete_runs
}

/// A real SIGKILL in the middle of a sweep, and again in the middle of its `--resume`:
/// every file left is either a `.tmp` or byte-identical to the uninterrupted run's (so
/// nothing partial looks complete), and a last `--resume` completes it to the same
/// summary.csv, manifest.json and files.
#[test]
fn a_sweep_killed_with_sigkill_leaves_nothing_partial_and_resumes_to_the_same_results() {
    let sc = "scenarios/compensation.toml"; // 6 runs
    let full = tmp("kill-full");
    let part = tmp("kill-part");
    run_ok(sc, &full, &["--threads", "1"]);
    let reference = tree(&full);

    kill_after_next_record(&run_args(sc, &part, &["--threads", "1"]), &part, 0);
    let first = nothing_partial(&part, &reference);
    assert!((1..6).contains(&first), "{first} runs complete");

    kill_after_next_record(
        &run_args(sc, &part, &["--threads", "1", "--resume"]),
        &part,
        first,
    );
    let complete_runs = nothing_partial(&part, &reference);
    assert!(
        (first + 1..6).contains(&complete_runs),
        "{complete_runs} runs complete"
    );

    let o = run_ok(sc, &part, &["--threads", "1", "--resume"]);
    assert!(
        stderr(&o).contains(&format!("{complete_runs} of 6 runs already complete")),
        "{}",
        stderr(&o)
    );
    let resumed = tree(&part);
    for f in ["summary.csv", "summary.json", "manifest.json"] {
        assert!(resumed[f] == reference[f], "{f} differs after --resume");
    }
    assert_same(
        &without_wall_times(&reference),
        &without_wall_times(&resumed),
        "killed and resumed vs uninterrupted",
    );
    let o = check_output(&part);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    std::fs::remove_dir_all(&full).unwrap();
    std::fs::remove_dir_all(&part).unwrap();
}
