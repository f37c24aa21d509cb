//! Tasks: what the person does. A task gives the start posture's settings, the reference
//! trajectory `q*(t)`, `q̇*(t)` of the sagittal coordinates it prescribes, its phases and its
//! end conditions. The controller (`sim`) tracks the reference through the muscles; the
//! frontal and transverse planes are never prescribed: the controller asks only for a level
//! pelvis and a neutral hip, and whatever the abductors cannot hold shows up as pelvic drop,
//! hip adduction and rotation and knee valgus.
//!
//! The sagittal reference of the squat and the step-down (pelvic tilt and trunk flexion as
//! functions of knee flexion) and each task's swing-leg posture and pace are data files with
//! their sources: `data/tasks/single_leg_squat_reference.csv`, `data/tasks/protocols.csv`.

/// Which task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Quiet single-leg stance (the Trendelenburg test): every target held.
    SingleLegStance,
    /// Single-leg squat: the stance knee bends to `squat_depth_deg` and back.
    SingleLegSquat,
    /// Step-down: standing on a box, the stance leg lowers the body until the swing heel
    /// reaches floor level, then rises.
    StepDown,
}

impl TaskKind {
    /// Scenario names (`task.kind`).
    pub const NAMES: [&'static str; 3] = ["single_leg_stance", "single_leg_squat", "step_down"];

    /// From a `task.kind` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "single_leg_stance" => Some(Self::SingleLegStance),
            "single_leg_squat" => Some(Self::SingleLegSquat),
            "step_down" => Some(Self::StepDown),
            _ => None,
        }
    }

    /// The `task.kind` value.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether the task moves (a squat or a step-down) rather than holds a posture.
    pub fn is_dynamic(self) -> bool {
        self != Self::SingleLegStance
    }
}

/// Direction of the step-down: where the swing leg reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDirection {
    /// The swing leg reaches forward, in front of the box.
    Forward,
    /// The swing leg hangs beside the box.
    Lateral,
}

impl StepDirection {
    /// Scenario names (`task.step_direction`).
    pub const NAMES: [&'static str; 2] = ["forward", "lateral"];

    /// From a `task.step_direction` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "forward" => Some(Self::Forward),
            "lateral" => Some(Self::Lateral),
            _ => None,
        }
    }
}

/// A task's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Which task.
    pub kind: TaskKind,
    /// Stance knee flexion at the bottom of the squat (deg).
    pub squat_depth_deg: f64,
    /// Duration of the descent (s).
    pub descent_s: f64,
    /// Duration of the hold at the bottom (s).
    pub hold_s: f64,
    /// Duration of the ascent (s).
    pub ascent_s: f64,
    /// Height of the box of the step-down (m).
    pub step_height_m: f64,
    /// Where the swing leg reaches in the step-down.
    pub step_direction: StepDirection,
}

impl Task {
    /// Quiet single-leg stance.
    pub fn stance() -> Self {
        Self {
            kind: TaskKind::SingleLegStance,
            squat_depth_deg: 60.0,
            descent_s: 1.0,
            hold_s: 0.0,
            ascent_s: 1.0,
            step_height_m: 0.2,
            step_direction: StepDirection::Forward,
        }
    }

    /// Time from the start to the end of the ascent (s); 0 for stance.
    pub fn movement_s(&self) -> f64 {
        if self.kind.is_dynamic() {
            self.descent_s + self.hold_s + self.ascent_s
        } else {
            0.0
        }
    }
}

/// Phase of a dynamic task at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Lowering the body.
    Descent,
    /// Held at the bottom.
    Hold,
    /// Rising.
    Ascent,
    /// Standing again after the ascent (and the whole of single-leg stance).
    Stand,
}

/// Minimum-jerk blend `s(τ) = 10τ³ - 15τ⁴ + 6τ⁵` of `τ` in 0..1 and its derivative
/// `ds/dτ` (Flash & Hogan 1985: the smooth point-to-point profile of voluntary movement).
pub fn min_jerk(tau: f64) -> (f64, f64) {
    let t = tau.clamp(0.0, 1.0);
    let t2 = t * t;
    let s = t2 * t * (10.0 - 15.0 * t + 6.0 * t2);
    let ds = 30.0 * t2 * (1.0 - 2.0 * t + t2);
    (s, ds)
}

/// Stance knee flexion of a dynamic task at time `t` (s): minimum-jerk from `start_deg` to
/// `bottom_deg` over the descent, held, back over the ascent, then held at the start.
/// Returns (flexion deg, rate deg/s, phase).
pub fn knee_profile(task: &Task, start_deg: f64, bottom_deg: f64, t: f64) -> (f64, f64, Phase) {
    let range = bottom_deg - start_deg;
    let (d, h, a) = (task.descent_s, task.hold_s, task.ascent_s);
    if t < d {
        let (s, ds) = min_jerk(t / d);
        (start_deg + range * s, range * ds / d, Phase::Descent)
    } else if t < d + h {
        (bottom_deg, 0.0, Phase::Hold)
    } else if t < d + h + a {
        let (s, ds) = min_jerk((t - d - h) / a);
        (bottom_deg - range * s, -range * ds / a, Phase::Ascent)
    } else {
        (start_deg, 0.0, Phase::Stand)
    }
}

/// The sagittal reference of the squat and the step-down: pelvic anterior tilt and trunk
/// flexion (deg) against stance knee flexion (deg), from
/// `data/tasks/single_leg_squat_reference.csv` (rows in increasing knee flexion).
#[derive(Debug, Clone)]
pub struct SagittalTable {
    rows: Vec<[f64; 3]>,
}

