//! One AWS Query service (Auto Scaling, and EC2's flavour of it): a signed
//! form-encoded `POST` naming the action and API version, an XML answer.
//! Errors are `<ErrorResponse><Error><Code>…` (EC2:
//! `<Response><Errors><Error><Code>…`), with the request id beside them
//! (Smithy `awsQuery` and `ec2Query` protocols).

use crate::error::CallError;
use crate::transport::Service;
use crate::xml::Element;
use aws_types::SdkConfig;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Form values are encoded as the SDKs' Query serializer does: everything
/// but the unreserved characters of RFC 3986.
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// AWS Query: the API version every action names.
pub struct Query {
    version: &'static str,
}

/// One service that speaks the Query protocol.
pub type QueryService = Service<Query>;

/// The body of `action`: `Action`, `Version`, then `params` (already
/// flattened: `Names.member.1`, `Tags.member.1.Key`, ...).
pub fn form(action: &str, version: &str, params: &[(String, String)]) -> String {
    let mut out = format!("Action={action}&Version={version}");
    for (k, v) in params {
        out.push_str(&format!("&{}={}", utf8_percent_encode(k, FORM), utf8_percent_encode(v, FORM)));
    }
    out
}

impl Service<Query> {
    /// A client of `service` (its signing name and endpoint prefix) in
    /// `region`, naming API `version` (`2011-01-01` for Auto Scaling).
    pub fn new(config: &SdkConfig, service: &'static str, version: &'static str, region: &str) -> QueryService {
        Service::with(config, service, region, Query { version })
    }

    /// One attempt of `action`: the answer's XML, or its error.
    pub async fn attempt(&self, action: &str, params: &[(String, String)]) -> Result<String, CallError> {
        let body = form(action, self.protocol.version, params).into_bytes();
        let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")];
        let answer = self.post(action, &headers, body).await?;
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        if (200..300).contains(&answer.status) {
            return Ok(text);
        }
        Err(query_error(answer.status, &text, answer.request_id))
    }

    /// `action`, retried as the SDKs' standard mode retries ([`crate::Retry`]).
    pub async fn call(&self, action: &str, params: &[(String, String)]) -> Result<String, CallError> {
        self.retried(action, || self.attempt(action, params)).await
    }
}

/// A Query error answer: its code and message, and the request id from
/// the document or else the `x-amzn-RequestId` header.
pub(crate) fn query_error(status: u16, body: &str, header_request_id: Option<String>) -> CallError {
    let doc = Element::parse(body, &["Errors", "Error"]).ok();
    let error = doc.as_ref().and_then(|d| d.find("Error"));
    let code = error.and_then(|e| e.text_of("Code")).filter(|c| !c.is_empty()).map(String::from).unwrap_or_else(|| format!("HTTP {status}"));
    let message = match error.and_then(|e| e.text_of("Message")) {
        Some(m) => m.to_string(),
        None => body.chars().take(200).collect(),
    };
    let in_doc = doc.as_ref().and_then(|d| d.text_of("RequestId").or_else(|| d.text_of("RequestID"))).filter(|r| !r.is_empty()).map(String::from);
    CallError::Service { status, code, message, request_id: in_doc.or(header_request_id) }
}
