//! The AWS kinds' I/O halves, one folder each (driver, narrow API trait and
//! its SDK implementation, fake, driver tests); each re-exports the kind's
//! pure half from gantry-core and exports `driver(&AwsContext)`, its
//! registry entry.

pub mod agent_queue;
pub mod ci_role;
pub mod common;
pub mod ecr;
pub mod ecr_public;
pub mod oidc_provider;
pub mod s3_bucket;
