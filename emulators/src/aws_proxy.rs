//! A proxy in front of moto that adds the AWS behaviours moto lacks, so the
//! test suite meets them before a real account does. Every request is
//! forwarded unchanged unless one of these rules applies:
//!
//! - **Computed OIDC thumbprints.** `CreateOpenIDConnectProvider` without a
//!   thumbprint gets one, as IAM does ("If you don't provide a thumbprint,
//!   IAM automatically retrieves and uses the top intermediate CA
//!   thumbprint", IAM API reference), so a reader sees a value it never sent.
//! - **Role propagation.** A new IAM role cannot be assumed by Lambda for a
//!   few seconds: `CreateFunction` with a role first seen less than
//!   `role_delay` ago answers `InvalidParameterValueException: The role
//!   defined for the function cannot be assumed by Lambda.` (Lambda
//!   developer guide, troubleshooting deployment; aws-cdk and
//!   terraform-provider-aws retry on exactly this message).
//! - **Lambda states.** A new function is `Pending` and an updated one has
//!   `LastUpdateStatus: InProgress` for `function_delay`; another update in
//!   that window answers 409 `ResourceConflictException` ("Lambda function
//!   states", Lambda developer guide; the SDK waiters FunctionActiveV2 and
//!   FunctionUpdatedV2 wait these out).
//! - **Empty pages.** SSM `DescribeParameters` first answers an empty page
//!   with a `NextToken` (documented: "the request can return fewer results
//!   than MaxResults … including zero results, with a NextToken"), so a
//!   reader that stops at the first page misses everything.
//! - **Omitted defaults read as defaults.** Smithy clients leave out a
//!   boolean member equal to its default (`false`), and AWS reads the
//!   absence as that default; moto treats `PutImageScanningConfiguration`
//!   with `imageScanningConfiguration: {}` as "no change", so turning
//!   scan-on-push off would silently stay on. The proxy writes the `false`
//!   the real service assumes (ECR API reference: `scanOnPush`, "Required:
//!   No", default false).
//! - **Throttling.** Every `throttle_every`-th request of a throttled
//!   service answers that service's throttling error; the SDK's standard
//!   retry must absorb it.
//! - **CloudFormation request tokens** (see `cfn_tokens`): a repeated
//!   CreateChangeSet or ExecuteChangeSet succeeds only with the same token.
//! - **Tagging API for ECR** (see `tagging`): GetResources lists ECR
//!   repositories, as the real API does and moto's does not.
//! - **S3 GetBucketVersioning's document.** moto names its root element
//!   `GetBucketVersioningResponse`; S3 answers `<VersioningConfiguration>`
//!   (S3 API reference, GetBucketVersioning, "Response Syntax"), which the
//!   Rust SDK's parser requires.
//! - **ECR Public** (see `ecr_public`): served here whole, since moto has
//!   no such service.
//! - **Faults** (optional, see `faults`): a seeded schedule of 5xx,
//!   throttling, resets, delays and lost responses.

use crate::faults::Fault;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which real-API behaviours the proxy adds, and their timings.
#[derive(Debug, Clone)]
pub struct Realism {
    /// How long a newly seen role cannot be assumed by Lambda.
    pub role_delay: Duration,
    /// How long a function stays Pending / InProgress after a change.
    pub function_delay: Duration,
    /// SSM DescribeParameters starts with an empty page.
    pub empty_first_pages: bool,
    /// Answer every n-th throttleable request with a throttling error (0: never).
    pub throttle_every: u64,
    /// Add a computed thumbprint to OIDC providers created without one.
    pub compute_thumbprints: bool,
    /// A seeded fault schedule (none by default).
    pub faults: Option<crate::faults::Faults>,
    /// Operations (e.g. `CreateChangeSet`, `CreateFunction`) whose first
    /// request is done and then answered with a closed connection.
    pub lose_first_answer: Vec<&'static str>,
}

impl Default for Realism {
    /// Timings short enough for tests, long enough that a client that does
    /// not wait or retry fails.
    fn default() -> Self {
        Realism {
            role_delay: Duration::from_millis(1500),
            function_delay: Duration::from_millis(700),
            empty_first_pages: true,
            throttle_every: 9,
            compute_thumbprints: true,
            faults: None,
            lose_first_answer: Vec::new(),
        }
    }
}

