//! Static optimisation: muscle activations (and reserve torques where allowed) that
//! produce the desired generalized forces at least cost.
//!
//! minimise  sum_m a_m^2 + sum_r (r / r0)^2 + W * sum_k (A a + S r - b)_k^2
//! subject to 0 <= a_m <= 1,
//!
//! the classic static-optimisation cost (Crowninshield & Brand 1981; OpenSim's
//! StaticOptimization with activation exponent 2) with the moment equalities made a
//! stiff penalty, so that a demand the muscles cannot meet (weak abductors) leaves a
//! residual instead of an infeasible problem. Solved with Clarabel (interior point).

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus,
};

/// Weight of the squared moment residual (1/(N m)^2): a 1 N m shortfall costs as much
/// as 100 muscles at full activation, so residuals appear only when the muscles
/// cannot produce the moment.
pub const RESIDUAL_WEIGHT: f64 = 100.0;
/// Reserve-actuator scale r0 (N m): a reserve torque of r0 costs as much as one muscle
/// at full activation.
pub const RESERVE_SCALE_NM: f64 = 1.0;

/// One static-optimisation problem.
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    /// Rows x muscles, row-major: generalized force per unit activation (N m).
    pub a: &'a [f64],
    /// Number of rows (coordinates).
    pub rows: usize,
    /// Number of muscles.
    pub muscles: usize,
    /// Row index of each reserve actuator.
    pub reserves: &'a [usize],
    /// Desired generalized forces (N m) still to be produced by activations and reserves.
    pub b: &'a [f64],
    /// Lower bound of every activation (the muscle model's minimum activation).
    pub min_activation: f64,
}

/// Solution: activations (0..1) and reserve torques (N m).
#[derive(Debug, Clone, Default)]
pub struct Solution {
    /// Muscle activations.
    pub activations: Vec<f64>,
    /// Reserve torques (N m), one per reserve.
    pub reserves: Vec<f64>,
}

/// Solve; returns `None` if the solver fails.
pub fn solve(p: &Problem) -> Option<Solution> {
    let nm = p.muscles;
    let nr = p.reserves.len();
    let n = nm + nr;
    // Column j of the full matrix [A S] at row k.
    let col = |k: usize, j: usize| -> f64 {
        if j < nm {
            p.a[k * nm + j]
        } else if p.reserves[j - nm] == k {
            1.0
        } else {
            0.0
        }
    };
    // P = 2 (D + W M^T M) (upper triangle), q = -2 W M^T b.
    let mut colptr = Vec::with_capacity(n + 1);
    let mut rowval = Vec::with_capacity(n * (n + 1) / 2);
    let mut nzval = Vec::with_capacity(n * (n + 1) / 2);
    colptr.push(0);
    for j in 0..n {
        for i in 0..=j {
            let mut v = 0.0;
            for k in 0..p.rows {
                v += col(k, i) * col(k, j);
            }
            v *= 2.0 * RESIDUAL_WEIGHT;
            if i == j {
                v += if j < nm {
                    2.0
                } else {
                    2.0 / (RESERVE_SCALE_NM * RESERVE_SCALE_NM)
                };
            }
            if v != 0.0 {
                rowval.push(i);
                nzval.push(v);
            }
        }
        colptr.push(rowval.len());
    }
    let pm = CscMatrix::new(n, n, colptr, rowval, nzval);
    let q: Vec<f64> = (0..n)
        .map(|j| -2.0 * RESIDUAL_WEIGHT * (0..p.rows).map(|k| col(k, j) * p.b[k]).sum::<f64>())
        .collect();
    // Bounds on activations: -a <= 0, a <= 1.
    let mut colptr = Vec::with_capacity(n + 1);
    let mut rowval = Vec::new();
    let mut nzval = Vec::new();
    colptr.push(0);
    for j in 0..n {
        if j < nm {
            rowval.push(j);
            nzval.push(-1.0);
            rowval.push(nm + j);
            nzval.push(1.0);
        }
        colptr.push(rowval.len());
    }
    let am = CscMatrix::new(2 * nm, n, colptr, rowval, nzval);
    let mut bv = vec![-p.min_activation; 2 * nm];
    bv[nm..].fill(1.0);
    let cones = [NonnegativeConeT(2 * nm)];
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(100)
        .build()
        .ok()?;
    let mut solver = DefaultSolver::new(&pm, &q, &am, &bv, &cones, settings).ok()?;
    solver.solve();
    match solver.solution.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {}
        _ => return None,
    }
    let x = &solver.solution.x;
    Some(Solution {
        activations: x[..nm]
            .iter()
            .map(|v| v.clamp(p.min_activation, 1.0))
            .collect(),
        reserves: x[nm..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_load_and_saturates() {
        // Two muscles of 10 N m per activation on one row.
        let a = [10.0, 10.0];
        let s = solve(&Problem {
            a: &a,
            rows: 1,
            muscles: 2,
            reserves: &[],
            b: &[10.0],
            min_activation: 0.0,
        })
        .unwrap();
        assert!((s.activations[0] - 0.5).abs() < 1e-3 && (s.activations[1] - 0.5).abs() < 1e-3);
        // Demand beyond capacity: both saturate, the residual remains.
        let s = solve(&Problem {
            a: &a,
            rows: 1,
            muscles: 2,
            reserves: &[],
            b: &[50.0],
            min_activation: 0.0,
        })
        .unwrap();
        assert!(s.activations.iter().all(|&x| x > 0.999));
    }

    #[test]
    fn reserve_only_covers_what_muscles_cannot() {
        let a = [10.0];
        let s = solve(&Problem {
            a: &a,
            rows: 1,
            muscles: 1,
            reserves: &[0],
            b: &[15.0],
            min_activation: 0.0,
        })
        .unwrap();
        assert!(s.activations[0] > 0.99);
        assert!((s.reserves[0] - 5.0).abs() < 0.2, "{:?}", s.reserves);
    }
}
