//! Static optimisation: muscle activations (and reserve torques where allowed) that
//! produce the desired generalized forces at least cost.
//!
//! minimise  sum_m a_m^2 + sum_r (r / r0)^2 + W * sum_k (A a + S r - b)_k^2
//! subject to a_min <= a_m <= 1,
//!
//! the classic static-optimisation cost (Crowninshield & Brand 1981; OpenSim's
//! StaticOptimization with activation exponent 2) with the moment equalities made a
//! stiff penalty, so that a demand the muscles cannot meet (weak abductors) leaves a
//! residual instead of an infeasible problem.
//!
//! # How it is solved
//! The problem has ~90 bounded variables but only ~14 rows, so [`Solver`] works in the
//! row space:
//! 1. The reserves are free and each sits on one row, so they are eliminated exactly:
//!    on a row with `n` reserves, `min n (ρ/n / r0)^2 + W (ρ - e)^2` over the total
//!    reserve `ρ` leaves `ω_k e_k^2` with `1/ω_k = 1/W + n r0^2`, where `e = b - A a`;
//!    `ω_k = W` on rows without a reserve. The remaining problem is
//!    `min |a|^2 + (A a - b)^T Ω (A a - b)`, `a` in the box.
//! 2. Its Lagrange dual over `y = Ω e` (one multiplier per row) is
//!    `max d(y) = 2 b^T y - y^T Ω^-1 y + Σ_m ψ((A^T y)_m)` with
//!    `ψ(s) = min_{a in box} (a^2 - 2 a s)`, attained at `a_m = clamp((A^T y)_m)`.
//!    `d` is strongly concave, piecewise quadratic and C^1 in `k` = rows dimensions.
//! 3. Semismooth Newton on `d`: the generalised Hessian is `-(Ω^-1 + A_F A_F^T)` with `F`
//!    the muscles strictly inside their bounds, a `k x k` SPD matrix (Cholesky); a
//!    exact line search (the directional derivative is piecewise linear: sort the
//!    steps at which muscles reach a bound and walk them) makes it globally
//!    convergent. On the final active set one full Newton step is exact, so the
//!    iteration stops when a full step leaves the free set unchanged.
//! 4. The multiplier `y` is kept between calls (warm start): between two control steps
//!    the active set rarely changes, and one or two Newton steps suffice.
//!
//! The answer is the unique minimiser of the strictly convex problem, the same as an
//! interior-point solver's (the tests compare with Clarabel, the solver this replaced),
//! and the iteration is a fixed sequence of floating-point operations: deterministic.
//! [`Solver`] allocates only when the problem size changes.

/// Weight of the squared moment residual (1/(N m)^2): a 1 N m shortfall costs as much
/// as 100 muscles at full activation, so residuals appear only when the muscles
/// cannot produce the moment.
pub const RESIDUAL_WEIGHT: f64 = 100.0;
/// Reserve-actuator scale r0 (N m): a reserve torque of r0 costs as much as one muscle
/// at full activation.
pub const RESERVE_SCALE_NM: f64 = 1.0;

/// Newton steps with an unchanged free set after the exact one (iterative refinement
/// with the same factor). Measured: a refinement step does not lower the gradient,
/// which is at its rounding floor after the exact step, so none is taken.
const REFINEMENTS: usize = 0;
/// Most Newton iterations per solve. A cold start on the stance model takes ~10, a warm
/// start 1-2.
const MAX_ITERATIONS: usize = 200;

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

/// The matrix `A` of a [`Problem`] by columns (one per muscle), non-zeros only: a
/// muscle crosses a few joints, so ~300 of the stance model's 14 x 92 entries are
/// non-zero, and every product the solver forms runs over these. A simulation that
/// knows which entries can be non-zero builds the columns directly
/// ([`Solver::solve_columns`]) instead of writing and scanning the dense matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// Column `m` holds `entries[start[m]..start[m + 1]]`.
    start: Vec<usize>,
    /// (row, value) of each non-zero, rows ascending within a column.
    entries: Vec<(usize, f64)>,
    /// Largest row + 1, whether every value is finite and whether rows ascend within
    /// every column, kept by `push`, so that checking a problem costs nothing.
    row_bound: usize,
    finite: bool,
    ascending: bool,
    /// Row + 1 of the last entry of the column being built (0 at its start).
    col_last: usize,
}

