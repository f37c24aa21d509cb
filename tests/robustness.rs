//! Extreme but valid settings run or fail cleanly; numerical faults are caught and
//! reported with the time and the body or muscle where they appeared.

use hipdrop::model::{Model, Side, Subject, GENERIC_HEIGHT_M, GENERIC_MASS_KG};
use hipdrop::sim::{StanceConfig, StanceSim, Status};
use std::collections::BTreeMap;

fn run(mass_kg: f64, height_m: f64, strength: &[(&str, f64)], cfg: StanceConfig) -> Status {
    let s: BTreeMap<String, f64> = strength.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let m = Model::gait2392(Subject { mass_kg, height_m }, &s).unwrap();
    let r = StanceSim::new(&m, cfg).unwrap().run();
    // Whatever the status, every recorded value is finite.
    for row in &r.series {
        assert!(row.pelvic_drop_deg.is_finite() && row.hip_contact_force_bw.is_finite());
    }
    r.status
}

fn short() -> StanceConfig {
    StanceConfig {
        duration_s: 0.3,
        steady_window_s: 0.1,
        ..Default::default()
    }
}

#[test]
fn all_abductors_at_zero_strength_lose_balance_cleanly() {
    let st = run(
        GENERIC_MASS_KG,
        GENERIC_HEIGHT_M,
        &[("hip_abductors", 0.0)],
        short(),
    );
    assert!(matches!(st, Status::LostBalance { .. }), "{st:?}");
}

#[test]
fn light_and_heavy_subjects_stand() {
    for mass in [40.0, 150.0] {
        let st = run(mass, GENERIC_HEIGHT_M, &[], short());
        assert_eq!(st, Status::Ok, "mass {mass} kg");
    }
}

#[test]
fn short_and_tall_subjects_stand() {
    for height in [1.4, 2.1] {
        let st = run(GENERIC_MASS_KG, height, &[], short());
        assert_eq!(st, Status::Ok, "height {height} m");
    }
}

#[test]
fn left_stance_stands() {
    let cfg = StanceConfig {
        stance_side: Side::Left,
        ..short()
    };
    assert_eq!(run(GENERIC_MASS_KG, GENERIC_HEIGHT_M, &[], cfg), Status::Ok);
}

#[test]
fn the_largest_allowed_step_runs() {
    // integration.dt_s allows up to 5 ms.
    let cfg = StanceConfig {
        dt_s: 0.005,
        control_period_s: 0.005,
        ..short()
    };
    assert_eq!(run(GENERIC_MASS_KG, GENERIC_HEIGHT_M, &[], cfg), Status::Ok);
}

#[test]
fn divergence_is_reported_with_time_and_place() {
    // Posture loops at 50 rad/s with a 5 ms step are explicit-integration unstable
    // (omega dt = 0.25 on the stiffest loop, with the muscle delay on top).
    let cfg = StanceConfig {
        dt_s: 0.005,
        control_period_s: 0.005,
        posture_frequency_rad_s: 50.0,
        ..short()
    };
    match run(GENERIC_MASS_KG, GENERIC_HEIGHT_M, &[], cfg) {
        Status::Diverged { time_s, what } => {
            assert!(time_s > 0.0 && time_s < 0.3);
            assert!(
                what.starts_with("body ") || what.starts_with("muscle "),
                "{what}"
            );
        }
        other => panic!("expected divergence, got {other:?}"),
    }
}
