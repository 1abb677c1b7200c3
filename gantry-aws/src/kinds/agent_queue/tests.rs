//! Pure rules, and driver tests against the in-memory AWS (change sets that
//! settle, Lambda states, IAM propagation, batched lookups).

use super::fake::FakeAws;
use super::fixtures::{attrs, env};
use super::*;
use crate::core::{Driver, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use serde_json::json;
use serde_json::Value;
use std::sync::Arc;

/// A queue whose scaler zip is the repository's fixture.
fn queue(name: &str, extra: Value) -> State {
    use base64::Engine;
    use sha2::Digest;
    // The workspace's fixture zip, which the integration tests deploy too.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/scaler-fixture.zip");
    let bytes = std::fs::read(path).unwrap();
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    let mut a = attrs(json!({"name": name, "instance_types": ["c7i.large"], "max_size": 4, "image_id": "ami-12c6146b",
        "subnets": ["subnet-a"], "vpc_id": "vpc-1"}));
    a["scaler"]["zip"] = json!({"path": path, "sha256": sha, "size": bytes.len()});
    for (k, val) in extra.as_object().unwrap() {
        a.insert(k.clone(), val.clone());
    }
    AgentQueue.block(&a).desired_state(&env())
}

fn owner(name: &str) -> Owner {
    Owner { stack: "vllm-ci".into(), address: format!("agent_queue.{name}"), protect: false, notes: None }
}

fn scope(identities: &[&str]) -> ReadScope {
    ReadScope {
        stack: "vllm-ci".into(),
        owner: "vllm-ci".into(),
        identities: identities.iter().map(|s| s.to_string()).collect(),
        regions: vec!["us-west-2".into()],
        zones: vec![],
    }
}

fn driver() -> (Arc<FakeAws>, QueueDriver) {
    let fake = Arc::new(FakeAws::default());
    (fake.clone(), QueueDriver::new(fake))
}

#[tokio::test(start_paused = true)]
async fn a_created_queue_reads_back_with_nothing_to_change_after_riding_out_iam() {
    let (fake, d) = driver();
    fake.refuse_role(2);
    let desired = queue("cpu", json!({"tags": {"team": "ml"}}));
    d.create(&desired, &owner("cpu")).await.unwrap();
    let (status, tags) = fake.stack("us-west-2", "gantry-vllm-ci-cpu").unwrap();
    assert_eq!(status, "CREATE_COMPLETE");
    assert_eq!(tags.get("gantry:queue").map(String::as_str), Some("cpu"));
    assert_eq!(fake.calls().iter().filter(|c| c.starts_with("CreateFunction")).count(), 3, "two refusals while the role propagates, then created");
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].identity, AgentQueue.block(&attrs(json!({"name": "cpu"}))).identity(), "the kind and the driver name a queue alike");
    let changes = diff_fields(AgentQueue.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "{changes:?}");
}

