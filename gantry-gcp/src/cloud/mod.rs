//! The Google Cloud clients: Compute Engine and Cloud TPU (google-cloud-rust,
//! with gantry's retry loop and call count), IAM and the Cloud Billing
//! catalog over REST.

pub mod gcp;
pub mod gcp_catalog;
pub(crate) mod gcp_iam;
pub(crate) mod gcp_rest;
