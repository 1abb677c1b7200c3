//! Starts moto (the AWS emulator) on a free port and stops it on drop, even
//! when the test using it fails.
//!
//! A stopped server is reset (moto's `POST /moto-api/reset`, which drops
//! every backend's state) and kept for the next [`Moto`] of the same
//! process, which then skips starting Python and importing moto's services.
//! moto is about half the CPU the integration tests spend (perf, 2 cores).
//! A kept server exits with the process that started it
//! (moto_server_plus.py watches its parent).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Reset servers waiting for the next test: (process, port).
static IDLE: Mutex<Vec<(Child, u16)>> = Mutex::new(Vec::new());

/// At most this many idle servers are kept (the tests run four at a time).
const MAX_IDLE: usize = 6;

/// A running moto server, by default behind the [`AwsProxy`](crate::aws_proxy::AwsProxy)
/// that adds the real-API behaviours moto lacks.
pub struct Moto {
    /// None once stopped or handed back.
    child: Option<Child>,
    /// The port moto listens on (127.0.0.1).
    pub port: u16,
    /// Where clients go: the proxy in front of moto.
    pub endpoint: String,
    /// moto's own address.
    pub moto_endpoint: String,
    proxy: Option<(crate::aws_proxy::AwsProxy, tokio::runtime::Runtime)>,
}

/// The moto_server binary: `GANTRY_MOTO_SERVER`, else the project's `.venv`.
pub fn moto_binary() -> PathBuf {
    if let Ok(p) = std::env::var("GANTRY_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    assert!(local.exists(), "moto_server not found at {}; run scripts/setup-emulators.sh (or set GANTRY_MOTO_SERVER)", local.display());
    local
}

/// True when `GANTRY_MOTO_SERVER` names a moto of the caller's: it is run
/// as is, without moto_server_plus.py (so it is never kept between tests:
/// only that launcher exits with its parent).
fn custom_server() -> bool {
    std::env::var_os("GANTRY_MOTO_SERVER").is_some()
}

/// The command that starts moto: `GANTRY_MOTO_SERVER` as is, else the
/// project's moto through moto_server_plus.py (moto plus the public SSM
/// parameters real AWS has and moto lacks; see that file).
fn moto_command() -> Command {
    if custom_server() {
        return Command::new(moto_binary());
    }
    let python = moto_binary().with_file_name("python");
    let mut cmd = Command::new(python);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_server_plus.py"));
    cmd
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// True when `GET path` on the port answers 200.
pub fn http_ok(port: u16, path: &str) -> bool {
    answers_200(port, "GET", path, Duration::from_secs(2))
}

/// True when `method path` (no body) on the port answers 200 within `wait`.
fn answers_200(port: u16, method: &str, path: &str, wait: Duration) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(wait));
    let request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 32];
    matches!(s.read(&mut buf), Ok(n) if n > 12 && buf[9..12] == *b"200")
}

