//! The engine: kind contract, pure diff and planning, the apply walker and
//! the local lock.

pub mod apply;
pub mod diff;
pub mod lock;
pub mod planner;
pub mod s3_lock;
pub mod stages;
