//! Single-leg stance: the model on rapier3d-f64 multibody joints, muscles applying
//! their forces along their paths, a posture controller with static optimisation,
//! and metrics measured on the simulated bodies.
//!
//! The step is a fixed sequence of stages (as MuJoCo's `mj_step`):
//! 1. `read_state`: body poses and velocities from rapier (velocities from the
//!    generalized velocities, see RAPIER_NOTES.md: link velocities lag one substep);
//! 2. `kinematics`: coordinates, joint centres and axes, muscle paths, lengths,
//!    lengthening velocities and the generalized force per unit tension (`-dL/dq`,
//!    computed from the path geometry by virtual work);
//! 3. `control` (every control period): desired generalized forces, static optimisation;
//! 4. activation dynamics and muscle forces;
//! 5. `apply`: forces along the paths, passive limit moments, reserve torques;
//! 6. rapier step; 7. finite-value check; 8. metrics and recording.
//!
//! Cost (docs/performance.md, callgrind): ~0.37 M instructions per step, ~36 us on
//! one core of the reference machine. ~45 % is rapier (~0.16 M, with the patched
//! multibody mass matrix of `vendor/rapier3d-f64`: the mass matrix is still its largest
//! part, ~0.08 M); ~35 % is `kinematics` (92 muscle paths, -dL/dq over the joints each
//! segment crosses, 5 exp and 1 ln per muscle in the fibre state), ~11 % the static
//! optimisation (one warm-started Newton step in the 14-row dual on sparse columns,
//! `qp::Solver`), ~5 % the rest of `control`. The loop allocates only when it records
//! a row. The static optimisation must run every step (holding activations for 4 ms
//! lets the pelvis drift); 2 ms steps pass the convergence test (tests/convergence.rs),
//! 4 ms steps do not (near the balance threshold they diverge).
//!
//! The multibody tree is rooted at the ground through the stance foot:
//! ground -> (fixed) stance foot -> subtalar -> talus -> ankle -> tibia -> knee ->
//! femur -> hip -> pelvis -> back -> torso, and pelvis -> swing hip -> femur -> knee ->
//! tibia -> ankle -> talus -> (fixed subtalar) -> foot.

use crate::math::{axis_angle, mat, Quat, Vec3};
use crate::measures::Tracker;
use crate::model::{body, coord, leg_body, leg_coord, Iso, Model, Side, GRAVITY};
use crate::muscle::{activation_step_with, ActivationDecay, FiberState};
use crate::qp;
use crate::task::{knee_profile, SagittalTable, Task, TaskKind};
use nalgebra::{Matrix3, UnitQuaternion};
use rapier3d_f64::prelude::*;

mod control;
mod measure;

/// Settings of a single-leg stance simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct StanceConfig {
    /// Stance side.
    pub stance_side: Side,
    /// Simulated time (s).
    pub duration_s: f64,
    /// Physics step (s).
    pub dt_s: f64,
    /// rapier solver iterations (substeps) per step.
    pub substeps: usize,
    /// Period of the static optimisation (s); activations are held between solves.
    pub control_period_s: f64,
    /// Stance knee flexion (deg).
    pub stance_knee_flexion_deg: f64,
    /// Swing hip flexion (deg): the clinical Trendelenburg test lifts the swing leg.
    pub swing_hip_flexion_deg: f64,
    /// Swing knee flexion (deg).
    pub swing_knee_flexion_deg: f64,
    /// Trunk-lean compensation: lean the trunk toward the stance side as the pelvis drops.
    pub compensation: bool,
    /// Gain of the trunk-lean compensation (1 = lean by the mechanical estimate of the angle that removes the abductor shortfall).
    pub compensation_gain: f64,
    /// Largest trunk lean the compensation may use (deg).
    pub compensation_max_lean_deg: f64,
    /// Posture stiffness: natural frequency of the joint PD loops (rad/s).
    pub posture_frequency_rad_s: f64,
    /// Damping ratio of the PD loops.
    pub posture_damping_ratio: f64,
    /// Natural frequency of the centre-of-mass balance loop (rad/s).
    pub balance_frequency_rad_s: f64,
    /// Length of the window at the end of the run over which steady-state metrics are averaged (s).
    pub steady_window_s: f64,
    /// Interval between recorded time-series rows (s).
    pub record_interval_s: f64,
    /// The task: stance, single-leg squat or step-down, with its phases.
    pub task: Task,
}

impl Default for StanceConfig {
    fn default() -> Self {
        Self {
            stance_side: Side::Right,
            duration_s: 3.0,
            dt_s: 0.002,
            substeps: 1,
            control_period_s: 0.002,
            stance_knee_flexion_deg: 10.0,
            swing_hip_flexion_deg: 30.0,
            swing_knee_flexion_deg: 60.0,
            compensation: false,
            compensation_gain: 1.0,
            compensation_max_lean_deg: 15.0,
            posture_frequency_rad_s: 10.0,
            posture_damping_ratio: 1.0,
            balance_frequency_rad_s: 3.0,
            steady_window_s: 0.5,
            record_interval_s: 0.01,
            task: Task::stance(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Completed the requested duration with the pelvis settled: over the last
    /// [`SETTLE_WINDOW_S`] its drop changed by less than [`SETTLE_RATE_DEG_PER_S`].
    Ok,
    /// Completed the requested duration without losing balance, but the pelvis was still
    /// moving at the end (pelvic drop changing faster than [`SETTLE_RATE_DEG_PER_S`] over
    /// the last [`SETTLE_WINDOW_S`]): the stance had not settled, and a longer run may fall.
    StillFalling {
        /// End of the run (s).
        time_s: f64,
        /// Mean rate of change of the pelvic drop over the last window (deg/s).
        rate_deg_per_s: f64,
    },
    /// Single-leg stance was lost: the centre of pressure left the foot, the swing foot
    /// touched the floor, or a joint went more than [`RANGE_REPORT_DEG`] past its normal
    /// range (then only its end stop, not the muscles, holds the posture).
    LostBalance {
        /// Time (s).
        time_s: f64,
        /// Which of the two, in words.
        what: String,
    },
    /// A squat or step-down completed without losing balance but did not reach its depth:
    /// the stance knee stayed more than [`DEPTH_TOLERANCE_DEG`] short of the squat depth, or
    /// the swing foot stayed more than [`STEP_TOUCH_TOLERANCE_M`] above floor level.
    ShortOfDepth {
        /// End of the run (s).
        time_s: f64,
        /// How far it got, in words.
        what: String,
    },
    /// A non-finite or runaway value appeared.
    Diverged {
        /// Time (s).
        time_s: f64,
        /// Where.
        what: String,
    },
}

impl Status {
    /// `ok`, `still_falling`, `lost_balance`, `short_of_depth` or `diverged`.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::StillFalling { .. } => "still_falling",
            Status::LostBalance { .. } => "lost_balance",
            Status::ShortOfDepth { .. } => "short_of_depth",
            Status::Diverged { .. } => "diverged",
        }
    }

    /// When the status was reached (s); `None` for `ok`.
    pub fn time_s(&self) -> Option<f64> {
        match self {
            Status::Ok => None,
            Status::StillFalling { time_s, .. }
            | Status::LostBalance { time_s, .. }
            | Status::ShortOfDepth { time_s, .. }
            | Status::Diverged { time_s, .. } => Some(*time_s),
        }
    }

    /// Why, in words (empty for `ok`).
    pub fn detail(&self) -> String {
        match self {
            Status::Ok => String::new(),
            Status::StillFalling { rate_deg_per_s, .. } => format!(
                "pelvic drop still changing at {rate_deg_per_s:.1} deg/s over the last {:.1} s ({})",
                SETTLE_WINDOW_S,
                if *rate_deg_per_s > 0.0 {
                    "dropping"
                } else {
                    "the pelvis rising back: not settled"
                }
            ),
            Status::LostBalance { what, .. }
            | Status::ShortOfDepth { what, .. }
            | Status::Diverged { what, .. } => what.clone(),
        }
    }
}

/// Length of the window at the end of a run over which the pelvis must have settled (s).
pub const SETTLE_WINDOW_S: f64 = 0.2;
/// Largest mean rate of change of the pelvic drop over [`SETTLE_WINDOW_S`] of a settled
/// run (deg/s). At 1 deg/s the ASIS of a 0.25 m wide pelvis moves 0.9 cm in a second;
/// runs that hold (abductors at 50 % and stronger) end below 0.2 deg/s, runs that are
/// falling at the end of a 2 s stance (abductors at 49.5 %) above 60 deg/s.
pub const SETTLE_RATE_DEG_PER_S: f64 = 1.0;
/// A squat whose peak stance knee flexion stays further than this below
/// `task.squat_depth_deg` (deg) did not reach its depth (the bar: within 5 deg).
pub const DEPTH_TOLERANCE_DEG: f64 = 5.0;
/// A step-down reaches floor level when the swing foot's lowest point (heel or toe) comes
/// within this distance of it (m); a foot that went further below floor level is noted in
/// the status detail (the model has no floor under the swing foot).
pub const STEP_TOUCH_TOLERANCE_M: f64 = 0.02;
/// Largest stance knee flexion the step-down may need to bring the swing foot to floor
/// level (deg): gait2392's knee range ends at 120 deg.
pub const STEP_DOWN_MAX_KNEE_DEG: f64 = 110.0;
/// Activation (0..1) at or above which an abductor compartment counts as saturated.
pub const SATURATED_ACTIVATION: f64 = 0.95;
/// A coordinate further than this past its normal range (deg) ends the run as
/// `lost_balance`, named in the status detail.
pub const RANGE_REPORT_DEG: f64 = 2.0;

/// Metrics at one instant, all measured on the simulated bodies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Time (s).
    pub time_s: f64,
    /// Contralateral pelvic drop (deg): frontal-plane tilt of the inter-ASIS line, positive when the swing side is lower.
    pub pelvic_drop_deg: f64,
    /// Height of the stance ASIS above the swing ASIS (cm).
    pub pelvic_drop_cm: f64,
    /// Stance hip adduction (deg).
    pub hip_adduction_deg: f64,
    /// Stance hip internal rotation (deg).
    pub hip_internal_rotation_deg: f64,
    /// Stance hip flexion (deg).
    pub hip_flexion_deg: f64,
    /// Stance knee flexion (deg).
    pub knee_flexion_deg: f64,
    /// Knee frontal plane projection angle (deg), positive in valgus (knee medial of the hip-ankle line), seen from the front.
    pub knee_fppa_deg: f64,
    /// Distance of the knee centre medial of the hip-ankle line in the frontal plane (mm).
    pub knee_medial_shift_mm: f64,
    /// Stance ankle dorsiflexion (deg).
    pub ankle_dorsiflexion_deg: f64,
    /// Stance subtalar inversion (deg); negative is eversion.
    pub subtalar_inversion_deg: f64,
    /// Trunk lateral lean from vertical (deg), positive toward the stance side.
    pub trunk_lean_deg: f64,
    /// Hip abduction moment produced by the muscles (active and passive) about the stance hip adduction axis (N m/kg).
    pub hip_abductor_moment_nm_per_kg: f64,
    /// Largest abduction moment the muscles could produce at this posture at full activation (N m/kg).
    pub hip_abductor_capacity_nm_per_kg: f64,
    /// Hip joint contact force on the stance femoral head (body weights).
    pub hip_contact_force_bw: f64,
    /// Frontal-plane inclination from vertical (deg) of the force the pelvis exerts on the
    /// stance femoral head, in femur axes, positive when directed laterally (OrthoLoad's
    /// convention: atan(Fx / -Fz) with x lateral).
    pub hip_contact_angle_deg: f64,
    /// Vertical ground reaction (body weights).
    pub grf_vertical_bw: f64,
    /// Centre of pressure, anterior of the ankle (mm).
    pub cop_anterior_mm: f64,
    /// Centre of pressure, lateral of the ankle (mm).
    pub cop_lateral_mm: f64,
    /// Lumbar reserve torque magnitude (N m).
    pub lumbar_reserve_nm: f64,
    /// Swing-leg reserve torque magnitude (N m).
    pub swing_reserve_nm: f64,
    /// Moment the stance-hip abduction demand left unmet by the muscles (N m), from the static optimisation.
    pub hip_abduction_shortfall_nm: f64,
    /// Largest abduction moment the muscles crossing the stance hip could produce at this
    /// instant (their lengths and velocities) while the hip's flexion and rotation moments
    /// stay what they are (N m/kg): the capacity usable for abduction, less than
    /// `hip_abductor_capacity_nm_per_kg` when a compartment's other moments hold it back
    /// (a linear programme over the activations, 0..1). Recorded rows only.
    pub hip_abductor_usable_capacity_nm_per_kg: f64,
    /// Abduction moment over the usable capacity (0..1): 1 when no more abduction can be
    /// had without changing the hip's other moments. Recorded rows only.
    pub hip_abductor_effort: f64,
    /// How many of the six stance-side abductor compartments (glut_med1-3, glut_min1-3)
    /// are at activation 0.95 or more. Recorded rows only.
    pub hip_abductors_saturated: f64,
}

