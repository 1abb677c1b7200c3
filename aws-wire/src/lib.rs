//! Calls to AWS services without their SDK crates, for the few operations
//! gantry and its scaler make on services whose generated crate costs far
//! more to compile than the calls are worth: aws-sdk-ssm was 72 and
//! aws-sdk-autoscaling 25 of the 816 CPU-seconds of a clean test build,
//! for six and five operations.
//!
//! Everything that is hard to get right comes from the SDK's own crates,
//! already in the tree through aws-config: credentials from the
//! `SdkConfig`'s provider chain, the SigV4 signer (`aws-sigv4`), the XML
//! decoder (`aws-smithy-xml`), and which error codes are throttling or
//! transient (`aws-runtime`'s retry classifiers). What is written here is
//! the wire format of two protocols:
//! - AWS JSON 1.1 (Smithy `awsJson1_1`, [`JsonService`]): a signed `POST /`
//!   of a JSON body naming the operation in `X-Amz-Target`; errors carry
//!   their code in `__type` (or the `x-amzn-ErrorType` header) and the
//!   request id in `x-amzn-RequestId`.
//! - AWS Query (Smithy `awsQuery`, [`QueryService`]): a signed form-encoded
//!   `POST /` of `Action`, `Version` and flattened parameters; an XML
//!   answer, errors as `<ErrorResponse><Error><Code>` (gantry-aws's EC2
//!   reads use it too).

pub mod autoscaling;
mod endpoint;
mod error;
mod json_service;
mod query_service;
mod signer;
pub mod ssm;
mod transport;
pub mod xml;

#[cfg(test)]
use endpoint::endpoint;
pub use error::CallError;
pub use json_service::{Json, JsonService};
#[cfg(test)]
use query_service::query_error;
pub use query_service::{form, Query, QueryService};
pub use transport::{Retry, Service};

#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod tests;
