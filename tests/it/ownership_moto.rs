//! Ownership holes closed: what a queue creates besides its stack (the
//! scaler function) is checked by its own tags before gantry changes or
//! deletes it, and found at plan time.

use crate::support::{fixture_zip, gantry, lambda_client, stack_dir, Moto};

/// A function with the scaler's name that is not this queue's is never
/// updated or deleted: found at plan time, before anything is created.
#[test]
fn a_scaler_name_taken_by_a_foreign_function_is_refused_at_plan() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        crate::support::put_token(&moto, "us-west-2", "/bk/token").await;
        let iam = crate::support::iam_client(&moto).await;
        let trust =
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        let role = iam.create_role().role_name("someone").assume_role_policy_document(trust).send().await.unwrap().role.unwrap().arn;
        let code = aws_sdk_lambda::types::FunctionCode::builder()
            .zip_file(aws_sdk_lambda::primitives::Blob::new(std::fs::read(crate::support::fixture_zip_path()).unwrap()))
            .build();
        let l = lambda_client(&moto, "us-west-2").await;
        let mut tries = 0;
        // The realism proxy makes a new role unassumable for a moment, as IAM does.
        while let Err(e) = l
            .create_function()
            .function_name("gantry-oci-cpu-scaler")
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .handler("x")
            .role(&role)
            .code(code.clone())
            .send()
            .await
        {
            tries += 1;
            assert!(tries < 40, "{e:?}");
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    });
    let hcl = "stack \"oci\" {\n  aws { region = \"us-west-2\" }\n}\n\nagent_queue \"cpu\" {\n  instance_types        = [\"c7i.large\"]\n  max_size              = 2\n  image_ssm_parameter   = \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"\n  agent_token_parameter = \"/bk/token\"\n}\n";
    let dir = stack_dir(&[("main.gantry.hcl", hcl)]);
    let d = dir.path().to_str().unwrap();
    for args in [vec!["plan", d], vec!["apply", d, "--auto-approve"], vec!["apply", d, "--auto-approve", "--adopt"]] {
        let r = gantry(&args, &env, dir.path());
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.all().contains("the Lambda function gantry-oci-cpu-scaler (not gantry's) has the name this queue's scaler needs"), "{}", r.all());
    }
    let stacks =
        rt.block_on(async { crate::support::cfn_client(&moto, "us-west-2").await.describe_stacks().send().await.map(|o| o.stacks().len()).unwrap_or(0) });
    assert_eq!(stacks, 0, "nothing half-created");
    let env_vars = rt.block_on(async {
        lambda_client(&moto, "us-west-2")
            .await
            .get_function_configuration()
            .function_name("gantry-oci-cpu-scaler")
            .send()
            .await
            .unwrap()
            .handler()
            .map(String::from)
    });
    assert_eq!(env_vars.as_deref(), Some("x"), "the foreign function is untouched");
}

/// A role with the name a new queue's stack would create is found at plan
/// time (not by a CloudFormation create that fails half-way).
#[test]
fn a_role_name_taken_outside_the_queue_is_refused_at_plan() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        crate::support::put_token(&moto, "us-west-2", "/bk/token").await;
        let trust =
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        crate::support::iam_client(&moto).await.create_role().role_name("oci-cpu-agent").assume_role_policy_document(trust).send().await.unwrap();
    });
    let hcl = "stack \"oci\" {\n  aws { region = \"us-west-2\" }\n}\n\nagent_queue \"cpu\" {\n  instance_types        = [\"c7i.large\"]\n  max_size              = 2\n  image_ssm_parameter   = \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"\n  agent_token_parameter = \"/bk/token\"\n}\n";
    let dir = stack_dir(&[("main.gantry.hcl", hcl)]);
    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("IAM role(s) oci-cpu-agent already exist"), "{}", r.all());
    let stacks =
        rt.block_on(async { crate::support::cfn_client(&moto, "us-west-2").await.describe_stacks().send().await.map(|o| o.stacks().len()).unwrap_or(0) });
    assert_eq!(stacks, 0, "nothing half-created");
}

/// Renaming a queue's block (same queue name) moves it in place: the
/// stack's and the function's ownership tags change, nothing is replaced.
#[test]
fn a_renamed_queue_block_is_moved_in_place() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(crate::support::put_token(&moto, "us-west-2", "/bk/token"));
    let hcl = |label: &str| {
        format!("stack \"oci\" {{\n  aws {{ region = \"us-west-2\" }}\n}}\n\nagent_queue \"{label}\" {{\n  name                  = \"cpu\"\n  instance_types        = [\"c7i.large\"]\n  max_size              = 2\n  image_ssm_parameter   = \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"\n  agent_token_parameter = \"/bk/token\"\n  scaler {{\n    zip = \"{}\"\n  }}\n}}\n", fixture_zip())
    };
    let dir = stack_dir(&[("main.gantry.hcl", &hcl("old"))]);
    let d = dir.path().to_str().unwrap();
    assert_eq!(gantry(&["apply", d, "--auto-approve"], &env, dir.path()).code, 0);
    std::fs::write(dir.path().join("main.gantry.hcl"), hcl("renamed")).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("moved: block address changed"), "{}", r.all());
    assert!(!r.stdout.contains("destroy") || r.stdout.contains("0 to destroy"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // (moto's change sets ignore a tags-only stack update, which CloudFormation
    // propagates to the resources, so the move is planned again here.)
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(!r.stdout.contains("to add") || r.stdout.contains("0 to add"), "never a replacement: {}", r.all());
}
