//! Performance figures of the single-leg stance simulation on this machine (issue 5):
//! per-step cost, real-time factor, strength-sweep throughput on 1 thread and on all
//! threads, the speed-up, and peak memory, for single-leg stance, the single-leg squat or
//! the step-down.
//!
//! ```text
//! cargo run --release --example bench                      # defaults below
//! cargo run --release --example bench -- --runs 200 --dt 0.002
//! /usr/bin/time -v target/release/examples/bench           # peak RSS of the process
//! ```
//!
//! Options: `--task single_leg_stance|single_leg_squat|step_down` (default stance; the
//! squat and step-down as their shipped scenarios: protocol pace and swing leg from
//! `data/tasks/protocols.csv`; the step-down with vasti at 2.12 and a 20 cm box), `--runs N` runs per sweep
//! (default 100), `--duration S` simulated seconds per run (default 2.0 for stance, the
//! movement plus 1 s for the tasks), `--dt S` physics step and control period (default: the
//! library default, 0.002 s), `--threads N` workers of the parallel sweep (default:
//! all cores). The sweep varies hip-abductor strength over a range of width 1 in which
//! every run completes its task (from 0.5 for stance, 0.6 for the squat, 1.0 for the
//! step-down; weaker subjects lose balance early, which would make the sweep look cheaper
//! than it is).
//!
//! Per-step figures time the stepping loop only ([`hipdrop::sim::RunResult::wall_time_s`]);
//! sweep figures time everything a sweep does per run: build the model, build the
//! simulation (initial posture, rapier world, cold-started static optimisation), run.

use hipdrop::model::{Model, Subject};
use hipdrop::sim::{RunResult, StanceConfig, StanceSim, Status};
use hipdrop::task::{protocol, StepDirection, Task, TaskKind};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// Vasti factor of the shipped step-down (Rajagopal 2016's 9594 N over gait2392's 4530 N).
const STEP_DOWN_VASTI: f64 = 2.12;

fn model(abductors: f64, cfg: &StanceConfig) -> Model {
    let mut strength = BTreeMap::from([("hip_abductors".to_string(), abductors)]);
    if cfg.task.kind == TaskKind::StepDown {
        strength.insert("vasti".to_string(), STEP_DOWN_VASTI);
    }
    Model::gait2392(Subject::GENERIC, &strength).expect("model")
}

fn run(abductors: f64, cfg: &StanceConfig) -> RunResult {
    let m = model(abductors, cfg);
    StanceSim::new(&m, cfg.clone()).expect("sim").run()
}

/// CPU time (s) of the calling thread, from /proc (Linux only): on a shared machine
/// this is the cost of the work itself, wall time also counts waiting for a core.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// CPU time (s) of the whole process (user + system), from /proc/self/stat, assuming
/// the usual 100 clock ticks per second.
fn process_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Peak resident set size of this process (MB), from /proc (Linux only).
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Wall time (s), total steps and process CPU time (s) of `runs` runs spread over a
/// pool of `threads` workers.
fn sweep(runs: usize, threads: usize, cfg: &StanceConfig) -> (f64, usize, f64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    // Strengths at which every run completes its task: 0.5-1.5 for stance, 0.6-1.6 for
    // the squat (it holds down to 55 %), 1.0-2.0 for the step-down (it fails at 90 %).
    let low = match cfg.task.kind {
        TaskKind::SingleLegStance => 0.5,
        TaskKind::SingleLegSquat => 0.6,
        TaskKind::StepDown => 1.0,
    };
    let strengths: Vec<f64> = (0..runs)
        .map(|i| low + i as f64 / (runs.max(2) - 1) as f64)
        .collect();
    let start = Instant::now();
    let cpu0 = process_cpu_s().unwrap_or(f64::NAN);
    let steps: usize = pool.install(|| {
        strengths
            .par_iter()
            .map(|&s| {
                let r = run(s, cfg);
                assert_eq!(r.status, Status::Ok, "abductors {s}: {:?}", r.status);
                r.steps
            })
            .sum()
    });
    let cpu = process_cpu_s().unwrap_or(f64::NAN) - cpu0;
    (start.elapsed().as_secs_f64(), steps, cpu)
}

