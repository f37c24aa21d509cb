//! The `hipdrop` command line.

use clap::{Parser, Subcommand, ValueEnum};
use hipdrop::model::{coord, leg_coord, Model, Side};
use hipdrop::output::write_atomic;
use hipdrop::runner::{self, shell_word as shell_quote, RunRecord};
use hipdrop::scenario::{self, Loaded};
use hipdrop::sweep::{self, Run};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const EXAMPLES: &str = "Examples:
  hipdrop run scenarios/single_leg_stance.toml
      one run, results in output/single_leg_stance/
  hipdrop run scenarios/single_leg_stance.toml --set strength.hip_abductors=0.3
      the same with hip abductors at 30 % of nominal force
  hipdrop run scenarios/abductor_strength_sweep.toml --threads 2 --force
      a sweep on two threads, replacing earlier results
  hipdrop run scenarios/research_grid.toml --resume
      finish an interrupted sweep
  hipdrop run scenarios/single_leg_stance.toml --set 'sweep.axes.strength.gluteus_medius=[1, 0.5, 0.2]'
      turn any scenario into a sweep from the command line
  hipdrop check scenarios/squats_vs_abductors.toml
      validate and print the resolved scenario and its runs, without simulating
  hipdrop list keys          every scenario key: unit, default, range, meaning
  hipdrop list groups        muscle groups usable as strength.<group>
  hipdrop export --format osim scenarios/single_leg_stance.toml --out model.osim
  hipdrop muscles --moment-arms --out moment_arms.csv
  hipdrop check-output output/abductor_strength_sweep
      verify every result file against the checksums in manifest.json

Exit codes: 0 all runs completed (still_falling, lost_balance and short_of_depth are results), 1 some runs failed (diverged or did not start;
the rest are still written), 2 bad input (nothing written).
Scenario keys: docs/scenarios.md or `hipdrop list keys`.";

/// Single-leg stance with weak hip abductors: pelvic drop, and how far the knee moves inward, from the physics.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct ScenarioArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Override a scenario key, e.g. --set strength.hip_abductors=0.3 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListWhat {
    /// Every muscle with its nominal parameters.
    Muscles,
    /// Muscle groups and their muscles.
    Groups,
    /// Every scenario key with unit, default, range and meaning.
    Keys,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// MuJoCo MJCF.
    Mjcf,
    /// OpenSim model.
    Osim,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate a scenario (every run of its sweep) and write results.
    #[command(after_help = "Examples:
  hipdrop run scenarios/single_leg_stance.toml --set strength.hip_abductors=0.3
  hipdrop run scenarios/abductor_strength_sweep.toml --threads 2 --out /tmp/sweep --force
  hipdrop run scenarios/abductor_strength_sweep.toml --resume