impl Realism {
    /// No timing, throttling, paging or thumbprint rules.
    pub fn none() -> Self {
        Realism {
            role_delay: Duration::ZERO,
            function_delay: Duration::ZERO,
            empty_first_pages: false,
            throttle_every: 0,
            compute_thumbprints: false,
            faults: None,
            lose_first_answer: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Seen {
    /// Role ARN → when it was first seen.
    roles: HashMap<String, Instant>,
    /// Function name → (busy until, created (Pending) rather than updated).
    functions: HashMap<String, (Instant, bool)>,
    requests: u64,
    cfn: crate::cfn_tokens::CfnTokens,
    /// Operations whose first answer was already lost.
    lost_once: std::collections::HashSet<String>,
    /// What the proxy did, by rule (for tests to assert the rule fired).
    pub fired: HashMap<&'static str, u64>,
    ecr_public: crate::ecr_public::Registry,
    pricing: crate::aws_pricing::Catalogue,
    spot: crate::aws_spot::SpotHistory,
}

/// A running proxy.
#[derive(Clone)]
pub struct AwsProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Clone)]
struct Ctx {
    upstream: String,
    realism: Realism,
    seen: Arc<Mutex<Seen>>,
    http: reqwest::Client,
}

/// The marker token of an injected empty page.
const EMPTY_TOKEN: &str = "gantry-proxy-empty-page";

impl AwsProxy {
    /// Starts on a free port of 127.0.0.1, forwarding to `upstream`.
    pub async fn start(upstream: &str, realism: Realism) -> std::io::Result<AwsProxy> {
        Self::start_on(upstream, realism, 0).await
    }

    /// As [`AwsProxy::start`], on `port` (0: any free one).
    pub async fn start_on(upstream: &str, realism: Realism, port: u16) -> std::io::Result<AwsProxy> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let ctx = Ctx { upstream: upstream.trim_end_matches('/').to_string(), realism, seen: seen.clone(), http: reqwest::Client::new() };
        // Lambda accepts zips of up to 50 MB inline (base64 in JSON): far over axum's 2 MB default.
        let app = Router::new().fallback(handle).layer(axum::extract::DefaultBodyLimit::max(128 * 1024 * 1024)).with_state(ctx);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(AwsProxy { addr, seen })
    }

    /// The endpoint to give clients (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How often each rule fired (`thumbprint`, `role_delay`, `conflict`,
    /// `pending`, `empty_page`, `throttle`).
    /// Pushes `n` images into an ECR Public repository (as `docker push` would).
    pub fn push_public_images(&self, repository: &str, n: usize) {
        self.seen.lock().unwrap().ecr_public.push_images(repository, n);
    }

    /// Adds an EC2 price to the Price List API the proxy serves.
    pub fn set_price(&self, p: crate::aws_pricing::Ec2Price) {
        self.seen.lock().unwrap().pricing.add(p);
    }

    /// Sets a spot price: DescribeSpotPriceHistory answers it from now on.
    pub fn set_spot_price(&self, p: crate::aws_spot::SpotPrice) {
        self.seen.lock().unwrap().spot.add(p);
    }

    /// How often each fault fired, by name.
    pub fn fired(&self) -> HashMap<&'static str, u64> {
        self.seen.lock().unwrap().fired.clone()
    }
}

/// The signing service from the SigV4 `Authorization` header.
fn service_of(headers: &HeaderMap) -> String {
    scope_part(headers, 3)
}

/// The region a request is signed for.
fn region_of(headers: &HeaderMap) -> String {
    scope_part(headers, 2)
}

/// One part of the credential scope (`AKID/DATE/REGION/SERVICE/aws4_request`).
fn scope_part(headers: &HeaderMap, n: usize) -> String {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    auth.split("Credential=").nth(1).and_then(|c| c.split('/').nth(n)).unwrap_or_default().to_string()
}

/// The value of `key` in a form-encoded (AWS query protocol) body.
fn form_value(body: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// A deterministic 40-hex-digit "thumbprint" of a URL (FNV-1a, widened).
fn thumbprint(url: &str) -> String {
    (0..5u64)
        .map(|round| {
            let mut h: u64 = 0xcbf29ce484222325 ^ round;
            for b in url.bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x100000001b3);
            }
            format!("{:08X}", h as u32)
        })
        .collect()
}