fn main() {
    let mut cfg = StanceConfig {
        duration_s: 2.0,
        ..Default::default()
    };
    let mut runs = 100;
    let mut duration_set = false;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--runs" => runs = v.parse().expect("--runs N"),
            "--threads" => threads = v.parse().expect("--threads N"),
            "--duration" => {
                cfg.duration_s = v.parse().expect("--duration S");
                duration_set = true;
            }
            "--task" => {
                let kind = TaskKind::parse(v)
                    .expect("--task single_leg_stance|single_leg_squat|step_down");
                let p = protocol(kind, StepDirection::Forward);
                cfg.task = Task {
                    kind,
                    descent_s: p.descent_s,
                    hold_s: p.hold_s,
                    ascent_s: p.ascent_s,
                    ..Task::stance()
                };
                if kind.is_dynamic() {
                    cfg.swing_hip_flexion_deg = p.swing_hip_flexion_deg;
                    cfg.swing_knee_flexion_deg = p.swing_knee_flexion_deg;
                }
            }
            "--dt" => {
                cfg.dt_s = v.parse().expect("--dt S");
                cfg.control_period_s = cfg.dt_s;
            }
            other => {
                panic!("unknown option {other} (--task, --runs, --threads, --duration, --dt)")
            }
        }
    }
    if cfg.task.kind.is_dynamic() && !duration_set {
        cfg.duration_s = cfg.task.movement_s() + 1.0;
    }
    cfg.steady_window_s = cfg.steady_window_s.min(cfg.duration_s);
    println!(
        "hipdrop bench: {} s {}, dt {} ms, control period {} ms, {} substep(s)",
        cfg.duration_s,
        cfg.task.kind.name(),
        cfg.dt_s * 1e3,
        cfg.control_period_s * 1e3,
        cfg.substeps
    );

    // One run on one core: best of 5 (the machine may be shared).
    let m = model(1.0, &cfg);
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..5 {
        let sim = StanceSim::new(&m, cfg.clone()).expect("sim");
        let c0 = thread_cpu_s().unwrap_or(f64::NAN);
        let r = sim.run();
        best_cpu = best_cpu.min(thread_cpu_s().unwrap_or(f64::NAN) - c0);
        steps = r.steps;
        best = best.min(r.wall_time_s);
    }
    let per_step_us = best / steps as f64 * 1e6;
    let per_sim_ms_us = per_step_us * 1e-3 / cfg.dt_s;
    println!(
        "one run:   {per_step_us:.1} us per step, {per_sim_ms_us:.1} us wall per simulated ms, \
         real-time factor {:.0}x ({steps} steps in {:.3} s)",
        cfg.dt_s / (per_step_us * 1e-6),
        best
    );
    let cpu_step_us = best_cpu / steps as f64 * 1e6;
    println!(
        "           CPU time {cpu_step_us:.1} us per step ({:.1} us per simulated ms, \
         real-time factor {:.0}x)",
        cpu_step_us * 1e-3 / cfg.dt_s,
        cfg.dt_s / (cpu_step_us * 1e-6)
    );
    let t0 = Instant::now();
    let _ = StanceSim::new(&m, cfg.clone()).expect("sim");
    println!(
        "setup:     {:.2} ms to build the simulation (posture, rapier world, cold solve)",
        t0.elapsed().as_secs_f64() * 1e3
    );

    // Sweeps.
    let (t1, s1, c1) = sweep(runs, 1, &cfg);
    println!(
        "sweep x1:  {runs} runs in {t1:.2} s on 1 thread: {:.1} runs/s, {:.1} us per step \
         (CPU {c1:.2} s)",
        runs as f64 / t1,
        t1 / s1 as f64 * 1e6
    );
    let (tn, _, cn) = sweep(runs, threads, &cfg);
    println!(
        "sweep x{threads}:  {runs} runs in {tn:.2} s on {threads} threads: {:.1} runs/s, \
         speed-up {:.2}x (CPU {cn:.2} s); 1000 runs would take {:.1} s",
        runs as f64 / tn,
        t1 / tn,
        tn * 1000.0 / runs as f64
    );
    if let Some(mb) = peak_rss_mb() {
        println!("memory:    peak RSS {mb:.1} MB for the whole process ({threads} workers)");
    }
}
