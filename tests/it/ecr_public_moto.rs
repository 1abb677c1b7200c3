//! ECR Public repositories end to end (the proxy serves ECR Public, which
//! moto lacks), from a stack in another region: create with catalog data,
//! empty re-plan, catalog edit, a repository holding images refused until
//! force_delete is recorded on it, destroy.

use crate::support::{gantry, stack_dir, Moto};

const STACK: &str = r#"
stack "pub" {
  aws { region = "eu-west-1" }
}

ecr_public_repository "openllm" {
  name              = "bentoml/openllm"
  description       = "OpenLLM base images"
  architectures     = ["x86-64"]
  operating_systems = ["Linux"]
  tags              = { team = "llm" }
}

output "repository_arn" {
  value = ecr_public_repository.openllm.arn
}
"#;

#[test]
fn a_public_repository_lives_and_dies() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("arn:aws:ecr-public::123456789012:repository/bentoml/openllm"), "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan after apply must be empty: {}", r.all());

    let edited = STACK.replace("\"OpenLLM base images\"", "\"OpenLLM base images with compiled kernels\"").replace("[\"x86-64\"]", "[\"x86-64\", \"ARM 64\"]");
    std::fs::write(dir.path().join("main.gantry.hcl"), &edited).unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("ecr_public_repository.openllm will be updated in place"), "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    moto.push_public_images("bentoml/openllm", 3);
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("still contains images; set force_delete = true"), "{}", r.all());
    std::fs::write(
        dir.path().join("main.gantry.hcl"),
        edited.replace("  tags              = { team = \"llm\" }", "  force_delete      = true\n  tags              = { team = \"llm\" }"),
    )
    .unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}