/// Per-muscle outputs at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MuscleSample {
    /// Activations (0..1), by muscle index.
    pub activation: Vec<f64>,
    /// Tendon forces (N).
    pub force_n: Vec<f64>,
}

/// The ground's push on the stance foot at one instant, from the bodies' momentum rates.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GroundSample {
    /// Force the ground exerts on the stance foot (N), ground axes (x anterior, y up, z right).
    pub force_n: Vec3,
    /// Centre of pressure on the floor plane y = 0 (m), ground axes.
    pub cop_m: Vec3,
}

/// Result of a run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// How it ended.
    pub status: Status,
    /// Stance side of the run.
    pub stance_side: Side,
    /// Recorded time series.
    pub series: Vec<Metrics>,
    /// Muscle samples, aligned with `series`.
    pub muscles: Vec<MuscleSample>,
    /// Coordinates (rad) at each recorded row, aligned with `series` (OpenSim names: [`crate::model::coord_names`]).
    pub coords: Vec<[f64; coord::COUNT]>,
    /// Body poses (body -> world) at each recorded row, aligned with `series`.
    pub poses: Vec<[Iso; body::COUNT]>,
    /// Ground reaction at each recorded row, aligned with `series`.
    pub ground: Vec<GroundSample>,
    /// Steady-state metrics: means over the final window of a completed run; for a run
    /// that ended early (`lost_balance`, `diverged`), the metrics at its last recorded row.
    pub steady: Metrics,
    /// Steady-state muscle activations and forces.
    pub steady_muscles: MuscleSample,
    /// Whole-run measures, aligned with [`crate::measures::MEASURES`].
    pub measures: Vec<Option<f64>>,
    /// Notes on the run for the status detail (a joint past its range), empty if none.
    pub notes: Vec<String>,
    /// Steps taken.
    pub steps: usize,
    /// Wall time of the stepping loop (s).
    pub wall_time_s: f64,
}

/// The rows recorded during a run (every `record_interval_s`, and the last), aligned.
#[derive(Default)]
struct Recording {
    series: Vec<Metrics>,
    muscles: Vec<MuscleSample>,
    coords: Vec<[f64; coord::COUNT]>,
    poses: Vec<[Iso; body::COUNT]>,
    ground: Vec<GroundSample>,
}

/// Kinematic state of all bodies, read from rapier.
#[derive(Debug, Clone, Copy)]
struct BodyState {
    pose: Iso,
    com: Vec3,
    vcom: Vec3,
    omega: Vec3,
}

/// A path point that slides in its body with a coordinate, at the current state.
#[derive(Debug, Clone, Copy)]
struct MovingPoint {
    muscle: usize,
    /// Index in the muscle's active points.
    point: usize,
    coord: usize,
    /// World velocity of the point per unit coordinate rate, relative to its body (m/rad).
    dpoint_dq: Vec3,
    /// Generalized force per unit tension from the sliding (m): -dL/dq at fixed body poses.
    gen: f64,
}

/// One active point of a muscle path at the current state.
#[derive(Debug, Clone, Copy)]
struct PathPt {
    body: usize,
    /// World position (m).
    p: Vec3,
    /// World velocity (m/s).
    v: Vec3,
    /// Unit vector from this point to the next one of the path (zero at the last point).
    u: Vec3,
}

/// A joint between the bodies of a path segment (see `StanceSim::crossings`).
#[derive(Debug, Clone, Copy)]
struct Crossing {
    joint: usize,
    first_coord: usize,
    /// The joint's coordinates as bits.
    coord_mask: u16,
    /// Whether the segment's first body is on the joint's anatomical child side.
    first_on_child: bool,
}

/// Per-joint geometry at the current state.
#[derive(Debug, Clone, Copy, Default)]
struct JointFrame {
    centre: Vec3,
    axes: [Vec3; 3],
    n: usize,
}

/// The simulation: immutable model, rapier world, controller and muscle state.
pub struct StanceSim<'m> {
    model: &'m Model,
    cfg: StanceConfig,
    world: PhysicsWorld,
    /// The run's tree and index tables.
    tree: Tree,
    /// Per-run state.
    state: State,
    /// Controller memory.
    ctrl: Control,
    /// Scratch space.
    ws: Workspace,
    /// The dynamic task's plan.
    plan: Plan,
}

/// The run's multibody tree and index tables, fixed when the run is built: rapier handles
/// and links, which bodies lie on each side of each joint (the tree is rooted at the stance
/// foot), the joints each path segment crosses, the static optimisation's rows.
struct Tree {
    handles: [RigidBodyHandle; body::COUNT],
    links: [usize; body::COUNT],
    mb: MultibodyIndex,
    /// For each joint, which bodies are on its anatomical child side.
    child_side: Vec<[bool; body::COUNT]>,
    /// For each joint, whether the anatomical child side is the moving side (false on the stance leg).
    child_moves: Vec<bool>,
    /// Swing subtalar is locked; its coordinate is not controlled.
    locked_coord: usize,
    stance: Side,
    ankle_world: Vec3,
    /// Joints crossed by a path segment from body `b0` to body `b1`:
    /// `crossings[cross_start[b0 * body::COUNT + b1]..cross_start[b0 * body::COUNT + b1 + 1]]`,
    /// joints in model order. Fixed by the tree, so built once: a segment's body pair
    /// changes when a conditional point appears or disappears, and the table is looked up
    /// per segment every step, so that case needs nothing special. Instead of testing all
    /// 9 joints for every segment, -dL/dq visits only the 1-4 it crosses.
    crossings: Vec<Crossing>,
    cross_start: Vec<usize>,
    /// Fibre thickness per muscle (m), constant: saves a `sin` per muscle per step.
    fiber_thickness: Vec<f64>,
    /// Stance-side joint indices (hip, knee, ankle, subtalar), looked up once.
    stance_joints: [usize; 4],
    /// Coordinates that are rows of the static optimisation (all but the locked one).
    qp_rows: Vec<usize>,
    /// Coordinates with a reserve actuator, and their row indices.
    reserve_coords: Vec<usize>,
    reserve_rows: Vec<usize>,
    /// Row of each coordinate in the static optimisation (`usize::MAX` for the locked one).
    coord_row: [usize; coord::COUNT],
    /// Stance gluteus medius compartments and their weights (nominal max isometric force
    /// over the three's sum) for `glut_med_activation_peak`.
    glut_med: Vec<(usize, f64)>,
    /// Stance abductor compartments (glut_med1-3, glut_min1-3).
    abductors: Vec<usize>,
    /// Swing-foot points that touch the floor first (heel: calcaneus origin; toe: MTP
    /// joint centre), in the foot frame (m), and the floor heights (m) of the same points
    /// of the stance foot, which stands flat on the floor.
    swing_foot_points: [(Vec3, f64); 2],
}

/// Per-run state besides rapier's bodies: muscle activations and excitations, the lagged
/// fibre velocities, reserve torques, the previous step's velocities and momenta (for
/// momentum rates), time and the task's events.
struct State {
    activation: Vec<f64>,
    excitation: Vec<f64>,
    /// Fibre-side musculotendon lengthening velocity (m/s), lagged by tendon compliance.
    fiber_velocity: Vec<f64>,
    reserve_torque: [f64; coord::COUNT],
    prev_vcom: [Vec3; body::COUNT],
    prev_momentum: [Vec3; body::COUNT],
    /// Ground reaction at the last `metrics` call.
    ground: GroundSample,
    time_s: f64,
    /// Steps taken by `step`.
    steps_taken: usize,
    /// Lowest clearance of the swing foot above floor level over the run (m).
    min_swing_clearance_m: f64,
    /// Step-down: when the swing foot reached floor level during the descent (s) and the
    /// reference knee flexion then (deg); the descent ends there, as the person stops
    /// when the heel touches.
    touch: Option<(f64, f64)>,
}

/// The controller's memory and solver: heading, the centre-of-mass target, the trunk lean
/// of the compensation, posture targets and reference rates, the static optimisation.
struct Control {
    heading: Quat,
    foot_centre_world: Vec3,
    trunk_lean_target_rad: f64,
    shortfall_nm: f64,
    targets: [f64; coord::COUNT],
    /// Static optimisation: warm-started solver and its problem buffers, sized once.
    qp: qp::Solver,
    /// Generalized force per unit activation (N m) by muscle columns, non-zeros only.
    qp_cols: qp::Columns,
    /// Generalized force (N m) demanded of activations and reserves, per row.
    qp_b: Vec<f64>,
    /// Reference velocities of the prescribed coordinates (rad/s), zero where none.
    target_rates: [f64; coord::COUNT],
}

