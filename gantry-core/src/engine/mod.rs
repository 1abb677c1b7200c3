//! The engine: kind contract, pure diff and planning, the plan's stages and
//! their order (`pipeline`, with the managed-policy lint and the cost
//! ceilings), the apply walker and the local lock.

pub mod apply;
pub mod ceilings;
pub mod diff;
pub mod lock;
pub mod managed_lint;
pub mod pipeline;
pub mod planner;
pub mod s3_lock;
pub mod stages;