impl Default for Columns {
    fn default() -> Self {
        Self::new()
    }
}

impl Columns {
    /// No columns.
    pub fn new() -> Self {
        Self {
            start: vec![0],
            entries: Vec::new(),
            row_bound: 0,
            finite: true,
            ascending: true,
            col_last: 0,
        }
    }

    /// Remove all columns (keeps the allocations).
    pub fn clear(&mut self) {
        self.start.clear();
        self.start.push(0);
        self.entries.clear();
        self.row_bound = 0;
        self.finite = true;
        self.ascending = true;
        self.col_last = 0;
    }

    /// Append entry (`row`, `value`) to the column being built; rows must ascend within
    /// a column. Exact zeros are left out (as the dense path does).
    #[inline]
    pub fn push(&mut self, row: usize, value: f64) {
        if value != 0.0 {
            self.ascending &= row >= self.col_last;
            self.col_last = row + 1;
            self.row_bound = self.row_bound.max(row + 1);
            self.finite &= value.is_finite();
            self.entries.push((row, value));
        }
    }

    /// Close the column being built (call once per muscle, empty columns included).
    #[inline]
    pub fn end_column(&mut self) {
        self.col_last = 0;
        self.start.push(self.entries.len());
    }

    /// Number of closed columns.
    pub fn len(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Columns of a row-major `rows x muscles` matrix.
    pub fn from_dense(a: &[f64], rows: usize, muscles: usize) -> Self {
        let mut c = Self::new();
        c.fill_from_dense(a, rows, muscles);
        c
    }

    fn fill_from_dense(&mut self, a: &[f64], rows: usize, muscles: usize) {
        self.clear();
        for m in 0..muscles {
            for r in 0..rows {
                self.push(r, a[r * muscles + m]);
            }
            self.end_column();
        }
    }

    /// The row-major `rows x len()` matrix.
    pub fn to_dense(&self, rows: usize) -> Vec<f64> {
        let nm = self.len();
        let mut a = vec![0.0; rows * nm];
        for (m, w) in self.start.windows(2).enumerate() {
            for &(r, v) in &self.entries[w[0]..w[1]] {
                a[r * nm + m] = v;
            }
        }
        a
    }

    /// Entries of column `m`.
    #[inline]
    fn column(&self, m: usize) -> &[(usize, f64)] {
        &self.entries[self.start[m]..self.start[m + 1]]
    }

    /// Whether every row is below `rows`, rows ascend within each column and every
    /// value is finite.
    fn valid(&self, rows: usize) -> bool {
        self.row_bound <= rows && self.finite && self.ascending
    }
}

/// A [`Problem`] with `A` given by its [`Columns`].
#[derive(Debug, Clone)]
pub struct SparseProblem<'a> {
    /// Generalized force per unit activation (N m), by columns, one per muscle.
    pub columns: &'a Columns,
    /// Number of rows (coordinates).
    pub rows: usize,
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

/// Solve once, without warm start; returns `None` if the solver fails.
/// Inside a loop keep a [`Solver`] instead.
pub fn solve(p: &Problem) -> Option<Solution> {
    Solver::new().solve(p).cloned()
}

/// Warm-started, allocation-free solver for [`Problem`] (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct Solver {
    rows: usize,
    muscles: usize,
    /// Dual variable, one per row (N m): `Ω (b - A a)`. Kept between solves.
    y: Vec<f64>,
    /// `1 / ω_k` per row ((N m)^-2 inverse: (N m)^2 per unit cost).
    omega_inv: Vec<f64>,
    /// Reserves on each row.
    reserves_on_row: Vec<usize>,
    /// `A^T y` per muscle.
    s: Vec<f64>,
    /// `A^T p` per muscle (p the Newton direction).
    s_dir: Vec<f64>,
    /// Muscles strictly inside their bounds at `y` (the Newton step's free set).
    free: Vec<bool>,
    /// The free set after the step.
    free_new: Vec<bool>,
    /// Line-search breakpoints: step and change of the derivative's slope.
    events: Vec<(f64, f64)>,
    /// Half the dual gradient per row: `b - Ω^-1 y - A a(y)`.
    grad: Vec<f64>,
    /// Newton direction per row.
    dir: Vec<f64>,
    /// A by columns, built from the dense matrix of a [`Problem`].
    cols: Columns,
    /// `A clamp(A^T y)` per row (N m); at the end of a solve, `A a` at the solution.
    ax: Vec<f64>,
    /// Newton matrix / its Cholesky factor (lower), rows x rows.
    chol: Vec<f64>,
    sol: Solution,
    iterations: usize,
}

