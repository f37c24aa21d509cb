//! The controller: posture targets (a level pelvis and neutral hip through the muscles; the
//! task's sagittal reference, its velocity fed forward), the centre-of-mass balance at the
//! stance ankle and subtalar, generalized gravity compensation, and the static optimisation
//! that turns the desired generalized forces into muscle excitations. Apart from the task
//! (`crate::task`), which only supplies the reference.

use super::*;

/// The sagittal reference of a dynamic task at one instant (rad, rad/s): stance knee
/// flexion, pelvic anterior tilt and trunk flexion (lab frame), and their rates.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Reference {
    pub(super) knee: f64,
    pub(super) knee_rate: f64,
    pub(super) tilt: f64,
    pub(super) tilt_rate: f64,
    pub(super) trunk: f64,
    pub(super) trunk_rate: f64,
}

impl StanceSim<'_> {
    /// Generalized gravity forces (N m) at the current state.
    pub(super) fn gravity_forces(&self) -> [f64; coord::COUNT] {
        let g = Vec3::new(0.0, -GRAVITY, 0.0);
        let mut tau = [0.0; coord::COUNT];
        for (ji, f) in self.ws.frames.iter().enumerate() {
            let side = &self.tree.child_side[ji];
            let moves_child = self.tree.child_moves[ji];
            let mut m = Vec3::zeros();
            for (b, &on_child) in side.iter().enumerate() {
                if on_child == moves_child {
                    m += (self.ws.bs[b].com - f.centre).cross(&(g * self.model.bodies[b].mass_kg));
                }
            }
            let sgn = if moves_child { 1.0 } else { -1.0 };
            let c0 = self.model.joints[ji].first_coord;
            for a in 0..f.n {
                tau[c0 + a] = sgn * f.axes[a].dot(&m);
            }
        }
        tau
    }

    pub(super) fn control(&mut self) -> Result<(), String> {
        let model = self.model;
        let stance = self.tree.stance;
        let d = std::f64::consts::PI / 180.0;
        let poses = self.poses();
        let w = self.cfg.posture_frequency_rad_s;
        let zeta = self.cfg.posture_damping_ratio;
        let mass = model.mass_kg();
        // Effective inertias for the PD gains: the moving side's inertia about each joint,
        // lumped per joint from the generic segment parameters (kg m^2).
        let hip_j = self.tree.stance_joints[0];
        let mut targets = self.ctrl.targets;
        let dynamic = self.cfg.task.kind.is_dynamic();
        let r = self.reference(self.state.time_s);
        // Stance hip: level pelvis, heading kept; in a squat or step-down tilted forward by
        // the reference (about the lab's medio-lateral axis; anterior turns +x down).
        let pelvis_target = if dynamic {
            self.ctrl.heading * axis_angle(&Vec3::z(), -r.tilt)
        } else {
            self.ctrl.heading
        };
        let rel = pelvis_target.inverse() * poses[leg_body(stance, body::FEMUR_R)].rotation;
        let c = model.joints[hip_j].coords_of(&rel);
        let c0 = model.joints[hip_j].first_coord;
        targets[c0..c0 + 3].copy_from_slice(&c);
        // Lumbar: trunk upright, or leaning toward the stance side when compensating.
        // Compensated Trendelenburg: when the abductors cannot meet the demand (the
        // static optimisation's shortfall at the stance hip adduction coordinate), lean
        // the trunk toward the stance side by the angle that moves the trunk's centre of
        // mass over the hip by enough to remove the shortfall (small-angle estimate
        // shortfall / (m_trunk g l_trunk)), reached with a 0.15 s time constant and then
        // held. The lean is bounded by `compensation_max_lean_deg`.
        if self.cfg.compensation && self.state.time_s > 0.0 {
            let torso = &model.bodies[body::TORSO];
            let lever = torso.mass_kg * GRAVITY * torso.com_m.norm();
            let needed = (self.ctrl.shortfall_nm - SHORTFALL_TOLERANCE_NM).max(0.0) / lever;
            let period = self.cfg.control_period_s.max(self.cfg.dt_s);
            self.ctrl.trunk_lean_target_rad = (self.ctrl.trunk_lean_target_rad
                + self.cfg.compensation_gain * needed * period / COMPENSATION_TIME_S)
                .min(self.cfg.compensation_max_lean_deg * d);
        }
        // Lean toward the stance side: rotation about +x tilts +y toward +z (right).
        let lean = axis_angle(&Vec3::x(), self.ctrl.trunk_lean_target_rad * stance.sign());
        let trunk_target = if dynamic {
            // Trunk flexed forward by the reference (about -z), then leaning.
            self.ctrl.heading * axis_angle(&Vec3::z(), -r.trunk) * lean
        } else {
            self.ctrl.heading * lean
        };
        let back = model.joints.len() - 1;
        let rel = poses[body::PELVIS].rotation.inverse() * trunk_target;
        let c = model.joints[back].coords_of(&rel);
        targets[coord::LUMBAR_EXTENSION..coord::LUMBAR_EXTENSION + 3].copy_from_slice(&c);
        if dynamic {
            // The prescribed sagittal coordinates and their reference velocities: stance knee;
            // swing thigh held at its lab-frame angle while the pelvis tilts; lumbar
            // extension = pelvic tilt - trunk flexion.
            let knee = leg_coord(stance, coord::KNEE);
            targets[knee] = -r.knee;
            self.ctrl.target_rates[knee] = -r.knee_rate;
            let swing_hip = leg_coord(stance.other(), coord::HIP_FLEXION);
            targets[swing_hip] = self.cfg.swing_hip_flexion_deg * d + r.tilt;
            self.ctrl.target_rates[swing_hip] = r.tilt_rate;
            // Stance hip: the rates its coordinates would have if the pelvis turned as its
            // target does (the femur's measured angular velocity relative to the target
            // pelvis's, in the joint's axes); lumbar: the trunk target's relative to the
            // measured pelvis. With zero rates the PD would damp the hip's and the lumbar's
            // motion itself, and the pelvis and trunk would lag the reference by about 0.5 s.
            let femur = leg_body(stance, body::FEMUR_R);
            let w_pelvis = self.ctrl.heading * (Vec3::z() * -r.tilt_rate);
            let w_trunk = self.ctrl.heading * (Vec3::z() * -r.trunk_rate);
            for (ji, w_rel) in [
                (hip_j, self.ws.bs[femur].omega - w_pelvis),
                (back, w_trunk - self.ws.bs[body::PELVIS].omega),
            ] {
                let e = Matrix3::from_columns(&self.ws.frames[ji].axes);
                let c0 = model.joints[ji].first_coord;
                if let Some(x) = e.lu().solve(&w_rel) {
                    self.ctrl.target_rates[c0..c0 + 3].copy_from_slice(x.as_slice());
                }
            }
        }

        let inertia = |coord_i: usize| -> f64 {
            // Moving-side inertia about the joint: about 1/3 of body mass at 0.5 m for the
            // stance hip and lumbar, less distally. Scaled with subject mass and height.
            let s2 = model.length_scale * model.length_scale;
            let i = match coord_i % coord::PER_LEG {
                _ if coord_i >= 12 => 0.35 * mass * 0.3 * 0.3,
                c if c <= coord::HIP_ROTATION => {
                    if coord_i / coord::PER_LEG == (stance == Side::Left) as usize {
                        0.6 * mass * 0.35 * 0.35
                    } else {
                        0.13 * mass * 0.25 * 0.25
                    }
                }
                coord::KNEE => {
                    if coord_i / coord::PER_LEG == (stance == Side::Left) as usize {
                        0.75 * mass * 0.45 * 0.45
                    } else {
                        0.06 * mass * 0.2 * 0.2
                    }
                }
                _ => 0.02 * mass * 0.1 * 0.1,
            };
            i * s2
        };
        let tau_g = self.gravity_forces();
        let tau_lim = self.ws.limit_tau;
        let mut desired = [0.0; coord::COUNT];
        for i in 0..coord::COUNT {
            let inert = inertia(i);
            let kp = inert * w * w;
            let kd = 2.0 * zeta * inert * w;
            desired[i] = kp * (targets[i] - self.ws.q[i])
                - kd * (self.ws.qd[i] - self.ctrl.target_rates[i])
                - tau_g[i];
        }
        // Stance ankle and subtalar: balance. A centre-of-mass PD in the horizontal plane,
        // mapped to the two joints through the COM Jacobian; joint-level damping only.
        let com = com_of_states(model, &self.ws.bs);
        let vcom: Vec3 = (0..body::COUNT)
            .map(|b| self.ws.bs[b].vcom * model.bodies[b].mass_kg)
            .sum::<Vec3>()
            / mass;
        let wb = self.cfg.balance_frequency_rad_s;
        let mut f =
            (self.ctrl.foot_centre_world - com) * (mass * wb * wb) - vcom * (2.0 * mass * wb);
        f.y = 0.0;
        for ji in [self.tree.stance_joints[2], self.tree.stance_joints[3]] {
            let fr = self.ws.frames[ji];
            let side = &self.tree.child_side[ji];
            // Moving side is the anatomical parent side (everything above the joint).
            let (mut m, mut mc) = (0.0, Vec3::zeros());
            for (b, _) in side.iter().enumerate().filter(|(_, &c)| !c) {
                m += model.bodies[b].mass_kg;
                mc += self.ws.bs[b].com * model.bodies[b].mass_kg;
            }
            mc /= m;
            let dcom = -fr.axes[0].cross(&(mc - fr.centre)) * (m / mass);
            let c = model.joints[ji].first_coord;
            let inert = inertia(c);
            desired[c] = dcom.dot(&f) - 2.0 * inert * w * self.ws.qd[c] - tau_g[c];
        }
        self.ctrl.targets = targets;
        // Static optimisation (rows, reserves and buffers are set up in `new`).
        // A by columns, straight from the non-zero moment arms: a muscle crosses 1-3
        // joints, so ~300 of the 13 x 92 entries can be non-zero (`gen_coords`), and
        // neither the dense matrix nor a scan of it is needed. Entries and the passive
        // sums are formed in the same order as over the dense matrix: the same numbers.
        let rows = &self.tree.qp_rows;
        let cols = &mut self.ctrl.qp_cols;
        cols.clear();
        let mut passive = [0.0; coord::COUNT];
        let row_mask = !(1u16 << self.tree.locked_coord);
        for ((g, f), &mask) in self
            .ws
            .gen
            .iter()
            .zip(&self.ws.fiber)
            .zip(&self.ws.gen_coords)
        {
            let mut bits = mask & row_mask;
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                cols.push(
                    self.tree.coord_row[k],
                    g[k] * f.active_force_per_activation_n,
                );
                passive[k] += g[k] * f.passive_force_n;
            }
            cols.end_column();
        }
        let b = &mut self.ctrl.qp_b;
        for (br, &k) in b.iter_mut().zip(rows) {
            *br = desired[k] - passive[k] - tau_lim[k];
        }
        let sol = self
            .ctrl
            .qp
            .solve_columns(&qp::SparseProblem {
                columns: cols,
                rows: rows.len(),
                reserves: &self.tree.reserve_rows,
                b,
                min_activation: crate::muscle::MIN_ACTIVATION,
            })
            .ok_or("static optimisation failed")?;
        self.state.excitation.copy_from_slice(&sol.activations);
        self.state.reserve_torque = [0.0; coord::COUNT];
        for (i, &c) in self.tree.reserve_coords.iter().enumerate() {
            self.state.reserve_torque[c] = sol.reserves[i];
        }
        // Abduction shortfall at the stance hip (positive = muscles fall short of the abduction demand).
        let r = self.tree.coord_row[leg_coord(stance, coord::HIP_ADDUCTION)];
        self.ctrl.shortfall_nm = self.ctrl.qp.produced()[r] - b[r];
        Ok(())
    }

    /// The sagittal reference of a dynamic task at time `t` (s), as changes of the table's
    /// pelvic tilt and trunk flexion from the start posture; all zero for stance.
    pub(super) fn reference(&self, t: f64) -> Reference {
        if !self.cfg.task.kind.is_dynamic() {
            return Reference::default();
        }
        let d = std::f64::consts::PI / 180.0;
        let (k, k_rate, _) = match self.state.touch {
            // The descent ended at the touch: hold and ascent from there.
            Some((t_touch, k_touch)) => {
                let task = Task {
                    descent_s: 0.0,
                    ..self.cfg.task.clone()
                };
                knee_profile(&task, self.plan.start_knee_deg, k_touch, t - t_touch)
            }
            None => knee_profile(
                &self.cfg.task,
                self.plan.start_knee_deg,
                self.plan.bottom_knee_deg,
                t,
            ),
        };
        let (base, _) = self.plan.table.at(self.plan.start_knee_deg);
        let (v, slope) = self.plan.table.at(k);
        Reference {
            knee: k * d,
            knee_rate: k_rate * d,
            tilt: (v[0] - base[0]) * d,
            tilt_rate: slope[0] * k_rate * d,
            trunk: (v[1] - base[1]) * d,
            trunk_rate: slope[1] * k_rate * d,
        }
    }
}