/// Scratch recomputed every step from the state (allocated once): body states, coordinates
/// and their rates, joint frames, muscle paths, fibre states, moment arms.
struct Workspace {
    bs: [BodyState; body::COUNT],
    q: [f64; coord::COUNT],
    qd: [f64; coord::COUNT],
    /// Passive limit moments (N m) at `q`, `qd`, set by `kinematics`.
    limit_tau: [f64; coord::COUNT],
    frames: Vec<JointFrame>,
    fiber: Vec<FiberState>,
    /// Generalized force per unit tension, muscles x coordinates (N m per N = m).
    gen: Vec<[f64; coord::COUNT]>,
    /// Active path points of all muscles at the current state, muscle after muscle:
    /// muscle `m` has `path[path_start[m]..path_start[m + 1]]` (one buffer, reused).
    path: Vec<PathPt>,
    path_start: Vec<usize>,
    moving: Vec<MovingPoint>,
    /// Per muscle, the coordinates (bit `k`) its `gen` row may be non-zero at: those of
    /// the joints its segments cross and of its moving points. Set by `kinematics`.
    gen_coords: Vec<u16>,
}

/// The dynamic task's plan: its sagittal reference and the knee flexion at start and bottom.
struct Plan {
    /// Sagittal reference of the dynamic tasks (pelvic tilt, trunk flexion vs knee flexion).
    table: SagittalTable,
    /// Stance knee flexion at the start and at the bottom of a dynamic task (deg).
    start_knee_deg: f64,
    bottom_knee_deg: f64,
}

fn v3(v: rapier3d_f64::math::Vector) -> Vec3 {
    Vec3::new(v.x, v.y, v.z)
}
fn gv(v: &Vec3) -> rapier3d_f64::math::Vector {
    rapier3d_f64::math::Vector::new(v.x, v.y, v.z)
}
fn gq(q: &Quat) -> rapier3d_f64::math::Rotation {
    let c = q.coords;
    rapier3d_f64::math::Rotation::from_xyzw(c.x, c.y, c.z, c.w)
}
fn nq(q: &rapier3d_f64::math::Rotation) -> Quat {
    UnitQuaternion::new_normalize(nalgebra::Quaternion::new(q.w, q.x, q.y, q.z))
}
fn gpose(p: &Iso) -> Pose {
    Pose::from_parts(gv(&p.translation.vector), gq(&p.rotation))
}

/// Time constant of the trunk-lean compensation (s): how fast the lean reaches the
/// angle that removes the abductor shortfall (a reaction of the order of a postural
/// response, 100-200 ms).
pub const COMPENSATION_TIME_S: f64 = 0.15;

/// Abductor shortfall (N m) below which the muscles count as meeting the demand: the
/// static optimisation penalises residuals instead of forbidding them, so a tiny
/// residual (of order 0.01 N m) remains even when the muscles could do more.
pub const SHORTFALL_TOLERANCE_NM: f64 = 0.5;

/// Runaway bounds checked every step (as MuJoCo checks positions, velocities and
/// accelerations): far beyond anything a standing person does, so that only a numerical
/// blow-up trips them. Centre-of-mass speed of any body (m/s).
pub const MAX_SPEED_M_S: f64 = 50.0;
/// Angular speed of any body (rad/s).
pub const MAX_ANGULAR_SPEED_RAD_S: f64 = 200.0;
/// Centre-of-mass acceleration of any body (m/s^2), about 100 g.
pub const MAX_ACCELERATION_M_S2: f64 = 1000.0;

/// Foot support polygon in the foot (calcaneus) frame, generic subject (m): heel to
/// toe tips and medial to lateral border, from the gait2392 foot geometry (calcn
/// origin at the heel; toes joint at x = 0.179 m; lateral border at the peroneus
/// brevis insertion, z = +0.034 m, medial at the hallux, z = -0.03 m).
pub const FOOT_X_RANGE_M: (f64, f64) = (-0.01, 0.24);
/// Medial-lateral extent of the foot (right foot, +z lateral), m.
pub const FOOT_Z_RANGE_M: (f64, f64) = (-0.035, 0.045);

impl<'m> StanceSim<'m> {
    /// Build the simulation in its initial posture: pelvis level, trunk upright, stance
    /// knee flexed, swing leg lifted, whole-body centre of mass over the middle of the foot.
    ///
    /// With trunk-lean compensation on, the person leans before lifting the foot, as
    /// patients with weak abductors do: the initial trunk lean toward the stance side is
    /// the smallest whole degree (up to `compensation_max_lean_deg`) at which the static
    /// optimisation meets the stance hip's demand; during the stance the lean grows
    /// further if the abductors fall short (see `control`).
    pub fn new(model: &'m Model, cfg: StanceConfig) -> Result<Self, String> {
        let mut sim = Self::build(model, cfg.clone(), 0.0)?;
        if cfg.compensation {
            let max = cfg.compensation_max_lean_deg.floor() as usize;
            for lean_deg in 1..=max {
                if sim.ctrl.shortfall_nm <= SHORTFALL_TOLERANCE_NM {
                    break;
                }
                sim = Self::build(model, cfg.clone(), (lean_deg as f64).to_radians())?;
            }
        }
        Ok(sim)
    }

