//! The engine: kind contract, pure diff and planning, the apply walker and
//! the local lock.

pub mod apply;
pub mod compare;
pub mod diff;
pub mod error;
pub mod kind;
pub mod lock;
pub mod planner;
pub mod s3_lock;