#[tokio::test(start_paused = true)]
async fn a_scaler_setting_updates_the_function_only_and_an_unchanged_template_is_no_change_set() {
    let (fake, d) = driver();
    d.create(&queue("cpu", json!({})), &owner("cpu")).await.unwrap();
    let after = queue("cpu", json!({"scale_in_idle": "20m"}));
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    let changed: Vec<String> = diff_fields(AgentQueue.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed, ["function"]);
    let before = fake.calls().len();
    d.update(&after, &live, &changed, &owner("cpu")).await.unwrap();
    let calls = fake.calls()[before..].to_vec();
    assert!(!calls.iter().any(|c| c.starts_with("CreateChangeSet")), "{calls:?}");
    assert!(calls.iter().any(|c| c.starts_with("UpdateFunctionConfiguration")) && !calls.iter().any(|c| c.starts_with("UpdateFunctionCode")), "{calls:?}");
    assert_eq!(fake.function("us-west-2", "gantry-vllm-ci-cpu-scaler").unwrap().environment["SCALE_IN_IDLE"], "20m");
    // A template "change" CloudFormation finds empty is not an error.
    d.update(&after, &live, &["tags".into()], &owner("cpu")).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    assert!(diff_fields(AgentQueue.fields(), &after, &live.state).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_create_names_the_resource_and_the_way_out() {
    let (fake, d) = driver();
    fake.fail_resource("LaunchTemplate", "Instance type c7i.large is not supported in this Availability Zone");
    let e = d.create(&queue("cpu", json!({})), &owner("cpu")).await.unwrap_err();
    assert!(e.message.contains("LaunchTemplate CREATE_FAILED: Instance type c7i.large is not supported"), "{e}");
    assert!(e.message.contains("ROLLBACK_COMPLETE") && e.message.contains("deletes and recreates it"), "{e}");
    assert!(fake.function("us-west-2", "gantry-vllm-ci-cpu-scaler").is_none(), "no scaler without its stack");
}

#[tokio::test(start_paused = true)]
async fn a_stack_left_in_review_is_a_bounded_wait_with_a_way_out() {
    let (fake, d) = driver();
    fake.ignore_executes();
    let started = tokio::time::Instant::now();
    let e = d.create(&queue("cpu", json!({})), &owner("cpu")).await.unwrap_err();
    assert!(e.message.contains("still REVIEW_IN_PROGRESS") && e.message.contains("nothing was created"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(120), "gave up after the grace, not the 45-minute stack timeout: {:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn preflight_batches_lookups_and_names_every_problem() {
    let (fake, d) = driver();
    fake.put_parameter("us-west-2", "/bk_agent_token_cluster_ci");
    fake.add_subnet("us-west-2", "subnet-a", "vpc-2");
    let mut items = Vec::new();
    for n in 0..12 {
        items.push((format!("agent_queue.q{n}"), queue(&format!("q{n}"), json!({"image_id": null, "image_ssm_parameter": format!("/ami/{n}")}))));
    }
    items.push(("agent_queue.lost".into(), queue("lost", json!({"agent_token_parameter": "/no/token", "subnets": ["subnet-x"]}))));
    let problems = d.preflight(&items).await.unwrap();
    let calls = fake.calls();
    assert_eq!(calls.iter().filter(|c| c.starts_with("GetParameters")).collect::<Vec<_>>(), ["GetParameters 10", "GetParameters 2"]);
    assert_eq!(calls.iter().filter(|c| c.starts_with("DescribeParameters")).count(), 1);
    assert!(problems.contains(&crate::core::Diagnostic::at("agent_queue.q3", "image parameter /ami/3 does not exist in us-west-2")), "{problems:?}");
    let has = |a: &str, p: &dyn Fn(&str) -> bool| problems.iter().any(|e| e.address == a && p(&e.message));
    assert!(has("agent_queue.lost", &|p| p.starts_with("agent token parameter /no/token does not exist")));
    assert!(has("agent_queue.lost", &|p| p.starts_with("subnet subnet-x does not exist")));
    assert!(has("agent_queue.q0", &|p| p == "subnet subnet-a is in vpc-2, not in vpc_id vpc-1"));
}

#[tokio::test(start_paused = true)]
async fn queues_without_subnets_get_the_default_vpcs_in_template_and_facts() {
    let (fake, d) = driver();
    fake.set_default_vpc("us-west-2", "vpc-d", &["subnet-2", "subnet-1"]);
    let mut items = vec![("agent_queue.a".to_string(), queue("a", json!({"subnets": [], "vpc_id": null})))];
    assert!(d.resolve(&mut items).await.unwrap().is_empty());
    let resolved = Desired::parse(&items[0].1).unwrap();
    assert_eq!(resolved.facts.subnets, ["subnet-1", "subnet-2"]);
    assert_eq!(resolved.template["Resources"]["AutoScalingGroup"]["Properties"]["VPCZoneIdentifier"], json!(["subnet-1", "subnet-2"]));
    let (_, d2) = driver();
    let mut items = vec![("agent_queue.a".to_string(), queue("a", json!({"subnets": [], "vpc_id": null})))];
    let problems = d2.resolve(&mut items).await.unwrap();
    assert!(problems[0].message.contains("no default VPC"), "{problems:?}");
}

#[tokio::test(start_paused = true)]
async fn roles_a_new_queue_needs_that_already_exist_are_a_plan_time_problem() {
    let (fake, d) = driver();
    fake.add_role("vllm-ci-cpu-agent");
    let live = d.read(&scope(&["us-west-2/cpu"])).await.unwrap();
    let problem = AgentQueue.live_problem(&live[0]).expect("a problem before anything is created");
    assert!(problem.contains("IAM role(s) vllm-ci-cpu-agent already exist") && problem.contains("fail half-way"), "{problem}");
    // A queue that exists already owns its roles: no lookups, no problem.
    let (fake, d) = driver();
    d.create(&queue("cpu", json!({})), &owner("cpu")).await.unwrap();
    fake.add_role("vllm-ci-cpu-agent");
    let live = d.read(&scope(&["us-west-2/cpu"])).await.unwrap();
    assert!(AgentQueue.live_problem(&live[0]).is_none());
    assert!(!fake.calls().iter().any(|c| c.starts_with("GetRole")), "{:?}", fake.calls());
}

#[tokio::test(start_paused = true)]
async fn deleting_removes_function_and_stack_and_is_idempotent() {
    let (fake, d) = driver();
    d.create(&queue("cpu", json!({})), &owner("cpu")).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    d.delete(&live).await.unwrap();
    assert!(fake.stack("us-west-2", "gantry-vllm-ci-cpu").is_none() && fake.function("us-west-2", "gantry-vllm-ci-cpu-scaler").is_none());
    d.delete(&live).await.unwrap();
}

#[test]
fn capacity_reads_sizes_types_and_the_spot_share_from_the_template() {
    let q = queue("gpu", json!({"instance_types": ["g6.12xlarge", "g5.12xlarge"], "min_size": 1, "max_size": 16, "on_demand_percentage": 25}));
    let c = AgentQueue.capacity(&q).unwrap();
    assert_eq!((c.cloud.as_str(), c.location.as_str()), ("aws", "us-west-2"));
    assert_eq!(c.types, vec!["g6.12xlarge", "g5.12xlarge"]);
    assert_eq!((c.min, c.max, c.on_demand_percent), (1, 16, 25));
    // CloudFormation may hand the template back with numbers as strings.
    let mut live = q.clone();
    live["template"]["Resources"]["AutoScalingGroup"]["Properties"]["MixedInstancesPolicy"]["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] =
        json!("40");
    assert_eq!(AgentQueue.capacity(&live).unwrap().on_demand_percent, 40);
    let all_on_demand = queue("cpu", json!({}));
    assert_eq!(AgentQueue.capacity(&all_on_demand).unwrap().on_demand_percent, 100);
    assert!(AgentQueue.capacity(&attrs(json!({}))).is_none(), "no template: the ceiling is unknown, not zero");
}