/// An idle server that still answers, if any (a dead one is reaped).
fn take_idle() -> Option<(Child, u16)> {
    let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    while let Some((mut child, port)) = idle.pop() {
        if matches!(child.try_wait(), Ok(None)) && http_ok(port, "/moto-api/") {
            return Some((child, port));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    None
}

/// Keeps a server for the next test once its state is reset; else stops it.
fn keep_or_stop(mut child: Child, port: u16) {
    let reset = || answers_200(port, "POST", "/moto-api/reset", Duration::from_secs(30));
    if !custom_server() && matches!(child.try_wait(), Ok(None)) && reset() {
        let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push((child, port));
            return;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Moto {
    /// Starts moto behind the realism proxy (role propagation delay, Lambda
    /// states and conflicts, empty pages, throttling, computed thumbprints).
    pub fn start() -> Moto {
        Self::start_with(Some(crate::aws_proxy::Realism::default()))
    }

    /// Starts moto behind the proxy with none of its timing, throttling or
    /// paging rules (tests that count calls exactly): the proxy still serves
    /// what moto lacks (ECR Public) and corrects the shapes it gets wrong.
    pub fn start_plain() -> Moto {
        Self::start_with(Some(crate::aws_proxy::Realism::none()))
    }

    /// Pushes `n` images into an ECR Public repository.
    pub fn push_public_images(&self, repository: &str, n: usize) {
        if let Some((p, _)) = &self.proxy {
            p.push_public_images(repository, n);
        }
    }

    /// Adds an EC2 price to the Price List API the proxy serves.
    pub fn set_price(&self, p: crate::aws_pricing::Ec2Price) {
        if let Some((proxy, _)) = &self.proxy {
            proxy.set_price(p);
        }
    }

    /// Adds a current spot price to the EC2 spot price history the proxy serves.
    pub fn set_spot_price(&self, p: crate::aws_spot::SpotPrice) {
        if let Some((proxy, _)) = &self.proxy {
            proxy.set_spot_price(p);
        }
    }

    /// Starts moto behind the realism proxy with a seeded fault schedule
    /// (5xx, throttling, resets, delays, lost responses).
    pub fn start_with_faults(faults: crate::faults::Faults) -> Moto {
        Self::start_with(Some(crate::aws_proxy::Realism { faults: Some(faults), ..Default::default() }))
    }

    /// Starts moto behind the realism proxy; the first request of each of
    /// `ops` is done and its answer lost (the connection closes).
    pub fn start_losing_first_answer(ops: &[&'static str]) -> Moto {
        Self::start_with(Some(crate::aws_proxy::Realism { lose_first_answer: ops.to_vec(), ..Default::default() }))
    }

    /// What the proxy did so far, by rule (empty without a proxy).
    pub fn fired(&self) -> std::collections::HashMap<&'static str, u64> {
        self.proxy.as_ref().map(|(p, _)| p.fired()).unwrap_or_default()
    }

    fn start_with(realism: Option<crate::aws_proxy::Realism>) -> Moto {
        let mut moto = Self::launch();
        if let Some(r) = realism {
            // Started from a thread of its own: callers may be inside a runtime
            // (#[tokio::test]), where blocking on another one panics.
            let upstream = moto.moto_endpoint.clone();
            let (proxy, rt) = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("proxy runtime");
                let proxy = rt.block_on(crate::aws_proxy::AwsProxy::start(&upstream, r)).expect("start the AWS realism proxy");
                (proxy, rt)
            })
            .join()
            .expect("proxy start");
            moto.endpoint = proxy.endpoint();
            moto.proxy = Some((proxy, rt));
        }
        moto
    }

    /// Takes a reset idle server, else starts moto and waits until it answers.
    fn launch() -> Moto {
        if let Some((child, port)) = take_idle() {
            let endpoint = format!("http://127.0.0.1:{port}");
            return Moto { child: Some(child), port, endpoint: endpoint.clone(), moto_endpoint: endpoint, proxy: None };
        }
        for _attempt in 0..3 {
            let port = free_port();
            let child = moto_command()
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                // Every real account has the AWS managed policies; gantry reads
                // their documents at plan time (moto leaves them out by default).
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .env("GANTRY_MOTO_PARENT", std::process::id().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto ({}): {e}", moto_binary().display()));
            let endpoint = format!("http://127.0.0.1:{port}");
            let mut moto = Moto { child: Some(child), port, endpoint: endpoint.clone(), moto_endpoint: endpoint, proxy: None };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if http_ok(port, "/moto-api/") {
                    return moto;
                }
                if let Some(Ok(Some(_))) = moto.child.as_mut().map(Child::try_wait) {
                    break; // lost a port race: try another port
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if let Some(mut child) = moto.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        panic!("moto did not start");
    }

    /// Environment for an AWS client of this moto (test credentials only).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_REGION", "us-west-2".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some((_, rt)) = self.proxy.take() {
            rt.shutdown_background();
        }
        if let Some(child) = self.child.take() {
            keep_or_stop(child, self.port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moto serves S3 path-style without checking signatures.
    fn bucket_exists(port: u16, bucket: &str) -> bool {
        http_ok(port, &format!("/{bucket}"))
    }

    /// An IAM Query call; moto picks the service from the credential scope
    /// and does not check the signature. Returns the HTTP status.
    fn iam(port: u16, query: &str) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00";
        let body = format!("{query}&Version=2010-05-08");
        let req = format!("POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    #[test]
    fn a_kept_server_comes_back_reset() {
        let first = Moto::start_plain();
        assert!(answers_200(first.port, "PUT", "/left-behind", Duration::from_secs(10)), "create a bucket");
        assert!(bucket_exists(first.port, "left-behind"));
        let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(iam(first.port, &format!("Action=CreateRole&RoleName=left-behind&AssumeRolePolicyDocument={trust}")), 200, "create a role");
        assert_eq!(iam(first.port, "Action=GetRole&RoleName=left-behind"), 200);
        let port = first.port;
        drop(first);
        let second = Moto::start_plain();
        assert_eq!(second.port, port, "the idle server is reused (this is the only test here that starts moto)");
        assert!(!bucket_exists(second.port, "left-behind"), "a reused server holds nothing of the test before");
        assert_eq!(iam(second.port, "Action=GetRole&RoleName=left-behind"), 404, "IAM too (its reset only drops the backend)");
        // The managed policies every account has are there again.
        assert_eq!(iam(second.port, "Action=GetPolicy&PolicyArn=arn:aws:iam::aws:policy/ReadOnlyAccess"), 200);
    }

    #[test]
    fn the_launcher_exits_with_the_process_that_started_it() {
        if custom_server() {
            return; // only our launcher watches its parent
        }
        let port = free_port();
        // A shell starts moto (the command launch() runs) and exits at once,
        // as a test process would.
        let cmd = moto_command();
        let words: Vec<String> = std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|w| format!("'{}'", w.to_string_lossy())).collect();
        let script = format!("GANTRY_MOTO_PARENT=$$ {} -p {port} >/dev/null 2>&1 & echo $!", words.join(" "));
        let out = Command::new("sh").args(["-c", &script]).output().expect("sh");
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // Gone, or a zombie its adoptive parent has not reaped yet.
        let running =
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'));
        let deadline = Instant::now() + Duration::from_secs(30);
        while running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(!running(), "moto ({pid}) outlived the shell that started it");
    }
}
