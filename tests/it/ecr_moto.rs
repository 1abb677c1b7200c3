//! ECR repositories end to end on moto, through the real CLI:
//! plan → apply → empty re-plan → edit → apply → destroy → empty.

use crate::support::{ecr_client, gantry, stack_dir, Moto};

const STACK: &str = r#"
stack "itest" {
  aws { region = "us-west-2" }
}

variable "names" {
  type    = list(string)
  default = ["alpha", "beta"]
}

ecr_repository "cache" {
  name = "itest/cache"
  lifecycle_policy {
    expire_untagged_after_days = 14
    keep_last_tagged           = 100
  }
  tags = { team = "ci" }
}

ecr_repository "images" {
  for_each             = var.names
  name                 = "itest/${each.key}"
  image_tag_mutability = "MUTABLE"
  tags                 = { source = ecr_repository.cache.arn }
}
"#;

#[test]
fn full_lifecycle_on_moto() {
    let moto = Moto::start_plain(); // counts API calls exactly: no injected throttling
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("arn:aws:ecr:us-west-2:123456789012:repository/itest/cache"), "references resolve to real ARNs: {}", r.all());

    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."), "{}", r.all());

    let r = gantry(&["plan", d, "--detailed-exitcode", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan must be empty: {}", r.all());
    assert!(r.stdout.contains("No changes."), "{}", r.all());
    // 1 STS + 1 list + 3 per repository.
    assert!(r.stderr.contains("ECR=10,"), "1 list + 3 per repository: {}", r.all());

    // Edit: mutability, lifecycle rule and tags change in place; one repo removed.
    let edited = STACK
        .replace("default = [\"alpha\", \"beta\"]", "default = [\"alpha\"]")
        .replace("image_tag_mutability = \"MUTABLE\"", "image_tag_mutability = \"IMMUTABLE\"")
        .replace("expire_untagged_after_days = 14", "expire_untagged_after_days = 3")
        .replace("team = \"ci\"", "team = \"ml\"");
    std::fs::write(dir.path().join("main.gantry.hcl"), edited).unwrap();
    let plan_file = dir.path().join("edit.plan");
    let r = gantry(&["plan", d, "-out", plan_file.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Plan: 0 to add, 2 to change, 1 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("~ image_tag_mutability = \"MUTABLE\" -> \"IMMUTABLE\""), "{}", r.all());
    assert!(r.stdout.contains("-         \"countNumber\": 14,"), "{}", r.all());
    assert!(r.stdout.contains("# ecr_repository.images[\"beta\"] will be destroyed"), "{}", r.all());

    let r = gantry(&["show", plan_file.to_str().unwrap(), "--json"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["summary"]["change"], 2);

    let r = gantry(&["apply", plan_file.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan after edit must be empty: {}", r.all());

    // Applying the same saved plan again is refused: live state moved on.
    let r = gantry(&["apply", plan_file.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("the saved plan is stale"), "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("0 added, 0 changed, 2 destroyed"), "{}", r.all());
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "nothing left to destroy: {}", r.all());
}

#[test]
fn unowned_and_foreign_repositories_are_never_touched() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ecr = ecr_client(&moto).await;
        ecr.create_repository().repository_name("itest/cache").send().await.unwrap();
        ecr.create_repository().repository_name("someone-else").send().await.unwrap();
    });
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();

    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("ecr_repository \"itest/cache\" already exists and is not managed by gantry"), "{}", r.all());
    assert!(r.stderr.contains("import { to = ecr_repository.cache }"), "{}", r.all());

    // Adopting it explicitly works, and only tags/settings change.
    let adopted = format!("{STACK}\nimport {{\n  to = ecr_repository.cache\n}}\n");
    std::fs::write(dir.path().join("main.gantry.hcl"), adopted).unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("adopted: gantry takes ownership"), "{}", r.all());
    assert!(r.stdout.contains("2 added, 1 changed, 0 destroyed"), "{}", r.all());

    // Destroy deletes only what the stack owns.
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let names = rt.block_on(async {
        let ecr = ecr_client(&moto).await;
        let out = ecr.describe_repositories().send().await.unwrap();
        out.repositories().iter().map(|r| r.repository_name().unwrap().to_string()).collect::<Vec<_>>()
    });
    assert_eq!(names, vec!["someone-else".to_string()]);
}

#[test]
fn non_empty_repository_needs_force_delete() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", "stack \"fd\" {\n  aws { region = \"us-west-2\" }\n}\necr_repository \"full\" {}\n")]);
    let d = dir.path().to_str().unwrap();
    assert_eq!(gantry(&["apply", d, "--auto-approve"], &env, dir.path()).code, 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ecr = ecr_client(&moto).await;
        let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}"#;
        ecr.put_image().repository_name("full").image_manifest(manifest).image_tag("v1").send().await.unwrap();
    });
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("still contains images; set force_delete = true"), "{}", r.all());
    assert!(r.stderr.contains("Run `gantry plan` to see exactly what remains."), "{}", r.all());

    std::fs::write(
        dir.path().join("main.gantry.hcl"),
        "stack \"fd\" {\n  aws { region = \"us-west-2\" }\n}\necr_repository \"full\" {\n  force_delete = true\n}\n",
    )
    .unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}