Writes <out>/summary.csv, summary.json, manifest.json, plan.json, timing.csv and
runs/<id>/{timeseries.csv, kinematics.mot, states.sto, grf.mot, result.json}
(output.timeseries = false: result.json only). Ctrl-C stops with exit code 130 and prints
the --resume command that finishes the sweep.")]
    Run {
        #[command(flatten)]
        s: ScenarioArgs,
        /// Output directory (default: output/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar (it is also hidden when stderr is not a terminal).
        #[arg(long, short)]
        quiet: bool,
        /// Replace the results in an existing output directory.
        #[arg(long, conflicts_with = "resume")]
        force: bool,
        /// Finish an interrupted sweep: keep complete runs, run the rest.
        #[arg(long)]
        resume: bool,
        /// Do not draw figures and report.html after the runs (`hipdrop plot DIR` later).
        #[arg(long)]
        no_plots: bool,
        /// Run only the K-th of N parts of the sweep (K from 1; run i belongs to part
        /// i mod N + 1), e.g. --shard 2/4; `hipdrop merge` joins the parts.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// Join the shards of a sweep (`run --shard K/N`) into one output directory,
    /// byte-identical to a one-machine run of the same scenario.
    #[command(after_help = "Example:
  hipdrop run scenarios/abductor_strength_sweep.toml --shard 1/2 --out /tmp/s1
  hipdrop run scenarios/abductor_strength_sweep.toml --shard 2/2 --out /tmp/s2
  hipdrop merge --out /tmp/sweep /tmp/s1 /tmp/s2
Checks first, writes nothing if a check fails (exit 2): every shard complete and intact
(manifest.json checksums), all from the same resolved scenario, hipdrop version and N,
and together every run once. Then writes summary.csv, summary.json, manifest.json,
plan.json and runs/ as `hipdrop run` does (timing.csv and the wall times in
runs/*/result.json are the shards'), and the figures and report.html.
Exit codes: 0 merged, 1 merged but some runs failed (as for `run`) or an I/O error,
2 bad input (nothing written).")]
    Merge {
        /// Output directory of the merged sweep.
        #[arg(long)]
        out: PathBuf,
        /// Shard directories (`hipdrop run --shard K/N --out DIR`), in any order.
        #[arg(required = true, value_name = "SHARD_DIR")]
        shards: Vec<PathBuf>,
        /// Replace the results in an existing output directory.
        #[arg(long)]
        force: bool,
        /// Do not draw figures and report.html (`hipdrop plot DIR` later).
        #[arg(long)]
        no_plots: bool,
    },
    /// Write SLURM batch scripts that run a sweep as a job array (one shard per task)
    /// and merge the shards when every task has succeeded.
    #[command(after_help = "Example, on a cluster's login node:
  hipdrop slurm scenarios/research_grid.toml --shards 6 --partition short --out results/grid
  bash results/grid/slurm/submit.sh
Writes OUT/slurm/array.sbatch (#SBATCH --array=0-(N-1): task i runs
`hipdrop run SCENARIO --shard i+1/N --resume` into OUT/slurm/shards/(i+1)-of-N),
OUT/slurm/merge.sbatch (`hipdrop merge --out OUT` of all N shards) and
OUT/slurm/submit.sh (submits both, the merge with --dependency=afterok on the array).
The jobs run in the current directory (#SBATCH --chdir) with this hipdrop binary.
A requeued task (preempted, node lost, `scontrol requeue`) keeps its completed runs.
More: README.md, section \"Sweeps on a SLURM cluster\".")]
    Slurm {
        #[command(flatten)]
        s: ScenarioArgs,
        /// Number of shards (array tasks), from 1 to the sweep's number of runs.
        #[arg(long)]
        shards: usize,
        /// Output directory of the merged sweep (default: output/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// #SBATCH --partition.
        #[arg(long)]
        partition: Option<String>,
        /// #SBATCH --account.
        #[arg(long)]
        account: Option<String>,
        /// #SBATCH --time of each array task, as SLURM takes it (e.g. 30, 02:00:00,
        /// 1-00:00:00). Default: 3x the shard's steps at 150 us each (above every task's
        /// measured cost), at least 5 minutes.
        #[arg(long)]
        time: Option<String>,
        /// #SBATCH --cpus-per-task, and the threads of each shard.
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
        /// #SBATCH --mem of each task (e.g. 2G); default: the cluster's.
        #[arg(long)]
        mem: Option<String>,
        /// The hipdrop binary the jobs run (default: this one).
        #[arg(long)]
        hipdrop: Option<PathBuf>,
        /// Replace the scripts, shards and results already in the output directory.
        #[arg(long)]
        force: bool,
        /// The merge job draws no figures and report.html.
        #[arg(long)]
        no_plots: bool,
    },
    /// Validate a scenario and print its fully resolved form and its runs.
    #[command(
        after_help = "Example:\n  hipdrop check scenarios/research_grid.toml --set subject.stance_side=\"left\""
    )]
    Check {
        #[command(flatten)]
        s: ScenarioArgs,
    },
    /// List muscles, muscle groups or scenario keys.
    #[command(
        after_help = "Examples:\n  hipdrop list keys\n  hipdrop list groups\n  hipdrop list muscles"
    )]
    List {
        /// What to list.
        #[arg(value_enum, default_value = "keys")]
        what: ListWhat,
    },
    /// Write the scaled model (skeleton and muscles) for MuJoCo or OpenSim.
    #[command(after_help = "Examples:
  hipdrop export --format mjcf scenarios/single_leg_stance.toml --out hipdrop.xml
  hipdrop export --format osim scenarios/single_leg_stance.toml --set subject.height_m=1.65 --out small.osim
Limitations: docs/scenarios.md#export.")]
    Export {
        /// Output format.
        #[arg(long, value_enum)]
        format: Format,
        #[command(flatten)]
        s: ScenarioArgs,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify an output directory: every file listed in manifest.json against its SHA-256.
    #[command(after_help = "Example:
  hipdrop check-output output/abductor_strength_sweep
Exit codes: 0 every listed file is intact, 1 some are damaged or missing (listed),
2 DIR or its manifest.json cannot be read or is not valid. Not checksummed: timing.csv,
plan.json and runs/*/result.json (see manifest.json's not_checksummed).")]
    CheckOutput {
        /// Output directory of `hipdrop run`.
        dir: PathBuf,
    },
    /// Muscle information.
    Muscles {
        /// Write each muscle's moment arms about the stance (right) hip's three coordinates
        /// over hip adduction from -20 to +20 deg (CSV).
        #[arg(long)]
        moment_arms: bool,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Draw figures and report.html from an output directory (reads recorded files only).
    Plot {
        /// Output directory written by `hipdrop run` (holds summary.csv).
        dir: PathBuf,
        /// Also compare these two runs side by side: run ids from summary.csv
        /// (r0000_1a2b3c4d), or their index when it names one run (r0003 or 3),
        /// e.g. --compare r0000,r0003.
        #[arg(long, value_name = "LEFT,RIGHT")]
        compare: Option<String>,
        /// Skip the animated GIFs (faster).
        #[arg(long)]
        no_gif: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run {
            s,
            out,
            threads,
            quiet,
            force,
            resume,
            no_plots,
            shard,
        } => run(
            &s,
            RunOptions {
                out,
                threads,
                quiet,
                force,
                resume,
                no_plots,
                shard,
            },
        ),
        Cmd::Merge {
            out,
            shards,
            force,
            no_plots,
        } => merge(&out, &shards, force, no_plots),
        Cmd::Slurm {
            s,
            shards,
            out,
            partition,
            account,
            time,
            cpus_per_task,
            mem,
            hipdrop,
            force,
            no_plots,
        } => slurm(
            &s,
            SlurmArgs {
                shards,
                out,
                partition,
                account,
                time,
                cpus_per_task,
                mem,
                hipdrop,
                force,
                no_plots,
            },
        ),
        Cmd::Check { s } => check(&s),
        Cmd::List { what } => list(what),
        Cmd::Export { format, s, out } => export(format, &s, out),
        Cmd::CheckOutput { dir } => check_output(&dir),
        Cmd::Muscles { moment_arms, out } => muscles(moment_arms, out),
        Cmd::Plot {
            dir,
            compare,
            no_gif,
        } => plot(&dir, compare.as_deref(), no_gif),
    }
}

fn check_output(dir: &Path) -> ExitCode {
    let c = match runner::check_output(dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for f in &c.missing {
        println!("missing: {f}");
    }
    for (f, want, got) in &c.damaged {
        println!("damaged: {f} (sha256 {got}, manifest says {want})");
    }
    for f in &c.leftover_tmp {
        println!("note: {f} is a temporary file left by an interrupted write (not a result)");
    }
    let total = c.intact.len() + c.missing.len() + c.damaged.len();
    if c.ok() {
        println!("{}: all {total} listed files intact", dir.display());
        ExitCode::SUCCESS
    } else {
        println!(
            "{}: {} of {total} listed files damaged or missing",
            dir.display(),
            c.missing.len() + c.damaged.len()
        );
        ExitCode::from(1)
    }
}

/// Load and expand, or print every problem and give exit code 2.
fn load(s: &ScenarioArgs) -> Result<(Loaded, Vec<Run>), ExitCode> {
    let res = scenario::load(&s.scenario, &s.sets).and_then(|l| sweep::expand(&l).map(|r| (l, r)));
    if let Ok((l, runs)) = &res {
        let kinds: Vec<_> = runs.iter().map(|r| r.scenario.task.task().kind).collect();
        for w in scenario::warnings(l, &kinds) {
            eprintln!("warning: {w}");
        }
    }
    res.map_err(|e| {
        for p in &e.problems {
            eprintln!("error: {}: {}", p.origin, p.msg);
        }
        ExitCode::from(2)
    })
}

fn check(s: &ScenarioArgs) -> ExitCode {
    let (l, runs) = match load(s) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let base = scenario::resolved_base(&l).expect("checked");
    let mut text = format!(
        "# {} resolved (defaults filled in, includes and --set applied; for a squat or step-down the task's protocol defaults)\n",
        l.path.display()
    );
    text.push_str(&toml::to_string(&base).unwrap_or_default());
    if !l.sweep.is_empty() {
        text.push_str("\n[sweep]\n");
        for (k, v) in &l.sweep {
            if let Some(a) = k.strip_prefix("sweep.axes.") {
                text.push_str(&format!("axes.\"{a}\" = {v}\n"));
            } else {
                text.push_str(&format!("{} = {v}\n", k.trim_start_matches("sweep.")));
            }
        }
    }
    text.push_str(&format!("\n# {} run(s)\n", runs.len()));
    for r in &runs {
        let p: Vec<String> = r
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", sweep::canon(v)))
            .collect();
        text.push_str(&format!("# {}  {}\n", r.id, p.join(" ")).replace("  \n", "\n"));
    }
    text.push_str(&estimate_text(&runner::estimate(&runs)));
    emit(&text)
}

/// `hipdrop check`'s estimate of a sweep's cost, as comment lines.
fn estimate_text(e: &runner::Estimate) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_run = |x: f64| x / e.runs.max(1) as f64;
    let mut t = format!(
        "\n# estimate for {} run(s): {} simulated ({} per run), {:.0} steps\n",
        e.runs,
        duration(e.simulated_s),
        duration(per_run(e.simulated_s)),
        e.steps
    );
    t.push_str(&format!(
        "#   CPU time: about {} ({:.0} us per step, i.e. {:.0} us per simulated ms at the 2 ms default step: docs/performance.md), about {} on {cores} core(s); less when runs lose balance and stop early\n",
        duration(e.cpu_s),
        runner::CPU_S_PER_STEP * 1e6,
        runner::CPU_S_PER_STEP * 1e6 / 2.0,
        duration(e.cpu_s / cores as f64)
    ));
    let series = if e.series_bytes > 0.0 {
        format!(
            "time series {} per run; output.timeseries = false writes only the summaries and result.json, {} per run",
            bytes(per_run(e.series_bytes)),
            bytes(per_run(e.bytes - e.series_bytes))
        )
    } else {
        "output.timeseries = false: summaries and result.json only".to_string()
    };
    t.push_str(&format!(
        "#   disk: about {} ({} per run: {series}; sizes measured from a real run)\n",
        bytes(e.bytes),
        bytes(per_run(e.bytes))
    ));
    t
}

/// Seconds as `0.35 s`, `12 s`, `4.2 min` or `3.1 h`.
fn duration(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// Bytes as `850 kB`, `9.1 MB` or `1.2 GB` (powers of 1000).
fn bytes(b: f64) -> String {
    if b < 1e6 {
        format!("{:.0} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

fn list(what: ListWhat) -> ExitCode {
    let model = generic();
    let mut text = String::new();
    match what {
        ListWhat::Muscles => text = muscle_table(&model),
        ListWhat::Groups => {
            for (g, m) in &model.groups {
                text.push_str(&format!("{g}: {}\n", m.join(" ")));
            }
            text.push_str("all: every muscle\n");
        }
        ListWhat::Keys => {
            text.push_str("key\tunit\tdefault\tallowed\tmeaning\n");
            for k in scenario::keys() {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    k.name,
                    k.unit,
                    k.default,
                    k.allowed(),
                    k.doc
                ));
            }
        }
    }
    emit(&text)
}

/// Write `text` to standard output. A reader that closes the pipe early (`| head`) is
/// not an error: stop quietly with exit code 0.
fn emit(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::from(1)
        }
    }
}

fn export(format: Format, s: &ScenarioArgs, out: Option<PathBuf>) -> ExitCode {
    let (l, _) = match load(s) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let sc = scenario::from_flat(&l.base).expect("checked");
    let model = match Model::gait2392(sc.subject(), &sc.strength) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}: {e}", l.path.display());
            return ExitCode::from(2);
        }
    };
    let text = match format {
        Format::Mjcf => hipdrop::export::mjcf(&l.name, &model),
        Format::Osim => hipdrop::export::osim(&l.name, &model),
    };
    write_out(out, &text)
}