impl Solver {
    /// A solver with no warm start; buffers are sized on the first solve.
    pub fn new() -> Self {
        Self::default()
    }

    /// Newton iterations taken by the last solve.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Forget the warm start.
    pub fn reset(&mut self) {
        self.y.fill(0.0);
    }

    fn resize(&mut self, rows: usize, muscles: usize, reserves: usize) {
        if self.rows != rows || self.muscles != muscles {
            self.rows = rows;
            self.muscles = muscles;
            self.y = vec![0.0; rows];
            self.omega_inv = vec![0.0; rows];
            self.reserves_on_row = vec![0; rows];
            self.grad = vec![0.0; rows];
            self.dir = vec![0.0; rows];
            self.s = vec![0.0; muscles];
            self.s_dir = vec![0.0; muscles];
            self.free = vec![false; muscles];
            self.free_new = vec![false; muscles];
            self.events = Vec::with_capacity(2 * muscles);
            self.ax = vec![0.0; rows];
            self.chol = vec![0.0; rows * rows];
            self.sol.activations = vec![0.0; muscles];
        }
        self.sol.reserves.resize(reserves, 0.0);
    }

    /// Solve `p`, warm-started from the previous solve of a problem of the same size.
    /// Returns `None` if the problem is malformed (sizes, non-finite data, empty box)
    /// or the iteration fails to converge.
    pub fn solve(&mut self, p: &Problem) -> Option<&Solution> {
        let (k, nm) = (p.rows, p.muscles);
        if p.a.len() != k * nm || p.a.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut cols = std::mem::take(&mut self.cols);
        cols.fill_from_dense(p.a, k, nm);
        let ok = self
            .solve_inner(&cols, k, p.reserves, p.b, p.min_activation)
            .is_some();
        self.cols = cols;
        ok.then_some(&self.sol)
    }

    /// [`Self::solve`] with `A` by columns (same iteration, same result).
    pub fn solve_columns(&mut self, p: &SparseProblem) -> Option<&Solution> {
        if !p.columns.valid(p.rows) {
            return None;
        }
        self.solve_inner(p.columns, p.rows, p.reserves, p.b, p.min_activation)?;
        Some(&self.sol)
    }

    /// `A a` per row (N m) at the last solution: the generalized forces the muscles
    /// produce at the returned activations.
    pub fn produced(&self) -> &[f64] {
        &self.ax
    }

