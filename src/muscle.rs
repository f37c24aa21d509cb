//! Hill-type muscle: the De Groote et al. (2016) normalised curves, rigid tendon,
//! constant-thickness pennation, first-order activation dynamics.
//!
//! De Groote F, Kinney AL, Rao AV, Fregly BJ (2016) Evaluation of direct collocation
//! optimal control problem formulations for solving the muscle redundancy problem.
//! Ann Biomed Eng 44:2922-2936. Constants below are the paper's (and OpenSim's
//! `DeGrooteFregly2016Muscle`).
//!
//! Departures from the paper, as OpenSim's DeGrooteFregly2016Muscle lists its own:
//! - **Rigid tendon.** Fibre length is path length minus tendon slack length. The
//!   paper's tendon stretches 4.9 % of its slack length at max isometric force, so the
//!   fibre-length error at full force is `0.049 * l_ts / l_opt` optimal lengths:
//!   7 % for gluteus medius 1 (gait2392), 22 % for TFL, and up to 60 % for the
//!   long-tendon ankle muscles (soleus 25 %, medial gastrocnemius 32 %). Errors scale
//!   with force, so they are smallest for the lightly loaded muscles. See docs/validation.md.
//! - The passive curve is shifted so that it is zero at 0.2 optimal lengths, as in OpenSim.
//! - No fibre damping.

/// Active force-length constants (b1i, b2i, b3i, b4i), De Groote 2016 Table S1.
const B: [[f64; 4]; 3] = [
    [0.815, 1.055, 0.162, 0.063],
    [0.433, 0.717, -0.030, 0.200],
    [0.100, 1.000, 0.354, 0.000],
];
/// Passive force-length shape factor kPE and strain at one normalised force e0.
const K_PE: f64 = 4.0;
const E0: f64 = 0.6;
/// Minimum normalised fibre length where the passive curve is zero (OpenSim); enters
/// the curve through `PASSIVE_OFFSET`.
#[cfg_attr(not(test), allow(dead_code))]
const L_MIN: f64 = 0.2;
/// Force-velocity constants d1..d4 (d1 = -0.318 is the paper's fit, not 1/pi).
#[allow(clippy::approx_constant)]
const D: [f64; 4] = [-0.318, -8.149, -0.374, 0.886];

/// Active force-length multiplier at normalised fibre length `l` (fibre / optimal).
pub fn active_force_length(l: f64) -> f64 {
    B.iter()
        .map(|b| {
            let s = b[2] + b[3] * l;
            b[0] * (-0.5 * (l - b[1]).powi(2) / (s * s)).exp()
        })
        .sum()
}

/// `exp(K_PE (L_MIN - 1) / E0)`, the passive curve's offset, and `exp(K_PE) - offset`, its
/// scale: constants, written out (`exp` is not `const`) so that the curve costs one `exp`
/// per call instead of three. The test `passive_constants_are_the_computed_values`
/// checks that they are the bit-exact values of the expressions.
const PASSIVE_OFFSET: f64 = 0.004827949993831437;
const PASSIVE_SCALE: f64 = 54.593322083150404;

/// Passive force-length multiplier at normalised fibre length `l`.
pub fn passive_force_length(l: f64) -> f64 {
    let v = ((K_PE * (l - 1.0) / E0).exp() - PASSIVE_OFFSET) / PASSIVE_SCALE;
    v.max(0.0)
}

/// Force-velocity multiplier at normalised fibre velocity `v` (lengthening positive,
/// in units of max contraction velocity: -1 is maximal shortening).
pub fn force_velocity(v: f64) -> f64 {
    let x = D[1] * v + D[2];
    D[0] * (x + (x * x + 1.0).sqrt()).ln() + D[3]
}

/// Tendon stiffness constant kT and offset c3 of the De Groote tendon curve
/// `fT = c1 exp(kT (lT - c2)) - c3`.
const K_T: f64 = 35.0;
const C3_T: f64 = 0.25;

