//! Sweeps in parts: `hipdrop run --shard K/N` and `hipdrop merge` give the output of a
//! one-machine run byte for byte (the wall times aside), for any N, any order of the
//! shard directories, and after a shard was interrupted and resumed; every bad merge
//! input is refused with exit code 2, naming the directory and what is wrong, and
//! nothing written; the scripts of `hipdrop slurm` run the same way as array tasks
//! (without a cluster: `tests/slurm.rs` submits them to a real one).
//!
//! CI time: runs are 0.2 s of simulated time (well under a second of wall time each).

mod common;
use common::{copy_dir, hipdrop, stderr, tree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn tmp(name: &str) -> PathBuf {
    common::tmp("shards", name)
}

const SCENARIO: &str = "scenarios/abductor_strength_sweep.toml";

/// Five runs with strengths from full to falling: ok, still falling and lost balance.
const SETS: [&str; 6] = [
    "--set",
    "task.duration_s=0.2",
    "--set",
    "output.steady_window_s=0.1",
    "--set",
    "sweep.axes.strength.hip_abductors=[1.0, 0.6, 0.4, 0.3, 0.2]",
];

fn run(extra: &[&str], out: &Path) -> Output {
    hipdrop()
        .arg("run")
        .arg(SCENARIO)
        .args(SETS)
        .args(extra)
        .args(["--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

fn run_ok(extra: &[&str], out: &Path) {
    let o = run(extra, out);
    assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
}

fn merge(out: &Path, shards: &[&Path], extra: &[&str]) -> Output {
    hipdrop()
        .arg("merge")
        .arg("--out")
        .arg(out)
        .args(shards)
        .args(extra)
        .output()
        .unwrap()
}

/// Every file but the wall times: `timing.csv` left out, `wall_time_s` of each
/// `result.json` set to 0 (as in `tests/data_safety.rs`).
fn without_wall_times(t: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    t.into_iter()
        .filter(|(k, _)| k.as_str() != "timing.csv")
        .map(|(k, v)| {
            if k.ends_with("result.json") {
                let mut j: serde_json::Value = serde_json::from_slice(&v).unwrap();
                j["wall_time_s"] = serde_json::json!(0.0);
                (k, serde_json::to_vec_pretty(&j).unwrap())
            } else {
                (k, v)
            }
        })
        .collect()
}

fn assert_same(whole: &Path, merged: &Path, what: &str) {
    let (a, b) = (
        without_wall_times(tree(whole)),
        without_wall_times(tree(merged)),
    );
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: the same files"
    );
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs ({what})");
    }
    for f in ["summary.csv", "summary.json", "manifest.json", "plan.json"] {
        assert!(a.contains_key(f), "{what}: {f} compared");
    }
    assert!(
        a.keys().filter(|k| k.starts_with("runs/")).count() == 5 * 5,
        "{what}: the 5 files of each of the 5 runs compared"
    );
}

/// The summary rows a shard holds (run ids), in its summary.csv.
fn summary_ids(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("summary.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

#[test]
fn shards_merge_byte_identical_to_one_machine_for_any_n_order_and_after_resume() {
    let base = tmp("identical");
    let whole = base.join("whole");
    run_ok(&["--threads", "2", "--no-plots"], &whole);
    let ids = summary_ids(&whole);
    assert_eq!(ids.len(), 5);

    // N = 2: shard 1 holds runs 0, 2, 4 and shard 2 runs 1, 3 (i mod N + 1), whatever
    // the thread count; merged in reverse order.
    let s: Vec<PathBuf> = (1..=2).map(|k| base.join(format!("n2_{k}"))).collect();
    run_ok(&["--shard", "1/2", "--threads", "1", "--no-plots"], &s[0]);
    run_ok(&["--shard", "2/2", "--threads", "2", "--no-plots"], &s[1]);
    assert_eq!(
        summary_ids(&s[0]),
        [ids[0].clone(), ids[2].clone(), ids[4].clone()]
    );
    assert_eq!(summary_ids(&s[1]), [ids[1].clone(), ids[3].clone()]);
    let merged = base.join("merged2");
    let o = merge(&merged, &[&s[1], &s[0]], &["--no-plots"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same(&whole, &merged, "2 shards");

    // N = 5 (one run each), with shard 3 interrupted and resumed: its run's result.json
    // (the done-marker), summary and manifest removed, as after a SIGKILL mid-run.
    let s5: Vec<PathBuf> = (1..=5).map(|k| base.join(format!("n5_{k}"))).collect();
    for (k, d) in s5.iter().enumerate() {
        run_ok(&["--shard", &format!("{}/5", k + 1), "--no-plots"], d);
    }
    let cut = &s5[2];
    std::fs::remove_file(cut.join("manifest.json")).unwrap();
    std::fs::remove_file(cut.join("summary.csv")).unwrap();
    std::fs::remove_file(cut.join("runs").join(&ids[2]).join("result.json")).unwrap();
    let o = merge(
        &base.join("early"),
        &s5.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "an interrupted shard is refused");
    let e = stderr(&o);
    assert!(
        e.contains("shard 3/5 is not complete") && e.contains("--shard 3/5 --resume --out"),
        "says which shard and how to finish it: {e}"
    );
    assert!(!base.join("early").exists(), "nothing written");
    let o = run(&["--shard", "3/5", "--resume", "--no-plots"], cut);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("0 of 1 runs already complete"),
        "{}",
        stderr(&o)
    );
    let merged = base.join("merged5");
    let o = merge(
        &merged,
        &s5.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // merge drew the figures and report: compare with a one-machine run that drew them.
    let whole_plots = base.join("whole_plots");
    run_ok(&["--threads", "2"], &whole_plots);
    assert!(merged.join("report.html").is_file());
    assert_same(
        &whole_plots,
        &merged,
        "5 shards, one resumed, figures and report",
    );

    // N = 1: the whole sweep as one shard.
    let one = base.join("n1");
    run_ok(&["--shard", "1/1", "--no-plots"], &one);
    let merged = base.join("merged1");
    let o = merge(&merged, &[&one], &["--no-plots"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same(&whole, &merged, "1 shard");
    // A merged directory is an ordinary output directory.
    let o = hipdrop().arg("check-output").arg(&merged).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_dir_all(base).unwrap();
}

/// Refused with exit code 2, `want` in the message, and nothing written at `out`.
fn refused(out: &Path, shards: &[&Path], want: &[&str], what: &str) {
    let before = out.is_dir().then(|| tree(out));
    let file = out.is_file().then(|| std::fs::read(out).unwrap());
    let o = merge(out, shards, &["--no-plots"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{what}: exit 2: {e}");
    for w in want {
        assert!(e.contains(w), "{what}: says `{w}`: {e}");
    }
    assert!(e.contains("nothing written"), "{what}: {e}");
    match (before, file) {
        (Some(t), _) => assert_eq!(tree(out), t, "{what}: nothing changed"),
        (None, Some(b)) => assert_eq!(std::fs::read(out).unwrap(), b, "{what}: unchanged"),
        (None, None) => assert!(!out.exists(), "{what}: nothing written"),
    }
}

#[test]
fn every_bad_merge_input_is_refused_with_exit_2_and_nothing_written() {
    let base = tmp("bad");
    let s: Vec<PathBuf> = (1..=3).map(|k| base.join(format!("s{k}"))).collect();
    for (k, d) in s.iter().enumerate() {
        run_ok(&["--shard", &format!("{}/3", k + 1), "--no-plots"], d);
    }
    let out = base.join("merged");
    let (s1, s2, s3) = (s[0].as_path(), s[1].as_path(), s[2].as_path());

    refused(
        &out,
        &[s1, s3],
        &["shard 2/3 is missing", "--shard 2/3 --out DIR"],
        "missing shard",
    );
    refused(
        &out,
        &[s1, s2, s2, s3],
        &["shard 2/3 is given twice"],
        "duplicate",
    );

    // The same shard of another scenario (a --set value changed).
    let other = base.join("other");
    run_ok(
        &[
            "--set",
            "subject.mass_kg=80",
            "--shard",
            "2/3",
            "--no-plots",
        ],
        &other,
    );
    refused(
        &out,
        &[s1, &other, s3],
        &[
            "another scenario than",
            "subject.mass_kg = 75.16 there, 80 now",
        ],
        "other scenario",
    );

    // The same scenario given by another path: the merged manifest's `source` would
    // depend on which shard it came from.
    let path = base.join("path");
    let o = hipdrop()
        .arg("run")
        .arg(format!("./{SCENARIO}"))
        .args(SETS)
        .args(["--shard", "2/3", "--no-plots", "--quiet", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    refused(
        &out,
        &[s1, &path, s3],
        &[
            "source (the scenario file's path",
            "./scenarios/abductor_strength_sweep.toml",
        ],
        "other path",
    );

    // A shard of another split.
    let n4 = base.join("n4");
    run_ok(&["--shard", "2/4", "--no-plots"], &n4);
    refused(
        &out,
        &[s1, &n4, s3],
        &["holds shard 2/4", "one split"],
        "other N",
    );

    // A damaged byte in a checksummed file.
    let damaged = base.join("damaged");
    copy_dir(s2, &damaged);
    let ts = std::fs::read_dir(damaged.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("timeseries.csv"))
        .min()
        .unwrap();
    let mut b = std::fs::read(&ts).unwrap();
    let i = b.len() / 2;
    b[i] = if b[i] == b'7' { b'8' } else { b'7' };
    std::fs::write(&ts, b).unwrap();
    refused(
        &out,
        &[s1, &damaged, s3],
        &[
            "damaged: runs/",
            "timeseries.csv (sha256",
            "--shard 2/3 --resume",
        ],
        "damaged file",
    );

    // A record (not checksummed: it holds the wall time) edited after the run.
    let edited = base.join("edited");
    copy_dir(s2, &edited);
    let rj = std::fs::read_dir(edited.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("result.json"))
        .min()
        .unwrap();
    let mut j: serde_json::Value = serde_json::from_slice(&std::fs::read(&rj).unwrap()).unwrap();
    j["status"] = serde_json::json!(if j["status"] == "ok" {
        "lost_balance"
    } else {
        "ok"
    });
    std::fs::write(&rj, serde_json::to_vec_pretty(&j).unwrap()).unwrap();
    refused(
        &out,
        &[s1, &edited, s3],
        &["do not agree with its summary.csv"],
        "edited record",
    );

    // Another hipdrop version.
    let version = base.join("version");
    copy_dir(s2, &version);
    let mp = version.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mp).unwrap()).unwrap();
    m["hipdrop_version"] = serde_json::json!("0.0.1");
    std::fs::write(&mp, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    refused(
        &out,
        &[s1, &version, s3],
        &["written by hipdrop 0.0.1"],
        "other version",
    );

    // Not a shard: a whole sweep, and a directory that is no output at all.
    let whole = base.join("whole");
    run_ok(&["--no-plots"], &whole);
    refused(
        &out,
        &[&whole],
        &["holds a whole sweep", "not a shard"],
        "whole sweep",
    );
    refused(
        &out,
        &[&base.join("nowhere")],
        &["nowhere: not a directory"],
        "no directory",
    );
    let empty = base.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    refused(
        &out,
        &[&empty],
        &["no readable plan.json"],
        "empty directory",
    );

    // --out: a shard itself, a file, a directory with results.
    refused(
        s1,
        &[s1, s2, s3],
        &["is the shard directory"],
        "--out a shard",
    );
    let file = base.join("file");
    std::fs::write(&file, "x").unwrap();
    refused(&file, &[s1, s2, s3], &["is a file"], "--out a file");
    refused(
        &whole,
        &[s1, s2, s3],
        &["already holds results", "--force"],
        "--out with results",
    );
    let o = merge(&whole, &[s1, s2, s3], &["--force", "--no-plots"]);
    assert_eq!(o.status.code(), Some(0), "--force replaces: {}", stderr(&o));

    // Bad --shard values for run.
    for v in ["0/3", "4/3", "3", "a/2", "1/0", "1/6"] {
        let o = run(&["--shard", v], &base.join("never"));
        assert_eq!(o.status.code(), Some(2), "--shard {v}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("--shard {v}")),
            "{}",
            stderr(&o)
        );
        assert!(!base.join("never").exists(), "--shard {v}: nothing written");
    }
    // Resuming a shard's directory as another shard.
    let o = run(&["--shard", "2/3", "--resume"], s1);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shard 1/3 there, shard 2/3 now"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn slurm_scripts_run_as_array_tasks_and_merge_to_the_one_machine_result() {
    let base = tmp("slurm");
    let out = base.join("cluster");
    let o = hipdrop()
        .arg("slurm")
        .arg(SCENARIO)
        .args(SETS)
        .args([
            "--shards",
            "3",
            "--partition",
            "short",
            "--no-plots",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("submit.sh"), "{}", stderr(&o));
    let dir = out.join("slurm");
    let array = std::fs::read_to_string(dir.join("array.sbatch")).unwrap();
    for want in [
        "#SBATCH --array=0-2",
        "#SBATCH --partition=short",
        "#SBATCH --requeue",
        "--shard \"$k/3\"",
        "--resume",
        "scontrol requeue",
    ] {
        assert!(array.contains(want), "array.sbatch has `{want}`:\n{array}");
    }
    let submit = std::fs::read_to_string(dir.join("submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:"), "{submit}");

    // Run the tasks as SLURM would, one after another, then the merge job.
    for task in 0..3 {
        let o = std::process::Command::new("bash")
            .arg(dir.join("array.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "task {task}: {}", stderr(&o));
    }
    let o = std::process::Command::new("bash")
        .arg(dir.join("merge.sbatch"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "merge: {}", stderr(&o));
    let whole = base.join("whole");
    run_ok(&["--no-plots"], &whole);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_same(&whole, &out, "the SLURM scripts run by hand");

    // Bad input: N out of range, an output directory in use, a bad SLURM value.
    let slurm = |extra: &[&str], out: &Path| {
        hipdrop()
            .arg("slurm")
            .arg(SCENARIO)
            .args(SETS)
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    for (extra, want) in [
        (&["--shards", "0"][..], "--shards 0"),
        (&["--shards", "6"][..], "has 5 run(s)"),
        (&["--shards", "2", "--partition", "a b"][..], "--partition"),
        (
            &["--shards", "2", "--cpus-per-task", "0"][..],
            "--cpus-per-task 0",
        ),
    ] {
        let o = slurm(extra, &base.join("never"));
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{extra:?}: {}", stderr(&o));
        assert!(!base.join("never").exists());
    }
    let o = slurm(&["--shards", "2"], &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already holds results"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(base).unwrap();
}