/// The throttling answer in the wire protocol of `service`.
fn throttled(service: &str) -> Option<Response> {
    let xml = |code: &str| {
        let body = format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>Rate exceeded</Message></Error><RequestId>proxy-throttle</RequestId></ErrorResponse>");
        (StatusCode::BAD_REQUEST, [("content-type", "text/xml")], body).into_response()
    };
    let json = |code: &str| {
        (StatusCode::BAD_REQUEST, [("content-type", "application/x-amz-json-1.1")], json!({"__type": code, "message": "Rate exceeded"}).to_string())
            .into_response()
    };
    match service {
        "iam" | "cloudformation" => Some(xml("Throttling")),
        "ssm" | "ecr" => Some(json("ThrottlingException")),
        "lambda" => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("x-amzn-errortype", "TooManyRequestsException"), ("content-type", "application/json")],
                json!({"message": "Rate exceeded", "Type": "User", "Reason": "CallerRateLimitExceeded"}).to_string(),
            )
                .into_response(),
        ),
        _ => None,
    }
}

/// The operation a request calls, in each protocol's way of naming it:
/// the query protocol's `Action`, the JSON protocol's `X-Amz-Target`, and
/// for the REST APIs used here the method and path.
fn operation(service: &str, method: &Method, path: &str, action: &str, target: &str) -> String {
    if !action.is_empty() {
        return action.to_string();
    }
    if let Some((_, op)) = target.rsplit_once('.') {
        return op.to_string();
    }
    match (service, method.as_str(), lambda_target(path)) {
        ("lambda", "POST", Some((name, _))) if name.is_empty() => "CreateFunction".into(),
        ("lambda", "POST", Some((_, sub))) if sub == "policy" => "AddPermission".into(),
        ("lambda", "POST", Some((_, sub))) if sub == "url" => "CreateFunctionUrlConfig".into(),
        ("lambda", "POST", _) if path.ends_with("/url") => "CreateFunctionUrlConfig".into(),
        ("lambda", "DELETE", Some((name, sub))) if !name.is_empty() && sub.is_empty() => "DeleteFunction".into(),
        ("s3", "PUT", _) if path.trim_start_matches('/').contains('/') => "PutObject".into(),
        ("s3", "DELETE", _) => "DeleteObject".into(),
        _ => format!("{method} {path}"),
    }
}

/// A 5xx without a body worth reading (a load balancer's or the service's).
fn server_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, [("content-type", "text/plain")], format!("proxy fault: {code}")).into_response()
}

/// The connection closes before any answer: the body's first chunk is an
/// error, so the HTTP server drops the connection without a status line.
fn connection_reset() -> Response {
    let chunk = futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("proxy fault: reset")) });
    Response::new(axum::body::Body::from_stream(chunk))
}

fn lambda_error(status: StatusCode, kind: &str, message: String) -> Response {
    (status, [("x-amzn-errortype", kind), ("content-type", "application/json")], json!({"Type": "User", "message": message}).to_string()).into_response()
}

/// Lambda REST paths: (function name, sub-resource) of `/2015-03-31/functions/NAME[/SUB]`.
fn lambda_target(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/2015-03-31/functions")?;
    let mut parts = rest.trim_start_matches('/').splitn(2, '/');
    let name = parts.next().unwrap_or_default().to_string();
    Some((name, parts.next().unwrap_or_default().to_string()))
}