    fn solve_inner(
        &mut self,
        cols: &Columns,
        k: usize,
        reserves: &[usize],
        b: &[f64],
        min_activation: f64,
    ) -> Option<()> {
        let nm = cols.len();
        if b.len() != k
            || reserves.iter().any(|&r| r >= k)
            || min_activation.is_nan()
            || min_activation > 1.0
            || b.iter().any(|v| !v.is_finite())
        {
            return None;
        }
        self.resize(k, nm, reserves.len());
        if self.y.iter().any(|v| !v.is_finite()) {
            self.y.fill(0.0);
        }
        let (lo, hi) = (min_activation, 1.0);
        self.reserves_on_row.fill(0);
        for &r in reserves {
            self.reserves_on_row[r] += 1;
        }
        let r0sq = RESERVE_SCALE_NM * RESERVE_SCALE_NM;
        for (oi, &n) in self.omega_inv.iter_mut().zip(&self.reserves_on_row) {
            *oi = 1.0 / RESIDUAL_WEIGHT + n as f64 * r0sq;
        }
        // Early exit: gradient (N m) far below anything that matters.
        let bmax = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let tol = 1e-13 * (1.0 + bmax);

        at_y_ax(
            cols,
            &self.y,
            (lo, hi),
            &mut self.s,
            &mut self.ax,
            &mut self.free,
        );
        let mut converged = false;
        // Full steps in a row that kept the free set, and whether `chol` factors the
        // Newton matrix of the current free set (A is fixed within a solve).
        let mut exact_steps = 0;
        let mut factored = false;
        self.iterations = 0;
        for it in 0..MAX_ITERATIONS {
            self.iterations = it + 1;
            // Gradient (halved): b - Ω^-1 y - A clamp(A^T y) (`ax` is A clamp(A^T y)).
            for (((g, &bk), (&oi, &y)), &ax) in self
                .grad
                .iter_mut()
                .zip(b)
                .zip(self.omega_inv.iter().zip(&self.y))
                .zip(&self.ax)
            {
                *g = bk - oi * y - ax;
            }
            if self.grad.iter().all(|g| g.abs() <= tol) || exact_steps > REFINEMENTS {
                converged = true;
                break;
            }
            if !factored {
                self.factor(cols, k);
                if !cholesky(&mut self.chol, k) {
                    return None;
                }
                factored = true;
            }
            self.dir.copy_from_slice(&self.grad);
            cholesky_solve(&self.chol, k, &mut self.dir);
            at_y(cols, &self.dir, &mut self.s_dir);
            let t = self.line_search(lo, hi);
            if !(t > 0.0 && t.is_finite()) {
                // No ascent left at this precision: the maximum.
                converged = true;
                break;
            }
            for (y, d) in self.y.iter_mut().zip(&self.dir) {
                *y += t * d;
            }
            at_y_ax(
                cols,
                &self.y,
                (lo, hi),
                &mut self.s,
                &mut self.ax,
                &mut self.free_new,
            );
            // A full Newton step that kept the free set is exact on this piece of the
            // piecewise-quadratic dual: the maximum, up to rounding, which the next
            // REFINEMENTS steps (same factor) reduce.
            if self.free_new == self.free {
                exact_steps = if (t - 1.0).abs() < 1e-6 {
                    exact_steps + 1
                } else {
                    0
                };
            } else {
                exact_steps = 0;
                factored = false;
                std::mem::swap(&mut self.free, &mut self.free_new);
            }
        }
        if !converged {
            return None;
        }
        for (a, &s) in self.sol.activations.iter_mut().zip(&self.s) {
            *a = s.clamp(lo, hi);
        }
        // `ax` was formed from these activations (every exit above follows the gradient
        // at the current `y`): it is `A a`, so the reserves need no pass over A.
        // Reserves: the minimiser of n c (ρ/n)^2 + W (ρ - e)^2 over the row total ρ,
        // c = 1/r0^2, is ρ = W e / (c/n + W), split evenly over the row's n reserves.
        for (i, &r) in reserves.iter().enumerate() {
            let e = b[r] - self.ax[r];
            let n = self.reserves_on_row[r] as f64;
            let c = 1.0 / r0sq;
            let rho = RESIDUAL_WEIGHT * e / (c / n + RESIDUAL_WEIGHT);
            self.sol.reserves[i] = rho / n;
        }
        Some(())
    }

