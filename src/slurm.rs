//! `hipdrop slurm`: the batch scripts that run a sweep as a SLURM job array, one shard
//! (`hipdrop run --shard K/N`) per array task, and a merge job (`hipdrop merge`) that
//! starts when every task has succeeded.
//!
//! Layout, under the sweep's output directory `OUT`:
//! `OUT/slurm/array.sbatch`, `OUT/slurm/merge.sbatch`, `OUT/slurm/submit.sh` (submits
//! both, the merge with `--dependency=afterok` on the array), `OUT/slurm/logs/`, and the
//! shards in `OUT/slurm/shards/K-of-N/`; the merged results in `OUT` itself.
//!
//! A task runs its shard with `--resume`, so a requeued task (preempted, its node lost,
//! or requeued by hand with `scontrol requeue`) keeps the runs it completed and runs the
//! rest. When the shard's process is killed (SIGKILL from the out-of-memory killer, say)
//! the task requeues itself, at most [`MAX_SELF_REQUEUES`] times: a task that ends
//! FAILED would leave the merge's `afterok` dependency unsatisfiable for good (SLURM
//! 22.05 does not revisit it when the failed task is requeued later).

use crate::runner::shell_word;
use std::path::{Path, PathBuf};

/// How often an array task requeues itself after its shard's process was killed by a
/// signal, before it gives up and fails.
pub const MAX_SELF_REQUEUES: u32 = 3;

/// What `hipdrop slurm` writes the scripts for.
#[derive(Debug, Clone)]
pub struct SlurmJob {
    /// Scenario name (job names).
    pub name: String,
    /// The scenario file, as given (relative to `workdir`): the merged manifest's
    /// `source`, as in a one-machine run from `workdir`.
    pub scenario: String,
    /// `--set` values, as given.
    pub sets: Vec<String>,
    /// Shards (array tasks).
    pub shards: usize,
    /// Runs in the sweep.
    pub runs: usize,
    /// The merged output directory (as given, relative to `workdir` or absolute).
    pub out: PathBuf,
    /// Directory the jobs run in (`#SBATCH --chdir`): where `hipdrop slurm` ran.
    pub workdir: PathBuf,
    /// The hipdrop binary the jobs run (absolute).
    pub hipdrop: PathBuf,
    /// `#SBATCH --partition`.
    pub partition: Option<String>,
    /// `#SBATCH --account`.
    pub account: Option<String>,
    /// `#SBATCH --time` of each array task (`[D-]HH:MM:SS` or minutes).
    pub time: String,
    /// `#SBATCH --time` of the merge job.
    pub merge_time: String,
    /// `#SBATCH --cpus-per-task` (the shard's `--threads`).
    pub cpus_per_task: usize,
    /// `#SBATCH --mem` (e.g. `2G`), or the cluster's default.
    pub mem: Option<String>,
    /// Draw the figures and report in the merge job.
    pub plots: bool,
}

/// CPU time per simulation step (s) the default `--time` assumes: above every task's
/// measured cost on the reference machine (`docs/performance.md`: stance 61-85 us, the
/// squat 116-125 us per 2 ms step), where `hipdrop check` estimates 50 us for all.
pub const CPU_S_PER_STEP: f64 = 150e-6;

/// Whether `s` is a time limit SLURM takes: minutes, `MM:SS`, `HH:MM:SS`, `D-HH`,
/// `D-HH:MM` or `D-HH:MM:SS` (digits only), or `UNLIMITED`/`INFINITE`.
pub fn valid_time(s: &str) -> bool {
    if s == "UNLIMITED" || s == "INFINITE" {
        return true;
    }
    let digits = |p: &str| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit());
    let (days, rest) = match s.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, s),
    };
    if days.is_some_and(|d| !digits(d)) {
        return false;
    }
    let parts: Vec<&str> = rest.split(':').collect();
    parts.len() <= 3 && parts.iter().all(|p| digits(p))
}

/// `[D-]HH:MM:SS` for a duration in seconds, rounded up to whole minutes (at least 5).
pub fn slurm_time(seconds: f64) -> String {
    let min = ((seconds / 60.0).ceil() as u64).max(5);
    let (d, h, m) = (min / 1440, (min / 60) % 24, min % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:00")
    } else {
        format!("{h:02}:{m:02}:00")
    }
}

impl SlurmJob {
    /// `OUT/slurm`.
    pub fn slurm_dir(&self) -> PathBuf {
        self.out.join("slurm")
    }

    /// The directory of shard `k` (from 1).
    pub fn shard_dir(&self, k: usize) -> PathBuf {
        self.slurm_dir()
            .join("shards")
            .join(format!("{k}-of-{}", self.shards))
    }

