//! Test support: a moto server per test on a free port (killed on drop, even
//! when the test fails), and helpers to run the gantry binary against it.

#![allow(dead_code, unused_imports)]

pub(crate) mod boot;

use std::path::Path;
use std::process::{Command, Output, Stdio};

pub(crate) use gantry_emulators::moto::{free_port, Moto};

/// Result of one gantry run.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run { code: o.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&o.stdout).into(), stderr: String::from_utf8_lossy(&o.stderr).into() }
    }
    /// Both streams, for assertion messages.
    pub(crate) fn all(&self) -> String {
        format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs the gantry binary with `env` (and a clean AWS/colour environment).
pub(crate) fn gantry(args: &[&str], env: &[(&str, String)], cwd: &Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("GANTRY_VAR_") || k == "GANTRY_WORKSPACE" {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1").env("CI", "true").env("GANTRY_SCALER_DIR", bundled_scaler_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run gantry"))
}

/// AWS settings pointing at a closed port of 127.0.0.1, with test
/// credentials: every call fails to connect.
pub(crate) fn unreachable_aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", free_port())),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
}

/// Copies a directory tree (a stack, or stacks/ and policies/).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A temporary repository checkout (a `.git` at its root) holding `files`
/// (name → content), and the
/// scaler fixture zip beside them: files a stack names must be inside its
/// repository ([`fixture_zip`]).
pub(crate) fn stack_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::copy(fixture_zip_path(), dir.path().join(fixture_zip())).unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// An ECR client pointed at `moto` (for setting up and checking state).
pub(crate) async fn ecr_client(moto: &Moto) -> aws_sdk_ecr::Client {
    let conf = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new("us-west-2"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_ecr::config::Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_ecr::Client::from_conf(conf)
}

/// An IAM client pointed at `moto`.
pub(crate) async fn iam_client(moto: &Moto) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// An SSM client pointed at `moto` in `region` (gantry-aws-wire's, as
/// gantry and the scaler call SSM).
fn ssm_client(moto: &Moto, region: &str) -> gantry_aws_wire::ssm::Ssm {
    let conf = aws_config::SdkConfig::builder()
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        )))
        .build();
    gantry_aws_wire::ssm::Ssm::new(&conf, region)
}

/// Creates a SecureString parameter in `moto`.
pub(crate) async fn put_secure(moto: &Moto, region: &str, name: &str, value: &str) {
    ssm_client(moto, region).put_parameter(&gantry_aws_wire::ssm::PutParameter::secure(name, value)).await.unwrap();
}

/// A Lambda client pointed at `moto` in `region`.
pub(crate) async fn lambda_client(moto: &Moto, region: &str) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new(region.to_string()))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// The test scaler zip (a stand-in `bootstrap`; moto never runs it).
/// A folder laid out as a release installs the bundled scaler, holding the
/// test stand-in for both architectures: every test run of gantry looks
/// only there (GANTRY_SCALER_DIR), so none builds the real scaler.
pub(crate) fn bundled_scaler_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bundled-scaler");
    std::fs::create_dir_all(&dir).unwrap();
    for arch in ["arm64", "x86_64"] {
        let name = format!("gantry-scaler-{}-{arch}.zip", env!("CARGO_PKG_VERSION"));
        if !dir.join(&name).exists() {
            // Copied aside under a name of its own and renamed into place:
            // tests run in parallel threads (and binaries), and whichever
            // rename lands last leaves the same bytes.
            let tmp = tempfile::NamedTempFile::new_in(&dir).unwrap();
            std::fs::copy(fixture_zip_path(), tmp.path()).unwrap();
            tmp.persist(dir.join(&name)).unwrap();
        }
    }
    dir
}

/// The scaler fixture zip as a stack names it: beside the stack files
/// ([`stack_dir`] puts it there).
pub(crate) fn fixture_zip() -> String {
    "scaler-fixture.zip".into()
}

/// Where the fixture zip lives in the repository.
pub(crate) fn fixture_zip_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scaler-fixture.zip")
}