    /// Newton matrix `Ω^-1 + A_F A_F^T` over the free muscles into `chol` (lower
    /// triangle; rows within a column ascend, so `(ri, rj)` with `j <= i` is on or below
    /// the diagonal).
    fn factor(&mut self, cols: &Columns, k: usize) {
        self.chol.fill(0.0);
        for r in 0..k {
            self.chol[r * k + r] = self.omega_inv[r];
        }
        for (m, _) in self.free.iter().enumerate().filter(|(_, &f)| f) {
            let col = cols.column(m);
            for (i, &(ri, vi)) in col.iter().enumerate() {
                let row = &mut self.chol[ri * k..(ri + 1) * k];
                for &(rj, vj) in &col[..=i] {
                    row[rj] += vi * vj;
                }
            }
        }
    }

    /// Exact line search along `dir` from `y`: the root of the dual's directional
    /// derivative, which is continuous, piecewise linear and decreasing in the step `t`
    /// (its slope changes where a muscle's `A^T y` crosses a bound). Uses `grad`,
    /// `dir`, `s` (at `y`) and `s_dir`.
    fn line_search(&mut self, lo: f64, hi: f64) -> f64 {
        // Half-derivative at t = 0 and its slope on the first piece.
        let mut deriv = dot(&self.grad, &self.dir);
        if deriv.is_nan() || deriv <= 0.0 {
            return 0.0;
        }
        let mut slope = -self
            .dir
            .iter()
            .zip(&self.omega_inv)
            .map(|(d, oi)| d * d * oi)
            .sum::<f64>();
        self.events.clear();
        let mut first_event = f64::INFINITY;
        for (&s, &q) in self.s.iter().zip(&self.s_dir) {
            if q == 0.0 {
                continue;
            }
            let q2 = q * q;
            let above_lo = s > lo || (s == lo && q > 0.0);
            let below_hi = s < hi || (s == hi && q < 0.0);
            if above_lo && below_hi {
                slope -= q2;
            }
            // Step at which A^T y reaches each bound, and the slope change there.
            let (t_in, t_out) = if q > 0.0 {
                ((lo - s) / q, (hi - s) / q)
            } else {
                ((hi - s) / q, (lo - s) / q)
            };
            if t_in > 0.0 {
                self.events.push((t_in, -q2));
                first_event = first_event.min(t_in);
            }
            if t_out > 0.0 {
                self.events.push((t_out, q2));
                first_event = first_event.min(t_out);
            }
        }
        // Usual case (warm start): the root lies before any muscle reaches a bound.
        if slope < 0.0 && -deriv / slope <= first_event {
            return -deriv / slope;
        }
        self.events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut t = 0.0;
        for &(te, ds) in &self.events {
            let at_event = deriv + slope * (te - t);
            if at_event <= 0.0 {
                break;
            }
            deriv = at_event;
            t = te;
            slope += ds;
        }
        if slope < 0.0 {
            t - deriv / slope
        } else {
            t
        }
    }
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// `s = A^T y` for `A` by [`Columns`].
fn at_y(cols: &Columns, y: &[f64], s: &mut [f64]) {
    for (sm, w) in s.iter_mut().zip(cols.start.windows(2)) {
        let mut v = 0.0;
        for &(r, a) in &cols.entries[w[0]..w[1]] {
            v += a * y[r];
        }
        *sm = v;
    }
}

/// `s = A^T y`, `ax = A clamp(s)` and the free set (`s` strictly inside the bounds) in
/// one pass over the columns: the same operations in the same order as three passes,
/// with each column read once.
fn at_y_ax(
    cols: &Columns,
    y: &[f64],
    (lo, hi): (f64, f64),
    s: &mut [f64],
    ax: &mut [f64],
    free: &mut [bool],
) {
    ax.fill(0.0);
    for ((sm, fm), w) in s.iter_mut().zip(free.iter_mut()).zip(cols.start.windows(2)) {
        let col = &cols.entries[w[0]..w[1]];
        let mut v = 0.0;
        for &(r, a) in col {
            v += a * y[r];
        }
        *sm = v;
        *fm = v > lo && v < hi;
        let a = v.clamp(lo, hi);
        for &(r, e) in col {
            ax[r] += e * a;
        }
    }
}

/// In-place Cholesky `M = L L^T` of the lower triangle of row-major `m` (n x n).
/// Returns false if `m` is not positive definite.
fn cholesky(m: &mut [f64], n: usize) -> bool {
    // Row slices instead of `m[i * n + p]`: the same operations in the same order,
    // without a bounds check per multiply.
    for j in 0..n {
        let (head, tail) = m.split_at_mut((j + 1) * n);
        let row_j = &mut head[j * n..];
        let d = row_j[..j].iter().fold(row_j[j], |d, &x| d - x * x);
        if d.is_nan() || d <= 0.0 {
            return false;
        }
        let d = d.sqrt();
        row_j[j] = d;
        let row_j = &row_j[..j];
        for row_i in tail.chunks_exact_mut(n) {
            let (left, rest) = row_i.split_at_mut(j);
            let v = left
                .iter()
                .zip(row_j)
                .fold(rest[0], |v, (&a, &b)| v - a * b);
            rest[0] = v / d;
        }
    }
    true
}

/// Solve `L L^T x = x` in place with the factor from [`cholesky`].
fn cholesky_solve(l: &[f64], n: usize, x: &mut [f64]) {
    for (i, row) in l.chunks_exact(n).enumerate() {
        let (done, rest) = x.split_at_mut(i);
        let v = row[..i]
            .iter()
            .zip(done.iter())
            .fold(rest[0], |v, (&a, &b)| v - a * b);
        rest[0] = v / row[i];
    }
    for i in (0..n).rev() {
        let (head, done) = x.split_at_mut(i + 1);
        let v = l[(i + 1) * n..]
            .chunks_exact(n)
            .zip(done.iter())
            .fold(head[i], |v, (row, &b)| v - row[i] * b);
        head[i] = v / l[i * n + i];
    }
}

/// The interior-point formulation this module used before [`Solver`], kept as the
/// reference the tests compare with (Clarabel is a dev-dependency only).
#[cfg(test)]
pub(crate) mod reference {
    use super::*;
    use clarabel::algebra::CscMatrix;
    use clarabel::solver::{
        DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus,
    };