    fn q(p: &Path) -> String {
        shell_word(&p.display().to_string())
    }

    fn header(&self, job_name: &str, time: &str, cpus: usize) -> String {
        // SLURM reads an #SBATCH line up to the first space or '#': a job name of
        // letters, digits, '_', '.' and '-' only.
        let job_name: String = job_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut s = String::from("#!/bin/bash\n");
        s.push_str(&format!("#SBATCH --job-name={job_name}\n"));
        s.push_str(&format!("#SBATCH --chdir={}\n", Self::q(&self.workdir)));
        s.push_str(&format!("#SBATCH --time={time}\n"));
        s.push_str(&format!("#SBATCH --cpus-per-task={cpus}\n"));
        s.push_str("#SBATCH --ntasks=1\n");
        if let Some(m) = &self.mem {
            s.push_str(&format!("#SBATCH --mem={m}\n"));
        }
        if let Some(p) = &self.partition {
            s.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        if let Some(a) = &self.account {
            s.push_str(&format!("#SBATCH --account={a}\n"));
        }
        s
    }

    /// The job-array script: one shard per task.
    pub fn array_script(&self) -> String {
        let n = self.shards;
        let logs = self.slurm_dir().join("logs");
        let mut s = self.header(
            &format!("hipdrop-{}", self.name),
            &self.time,
            self.cpus_per_task,
        );
        s.push_str(&format!("#SBATCH --array=0-{}\n", n - 1));
        s.push_str(&format!(
            "#SBATCH --output={}\n",
            Self::q(&logs.join("shard_%a.out"))
        ));
        s.push_str("#SBATCH --open-mode=append\n#SBATCH --requeue\n");
        let mut run = format!("\"$HIPDROP\" run {} ", shell_word(&self.scenario));
        for x in &self.sets {
            run.push_str(&format!("--set {} ", shell_word(x)));
        }
        s.push_str(&format!(
            r#"# Written by `hipdrop slurm`: shard K of {n} of the sweep {name} ({runs} runs) per
# array task. Submit with submit.sh (it also submits the merge job).
set -u
HIPDROP={hipdrop}
k=$((SLURM_ARRAY_TASK_ID + 1))
dir={shards}/$k-of-{n}
echo "hipdrop shard $k/{n} on $(hostname), restart ${{SLURM_RESTART_COUNT:-0}}, $(date -u +%FT%TZ)"
# --resume: a requeued task keeps the runs it completed.
{run}--shard "$k/{n}" --out "$dir" --resume --no-plots --quiet --threads "${{SLURM_CPUS_PER_TASK:-1}}" &
wait $!
rc=$?
echo "hipdrop shard $k/{n}: exit code $rc, $(date -u +%FT%TZ)"
if [ "$rc" -ge 128 ] && [ "${{SLURM_RESTART_COUNT:-0}}" -lt {max} ]; then
  # Killed by a signal (out of memory, say): requeue this task rather than fail it, so
  # that the merge's afterok dependency still holds; --resume finishes the shard.
  echo "hipdrop shard $k/{n}: killed by signal $((rc - 128)); requeueing"
  # SLURM ends this script as it requeues the task; if it cannot, the task fails.
  scontrol requeue "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}" && sleep 600
  exit "$rc"
fi
# Exit code 1: some runs diverged, which are results too; the shard is complete when every
# file its manifest lists is intact.
if [ "$rc" -eq 1 ] && "$HIPDROP" check-output "$dir" >/dev/null; then
  exit 0
fi
exit "$rc"
"#,
            name = self.name,
            runs = self.runs,
            hipdrop = Self::q(&self.hipdrop),
            shards = Self::q(&self.slurm_dir().join("shards")),
            max = MAX_SELF_REQUEUES,
        ));
        s
    }

    /// The merge job's script.
    pub fn merge_script(&self) -> String {
        let n = self.shards;
        let logs = self.slurm_dir().join("logs");
        let mut s = self.header(&format!("hipdrop-{}-merge", self.name), &self.merge_time, 1);
        s.push_str(&format!(
            "#SBATCH --output={}\n",
            Self::q(&logs.join("merge.out"))
        ));
        s.push_str("#SBATCH --open-mode=append\n");
        s.push_str(&format!(
            r#"# Written by `hipdrop slurm`: joins the {n} shards of {name} into {out}
# (byte-identical to a one-machine run of the scenario), after every array task succeeded.
set -u
HIPDROP={hipdrop}
shards=()
for k in $(seq 1 {n}); do shards+=({shards}/$k-of-{n}); done
"$HIPDROP" merge --out {out} --force{plots} "${{shards[@]}}"
rc=$?
# Exit code 1 with an intact output (and its report, unless --no-plots): some runs
# diverged (results too). A figure that could not be drawn also gives 1: then no report.
if [ "$rc" -eq 1 ] && "$HIPDROP" check-output {out} >/dev/null{report}; then
  exit 0
fi
exit "$rc"
"#,
            name = self.name,
            out = Self::q(&self.out),
            hipdrop = Self::q(&self.hipdrop),
            shards = Self::q(&self.slurm_dir().join("shards")),
            plots = if self.plots { "" } else { " --no-plots" },
            report = if self.plots {
                format!(" && [ -f {} ]", Self::q(&self.out.join("report.html")))
            } else {
                String::new()
            },
        ));
        s
    }

    /// The script that submits both jobs.
    pub fn submit_script(&self) -> String {
        format!(
            r#"#!/bin/bash
# Written by `hipdrop slurm`: submits the shards of {name} as a job array and the merge
# job after it (afterok: it starts once every array task has succeeded).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/logs"
array=$(sbatch --parsable "$here/array.sbatch")
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=no "$here/merge.sbatch")
merge=${{merge%%;*}}
echo "submitted: job array $array ({n} shards), merge job $merge (after every shard has succeeded)"
echo "watch:     squeue -j $array,$merge"
echo "results:   "{out}" (logs in $here/logs)"
"#,
            name = self.name,
            n = self.shards,
            out = Self::q(&self.out),
        )
    }

