//! Measures of a whole run: peaks over the task, the time to a Trendelenburg-positive
//! drop, how fast the pelvis was still moving at the end and how far any joint went past
//! its normal range. They are reductions of the metrics measured on the simulated bodies
//! at every step (not only at recorded rows), and they mean the same for every run, which
//! the metrics at the end of a run do not: a weak run that falls early ends with less drop
//! than a stronger one that falls late.
//!
//! [`MEASURES`] is the one list of their names (the summary columns, after the metric
//! columns), units and meanings; [`Tracker::values`] returns them in that order.

use crate::sim::Metrics;

/// A whole-run measure: summary column name (unit in the name), unit and meaning.
#[derive(Debug, Clone, Copy)]
pub struct MeasureSpec {
    /// Column name.
    pub name: &'static str,
    /// Unit (`-` for none).
    pub unit: &'static str,
    /// What it is.
    pub meaning: &'static str,
}

/// The pelvic drop at the ASIS (cm) past which single-leg stance is Trendelenburg-positive
/// (the clinical 2 cm criterion; see docs/validation.md).
pub const TRENDELENBURG_DROP_CM: f64 = 2.0;

/// Every whole-run measure, in summary column order.
pub const MEASURES: [MeasureSpec; 13] = [
    MeasureSpec {
        name: "pelvic_drop_peak_deg",
        unit: "deg",
        meaning: "Largest contralateral pelvic drop over the run (positive: swing side lower).",
    },
    MeasureSpec {
        name: "pelvic_drop_peak_cm",
        unit: "cm",
        meaning: "Largest height of the stance ASIS above the swing ASIS over the run.",
    },
    MeasureSpec {
        name: "knee_fppa_peak_deg",
        unit: "deg",
        meaning: "Largest knee frontal plane projection angle over the run (positive: valgus), as a camera in front sees it.",
    },
    MeasureSpec {
        name: "knee_medial_shift_peak_mm",
        unit: "mm",
        meaning: "Largest distance of the knee medial of the hip-ankle line in the frontal plane over the run.",
    },
    MeasureSpec {
        name: "hip_adduction_peak_deg",
        unit: "deg",
        meaning: "Largest stance hip adduction over the run.",
    },
    MeasureSpec {
        name: "hip_internal_rotation_peak_deg",
        unit: "deg",
        meaning: "Largest stance hip internal rotation over the run (negative if the hip only rotated externally).",
    },
    MeasureSpec {
        name: "trunk_lean_peak_deg",
        unit: "deg",
        meaning: "Trunk lateral lean of largest magnitude over the run, signed (positive toward the stance side).",
    },
    MeasureSpec {
        name: "knee_flexion_peak_deg",
        unit: "deg",
        meaning: "Largest stance knee flexion over the run.",
    },
    MeasureSpec {
        name: "glut_med_activation_peak",
        unit: "-",
        meaning: "Largest activation (0..1) of the stance gluteus medius over the run: the mean of glut_med1-3 weighted by their nominal max isometric forces (the model's analogue of surface EMG).",
    },
    MeasureSpec {
        name: "time_to_trendelenburg_s",
        unit: "s",
        meaning: "First time the pelvic drop at the ASIS passed 2 cm; empty if it never did.",
    },
    MeasureSpec {
        name: "pelvic_drop_rate_end_deg_per_s",
        unit: "deg/s",
        meaning: "Mean rate of change of the pelvic drop over the last 0.2 s of the run (positive: dropping); a run that ends faster than 1 deg/s in either direction has not settled (status still_falling).",
    },
    MeasureSpec {
        name: "joint_range_excess_deg",
        unit: "deg",
        meaning: "Furthest any coordinate went past its normal range of motion (data/joint_limits.csv) over the run; 0 if none did.",
    },
    MeasureSpec {
        name: "hip_abductor_effort_peak",
        unit: "-",
        meaning: "Largest hip_abductor_effort (abduction moment over the capacity usable while the leg's other moments are met; 1: nothing left) over the recorded rows of the run: how close the abductors came to their limit.",
    },
];

