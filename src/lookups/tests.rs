use super::api::{Bucket, Network, OidcProviderFacts, RepositoryFacts, RepositoryListing, RoleFacts, Subnet, Vpc};
use super::fake::FakeLookups;
use super::*;
use crate::core::placeholder;
use serde_json::json;

fn apis(f: FakeLookups) -> LookupApis {
    let f = Arc::new(f);
    LookupApis {
        aws: Some(f.clone()),
        gcp: Some(f.clone()),
        github: Some(f),
        region: "us-west-2".into(),
        account_id: "123456789012".into(),
        project: "ml-ci".into(),
    }
}

fn args(v: serde_json::Value) -> State {
    v.as_object().unwrap().clone()
}

fn vpc(id: &str, tags: &[(&str, &str)], default: bool) -> Vpc {
    Vpc {
        id: id.into(),
        cidr_block: "10.0.0.0/16".into(),
        is_default: default,
        owner_id: "123456789012".into(),
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn subnet(id: &str, vpc: &str, zone: &str, tier: &str) -> Subnet {
    Subnet {
        id: id.into(),
        vpc_id: vpc.into(),
        availability_zone: zone.into(),
        cidr_block: format!("10.0.{}.0/24", id.len()),
        tags: [("tier".to_string(), tier.to_string())].into(),
    }
}

async fn read(name: &str, a: serde_json::Value, f: FakeLookups) -> Result<State, LookupError> {
    by_name(name).unwrap().read(&args(a), &apis(f)).await
}

#[tokio::test]
async fn a_vpc_must_match_exactly_once() {
    let f = || FakeLookups { vpcs: vec![vpc("vpc-1", &[("team", "ml")], false), vpc("vpc-2", &[("team", "ml"), ("env", "ci")], true)], ..Default::default() };
    let one = read("vpc", json!({"tags": {"env": "ci"}}), f()).await.unwrap();
    assert_eq!(one["id"], "vpc-2");
    assert_eq!(one["arn"], "arn:aws:ec2:us-west-2:123456789012:vpc/vpc-2");
    assert_eq!(one["default"], true);
    let many = read("vpc", json!({"tags": {"team": "ml"}}), f()).await.unwrap_err().to_string();
    assert!(many.contains("2 VPCs match tags team=ml: vpc-1, vpc-2"), "{many}");
    let none = read("vpc", json!({"id": "vpc-9"}), f()).await.unwrap_err().to_string();
    assert_eq!(none, "no VPC in us-west-2 matches id vpc-9");
    assert_eq!(read("vpc", json!({"default": true}), f()).await.unwrap()["id"], "vpc-2");
}

#[test]
fn a_vpc_block_must_say_which_vpc() {
    let problems = by_name("vpc").unwrap().check(&args(json!({"tags": {}, "default": false})));
    assert_eq!(problems[0].message, "say which VPC: set id, tags, or default = true");
    let problems = by_name("vpc").unwrap().check(&args(json!({"id": "subnet-1"})));
    assert!(problems[0].message.contains("is not a VPC id"));
}

#[tokio::test]
async fn subnets_are_sorted_and_an_empty_match_is_an_error() {
    let f = || FakeLookups {
        subnets: vec![
            subnet("subnet-b", "vpc-1", "us-west-2b", "private"),
            subnet("subnet-a", "vpc-1", "us-west-2a", "private"),
            subnet("subnet-c", "vpc-1", "us-west-2c", "public"),
            subnet("subnet-d", "vpc-2", "us-west-2a", "private"),
        ],
        ..Default::default()
    };
    let got = read("subnets", json!({"vpc_id": "vpc-1", "tags": {"tier": "private"}}), f()).await.unwrap();
    assert_eq!(got["ids"], json!(["subnet-a", "subnet-b"]));
    assert_eq!(got["availability_zones"], json!(["us-west-2a", "us-west-2b"]));
    assert_eq!(got["vpc_ids"], json!(["vpc-1"]));
    let zoned = read("subnets", json!({"tags": {"tier": "private"}, "availability_zones": ["us-west-2a"]}), f()).await.unwrap();
    assert_eq!(zoned["ids"], json!(["subnet-a", "subnet-d"]));
    let none = read("subnets", json!({"vpc_id": "vpc-2", "tags": {"tier": "public"}}), f()).await.unwrap_err().to_string();
    assert_eq!(none, "no subnet in us-west-2 in vpc-2 tagged tier=public");
}

#[tokio::test]
async fn the_oidc_provider_lookup_gives_what_ci_role_trusts() {
    let f = FakeLookups {
        providers: vec![OidcProviderFacts {
            arn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com".into(),
            // IAM returns the URL without its scheme, and the thumbprint it computed in upper case.
            url: "token.actions.githubusercontent.com".into(),
            client_ids: vec!["sts.amazonaws.com".into()],
            thumbprints: vec!["6938FD4D98BAB03FAADB97B34396831E3780AEA1".into()],
        }],
        ..Default::default()
    };
    let got = read("github_oidc_provider", json!({"url": "https://token.actions.githubusercontent.com"}), f).await.unwrap();
    assert_eq!(got["host"], "token.actions.githubusercontent.com");
    assert_eq!(got["url"], "https://token.actions.githubusercontent.com");
    assert_eq!(got["thumbprints"], json!(["6938fd4d98bab03faadb97b34396831e3780aea1"]));
    let missing = read("github_oidc_provider", json!({"url": "https://token.actions.githubusercontent.com"}), FakeLookups::default()).await;
    assert!(missing.unwrap_err().to_string().starts_with("no IAM OIDC provider for token.actions.githubusercontent.com in account 123456789012"));
}

#[tokio::test]
async fn buckets_roles_repositories_and_networks() {
    let f = || FakeLookups {
        buckets: [("ersilia-models".to_string(), Bucket { region: "eu-west-1".into() })].into(),
        roles: [(
            "deployer".to_string(),
            RoleFacts {
                arn: "arn:aws:iam::123456789012:role/ops/deployer".into(),
                path: "/ops/".into(),
                unique_id: "AROA1".into(),
                max_session_duration: 3600,
            },
        )]
        .into(),
        repositories: [(
            "base".to_string(),
            RepositoryFacts {
                arn: "arn:aws:ecr:us-west-2:210987654321:repository/base".into(),
                uri: "210987654321.dkr.ecr.us-west-2.amazonaws.com/base".into(),
                registry_id: "210987654321".into(),
            },
        )]
        .into(),
        networks: [(
            ("ml-ci".to_string(), "ci".to_string()),
            Network {
                id: "4412345".into(),
                self_link: "https://www.googleapis.com/compute/v1/projects/ml-ci/global/networks/ci".into(),
                auto_create_subnetworks: false,
                subnetworks: vec![
                    "https://www.googleapis.com/compute/v1/projects/ml-ci/regions/us-central2/subnetworks/b".into(),
                    "https://www.googleapis.com/compute/v1/projects/ml-ci/regions/us-central2/subnetworks/a".into(),
                ],
            },
        )]
        .into(),
        ..Default::default()
    };
    let b = read("s3_bucket", json!({"bucket": "ersilia-models"}), f()).await.unwrap();
    assert_eq!(b["arn"], "arn:aws:s3:::ersilia-models");
    assert_eq!(b["bucket_regional_domain_name"], "ersilia-models.s3.eu-west-1.amazonaws.com");
    assert_eq!(read("s3_bucket", json!({"bucket": "nope"}), f()).await.unwrap_err().to_string(), "no S3 bucket named \"nope\"");
    assert_eq!(read("iam_role", json!({"name": "deployer"}), f()).await.unwrap()["path"], "/ops/");
    let r = read("ecr_repository", json!({"name": "base", "registry_id": "210987654321"}), f()).await.unwrap();
    assert_eq!(r["repository_url"], "210987654321.dkr.ecr.us-west-2.amazonaws.com/base");
    let n = read("gcp_network", json!({"name": "ci"}), f()).await.unwrap();
    assert_eq!(n["subnetworks"][0], "https://www.googleapis.com/compute/v1/projects/ml-ci/regions/us-central2/subnetworks/a");
    let other = read("gcp_network", json!({"name": "ci", "project": "host-proj"}), f()).await.unwrap_err().to_string();
    assert_eq!(other, "no network named \"ci\" in project host-proj");
}

#[tokio::test]
async fn a_source_without_its_cloud_says_what_to_add() {
    let apis = LookupApis::default();
    let e = by_name("vpc").unwrap().read(&args(json!({"default": true})), &apis).await.unwrap_err().to_string();
    assert!(e.contains("needs AWS: add aws { region"), "{e}");
}

#[test]
fn placeholders_have_every_attribute_with_its_type() {
    for s in REGISTRY {
        let p = placeholder(*s, &format!("data.{}.x", s.name()));
        for a in s.attributes() {
            let v = &p[a.name];
            assert!(a.ty.check(v).is_ok(), "{}.{}: {v} is not a {}", s.name(), a.name, a.ty.name());
        }
    }
}

#[tokio::test]
async fn github_repositories_are_chosen_by_topic_and_prefix_and_named_in_full() {
    let repo = |n: &str, topics: &[&str], archived: bool, fork: bool| RepositoryListing {
        full_name: n.into(),
        fork,
        archived,
        topics: topics.iter().map(|t| t.to_string()).collect(),
    };
    let f = FakeLookups {
        github_repos: vec![
            repo("ersilia-os/eos3b5e", &["ersilia-model"], false, false),
            repo("ersilia-os/eos4e40", &["ersilia-model"], false, false),
            repo("ersilia-os/eos-old", &["ersilia-model"], true, false),
            repo("ersilia-os/eos-fork", &["ersilia-model"], false, true),
            repo("ersilia-os/ersilia", &[], false, false),
            repo("someone/eos9999", &["ersilia-model"], false, false),
        ],
        ..Default::default()
    };
    let source = by_name("github_repositories").unwrap();
    let out = source.read(&args(json!({"owner": "ersilia-os", "name_prefix": "eos"})), &apis(f)).await.ok().unwrap();
    assert_eq!(out["full_names"], json!(["ersilia-os/eos3b5e", "ersilia-os/eos4e40"]), "archived and forks left out, owner fixed");
    assert_eq!(out["names"], json!(["eos3b5e", "eos4e40"]));
    let f2 = FakeLookups {
        github_repos: vec![repo("ersilia-os/eos-template", &[], false, false), repo("ersilia-os/eos1abc", &[], false, false)],
        ..Default::default()
    };
    let out = source.read(&args(json!({"owner": "ersilia-os", "name_prefix": "eos", "exclude": ["eos-template"]})), &apis(f2)).await.ok().unwrap();
    assert_eq!(out["full_names"], json!(["ersilia-os/eos1abc"]));
    assert!(!source.check(&args(json!({"owner": "ersilia-os"}))).is_empty(), "a filter is required");
    assert!(!source.check(&args(json!({"owner": "ersilia-os/*", "topic": "x"}))).is_empty());
}