    /// Build the simulation with the trunk leaning `lean_rad` toward the stance side.
    fn build(model: &'m Model, cfg: StanceConfig, lean_rad: f64) -> Result<Self, String> {
        let stance = cfg.stance_side;
        let swing = stance.other();
        let d = std::f64::consts::PI / 180.0;
        let s = model.length_scale;
        let mut q = [0.0; coord::COUNT];
        q[leg_coord(stance, coord::KNEE)] = -cfg.stance_knee_flexion_deg * d;
        q[leg_coord(swing, coord::HIP_FLEXION)] = cfg.swing_hip_flexion_deg * d;
        q[leg_coord(swing, coord::KNEE)] = -cfg.swing_knee_flexion_deg * d;
        let back = &model.joints[model.joints.len() - 1];
        let lumbar = back.coords_of(&axis_angle(&Vec3::x(), lean_rad * stance.sign()));
        q[coord::LUMBAR_EXTENSION..coord::LUMBAR_EXTENSION + 3].copy_from_slice(&lumbar);
        let foot = leg_body(stance, body::FOOT_R);
        let centre_local = foot_centre_local(model, stance);
        balance_posture(model, stance, &mut q, 0.0)?;
        // Place the stance foot on the ground: calcaneus origin 3 cm above y = 0.
        let p0 = model.forward_kinematics(&Iso::identity(), &q);
        let lift = Vec3::new(0.0, 0.03 * s, 0.0) - p0[foot].translation.vector;
        let pelvis = Iso::translation(lift.x, lift.y, lift.z);
        let poses = model.forward_kinematics(&pelvis, &q);

        let mut world = PhysicsWorld::new();
        world.gravity = rapier3d_f64::math::Vector::new(0.0, -GRAVITY, 0.0);
        world.integration_parameters.dt = cfg.dt_s;
        world.integration_parameters.num_solver_iterations = cfg.substeps.max(1);
        let ground = world.insert_body(RigidBodyBuilder::fixed());
        let mut handles = [ground; body::COUNT];
        for (i, b) in model.bodies.iter().enumerate() {
            let mp = MassProperties::new(gv(&b.com_m), b.mass_kg, gv(&b.inertia_kg_m2));
            handles[i] = world.insert_body(
                RigidBodyBuilder::dynamic()
                    .pose(gpose(&poses[i]))
                    .additional_mass_properties(mp)
                    .can_sleep(false),
            );
        }
        let insert = |world: &mut PhysicsWorld,
                      parent: usize,
                      child: usize,
                      centre: Vec3,
                      axis: Option<Vec3>,
                      mask: JointAxesMask| {
            let (pp, pc) = (&poses[parent], &poses[child]);
            let q1 = match axis {
                Some(a) => {
                    UnitQuaternion::rotation_between(&Vec3::x(), &(pp.rotation.inverse() * a))
                        .unwrap_or_else(|| axis_angle(&Vec3::y(), std::f64::consts::PI))
                }
                None => Quat::identity(),
            };
            let q2 = pc.rotation.inverse() * pp.rotation * q1;
            let f1 = Iso::from_parts(
                (pp.inverse() * nalgebra::Point3::from(centre))
                    .coords
                    .into(),
                q1,
            );
            let f2 = Iso::from_parts(
                (pc.inverse() * nalgebra::Point3::from(centre))
                    .coords
                    .into(),
                q2,
            );
            let joint = GenericJointBuilder::new(mask)
                .local_frame1(gpose(&f1))
                .local_frame2(gpose(&f2))
                .build();
            world
                .multibody_joints
                .insert(handles[parent], handles[child], joint, true)
                .ok_or("rapier refused a multibody joint")
        };
        // Ground -> stance foot (fixed).
        {
            let pf = &poses[foot];
            let joint = GenericJointBuilder::new(JointAxesMask::LOCKED_FIXED_AXES)
                .local_frame1(gpose(pf))
                .local_frame2(Pose::IDENTITY)
                .build();
            world
                .multibody_joints
                .insert(ground, handles[foot], joint, true)
                .ok_or("rapier refused the foot joint")?;
        }
        let centre = |j: &crate::model::Joint| {
            poses[j.parent] * nalgebra::Point3::from(j.location_in_parent_m)
        };
        let axis_w = |j: &crate::model::Joint| match &j.kind {
            crate::model::JointKind::Revolute(a) => Some(poses[j.parent].rotation * a.normalize()),
            _ => None,
        };
        let jidx = |name: String| {
            model
                .joints
                .iter()
                .position(|j| j.name == name)
                .expect("joint")
        };
        let st = stance.suffix();
        let sw = swing.suffix();
        // Stance chain, inverted: physical parent is the anatomical child.
        for n in ["subtalar", "ankle", "knee", "hip"] {
            let j = &model.joints[jidx(format!("{n}_{st}"))];
            let mask = if axis_w(j).is_some() {
                JointAxesMask::LOCKED_REVOLUTE_AXES
            } else {
                JointAxesMask::LOCKED_SPHERICAL_AXES
            };
            insert(
                &mut world,
                j.child,
                j.parent,
                centre(j).coords,
                axis_w(j),
                mask,
            )?;
        }
        let j = &model.joints[jidx("back".into())];
        insert(
            &mut world,
            j.parent,
            j.child,
            centre(j).coords,
            None,
            JointAxesMask::LOCKED_SPHERICAL_AXES,
        )?;
        for n in ["hip", "knee", "ankle", "subtalar"] {
            let j = &model.joints[jidx(format!("{n}_{sw}"))];
            let mask = if n == "subtalar" {
                JointAxesMask::LOCKED_FIXED_AXES
            } else if axis_w(j).is_some() {
                JointAxesMask::LOCKED_REVOLUTE_AXES
            } else {
                JointAxesMask::LOCKED_SPHERICAL_AXES
            };
            insert(
                &mut world,
                j.parent,
                j.child,
                centre(j).coords,
                axis_w(j),
                mask,
            )?;
        }
        let link = world
            .multibody_joints
            .rigid_body_link(handles[foot])
            .ok_or("no multibody")?;
        let mb = link.multibody;
        let mut links = [0usize; body::COUNT];
        for i in 0..body::COUNT {
            links[i] = world
                .multibody_joints
                .rigid_body_link(handles[i])
                .ok_or("body not in multibody")?
                .id;
        }
        // rapier adds 0.1 N m s/rad of damping to every DOF: remove it (RAPIER_NOTES.md).
        world
            .multibody_joints
            .get_multibody_mut(mb)
            .ok_or("no multibody")?
            .damping_mut()
            .fill(0.0);
        // One zero-length step so that mass properties and COMs are set before forces are applied.
        world.integration_parameters.dt = 0.0;
        world.step();
        world.integration_parameters.dt = cfg.dt_s;

        // Joint sides.
        let mut child_side = Vec::new();
        let mut child_moves = Vec::new();
        for j in &model.joints {
            let mut side = [false; body::COUNT];
            side[j.child] = true;
            // Joints are listed parent-first per chain, so one pass per joint suffices.
            for _ in 0..4 {
                for k in &model.joints {
                    if side[k.parent] {
                        side[k.child] = true;
                    }
                }
            }
            child_moves.push(!side[foot]);
            child_side.push(side);
        }
        let nm = model.muscles.len();
        let heading = Quat::identity();
        let foot_centre_world = poses[foot] * nalgebra::Point3::from(centre_local);
        let ankle_world = poses[leg_body(stance, body::TALUS_R)].translation.vector;
        let mut sim = StanceSim {
            model,
            cfg,
            world,
            tree: Tree {
                handles,
                links,
                mb,
                child_side,
                child_moves,
                locked_coord: leg_coord(swing, coord::SUBTALAR),
                stance,
                ankle_world,
                crossings: Vec::new(),
                cross_start: Vec::new(),
                fiber_thickness: model
                    .muscles
                    .iter()
                    .map(|m| m.params.fiber_thickness_m())
                    .collect(),
                stance_joints: [0; 4],
                qp_rows: Vec::new(),
                reserve_coords: Vec::new(),
                reserve_rows: Vec::new(),
                coord_row: [usize::MAX; coord::COUNT],
                glut_med: Vec::new(),
                abductors: Vec::new(),
                swing_foot_points: [(Vec3::zeros(), 0.0); 2],
            },
            state: State {
                activation: vec![0.05; nm],
                excitation: vec![0.05; nm],
                fiber_velocity: vec![0.0; nm],
                reserve_torque: [0.0; coord::COUNT],
                prev_vcom: [Vec3::zeros(); body::COUNT],
                prev_momentum: [Vec3::zeros(); body::COUNT],
                ground: GroundSample::default(),
                time_s: 0.0,
                steps_taken: 0,
                min_swing_clearance_m: f64::INFINITY,
                touch: None,
            },
            ctrl: Control {
                heading,
                foot_centre_world: foot_centre_world.coords,
                trunk_lean_target_rad: lean_rad,
                shortfall_nm: 0.0,
                targets: q,
                qp: qp::Solver::new(),
                qp_cols: qp::Columns::new(),
                qp_b: Vec::new(),
                target_rates: [0.0; coord::COUNT],
            },
            ws: Workspace {
                bs: [BodyState {
                    pose: Iso::identity(),
                    com: Vec3::zeros(),
                    vcom: Vec3::zeros(),
                    omega: Vec3::zeros(),
                }; body::COUNT],
                q: [0.0; coord::COUNT],
                qd: [0.0; coord::COUNT],
                limit_tau: [0.0; coord::COUNT],
                frames: vec![JointFrame::default(); model.joints.len()],
                fiber: vec![FiberState::default(); nm],
                gen: vec![[0.0; coord::COUNT]; nm],
                path: Vec::new(),
                path_start: vec![0; nm + 1],
                moving: Vec::new(),
                gen_coords: vec![0; nm],
            },
            plan: Plan {
                table: SagittalTable::squat(),
                start_knee_deg: 0.0,
                bottom_knee_deg: 0.0,
            },
        };
        let compartment = |name: &str| {
            model
                .muscle_index(&format!("{name}_{}", stance.suffix()))
                .ok_or_else(|| format!("the model has no muscle {name}_{}", stance.suffix()))
        };
        for name in ["glut_med1", "glut_med2", "glut_med3"] {
            let m = compartment(name)?;
            let mu = &model.muscles[m];
            // Nominal force, before strength factors: the weights do not change with them.
            let nominal = if mu.strength > 0.0 {
                mu.params.max_isometric_force_n / mu.strength
            } else {
                1.0
            };
            sim.tree.glut_med.push((m, nominal));
        }
        let total: f64 = sim.tree.glut_med.iter().map(|g| g.1).sum();
        for g in &mut sim.tree.glut_med {
            g.1 /= total;
        }
        for name in [
            "glut_med1",
            "glut_med2",
            "glut_med3",
            "glut_min1",
            "glut_min2",
            "glut_min3",
        ] {
            sim.tree.abductors.push(compartment(name)?);
        }
        let mtp = crate::model::MTP_IN_FOOT_M * s;
        let st_foot = &poses[foot];
        for (k, local) in [Vec3::zeros(), mtp].into_iter().enumerate() {
            let floor_y = (st_foot * nalgebra::Point3::from(mirror_z(local, stance))).y;
            sim.tree.swing_foot_points[k] = (mirror_z(local, swing), floor_y - sim.step_height_m());
        }
        let sw_foot = &poses[leg_body(swing, body::FOOT_R)];
        let clearance = sim.swing_clearance(sw_foot);
        if clearance <= 0.0 {
            return Err(format!(
                "the swing foot would start {:.1} cm below the floor (stance knee flexed {} deg; swing hip {} deg; swing knee {} deg): flex the swing hip or knee more (task.swing_hip_flexion_deg; task.swing_knee_flexion_deg)",
                -clearance * 100.0,
                sim.cfg.stance_knee_flexion_deg,
                sim.cfg.swing_hip_flexion_deg,
                sim.cfg.swing_knee_flexion_deg
            ));
        }
        for (i, name) in ["hip", "knee", "ankle", "subtalar"].iter().enumerate() {
            sim.tree.stance_joints[i] = sim.find_joint(name, stance);
        }
        sim.tree.cross_start.push(0);
        for b0 in 0..body::COUNT {
            for b1 in 0..body::COUNT {
                for (ji, side) in sim.tree.child_side.iter().enumerate() {
                    if b0 != b1 && side[b0] != side[b1] {
                        let j = &model.joints[ji];
                        sim.tree.crossings.push(Crossing {
                            joint: ji,
                            first_coord: j.first_coord,
                            coord_mask: j.coord_mask(),
                            first_on_child: side[b0],
                        });
                    }
                }
                sim.tree.cross_start.push(sim.tree.crossings.len());
            }
        }
        // Static-optimisation rows and reserves depend only on the stance side.
        sim.tree.qp_rows = (0..coord::COUNT)
            .filter(|&i| i != sim.tree.locked_coord)
            .collect();
        sim.tree.reserve_coords = (0..coord::COUNT)
            .filter(|&i| {
                i >= coord::LUMBAR_EXTENSION
                    || (i / coord::PER_LEG == (swing == Side::Left) as usize
                        && i < 12
                        && i != sim.tree.locked_coord)
            })
            .collect();
        sim.tree.reserve_rows = sim
            .tree
            .reserve_coords
            .iter()
            .map(|c| sim.tree.qp_rows.iter().position(|r| r == c).expect("row"))
            .collect();
        for (r, &k) in sim.tree.qp_rows.iter().enumerate() {
            sim.tree.coord_row[k] = r;
        }
        sim.ctrl.qp_b = vec![0.0; sim.tree.qp_rows.len()];
        sim.plan.start_knee_deg = sim.cfg.stance_knee_flexion_deg;
        sim.plan.bottom_knee_deg = match sim.cfg.task.kind {
            TaskKind::SingleLegStance => sim.plan.start_knee_deg,
            TaskKind::SingleLegSquat => sim.cfg.task.squat_depth_deg,
            TaskKind::StepDown => sim.step_down_bottom(&q, &poses[foot])?,
        };
        sim.read_state();
        sim.kinematics();
        // Start from the static-optimisation solution so that the run starts in equilibrium.
        sim.control()?;
        sim.state.activation.clone_from(&sim.state.excitation);
        Ok(sim)
    }

    fn read_state(&mut self) {
        let mb = self
            .world
            .multibody_joints
            .get_multibody(self.tree.mb)
            .expect("multibody");
        let qd = mb.generalized_velocity();
        for i in 0..body::COUNT {
            let rb = &self.world.bodies[self.tree.handles[i]];
            let p = rb.position();
            let pose = Iso::from_parts(v3(p.translation).into(), nq(&p.rotation));
            let jv = mb.body_jacobian(self.tree.links[i]) * qd;
            let com = pose * nalgebra::Point3::from(self.model.bodies[i].com_m);
            self.ws.bs[i] = BodyState {
                pose,
                com: com.coords,
                vcom: Vec3::new(jv[0], jv[1], jv[2]),
                omega: Vec3::new(jv[3], jv[4], jv[5]),
            };
        }
    }

    fn poses(&self) -> [Iso; body::COUNT] {
        std::array::from_fn(|i| self.ws.bs[i].pose)
    }

