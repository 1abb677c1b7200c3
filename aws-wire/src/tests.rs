use super::ssm::{ParameterFilter, PutParameter, Ssm, Tag};
use super::*;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that answers each connection with the next of `answers`
/// (status, headers, body) and keeps each request whole.
pub(crate) async fn serve(answers: Vec<(u16, &'static str, &'static str)>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (status, headers, body) in answers {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut request = String::new();
            // The head, then the body its content-length announces.
            while !request.contains("\r\n\r\n") || request.split("\r\n\r\n").nth(1).is_some_and(str::is_empty) {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            seen.push(request);
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(reply.as_bytes()).await.unwrap();
        }
        seen
    });
    (url, task)
}

/// The JSON body of a request `serve` kept.
fn body(request: &str) -> serde_json::Value {
    serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap()
}

pub(crate) fn config(endpoint: &str) -> SdkConfig {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
    SdkConfig::builder().endpoint_url(endpoint).credentials_provider(SharedCredentialsProvider::new(creds)).build()
}

const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
const NOT_FOUND: &str = r#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":""}"#;

#[tokio::test]
async fn throttling_is_retried_and_requests_are_signed_json_with_their_target() {
    let (url, server) = serve(vec![
        (400, "x-amzn-requestid: r-1\r\n", THROTTLED),
        (200, "", r#"{"Parameter":{"Name":"/bk/token","Type":"SecureString","Value":"t0k3n","Version":2}}"#),
    ])
    .await;
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = attempts.clone();
    let ssm = Ssm::new(&config(&url), "us-west-2").observed(move |op| {
        assert_eq!(op, "GetParameter");
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let p = ssm.get_parameter("/bk/token").await.unwrap();
    assert_eq!((p.name.as_str(), p.kind.as_str(), p.value.as_str(), p.version), ("/bk/token", "SecureString", "t0k3n", 2));
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "every attempt is told");
    let seen = server.await.unwrap();
    let head = seen[1].to_lowercase();
    assert!(head.starts_with("post / http/1.1"), "{head}");
    assert!(head.contains("x-amz-target: amazonssm.getparameter") && head.contains("content-type: application/x-amz-json-1.1"), "{head}");
    assert!(head.contains("authorization: aws4-hmac-sha256 credential=akidexample/") && head.contains("/us-west-2/ssm/aws4_request"), "{head}");
    assert!(head.contains("signedheaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"), "the target is signed: {head}");
    assert_eq!(body(&seen[1]), serde_json::json!({"Name": "/bk/token", "WithDecryption": true}));
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_names_its_code_without_the_namespace() {
    let (url, server) = serve(vec![(400, "x-amzn-requestid: r-2\r\n", NOT_FOUND)]).await;
    let e = Ssm::new(&config(&url), "us-west-2").delete_parameter("/nope").await.unwrap_err();
    assert_eq!(e.code(), Some("ParameterNotFound"));
    assert!(!e.retryable());
    assert_eq!(e.to_string(), "ParameterNotFound:  (request id r-2)");
    assert_eq!(server.await.unwrap().len(), 1, "asked once");
}

#[tokio::test]
async fn the_error_type_header_names_the_code_and_5xx_are_retried_three_times_in_all() {
    let down = r#"{"message":"internal"}"#;
    let header = "x-amzn-errortype: InternalServerError:http://internal.amazon.com/coral/com.amazonaws.ssm/\r\n";
    let (url, server) = serve(vec![(500, header, down), (500, header, down), (500, header, down)]).await;
    let e = Ssm::new(&config(&url), "us-west-2").missing(&["/a".into()]).await.unwrap_err();
    assert_eq!(e, CallError::Service { status: 500, code: "InternalServerError".into(), message: "internal".into(), request_id: None });
    assert_eq!(server.await.unwrap().len(), 3);
}

#[tokio::test]
async fn more_than_ten_names_are_asked_ten_at_a_time() {
    let (url, server) = serve(vec![(200, "", r#"{"Parameters":[],"InvalidParameters":["/p/3"]}"#), (200, "", r#"{"InvalidParameters":["/p/11"]}"#)]).await;
    let names: Vec<String> = (1..=12).map(|i| format!("/p/{i}")).collect();
    let missing = Ssm::new(&config(&url), "us-west-2").missing(&names).await.unwrap();
    assert_eq!(missing, ["/p/3", "/p/11"]);
    let seen = server.await.unwrap();
    assert_eq!(body(&seen[0])["Names"].as_array().map(Vec::len), Some(10));
    assert_eq!(body(&seen[1])["Names"], serde_json::json!(["/p/11", "/p/12"]));
}

#[tokio::test]
async fn describe_follows_every_page_even_an_empty_one() {
    let (url, server) = serve(vec![
        (200, "", r#"{"Parameters":[],"NextToken":"t2"}"#),
        (200, "", r#"{"Parameters":[{"Name":"/jit/i-1","LastModifiedDate":1.7E9,"Tier":"Standard"}]}"#),
    ])
    .await;
    let filter = ParameterFilter { key: "Path".into(), option: "OneLevel".into(), values: vec!["/jit".into()] };
    let found = Ssm::new(&config(&url), "us-west-2").describe(&[filter]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].name.as_str(), found[0].last_modified_date), ("/jit/i-1", Some(1.7e9)));
    let seen = server.await.unwrap();
    let first = serde_json::json!({"MaxResults": 50, "ParameterFilters": [{"Key": "Path", "Option": "OneLevel", "Values": ["/jit"]}]});
    assert_eq!(body(&seen[0]), first, "no NextToken on the first page");
    assert_eq!(body(&seen[1])["NextToken"], "t2");
}

#[tokio::test]
async fn a_put_sends_tags_and_tier_and_leaves_out_what_is_unset() {
    let (url, server) = serve(vec![(200, "", r#"{"Version":1,"Tier":"Standard"}"#)]).await;
    let put = PutParameter {
        name: "/jit/i-1".into(),
        value: "cfg".into(),
        kind: "SecureString".into(),
        tier: Some("Standard".into()),
        tags: vec![Tag { key: "gantry:instance".into(), value: "arn:i-1".into() }],
        ..Default::default()
    };
    Ssm::new(&config(&url), "us-west-2").put_parameter(&put).await.unwrap();
    let seen = server.await.unwrap();
    let want = serde_json::json!({"Name": "/jit/i-1", "Value": "cfg", "Type": "SecureString", "Tier": "Standard", "Tags": [{"Key": "gantry:instance", "Value": "arn:i-1"}]});
    assert_eq!(body(&seen[0]), want, "no Overwrite: unset members are left out");
}

#[tokio::test]
async fn no_answer_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = Ssm::new(&config(&format!("http://127.0.0.1:{port}")), "us-west-2").get_parameter("/x").await.unwrap_err();
    assert!(matches!(e, CallError::Network(_)), "{e:?}");
}

#[test]
fn the_endpoint_is_the_configured_one_else_the_regions() {
    assert_eq!(endpoint(&config("http://127.0.0.1:5000"), "ssm", "us-west-2"), Ok("http://127.0.0.1:5000/".to_string()));
    let none = SdkConfig::builder().build();
    assert_eq!(endpoint(&none, "ssm", "eu-west-1"), Ok("https://ssm.eu-west-1.amazonaws.com/".to_string()));
    assert_eq!(endpoint(&none, "ssm", "cn-north-1"), Ok("https://ssm.cn-north-1.amazonaws.com.cn/".to_string()));
}

#[tokio::test]
async fn a_refused_configuration_sends_nothing_and_is_not_retried() {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let conf = SdkConfig::builder().endpoint_url("http://127.0.0.1:9").use_fips(true).credentials_provider(SharedCredentialsProvider::new(creds)).build();
    let e = Ssm::new(&conf, "us-west-2").get_parameter("/x").await.unwrap_err();
    assert_eq!(e, CallError::Config("Invalid Configuration: FIPS and custom endpoint are not supported".into()));
    assert!(!e.retryable());
}
