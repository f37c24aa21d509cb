//! The patched rapier multibody (`vendor/rapier3d-f64`, see `vendor/README.md`) on
//! trees other than hipdrop's skeleton. The skeleton itself is checked in
//! `tests/validation.rs::patched_rapier_mass_matrix_equals_the_original`.

use rapier3d_f64::prelude::*;

/// Found in review of the patch: a topology change that moves links' DOF columns but
/// keeps the DOF count (the root made fixed, -6 DOFs, and a 6-DOF link added before the
/// same step) left stale body-Jacobian entries in columns the sparse update no longer
/// wrote. The mass matrix then differed from rapier's by 0.67 (relative) and the
/// simulation blew up. The patched and the original assembly must agree throughout.
#[test]
fn topology_change_with_the_same_dof_count_leaves_no_stale_jacobian_entries() {
    let mut w = PhysicsWorld::new();
    let b: Vec<_> = (0..4)
        .map(|i| {
            w.insert(
                RigidBodyBuilder::dynamic()
                    .translation(Vector::new(i as f64 * 0.5, 2.0, 0.0))
                    .angvel(Vector::new(0.0, 1.0, 0.5)),
                ColliderBuilder::cuboid(0.1, 0.2, 0.15),
            )
            .0
        })
        .collect();
    let link = |axis| {
        RevoluteJointBuilder::new(axis)
            .local_anchor1(Vector::new(0.25, 0.0, 0.0))
            .local_anchor2(Vector::new(-0.25, 0.0, 0.0))
    };
    w.insert_multibody_joint(b[0], b[1], link(Vector::Z));
    w.insert_multibody_joint(b[1], b[2], link(Vector::X));
    let mb = w.multibody_joints.rigid_body_link(b[0]).unwrap().multibody;
    let dt = w.integration_parameters.dt;
    let mut dofs = Vec::new();
    for k in 0..20 {
        if k == 10 {
            w.bodies
                .get_mut(b[0])
                .unwrap()
                .set_body_type(RigidBodyType::Fixed, true);
            w.insert_multibody_joint(
                b[2],
                b[3],
                GenericJointBuilder::new(JointAxesMask::empty())
                    .local_anchor1(Vector::new(0.25, 0.0, 0.0))
                    .local_anchor2(Vector::new(-0.25, 0.0, 0.0)),
            );
        }
        w.step();
        let m = w.multibody_joints.get_multibody_mut(mb).unwrap();
        dofs.push(m.ndofs());
        let e = m.mass_matrix_patch_error(dt, &w.bodies);
        assert!(e < 1e-13, "step {k}: relative difference {e:e}");
        assert!(w.bodies[b[3]].translation().y.is_finite());
    }
    // The case the test exists for: the DOF count is the same before and after.
    assert_eq!(dofs[9], dofs[10], "{dofs:?}");
}