    /// Every file to write: (path, text, executable).
    pub fn files(&self) -> Vec<(PathBuf, String, bool)> {
        let d = self.slurm_dir();
        vec![
            (d.join("array.sbatch"), self.array_script(), false),
            (d.join("merge.sbatch"), self.merge_script(), false),
            (d.join("submit.sh"), self.submit_script(), true),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_as_slurm_takes_them() {
        for ok in ["30", "02:00:00", "1-00:00:00", "1-12", "45:00", "INFINITE"] {
            assert!(valid_time(ok), "{ok}");
        }
        for bad in ["banana", "", "1:2:3:4", "-5", "1-", "2h", "1.5"] {
            assert!(!valid_time(bad), "{bad}");
        }
    }

    #[test]
    fn slurm_time_rounds_up_to_minutes_with_a_floor_of_five() {
        assert_eq!(slurm_time(0.0), "00:05:00");
        assert_eq!(slurm_time(301.0), "00:06:00");
        assert_eq!(slurm_time(2.0 * 3600.0), "02:00:00");
        assert_eq!(slurm_time(86_400.0 + 60.0), "1-00:01:00");
    }

    #[test]
    fn scripts_quote_paths_and_values_for_the_shell() {
        let job = SlurmJob {
            name: "my grid #1".into(),
            scenario: "my scenarios/grid.toml".into(),
            sets: vec!["sweep.axes.strength.hip_abductors=[1, 0.5]".into()],
            shards: 4,
            runs: 10,
            out: PathBuf::from("results/grid"),
            workdir: PathBuf::from("/home/a b"),
            hipdrop: PathBuf::from("/opt/hipdrop"),
            partition: Some("short".into()),
            account: None,
            time: "00:10:00".into(),
            merge_time: "00:05:00".into(),
            cpus_per_task: 2,
            mem: Some("2G".into()),
            plots: true,
        };
        let a = job.array_script();
        assert!(a.contains("#SBATCH --job-name=hipdrop-my_grid__1\n"), "{a}");
        assert!(a.contains("#SBATCH --array=0-3\n"), "{a}");
        assert!(a.contains("#SBATCH --chdir='/home/a b'\n"), "{a}");
        assert!(a.contains("#SBATCH --cpus-per-task=2\n#SBATCH --ntasks=1\n#SBATCH --mem=2G\n#SBATCH --partition=short\n"), "{a}");
        assert!(!a.contains("--account"), "{a}");
        assert!(a.contains("run 'my scenarios/grid.toml' --set 'sweep.axes.strength.hip_abductors=[1, 0.5]' --shard \"$k/4\""), "{a}");
        let m = job.merge_script();
        assert!(
            m.contains("merge --out results/grid --force \"${shards[@]}\""),
            "{m}"
        );
        assert!(m.contains("results/grid/slurm/shards/$k-of-4"), "{m}");
        let s = job.submit_script();
        assert!(s.contains("--dependency=afterok:\"$array\""), "{s}");
        let odd = SlurmJob {
            out: PathBuf::from("res\"ults $HOME"),
            ..job.clone()
        };
        assert!(
            odd.submit_script()
                .contains("echo \"results:   \"'res\"ults $HOME'\" (logs"),
            "{}",
            odd.submit_script()
        );
        assert!(job
            .merge_script()
            .contains("&& [ -f results/grid/report.html ]"));
    }
}
