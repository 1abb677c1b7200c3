//! Apply under faults: moto behind the proxy's seeded fault schedule (5xx,
//! throttling, resets, delays and lost responses — the work done, the
//! answer gone). For each seed, apply converges within 2 applies to an
//! empty re-plan, nothing is orphaned or duplicated, and destroy (also
//! under faults) leaves nothing behind.
//!
//! CI runs GANTRY_FAULT_SEEDS seeds (default 3); scripts/bench-faults.sh
//! runs many and prints the figures the README quotes.

use crate::support::{gantry, stack_dir, Moto, Run};
use gantry_emulators::faults::Faults;

const STACK: &str = r#"stack "faults" {
  aws { region = "us-west-2" }
  backend "s3" {
    bucket = "fault-locks"
  }
}

ecr_repository "cache" {
  scan_on_push = true
}

github_oidc_provider "github" {}

ci_role "push" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
  }
  policy_files = ["push.json"]
}

agent_queue "cpu" {
  instance_types        = ["c7i.2xlarge"]
  max_size              = 4
  image_ssm_parameter   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  agent_token_parameter = "/bk/token"
}
"#;

const PUSH: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
  {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"], "Resource": "${ecr_repository.cache.arn}"}
]}"#;

/// Clients that talk to moto itself, past the fault proxy: the test's own
/// reads must not be faulted.
struct Direct {
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    ecr: aws_sdk_ecr::Client,
    s3: aws_sdk_s3::Client,
    ssm: gantry_aws_wire::ssm::Ssm,
}

impl Direct {
    fn new(moto: &Moto) -> Direct {
        let conf = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-west-2"))
            .endpoint_url(&moto.moto_endpoint)
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "t",
            )))
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
        Direct {
            cfn: aws_sdk_cloudformation::Client::new(&conf),
            lambda: aws_sdk_lambda::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            ecr: aws_sdk_ecr::Client::new(&conf),
            s3,
            ssm: gantry_aws_wire::ssm::Ssm::new(&conf, "us-west-2"),
        }
    }

    /// What exists: (live stacks, functions, roles, repositories, OIDC providers, lock objects).
    async fn inventory(&self) -> [usize; 6] {
        let stacks = self.cfn.list_stacks().send().await.unwrap();
        let live = stacks.stack_summaries().iter().filter(|s| s.stack_status().is_some_and(|st| st.as_str() != "DELETE_COMPLETE")).count();
        let functions = self.lambda.list_functions().send().await.unwrap().functions().len();
        let roles = self.iam.list_roles().send().await.unwrap().roles().len();
        let repos = self.ecr.describe_repositories().send().await.unwrap().repositories().len();
        let providers = self.iam.list_open_id_connect_providers().send().await.unwrap().open_id_connect_provider_list().len();
        let locks = self.s3.list_objects_v2().bucket("fault-locks").send().await.unwrap().contents().len();
        [live, functions, roles, repos, providers, locks]
    }
}

/// Runs up to twice; how many runs it took (3: never), the last run, and
/// the error lines of a first run that failed.
fn apply(args: &[&str], env: &[(&str, String)], dir: &std::path::Path) -> (usize, Run, String) {
    let mut why = String::new();
    for attempt in 1..=2 {
        let r = gantry(args, env, dir);
        if r.code == 0 || attempt == 2 {
            return (if r.code == 0 { attempt } else { 3 }, r, why);
        }
        why = r.stderr.lines().filter(|l| l.contains("rror")).collect::<Vec<_>>().join(" | ");
    }
    unreachable!()
}

/// What the queue's agents and the lock need, made past the proxy; the stack directory.
fn prepare(rt: &tokio::runtime::Runtime, direct: &Direct) -> tempfile::TempDir {
    rt.block_on(async {
        direct.ssm.put_parameter(&gantry_aws_wire::ssm::PutParameter::secure("/bk/token", "t0k3n")).await.unwrap();
        let cfg = aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint("us-west-2".into()).build();
        direct.s3.create_bucket().bucket("fault-locks").create_bucket_configuration(cfg).send().await.unwrap();
    });
    stack_dir(&[("main.gantry.hcl", STACK), ("push.json", PUSH)])
}

/// What exists after apply: one of each — the queue's stack, its scaler
/// function, three roles (the ci_role, the queue's instance role and the
/// scaler's role), the repository and the provider — and no lock left.
const APPLIED: [usize; 6] = [1, 1, 3, 1, 1, 0];

/// Every write gantry makes for this stack whose answer, if lost, would
/// make a naive retry fail or duplicate: the creates without a client
/// token, the change set calls, the lock, and the removals on destroy.
const WRITES: &[&str] = &[
    "CreateChangeSet",
    "ExecuteChangeSet",
    "CreateFunction",
    "AddPermission",
    "CreateRole",
    "PutRolePolicy",
    "CreateRepository",
    "CreateOpenIDConnectProvider",
    "PutObject",
    "DeleteObject",
    "DeleteStack",
    "DeleteFunction",
    "DeleteRolePolicy",
    "DeleteRole",
    "DeleteRepository",
    "DeleteOpenIDConnectProvider",
];

