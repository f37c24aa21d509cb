//! `hipdrop merge`: join the shards of a sweep (`hipdrop run --shard K/N`, one output
//! directory each, e.g. the tasks of a SLURM job array) into the output directory a
//! one-machine run of the same scenario writes, byte for byte (`timing.csv` and the wall
//! times in `runs/*/result.json` aside, as between any two runs).
//!
//! Everything is checked before anything is written: every shard is complete and intact
//! (its `manifest.json` checksums, and its records against its checksummed
//! `summary.csv`), all come from the same resolved scenario, version and split, and
//! together they hold every run once.

use crate::output::write_atomic;
use crate::runner::{
    check_output, finish_with, interrupted, summary_csv, ManifestHead, Plan, RunRecord, Shard,
    OWN_ENTRIES,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a merge did not happen: `code` 2 for bad input (nothing written), 1 for an I/O
/// error while writing; one line per problem.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeError {
    /// Exit code: 2 bad input, 1 I/O error.
    pub code: u8,
    /// What is wrong, one line per problem, each naming its directory or file.
    pub problems: Vec<String>,
}

impl MergeError {
    fn input(problems: Vec<String>) -> MergeError {
        MergeError { code: 2, problems }
    }
    fn io(problem: String) -> MergeError {
        MergeError {
            code: 1,
            problems: vec![problem],
        }
    }
}

/// A shard's output directory, read and checked.
#[derive(Debug, Clone)]
pub struct ShardDir {
    /// The directory.
    pub dir: PathBuf,
    /// Its `plan.json` (the whole sweep's plan, and which shard it holds).
    pub plan: Plan,
    /// Which shard.
    pub shard: Shard,
    /// Its manifest's head (version, scenario, source, resolved, sweep).
    pub head: ManifestHead,
    /// The records of its runs, in sweep order.
    pub recs: Vec<RunRecord>,
}