async fn handle(State(ctx): State<Ctx>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let service = service_of(&headers);
    let path = uri.path().to_string();
    let mut body = body.to_vec();
    let text = String::from_utf8_lossy(&body).into_owned();
    let r = &ctx.realism;
    let now = Instant::now();
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let action = form_value(&text, "Action").unwrap_or_default();
    let lambda = if service == "lambda" { lambda_target(&path) } else { None };

    if service == "ecr-public" {
        // The API has one endpoint, api.ecr-public.us-east-1.amazonaws.com: a client of
        // another region would find no host at all.
        if region_of(&headers) != "us-east-1" {
            return (StatusCode::BAD_GATEWAY, "proxy: ECR Public has no endpoint outside us-east-1").into_response();
        }
        let op = target.rsplit('.').next().unwrap_or_default();
        let req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
        let (status, answer) = ctx.seen.lock().unwrap().ecr_public.handle(op, &req);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return (status, [("content-type", "application/x-amz-json-1.1")], answer.to_string()).into_response();
    }

    if service == "pricing" {
        if !crate::aws_pricing::API_REGIONS.contains(&region_of(&headers).as_str()) {
            return (StatusCode::BAD_GATEWAY, "proxy: the Price List API has endpoints in us-east-1, eu-central-1 and ap-south-1 only").into_response();
        }
        let req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
        let (status, answer) = ctx.seen.lock().unwrap().pricing.handle(target.rsplit('.').next().unwrap_or_default(), &req);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return (status, [("content-type", "application/x-amz-json-1.1")], answer.to_string()).into_response();
    }

    if service == "ec2" && action == "DescribeSpotPriceHistory" {
        let (status, xml) = ctx.seen.lock().unwrap().spot.answer(&region_of(&headers), &|k| form_value(&text, k));
        return (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), [("content-type", "text/xml")], xml).into_response();
    }

    let form = |k: &str| form_value(&text, k);
    let cfn = crate::cfn_tokens::CfnRequest { action: &action, param: &form };
    let mut lost = None;
    {
        let mut seen = ctx.seen.lock().unwrap();
        seen.requests += 1;
        if let Some(fault) = r.faults.and_then(|f| f.pick(seen.requests)) {
            *seen.fired.entry(fault.name()).or_default() += 1;
            match fault {
                Fault::ServerError(code) => return server_error(code),
                Fault::Throttle => return throttled(&service).unwrap_or_else(|| server_error(503)),
                Fault::Reset => return connection_reset(),
                Fault::Delay(d) => lost = Some(Err(d)),
                Fault::LostResponse(close) => lost = Some(Ok(close)),
            }
        }
        if service == "cloudformation" {
            if let Some((rule, resp)) = seen.cfn.before(&cfn) {
                *seen.fired.entry(rule).or_default() += 1;
                return resp;
            }
        }
        if r.throttle_every > 0 && seen.requests % r.throttle_every == 0 {
            if let Some(resp) = throttled(&service) {
                *seen.fired.entry("throttle").or_default() += 1;
                return resp;
            }
        }
        if service == "iam" && action == "CreateRole" {
            if let Some(name) = form_value(&text, "RoleName") {
                seen.roles.insert(format!("role-name:{name}"), now);
            }
        }
        if let Some((name, sub)) = &lambda {
            let busy = seen.functions.get(name).map(|(until, _)| *until > now).unwrap_or(false);
            if method == Method::POST && name.is_empty() {
                // CreateFunction: the role must have propagated.
                let role = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["Role"].as_str().map(String::from)).unwrap_or_default();
                let by_name = role.rsplit('/').next().map(|n| format!("role-name:{n}"));
                let first = by_name.and_then(|k| seen.roles.get(&k).copied()).unwrap_or_else(|| *seen.roles.entry(role.clone()).or_insert(now));
                if now.duration_since(first) < r.role_delay {
                    *seen.fired.entry("role_delay").or_default() += 1;
                    return lambda_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidParameterValueException",
                        "The role defined for the function cannot be assumed by Lambda.".into(),
                    );
                }
            } else if method == Method::PUT && (sub == "code" || sub == "configuration") && busy {
                *seen.fired.entry("conflict").or_default() += 1;
                return lambda_error(
                    StatusCode::CONFLICT,
                    "ResourceConflictException",
                    format!("The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-west-2:123456789012:function:{name}"),
                );
            }
        }
    }

    if let Some(Err(delay)) = lost {
        tokio::time::sleep(delay).await;
    }

    // SSM DescribeParameters: an empty first page with a token.
    if service == "ssm" && target.ends_with(".DescribeParameters") && r.empty_first_pages {
        let mut req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
        if req.get("NextToken").is_none() {
            *ctx.seen.lock().unwrap().fired.entry("empty_page").or_default() += 1;
            return (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], json!({"Parameters": [], "NextToken": EMPTY_TOKEN}).to_string())
                .into_response();
        }
        if req["NextToken"] == EMPTY_TOKEN {
            req.as_object_mut().map(|m| m.remove("NextToken"));
            body = req.to_string().into_bytes();
        }
    }

    // ECR reads an omitted scanOnPush as false.
    if service == "ecr" && target.ends_with(".PutImageScanningConfiguration") {
        if let Ok(mut req) = serde_json::from_slice::<Value>(&body) {
            if let Some(conf) = req.get_mut("imageScanningConfiguration").and_then(Value::as_object_mut).filter(|c| !c.contains_key("scanOnPush")) {
                conf.insert("scanOnPush".into(), Value::Bool(false));
                body = req.to_string().into_bytes();
                *ctx.seen.lock().unwrap().fired.entry("omitted_default").or_default() += 1;
            }
        }
    }

    // IAM computes a thumbprint when none is given.
    if service == "iam" && action == "CreateOpenIDConnectProvider" && r.compute_thumbprints && !text.contains("ThumbprintList.member.1=") {
        let url = form_value(&text, "Url").unwrap_or_default();
        body.extend_from_slice(format!("&ThumbprintList.member.1={}", thumbprint(&url)).as_bytes());
        *ctx.seen.lock().unwrap().fired.entry("thumbprint").or_default() += 1;
    }

    let Some(mut up) = forward(&ctx, &method, &uri, &headers, body).await else {
        return (StatusCode::BAD_GATEWAY, "proxy: upstream unreachable").into_response();
    };
    if service == "cloudformation" && up.status.is_success() {
        ctx.seen.lock().unwrap().cfn.after(&cfn, &up.body);
    }
    if service == "tagging" && target.ends_with(".GetResources") && up.status.is_success() {
        let request: Value = serde_json::from_str(&text).unwrap_or(json!({}));
        let ecr = |target: &'static str, body: Value| ecr_call(&ctx, &headers, target, body);
        up.body = crate::tagging::with_ecr(&request, &up.body, ecr).await;
        *ctx.seen.lock().unwrap().fired.entry("tagging_ecr").or_default() += 1;
    }
    if service == "s3" && method == Method::GET && uri.query().is_some_and(|q| q.split('&').any(|p| p == "versioning" || p.starts_with("versioning="))) {
        if let Some(fixed) = s3_versioning_document(&up.body) {
            up.body = fixed;
            *ctx.seen.lock().unwrap().fired.entry("s3_versioning_document").or_default() += 1;
        }
    }
    // The first success of a chosen operation: done, and its answer lost.
    let op = operation(&service, &method, &path, &action, &target);
    if up.status.is_success() && r.lose_first_answer.contains(&op.as_str()) {
        let mut seen = ctx.seen.lock().unwrap();
        if seen.lost_once.insert(op) {
            *seen.fired.entry("lost_first_answer").or_default() += 1;
            return connection_reset();
        }
    }
    // The work is done; the answer never arrives.
    if let Some(Ok(close)) = lost {
        return if close { connection_reset() } else { server_error(504) };
    }
    if let Some((name, sub)) = lambda.filter(|_| up.status.is_success()) {
        let mut seen = ctx.seen.lock().unwrap();
        if method == Method::POST && name.is_empty() {
            // The new function is Pending for a while.
            let created = serde_json::from_slice::<Value>(&up.body).ok().and_then(|v| v["FunctionName"].as_str().map(String::from)).unwrap_or_default();
            seen.functions.insert(created, (now + r.function_delay, true));
            up.body = with_state(&up.body, "", Some(true));
        } else if method == Method::PUT && (sub == "code" || sub == "configuration") {
            seen.functions.insert(name.clone(), (now + r.function_delay, false));
            up.body = with_state(&up.body, "", Some(false));
        } else if method == Method::GET && (sub.is_empty() || sub == "configuration") {
            let key = if sub.is_empty() { "Configuration" } else { "" };
            let busy = seen.functions.get(&name).copied().filter(|(until, _)| *until > now);
            if busy.is_some() {
                *seen.fired.entry("pending").or_default() += 1;
            }
            up.body = with_state(&up.body, key, busy.map(|(_, created)| created));
        }
    }
    up.into_response()
}

