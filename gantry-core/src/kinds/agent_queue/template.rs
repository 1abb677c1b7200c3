//! The CloudFormation template for one queue, generated deterministically
//! (serde_json maps are sorted, so the same spec always gives the same
//! bytes): instance role + profile, security group, launch template with the
//! agent user data, Auto Scaling group (mixed instances, no DesiredCapacity:
//! that belongs to the scaler), the scaler's execution role and its
//! one-minute EventBridge schedule.

use super::spec::{Image, QueueSpec};
use serde_json::{json, Value};

const USER_DATA: &str = include_str!("user_data.sh");
const RUNNER_USER_DATA: &str = include_str!("runner_user_data.sh");
const PROTECTION: &str = include_str!("protection.sh");
/// Instance id, and a failed bootstrap marks the instance unhealthy.
const PREAMBLE: &str = include_str!("instance_preamble.sh");
const ONE_JOB: &str = include_str!("one_job.sh");
const DRAIN: &str = include_str!("drain.sh");
pub(crate) const INSTANCE_STORAGE: &str = include_str!("instance_storage.sh");
const DISK_GUARD: &str = include_str!("disk_guard.sh");
/// The termination lifecycle hook the drain watcher completes.
pub const DRAIN_HOOK: &str = "gantry-drain";

/// Renders the user data script for a queue.
pub fn user_data(q: &QueueSpec) -> String {
    let tags: String = q.agent_tags.iter().map(|(k, v)| format!(",{k}={v}")).collect();
    let env: String = q.agent_env.iter().map(|(k, v)| format!("Environment=\"{k}={}\"\n", systemd_quote(v))).collect();
    // One job per instance: the agent disconnects after its job, is not
    // restarted, and its stop ends the instance. (Runners always are.)
    let (cfg_extra, one_job, service_extra) = if q.terminate_after_job {
        ("\ndisconnect-after-job=true", format!("\n{ONE_JOB}"), "Restart=no\nExecStopPost=/usr/local/bin/gantry-terminate-self\n")
    } else {
        ("", String::new(), "")
    };
    let (script, unit, registered) = match &q.github {
        Some(_) => (RUNNER_USER_DATA, "gantry-runner", "Listening for Jobs"),
        None => (USER_DATA, "buildkite-agent", "Successfully registered agent"),
    };
    let (runner_version, jit_path) = q.github.as_ref().map(|g| (g.runner_version.as_str(), g.jit_path.as_str())).unwrap_or_default();
    // gantry's own text first, without its comment lines (they stay in the
    // sources; the machine does not need them and EC2 takes 16 KB), then
    // the user's values, which are never touched.
    let own = script
        .replace("{{PREAMBLE}}", PREAMBLE)
        .replace("{{RUNNER_INSTALL}}", crate::kinds::common::RUNNER_INSTALL.trim_end())
        .replace("{{PROTECTION}}", PROTECTION.trim_end())
        .replace("{{DRAIN}}", DRAIN.trim_end())
        .replace(
            "{{INSTANCE_STORAGE}}",
            if q.use_instance_storage { INSTANCE_STORAGE.trim_end() } else { "# (instance storage not used: use_instance_storage = false)" },
        )
        .replace("{{DISK_GUARD}}", if q.disk_min_free_gb > 0 { DISK_GUARD.trim_end() } else { "# (no disk guard: disk_min_free_gb = 0)" })
        .replace("{{ONE_JOB}}", &one_job);
    without_comment_lines(&own)
        .replace("{{QUEUE}}", &q.queue)
        .replace("{{REGION}}", &q.region)
        .replace("{{ASG_NAME}}", &q.names.asg)
        .replace("{{TOKEN_PARAMETER}}", &q.token_parameter)
        .replace("{{AGENTS_PER_INSTANCE}}", &q.agents_per_instance.to_string())
        .replace("{{AGENT_TAGS}}", &tags)
        .replace("{{AGENT_CFG_EXTRA}}", &format!("{cfg_extra}{}", super::secrets::redacted_vars(&q.agent_secrets)))
        .replace("{{SECRETS}}", &without_comment_lines(&super::secrets::bootstrap(&q.agent_secrets)))
        .replace("{{AGENT_UNIT}}", unit)
        .replace("{{REGISTERED_PATTERN}}", registered)
        .replace("{{RUNNER_VERSION}}", runner_version)
        .replace("{{JIT_PATH}}", jit_path)
        .replace("{{JIT_WAIT_ROUNDS}}", &(q.registration_grace_seconds / 5).to_string())
        .replace("{{DISK_GUARD_CALL}}", if q.disk_min_free_gb > 0 { "/usr/local/bin/gantry-disk-guard || exit 1\\n" } else { "" })
        .replace("{{DISK_MIN_FREE_GB}}", &q.disk_min_free_gb.to_string())
        .replace("{{DRAIN_HOOK}}", DRAIN_HOOK)
        .replace("{{REGISTRATION_GRACE}}", &q.registration_grace_seconds.to_string())
        .replace("{{DRAIN_SECONDS}}", &q.drain_seconds.to_string())
        .replace("{{SERVICE_EXTRA}}", service_extra)
        .replace("{{AGENT_ENV}}", env.trim_end())
        .replace("{{EXTRA_USER_DATA}}", q.extra_user_data.trim_end())
}