/// Index of a measure in [`MEASURES`].
pub fn index(name: &str) -> Option<usize> {
    MEASURES.iter().position(|m| m.name == name)
}

/// Running reductions of the per-step metrics of one run.
#[derive(Debug, Clone)]
pub struct Tracker {
    pelvic_drop_deg: f64,
    pelvic_drop_cm: f64,
    knee_fppa_deg: f64,
    knee_medial_shift_mm: f64,
    hip_adduction_deg: f64,
    hip_internal_rotation_deg: f64,
    trunk_lean_deg: f64,
    knee_flexion_deg: f64,
    glut_med_activation: f64,
    time_to_trendelenburg_s: Option<f64>,
    /// Largest excess past a range (deg), its coordinate and the time (s).
    range_excess: (f64, usize, f64),
    /// Largest abductor effort at a recorded row.
    effort: f64,
    /// Pelvic drop (deg) at every step, for the rate at the end.
    drop_history: Vec<f64>,
    dt_s: f64,
}

impl Tracker {
    /// An empty tracker for steps of `dt_s` (s).
    pub fn new(dt_s: f64) -> Self {
        Tracker {
            pelvic_drop_deg: f64::NEG_INFINITY,
            pelvic_drop_cm: f64::NEG_INFINITY,
            knee_fppa_deg: f64::NEG_INFINITY,
            knee_medial_shift_mm: f64::NEG_INFINITY,
            hip_adduction_deg: f64::NEG_INFINITY,
            hip_internal_rotation_deg: f64::NEG_INFINITY,
            trunk_lean_deg: 0.0,
            knee_flexion_deg: f64::NEG_INFINITY,
            glut_med_activation: f64::NEG_INFINITY,
            time_to_trendelenburg_s: None,
            range_excess: (0.0, usize::MAX, 0.0),
            effort: f64::NEG_INFINITY,
            drop_history: Vec::new(),
            dt_s,
        }
    }

    /// Take one step's metrics, the stance gluteus medius activation (0..1) and the
    /// largest excess past a normal range (deg) with its coordinate.
    pub fn update(&mut self, m: &Metrics, glut_med_activation: f64, excess: (f64, usize)) {
        self.pelvic_drop_deg = self.pelvic_drop_deg.max(m.pelvic_drop_deg);
        self.pelvic_drop_cm = self.pelvic_drop_cm.max(m.pelvic_drop_cm);
        self.knee_fppa_deg = self.knee_fppa_deg.max(m.knee_fppa_deg);
        self.knee_medial_shift_mm = self.knee_medial_shift_mm.max(m.knee_medial_shift_mm);
        self.hip_adduction_deg = self.hip_adduction_deg.max(m.hip_adduction_deg);
        self.hip_internal_rotation_deg = self
            .hip_internal_rotation_deg
            .max(m.hip_internal_rotation_deg);
        if m.trunk_lean_deg.abs() > self.trunk_lean_deg.abs() {
            self.trunk_lean_deg = m.trunk_lean_deg;
        }
        self.knee_flexion_deg = self.knee_flexion_deg.max(m.knee_flexion_deg);
        self.glut_med_activation = self.glut_med_activation.max(glut_med_activation);
        if self.time_to_trendelenburg_s.is_none() && m.pelvic_drop_cm > TRENDELENBURG_DROP_CM {
            self.time_to_trendelenburg_s = Some(m.time_s);
        }
        if excess.0 > self.range_excess.0 {
            self.range_excess = (excess.0, excess.1, m.time_s);
        }
        self.drop_history.push(m.pelvic_drop_deg);
    }

    /// Mean rate of change of the pelvic drop (deg/s) over the last `window_s` (s) of the
    /// steps taken (over all of them when the run is shorter); 0 before two steps.
    pub fn drop_rate_end(&self, window_s: f64) -> f64 {
        let n = self.drop_history.len();
        if n < 2 {
            return 0.0;
        }
        let k = ((window_s / self.dt_s).round() as usize).clamp(1, n - 1);
        (self.drop_history[n - 1] - self.drop_history[n - 1 - k]) / (k as f64 * self.dt_s)
    }

