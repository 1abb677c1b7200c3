//! The AWS clients: SDK configuration (region, endpoint, retries, timeouts)
//! and error classification, the EC2 reads over the Query API, tagging,
//! pricing, managed policies and the S3 lock store, and the SDK interceptor
//! that counts calls.

pub mod aws;
pub mod ec2;
pub mod ec2_xml;
pub mod managed_policies;
pub mod pricing;
pub mod s3;
pub mod stats;
pub(crate) mod tagged_cache;
pub(crate) mod tagging;