    fn kinematics(&mut self) {
        let poses = self.poses();
        self.ws.q = self.model.coordinates(&poses);
        for (ji, j) in self.model.joints.iter().enumerate() {
            let c0 = j.first_coord;
            let n = j.ncoords();
            let (axes_p, _) = j.axes_in_parent(&self.ws.q[c0..c0 + n]);
            let rp = poses[j.parent].rotation;
            let axes = [rp * axes_p[0], rp * axes_p[1], rp * axes_p[2]];
            let centre = (poses[j.parent] * nalgebra::Point3::from(j.location_in_parent_m)).coords;
            let w_rel = self.ws.bs[j.child].omega - self.ws.bs[j.parent].omega;
            if n == 1 {
                self.ws.qd[c0] = axes[0].dot(&w_rel);
            } else {
                let e = Matrix3::from_columns(&axes);
                let x = e.lu().solve(&w_rel).unwrap_or_default();
                self.ws.qd[c0..c0 + 3].copy_from_slice(x.as_slice());
            }
            self.ws.frames[ji] = JointFrame { centre, axes, n };
        }
        self.ws.moving.clear();
        self.ws.path.clear();
        let bs = &self.ws.bs;
        for (mi, m) in self.model.muscles.iter().enumerate() {
            let start = self.ws.path.len();
            self.ws.path_start[mi] = start;
            let first_moving = self.ws.moving.len();
            for p in m.points.iter().filter(|p| p.active(&self.ws.q)) {
                let rot = &poses[p.body].rotation;
                let local = if let crate::model::PointKind::Moving {
                    coord: k,
                    xyz,
                    scale,
                } = &p.kind
                {
                    // Velocity of the point in its body per unit rate of its coordinate, by
                    // central differences of the splines (evaluated at q[k] +- h directly:
                    // the same numbers as `p.local` on copies of q, without the copies).
                    let at =
                        |t: f64| Vec3::new(xyz[0].eval(t), xyz[1].eval(t), xyz[2].eval(t)) * *scale;
                    let (k, t, h) = (*k, self.ws.q[*k], 1e-6);
                    let d = rot * ((at(t + h) - at(t - h)) / (2.0 * h));
                    self.ws.moving.push(MovingPoint {
                        muscle: mi,
                        point: self.ws.path.len() - start,
                        coord: k,
                        dpoint_dq: d,
                        gen: 0.0,
                    });
                    at(t)
                } else {
                    p.location_m
                };
                let w = (poses[p.body] * nalgebra::Point3::from(local)).coords;
                let st = &bs[p.body];
                self.ws.path.push(PathPt {
                    body: p.body,
                    p: w,
                    v: st.vcom + st.omega.cross(&(w - st.com)),
                    u: Vec3::zeros(),
                });
            }
            let pts = &mut self.ws.path[start..];
            let mut len = 0.0;
            let mut vel = 0.0;
            let g = &mut self.ws.gen[mi];
            g.fill(0.0);
            let mut touched = 0u16;
            // Consecutive pairs through one iterator (no index, no bounds check): `a` is the
            // segment's first point, which keeps the segment's direction.
            let mut seg = pts.iter_mut();
            let mut a = seg.next().expect("a path has two points or more");
            for b in seg {
                let (b0, p0, v0) = (a.body, a.p, a.v);
                let (b1, p1, v1) = (b.body, b.p, b.v);
                let dvec = p1 - p0;
                let l = dvec.norm();
                let u = dvec / l;
                a.u = u;
                len += l;
                vel += u.dot(&(v1 - v0));
                let pair = b0 * body::COUNT + b1;
                let crossed = &self.tree.crossings
                    [self.tree.cross_start[pair]..self.tree.cross_start[pair + 1]];
                for c in crossed {
                    touched |= c.coord_mask;
                    let f = &self.ws.frames[c.joint];
                    // Unit tension pulls p0 toward p1 (+u) and p1 toward p0 (-u).
                    let m_child = if c.first_on_child {
                        (p0 - f.centre).cross(&u)
                    } else {
                        (p1 - f.centre).cross(&(-u))
                    };
                    for (ga, axis) in g[c.first_coord..c.first_coord + f.n]
                        .iter_mut()
                        .zip(&f.axes)
                    {
                        *ga += axis.dot(&m_child);
                    }
                }
                a = b;
            }
            // Points that slide in their body with a coordinate (gait2392's patella
            // substitute) change the length at fixed body poses: dL/dq = (u_in - u_out) . dp/dq.
            // Forces at the points alone miss this term, so it is added as a generalized
            // force -T dL/dq on that coordinate (as OpenSim's GeometryPath does), and to
            // the lengthening velocity.
            for mp in &mut self.ws.moving[first_moving..] {
                let i = mp.point;
                let mut dl = 0.0;
                if i > 0 {
                    dl += pts[i - 1].u.dot(&mp.dpoint_dq);
                }
                if i + 1 < pts.len() {
                    dl -= pts[i].u.dot(&mp.dpoint_dq);
                }
                mp.gen = -dl;
                g[mp.coord] -= dl;
                touched |= 1u16 << mp.coord;
                vel += dl * self.ws.qd[mp.coord];
            }
            self.ws.gen_coords[mi] = touched;
            // Tendon-compliance lag of the fibre velocity (see muscle::tendon_velocity_lag_s).
            let tau = crate::muscle::tendon_velocity_lag_s(
                &m.params,
                self.state.activation[mi],
                &self.ws.fiber[mi],
            );
            let keep = if tau > 0.0 {
                (-self.cfg.dt_s / tau).exp()
            } else {
                0.0
            };
            self.state.fiber_velocity[mi] = vel + (self.state.fiber_velocity[mi] - vel) * keep;
            self.ws.fiber[mi] = m.params.fiber_state_with_thickness(
                self.tree.fiber_thickness[mi],
                len,
                self.state.fiber_velocity[mi],
            );
        }
        self.ws.path_start[self.model.muscles.len()] = self.ws.path.len();
        // Passive limit moments depend on q and qd only: computed here once per step
        // for both `control` and `apply` (4 exp and 2 ln_1p per coordinate).
        self.ws.limit_tau = self.limit_forces();
    }

    fn limit_forces(&self) -> [f64; coord::COUNT] {
        let mut tau = [0.0; coord::COUNT];
        for (i, t) in tau.iter_mut().enumerate() {
            if i != self.tree.locked_coord {
                *t = self.model.limits[i].moment(self.ws.q[i], self.ws.qd[i]);
            }
        }
        tau
    }

    fn find_joint(&self, name: &str, side: Side) -> usize {
        // Compares `name` + `_` + suffix without building the string (no allocation).
        self.model
            .joints
            .iter()
            .position(|j| {
                j.name
                    .strip_suffix(side.suffix())
                    .and_then(|n| n.strip_suffix('_'))
                    == Some(name)
            })
            .expect("joint")
    }

    /// Muscle tension (N) of muscle `m` at the current activation.
    fn tension(&self, m: usize) -> f64 {
        self.state.activation[m] * self.ws.fiber[m].active_force_per_activation_n
            + self.ws.fiber[m].passive_force_n
    }

    fn apply(&mut self) {
        let lim = self.ws.limit_tau;
        let bodies = &mut self.world.bodies;
        // Muscle forces and joint torques are summed per body here and handed to rapier
        // once per body: the same additions in the same order as `add_force_at_point`
        // per segment and `add_torque` per joint would make (force, then `(point - world
        // COM) x force`, zero forces skipped), without two rigid-body-set lookups per
        // segment (~200 per step).
        let zero = rapier3d_f64::math::Vector::ZERO;
        let mut force = [zero; body::COUNT];
        let mut torque = [zero; body::COUNT];
        let com: [rapier3d_f64::math::Vector; body::COUNT] =
            std::array::from_fn(|i| bodies[self.tree.handles[i]].center_of_mass());
        for (m, w) in self.ws.path_start.windows(2).enumerate() {
            let t = self.state.activation[m] * self.ws.fiber[m].active_force_per_activation_n
                + self.ws.fiber[m].passive_force_n;
            for w in self.ws.path[w[0]..w[1]].windows(2) {
                let (b0, p0) = (w[0].body, w[0].p);
                let (b1, p1) = (w[1].body, w[1].p);
                if b0 == b1 {
                    continue;
                }
                let u = w[0].u * t;
                for (b, f, p) in [(b0, gv(&u), p0), (b1, gv(&(-u)), p1)] {
                    if f != zero {
                        force[b] += f;
                        torque[b] += (gv(&p) - com[b]).cross(f);
                    }
                }
            }
        }
        let mut sliding = [0.0; coord::COUNT];
        for mp in &self.ws.moving {
            sliding[mp.coord] += mp.gen
                * (self.state.activation[mp.muscle]
                    * self.ws.fiber[mp.muscle].active_force_per_activation_n
                    + self.ws.fiber[mp.muscle].passive_force_n);
        }
        for (ji, j) in self.model.joints.iter().enumerate() {
            let f = self.ws.frames[ji];
            let c0 = j.first_coord;
            let mut tau = [0.0; 3];
            for a in 0..f.n {
                tau[a] = lim[c0 + a] + self.state.reserve_torque[c0 + a] + sliding[c0 + a];
            }
            let t = if f.n == 1 {
                f.axes[0] * tau[0]
            } else {
                let e = Matrix3::from_columns(&f.axes);
                e.transpose()
                    .lu()
                    .solve(&Vec3::new(tau[0], tau[1], tau[2]))
                    .unwrap_or_default()
            };
            // After the muscles' torques, as `add_torque` would add them (zero skipped).
            for (b, t) in [(j.child, gv(&t)), (j.parent, gv(&(-t)))] {
                if t != zero {
                    torque[b] += t;
                }
            }
        }
        for (i, h) in self.tree.handles.into_iter().enumerate() {
            let b = &mut bodies[h];
            b.reset_forces(false);
            b.reset_torques(false);
            b.add_force(force[i], false);
            b.add_torque(torque[i], false);
        }
    }

    fn check_finite(&self) -> Option<String> {
        for (i, b) in self.ws.bs.iter().enumerate() {
            let ok = b
                .com
                .iter()
                .chain(b.vcom.iter())
                .chain(b.omega.iter())
                .all(|v| v.is_finite());
            if !ok || b.vcom.norm() > MAX_SPEED_M_S || b.omega.norm() > MAX_ANGULAR_SPEED_RAD_S {
                return Some(format!(
                    "body {} (position or velocity not finite or runaway)",
                    self.model.bodies[i].name
                ));
            }
            let acc = (b.vcom - self.state.prev_vcom[i]).norm() / self.cfg.dt_s;
            if self.state.time_s > self.cfg.dt_s && acc > MAX_ACCELERATION_M_S2 {
                return Some(format!(
                    "body {} (acceleration {acc:.0} m/s^2, runaway)",
                    self.model.bodies[i].name
                ));
            }
        }
        for (m, f) in self.ws.fiber.iter().enumerate() {
            if !f.active_force_per_activation_n.is_finite() || !f.passive_force_n.is_finite() {
                return Some(format!("muscle {}", self.model.muscles[m].name));
            }
        }
        None
    }

    /// Generalized force per unit tension of every muscle about every coordinate at the
    /// current state (m): the moment arms, from the path geometry by virtual work.
    pub fn moment_arms(&self) -> &[[f64; coord::COUNT]] {
        &self.ws.gen
    }