    /// Solve with Clarabel, all variables explicit; `None` if Clarabel fails.
    pub(crate) fn solve(p: &Problem) -> Option<Solution> {
        let nm = p.muscles;
        let nr = p.reserves.len();
        let n = nm + nr;
        let col = |k: usize, j: usize| -> f64 {
            if j < nm {
                p.a[k * nm + j]
            } else if p.reserves[j - nm] == k {
                1.0
            } else {
                0.0
            }
        };
        let mut colptr = vec![0];
        let mut rowval = Vec::new();
        let mut nzval = Vec::new();
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
        let mut colptr = vec![0];
        let mut rowval = Vec::new();
        let mut nzval = Vec::new();
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
            .tol_gap_abs(1e-10)
            .tol_gap_rel(1e-10)
            .tol_feas(1e-10)
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

    /// Primal objective of `p` at `s` (the cost both solvers minimise).
    pub(crate) fn objective(p: &Problem, s: &Solution) -> f64 {
        let nm = p.muscles;
        let mut f: f64 = s.activations.iter().map(|a| a * a).sum();
        f += s
            .reserves
            .iter()
            .map(|r| (r / RESERVE_SCALE_NM).powi(2))
            .sum::<f64>();
        for k in 0..p.rows {
            let mut e = -p.b[k];
            for m in 0..nm {
                e += p.a[k * nm + m] * s.activations[m];
            }
            for (i, &r) in p.reserves.iter().enumerate() {
                if r == k {
                    e += s.reserves[i];
                }
            }
            f += RESIDUAL_WEIGHT * e * e;
        }
        f
    }

    /// Optimality residual of `s` for `p`, in activation units. The KKT conditions of
    /// the (strictly convex) problem are equivalent to the fixed point
    /// `a = clamp(A^T y)` with `y = Ω (b - A a)` (module doc) and the reserves at
    /// their row minimiser; this returns the largest `|a_m - clamp(A^T y)_m|` and the
    /// largest reserve error (N m). Zero only at the unique minimiser, but the map is
    /// ill-conditioned (`A^T Ω A` ~ 1e6-1e7 amplifies rounding in `a`): its floor in
    /// double precision is ~1e-7 on moderate problems and ~1e-4 when large residuals
    /// make `y` large (demand far beyond capacity).
    pub(crate) fn optimality_error(p: &Problem, s: &Solution) -> (f64, f64) {
        let nm = p.muscles;
        let w = RESIDUAL_WEIGHT;
        let c = 1.0 / (RESERVE_SCALE_NM * RESERVE_SCALE_NM);
        let mut y = vec![0.0; p.rows];
        let mut worst_r = 0.0f64;
        for (k, yk) in y.iter_mut().enumerate() {
            let mut e = p.b[k];
            for m in 0..nm {
                e -= p.a[k * nm + m] * s.activations[m];
            }
            let n = p.reserves.iter().filter(|&&r| r == k).count() as f64;
            let omega = if n > 0.0 { 1.0 / (1.0 / w + n / c) } else { w };
            *yk = omega * e;
            for (i, &r) in p.reserves.iter().enumerate() {
                if r == k {
                    let best = w * e / (c / n + w) / n;
                    worst_r = worst_r.max((s.reserves[i] - best).abs());
                }
            }
        }
        let mut worst_a = 0.0f64;
        for m in 0..nm {
            let at_y: f64 = (0..p.rows).map(|k| p.a[k * nm + m] * y[k]).sum();
            let target = at_y.clamp(p.min_activation, 1.0);
            worst_a = worst_a.max((s.activations[m] - target).abs());
        }
        (worst_a, worst_r)
    }

    /// Largest difference between two solutions: activations and reserves (N m).
    pub(crate) fn max_difference(x: &Solution, y: &Solution) -> (f64, f64) {
        let da = x
            .activations
            .iter()
            .zip(&y.activations)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        let dr = x
            .reserves
            .iter()
            .zip(&y.reserves)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        (da, dr)
    }
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

    #[test]
    fn columns_round_trip_and_reject_bad_order() {
        let a = [1.0, 0.0, 2.0, 0.0, 3.0, 4.0];
        let c = Columns::from_dense(&a, 2, 3);
        assert_eq!(c.len(), 3);
        assert_eq!(c.to_dense(2), a);
        assert!(c.valid(2) && !c.valid(1));
        let mut bad = Columns::new();
        bad.push(1, 1.0);
        bad.push(0, 1.0);
        bad.end_column();
        assert!(!bad.valid(2));
        let p = SparseProblem {
            columns: &bad,
            rows: 2,
            reserves: &[],
            b: &[1.0, 1.0],
            min_activation: 0.0,
        };
        assert!(Solver::new().solve_columns(&p).is_none());
        let mut nan = Columns::new();
        nan.push(0, f64::NAN);
        nan.end_column();
        assert!(!nan.valid(1));
        // Same answer, bit for bit, from the dense and the column form.
        let b = [1.5, 2.5];
        let dense = solve(&Problem {
            a: &a,
            rows: 2,
            muscles: 3,
            reserves: &[1],
            b: &b,
            min_activation: 0.01,
        })
        .unwrap();
        let mut s = Solver::new();
        let sparse = s
            .solve_columns(&SparseProblem {
                columns: &c,
                rows: 2,
                reserves: &[1],
                b: &b,
                min_activation: 0.01,
            })
            .unwrap();
        assert_eq!(dense.activations, sparse.activations);
        assert_eq!(dense.reserves, sparse.reserves);
    }

    #[test]
    fn rejects_malformed_problems() {
        let bad = Problem {
            a: &[f64::NAN],
            rows: 1,
            muscles: 1,
            reserves: &[],
            b: &[1.0],
            min_activation: 0.0,
        };
        assert!(solve(&bad).is_none());
        let bad = Problem {
            a: &[1.0],
            rows: 1,
            muscles: 1,
            reserves: &[1],
            b: &[1.0],
            min_activation: 0.0,
        };
        assert!(solve(&bad).is_none());
    }

    /// Deterministic pseudo-random numbers in [0, 1) (SplitMix64).
    fn rng(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Random problems shaped like the stance model's (14 rows, 92 muscles, moments of
    /// up to ~100 N m per activation, sparse: each muscle crosses a few joints), cold and
    /// warm-started, against Clarabel.
    ///
    /// The problems are ill-conditioned (residual weight x moment^2 ~ 1e6 against 1 for
    /// an activation), and Clarabel, even at 1e-10 tolerances, stops within ~1e-5 of
    /// the optimal cost but up to ~2e-2 from the optimal activations along the flat
    /// directions. So the strict checks are a cost never above Clarabel's, cold and
    /// warm starts agreeing to 1e-8, and the optimality conditions to their rounding
    /// floor; the distance to Clarabel's activations is bounded by Clarabel's own
    /// accuracy.
    #[test]
    fn matches_clarabel_on_random_problems() {
        let mut st = 12345u64;
        let mut warm = Solver::new();
        for case in 0..40 {
            let (rows, nm) = if case % 5 == 0 { (3, 7) } else { (14, 92) };
            let mut a = vec![0.0; rows * nm];
            for m in 0..nm {
                for r in 0..rows {
                    if rng(&mut st) < 0.25 {
                        a[r * nm + m] = (rng(&mut st) - 0.5) * 200.0;
                    }
                }
            }
            // Demands from feasible (some near saturation) to far beyond capacity.
            let scale = [10.0, 100.0, 1000.0][case % 3];
            let b: Vec<f64> = (0..rows).map(|_| (rng(&mut st) - 0.5) * scale).collect();
            let reserves: Vec<usize> = (0..rows).filter(|r| r % 3 == 1).collect();
            let p = Problem {
                a: &a,
                rows,
                muscles: nm,
                reserves: &reserves,
                b: &b,
                min_activation: 0.01,
            };
            let reference = reference::solve(&p).expect("clarabel");
            let cold = solve(&p).expect("cold");
            let hot = warm.solve(&p).expect("warm").clone();
            for s in [&cold, &hot] {
                let (da, dr) = reference::max_difference(s, &reference);
                let (f, fr) = (
                    reference::objective(&p, s),
                    reference::objective(&p, &reference),
                );
                let (ea, er) = reference::optimality_error(&p, s);
                assert!(
                    ea < 1e-3 && er < 1e-6,
                    "case {case}: optimality {ea:e}, {er:e}"
                );
                assert!(
                    f <= fr * (1.0 + 1e-12),
                    "case {case}: cost {f} vs Clarabel {fr}"
                );
                assert!(
                    f >= fr * (1.0 - 1e-3),
                    "case {case}: cost {f} vs Clarabel {fr}"
                );
                assert!(da < 0.05 && dr < 1e-3, "case {case}: da {da:e} dr {dr:e}");
            }
            // Cold and warm starts reach the same point (activations, reserves in N m);
            // repeated cold solves are bitwise identical.
            let (da, dr) = reference::max_difference(&cold, &hot);
            assert!(
                da < 1e-8 && dr < 1e-6,
                "case {case}: cold vs warm {da:e} {dr:e}"
            );
            let again = solve(&p).unwrap();
            assert_eq!(again.activations, cold.activations);
        }
    }
}
