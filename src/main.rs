//! The `hipdrop` command line.

use clap::{Parser, Subcommand};
use hipdrop::model::{coord, leg_coord, Model, Side};
use hipdrop::output::{summary_csv, timeseries_csv, write_atomic};
use hipdrop::scenario;
use hipdrop::sim::StanceSim;
use std::path::PathBuf;
use std::process::ExitCode;

/// Single-leg stance with weak hip abductors: pelvic drop and knee valgus from the physics.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = "Examples:\n  hipdrop run scenarios/single_leg_stance.toml\n  hipdrop run scenarios/single_leg_stance.toml --set strength.hip_abductors=0.3\n  hipdrop run scenarios/single_leg_stance.toml --set strength.gluteus_maximus=2.0 --set task.compensation=true --out output/test\n  hipdrop muscles --moment-arms --out moment_arms.csv")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate a scenario and write summary.csv and timeseries.csv.
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Output directory (default: output/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario key, e.g. --set strength.hip_abductors=0.3 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
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
        /// Also compare these two run ids side by side, e.g. --compare run_0000,run_0003.
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
            scenario,
            out,
            sets,
        } => run(&scenario, out, &sets),
        Cmd::Muscles { moment_arms, out } => muscles(moment_arms, out),
        Cmd::Plot {
            dir,
            compare,
            no_gif,
        } => plot(&dir, compare.as_deref(), no_gif),
    }
}

fn run(path: &std::path::Path, out: Option<PathBuf>, sets: &[String]) -> ExitCode {
    let sc = match scenario::load(path, sets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let model = match Model::gait2392(sc.subject(), &sc.strength) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&sc.name));
    let sim = match StanceSim::new(&model, sc.stance_config()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: {}: cannot start the simulation: {e}",
                path.display()
            );
            return ExitCode::from(1);
        }
    };
    let r = sim.run();
    let mut params: Vec<String> = sc
        .strength
        .keys()
        .map(|k| format!("strength.{k}"))
        .collect();
    let mut values: Vec<String> = sc.strength.values().map(|v| format!("{v}")).collect();
    params.push("task.compensation".into());
    values.push(sc.task.compensation.to_string());
    for s in sets {
        let (k, v) = s.split_once('=').unwrap_or((s, ""));
        if !params.iter().any(|p| p == k.trim()) {
            params.push(k.trim().to_string());
            values.push(v.trim().to_string());
        }
    }
    let id = "run_0000".to_string();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    let summary = summary_csv(&params, &[(id.clone(), values, &r)]);
    let ts = timeseries_csv(&model, &r);
    for (name, text) in [
        (format!("{id}_timeseries.csv"), ts),
        ("summary.csv".to_string(), summary),
    ] {
        if let Err(e) = write_atomic(&dir.join(&name), text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", dir.join(name).display());
            return ExitCode::from(1);
        }
    }
    let m = &r.steady;
    let sim_t = r.series.last().map(|x| x.time_s).unwrap_or(0.0);
    eprintln!(
        "{}: status {} after {:.2} s; pelvic drop {:.1} deg ({:.1} cm), hip adduction {:.1} deg, FPPA {:.1} deg, trunk lean {:.1} deg, hip contact {:.2} BW; {:.0} us/step, {:.1}x real time",
        sc.name, r.status.label(), sim_t, m.pelvic_drop_deg, m.pelvic_drop_cm, m.hip_adduction_deg, m.knee_fppa_deg, m.trunk_lean_deg,
        m.hip_contact_force_bw, r.wall_time_s / r.steps.max(1) as f64 * 1e6, sim_t / r.wall_time_s.max(1e-9)
    );
    eprintln!("wrote {}", dir.display());
    match r.status {
        hipdrop::sim::Status::Diverged { .. } => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn plot(dir: &std::path::Path, compare: Option<&str>, no_gif: bool) -> ExitCode {
    let mut opts = hipdrop::plot::PlotOptions {
        gif: !no_gif,
        ..Default::default()
    };
    if let Some(c) = compare {
        match c.split_once(',') {
            Some((a, b)) => opts.compare = Some((a.trim().into(), b.trim().into())),
            None => {
                eprintln!("error: --compare expects two run ids separated by a comma, got `{c}`");
                return ExitCode::from(2);
            }
        }
    }
    match hipdrop::plot::plot_dir(dir, &opts) {
        Ok(files) => {
            for f in &files {
                eprintln!("wrote {}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn muscles(moment_arms: bool, out: Option<PathBuf>) -> ExitCode {
    let model = Model::gait2392(
        hipdrop::model::Subject {
            mass_kg: hipdrop::model::GENERIC_MASS_KG,
            height_m: hipdrop::model::GENERIC_HEIGHT_M,
        },
        &Default::default(),
    )
    .expect("built-in model data are valid");
    let text = if moment_arms {
        moment_arm_table(&model)
    } else {
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
    };
    match out {
        Some(p) => {
            if let Err(e) = write_atomic(&p, text.as_bytes()) {
                eprintln!("error: cannot write {}: {e}", p.display());
                return ExitCode::from(1);
            }
        }
        None => print!("{text}"),
    }
    ExitCode::SUCCESS
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
