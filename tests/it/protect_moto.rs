//! `protect = true` is recorded on the resource (tag `gantry:protect`):
//! removing the block, `plan --destroy` and `destroy` leave it, with the
//! way out; `--allow-delete ADDR` names it for deletion; turning protection
//! off is an in-place tag change.

use crate::support::{ecr_client, gantry, stack_dir, Moto};

const STACK: &str = r#"stack "keep" {
  aws { region = "us-west-2" }
}

ecr_repository "models" {
  name    = "keep/models"
  protect = true
}

ecr_repository "scratch" {
  name = "keep/scratch"
}
"#;

#[test]
fn a_protected_resource_survives_a_removed_block_and_destroy_unless_named() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tags = rt.block_on(async {
        let ecr = ecr_client(&moto).await;
        let arn = ecr.describe_repositories().repository_names("keep/models").send().await.unwrap().repositories()[0].repository_arn().unwrap().to_string();
        ecr.list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<Vec<_>>()
    });
    assert!(tags.contains(&("gantry:protect".into(), "true".into())), "{tags:?}");
    assert_eq!(gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path()).code, 0);

    // The block is removed: the plan refuses to delete it and says how.
    std::fs::write(dir.path().join("main.gantry.hcl"), STACK.replace("ecr_repository \"models\" {\n  name    = \"keep/models\"\n  protect = true\n}\n", ""))
        .unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("ecr_repository.models (keep/models) is protected") && r.all().contains("--allow-delete ecr_repository.models"), "{}", r.all());
    // destroy: the same; nothing is deleted, not even the unprotected one.
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    let left = rt.block_on(async { ecr_client(&moto).await.describe_repositories().send().await.unwrap().repositories().len() });
    assert_eq!(left, 2);
    // Named: deleted.
    let r = gantry(&["destroy", d, "--auto-approve", "--allow-delete", "ecr_repository.models"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let left = rt.block_on(async { ecr_client(&moto).await.describe_repositories().send().await.unwrap().repositories().len() });
    assert_eq!(left, 0);

    // Protection turned off in place: the tag goes, then a removed block deletes as usual.
    std::fs::write(dir.path().join("main.gantry.hcl"), STACK).unwrap();
    assert_eq!(gantry(&["apply", d, "--auto-approve"], &env, dir.path()).code, 0);
    std::fs::write(dir.path().join("main.gantry.hcl"), STACK.replace("  protect = true\n", "")).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("owner = \"keep/ecr_repository.models (protected)\" -> \"keep/ecr_repository.models\""), "{}", r.all());
    assert_eq!(gantry(&["apply", d, "--auto-approve"], &env, dir.path()).code, 0);
    assert_eq!(gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path()).code, 0, "re-plan empty");
    assert_eq!(gantry(&["destroy", d, "--auto-approve"], &env, dir.path()).code, 0);
}