/// Time constant (s) of the lag between musculotendon and fibre velocity that an elastic
/// tendon introduces: the fibre's force-velocity damping `c` in series with the tendon
/// stiffness `k` (De Groote tendon curve at the current force) is a Maxwell element with
/// time constant `c / k`. hipdrop keeps the tendon rigid for length but filters the fibre
/// velocity through this lag; without it the rigid-tendon force-velocity curve acts as
/// an instantaneous stiff damper that an explicit step cannot integrate on light segments
/// (RAPIER_NOTES.md). Returns 0 when the muscle is slack.
pub fn tendon_velocity_lag_s(p: &MuscleParams, activation: f64, state: &FiberState) -> f64 {
    let lopt = p.optimal_fiber_length_m;
    let vmax = p.max_contraction_velocity_lopt_per_s * lopt;
    let x = D[1] * state.norm_velocity.clamp(-1.0, 1.0) + D[2];
    let dfv = (D[0] * D[1] / (x * x + 1.0).sqrt()).abs();
    let c = activation
        * p.max_isometric_force_n
        * state.active_force_length
        * dfv
        * state.cos_pennation.powi(2)
        / vmax;
    let ft = (state.passive_force_n + activation * state.active_force_per_activation_n.max(0.0))
        / p.max_isometric_force_n.max(1e-9);
    let k = K_T * (ft + C3_T) * p.max_isometric_force_n / p.tendon_slack_length_m;
    if k > 0.0 {
        c / k
    } else {
        0.0
    }
}

/// Activation and deactivation time constants (s): 10 / 40 ms, the values of
/// Thelen 2003 used by MuJoCo and MyoSuite (LITERATURE.md, muscle model).
pub const TAU_ACTIVATION_S: f64 = 0.010;
/// Deactivation time constant (s).
pub const TAU_DEACTIVATION_S: f64 = 0.040;
/// Lower bound of activation (OpenSim's default minimum activation is 0.01).
pub const MIN_ACTIVATION: f64 = 0.01;

/// Advance activation `a` toward excitation `u` over `dt` seconds (first-order dynamics,
/// exact for a constant time constant over the step, so it is stable for any `dt`).
pub fn activation_step(a: f64, u: f64, dt: f64) -> f64 {
    activation_step_with(a, u, &ActivationDecay::new(dt))
}

/// The two decay factors of [`activation_step`] over one step, `exp(-dt / tau)` for
/// activation and deactivation: they depend only on `dt`, so a loop computes them once
/// instead of one `exp` per muscle per step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivationDecay {
    rise: f64,
    fall: f64,
}

impl ActivationDecay {
    /// Decay factors for a step of `dt` seconds.
    pub fn new(dt: f64) -> Self {
        Self {
            rise: (-dt / TAU_ACTIVATION_S).exp(),
            fall: (-dt / TAU_DEACTIVATION_S).exp(),
        }
    }
}

/// [`activation_step`] with the decay factors of its step computed beforehand (same result).
pub fn activation_step_with(a: f64, u: f64, decay: &ActivationDecay) -> f64 {
    let keep = if u > a { decay.rise } else { decay.fall };
    let next = u + (a - u) * keep;
    next.clamp(MIN_ACTIVATION, 1.0)
}

/// Parameters of one muscle (already scaled to the subject and by strength).
#[derive(Debug, Clone, PartialEq)]
pub struct MuscleParams {
    /// Maximum isometric force (N), including the strength factor.
    pub max_isometric_force_n: f64,
    /// Optimal fibre length (m).
    pub optimal_fiber_length_m: f64,
    /// Tendon slack length (m).
    pub tendon_slack_length_m: f64,
    /// Pennation angle at optimal fibre length (rad).
    pub pennation_at_optimal_rad: f64,
    /// Maximum contraction velocity (optimal fibre lengths per second).
    pub max_contraction_velocity_lopt_per_s: f64,
}

/// Fibre state computed from the path length and lengthening velocity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FiberState {
    /// Normalised fibre length (fibre / optimal).
    pub norm_length: f64,
    /// Normalised fibre velocity (max contraction velocities; lengthening positive).
    pub norm_velocity: f64,
    /// cos of the pennation angle.
    pub cos_pennation: f64,
    /// Tendon force per unit activation (N): `F_iso * fL * fV * cos(alpha)`.
    pub active_force_per_activation_n: f64,
    /// Passive tendon force (N): `F_iso * fPE * cos(alpha)`.
    pub passive_force_n: f64,
    /// Active force-length multiplier `fL` at `norm_length` (kept so that it is not
    /// evaluated twice per step).
    pub active_force_length: f64,
}