    /// Current coordinates (rad).
    pub fn coordinates(&self) -> &[f64; coord::COUNT] {
        &self.ws.q
    }

    /// Generalized gravity forces (N m) at the current state, as the controller sees them.
    pub fn generalized_gravity(&self) -> [f64; coord::COUNT] {
        self.gravity_forces()
    }

    /// Body poses read from rapier.
    pub fn body_poses(&self) -> [Iso; body::COUNT] {
        self.poses()
    }

    /// Step the skeleton alone for `steps` steps: no muscle, limit or reserve forces,
    /// no controller (rapier's default joint damping is already zeroed). For checking
    /// the multibody dynamics: a passive swing should conserve [`StanceSim::mechanical_energy_j`].
    pub fn step_passive(&mut self, steps: usize) {
        for _ in 0..steps {
            for h in self.tree.handles {
                let b = &mut self.world.bodies[h];
                b.reset_forces(false);
                b.reset_torques(false);
            }
            self.world.step();
            self.state.time_s += self.cfg.dt_s;
            self.read_state();
        }
    }

    /// Largest difference, relative to the largest entry, between the joint-space mass
    /// matrices assembled by the patched rapier (`vendor/rapier3d-f64`: sparse, fixed-size)
    /// and by rapier's original dense code, at the current state. For the test of the patch.
    #[doc(hidden)]
    pub fn mass_matrix_patch_error(&mut self) -> f64 {
        let dt = self.world.integration_parameters.dt;
        let mb = self
            .world
            .multibody_joints
            .get_multibody_mut(self.tree.mb)
            .expect("multibody");
        mb.mass_matrix_patch_error(dt, &self.world.bodies)
    }

    /// Kinetic plus gravitational potential energy of all bodies (J), from the simulated
    /// body states (height measured from the ground, y = 0).
    pub fn mechanical_energy_j(&self) -> f64 {
        let potential: f64 = self
            .model
            .bodies
            .iter()
            .zip(&self.ws.bs)
            .map(|(b, st)| b.mass_kg * GRAVITY * st.com.y)
            .sum();
        self.kinetic_energy_j() + potential
    }

    /// Kinetic energy of all bodies (J): translation of each centre of mass and rotation
    /// about it, from the generalized velocities.
    pub fn kinetic_energy_j(&self) -> f64 {
        let mut e = 0.0;
        for (b, st) in self.model.bodies.iter().zip(&self.ws.bs) {
            let rm = mat(&st.pose.rotation);
            let i_w = rm * Matrix3::from_diagonal(&b.inertia_kg_m2) * rm.transpose();
            e += 0.5 * b.mass_kg * st.vcom.norm_squared() + 0.5 * st.omega.dot(&(i_w * st.omega));
        }
        e
    }

    /// Whether the swing foot's heel or toe has reached the floor.
    fn swing_foot_down(&self) -> bool {
        let foot = &self.ws.bs[leg_body(self.tree.stance.other(), body::FOOT_R)].pose;
        // In the step-down, reaching floor level is the task: the model has no floor under
        // the swing foot to tell a tap from a step, so how far below it went is a note.
        self.cfg.task.kind != TaskKind::StepDown && self.swing_clearance(foot) <= 0.0
    }

    /// Height (m) of the swing foot's lowest point (heel or toe) above floor level (the
    /// stance foot's floor, or the floor below the box of a step-down), the swing foot at `foot`.
    fn swing_clearance(&self, foot: &Iso) -> f64 {
        self.tree
            .swing_foot_points
            .iter()
            .map(|(p, floor_y)| (foot * nalgebra::Point3::from(*p)).y - floor_y)
            .fold(f64::INFINITY, f64::min)
    }

