//! Agent queues end to end on moto: CloudFormation change sets per queue,
//! the scaler deployed through the Lambda API, exact plans for changes,
//! plan-time checks that keep half-created stacks from happening.

use crate::support::{ec2_call, fixture_zip, gantry, lambda_client, put_token, stack_dir, xml_text, Moto};

fn stack(zip: &str) -> String {
    format!(
        r#"stack "q" {{
  aws {{ region = "us-west-2" }}
}}

locals {{
  image = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}}

agent_queue "cpu" {{
  instance_types        = ["c7i.2xlarge", "c6i.2xlarge"]
  max_size              = 10
  agents_per_instance   = 2
  image_ssm_parameter   = local.image
  agent_token_parameter = "/bk/token"
  scaler {{
    zip = "{zip}"
  }}
}}

agent_queue "gpu" {{
  instance_types        = ["g6.4xlarge"]
  max_size              = 20
  root_volume_gb        = 512
  agent_secrets         = {{ HF_TOKEN = "ssm:/ci/hf-token" }}
  agent_token_parameter = "/bk/token"
  scale_in_idle         = "20m"
  scaler {{
    zip           = "{zip}"
    poll_interval = "5s"
  }}
}}

agent_queue "big" {{
  instance_types        = ["m7i.8xlarge"]
  max_size              = 4
  image_ssm_parameter   = local.image
  agent_token_parameter = "/bk/token"
  scaler {{
    zip = "{zip}"
  }}
}}
"#
    )
}