/// moto's GetBucketVersioning answer with S3's root element, if it needs one.
fn s3_versioning_document(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    text.contains("<GetBucketVersioningResponse").then(|| text.replace("GetBucketVersioningResponse", "VersioningConfiguration").into_bytes())
}

/// Sets a function configuration's state (at `key`, or the top level):
/// `Some(true)` Pending (just created), `Some(false)` LastUpdateStatus
/// InProgress (just updated), `None` settled: Active and Successful, as
/// Lambda reports every function once it is ready.
fn with_state(bytes: &[u8], key: &str, busy: Option<bool>) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(bytes) else { return bytes.to_vec() };
    let conf = if key.is_empty() { &mut v } else { &mut v[key] };
    let (state, update) = match busy {
        Some(true) => ("Pending", "InProgress"),
        Some(false) => ("Active", "InProgress"),
        None => ("Active", "Successful"),
    };
    conf["State"] = json!(state);
    conf["LastUpdateStatus"] = json!(update);
    if busy == Some(true) {
        conf["StateReason"] = json!("The function is being created.");
        conf["StateReasonCode"] = json!("Creating");
    }
    v.to_string().into_bytes()
}

/// An upstream answer, buffered.
struct Upstream {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl IntoResponse for Upstream {
    fn into_response(self) -> Response {
        let mut headers = self.headers;
        if let Ok(v) = HeaderValue::from_str(&self.body.len().to_string()) {
            headers.insert("content-length", v);
        }
        let mut resp = (self.status, self.body).into_response();
        *resp.headers_mut() = headers;
        resp
    }
}

/// One call to moto's ECR JSON API, signed as the tagging request was
/// (moto routes by the credential scope's service; it checks no signature).
async fn ecr_call(ctx: &Ctx, headers: &HeaderMap, target: &'static str, body: Value) -> Option<Value> {
    let mut h = headers.clone();
    let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().replace("/tagging/", "/ecr/");
    h.insert("authorization", HeaderValue::from_str(&auth).ok()?);
    h.insert("x-amz-target", HeaderValue::from_static(target));
    h.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
    let up = forward(ctx, &Method::POST, &Uri::from_static("/"), &h, body.to_string().into_bytes()).await?;
    if !up.status.is_success() {
        return None;
    }
    serde_json::from_slice(&up.body).ok()
}

async fn forward(ctx: &Ctx, method: &Method, uri: &Uri, headers: &HeaderMap, body: Vec<u8>) -> Option<Upstream> {
    let url = format!("{}{}", ctx.upstream, uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut req = ctx.http.request(method.clone(), &url).body(body);
    for (k, v) in headers {
        if !matches!(k.as_str(), "host" | "content-length" | "transfer-encoding" | "connection") {
            req = req.header(k, v);
        }
    }
    let r = req.send().await.ok()?;
    let status = r.status();
    let mut out = HeaderMap::new();
    for (k, v) in r.headers() {
        if k != "transfer-encoding" && k != "connection" && k != "content-length" {
            out.insert(k.clone(), v.clone());
        }
    }
    let body = r.bytes().await.ok()?.to_vec();
    Some(Upstream { status, headers: out, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_documents_get_s3s_root() {
        let moto = br#"<?xml version="1.0" encoding="utf-8"?>
<GetBucketVersioningResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></GetBucketVersioningResponse>"#;
        let fixed = String::from_utf8(s3_versioning_document(moto).unwrap()).unwrap();
        assert!(fixed.contains("<VersioningConfiguration xmlns") && fixed.ends_with("</VersioningConfiguration>"), "{fixed}");
        assert_eq!(s3_versioning_document(b"<VersioningConfiguration/>"), None);
    }

    #[test]
    fn forms_and_thumbprints() {
        let body = "Action=CreateOpenIDConnectProvider&Url=https%3A%2F%2Ftoken.actions.githubusercontent.com&Version=2010-05-08";
        assert_eq!(form_value(body, "Action").as_deref(), Some("CreateOpenIDConnectProvider"));
        assert_eq!(form_value(body, "Url").as_deref(), Some("https://token.actions.githubusercontent.com"));
        let t = thumbprint("https://token.actions.githubusercontent.com");
        assert_eq!(t.len(), 40);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(lambda_target("/2015-03-31/functions/f/configuration"), Some(("f".into(), "configuration".into())));
        assert_eq!(lambda_target("/2015-03-31/functions"), Some((String::new(), String::new())));
    }
}
