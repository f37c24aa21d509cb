//! Small geometric and numerical helpers: Cardan angles, splines, smooth ramps.

use nalgebra::{Matrix3, Rotation3, Unit, UnitQuaternion, Vector3};

/// 3-vector in metres, newtons or radians, as the field name says.
pub type Vec3 = Vector3<f64>;
/// Rotation as a unit quaternion.
pub type Quat = UnitQuaternion<f64>;

/// Rotation of `angle` (rad) about `axis` (need not be unit length).
pub fn axis_angle(axis: &Vec3, angle: f64) -> Quat {
    Quat::from_axis_angle(&Unit::new_normalize(*axis), angle)
}

/// Decompose `r` as `Rz(a) Rx(b) Ry(c)` (body-fixed Z, then X', then Y''), the order of
/// OpenSim's hip, lumbar and pelvis coordinates. Returns `[a, b, c]` in radians.
pub fn cardan_zxy(r: &Quat) -> [f64; 3] {
    let m: Matrix3<f64> = *r.to_rotation_matrix().matrix();
    let b = m[(2, 1)].clamp(-1.0, 1.0).asin();
    let c = (-m[(2, 0)]).atan2(m[(2, 2)]);
    let a = (-m[(0, 1)]).atan2(m[(1, 1)]);
    [a, b, c]
}

/// Compose `Rz(a) Rx(b) Ry(c)`.
pub fn from_cardan_zxy(a: [f64; 3]) -> Quat {
    Quat::from_axis_angle(&Vec3::z_axis(), a[0])
        * Quat::from_axis_angle(&Vec3::x_axis(), a[1])
        * Quat::from_axis_angle(&Vec3::y_axis(), a[2])
}

/// Rotation matrix of a quaternion.
pub fn mat(q: &Quat) -> Matrix3<f64> {
    *Rotation3::from(*q).matrix()
}

/// Natural cubic spline through knots, as OpenSim's `SimmSpline` (which is a natural
/// cubic spline for more than two knots and a straight line for two).
#[derive(Debug, Clone, PartialEq)]
pub struct Spline {
    x: Vec<f64>,
    y: Vec<f64>,
    /// Second derivatives at the knots.
    m: Vec<f64>,
}

impl Spline {
    /// Build a natural cubic spline. `x` must be strictly increasing, with at least 2 knots.
    pub fn new(x: Vec<f64>, y: Vec<f64>) -> Result<Self, String> {
        let n = x.len();
        if n < 2 || y.len() != n {
            return Err(format!(
                "a spline needs >= 2 knots and as many values ({n} x, {} y)",
                y.len()
            ));
        }
        if x.windows(2).any(|w| w[1] <= w[0]) {
            return Err("spline knots must be strictly increasing".into());
        }
        let mut m = vec![0.0; n];
        if n > 2 {
            // Tridiagonal solve (Thomas algorithm) for natural end conditions.
            let mut c = vec![0.0; n];
            let mut d = vec![0.0; n];
            for i in 1..n - 1 {
                let h0 = x[i] - x[i - 1];
                let h1 = x[i + 1] - x[i];
                let rhs = 6.0 * ((y[i + 1] - y[i]) / h1 - (y[i] - y[i - 1]) / h0);
                let diag = 2.0 * (h0 + h1) - h0 * c[i - 1];
                c[i] = h1 / diag;
                d[i] = (rhs - h0 * d[i - 1]) / diag;
            }
            for i in (1..n - 1).rev() {
                m[i] = d[i] - c[i] * m[i + 1];
            }
        }
        Ok(Self { x, y, m })
    }

    /// Knots and values.
    pub fn knots(&self) -> (&[f64], &[f64]) {
        (&self.x, &self.y)
    }

    /// Value at `t`; outside the knots the end segments are extended linearly.
    pub fn eval(&self, t: f64) -> f64 {
        let n = self.x.len();
        if t <= self.x[0] || t >= self.x[n - 1] {
            let (i, j) = if t <= self.x[0] {
                (0, 1)
            } else {
                (n - 2, n - 1)
            };
            let h = self.x[j] - self.x[i];
            let slope = (self.y[j] - self.y[i]) / h - h * (2.0 * self.m[i] + self.m[j]) / 6.0;
            let slope = if t <= self.x[0] {
                slope
            } else {
                (self.y[j] - self.y[i]) / h + h * (self.m[i] + 2.0 * self.m[j]) / 6.0
            };
            let x0 = if t <= self.x[0] {
                self.x[0]
            } else {
                self.x[n - 1]
            };
            let y0 = if t <= self.x[0] {
                self.y[0]
            } else {
                self.y[n - 1]
            };
            return y0 + slope * (t - x0);
        }
        let i = match self.x.partition_point(|&v| v <= t) {
            0 => 0,
            k => (k - 1).min(n - 2),
        };
        let h = self.x[i + 1] - self.x[i];
        let a = (self.x[i + 1] - t) / h;
        let b = (t - self.x[i]) / h;
        a * self.y[i]
            + b * self.y[i + 1]
            + ((a * a * a - a) * self.m[i] + (b * b * b - b) * self.m[i + 1]) * h * h / 6.0
    }
}

/// Smooth ramp `w * ln(1 + exp(x / w))`: 0 well below zero, `x` well above, C-infinity.
pub fn softplus(x: f64, w: f64) -> f64 {
    let z = x / w;
    if z > 30.0 {
        x
    } else {
        w * z.exp().ln_1p()
    }
}

/// Logistic function `1 / (1 + exp(-x / w))`, the derivative of [`softplus`].
pub fn logistic(x: f64, w: f64) -> f64 {
    1.0 / (1.0 + (-x / w).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardan_round_trip() {
        for a in [[0.3, -0.2, 0.5], [-1.0, 0.7, -0.4], [0.0, 0.0, 0.0]] {
            let q = from_cardan_zxy(a);
            let b = cardan_zxy(&q);
            for k in 0..3 {
                assert!((a[k] - b[k]).abs() < 1e-12, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn spline_interpolates_and_is_linear_for_two_knots() {
        let s = Spline::new(vec![0.0, 1.0, 2.0, 3.0], vec![0.0, 1.0, 0.0, 1.0]).unwrap();
        for (x, y) in [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 1.0)] {
            assert!((s.eval(x) - y).abs() < 1e-12);
        }
        let l = Spline::new(vec![-1.0, 1.0], vec![2.0, 4.0]).unwrap();
        assert!((l.eval(0.0) - 3.0).abs() < 1e-12);
        assert!((l.eval(3.0) - 6.0).abs() < 1e-12);
    }

    #[test]
    fn spline_is_continuous_at_the_ends() {
        let s = Spline::new(vec![0.0, 1.0, 2.0], vec![0.0, 2.0, 1.0]).unwrap();
        assert!((s.eval(2.0 + 1e-9) - s.eval(2.0 - 1e-9)).abs() < 1e-6);
        assert!((s.eval(-1e-9) - s.eval(1e-9)).abs() < 1e-6);
    }
}