/// The first answer to each write is lost (the work done, the connection
/// closed): the SDK retries, and gantry recognises its own work — one
/// apply, an empty re-plan, nothing duplicated; one destroy, nothing left.
#[test]
fn a_lost_answer_to_any_write_is_recognised_within_the_same_run() {
    let moto = Moto::start_losing_first_answer(WRITES);
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let direct = Direct::new(&moto);
    let dir = prepare(&rt, &direct);
    let d = dir.path();
    let r = gantry(&["apply", ".", "--auto-approve", "--allow-broadening"], &env, d);
    assert_eq!(r.code, 0, "one apply, lost answers and all: {}", r.all());
    assert!(r.stdout.contains("request whose answer was lost"), "a create was recognised by its tags: {}", r.all());
    let p = gantry(&["plan", ".", "--detailed-exitcode"], &env, d);
    assert_eq!(p.code, 0, "{}", p.all());
    assert_eq!(rt.block_on(direct.inventory()), APPLIED, "nothing duplicated");
    let r = gantry(&["destroy", ".", "--auto-approve"], &env, d);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(rt.block_on(direct.inventory()), [0; 6], "nothing left");
    let fired = moto.fired();
    assert!(fired.get("lost_first_answer").copied().unwrap_or(0) >= 12, "most writes lost an answer: {fired:?}");
    assert!(fired.get("token_replay").copied().unwrap_or(0) >= 2, "CloudFormation replayed the first answers: {fired:?}");
}

/// One seeded run: apply, re-plan, inventory, destroy, inventory.
/// Returns a description of what went wrong, if anything.
fn run_seed(seed: u64, per_mille: u64) -> Result<String, String> {
    let moto = Moto::start_with_faults(Faults { seed, per_mille });
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let direct = Direct::new(&moto);
    let dir = prepare(&rt, &direct);
    let d = dir.path();
    let (applies, r, why_apply) = apply(&["apply", ".", "--auto-approve", "--allow-broadening"], &env, d);
    if r.code != 0 {
        return Err(format!("seed {seed}: apply did not converge in 2 runs:\n{}", r.all()));
    }
    let p = gantry(&["plan", ".", "--detailed-exitcode"], &env, d);
    if p.code != 0 {
        return Err(format!("seed {seed}: re-plan after apply is not empty:\n{}", p.all()));
    }
    let after_apply = rt.block_on(direct.inventory());
    if after_apply != APPLIED {
        return Err(format!("seed {seed}: after apply (stacks, functions, roles, repositories, providers, locks): {after_apply:?}, want {APPLIED:?}"));
    }
    let (destroys, r, why_destroy) = apply(&["destroy", ".", "--auto-approve"], &env, d);
    if r.code != 0 {
        return Err(format!("seed {seed}: destroy did not converge in 2 runs:\n{}", r.all()));
    }
    let after_destroy = rt.block_on(direct.inventory());
    if after_destroy != [0; 6] {
        return Err(format!("seed {seed}: left behind after destroy (stacks, functions, roles, repositories, providers, locks): {after_destroy:?}"));
    }
    let fired = moto.fired();
    let faults: u64 = fired.iter().filter(|(k, _)| k.starts_with("fault_")).map(|(_, v)| v).sum();
    let mut kinds: Vec<_> = fired.into_iter().filter(|(k, _)| k.starts_with("fault_") || *k == "token_replay").collect();
    kinds.sort();
    let mut line = format!("seed {seed}: applies {applies}, destroys {destroys}, faults {faults} {kinds:?}");
    for (what, why) in [("first apply", why_apply), ("first destroy", why_destroy)] {
        if !why.is_empty() {
            line.push_str(&format!("\n  {what} failed: {why}"));
        }
    }
    Ok(line)
}

fn seeds() -> Vec<u64> {
    let n: u64 = std::env::var("GANTRY_FAULT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let first: u64 = std::env::var("GANTRY_FAULT_FIRST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    (first..first + n).collect()
}

#[test]
fn apply_converges_under_faults_without_orphans_or_duplicates() {
    let per_mille = std::env::var("GANTRY_FAULT_PER_MILLE").ok().and_then(|s| s.parse().ok()).unwrap_or(150);
    let mut failures = Vec::new();
    let seeds = seeds();
    for &seed in &seeds {
        match run_seed(seed, per_mille) {
            Ok(line) => eprintln!("{line}"),
            Err(e) => {
                eprintln!("FAILED {e}");
                failures.push(e);
            }
        }
    }
    eprintln!("fault runs converged: {}/{} (fault rate {per_mille}‰)", seeds.len() - failures.len(), seeds.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
