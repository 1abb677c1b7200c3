//! The Google Cloud kinds' I/O halves, one folder each (driver, narrow API
//! trait and its implementation, fake, driver tests); each re-exports the
//! kind's pure half from gantry-core.

pub mod common;
pub mod gcp_custom_role;
pub mod gcp_service_account;
pub mod gcp_workload_identity_pool;
pub mod gpu_node;
pub mod tpu_node;