    /// The stance knee flexion (deg) at which the swing foot's lowest point reaches floor
    /// level in the step-down's quasi-static posture: the knee flexed, pelvis and trunk as the
    /// sagittal reference says, the swing thigh at its lab-frame angle, the centre of mass
    /// over the stance foot (`balance_posture`), the stance foot flat at `stance_foot` (its
    /// pose on the box). Bisection between the start and [`STEP_DOWN_MAX_KNEE_DEG`].
    fn step_down_bottom(
        &self,
        q_start: &[f64; coord::COUNT],
        stance_foot: &Iso,
    ) -> Result<f64, String> {
        let d = std::f64::consts::PI / 180.0;
        let st = self.tree.stance;
        let foot = leg_body(st, body::FOOT_R);
        let swing_foot = leg_body(st.other(), body::FOOT_R);
        let back = &self.model.joints[self.model.joints.len() - 1];
        let (base, _) = self.plan.table.at(self.plan.start_knee_deg);
        // Quasi-static posture at knee flexion `k`, its balance solve started from `q`
        // (continuation from the previous knee angle), and the swing foot's clearance.
        let clearance_at = |k: f64, q: &mut [f64; coord::COUNT]| -> Result<f64, String> {
            let (v, _) = self.plan.table.at(k);
            let (tilt, trunk) = ((v[0] - base[0]) * d, (v[1] - base[1]) * d);
            q[leg_coord(st, coord::KNEE)] = -k * d;
            q[leg_coord(st.other(), coord::HIP_FLEXION)] =
                self.cfg.swing_hip_flexion_deg * d + tilt;
            let lumbar = back.coords_of(&axis_angle(&Vec3::z(), tilt - trunk));
            q[coord::LUMBAR_EXTENSION..coord::LUMBAR_EXTENSION + 3].copy_from_slice(&lumbar);
            balance_posture(self.model, st, q, tilt)?;
            let root = Iso::from_parts(
                nalgebra::Translation3::identity(),
                axis_angle(&Vec3::z(), -tilt),
            );
            let p = self.model.forward_kinematics(&root, q);
            let place = stance_foot * p[foot].inverse();
            Ok(self.swing_clearance(&(place * p[swing_foot])))
        };
        // March down in 2 deg steps to the first posture whose swing foot is at or below
        // floor level, then bisect that step.
        let mut q = *q_start;
        let mut lo = self.plan.start_knee_deg;
        let mut c = clearance_at(lo, &mut q)?;
        let too_high = |k: f64, c: f64| {
            format!(
                "the box is too high: with the stance knee flexed {k:.0} deg the swing foot is still {:.1} cm above floor level (task.step_height_m = {} m; lower it, or let the swing leg reach further: task.swing_hip_flexion_deg, task.swing_knee_flexion_deg)",
                c * 100.0,
                self.cfg.task.step_height_m
            )
        };
        while c > 0.0 {
            let next = lo + 2.0;
            if next > STEP_DOWN_MAX_KNEE_DEG {
                return Err(too_high(lo, c));
            }
            let mut qn = q;
            match clearance_at(next, &mut qn) {
                Ok(cn) if cn > 0.0 => {
                    (lo, q, c) = (next, qn, cn);
                }
                Ok(_) => {
                    let mut hi = next;
                    for _ in 0..40 {
                        let mid = 0.5 * (lo + hi);
                        let mut qm = q;
                        if clearance_at(mid, &mut qm)? > 0.0 {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    return Ok(hi);
                }
                Err(_) => return Err(too_high(lo, c)),
            }
        }
        Ok(lo)
    }

    /// `short_of_depth` for a squat whose knee stayed short of its depth or a step-down whose
    /// swing foot never came down to floor level; `ok` otherwise.
    fn depth_status(&self, tracker: &Tracker) -> Status {
        match depth_shortfall(
            &self.cfg.task,
            tracker.knee_flexion_peak_deg(),
            self.state.min_swing_clearance_m,
        ) {
            Some(what) => Status::ShortOfDepth {
                time_s: self.state.time_s,
                what,
            },
            None => Status::Ok,
        }
    }

    /// The step-down's swing foot at the current state: its lowest clearance above floor
    /// level so far, and the touch that ends the descent (the first time it reaches floor
    /// level during the descent). Nothing for the other tasks.
    fn step_down_events(&mut self) {
        if self.cfg.task.kind != TaskKind::StepDown {
            return;
        }
        let foot = self.ws.bs[leg_body(self.tree.stance.other(), body::FOOT_R)].pose;
        let c = self.swing_clearance(&foot);
        self.state.min_swing_clearance_m = self.state.min_swing_clearance_m.min(c);
        if c <= 0.0 && self.state.touch.is_none() && self.state.time_s < self.cfg.task.descent_s {
            let (k, _, _) = knee_profile(
                &self.cfg.task,
                self.plan.start_knee_deg,
                self.plan.bottom_knee_deg,
                self.state.time_s,
            );
            self.state.touch = Some((self.state.time_s, k));
        }
    }

    /// Height of the step-down's box (m); 0 for the other tasks.
    fn step_height_m(&self) -> f64 {
        if self.cfg.task.kind == TaskKind::StepDown {
            self.cfg.task.step_height_m
        } else {
            0.0
        }
    }

    /// Append the current state to the recorded series, with the measures that are
    /// computed at recorded rows only (usable abduction capacity, effort, saturation).
    fn record(&self, tracker: &mut Tracker, mut m: Metrics, rec: &mut Recording) {
        let (usable, saturated) = self.usable_abduction();
        let mass = self.model.mass_kg();
        m.hip_abductor_usable_capacity_nm_per_kg = usable / mass;
        m.hip_abductor_effort = if usable > 0.0 {
            m.hip_abductor_moment_nm_per_kg * mass / usable
        } else {
            f64::NAN
        };
        m.hip_abductors_saturated = saturated as f64;
        tracker.update_effort(m.hip_abductor_effort);
        rec.series.push(m);
        rec.muscles.push(MuscleSample {
            activation: self.state.activation.clone(),
            force_n: (0..self.state.activation.len())
                .map(|i| self.tension(i))
                .collect(),
        });
        rec.coords.push(self.ws.q);
        rec.poses.push(self.poses());
        rec.ground.push(self.state.ground);
    }

    /// One step `n` (0-based) of the run, its stages in a fixed order: control (when
    /// `control`), activation dynamics, forces, the rapier step, then state, kinematics
    /// and the runaway check at the new time. Returns the metrics at the new state, or
    /// the `diverged` status that ends the run.
    fn step(
        &mut self,
        n: usize,
        control: bool,
        decay: &ActivationDecay,
    ) -> Result<Metrics, Status> {
        if control {
            if let Err(e) = self.control() {
                return Err(Status::Diverged {
                    time_s: self.state.time_s,
                    what: e,
                });
            }
        }
        for (a, &u) in self.state.activation.iter_mut().zip(&self.state.excitation) {
            *a = activation_step_with(*a, u, decay);
        }
        self.apply();
        self.world.step();
        // Time from the step count, not a running sum: 0.02 s, not 0.020000000000000004.
        self.state.time_s = step_time(n + 1, self.cfg.dt_s);
        self.state.steps_taken += 1;
        self.read_state();
        self.kinematics();
        if let Some(what) = self.check_finite() {
            return Err(Status::Diverged {
                time_s: self.state.time_s,
                what,
            });
        }
        Ok(self.metrics())
    }

    /// The end conditions of single-leg stance at the current state, in order: the
    /// centre of pressure (averaged over `cop_len` steps in `cop_window`) left the foot,
    /// the swing foot touched the floor, a joint went past its range. `Status::Ok` if none.
    fn checks(
        &self,
        m: &Metrics,
        excess: (f64, usize),
        cop_window: &mut std::collections::VecDeque<(f64, f64)>,
        cop_len: usize,
    ) -> Status {
        let mut status = Status::Ok;
        cop_window.push_back((m.cop_anterior_mm, m.cop_lateral_mm));
        if cop_window.len() > cop_len {
            cop_window.pop_front();
        }
        if self.state.time_s > 0.1 && cop_window.len() == cop_len {
            let n = cop_window.len() as f64;
            let avg = Metrics {
                cop_anterior_mm: cop_window.iter().map(|c| c.0).sum::<f64>() / n,
                cop_lateral_mm: cop_window.iter().map(|c| c.1).sum::<f64>() / n,
                ..Default::default()
            };
            if !self.cop_inside(&avg) {
                status = Status::LostBalance {
                    time_s: self.state.time_s,
                    what: "centre of pressure left the foot".into(),
                };
            }
        }
        if status == Status::Ok && self.swing_foot_down() {
            status = Status::LostBalance {
                time_s: self.state.time_s,
                what: "the swing foot touched the floor".into(),
            };
        }
        if status == Status::Ok && excess.0 > RANGE_REPORT_DEG {
            // Past its range only the end stop holds the joint, not the muscles: the
            // posture of single-leg stance is lost (a pelvis hanging on the hip's
            // end stop 10 cm down is not a stance that held).
            let lim = &self.model.limits[excess.1];
            status = Status::LostBalance {
                time_s: self.state.time_s,
                what: format!(
                    "{} went past its range ({:.0} to {:.0} deg) by more than {RANGE_REPORT_DEG} deg",
                    crate::model::coord_names()[excess.1],
                    lim.lower_rad.to_degrees(),
                    lim.upper_rad.to_degrees()
                ),
            };
        }
        status
    }

    /// Run to the configured duration.
    pub fn run(mut self) -> RunResult {
        let start = std::time::Instant::now();
        let dt = self.cfg.dt_s;
        let steps = (self.cfg.duration_s / dt).round() as usize;
        let control_every = ((self.cfg.control_period_s / dt).round() as usize).max(1);
        let record_every = ((self.cfg.record_interval_s / dt).round() as usize).max(1);
        let mut rec = Recording::default();
        let mut status = Status::Ok;
        // COP averaged over 50 ms before judging balance.
        let mut cop_window: std::collections::VecDeque<(f64, f64)> = Default::default();
        let cop_len = ((0.05 / dt).round() as usize).max(1);
        let decay = ActivationDecay::new(dt);
        // The state at t = 0 (at rest: the momentum rates are those of a body at rest),
        // which also primes the previous velocities.
        let mut tracker = Tracker::new(dt);
        let m0 = self.metrics();
        tracker.update(&m0, self.glut_med_activation(), self.range_excess());
        self.record(&mut tracker, m0, &mut rec);
        for n in 0..steps {
            let m = match self.step(n, n % control_every == 0, &decay) {
                Ok(m) => m,
                Err(s) => {
                    status = s;
                    break;
                }
            };
            let excess = self.range_excess();
            status = self.checks(&m, excess, &mut cop_window, cop_len);
            self.step_down_events();
            tracker.update(&m, self.glut_med_activation(), excess);
            if (n + 1) % record_every == 0 || status != Status::Ok {
                self.record(&mut tracker, m, &mut rec);
            }
            if status != Status::Ok {
                break;
            }
        }
        let rate = tracker.drop_rate_end(SETTLE_WINDOW_S);
        if status == Status::Ok && rate.abs() > SETTLE_RATE_DEG_PER_S {
            status = Status::StillFalling {
                time_s: self.state.time_s,
                rate_deg_per_s: rate,
            };
        }
        if status == Status::Ok {
            status = self.depth_status(&tracker);
        }
        let mut notes = Vec::new();
        if let Some((excess, c, t)) = tracker.range_excess() {
            // Said once: a run ended by the range already names it.
            if excess > RANGE_REPORT_DEG && !status.detail().contains("past its range") {
                let lim = &self.model.limits[c];
                notes.push(format!(
                    "{} went {excess:.1} deg past its range ({:.0} to {:.0} deg) at {t} s",
                    crate::model::coord_names()[c],
                    lim.lower_rad.to_degrees(),
                    lim.upper_rad.to_degrees()
                ));
            }
        }
        if self.cfg.task.kind == TaskKind::SingleLegSquat {
            let (peak, depth) = (
                tracker.knee_flexion_peak_deg(),
                self.cfg.task.squat_depth_deg,
            );
            if peak > depth + DEPTH_TOLERANCE_DEG {
                notes.push(format!(
                    "the stance knee went to {peak:.1} deg, {:.1} deg past the {depth} deg squat depth (the knee extensors did not stop it in time)",
                    peak - depth
                ));
            }
        }
        if self.state.min_swing_clearance_m < -STEP_TOUCH_TOLERANCE_M {
            notes.push(format!(
                "the swing foot went {:.1} cm below floor level (the model has no floor under it: a person would have put it down)",
                -self.state.min_swing_clearance_m * 100.0
            ));
        }
        let measures = tracker.values(SETTLE_WINDOW_S);
        let wall = start.elapsed().as_secs_f64();
        let Recording {
            series,
            muscles,
            coords,
            poses,
            ground,
        } = rec;
        let t_end = series.last().map(|m| m.time_s).unwrap_or(0.0);
        let from = t_end - self.cfg.steady_window_s;
        // A run that ended early has no steady state: report the state at its end (for
        // `lost_balance`, the moment the centre of pressure left the foot). The t = 0 row
        // is never part of the window.
        let idx: Vec<usize> = if matches!(status, Status::Ok | Status::StillFalling { .. }) {
            (0..series.len())
                .filter(|&i| series[i].time_s > from.max(0.0) + 1e-9)
                .collect()
        } else {
            series.len().checked_sub(1).into_iter().collect()
        };
        let steady = mean_metrics(&idx.iter().map(|&i| &series[i]).collect::<Vec<_>>());
        let nm = self.state.activation.len();
        let n = idx.len().max(1) as f64;
        let steady_muscles = MuscleSample {
            activation: (0..nm)
                .map(|k| idx.iter().map(|&i| muscles[i].activation[k]).sum::<f64>() / n)
                .collect(),
            force_n: (0..nm)
                .map(|k| idx.iter().map(|&i| muscles[i].force_n[k]).sum::<f64>() / n)
                .collect(),
        };
        RunResult {
            status,
            stance_side: self.tree.stance,
            series,
            muscles,
            coords,
            poses,
            ground,
            steady,
            steady_muscles,
            measures,
            notes,
            steps: self.state.steps_taken,
            wall_time_s: wall,
        }
    }
}

/// Why a task did not reach its depth, or `None` if it did (or has none): a squat whose
/// peak stance knee flexion `knee_peak_deg` stayed more than [`DEPTH_TOLERANCE_DEG`] short of
/// `task.squat_depth_deg`; a step-down whose swing foot's lowest clearance above floor level,
/// `min_clearance_m`, stayed above [`STEP_TOUCH_TOLERANCE_M`].
pub fn depth_shortfall(task: &Task, knee_peak_deg: f64, min_clearance_m: f64) -> Option<String> {
    match task.kind {
        TaskKind::SingleLegStance => None,
        TaskKind::SingleLegSquat => {
            let depth = task.squat_depth_deg;
            (knee_peak_deg < depth - DEPTH_TOLERANCE_DEG).then(|| {
                format!(
                    "the stance knee reached {knee_peak_deg:.1} deg of the {depth} deg squat depth (within {DEPTH_TOLERANCE_DEG} deg counts)"
                )
            })
        }
        TaskKind::StepDown => (min_clearance_m > STEP_TOUCH_TOLERANCE_M).then(|| {
            format!(
                "the swing foot came down only to {:.1} cm above floor level (within {:.0} cm counts)",
                min_clearance_m * 100.0,
                STEP_TOUCH_TOLERANCE_M * 100.0
            )
        }),
    }
}

/// The point of the stance foot the whole-body centre of mass is held above (foot frame, m):
/// the middle of the support polygon, 3 cm toward the heel.
fn foot_centre_local(model: &Model, stance: Side) -> Vec3 {
    Vec3::new(
        0.5 * (FOOT_X_RANGE_M.0 + FOOT_X_RANGE_M.1) - 0.03,
        0.0,
        stance.sign() * 0.5 * (FOOT_Z_RANGE_M.0 + FOOT_Z_RANGE_M.1),
    ) * model.length_scale
}

/// Solve the stance hip (3 coordinates), ankle and subtalar of `q` (the other coordinates
/// kept) so that, with the pelvis tilted anteriorly by `tilt_rad` about the lab's
/// medio-lateral axis and otherwise level, the stance foot is flat and the whole-body centre
/// of mass is above the foot centre (Newton on finite differences).
fn balance_posture(
    model: &Model,
    stance: Side,
    q: &mut [f64; coord::COUNT],
    tilt_rad: f64,
) -> Result<(), String> {
    let foot = leg_body(stance, body::FOOT_R);
    let foot_target =
        model.forward_kinematics(&Iso::identity(), &[0.0; coord::COUNT])[foot].rotation;
    let centre_local = foot_centre_local(model, stance);
    // Anterior tilt turns the pelvis's +x (forward) axis down: a rotation about -z.
    let root = if tilt_rad == 0.0 {
        Iso::identity()
    } else {
        Iso::from_parts(
            nalgebra::Translation3::identity(),
            axis_angle(&Vec3::z(), -tilt_rad),
        )
    };
    // Newton solve: stance hip (3), ankle, subtalar so that the foot is flat and the
    // centre of mass is above the foot centre, with the pelvis level.
    let unknowns = [
        leg_coord(stance, coord::HIP_FLEXION),
        leg_coord(stance, coord::HIP_ADDUCTION),
        leg_coord(stance, coord::HIP_ROTATION),
        leg_coord(stance, coord::ANKLE),
        leg_coord(stance, coord::SUBTALAR),
    ];
    let residual = |q: &[f64; coord::COUNT]| -> [f64; 5] {
        let p = model.forward_kinematics(&root, q);
        let err = (p[foot].rotation * foot_target.inverse()).scaled_axis();
        let com = com_of(model, &p);
        let c = p[foot] * nalgebra::Point3::from(centre_local);
        [err.x, err.y, err.z, com.x - c.x, com.z - c.z]
    };
    for _ in 0..30 {
        let r0 = residual(q);
        if r0.iter().map(|v| v * v).sum::<f64>().sqrt() < 1e-12 {
            break;
        }
        let mut jac = nalgebra::SMatrix::<f64, 5, 5>::zeros();
        for (j, &u) in unknowns.iter().enumerate() {
            let mut qp = *q;
            qp[u] += 1e-7;
            let r1 = residual(&qp);
            for i in 0..5 {
                jac[(i, j)] = (r1[i] - r0[i]) / 1e-7;
            }
        }
        let dx = jac
            .lu()
            .solve(&nalgebra::SVector::<f64, 5>::from_row_slice(&r0))
            .ok_or("initial posture: singular Jacobian")?;
        for (j, &u) in unknowns.iter().enumerate() {
            q[u] -= dx[j];
        }
    }
    if residual(q).iter().any(|v| v.abs() > 1e-6) {
        return Err("could not find a balanced initial posture".into());
    }
    Ok(())
}

/// Knee frontal plane projection angle (deg) and medial knee displacement (m) of the
/// `side` leg, from the hip, knee and ankle joint centres (world, m) projected on the
/// frontal (y-z) plane as a 2D video camera would see them. The displacement is the
/// signed distance of the knee from the hip-ankle line, positive toward the body's
/// midline (medial: -z for the right leg, +z for the left); the FPPA is the angle between
/// thigh (hip-knee) and shank (knee-ankle) lines, with the same sign (positive valgus).
pub fn frontal_knee(hip: Vec3, knee: Vec3, ankle: Vec3, side: Side) -> (f64, f64) {
    let hk = nalgebra::Vector2::new(knee.z - hip.z, knee.y - hip.y);
    let ka = nalgebra::Vector2::new(ankle.z - knee.z, ankle.y - knee.y);
    let ha = nalgebra::Vector2::new(ankle.z - hip.z, ankle.y - hip.y);
    // Point of the hip-ankle line at the knee's height, then the horizontal offset,
    // converted to the perpendicular distance.
    let along = (knee.y - hip.y) / ha.y;
    let z_line = hip.z + along * ha.x;
    let medial = (z_line - knee.z) * side.sign() * (ha.y.abs() / ha.norm());
    let angle = (hk.x * ka.y - hk.y * ka.x)
        .atan2(hk.dot(&ka))
        .abs()
        .to_degrees();
    (angle * medial.signum(), medial)
}

/// A right-foot point `p` (m) on the `side` foot: z mirrored for the left.
fn mirror_z(p: Vec3, side: Side) -> Vec3 {
    match side {
        Side::Right => p,
        Side::Left => crate::model::mirror_point(p),
    }
}

/// Time (s) after `n` steps of `dt` (s): `n / (1 / dt)` when the step rate is a whole
/// number of steps per second, so that times print as the decimals they are (959 steps
/// of 2 ms: 1.918 s, where `959.0 * 0.002` gives 1.9180000000000001).
pub fn step_time(n: usize, dt: f64) -> f64 {
    let rate = 1.0 / dt;
    if (rate - rate.round()).abs() < 1e-9 * rate {
        n as f64 / rate.round()
    } else {
        n as f64 * dt
    }
}

/// Whole-body centre of mass (m) at body poses `p`.
pub fn com_of(model: &Model, p: &[Iso; body::COUNT]) -> Vec3 {
    let mut c = Vec3::zeros();
    for (i, b) in model.bodies.iter().enumerate() {
        c += (p[i] * nalgebra::Point3::from(b.com_m)).coords * b.mass_kg;
    }
    c / model.mass_kg()
}

fn com_of_states(model: &Model, s: &[BodyState; body::COUNT]) -> Vec3 {
    let mut c = Vec3::zeros();
    for (i, b) in model.bodies.iter().enumerate() {
        c += s[i].com * b.mass_kg;
    }
    c / model.mass_kg()
}

fn mean_metrics(rows: &[&Metrics]) -> Metrics {
    let n = rows.len().max(1) as f64;
    let mut m = Metrics::default();
    macro_rules! avg {
        ($($f:ident),*) => { $( m.$f = rows.iter().map(|r| r.$f).sum::<f64>() / n; )* };
    }
    avg!(
        time_s,
        pelvic_drop_deg,
        pelvic_drop_cm,
        hip_adduction_deg,
        hip_internal_rotation_deg,
        hip_flexion_deg,
        knee_flexion_deg,
        knee_fppa_deg,
        knee_medial_shift_mm,
        ankle_dorsiflexion_deg,
        subtalar_inversion_deg,
        trunk_lean_deg,
        hip_abductor_moment_nm_per_kg,
        hip_abductor_capacity_nm_per_kg,
        hip_contact_force_bw,
        hip_contact_angle_deg,
        grf_vertical_bw,
        cop_anterior_mm,
        cop_lateral_mm,
        lumbar_reserve_nm,
        swing_reserve_nm,
        hip_abduction_shortfall_nm,
        hip_abductor_usable_capacity_nm_per_kg,
        hip_abductor_effort,
        hip_abductors_saturated
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_short_of_its_depth_says_how_far_it_got() {
        let squat = Task {
            kind: TaskKind::SingleLegSquat,
            ..Task::stance()
        };
        assert_eq!(depth_shortfall(&squat, 55.0, f64::INFINITY), None);
        let why = depth_shortfall(&squat, 48.04, f64::INFINITY).unwrap();
        assert_eq!(
            why,
            "the stance knee reached 48.0 deg of the 60 deg squat depth (within 5 deg counts)"
        );
        let step = Task {
            kind: TaskKind::StepDown,
            ..Task::stance()
        };
        assert_eq!(depth_shortfall(&step, 80.0, 0.019), None);
        assert_eq!(depth_shortfall(&step, 80.0, -0.05), None);
        assert!(depth_shortfall(&step, 80.0, 0.031)
            .unwrap()
            .starts_with("the swing foot came down only to 3.1 cm above floor level"));
        assert_eq!(depth_shortfall(&Task::stance(), 0.0, 1.0), None);
        assert_eq!(
            Status::ShortOfDepth {
                time_s: 1.0,
                what: why
            }
            .label(),
            "short_of_depth"
        );
    }

    #[test]
    fn frontal_knee_signs_valgus_positive_for_either_leg() {
        // Right leg: midline is -z. Knee 2 cm toward the midline of a vertical hip-ankle
        // line 0.8 m long, knee at mid-height: valgus.
        let (hip, ankle) = (Vec3::new(0.0, 0.9, 0.1), Vec3::new(0.0, 0.1, 0.1));
        let knee = Vec3::new(0.0, 0.5, 0.08);
        let (fppa, medial) = frontal_knee(hip, knee, ankle, Side::Right);
        assert!((medial - 0.02).abs() < 1e-12, "{medial}");
        let expected = 2.0 * (0.02f64 / 0.4).atan().to_degrees();
        assert!((fppa - expected).abs() < 1e-9, "{fppa} vs {expected}");
        // Mirror for the left leg: still valgus.
        let m = |v: Vec3| Vec3::new(v.x, v.y, -v.z);
        let (fl, ml) = frontal_knee(m(hip), m(knee), m(ankle), Side::Left);
        assert!((fl - fppa).abs() < 1e-12 && (ml - medial).abs() < 1e-12);
        // Knee lateral of the line: varus, negative.
        let (fv, mv) = frontal_knee(hip, Vec3::new(0.0, 0.5, 0.12), ankle, Side::Right);
        assert!(fv < 0.0 && mv < 0.0);
    }

    use std::collections::BTreeMap;

    /// The warm-started static-optimisation solver against Clarabel (the interior-point
    /// solver it replaced) on the problems the stance controller actually poses: full
    /// strength, and weak abductors where activations saturate and residuals appear.
    #[test]
    fn static_optimisation_matches_clarabel_on_stance_problems() {
        for abductors in [1.0, 0.3] {
            let strength = BTreeMap::from([("hip_abductors".to_string(), abductors)]);
            let model = Model::gait2392(crate::model::Subject::GENERIC, &strength).unwrap();
            let mut sim = StanceSim::new(&model, StanceConfig::default()).unwrap();
            let dt = sim.cfg.dt_s;
            let (mut worst_a, mut worst_r) = (0.0f64, 0.0f64);
            for step in 0..300 {
                sim.control().unwrap();
                if step % 10 == 0 {
                    let dense = sim.ctrl.qp_cols.to_dense(sim.tree.qp_rows.len());
                    let p = qp::Problem {
                        a: &dense,
                        rows: sim.tree.qp_rows.len(),
                        muscles: model.muscles.len(),
                        reserves: &sim.tree.reserve_rows,
                        b: &sim.ctrl.qp_b,
                        min_activation: crate::muscle::MIN_ACTIVATION,
                    };
                    let reference = qp::reference::solve(&p).expect("clarabel");
                    let fast = qp::Solution {
                        activations: sim.state.excitation.clone(),
                        reserves: sim
                            .tree
                            .reserve_coords
                            .iter()
                            .map(|&c| sim.state.reserve_torque[c])
                            .collect(),
                    };
                    let (da, dr) = qp::reference::max_difference(&fast, &reference);
                    worst_a = worst_a.max(da);
                    worst_r = worst_r.max(dr);
                    let (f, fr) = (
                        qp::reference::objective(&p, &fast),
                        qp::reference::objective(&p, &reference),
                    );
                    let (ea, er) = qp::reference::optimality_error(&p, &fast);
                    assert!(
                        ea < 1e-3 && er < 1e-6,
                        "step {step}: optimality {ea:e}, {er:e}"
                    );
                    assert!(f <= fr * (1.0 + 1e-12), "step {step}: {f} vs Clarabel {fr}");
                }
                for m in 0..sim.state.activation.len() {
                    sim.state.activation[m] = crate::muscle::activation_step(
                        sim.state.activation[m],
                        sim.state.excitation[m],
                        dt,
                    );
                }
                sim.apply();
                sim.world.step();
                sim.state.time_s += dt;
                sim.read_state();
                sim.kinematics();
                sim.metrics();
            }
            // Bounded by Clarabel's own accuracy (see qp::tests).
            eprintln!("abductors {abductors}: |da| <= {worst_a:e}, |dr| <= {worst_r:e} N m");
            assert!(
                worst_a < 1e-2 && worst_r < 1e-2,
                "abductors {abductors}: activations {worst_a:e}, reserves {worst_r:e} N m"
            );
        }
    }
}
