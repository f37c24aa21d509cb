use crate::alloc_prelude::*;
use crate::dynamics::RigidBodyVelocity;
use crate::math::{DVector, Real};

/// A temporary workspace for various updates of the multibody.
#[cfg_attr(feature = "serde-serialize", derive(Serialize, Deserialize))]
#[derive(Clone, Debug)]
pub(crate) struct MultibodyWorkspace {
    pub accs: Vec<RigidBodyVelocity<Real>>,
    pub ndofs_vec: DVector,
    /// hipdrop patch: the DOFs each link's body Jacobian depends on (its own and its
    /// ancestors'), concatenated link after link; see `Multibody::update_mass_matrix`.
    pub mass_cols: Vec<usize>,
    /// hipdrop patch: `mass_cols[mass_col_start[i]..mass_col_start[i + 1]]` are link `i`'s.
    pub mass_col_start: Vec<usize>,
    /// hipdrop patch: the same as `mass_cols` when the body Jacobians were last updated.
    pub jac_cols: Vec<usize>,
    /// hipdrop patch: the same as `mass_col_start` for `jac_cols`.
    pub jac_col_start: Vec<usize>,
    /// hipdrop patch: scratch for recomputing the columns.
    pub scratch_cols: Vec<usize>,
    /// hipdrop patch: scratch for recomputing the column starts.
    pub scratch_col_start: Vec<usize>,
    /// hipdrop patch: one link's nonzero Jacobian columns, gathered contiguously.
    pub gathered: Vec<[Real; 6]>,
}

impl MultibodyWorkspace {
    /// Create an empty workspace.
    pub fn new() -> Self {
        MultibodyWorkspace {
            accs: Vec::new(),
            ndofs_vec: DVector::zeros(0),
            mass_cols: Vec::new(),
            mass_col_start: Vec::new(),
            jac_cols: Vec::new(),
            jac_col_start: Vec::new(),
            scratch_cols: Vec::new(),
            scratch_col_start: Vec::new(),
            gathered: Vec::new(),
        }
    }

    /// Resize the workspace so it is enough for `nlinks` links.
    pub fn resize(&mut self, nlinks: usize, ndofs: usize) {
        self.accs.resize(nlinks, RigidBodyVelocity::zero());
        self.ndofs_vec = DVector::zeros(ndofs)
    }
}