fn plot(dir: &std::path::Path, compare: Option<&str>, no_gif: bool) -> ExitCode {
    let mut opts = hipdrop::plot::PlotOptions {
        gif: !no_gif,
        ..Default::default()
    };
    if !dir.join("summary.csv").is_file() {
        if let Some(msg) = runner::interrupted(dir) {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    }
    if let Some(c) = compare {
        let Some((a, b)) = c.split_once(',') else {
            eprintln!("error: --compare expects two run ids separated by a comma, got `{c}`");
            return ExitCode::from(2);
        };
        // Run ids as given, or an index naming one run; plot_dir reports an unreadable summary.
        let (mut a, mut b) = (a.trim().to_string(), b.trim().to_string());
        if let Ok(summary) = hipdrop::plot::read_summary(dir) {
            let ids: Vec<&str> = summary.rows.iter().map(|r| r.run_id.as_str()).collect();
            for x in [&mut a, &mut b] {
                match resolve_run(&ids, x) {
                    Ok(id) => *x = id,
                    Err(e) => {
                        eprintln!(
                            "error: --compare: {}: {e}",
                            dir.join("summary.csv").display()
                        );
                        return ExitCode::from(2);
                    }
                }
            }
        }
        opts.compare = Some((a, b));
    }
    match hipdrop::plot::plot_dir(dir, &opts) {
        Ok(files) => {
            for f in &files {
                eprintln!("wrote {}", f.display());
            }
            warn_missing_series(dir);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The index part of a run id: the digits after its leading letters (`r0003_98f20d05` and
/// `run_0003` are 3).
fn index_of(id: &str) -> Option<usize> {
    let rest = id.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '_');
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The run id `want` stands for among `ids`: the id itself, an index (`3`, `r0003`,
/// `r3`) or a prefix of an id that names exactly one run. The error names the valid ids.
fn resolve_run(ids: &[&str], want: &str) -> Result<String, String> {
    if ids.contains(&want) {
        return Ok(want.to_string());
    }
    let index = want
        .strip_prefix('r')
        .unwrap_or(want)
        .parse::<usize>()
        .ok()
        .filter(|_| !want.is_empty() && !want.contains(['+', '-']));
    let matches: Vec<&str> = match index {
        Some(n) => ids
            .iter()
            .copied()
            .filter(|id| index_of(id) == Some(n))
            .collect(),
        None if want.len() >= 2 => ids
            .iter()
            .copied()
            .filter(|id| id.starts_with(want))
            .collect(),
        None => Vec::new(),
    };
    match matches.as_slice() {
        [one] => Ok(one.to_string()),
        [] => {
            const SHOWN: usize = 8;
            let mut list: Vec<&str> = ids.iter().copied().take(SHOWN).collect();
            if ids.len() > SHOWN {
                list.push("...");
                list.push(ids[ids.len() - 1]);
            }
            Err(format!(
                "no run `{want}` among the {} run{} ({}); give a run id or its index (e.g. `{}` or `{}`)",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                list.join(", "),
                ids.first().map(|i| i.split('_').next().unwrap_or(i)).unwrap_or("r0000"),
                ids.first().and_then(|i| index_of(i)).unwrap_or(0)
            ))
        }
        many => Err(format!(
            "`{want}` names {} runs ({}); give the full run id",
            many.len(),
            many.join(", ")
        )),
    }
}

/// Runs in `summary.csv` that simulated (ok, lost balance, diverged) but whose time
/// series is missing: `plot` draws the rest and says which were left out. Runs written
/// without time series on purpose (`output.timeseries = false`: their `result.json`
/// lists no time-series file) get one note instead of a warning per run.
fn warn_missing_series(dir: &Path) {
    use hipdrop::plot::RunStatus;
    let Ok(summary) = hipdrop::plot::read_summary(dir) else {
        return;
    };
    let mut summary_only = Vec::new();
    for r in &summary.rows {
        let simulated = matches!(
            r.status,
            RunStatus::Ok | RunStatus::StillFalling | RunStatus::LostBalance | RunStatus::Diverged
        );
        let nested = dir.join("runs").join(&r.run_id).join("timeseries.csv");
        let flat = dir.join(format!("{}_timeseries.csv", r.run_id));
        if !simulated || nested.is_file() || flat.is_file() {
            continue;
        }
        if runner::written_without_series(dir, &r.run_id) {
            summary_only.push(r.run_id.as_str());
            continue;
        }
        eprintln!(
            "warning: {} is missing: the figures of run {} were left out (`hipdrop check-output {}` lists damaged files, `hipdrop run ... --resume` re-runs them)",
            nested.display(),
            r.run_id,
            dir.display()
        );
    }
    if !summary_only.is_empty() {
        eprintln!(
            "note: {} of {} runs were written without time series (output.timeseries = false): the figures drawn from the summary are there; the per-run figures, the drop-over-time figure, the comparisons and the animations of those runs were skipped",
            summary_only.len(),
            summary.rows.len()
        );
    }
}

fn write_out(out: Option<PathBuf>, text: &str) -> ExitCode {
    match out {
        Some(p) => {
            if let Err(e) = write_atomic(&p, text.as_bytes()) {
                eprintln!("error: cannot write {}: {e}", p.display());
                return ExitCode::from(1);
            }
        }
        None => return emit(text),
    }
    ExitCode::SUCCESS
}

fn dir_has_results(dir: &Path) -> bool {
    runner::OWN_ENTRIES.iter().any(|e| dir.join(e).exists())
}

/// The options of `hipdrop run`.
struct RunOptions {
    out: Option<PathBuf>,
    threads: Option<usize>,
    quiet: bool,
    force: bool,
    resume: bool,
    no_plots: bool,
    shard: Option<String>,
}

fn run(s: &ScenarioArgs, o: RunOptions) -> ExitCode {
    let RunOptions {
        out,
        threads,
        quiet,
        force,
        resume,
        no_plots,
        shard,
    } = o;
    let shard = match shard.as_deref().map(runner::Shard::parse).transpose() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (l, runs) = match load(s) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if let Some(sh) = shard.filter(|sh| sh.count > runs.len()) {
        eprintln!(
            "error: --shard {sh}: {} has {} run(s), so it splits into at most {} shard(s); give N from 1 to {}",
            s.scenario.display(),
            runs.len(),
            runs.len(),
            runs.len()
        );
        return ExitCode::from(2);
    }
    let given = out.is_some();
    let dir = out.unwrap_or_else(|| match shard {
        Some(sh) => {
            PathBuf::from("output").join(format!("{}.shard-{}-of-{}", l.name, sh.index, sh.count))
        }
        None => PathBuf::from("output").join(&l.name),
    });
    // The output directory, or the nearest part of its path that exists, must be a directory.
    if let Some(file) = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| a.exists())
        .filter(|a| !a.is_dir())
    {
        let what = if given { "--out" } else { "output directory" };
        let part = if file == dir {
            String::new()
        } else {
            format!(" ({} is a file)", file.display())
        };
        eprintln!(
            "error: {what} {}: is a file, not a directory{part}; give a directory (it is created if it does not exist)",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let mut plan = runner::plan(&l, &runs);
    plan.command = command_of(s);
    plan.shard = shard;
    // A shard runs its part; the plan (run ids, columns) stays the whole sweep's.
    let runs: Vec<Run> = runs
        .into_iter()
        .filter(|r| shard.is_none_or(|sh| sh.holds(r.index)))
        .collect();
    let exists = dir_has_results(&dir);
    if exists && !force && !resume {
        eprintln!(
            "error: {} already holds results: give another --out DIR to keep them, --resume to finish an interrupted run of this scenario there, or --force to delete them and start again",
            dir.display()
        );
        return ExitCode::from(2);
    }
    if exists && resume {
        let old: Option<runner::Plan> = std::fs::read(dir.join("plan.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let diff = match &old {
            Some(old) => runner::plan_differences(old, &plan),
            None => vec!["plan.json is missing or not readable: nothing says which runs the results there belong to".into()],
        };
        if !diff.is_empty() {
            let made_with = old
                .as_ref()
                .filter(|o| !o.command.is_empty())
                .map(|o| format!(" (`{}`)", o.resume_command(&dir)))
                .unwrap_or_default();
            let only_shard = diff.len() == 1
                && (diff[0].starts_with("shard ") || diff[0].starts_with("the whole sweep"));
            let what = if only_shard {
                "these results hold another part of the sweep (another --shard)"
            } else {
                "these results were made with another scenario"
            };
            eprintln!(
                "error: {}: --resume: {what}, so they cannot be finished with this one (plan.json there, this run now):",
                dir.display()
            );
            for d in &diff {
                eprintln!("  {d}");
            }
            eprintln!(
                "To keep those results and run this scenario, give another --out DIR. To finish them, resume with the scenario file and --set values they were made with{made_with}. --force deletes them and starts again."
            );
            return ExitCode::from(2);
        }
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --threads: {e}");
            return ExitCode::from(2);
        }
    };
    if exists && force {
        if let Err(e) = runner::remove_results(&dir, &[]) {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    let plan_text = serde_json::to_string_pretty(&plan).expect("plan serialises");
    if let Err(e) = write_atomic(&dir.join("plan.json"), plan_text.as_bytes()) {
        eprintln!(
            "error: cannot write {}: {e}",
            dir.join("plan.json").display()
        );
        return ExitCode::from(1);
    }
    let done: Vec<Option<RunRecord>> = runs
        .iter()
        .map(|r| {
            if resume {
                runner::completed(&dir, r)
            } else {
                None
            }
        })
        .collect();
    let pending: Vec<&Run> = runs
        .iter()
        .zip(&done)
        .filter(|(_, d)| d.is_none())
        .map(|(r, _)| r)
        .collect();
    if resume {
        eprintln!(
            "{}: {} of {} runs already complete",
            dir.display(),
            runs.len() - pending.len(),
            runs.len()
        );
    }
    let total = runs.len();
    let complete = Arc::new(AtomicUsize::new(total - pending.len()));
    let finished = Arc::new(AtomicBool::new(false));
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(pending.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs, ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(250));
        b
    };
    on_interrupt(
        &bar,
        &complete,
        &finished,
        total,
        &dir,
        plan.resume_command(&dir),
    );
    let name = l.name.clone();
    let results: Vec<Result<RunRecord, String>> = pool.install(|| {
        pending
            .par_iter()
            .map(|r| {
                let rec = runner::run_one(&dir, &name, &plan, r);
                if rec.is_ok() {
                    complete.fetch_add(1, Ordering::SeqCst);
                }
                bar.inc(1);
                rec
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut new = results.into_iter();
    let mut recs = Vec::with_capacity(runs.len());
    for d in done {
        match d {
            Some(r) => recs.push(r),
            None => match new.next().expect("one result per pending run") {
                Ok(r) => recs.push(r),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(1);
                }
            },
        }
    }
    if let Err(e) = runner::finish(&dir, &l, &plan, &recs) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    finished.store(true, Ordering::SeqCst);
    let dynamic = runs
        .first()
        .is_some_and(|r| r.scenario.task.task().kind.is_dynamic());
    report(&l.name, &recs, dynamic);
    eprintln!("wrote {}", dir.display());
    if !no_plots {
        match hipdrop::plot::plot_dir(&dir, &hipdrop::plot::PlotOptions::default()) {
            Ok(_) => eprintln!(
                "wrote {} and {}",
                dir.join("figures").display(),
                dir.join("report.html").display()
            ),
            Err(e) => {
                eprintln!("error: figures: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if recs.iter().any(|r| r.failed()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The options of `hipdrop slurm`.
struct SlurmArgs {
    shards: usize,
    out: Option<PathBuf>,
    partition: Option<String>,
    account: Option<String>,
    time: Option<String>,
    cpus_per_task: usize,
    mem: Option<String>,
    hipdrop: Option<PathBuf>,
    force: bool,
    no_plots: bool,
}

fn slurm(s: &ScenarioArgs, a: SlurmArgs) -> ExitCode {
    let (l, runs) = match load(s) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if a.shards == 0 || a.shards > runs.len() {
        eprintln!(
            "error: --shards {}: {} has {} run(s); give N from 1 to {}",
            a.shards,
            s.scenario.display(),
            runs.len(),
            runs.len()
        );
        return ExitCode::from(2);
    }
    if a.cpus_per_task == 0 {
        eprintln!("error: --cpus-per-task 0: give 1 or more");
        return ExitCode::from(2);
    }
    if let Some(t) = a.time.as_deref().filter(|t| !hipdrop::slurm::valid_time(t)) {
        eprintln!(
            "error: --time {t:?}: not a SLURM time limit; give minutes (30), MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 02:00:00)"
        );
        return ExitCode::from(2);
    }
    for (flag, v) in [
        ("--partition", &a.partition),
        ("--account", &a.account),
        ("--mem", &a.mem),
    ] {
        if let Some(v) = v.as_deref().filter(|v| {
            v.is_empty()
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:.,+".contains(c))
        }) {
            eprintln!(
                "error: {flag} {v:?}: not a SLURM value (letters, digits and - _ : . , + only)"
            );
            return ExitCode::from(2);
        }
    }
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("output").join(&l.name));
    if out.exists() && !out.is_dir() {
        eprintln!(
            "error: --out {}: is a file, not a directory; give a directory (it is created if it does not exist)",
            out.display()
        );
        return ExitCode::from(2);
    }
    let slurm_dir = out.join("slurm");
    if (dir_has_results(&out) || slurm_dir.exists()) && !a.force {
        eprintln!(
            "error: {} already holds results or a SLURM job's files: give another --out DIR, or --force to replace them",
            out.display()
        );
        return ExitCode::from(2);
    }
    let given_bin = a.hipdrop.is_some();
    let hipdrop_bin = match a.hipdrop.map(Ok).unwrap_or_else(std::env::current_exe) {
        Ok(p) => std::fs::canonicalize(&p).unwrap_or(p),
        Err(e) => {
            eprintln!("error: cannot tell where this hipdrop binary is ({e}): give --hipdrop PATH");
            return ExitCode::from(2);
        }
    };
    #[cfg(unix)]
    let runnable = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&hipdrop_bin)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    #[cfg(not(unix))]
    let runnable = hipdrop_bin.is_file();
    if given_bin && !runnable {
        eprintln!(
            "error: --hipdrop {}: not an executable file; give the path of the hipdrop binary the jobs should run (on a file system the nodes see)",
            hipdrop_bin.display()
        );
        return ExitCode::from(2);
    }
    let workdir = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return ExitCode::from(1);
        }
    };
    let est = runner::estimate(&runs);
    let per_shard = runs.len().div_ceil(a.shards);
    let cpu_per_shard =
        est.steps * hipdrop::slurm::CPU_S_PER_STEP / runs.len() as f64 * per_shard as f64;
    let time = a.time.unwrap_or_else(|| {
        hipdrop::slurm::slurm_time(3.0 * cpu_per_shard / a.cpus_per_task as f64)
    });
    let job = hipdrop::slurm::SlurmJob {
        name: l.name.clone(),
        scenario: s.scenario.display().to_string(),
        sets: s.sets.clone(),
        shards: a.shards,
        runs: runs.len(),
        out: out.clone(),
        workdir,
        hipdrop: hipdrop_bin,
        partition: a.partition,
        account: a.account,
        time: time.clone(),
        merge_time: hipdrop::slurm::slurm_time(60.0 + 0.5 * runs.len() as f64),
        cpus_per_task: a.cpus_per_task,
        mem: a.mem,
        plots: !a.no_plots,
    };
    if a.force {
        if let Err(e) = runner::remove_results(&out, std::slice::from_ref(&slurm_dir)) {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    if let Err(e) = std::fs::create_dir_all(slurm_dir.join("logs")) {
        eprintln!("error: cannot create {}: {e}", slurm_dir.display());
        return ExitCode::from(1);
    }
    for (p, text, exec) in job.files() {
        if let Err(e) = write_atomic(&p, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", p.display());
            return ExitCode::from(1);
        }
        #[cfg(unix)]
        if exec {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
        }
        #[cfg(not(unix))]
        let _ = exec;
    }
    eprintln!(
        "wrote {}/{{array.sbatch, merge.sbatch, submit.sh}}: {} runs in {} shards of at most {per_shard} run(s), --time {time} per shard (estimate {:.1} CPU s per shard)\nsubmit with:\n  bash {}",
        slurm_dir.display(),
        runs.len(),
        a.shards,
        cpu_per_shard,
        shell_quote(&slurm_dir.join("submit.sh").display().to_string())
    );
    ExitCode::SUCCESS
}

fn merge(out: &Path, shards: &[PathBuf], force: bool, no_plots: bool) -> ExitCode {
    let (plan, recs) = match hipdrop::merge::merge(out, shards, force) {
        Ok(x) => x,
        Err(e) => {
            for p in &e.problems {
                eprintln!("error: {p}");
            }
            if e.code == 2 {
                eprintln!("nothing written");
            }
            return ExitCode::from(e.code);
        }
    };
    let dynamic = recs.first().is_some_and(|r| {
        hipdrop::task::TaskKind::parse(&r.task_kind).is_some_and(|k| k.is_dynamic())
    });
    report(&plan.name, &recs, dynamic);
    eprintln!(
        "wrote {} ({} shards, {} runs)",
        out.display(),
        shards.len(),
        recs.len()
    );
    if !no_plots {
        if let Err(e) = hipdrop::plot::plot_dir(out, &hipdrop::plot::PlotOptions::default()) {
            eprintln!("error: figures: {e}");
            return ExitCode::from(1);
        }
        eprintln!(
            "wrote {} and {}",
            out.join("figures").display(),
            out.join("report.html").display()
        );
    }
    if recs.iter().any(|r| r.failed()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The command that runs `s` again: scenario file and `--set` values (no `--out`).
fn command_of(s: &ScenarioArgs) -> String {
    let mut c = format!(
        "hipdrop run {}",
        shell_quote(&s.scenario.display().to_string())
    );
    for x in &s.sets {
        c.push_str(" --set ");
        c.push_str(&shell_quote(x));
    }
    c
}

/// On Ctrl-C (SIGINT): clear the progress bar, say how many runs are complete and how to
/// finish, and exit with 130 (128 + SIGINT). Complete runs are safe (every file is
/// written atomically and `result.json` last); a run in progress is run again by
/// `--resume`. After the summary is written, only the figures are missing.
fn on_interrupt(
    bar: &indicatif::ProgressBar,
    complete: &Arc<AtomicUsize>,
    finished: &Arc<AtomicBool>,
    total: usize,
    dir: &Path,
    resume: String,
) {
    let (bar, complete, finished) = (bar.clone(), complete.clone(), finished.clone());
    let dir = dir.display().to_string();
    let handler = move || {
        bar.finish_and_clear();
        if finished.load(Ordering::SeqCst) {
            eprintln!(
                "\ninterrupted while drawing the figures: the results in {dir} are complete; `hipdrop plot {}` draws the figures",
                shell_quote(&dir)
            );
        } else {
            eprintln!(
                "\ninterrupted: {} of {total} runs complete in {dir}; finish with:\n  {resume}",
                complete.load(Ordering::SeqCst)
            );
        }
        std::process::exit(130);
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!(
            "warning: cannot handle Ctrl-C ({e}); an interrupted run is finished with --resume"
        );
    }
}

/// The one-line result on stderr: for a single run its status and key numbers (for a squat
/// or step-down the whole-run peaks, since its end is quiet stance again), for a sweep the
/// count of each status.
fn report(name: &str, recs: &[RunRecord], dynamic: bool) {
    let cols = hipdrop::output::metric_columns();
    let peak = |r: &RunRecord, c: &str| {
        hipdrop::measures::index(c)
            .and_then(|i| r.measures.get(i).copied().flatten())
            .unwrap_or(f64::NAN)
    };
    let get = |r: &RunRecord, c: &str| {
        cols.iter()
            .position(|(n, _)| *n == c)
            .and_then(|i| r.metrics[i])
            .unwrap_or(f64::NAN)
    };
    match recs {
        // No numbers to give: the detail (printed below) says why.
        [r] if r.status == "failed" => eprintln!("{name}: status failed"),
        [r] if dynamic => eprintln!(
            "{name}: status {} after {:.2} s; peaks: knee flexion {:.1} deg, FPPA {:.1} deg, hip adduction {:.1} deg, hip internal rotation {:.1} deg, pelvic drop {:.1} deg ({:.1} cm), glut med activation {:.2}; {:.0} us/step, {:.1}x real time",
            r.status, r.sim_time_s, peak(r, "knee_flexion_peak_deg"), peak(r, "knee_fppa_peak_deg"),
            peak(r, "hip_adduction_peak_deg"), peak(r, "hip_internal_rotation_peak_deg"),
            peak(r, "pelvic_drop_peak_deg"), peak(r, "pelvic_drop_peak_cm"),
            peak(r, "glut_med_activation_peak"), r.wall_time_s / r.steps.max(1) as f64 * 1e6,
            r.sim_time_s / r.wall_time_s.max(1e-9)
        ),
        [r] => eprintln!(
            "{name}: status {} after {:.2} s; pelvic drop {:.1} deg ({:.1} cm), hip adduction {:.1} deg, FPPA {:.1} deg, trunk lean {:.1} deg, hip contact {:.2} BW; {:.0} us/step, {:.1}x real time",
            r.status, r.sim_time_s, get(r, "pelvic_drop_deg"), get(r, "pelvic_drop_cm"),
            get(r, "hip_adduction_deg"), get(r, "knee_fppa_deg"), get(r, "trunk_lean_deg"),
            get(r, "hip_contact_force_bw"), r.wall_time_s / r.steps.max(1) as f64 * 1e6,
            r.sim_time_s / r.wall_time_s.max(1e-9)
        ),
        _ => {
            let count = |s: &str| recs.iter().filter(|r| r.status == s).count();
        eprintln!(
            "{name}: {} runs: {} ok, {} still_falling, {} lost_balance,{} {} diverged, {} failed to start",
            recs.len(),
            count("ok"),
            count("still_falling"),
            count("lost_balance"),
            // Only where it can occur, so that stance sweeps read as before.
            if dynamic {
                format!(" {} short_of_depth,", count("short_of_depth"))
            } else {
                String::new()
            },
            count("diverged"),
            count("failed")
        );
        }
    }
    for r in recs.iter().filter(|r| r.failed()) {
        eprintln!("  {}: {} {}", r.id, r.status, r.status_detail);
    }
}

fn generic() -> Model {
    Model::gait2392(hipdrop::model::Subject::GENERIC, &Default::default())
        .expect("built-in model data are valid")
}

fn muscle_table(model: &Model) -> String {
    let mut s = String::from("muscle,max_isometric_force_n,optimal_fiber_length_m,tendon_slack_length_m,pennation_at_optimal_rad\n");
    for m in &model.muscles {
        let p = &m.params;
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            m.name,
            p.max_isometric_force_n,
            p.optimal_fiber_length_m,
            p.tendon_slack_length_m,
            p.pennation_at_optimal_rad
        ));
    }
    s
}

fn muscles(moment_arms: bool, out: Option<PathBuf>) -> ExitCode {
    let model = generic();
    let text = if moment_arms {
        moment_arm_table(&model)
    } else {
        muscle_table(&model)
    };
    write_out(out, &text)
}

/// Moment arms (-dL/dq, m) of every right-leg muscle crossing the hip, about
/// hip flexion, adduction and internal rotation, at hip adduction -20..20 deg.
pub fn moment_arm_table(model: &Model) -> String {
    let mut s = String::from("muscle,hip_flexion_deg,hip_adduction_deg,r_adduction_m,r_flexion_m,r_int_rotation_m,length_m\n");
    let (f, a, r) = (
        leg_coord(Side::Right, coord::HIP_FLEXION),
        leg_coord(Side::Right, coord::HIP_ADDUCTION),
        leg_coord(Side::Right, coord::HIP_ROTATION),
    );
    for (i, m) in model.muscles.iter().enumerate() {
        if m.side != Side::Right {
            continue;
        }
        let mut q = [0.0; coord::COUNT];
        let crosses = (0..3).any(|k| model.moment_arm(i, f + k, &q).abs() > 1e-6);
        if !crosses {
            continue;
        }
        for add in (-20..=20).step_by(5) {
            q[a] = (add as f64).to_radians();
            s.push_str(&format!(
                "{},0,{},{:.5},{:.5},{:.5},{:.5}\n",
                m.name,
                add,
                model.moment_arm(i, a, &q),
                model.moment_arm(i, f, &q),
                model.moment_arm(i, r, &q),
                model.path_length(i, &q)
            ));
        }
    }
    s
}