/// Read and check the shard in `dir`: complete, intact, and its records agreeing with
/// its `summary.csv`.
pub fn read_shard(dir: &Path) -> Result<ShardDir, Vec<String>> {
    let d = dir.display();
    if !dir.is_dir() {
        return Err(vec![format!("{d}: not a directory")]);
    }
    let plan: Plan = std::fs::read(dir.join("plan.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            vec![format!(
                "{d}: no readable plan.json: not an output directory of `hipdrop run --shard K/N`"
            )]
        })?;
    let Some(shard) = plan.shard else {
        return Err(vec![format!(
            "{d}: holds a whole sweep (written without --shard), not a shard: merge joins the directories of `hipdrop run SCENARIO --shard K/N`"
        )]);
    };
    if !dir.join("manifest.json").is_file() {
        let why = interrupted(dir).unwrap_or_else(|| {
            format!(
                "{d}: no manifest.json (written after the shard's last run): finish it with `{}`",
                plan.resume_command(dir)
            )
        });
        return Err(vec![format!("shard {shard} is not complete: {why}")]);
    }
    let check = check_output(dir).map_err(|e| vec![e])?;
    if !check.ok() {
        let mut p: Vec<String> = check
            .missing
            .iter()
            .map(|f| format!("{d}: missing: {f} (listed in its manifest.json)"))
            .collect();
        p.extend(check.damaged.iter().map(|(f, want, got)| {
            format!("{d}: damaged: {f} (sha256 {got}, manifest.json says {want})")
        }));
        p.push(format!(
            "{d}: re-run shard {shard} (`{}` finishes a shard whose runs are damaged or missing)",
            plan.resume_command(dir)
        ));
        return Err(p);
    }
    let mp = dir.join("manifest.json");
    let manifest: serde_json::Value = std::fs::read(&mp)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| vec![format!("{}: not valid JSON", mp.display())])?;
    let head: ManifestHead = serde_json::from_value(manifest.clone())
        .map_err(|e| vec![format!("{}: not a hipdrop manifest: {e}", mp.display())])?;
    let named: Option<Shard> = manifest
        .get("shard")
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    if named != Some(shard) {
        return Err(vec![format!(
            "{}: names {} but plan.json there says shard {shard}: the directory mixes two runs; re-run it with --force",
            mp.display(),
            named.map_or("no shard".to_string(), |s| format!("shard {s}"))
        )]);
    }
    let mut recs = Vec::new();
    let mut problems = Vec::new();
    for (i, id) in plan.runs.iter().enumerate() {
        if !shard.holds(i) {
            continue;
        }
        let p = dir.join("runs").join(id).join("result.json");
        match std::fs::read(&p)
            .ok()
            .and_then(|b| serde_json::from_slice::<RunRecord>(&b).ok())
        {
            Some(r) if r.id == *id && r.index == i => recs.push(r),
            _ => problems.push(format!(
                "{}: missing or damaged (the record of run {id}, position {i} of the sweep)",
                p.display()
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // result.json is not checksummed (it holds the wall time); the summary built from the
    // records must be the checksummed summary.csv.
    let written = std::fs::read(dir.join("summary.csv")).unwrap_or_default();
    if summary_csv(&plan, &recs).as_bytes() != written.as_slice() {
        return Err(vec![format!(
            "{d}: its runs/*/result.json do not agree with its summary.csv (a record was changed after the run): re-run shard {shard} with `{} --shard {shard} --force --out {}`",
            plan.command_or_placeholder(),
            crate::runner::shell_word(&d.to_string())
        )]);
    }
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        plan,
        shard,
        head,
        recs,
    })
}

/// The plan without its shard: what every shard of one split shares.
fn whole(plan: &Plan) -> Plan {
    Plan {
        shard: None,
        ..plan.clone()
    }
}

/// Check that `shards` are the complete, consistent parts of one sweep; the problems
/// otherwise (each naming its directories).
pub fn check_shards(shards: &[ShardDir]) -> Vec<String> {
    let mut p = Vec::new();
    let Some(first) = shards.first() else {
        return vec!["no shard directories given".into()];
    };
    let fd = first.dir.display();
    let reference = whole(&first.plan);
    for s in &shards[1..] {
        let d = s.dir.display();
        if s.head.hipdrop_version != first.head.hipdrop_version {
            p.push(format!(
                "{d}: written by hipdrop {}, {fd} by hipdrop {}: shards of one sweep come from one version",
                s.head.hipdrop_version, first.head.hipdrop_version
            ));
        }
        let diff = crate::runner::plan_differences(&reference, &whole(&s.plan));
        if !diff.is_empty() {
            p.push(format!(
                "{d}: another scenario than {fd} (their plan.json; \"there\" is {fd}, \"now\" is {d}):"
            ));
            p.extend(diff.iter().map(|l| format!("  {l}")));
        } else if s.head != first.head {
            let mut fields = Vec::new();
            if s.head.scenario != first.head.scenario {
                fields.push("scenario");
            }
            let source;
            if s.head.source != first.head.source {
                source = format!(
                    "source (the scenario file's path: \"{}\" in {fd}, \"{}\" here)",
                    first.head.source, s.head.source
                );
                fields.push(&source);
            }
            if s.head.seed != first.head.seed {
                fields.push("seed");
            }
            if s.head.resolved != first.head.resolved {
                fields.push("resolved");
            }
            if s.head.sweep != first.head.sweep {
                fields.push("sweep");
            }
            if !fields.is_empty() {
                p.push(format!(
                    "{d}: its manifest.json differs from {fd}'s in {}: run every shard with the same scenario file, path and --set values",
                    fields.join(", ")
                ));
            }
        }
        if s.shard.count != first.shard.count {
            p.push(format!(
                "{d} holds shard {}, {fd} shard {}: the shards of one sweep come from one split (the same N)",
                s.shard, first.shard
            ));
        }
    }
    if !p.is_empty() {
        return p;
    }
    let n = first.shard.count;
    let mut seen: BTreeMap<usize, &Path> = BTreeMap::new();
    for s in shards {
        if let Some(other) = seen.get(&s.shard.index) {
            p.push(format!(
                "shard {} is given twice: {} and {} (give each shard once)",
                s.shard,
                other.display(),
                s.dir.display()
            ));
        } else {
            seen.insert(s.shard.index, &s.dir);
        }
    }
    for k in 1..=n {
        if seen.contains_key(&k) {
            continue;
        }
        let sh = Shard { index: k, count: n };
        let ids: Vec<&str> = first
            .plan
            .runs
            .iter()
            .enumerate()
            .filter(|(i, _)| sh.holds(*i))
            .map(|(_, id)| id.as_str())
            .collect();
        let shown = if ids.len() > 4 {
            format!("{}, ... ({} runs)", ids[..3].join(", "), ids.len())
        } else {
            ids.join(", ")
        };
        p.push(format!(
            "shard {sh} is missing (runs {shown}): run `{} --shard {sh} --out DIR` and give DIR too",
            first.plan.command_or_placeholder()
        ));
    }
    p
}

/// Join `shard_dirs` into `out` (see the module documentation). `force` replaces results
/// already in `out`. Returns the plan and the records of every run, in sweep order.
pub fn merge(
    out: &Path,
    shard_dirs: &[PathBuf],
    force: bool,
) -> Result<(Plan, Vec<RunRecord>), MergeError> {
    let mut problems = Vec::new();
    let mut shards = Vec::new();
    for d in shard_dirs {
        match read_shard(d) {
            Ok(s) => shards.push(s),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        return Err(MergeError::input(problems));
    }
    let p = check_shards(&shards);
    if !p.is_empty() {
        return Err(MergeError::input(p));
    }
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(s) = shards
        .iter()
        .find(|s| canon(&s.dir).is_some() && canon(&s.dir) == canon(out))
    {
        return Err(MergeError::input(vec![format!(
            "--out {}: is the shard directory {}; give a new directory for the merged sweep",
            out.display(),
            s.dir.display()
        )]));
    }
    if out.exists() && !out.is_dir() {
        return Err(MergeError::input(vec![format!(
            "--out {}: is a file, not a directory; give a directory (it is created if it does not exist)",
            out.display()
        )]));
    }
    let holds_results = OWN_ENTRIES.iter().any(|e| out.join(e).exists());
    if holds_results && !force {
        return Err(MergeError::input(vec![format!(
            "--out {}: already holds results: give another --out DIR, or --force to replace them",
            out.display()
        )]));
    }

    // Checked: now write. plan.json first (as `run` does: a merge cut short looks like an
    // interrupted run, which `--resume` finishes), then the runs, then the summaries and
    // the manifest.
    let io =
        |p: &Path, e: std::io::Error| MergeError::io(format!("cannot write {}: {e}", p.display()));
    if holds_results {
        crate::runner::remove_results(out, &[]).map_err(MergeError::io)?;
    }
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let first = &shards[0];
    let plan = whole(&first.plan);
    let text = serde_json::to_string_pretty(&plan).expect("plan serialises");
    write_atomic(&out.join("plan.json"), text.as_bytes())
        .map_err(|e| io(&out.join("plan.json"), e))?;
    let mut by_id: BTreeMap<&str, (&RunRecord, &Path)> = BTreeMap::new();
    for s in &shards {
        for r in &s.recs {
            by_id.insert(r.id.as_str(), (r, &s.dir));
        }
    }
    let mut recs = Vec::with_capacity(plan.runs.len());
    for id in &plan.runs {
        let (rec, dir) = by_id[id.as_str()];
        copy_run(&dir.join("runs").join(id), &out.join("runs").join(id))?;
        recs.push(rec.clone());
    }
    finish_with(out, &first.head, &plan, &recs).map_err(MergeError::io)?;
    Ok((plan, recs))
}

/// Copy a run's directory file by file (`result.json` last, as `run` writes it: the
/// run's done-marker); leftover `*.tmp` files of an interrupted write are not results.
fn copy_run(from: &Path, to: &Path) -> Result<(), MergeError> {
    let err = |p: &Path, e: std::io::Error| MergeError::io(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(to).map_err(|e| err(to, e))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(from)
        .map_err(|e| err(from, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "tmp"))
        .collect();
    files.sort_by_key(|p| (p.file_name().is_some_and(|n| n == "result.json"), p.clone()));
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| err(&f, e))?;
        let dest = to.join(f.file_name().expect("a file has a name"));
        write_atomic(&dest, &bytes).map_err(|e| err(&dest, e))?;
    }
    Ok(())
}