    /// Take the abductor effort (0..1) of a recorded row (it is computed at recorded rows only).
    pub fn update_effort(&mut self, effort: f64) {
        if effort.is_finite() {
            self.effort = self.effort.max(effort);
        }
    }

    /// Largest stance knee flexion so far (deg).
    pub fn knee_flexion_peak_deg(&self) -> f64 {
        self.knee_flexion_deg
    }

    /// Largest excess past a normal range (deg), the coordinate and the time (s) it
    /// happened; `None` if no coordinate left its range.
    pub fn range_excess(&self) -> Option<(f64, usize, f64)> {
        (self.range_excess.0 > 0.0).then_some(self.range_excess)
    }

    /// Values aligned with [`MEASURES`] (`None`: undefined, or no step was taken).
    pub fn values(&self, settle_window_s: f64) -> Vec<Option<f64>> {
        let fin = |v: f64| Some(v).filter(|v| v.is_finite());
        vec![
            fin(self.pelvic_drop_deg),
            fin(self.pelvic_drop_cm),
            fin(self.knee_fppa_deg),
            fin(self.knee_medial_shift_mm),
            fin(self.hip_adduction_deg),
            fin(self.hip_internal_rotation_deg),
            fin(self.trunk_lean_deg).filter(|_| !self.drop_history.is_empty()),
            fin(self.knee_flexion_deg),
            fin(self.glut_med_activation),
            self.time_to_trendelenburg_s,
            fin(self.drop_rate_end(settle_window_s)).filter(|_| self.drop_history.len() > 1),
            fin(self.range_excess.0).filter(|_| !self.drop_history.is_empty()),
            fin(self.effort),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: f64, drop_cm: f64) -> Metrics {
        Metrics {
            time_s: t,
            pelvic_drop_cm: drop_cm,
            pelvic_drop_deg: drop_cm * 2.0,
            trunk_lean_deg: -drop_cm,
            ..Default::default()
        }
    }

    #[test]
    fn peaks_first_crossing_and_end_rate() {
        let mut t = Tracker::new(0.1);
        for (i, d) in [0.0, 1.0, 2.5, 4.0, 3.0].iter().enumerate() {
            t.update(&row(i as f64 * 0.1, *d), 0.1 * i as f64, (0.0, 0));
        }
        let v = t.values(0.2);
        assert_eq!(v[index("pelvic_drop_peak_cm").unwrap()], Some(4.0));
        assert_eq!(v[index("time_to_trendelenburg_s").unwrap()], Some(0.2));
        // Signed lean of largest magnitude.
        assert_eq!(v[index("trunk_lean_peak_deg").unwrap()], Some(-4.0));
        // Drop (deg) 5 -> 8 -> 6 over the last 0.2 s (two steps): +1 deg in 0.2 s.
        let rate = v[index("pelvic_drop_rate_end_deg_per_s").unwrap()].unwrap();
        assert!((rate - 5.0).abs() < 1e-12, "{rate}");
        assert_eq!(v[index("joint_range_excess_deg").unwrap()], Some(0.0));
        assert!(t.range_excess().is_none());
    }

    /// docs/scenarios.md documents every measure, with its unit.
    #[test]
    fn every_measure_is_documented() {
        let doc = include_str!("../docs/scenarios.md");
        for m in &MEASURES {
            let row = format!("| `{}` | {} |", m.name, m.unit);
            assert!(doc.contains(&row), "docs/scenarios.md lacks the row {row}");
        }
    }

    #[test]
    fn never_positive_leaves_the_time_empty() {
        let mut t = Tracker::new(0.01);
        t.update(&row(0.0, 1.99), 0.0, (3.0, 7));
        let v = t.values(0.2);
        assert_eq!(v[index("time_to_trendelenburg_s").unwrap()], None);
        assert_eq!(t.range_excess(), Some((3.0, 7, 0.0)));
        assert_eq!(MEASURES.len(), v.len());
    }
}