/// EC2's limit on user data: 16 KB before base64 (EC2 user guide, "Run
/// commands when you launch an EC2 instance with user data input").
pub const USER_DATA_LIMIT: usize = 16 * 1024;

/// A script without its full-line comments (`#!` lines stay). Only for
/// gantry's own text: a line starting with `#` inside one of its
/// here-documents is a comment in that file too (units, repo files).
pub fn without_comment_lines(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    for line in script.lines() {
        let t = line.trim_start();
        if t.starts_with('#') && !t.starts_with("#!") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Escapes a value for a double-quoted systemd `Environment=` assignment:
/// backslashes, quotes and newlines are C-escaped and `%` (a unit
/// specifier) is doubled (systemd.syntax(7), systemd.unit(5) "Specifiers").
/// `$` and backticks need nothing: systemd does not expand them and the
/// here-document that writes the file is quoted.
pub fn systemd_quote(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('%', "%%")
}

fn ssm_parameter_arn(q: &QueueSpec, name: &str) -> String {
    let name = name.trim_start_matches('/');
    format!("arn:aws:ssm:{}:{}:parameter/{name}", q.region, q.account_id)
}

fn asg_arn(q: &QueueSpec) -> String {
    format!("arn:aws:autoscaling:{}:{}:autoScalingGroup:*:autoScalingGroupName/{}", q.region, q.account_id, q.names.asg)
}

fn assume(service: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
}

/// The scaler's least-privilege policy: this group, this token (or this
/// App's credentials and runner configurations), its own logs.
pub fn scaler_policy(q: &QueueSpec) -> Value {
    let mut statements = vec![
        json!({"Sid": "ReadGroups", "Effect": "Allow", "Action": "autoscaling:DescribeAutoScalingGroups", "Resource": "*"}),
        json!({"Sid": "SizeThisGroup", "Effect": "Allow",
         "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags", "autoscaling:SuspendProcesses"],
         "Resource": asg_arn(q)}),
    ];
    match &q.github {
        Some(g) => statements.extend(super::github::scaler_statements((&q.region, &q.account_id), g, &asg_arn(q))),
        None => statements
            .push(json!({"Sid": "ReadAgentToken", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ssm_parameter_arn(q, &q.token_parameter)})),
    }
    statements.push(json!({"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": format!("arn:aws:logs:{}:{}:log-group:/aws/lambda/{}:*", q.region, q.account_id, q.names.function)}));
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// What every agent instance may do besides `instance_policies`.
pub fn agent_policy(q: &QueueSpec) -> Value {
    let mut statements = vec![
        match &q.github {
            Some(g) => super::github::agent_statement((&q.region, &q.account_id), g),
            None => json!({"Sid": "ReadAgentToken", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ssm_parameter_arn(q, &q.token_parameter)}),
        },
        json!({"Sid": "HoldScaleInProtectionWhileBusy", "Effect": "Allow", "Action": "autoscaling:SetInstanceProtection", "Resource": asg_arn(q)}),
        json!({"Sid": "ReportFailedBootstrap", "Effect": "Allow", "Action": "autoscaling:SetInstanceHealth", "Resource": asg_arn(q)}),
    ];
    statements.extend(super::secrets::statements(&q.agent_secrets, &q.region, &q.account_id));
    // Leave the group (after one job, or on a spot notice) and let a drained termination go on.
    statements.push(json!({"Sid": "LeaveTheGroup", "Effect": "Allow",
        "Action": ["autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:CompleteLifecycleAction"], "Resource": asg_arn(q)}));
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The root EBS volume, with IOPS and throughput when given.
fn root_volume(q: &QueueSpec) -> Value {
    let mut ebs = json!({"VolumeSize": q.root_volume_gb, "VolumeType": q.root_volume_type, "DeleteOnTermination": true, "Encrypted": true});
    if let Some(iops) = q.root_volume_iops {
        ebs["Iops"] = json!(iops);
    }
    if let Some(t) = q.root_volume_throughput {
        ebs["Throughput"] = json!(t);
    }
    ebs
}

/// The whole template.
pub fn render(q: &QueueSpec) -> Value {
    let mut parameters = serde_json::Map::new();
    let image_id = match &q.image {
        Image::Id(id) => json!(id),
        Image::Parameter(p) => {
            parameters.insert("ImageId".into(), json!({"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": p}));
            json!({"Ref": "ImageId"})
        }
    };
    let mut policies = vec![json!({"PolicyName": "gantry-agent", "PolicyDocument": agent_policy(q)})];
    policies.extend(q.instance_policies.iter().map(|(name, doc)| json!({"PolicyName": name, "PolicyDocument": doc})));
    let mut instance_role = json!({
        "RoleName": q.names.instance_role,
        "Path": q.names.path,
        "AssumeRolePolicyDocument": assume("ec2.amazonaws.com"),
        "Policies": policies,
    });
    if !q.managed_policy_arns.is_empty() {
        instance_role["ManagedPolicyArns"] = json!(q.managed_policy_arns);
    }
    let sg = json!({
        "GroupDescription": format!("gantry agents for queue {}", q.queue),
        "SecurityGroupIngress": q.ingress.iter().map(|i| json!({"IpProtocol": i.protocol, "FromPort": i.from_port, "ToPort": i.to_port, "CidrIp": i.cidr})).collect::<Vec<_>>(),
    });
    let launch_data = json!({
        "ImageId": image_id,
        "InstanceType": q.instance_types[0],
        "IamInstanceProfile": {"Arn": {"Fn::GetAtt": ["InstanceProfile", "Arn"]}},
        "SecurityGroupIds": [{"Fn::GetAtt": ["SecurityGroup", "GroupId"]}],
        "UserData": {"Fn::Base64": user_data(q)},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": root_volume(q)}],
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": format!("{}-agent", q.queue)}, {"Key": "queue", "Value": q.queue}]}],
    });
    let asg = json!({
        "AutoScalingGroupName": q.names.asg,
        "MinSize": q.min_size.to_string(),
        "MaxSize": q.max_size.to_string(),
        "MixedInstancesPolicy": {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": {"Ref": "LaunchTemplate"}, "Version": {"Fn::GetAtt": ["LaunchTemplate", "LatestVersionNumber"]}},
                "Overrides": q.instance_types.iter().map(|t| json!({"InstanceType": t})).collect::<Vec<_>>(),
            },
            "InstancesDistribution": {
                "OnDemandBaseCapacity": 0,
                "OnDemandPercentageAboveBaseCapacity": q.on_demand_percentage,
                "SpotAllocationStrategy": q.spot_allocation_strategy,
            },
        },
        "NewInstancesProtectedFromScaleIn": false,
        // Held in Terminating:Wait until the agent is drained (the watcher
        // completes the hook; the heartbeat leaves it time to stop the agent).
        "LifecycleHookSpecificationList": [{
            "LifecycleHookName": DRAIN_HOOK,
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
            "HeartbeatTimeout": q.drain_seconds + 120,
            "DefaultResult": "CONTINUE",
        }],
        "CapacityRebalance": q.capacity_rebalance,
        "Tags": [{"Key": "queue", "Value": q.queue, "PropagateAtLaunch": true}],
    });
    let function_arn = format!("arn:aws:lambda:{}:{}:function:{}", q.region, q.account_id, q.names.function);
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("gantry agent queue {} (stack {}); generated, do not edit", q.queue, q.stack),
        "Parameters": Value::Object(parameters),
        "Resources": {
            "InstanceRole": {"Type": "AWS::IAM::Role", "Properties": instance_role},
            "InstanceProfile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Path": q.names.path, "Roles": [{"Ref": "InstanceRole"}]}},
            "SecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": sg},
            "LaunchTemplate": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateName": q.names.asg, "LaunchTemplateData": launch_data}},
            // No DesiredCapacity: the scaler owns it, and an update must never reset it.
            "AutoScalingGroup": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": asg},
            "ScalerRole": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": q.names.scaler_role,
                "Path": q.names.path,
                "AssumeRolePolicyDocument": assume("lambda.amazonaws.com"),
                "Policies": [{"PolicyName": "gantry-scaler", "PolicyDocument": scaler_policy(q)}],
            }},
            "Schedule": {"Type": "AWS::Events::Rule", "Properties": {
                "Name": q.names.rule,
                "Description": format!("runs the gantry scaler of queue {} every minute", q.queue),
                "ScheduleExpression": "rate(1 minute)",
                "State": "ENABLED",
                "Targets": [{"Id": "scaler", "Arn": function_arn}],
            }},
        },
        "Outputs": {
            "AutoScalingGroupName": {"Value": {"Ref": "AutoScalingGroup"}},
            "ScalerRoleArn": {"Value": {"Fn::GetAtt": ["ScalerRole", "Arn"]}},
            "ScheduleRuleArn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}},
        },
    });
    // Without subnets the plan fills in the default VPC's (see `place_in_subnets`).
    if let (Some(vpc), false) = (&q.vpc_id, q.subnets.is_empty()) {
        place_in_subnets(&mut template, vpc, &q.subnets);
    }
    template
}

