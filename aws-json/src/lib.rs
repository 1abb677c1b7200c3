//! Calls to AWS services without their SDK crates, for the few operations
//! gantry and its scaler make on services whose generated crate costs far
//! more to compile than the calls are worth: aws-sdk-ssm alone was 72 of
//! the 816 CPU-seconds of a clean test build, for six operations.
//!
//! Everything that is hard to get right comes from the SDK's own crates,
//! already in the tree through aws-config: credentials from the
//! `SdkConfig`'s provider chain, the SigV4 signer (`aws-sigv4`), and which
//! error codes are throttling or transient (`aws-runtime`'s retry
//! classifiers). What is written here is the wire format of the AWS JSON
//! 1.1 protocol (Smithy `awsJson1_1`): a signed `POST /` of a JSON body
//! naming the operation in `X-Amz-Target`; errors carry their code in
//! `__type` (or the `x-amzn-ErrorType` header) and the request id in
//! `x-amzn-RequestId`.
//!
//! [`Signer`] also signs the EC2 Query reads (gantry-aws `cloud::ec2`).

mod error;
mod json_service;
mod signer;
pub mod ssm;

pub use error::CallError;
pub use json_service::{endpoint, http_client, JsonService, Retry};
pub use signer::Signer;

#[cfg(test)]
mod tests;