impl MuscleParams {
    /// Fibre kinematics and force multipliers for musculotendon length `lmt` (m) and
    /// lengthening velocity `vmt` (m/s), with a rigid tendon.
    pub fn fiber_state(&self, lmt: f64, vmt: f64) -> FiberState {
        self.fiber_state_with_thickness(self.fiber_thickness_m(), lmt, vmt)
    }

    /// Fibre thickness (m), constant over the motion: `l_opt sin(alpha_opt)`.
    pub fn fiber_thickness_m(&self) -> f64 {
        self.optimal_fiber_length_m * self.pennation_at_optimal_rad.sin()
    }

    /// [`Self::fiber_state`] with the fibre thickness ([`Self::fiber_thickness_m`])
    /// computed beforehand: a simulation caches it and saves a `sin` per muscle per step.
    pub fn fiber_state_with_thickness(&self, h: f64, lmt: f64, vmt: f64) -> FiberState {
        let lopt = self.optimal_fiber_length_m;
        let along = (lmt - self.tendon_slack_length_m).max(0.05 * lopt);
        let lm = (along * along + h * h).sqrt();
        let cos_a = along / lm;
        let norm_length = lm / lopt;
        let norm_velocity = vmt * cos_a / (self.max_contraction_velocity_lopt_per_s * lopt);
        let f = self.max_isometric_force_n;
        let fl = active_force_length(norm_length);
        FiberState {
            norm_length,
            norm_velocity,
            cos_pennation: cos_a,
            active_force_per_activation_n: f
                * fl
                * force_velocity(norm_velocity.clamp(-1.0, 1.0))
                * cos_a,
            passive_force_n: f * passive_force_length(norm_length) * cos_a,
            active_force_length: fl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Key points of the curves, De Groote 2016 (Fig. 1) and OpenSim's
    // testDeGrooteFregly2016Muscle.
    #[test]
    fn curve_key_points() {
        assert!((active_force_length(1.0) - 1.0).abs() < 0.01);
        assert!(active_force_length(0.4) < 0.1);
        assert!(active_force_length(1.8) < 0.1);
        assert!((force_velocity(0.0) - 1.0).abs() < 0.01);
        assert!(force_velocity(-1.0).abs() < 0.02);
        assert!(force_velocity(1.0) > 1.35 && force_velocity(1.0) < 1.8);
        assert!(passive_force_length(1.0) < 0.02);
        assert!((passive_force_length(1.6) - 1.0).abs() < 0.01);
        assert_eq!(passive_force_length(0.1), 0.0);
    }

    #[test]
    fn curves_are_monotone_where_they_should_be() {
        let mut prev = force_velocity(-1.0);
        for i in 1..=200 {
            let v = -1.0 + i as f64 * 0.01;
            let f = force_velocity(v);
            assert!(f > prev);
            prev = f;
        }
        let mut prev = passive_force_length(0.9);
        for i in 1..=100 {
            let f = passive_force_length(0.9 + i as f64 * 0.01);
            assert!(f > prev);
            prev = f;
        }
    }

    #[test]
    fn passive_constants_are_the_computed_values() {
        let offset = (K_PE * (L_MIN - 1.0) / E0).exp();
        assert_eq!(PASSIVE_OFFSET.to_bits(), offset.to_bits());
        assert_eq!(PASSIVE_SCALE.to_bits(), (K_PE.exp() - offset).to_bits());
    }

    #[test]
    fn precomputed_decays_and_thickness_change_nothing() {
        let decay = ActivationDecay::new(0.002);
        for (a, u) in [(0.1, 1.0), (1.0, 0.1), (0.3, 0.3), (0.5, 0.0)] {
            let direct = u
                + (a - u)
                    * (-0.002
                        / if u > a {
                            TAU_ACTIVATION_S
                        } else {
                            TAU_DEACTIVATION_S
                        })
                    .exp();
            assert_eq!(
                activation_step_with(a, u, &decay).to_bits(),
                direct.clamp(MIN_ACTIVATION, 1.0).to_bits()
            );
        }
    }

    #[test]
    fn activation_rises_faster_than_it_falls() {
        let up = activation_step(0.1, 1.0, 0.01);
        let down = activation_step(1.0, 0.1, 0.01);
        assert!(up - 0.1 > 1.0 - down);
        assert!((activation_step(0.3, 0.3, 0.5) - 0.3).abs() < 1e-12);
    }
}