/// Puts the queue's group and security group in `subnets` of `vpc`. Always
/// explicit: `Fn::GetAZs` lists every zone of the region, including zones
/// where the VPC has no subnet, and the group then fails to launch there.
pub fn place_in_subnets(template: &mut Value, vpc: &str, subnets: &[String]) {
    let mut sorted = subnets.to_vec();
    sorted.sort();
    if let Some(asg) = template.pointer_mut("/Resources/AutoScalingGroup/Properties").and_then(Value::as_object_mut) {
        asg.remove("AvailabilityZones");
        asg.insert("VPCZoneIdentifier".into(), json!(sorted));
    }
    if let Some(sg) = template.pointer_mut("/Resources/SecurityGroup/Properties").and_then(Value::as_object_mut) {
        sg.insert("VpcId".into(), json!(vpc));
    }
}

/// Whether the template still needs its subnets resolved (no `subnets` given).
pub fn needs_subnets(template: &Value) -> bool {
    template.pointer("/Resources/AutoScalingGroup/Properties/VPCZoneIdentifier").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::agent_queue::fixtures::{attrs, env};
    use serde_json::json;

    #[test]
    fn gpu_queue_template() {
        // No image named: an NVIDIA type boots the Deep Learning Base GPU AMI.
        let a = attrs(json!({"name": "gpu_1_queue", "instance_types": ["g6.4xlarge"], "max_size": 208, "root_volume_gb": 512, "scale_in_idle": "20m",
            "root_volume_iops": 6000, "root_volume_throughput": 500}));
        let mut t = render(&crate::kinds::agent_queue::fixtures::spec(&a, &env()));
        assert!(t["Resources"]["AutoScalingGroup"]["Properties"].get("DesiredCapacity").is_none(), "desired capacity belongs to the scaler");
        assert!(needs_subnets(&t), "no subnets given: the plan resolves the default VPC's");
        // As the plan resolves it: the default VPC's default-for-AZ subnets.
        place_in_subnets(&mut t, "vpc-0aaaaaaaaaaaaaaa0", &["subnet-0bbbbbbbbbbbbbbb0".into(), "subnet-0aaaaaaaaaaaaaaa0".into()]);
        assert!(!needs_subnets(&t));
        assert!(t.pointer("/Resources/AutoScalingGroup/Properties/AvailabilityZones").is_none(), "never Fn::GetAZs");
        insta::assert_json_snapshot!("gpu_1_queue_template", t);
    }

    #[test]
    fn build_secrets_reach_jobs_but_not_the_template() {
        let a = attrs(json!({"name": "gpu_1_queue", "instance_types": ["g6.4xlarge"], "max_size": 8,
            "agent_secrets": {"HF_TOKEN": "ssm:/ci/hf-token", "GH_APP_KEY": "secretsmanager:ci/github-app-key",
                              "DOCKER_PW": "secretsmanager:arn:aws:secretsmanager:us-west-2:123456789012:secret:ci/docker-AbCdEf"}}));
        let q = crate::kinds::agent_queue::fixtures::spec(&a, &env());
        let script = user_data(&q);
        insta::assert_snapshot!("secrets_user_data", script);
        assert!(script.contains(
            "redacted-vars=\"*_PASSWORD,*_SECRET,*_TOKEN,*_PRIVATE_KEY,*_ACCESS_KEY,*_SECRET_KEY,*_CONNECTION_STRING,DOCKER_PW,GH_APP_KEY,HF_TOKEN\""
        ));
        let policy = agent_policy(&q);
        let statements = policy["Statement"].as_array().unwrap();
        let find = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("{sid} in {policy}"))["Resource"].clone();
        assert_eq!(find("ReadBuildSecretsFromParameterStore"), json!(["arn:aws:ssm:us-west-2:123456789012:parameter/ci/hf-token"]));
        assert_eq!(
            find("ReadBuildSecretsFromSecretsManager"),
            json!([
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:ci/docker-AbCdEf",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:ci/github-app-key-??????"
            ])
        );
    }

    #[test]
    fn one_job_per_instance() {
        let a = attrs(json!({"name": "cpu_queue_premerge", "instance_types": ["c7i.4xlarge"], "max_size": 64, "terminate_after_job": true}));
        let q = crate::kinds::agent_queue::fixtures::spec(&a, &env());
        let script = user_data(&q);
        assert!(script.contains("\ndisconnect-after-job=true\n"), "{script}");
        assert!(script.contains("Restart=no\nExecStopPost=/usr/local/bin/gantry-terminate-self\n"), "{script}");
        insta::assert_snapshot!("one_job_user_data", script);
        let policy = agent_policy(&q).to_string();
        assert!(policy.contains("autoscaling:TerminateInstanceInAutoScalingGroup"), "{policy}");
        super::super::script_tests::run_terminate_self(&script);
        // Off by default: nothing of it in the bootstrap.
        let off = crate::kinds::agent_queue::fixtures::spec(&attrs(json!({"name": "q", "instance_types": ["c7i.4xlarge"], "max_size": 4})), &env());
        assert!(!user_data(&off).contains("gantry-terminate-self"));
    }

    #[test]
    fn arm_queue_with_subnets_ingress_and_policies() {
        let a = attrs(json!({"name": "arm64_cpu_queue", "instance_types": ["c7g.4xlarge", "c6g.4xlarge"], "max_size": 16, "min_size": 1,
            "on_demand_percentage": 20, "agents_per_instance": 4, "image_id": "ami-0123456789abcdef0",
            "subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"], "vpc_id": "vpc-0123456789abcdef0",
            "ingress": [{"port": 22, "protocol": "tcp", "cidr": "10.0.0.0/8"}],
            "instance_policies": [{"name": "ci-instance", "file": "p.json", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}}],
            "agent_tags": {"arch": "arm64"}, "agent_env": {"DOCKER_BUILDKIT": "1"}, "tags": {"team": "ci"}}));
        let q = crate::kinds::agent_queue::fixtures::spec(&a, &env());
        let t = render(&q);
        insta::assert_json_snapshot!("arm64_cpu_queue_template", t);
        insta::assert_snapshot!("arm64_cpu_queue_user_data", user_data(&q));
        // Deterministic: the same spec renders the same bytes.
        assert_eq!(serde_json::to_string(&t).unwrap(), serde_json::to_string(&render(&q)).unwrap());
    }

    #[test]
    fn github_runner_queue() {
        let a = attrs(json!({"name": "gpu_builders", "instance_types": ["g5.2xlarge"], "max_size": 4,
            "github": {"repository": "bentoml/OpenLLM", "labels": ["ec2-gpu"], "credentials": "/gantry/openllm/github-app",
                       "runner_group_id": 1, "runner_version": "2.329.0", "queued_job_timeout": "30m", "queued_job_timeout_action": "cancel", "webhook": true}}));
        let q = crate::kinds::agent_queue::fixtures::spec(&a, &env());
        let script = user_data(&q);
        insta::assert_snapshot!("github_runner_queue_user_data", script);
        insta::assert_json_snapshot!("github_runner_queue_template", render(&q));
        assert!(!script.contains("buildkite"), "no Buildkite agent on a runner");
        assert!(script.contains("ExecStopPost=/usr/local/bin/gantry-terminate-self"), "one job per instance");
        let agent = agent_policy(&q).to_string();
        assert!(
            agent.contains("parameter/gantry/jit/vllm-ci/gpu_builders/*") && !agent.contains("github-app"),
            "instances never read the App's credentials: {agent}"
        );
        let scaler = scaler_policy(&q).to_string();
        assert!(scaler.contains("parameter/gantry/openllm/github-app\""), "{scaler}");
        assert!(!scaler.contains("ReadAgentToken"));
        let env = &q.scaler.env;
        let gh = env.github.as_ref().unwrap();
        assert_eq!(gh.labels, ["self-hosted", "linux", "x64", "ec2-gpu"]);
        assert_eq!(gh.queued_job_timeout, Some(std::time::Duration::from_secs(1800)));
        assert_eq!(env.to_vars()["RUNNER_NAME_PREFIX"], "gantry-vllm-ci-gpu-builders");
    }
}