#[test]
fn queues_lifecycle_on_moto() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));
    let zip = fixture_zip();
    let dir = stack_dir(&[("main.gantry.hcl", &stack(&zip))]);
    let d = dir.path().to_str().unwrap();

    // A build secret's parameter must exist before the queue that reads it.
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("agent_queue.gpu: agent_secrets parameter /ci/hf-token does not exist in us-west-2"), "{}", r.all());
    rt.block_on(crate::support::put_secure(&moto, "us-west-2", "/ci/hf-token", "hf_s3cr3t-value"));

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("/ci/hf-token") && !r.all().contains("hf_s3cr3t"), "the secret's name, never its value: {}", r.all());
    // No subnets given: the default VPC's default-for-AZ subnets, explicit in the plan.
    assert!(r.stdout.contains("\"VPCZoneIdentifier\": [") && r.stdout.contains("\"subnet-"), "{}", r.all());
    assert!(!r.stdout.contains("Fn::GetAZs"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // moto reports stack-level events only; AWS adds one per resource.
    assert!(r.stdout.contains("agent_queue.gpu: gantry-q-gpu CREATE_COMPLETE"), "progress shows stack events: {}", r.all());
    // The realism proxy refused the first CreateFunction (role not yet
    // propagated), kept new functions Pending and started the token lookup
    // with an empty page; gantry retried, waited and paged through all of it
    // without ever running into an update conflict.
    let template = rt.block_on(async {
        let cfn = crate::support::cfn_client(&moto, "us-west-2").await;
        cfn.get_template().stack_name("gantry-q-gpu").send().await.unwrap().template_body.unwrap_or_default()
    });
    assert!(template.contains("HF_TOKEN") && !template.contains("hf_s3cr3t"), "the deployed template names the secret only");
    let fired = moto.fired();
    for rule in ["role_delay", "pending", "empty_page"] {
        assert!(fired.get(rule).copied().unwrap_or(0) >= 1, "{rule} was exercised: {fired:?}");
    }
    assert_eq!(fired.get("conflict"), None, "gantry waits for a function to settle before changing it: {fired:?}");

    let (sha, env_vars, policy) = rt.block_on(async {
        let l = lambda_client(&moto, "us-west-2").await;
        let f = l.get_function_configuration().function_name("gantry-q-gpu-scaler").send().await.unwrap();
        let policy = l.get_policy().function_name("gantry-q-gpu-scaler").send().await.unwrap().policy.unwrap();
        (f.code_sha256().unwrap().to_string(), f.environment().unwrap().variables().unwrap().clone(), policy)
    });
    use base64::Engine;
    use sha2::Digest;
    let want = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(std::fs::read(crate::support::fixture_zip_path()).unwrap()));
    assert_eq!(sha, want, "CodeSha256 is base64(sha256(zip))");
    assert_eq!(env_vars["ASG_NAME"], "gantry-q-gpu");
    assert_eq!(env_vars["POLL_INTERVAL"], "5s");
    assert_eq!(env_vars["SCALE_IN_IDLE"], "20m");
    assert!(policy.contains("events.amazonaws.com") && policy.contains("rule/gantry-q-gpu-scaler"), "{policy}");

    let r = gantry(&["plan", d, "--detailed-exitcode", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan must be empty: {}", r.all());
    // Per queue: GetTemplate, ListTags (is the function this queue's?) and
    // GetPolicy; per region: DescribeStacks, ListFunctions.
    crate::support::assert_calls(&moto, &r.stderr, "CloudFormation", 4);
    crate::support::assert_calls(&moto, &r.stderr, "Lambda", 7);

    // Change one queue's max size and another's instance type: the plan shows exactly that.
    let changed = stack(&zip).replace("max_size              = 20", "max_size              = 40").replace("[\"m7i.8xlarge\"]", "[\"m7i.12xlarge\"]");
    std::fs::write(dir.path().join("main.gantry.hcl"), &changed).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 0 to add, 2 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("~ template.Resources.AutoScalingGroup.Properties.MaxSize = \"20\" -> \"40\""), "{}", r.all());
    assert!(
        r.stdout.contains("template.Resources.LaunchTemplate.Properties.LaunchTemplateData.InstanceType")
            && r.stdout.contains("\"m7i.8xlarge\" -> \"m7i.12xlarge\""),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("# agent_queue.cpu"), "the untouched queue is not in the plan: {}", r.all());
    // Each change shows how it moves the cost ceiling; the plan ends with the stack's.
    assert!(r.stdout.contains("# cost ceiling: $26.46/h → $52.93/h (40 × g6.4xlarge at $1.3232/h; 40 GPUs/chips at most)"), "{}", r.all());
    assert!(r.stdout.contains("# cost ceiling: $6.45/h → $9.68/h (4 × m7i.12xlarge at $2.4192/h)"), "{}", r.all());
    assert!(r.stdout.contains("(+$29.69/h at most; prices of ") && !r.stdout.contains("not priced"), "{}", r.all());
    // --change-sets asks CloudFormation what it would do (moto reports no Replacement flags).
    let r = gantry(&["plan", d, "--change-sets"], &env, dir.path());
    assert!(r.stdout.contains("# CloudFormation: Modify AutoScalingGroup"), "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "preview change sets were deleted, nothing applied: {}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // A new scaler build redeploys code only where it changed (all three here), nothing else.
    let zip2 = dir.path().join("scaler2.zip");
    let mut bytes = std::fs::read(crate::support::fixture_zip_path()).unwrap();
    bytes.extend_from_slice(b"\0");
    std::fs::write(&zip2, bytes).unwrap();
    std::fs::write(dir.path().join("main.gantry.hcl"), changed.replace(&zip, zip2.to_str().unwrap())).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 0 to add, 3 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("~ function.code_sha256"), "{}", r.all());
    assert!(!r.stdout.contains("template."), "code changes do not touch the stacks: {}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("3 destroyed"), "{}", r.all());
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn bad_queue_input_is_caught_before_anything_is_created() {
    let zip = fixture_zip();
    let bad = stack(&zip)
        .replace("max_size              = 4", "max_size              = 4\n  min_size              = 6")
        .replace("[\"g6.4xlarge\"]", "[\"g6-4xlarge\"]")
        .replace("agents_per_instance   = 2", "agents_per_instance   = 0");
    let dir = stack_dir(&[("main.gantry.hcl", &bad)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("max_size 4 is below min_size 6"), "{}", r.all());
    assert!(r.stderr.contains("\"g6-4xlarge\" is not an instance type"), "{}", r.all());
    assert!(r.stderr.contains("invalid value for \"agents_per_instance\": 0 is out of range 1..=64"), "{}", r.all());

    let no_token = stack(&zip).replace("agent_token_parameter = \"/bk/token\"\n  scale_in_idle", "scale_in_idle");
    let dir = stack_dir(&[("main.gantry.hcl", &no_token)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert!(r.stderr.contains("missing required attribute \"agent_token_parameter\""), "{}", r.all());

    // Cloud-side checks at plan time: a missing image parameter or token parameter.
    let moto = Moto::start();
    let env = moto.env();
    let missing = stack(&zip).replacen("image_ssm_parameter   = local.image", "image_ssm_parameter   = \"/no/such/ami\"", 1);
    let dir = stack_dir(&[("main.gantry.hcl", &missing)]);
    let r = gantry(&["plan", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("agent_queue.cpu: image parameter /no/such/ami does not exist in us-west-2"), "{}", r.all());
    assert!(r.stderr.contains("agent token parameter /bk/token does not exist in us-west-2"), "{}", r.all());
    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let functions = rt.block_on(async { lambda_client(&moto, "us-west-2").await.list_functions().send().await.unwrap().functions().len() });
    assert_eq!(functions, 0, "nothing half-created");
}

#[test]
fn subnets_must_exist_in_the_region_and_the_vpc() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));
    let make = |region: &'static str, cidr: &'static str| {
        let moto = &moto;
        async move {
            let vpc = xml_text(&ec2_call(moto, region, "CreateVpc", &[("CidrBlock", cidr)]).await, "vpcId");
            let subnet = xml_text(&ec2_call(moto, region, "CreateSubnet", &[("VpcId", &vpc), ("CidrBlock", cidr)]).await, "subnetId");
            (vpc, subnet)
        }
    };
    let (west_vpc, west_subnet) = rt.block_on(make("us-west-2", "10.10.0.0/16"));
    let (other_vpc, _) = rt.block_on(make("us-west-2", "10.20.0.0/16"));
    let (_, east_subnet) = rt.block_on(make("us-east-1", "10.30.0.0/16"));
    let queue = |subnets: &str, vpc: &str| {
        format!(
            "stack \"net\" {{\n  aws {{ region = \"us-west-2\" }}\n}}\nagent_queue \"cpu\" {{\n  instance_types = [\"c7i.large\"]\n  max_size = 2\n  image_id = \"ami-12c6146b\"\n  agent_token_parameter = \"/bk/token\"\n  subnets = [{subnets}]\n  vpc_id = \"{vpc}\"\n  scaler {{\n    zip = \"{}\"\n  }}\n}}\n",
            fixture_zip()
        )
    };
    let dir = stack_dir(&[("main.gantry.hcl", &queue(&format!("\"{west_subnet}\", \"{east_subnet}\""), &west_vpc))]);
    let r = gantry(&["plan", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains(&format!("subnet {east_subnet} does not exist in us-west-2")), "{}", r.all());
    std::fs::write(dir.path().join("main.gantry.hcl"), queue(&format!("\"{west_subnet}\""), &other_vpc)).unwrap();
    let r = gantry(&["plan", "."], &env, dir.path());
    assert!(r.stderr.contains(&format!("subnet {west_subnet} is in {west_vpc}, not in vpc_id {other_vpc}")), "{}", r.all());
    std::fs::write(dir.path().join("main.gantry.hcl"), queue(&format!("\"{west_subnet}\""), &west_vpc)).unwrap();
    let r = gantry(&["plan", ".", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "valid subnets plan cleanly: {}", r.all());
}

/// A queue with no scaler block deploys the scaler bundled with gantry;
/// the plan names where it came from, and a missing bundle is a clear
/// error pointing at the queue, before anything changes.
#[test]
fn queues_deploy_the_bundled_scaler_and_say_where_it_came_from() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));
    let text = "stack \"b\" {\n  aws { region = \"us-west-2\" }\n}\n\nagent_queue \"cpu\" {\n  instance_types        = [\"c7i.large\"]\n  max_size              = 2\n  image_id              = \"ami-12c6146b\"\n  agent_token_parameter = \"/bk/token\"\n}\n";
    let dir = stack_dir(&[("main.gantry.hcl", text)]);
    let d = dir.path().to_str().unwrap();

    let empty = tempfile::tempdir().unwrap();
    let mut no_bundle = env.clone();
    no_bundle.push(("GANTRY_SCALER_DIR", empty.path().display().to_string()));
    let r = gantry(&["plan", d], &no_bundle, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("main.gantry.hcl:5:") && r.stderr.contains("GANTRY_SCALER_DIR is set, but"), "{}", r.all());
    // validate needs no scaler at all.
    assert_eq!(gantry(&["validate", d], &no_bundle, dir.path()).code, 0);

    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let bundled = crate::support::bundled_scaler_dir().join(format!("gantry-scaler-{}-arm64.zip", env!("CARGO_PKG_VERSION")));
    assert!(
        r.stdout.contains(&format!("scaler code: bundled scaler {} from GANTRY_SCALER_DIR ({})", env!("CARGO_PKG_VERSION"), bundled.display())),
        "{}",
        r.all()
    );
    let sha = rt.block_on(async {
        lambda_client(&moto, "us-west-2").await.get_function_configuration().function_name("gantry-b-cpu-scaler").send().await.unwrap().code_sha256.unwrap()
    });
    use base64::Engine;
    use sha2::Digest;
    assert_eq!(sha, base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(std::fs::read(&bundled).unwrap())));
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan is empty: {}", r.all());
}