/// Puts the agent token parameter the queues reference.
pub(crate) async fn put_token(moto: &Moto, region: &str, name: &str) {
    put_secure(moto, region, name, "secret-agent-token").await;
}

/// An S3 client pointed at `moto` (path-style).
pub(crate) async fn s3_client(moto: &Moto) -> aws_sdk_s3::Client {
    s3_client_in(moto, "us-west-2").await
}

/// An S3 client calling `region`'s endpoint (a bucket is created where its client calls).
pub(crate) async fn s3_client_in(moto: &Moto, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .endpoint_url(&moto.endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// One EC2 Query API call to `moto` in `region`, for test set-up (gantry
/// has no EC2 SDK client to lend): the answer's XML. moto takes the region
/// from the credential scope and does not check the signature.
pub(crate) async fn ec2_call(moto: &Moto, region: &str, action: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!("Action={action}&Version=2016-11-15");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)));
    }
    let auth = format!("AWS4-HMAC-SHA256 Credential=testing/20261205/{region}/ec2/aws4_request, SignedHeaders=host, Signature=0");
    let answer = reqwest::Client::new()
        .post(format!("{}/", moto.endpoint))
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert!(status.is_success(), "{action}: HTTP {status}: {text}");
    text
}

/// The text of the first `<name>` element of an answer.
pub(crate) fn xml_text(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{name}> in {xml}")) + open.len();
    xml[start..].split('<').next().unwrap_or_default().to_string()
}

/// The calls per service of the `--stats` line ("API calls: N total
/// (CloudFormation=2, Resource Groups Tagging API=1, …)"), in its order.
pub(crate) fn per_service(stderr: &str) -> Vec<(String, u64)> {
    let line = stderr.lines().find(|l| l.starts_with("API calls:")).unwrap_or_default();
    let inner = line.split_once('(').and_then(|(_, r)| r.split_once(')')).map(|(i, _)| i).unwrap_or_default();
    inner.split(", ").filter_map(|p| p.rsplit_once('=')).map(|(s, n)| (s.to_string(), n.parse().unwrap_or(0))).collect()
}

/// The number of API calls `--stats` reported for `service` (e.g. "IAM").
pub(crate) fn calls(stderr: &str, service: &str) -> u64 {
    per_service(stderr).into_iter().find(|(s, _)| s == service).map(|(_, n)| n).unwrap_or(0)
}

/// Asserts a call count, allowing one retry per request the realism proxy
/// throttled (the SDK retries those, and the counter counts every attempt).
pub(crate) fn assert_calls(moto: &Moto, stderr: &str, service: &str, want: u64) {
    let got = calls(stderr, service);
    let throttled = moto.fired().get("throttle").copied().unwrap_or(0);
    assert!(got >= want && got <= want + throttled, "{service}: {got} calls, want {want} (+ up to {throttled} throttled retries): {stderr}");
}

/// A pinned tool from the project's `.venv` (installed by
/// scripts/setup-emulators.sh), else the one on PATH.
pub(crate) fn venv_tool(name: &str) -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin").join(name);
    if venv.exists() {
        venv
    } else {
        std::path::PathBuf::from(name)
    }
}

/// Runs the pinned cfn-lint over `files` and fails on any error (exit-code
/// bit 2; warnings allowed).
pub(crate) fn cfn_lint(files: &[std::path::PathBuf]) {
    let bin = venv_tool("cfn-lint");
    let out =
        std::process::Command::new(&bin).args(files).output().unwrap_or_else(|e| panic!("cannot run {} ({e}); run scripts/setup-emulators.sh", bin.display()));
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code >= 0 && code & 2 == 0,
        "cfn-lint found errors (exit {code}):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CloudFormation client pointed at `moto` in `region`.
pub(crate) async fn cfn_client(moto: &Moto, region: &str) -> aws_sdk_cloudformation::Client {
    let conf = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudformation::config::Region::new(region.to_string()))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_cloudformation::Client::from_conf(conf)
}
