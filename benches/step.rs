//! Criterion benchmarks of the single-leg stance simulation (issue 5):
//! - `step`: one step of the full model (muscle kinematics, controller with static
//!   optimisation, activation, forces, rapier step, metrics), timed as a 20-step run
//!   from the initial posture and divided by 20;
//! - `stance_2s`: one 2 s single-leg stance run (stepping loop and setup);
//! - `sweep_100`: 100 runs of 2 s over hip-abductor strengths 0.5..1.5 on all cores
//!   (rayon), each building its own model and simulation.
//!
//! Each prints its per-step cost (us), real-time factor and runs per second.
//! `cargo bench` (all) or `cargo bench -- step` (one). For the same figures without
//! criterion's statistics: `cargo run --release --example bench`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hipdrop::model::{Model, Subject};
use hipdrop::sim::{StanceConfig, StanceSim};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn model(abductors: f64) -> Model {
    let strength = BTreeMap::from([("hip_abductors".to_string(), abductors)]);
    Model::gait2392(Subject::GENERIC, &strength).expect("model")
}

fn cfg(duration_s: f64) -> StanceConfig {
    StanceConfig {
        duration_s,
        steady_window_s: duration_s.min(0.5),
        ..Default::default()
    }
}

/// Print the derived figures for `runs` runs of `steps` steps each in `wall_s` seconds.
fn report(name: &str, wall_s: f64, runs: usize, steps: usize, dt_s: f64) {
    let per_step = wall_s / (runs * steps) as f64;
    println!(
        "{name}: {:.1} us per step, real-time factor {:.0}x, {:.2} runs/s",
        per_step * 1e6,
        dt_s / per_step,
        runs as f64 / wall_s
    );
}

fn benches(c: &mut Criterion) {
    let m = model(1.0);
    let dt = StanceConfig::default().dt_s;

    let steps = 20;
    let short = cfg(steps as f64 * dt);
    let mut g = c.benchmark_group("stance");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(steps as u64));
    g.bench_function("step", |b| {
        b.iter_batched(
            || StanceSim::new(&m, short.clone()).expect("sim"),
            |sim| sim.run(),
            BatchSize::SmallInput,
        )
    });
    let r = StanceSim::new(&m, short.clone()).expect("sim").run();
    report("step (20-step run)", r.wall_time_s, 1, r.steps, dt);

    let long = cfg(2.0);
    let n = (2.0 / dt).round() as u64;
    g.throughput(Throughput::Elements(n));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("stance_2s", |b| {
        b.iter(|| StanceSim::new(&m, long.clone()).expect("sim").run())
    });
    let t = Instant::now();
    let r = StanceSim::new(&m, long.clone()).expect("sim").run();
    report("stance_2s", t.elapsed().as_secs_f64(), 1, r.steps, dt);

    let strengths: Vec<f64> = (0..100).map(|i| 0.5 + i as f64 / 99.0).collect();
    let sweep = || -> usize {
        strengths
            .par_iter()
            .map(|&s| {
                let m = model(s);
                StanceSim::new(&m, long.clone()).expect("sim").run().steps
            })
            .sum()
    };
    g.throughput(Throughput::Elements(100));
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("sweep_100", |b| b.iter(sweep));
    let t = Instant::now();
    let total = sweep();
    report(
        &format!("sweep_100 ({} threads)", rayon::current_num_threads()),
        t.elapsed().as_secs_f64(),
        100,
        total / 100,
        dt,
    );
    g.finish();
}

criterion_group!(stance, benches);
criterion_main!(stance);