const SQUAT_REFERENCE_CSV: &str = include_str!("../data/tasks/single_leg_squat_reference.csv");
const PROTOCOLS_CSV: &str = include_str!("../data/tasks/protocols.csv");

fn data_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(str::trim).collect())
}

impl SagittalTable {
    /// The shipped table.
    pub fn squat() -> Self {
        let rows: Vec<[f64; 3]> = data_rows(SQUAT_REFERENCE_CSV)
            .map(|f| {
                let v = |i: usize| f[i].parse::<f64>().expect("number in the squat reference");
                [v(0), v(1), v(2)]
            })
            .collect();
        assert!(rows.len() >= 2 && rows.windows(2).all(|w| w[1][0] > w[0][0]));
        Self { rows }
    }

    /// (pelvic anterior tilt, trunk flexion) in deg at knee flexion `knee_deg`, linear between
    /// rows and held at the end rows outside them (no data there, none invented); and their
    /// slopes (deg per deg of knee, zero outside).
    pub fn at(&self, knee_deg: f64) -> ([f64; 2], [f64; 2]) {
        let r = &self.rows;
        let (first, last) = (r[0], r[r.len() - 1]);
        if knee_deg <= first[0] {
            return ([first[1], first[2]], [0.0, 0.0]);
        }
        if knee_deg >= last[0] {
            return ([last[1], last[2]], [0.0, 0.0]);
        }
        let i = r
            .windows(2)
            .position(|w| knee_deg < w[1][0])
            .unwrap_or(r.len() - 2);
        let (a, b) = (r[i], r[i + 1]);
        let dk = b[0] - a[0];
        let slope = [(b[1] - a[1]) / dk, (b[2] - a[2]) / dk];
        let x = knee_deg - a[0];
        ([a[1] + slope[0] * x, a[2] + slope[1] * x], slope)
    }
}

/// A task's protocol defaults (`data/tasks/protocols.csv`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Protocol {
    /// Swing hip flexion (deg): lab frame for the dynamic tasks, pelvis frame for stance.
    pub swing_hip_flexion_deg: f64,
    /// Swing knee flexion (deg).
    pub swing_knee_flexion_deg: f64,
    /// Descent (s).
    pub descent_s: f64,
    /// Hold (s).
    pub hold_s: f64,
    /// Ascent (s).
    pub ascent_s: f64,
}

/// The protocol row of a task (`step_down_forward`/`step_down_lateral` by direction).
pub fn protocol(kind: TaskKind, direction: StepDirection) -> Protocol {
    let row = match (kind, direction) {
        (TaskKind::StepDown, StepDirection::Forward) => "step_down_forward",
        (TaskKind::StepDown, StepDirection::Lateral) => "step_down_lateral",
        (k, _) => k.name(),
    };
    data_rows(PROTOCOLS_CSV)
        .find(|f| f[0] == row)
        .map(|f| {
            let v = |i: usize| f[i].parse::<f64>().expect("number in protocols.csv");
            Protocol {
                swing_hip_flexion_deg: v(1),
                swing_knee_flexion_deg: v(2),
                descent_s: v(3),
                hold_s: v(4),
                ascent_s: v(5),
            }
        })
        .unwrap_or_else(|| panic!("data/tasks/protocols.csv has no row {row}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_jerk_starts_and_ends_at_rest() {
        assert_eq!(min_jerk(0.0), (0.0, 0.0));
        assert_eq!(min_jerk(1.0), (1.0, 0.0));
        let (s, ds) = min_jerk(0.5);
        assert!((s - 0.5).abs() < 1e-15 && (ds - 1.875).abs() < 1e-12);
        // The derivative is the slope of s.
        let h = 1e-6;
        for tau in [0.1, 0.3, 0.7, 0.9] {
            let num = (min_jerk(tau + h).0 - min_jerk(tau - h).0) / (2.0 * h);
            assert!((num - min_jerk(tau).1).abs() < 1e-6);
        }
    }

    #[test]
    fn knee_profile_goes_down_and_back() {
        let t = Task {
            kind: TaskKind::SingleLegSquat,
            hold_s: 0.5,
            ..Task::stance()
        };
        assert_eq!(knee_profile(&t, 10.0, 60.0, 0.0).0, 10.0);
        assert_eq!(knee_profile(&t, 10.0, 60.0, 1.2), (60.0, 0.0, Phase::Hold));
        assert_eq!(knee_profile(&t, 10.0, 60.0, 2.5).0, 10.0);
        assert_eq!(knee_profile(&t, 10.0, 60.0, 9.0).2, Phase::Stand);
        assert!(knee_profile(&t, 10.0, 60.0, 2.0).1 < 0.0);
    }

    #[test]
    fn shipped_tables_read() {
        let tab = SagittalTable::squat();
        let (v, _) = tab.at(60.0);
        assert!((v[0] - 27.5).abs() < 1e-12 && (v[1] - 24.9).abs() < 1e-12);
        assert_eq!(tab.at(0.0).0, [0.0, 0.0]);
        assert_eq!(tab.at(80.0), ([27.5, 24.9], [0.0, 0.0]));
        for k in TaskKind::NAMES {
            let kind = TaskKind::parse(k).unwrap();
            for d in [StepDirection::Forward, StepDirection::Lateral] {
                let p = protocol(kind, d);
                assert!(p.swing_knee_flexion_deg >= 0.0);
            }
        }
    }
}
