use hipdrop::model::*;
use hipdrop::sim::*;
use std::collections::BTreeMap;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let abd: f64 = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(1.0);
    let mut st = BTreeMap::new();
    st.insert("hip_abductors".to_string(), abd);
    let model = Model::gait2392(
        Subject {
            mass_kg: GENERIC_MASS_KG,
            height_m: GENERIC_HEIGHT_M,
        },
        &st,
    )
    .unwrap();
    let mut cfg = StanceConfig::default();
    cfg.duration_s = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(1.0);
    if let Ok(v) = std::env::var("W") {
        cfg.posture_frequency_rad_s = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("CP") {
        cfg.control_period_s = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("Z") {
        cfg.posture_damping_ratio = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("COMP") {
        cfg.compensation = v == "1";
    }
    let sim = StanceSim::new(&model, cfg).unwrap();
    let r = sim.run();
    println!(
        "status {:?} steps {} wall {:.3}s",
        r.status, r.steps, r.wall_time_s
    );
    for m in r.series.iter().step_by(10) {
        println!("t={:.2} drop={:.2}deg {:.2}cm add={:.2} rot={:.2} fppa={:.2} med={:.1} lean={:.2} abd={:.3} cap={:.3} hcf={:.2} ang={:.1} grf={:.2} cop=({:.0},{:.0}) short={:.1} res={:.1}/{:.1} knee={:.1}",
            m.time_s, m.pelvic_drop_deg, m.pelvic_drop_cm, m.hip_adduction_deg, m.hip_internal_rotation_deg, m.knee_fppa_deg, m.knee_medial_shift_mm, m.trunk_lean_deg, m.hip_abductor_moment_nm_per_kg, m.hip_abductor_capacity_nm_per_kg, m.hip_contact_force_bw, m.hip_contact_angle_deg, m.grf_vertical_bw, m.cop_anterior_mm, m.cop_lateral_mm, m.hip_abduction_shortfall_nm, m.lumbar_reserve_nm, m.swing_reserve_nm, m.knee_flexion_deg);
    }
    let names: Vec<&str> = model.muscles.iter().map(|m| m.name.as_str()).collect();
    for (i, n) in names.iter().enumerate() {
        if r.steady_muscles.activation[i] > 0.05 {
            print!("{}={:.2} ", n, r.steady_muscles.activation[i]);
        }
    }
    println!();
}
