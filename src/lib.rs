//! hipdrop: a muscle-driven model of single-leg stance in which pelvic drop, and the knee's
//! inward movement with it, emerge from hip-abductor weakness through the physics.
#![warn(missing_docs)]

pub mod export;
pub mod math;
pub mod measures;
pub mod merge;
pub mod model;
pub mod muscle;
pub mod output;
pub mod plot;
pub mod qp;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod slurm;
pub mod sweep;
pub mod task;
