//! Trust for many repositories without a wildcard, end to end: a
//! `data "github_repositories"` read from the fake GitHub (organisation
//! listing, paged) feeds a ci_role's `repos`; a repository created later is
//! a broadening the apply refuses without review, one removed is not.

use crate::support::{gantry, stack_dir, Moto};
use gantry_emulators::github::FakeGithub;
use gantry_emulators::github_repos::Repo;

const STACK: &str = r#"
stack "models" {
  aws { region = "eu-west-1" }
}

data "github_repositories" "models" {
  owner       = "ersilia-os"
  name_prefix = "eos"
}

github_oidc_provider "github" {}

ci_role "upload" {
  provider = github_oidc_provider.github
  allow {
    repos    = data.github_repositories.models.full_names
    branches = ["main"]
  }
  policy_files = ["upload.json"]
}
"#;

const UPLOAD: &str =
    r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::ersilia-models/models/*"}]}"#;

fn repo(name: &str, archived: bool) -> Repo {
    Repo { full_name: format!("ersilia-os/{name}"), topics: vec!["ersilia-model".into()], archived, fork: false, org: true }
}

#[test]
fn every_repository_is_named_and_a_new_one_is_reviewed() {
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gh = rt.block_on(FakeGithub::start(0)).unwrap();
    // More than one page of 100.
    for i in 0..120 {
        gh.repos.add(repo(&format!("other{i:03}"), false));
    }
    for name in ["eos3b5e", "eos4e40"] {
        gh.repos.add(repo(name, false));
    }
    gh.repos.add(repo("eos-retired", true));
    let mut env = moto.env();
    env.push(("GANTRY_GITHUB_API", gh.endpoint()));
    let dir = stack_dir(&[("main.gantry.hcl", STACK), ("upload.json", UPLOAD)]);
    let d = dir.path().to_str().unwrap();

    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    for sub in ["repo:ersilia-os/eos3b5e:ref:refs/heads/main", "repo:ersilia-os/eos4e40:ref:refs/heads/main"] {
        assert!(r.stdout.contains(sub), "{sub} in the trust policy: {}", r.all());
    }
    assert!(!r.stdout.contains("eos-retired"), "archived repositories are left out: {}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // A new model repository: a broadening the apply refuses without review.
    gh.repos.add(repo("eos9zzz", false));
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("repo:ersilia-os/eos9zzz:ref:refs/heads/main"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 3, "a new repository is reviewed: {}", r.all());
    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // One removed: narrowing, applied without review.
    gh.repos.remove("ersilia-os/eos3b5e");
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}
