//! Metrics at one instant, measured on the simulated bodies (pelvic drop at the ASIS, joint
//! angles, the knee's FPPA as a camera sees it, trunk lean, muscle moments and capacities, hip
//! contact force by Newton-Euler, ground reaction and centre of pressure from momentum rates),
//! and the measures recorded at rows only (the usable abduction capacity, a linear programme).

use super::*;

impl StanceSim<'_> {
    /// Measured pelvic drop (rad), positive when the swing side is lower.
    pub(super) fn drop_rad(&self) -> f64 {
        let p = &self.ws.bs[body::PELVIS].pose;
        let a = self.model.asis_r_m;
        let st = p * nalgebra::Point3::new(a.x, a.y, a.z * self.tree.stance.sign());
        let sw = p * nalgebra::Point3::new(a.x, a.y, -a.z * self.tree.stance.sign());
        let dy = st.y - sw.y;
        let dz = (st.z - sw.z).abs();
        dy.atan2(dz)
    }

    /// Metrics at the current state (after `read_state` and `kinematics`).
    pub(super) fn metrics(&mut self) -> Metrics {
        let model = self.model;
        let stance = self.tree.stance;
        let r2d = 180.0 / std::f64::consts::PI;
        let mass = model.mass_kg();
        let bw = mass * GRAVITY;
        let dt = self.cfg.dt_s.max(1e-12);
        let [hip_j, knee_j, ankle_j, _] = self.tree.stance_joints;
        let hip_c = self.ws.frames[hip_j].centre;
        let knee_c = self.ws.frames[knee_j].centre;
        let ankle_c = self.ws.frames[ankle_j].centre;
        let sgn = stance.sign();
        let (fppa, medial) = frontal_knee(hip_c, knee_c, ankle_c, stance);
        let q = &self.ws.q;
        let lc = |c| q[leg_coord(stance, c)];
        // Trunk lean: torso long axis from vertical in the frontal plane, + toward stance.
        let ty = self.ws.bs[body::TORSO].pose.rotation * Vec3::y();
        let lean = (ty.z * sgn).atan2(ty.y) * r2d;
        // Muscle moments about the stance hip adduction coordinate.
        let add = leg_coord(stance, coord::HIP_ADDUCTION);
        let mut abd = 0.0;
        let mut cap = 0.0;
        // Only muscles whose moment arm about it can be non-zero (`gen_coords`): the
        // others would add zeros.
        for m in (0..model.muscles.len()).filter(|&m| self.ws.gen_coords[m] & (1 << add) != 0) {
            let g = self.ws.gen[m][add];
            abd -= g * self.tension(m);
            let f = &self.ws.fiber[m];
            let fmax = f.active_force_per_activation_n.max(0.0) + f.passive_force_n;
            if g < 0.0 {
                cap -= g * fmax;
            }
        }
        // Newton-Euler on the pelvis side of the stance hip: the force the femur exerts on it.
        let side = &self.tree.child_side[hip_j];
        let gvec = Vec3::new(0.0, -GRAVITY, 0.0);
        let mut f_s = Vec3::zeros();
        for (b, _) in side.iter().enumerate().filter(|(_, &c)| !c) {
            let mb = model.bodies[b].mass_kg;
            f_s += mb * ((self.ws.bs[b].vcom - self.state.prev_vcom[b]) / dt - gvec);
        }
        // Only muscles that cross the stance hip have a segment from one side to the other.
        let hip_mask = model.joints[hip_j].coord_mask();
        for m in (0..model.muscles.len()).filter(|&m| self.ws.gen_coords[m] & hip_mask != 0) {
            let t = self.tension(m);
            let pts = &self.ws.path[self.ws.path_start[m]..self.ws.path_start[m + 1]];
            for w in pts.windows(2) {
                let (b0, b1) = (w[0].body, w[1].body);
                if side[b0] == side[b1] {
                    continue;
                }
                let u = w[0].u * t;
                // Force on the pelvis-side end.
                f_s -= if !side[b0] { u } else { -u };
            }
        }
        let on_femur = -f_s;
        let rf = self.ws.bs[leg_body(stance, body::FEMUR_R)]
            .pose
            .rotation
            .inverse()
            * on_femur;
        let hcf_angle = (rf.z * sgn).atan2(-rf.y) * r2d;
        // Ground reaction and centre of pressure (whole body, linear and angular momentum rates).
        let mut grf = Vec3::zeros();
        let mut mo = Vec3::zeros();
        let o = Vec3::new(self.tree.ankle_world.x, 0.0, self.tree.ankle_world.z);
        for b in 0..body::COUNT {
            let mb = model.bodies[b].mass_kg;
            let f = mb * ((self.ws.bs[b].vcom - self.state.prev_vcom[b]) / dt - gvec);
            grf += f;
            let rm = mat(&self.ws.bs[b].pose.rotation);
            let i_w = rm * Matrix3::from_diagonal(&model.bodies[b].inertia_kg_m2) * rm.transpose();
            let h = i_w * self.ws.bs[b].omega;
            mo += (self.ws.bs[b].com - o).cross(&f) + (h - self.state.prev_momentum[b]) / dt;
            self.state.prev_momentum[b] = h;
        }
        for b in 0..body::COUNT {
            self.state.prev_vcom[b] = self.ws.bs[b].vcom;
        }
        let (cop_x, cop_z) = if grf.y > 1e-6 {
            (mo.z / grf.y, -mo.x / grf.y)
        } else {
            (0.0, 0.0)
        };
        self.state.ground = GroundSample {
            force_n: grf,
            cop_m: Vec3::new(o.x + cop_x, 0.0, o.z + cop_z),
        };
        let swing_res: f64 = (0..12)
            .filter(|&i| i / coord::PER_LEG != (stance == Side::Left) as usize)
            .map(|i| self.state.reserve_torque[i].powi(2))
            .sum::<f64>()
            .sqrt();
        let lumbar_res = self.state.reserve_torque[12..]
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        let drop = self.drop_rad();
        let a = model.asis_r_m;
        let p = &self.ws.bs[body::PELVIS].pose;
        let st = p * nalgebra::Point3::new(a.x, a.y, a.z * sgn);
        let sw = p * nalgebra::Point3::new(a.x, a.y, -a.z * sgn);
        Metrics {
            time_s: self.state.time_s,
            pelvic_drop_deg: drop * r2d,
            pelvic_drop_cm: (st.y - sw.y) * 100.0,
            hip_adduction_deg: lc(coord::HIP_ADDUCTION) * r2d,
            hip_internal_rotation_deg: lc(coord::HIP_ROTATION) * r2d,
            hip_flexion_deg: lc(coord::HIP_FLEXION) * r2d,
            knee_flexion_deg: -lc(coord::KNEE) * r2d,
            knee_fppa_deg: fppa,
            knee_medial_shift_mm: medial * 1000.0,
            ankle_dorsiflexion_deg: lc(coord::ANKLE) * r2d,
            subtalar_inversion_deg: lc(coord::SUBTALAR) * r2d,
            trunk_lean_deg: lean,
            hip_abductor_moment_nm_per_kg: abd / mass,
            hip_abductor_capacity_nm_per_kg: cap / mass,
            hip_contact_force_bw: on_femur.norm() / bw,
            hip_contact_angle_deg: hcf_angle,
            grf_vertical_bw: grf.y / bw,
            cop_anterior_mm: cop_x * 1000.0,
            cop_lateral_mm: cop_z * sgn * 1000.0,
            lumbar_reserve_nm: lumbar_res,
            swing_reserve_nm: swing_res,
            hip_abduction_shortfall_nm: self.ctrl.shortfall_nm,
            hip_abductor_usable_capacity_nm_per_kg: 0.0,
            hip_abductor_effort: 0.0,
            hip_abductors_saturated: 0.0,
        }
    }

    /// Whether the centre of pressure (relative to the ankle, mm) lies inside the foot.
    pub(super) fn cop_inside(&self, m: &Metrics) -> bool {
        let s = self.model.length_scale;
        let foot = &self.ws.bs[leg_body(self.tree.stance, body::FOOT_R)].pose;
        let p = Vec3::new(
            self.tree.ankle_world.x + m.cop_anterior_mm / 1000.0,
            0.0,
            self.tree.ankle_world.z + m.cop_lateral_mm / 1000.0 * self.tree.stance.sign(),
        );
        let local = foot.inverse() * nalgebra::Point3::from(p);
        let z = local.z * self.tree.stance.sign();
        local.x >= FOOT_X_RANGE_M.0 * s
            && local.x <= FOOT_X_RANGE_M.1 * s
            && z >= FOOT_Z_RANGE_M.0 * s
            && z <= FOOT_Z_RANGE_M.1 * s
    }

    /// Stance gluteus medius activation (0..1): glut_med1-3 weighted by nominal force.
    pub(super) fn glut_med_activation(&self) -> f64 {
        self.tree
            .glut_med
            .iter()
            .map(|&(m, w)| w * self.state.activation[m])
            .sum()
    }

    /// Largest excursion of any coordinate past its normal range (deg), and the coordinate.
    pub(super) fn range_excess(&self) -> (f64, usize) {
        let mut worst = (0.0, usize::MAX);
        for (i, lim) in self.model.limits.iter().enumerate() {
            if i == self.tree.locked_coord {
                continue;
            }
            let e = (self.ws.q[i] - lim.upper_rad)
                .max(lim.lower_rad - self.ws.q[i])
                .to_degrees();
            if e > worst.0 {
                worst = (e, i);
            }
        }
        worst
    }

    /// The abduction capacity usable at this instant (N m) and the number of saturated
    /// abductor compartments. The capacity is the largest abduction moment about the
    /// stance hip that the stance leg's muscles could produce at their current lengths and
    /// velocities, with activations in 0..1, while every other moment of the stance leg
    /// (hip flexion and rotation, knee, ankle, subtalar) stays what it is now: what the
    /// static optimisation could still find for abduction, since the stance leg has no
    /// reserve actuator. A linear programme, solved by `microlp`; passive forces count
    /// as they are.
    pub(super) fn usable_abduction(&self) -> (f64, usize) {
        use microlp::{ComparisonOp, OptimizationDirection, Problem};
        let st = self.tree.stance;
        let add = leg_coord(st, coord::HIP_ADDUCTION);
        let held: Vec<usize> = (0..coord::PER_LEG)
            .map(|c| leg_coord(st, c))
            .filter(|&c| c != add)
            .collect();
        let leg_mask: u16 = (0..coord::PER_LEG).map(|c| 1u16 << leg_coord(st, c)).sum();
        let mut lp = Problem::new(OptimizationDirection::Maximize);
        let mut rows: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); held.len()];
        let mut now = vec![0.0; held.len()];
        let mut passive = 0.0;
        for m in (0..self.model.muscles.len()).filter(|&m| self.ws.gen_coords[m] & leg_mask != 0) {
            let g = &self.ws.gen[m];
            let f = &self.ws.fiber[m];
            let fa = f.active_force_per_activation_n.max(0.0);
            // Abduction is minus the adduction generalized force.
            passive -= g[add] * f.passive_force_n;
            let v = lp.add_var(-g[add] * fa, (0.0, 1.0));
            for (k, &c) in held.iter().enumerate() {
                if g[c] != 0.0 {
                    rows[k].push((v, g[c] * fa));
                    now[k] += g[c] * fa * self.state.activation[m];
                }
            }
        }
        // Held to within 1e-3 N m (equalities would be at the mercy of rounding).
        for (row, b) in rows.iter().zip(now) {
            lp.add_constraint(row.as_slice(), ComparisonOp::Le, b + 1e-3);
            lp.add_constraint(row.as_slice(), ComparisonOp::Ge, b - 1e-3);
        }
        // No time or node limit is set, so the answer does not depend on the machine.
        // Presolve costs more than it saves on a problem this small (~40 columns).
        let mut options = microlp::SolveOptions::default();
        options.presolve = false;
        let usable = match lp.solve_with(options) {
            Ok(microlp::SolveOutcome::Solution(sol)) => sol.objective() + passive,
            _ => f64::NAN,
        };
        let saturated = self
            .tree
            .abductors
            .iter()
            .filter(|&&m| self.state.activation[m] >= SATURATED_ACTIVATION)
            .count();
        (usable, saturated)
    }
}
