//! The queue's pure rules: instance types, stuck stacks, template diffs,
//! images, volumes and the user data's size.

use super::fixtures::{attrs, env};
use super::*;
use crate::core::Kind;
use serde_json::json;

#[test]
fn instance_type_rules() {
    assert!(valid_instance_type("g6.4xlarge") && valid_instance_type("c7gn.16xlarge") && valid_instance_type("u-6tb1.metal"));
    assert!(!valid_instance_type("g6") && !valid_instance_type("G6.large") && !valid_instance_type("large.g6") && !valid_instance_type("x.large"));
    assert!(graviton("c7g.large") && graviton("g5g.xlarge") && graviton("m6gd.large") && graviton("t4g.small"));
    assert!(!graviton("g6.4xlarge") && !graviton("c7i.large") && !graviton("p4d.24xlarge"));
}

#[test]
fn stuck_stacks_are_reported_with_the_way_out() {
    let live = |status: &str| LiveResource {
        identity: "us-west-2/q".into(),
        owner_stack: Some("s".into()),
        owner_address: Some("agent_queue.q".into()),
        state: json!({"raw_status": status, "stack_name": "gantry-s-q"}).as_object().unwrap().clone(),
        protected: false,
    };
    assert!(AgentQueue.live_problem(&live("UPDATE_ROLLBACK_FAILED")).unwrap().contains("continue-update-rollback --stack-name gantry-s-q"));
    assert!(AgentQueue.live_problem(&live("UPDATE_IN_PROGRESS")).unwrap().contains("wait for it to finish"));
    assert!(AgentQueue.live_problem(&live("DELETE_FAILED")).is_some());
    assert!(AgentQueue.live_problem(&live("UPDATE_COMPLETE")).is_none());
    // A failed create cannot be updated: it is planned for replacement instead.
    assert!(AgentQueue.live_problem(&live("ROLLBACK_COMPLETE")).is_none());
    assert!(REPLACE_STATES.contains(&"ROLLBACK_COMPLETE"));
    assert!(FIELDS.iter().any(|f| f.name == "stack_status" && f.forces_replacement));
}

#[test]
fn leaf_diff_names_paths() {
    let mut out = Vec::new();
    json_leaf_diff("t", &json!({"a": {"b": 1, "c": [1]}}), &json!({"a": {"b": 2, "c": [1], "d": true}}), &mut out);
    let paths: Vec<&str> = out.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["t.a.b", "t.a.d"]);
}

#[test]
fn gpu_types_get_a_gpu_image_and_a_plain_one_is_refused() {
    let check = |v: Value| AgentQueue.block(&attrs(v)).check().into_iter().map(|p| p.message).collect::<Vec<_>>();
    let plain = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
    let refused = check(json!({"name": "gpu", "instance_types": ["g6.4xlarge"], "max_size": 2, "image_ssm_parameter": plain}));
    assert!(refused.iter().any(|m| m.contains("has no NVIDIA driver, so jobs on g6.4xlarge cannot see the GPU")), "{refused:?}");
    // The user says the bootstrap installs the driver.
    assert!(check(json!({"name": "gpu", "instance_types": ["g6.4xlarge"], "max_size": 2, "image_ssm_parameter": plain, "gpu_image_check": false})).is_empty());
    let mixed = check(json!({"name": "gpu", "instance_types": ["g6.4xlarge", "c7i.4xlarge"], "max_size": 2}));
    assert!(mixed.iter().any(|m| m.contains("mixes NVIDIA GPU and other types")), "{mixed:?}");
    assert!(check(json!({"name": "cpu", "instance_types": ["c7i.4xlarge"], "max_size": 2})).is_empty(), "no image named: a default is chosen");

    let image = |types: Value| fixtures::spec(&attrs(json!({"name": "q", "instance_types": types, "max_size": 2})), &env()).image;
    let param = |p: &str| spec::Image::Parameter(p.to_string());
    assert_eq!(image(json!(["g6.4xlarge"])), param(images::default_parameter(false, true)));
    assert_eq!(image(json!(["g5g.2xlarge"])), param("/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"));
    assert_eq!(image(json!(["c7g.2xlarge"])), param("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"));
    assert_eq!(image(json!(["c7i.2xlarge"])), param(plain));
}

#[test]
fn one_job_per_instance_means_one_agent() {
    let a = attrs(json!({"name": "pr", "instance_types": ["c7i.4xlarge"], "max_size": 8, "terminate_after_job": true, "agents_per_instance": 2}));
    let problems = AgentQueue.block(&a).check();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].attr, "terminate_after_job");
}

#[test]
fn root_volume_iops_and_throughput_only_where_the_type_takes_them() {
    let check = |v: Value| AgentQueue.block(&attrs(v)).check().into_iter().map(|p| p.message).collect::<Vec<_>>();
    let base = |extra: Value| {
        let mut v = json!({"name": "q", "instance_types": ["c7i.large"], "max_size": 2});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    assert!(check(base(json!({"root_volume_iops": 6000, "root_volume_throughput": 500}))).is_empty());
    assert_eq!(check(base(json!({"root_volume_iops": 20000}))), ["gp3 takes 3000-16000 IOPS, not 20000"]);
    assert_eq!(check(base(json!({"root_volume_type": "io2"}))), ["io2 volumes need root_volume_iops"]);
    assert_eq!(check(base(json!({"root_volume_type": "gp2", "root_volume_iops": 3000}))), ["gp2 volumes take no IOPS setting (use gp3, io1 or io2)"]);
    assert_eq!(
        check(base(json!({"root_volume_type": "io1", "root_volume_iops": 3000, "root_volume_throughput": 200}))),
        ["only gp3 volumes take a throughput setting, not io1"]
    );
}

/// EC2 takes 16 KB of user data: gantry's own script stays well under it
/// (its comments are left in the sources), and a queue whose extra set-up
/// pushes it over is refused at validate, not rolled back at launch.
#[test]
fn user_data_is_kept_under_ec2s_limit_and_checked() {
    let runner = attrs(json!({"name": "q", "instance_types": ["g6.xlarge"], "max_size": 2, "terminate_after_job": true,
        "agent_secrets": {"HF_TOKEN": "ssm:/hf"},
        "github": {"repository": "acme/ml", "labels": ["gpu"], "credentials": "/gh"}}));
    let buildkite = attrs(json!({"name": "q", "instance_types": ["g6.xlarge"], "max_size": 2, "terminate_after_job": true,
        "agent_secrets": {"HF_TOKEN": "ssm:/hf"}}));
    for a in [&runner, &buildkite] {
        let script = super::template::user_data(&super::fixtures::spec(a, &env()));
        assert!(script.len() < 10 * 1024, "gantry's bootstrap alone is {} bytes: keep it well under 16 KB", script.len());
        assert!(script.lines().filter(|l| l.trim_start().starts_with('#') && !l.trim_start().starts_with("#!")).count() == 0);
        assert!(AgentQueue.block(a).check_env(&env()).is_empty());
    }
    let mut big = runner.clone();
    big.insert("extra_user_data".into(), json!(format!("# set-up\n{}", "echo 'a line of set-up that is not short'\n".repeat(200))));
    let problems = AgentQueue.block(&big).check_env(&env());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].attr, "extra_user_data");
    assert!(problems[0].message.contains("over EC2's limit of 16384"), "{}", problems[0].message);
    // The user's own text keeps its comment lines.
    assert!(super::template::user_data(&super::fixtures::spec(&big, &env())).contains("# set-up\n"));
}
