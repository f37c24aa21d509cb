use hipdrop::model::*;
use hipdrop::sim::*;
use std::collections::BTreeMap;
fn main() {
    let model = Model::gait2392(
        Subject {
            mass_kg: GENERIC_MASS_KG,
            height_m: GENERIC_HEIGHT_M,
        },
        &BTreeMap::new(),
    )
    .unwrap();
    let sim = StanceSim::new(&model, StanceConfig::default()).unwrap();
    let q = *sim.coordinates();
    let names = coord_names();
    println!(
        "q: {:?}",
        q.iter()
            .map(|v| (v * 57.3 * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    let poses = sim.body_poses();
    let fk = model.forward_kinematics(&poses[1], &q);
    for b in 0..10 {
        println!(
            "{} dpos {:.2e} drot {:.2e}",
            BODY_NAMES[b],
            (fk[b].translation.vector - poses[b].translation.vector).norm(),
            (fk[b].rotation.inverse() * poses[b].rotation).angle()
        );
    }
    let ma = sim.moment_arms();
    let mut worst = 0.0f64;
    for m in 0..model.muscles.len() {
        for k in 0..15 {
            let fd = model.moment_arm(m, k, &q);
            let d = (fd - ma[m][k]).abs();
            if d > worst {
                worst = d;
                println!(
                    "{} {} fd={:.5} vw={:.5}",
                    model.muscles[m].name, names[k], fd, ma[m][k]
                );
            }
        }
    }
    println!(
        "gravity {:?}",
        sim.generalized_gravity()
            .iter()
            .map(|v| (v * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
}
