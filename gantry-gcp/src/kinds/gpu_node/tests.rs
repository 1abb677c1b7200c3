//! Driver tests against the in-memory Google Cloud (real API shapes).

use super::{GpuDriver, GpuNode};
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use crate::kinds::common::gcp::fake::FakeGcp;
use serde_json::{json, Value};
use std::sync::Arc;

const ZONE: &str = "us-central1-a";

fn env() -> Env {
    Env { stack: "ml".into(), dir: ".".into(), gcp_project: "test-project".into(), workspace: "default".into(), ..Env::default() }
}

/// Attributes as the loader hands them over (defaults applied).
fn attrs(name: &str, labels: Value) -> State {
    let v = json!({
        "name": name, "zone": ZONE, "machine_type": "g2-standard-24", "network": "default", "spot": false,
        "labels": labels, "metadata": {"team": "ml"},
        "accelerator": {"type": "nvidia-l4", "count": 2},
        "boot_disk": {"image": super::DEFAULT_IMAGE, "size_gb": 200, "type": "pd-balanced"}, "external_ip": true, "gpu_image_check": true,
    });
    v.as_object().cloned().unwrap()
}

fn owner(name: &str) -> Owner {
    Owner { stack: "ml".into(), address: format!("gpu_node.{name}"), protect: false, notes: None }
}

fn scope(identities: &[&str]) -> ReadScope {
    ReadScope {
        stack: "ml".into(),
        owner: "ml".into(),
        identities: identities.iter().map(|s| s.to_string()).collect(),
        regions: vec![],
        zones: vec![ZONE.into()],
    }
}

fn driver() -> (Arc<FakeGcp>, GpuDriver) {
    let fake = Arc::new(FakeGcp::default());
    (fake.clone(), GpuDriver::new(fake))
}

#[tokio::test]
async fn a_created_instance_reads_back_with_nothing_to_change() {
    let (fake, d) = driver();
    let desired = GpuNode.block(&attrs("l4", json!({"team": "ml"}))).desired_state(&env());
    d.create(&desired, &owner("l4")).await.unwrap();
    // The API answers full URLs, a resolved image and a real service account.
    let stored = fake.instance(ZONE, "l4").unwrap();
    assert!(stored["machineType"].as_str().unwrap().starts_with("https://"), "{stored}");
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].owner_stack.as_deref(), Some("ml"));
    assert_eq!(live[0].owner_address.as_deref(), Some("gpu_node.l4"));
    let changes = diff_fields(GpuNode.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "a fresh instance must plan no change: {changes:?}");
}

#[tokio::test]
async fn reading_follows_tokens_past_empty_pages_and_skips_other_stacks() {
    let (fake, d) = driver();
    for n in 0..5 {
        let desired = GpuNode.block(&attrs(&format!("n{n}"), json!({}))).desired_state(&env());
        d.create(&desired, &owner(&format!("n{n}"))).await.unwrap();
    }
    fake.seed_instance(ZONE, json!({"name": "theirs", "labels": {"gantry-stack": "other"}, "networkInterfaces": [{"network": "default"}]}));
    fake.seed_instance(ZONE, json!({"name": "named", "networkInterfaces": [{"network": "default"}]}));
    let live = d.read(&scope(&["us-central1-a/named"])).await.unwrap();
    let mut names: Vec<&str> = live.iter().map(|l| l.identity.as_str()).collect();
    names.sort();
    assert_eq!(names, ["us-central1-a/n0", "us-central1-a/n1", "us-central1-a/n2", "us-central1-a/n3", "us-central1-a/n4", "us-central1-a/named"]);
    let lists = fake.calls().iter().filter(|c| c.starts_with("ListInstances")).count();
    assert_eq!(lists, 7, "7 instances in pages of two with empty pages between: {:?}", fake.calls());
}

#[tokio::test]
async fn labels_and_metadata_are_updated_with_the_fingerprints_read_last() {
    let (fake, d) = driver();
    let before = GpuNode.block(&attrs("l4", json!({"team": "ml"}))).desired_state(&env());
    d.create(&before, &owner("l4")).await.unwrap();
    for round in 1..=2 {
        let mut a = attrs("l4", json!({"team": format!("ml-{round}")}));
        a.insert("metadata".into(), json!({"team": format!("ml-{round}")}));
        let after = GpuNode.block(&a).desired_state(&env());
        let live = d.read(&scope(&[])).await.unwrap().remove(0);
        let changed: Vec<String> = diff_fields(GpuNode.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
        assert_eq!(changed, ["labels", "metadata"]);
        d.update(&after, &live, &changed, &owner("l4")).await.unwrap();
        let live = d.read(&scope(&[])).await.unwrap().remove(0);
        assert!(diff_fields(GpuNode.fields(), &after, &live.state).is_empty(), "round {round}");
    }
    let stored = fake.instance(ZONE, "l4").unwrap();
    assert_eq!(stored["labels"]["gantry-stack"], "ml", "ownership labels survive a label update");
}

#[tokio::test]
async fn deleting_removes_the_instance_and_an_absent_one_is_already_done() {
    let (fake, d) = driver();
    d.create(&GpuNode.block(&attrs("l4", json!({}))).desired_state(&env()), &owner("l4")).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    d.delete(&live).await.unwrap();
    assert!(fake.instance(ZONE, "l4").is_none());
    d.delete(&live).await.unwrap();
}

/// A GPU machine must reach the internet (its bootstrap downloads Docker,
/// the agent or the runner) and see its GPU (a driver on the image).
#[tokio::test]
async fn an_instance_gets_an_external_ip_unless_asked_not_to() {
    let (fake, d) = driver();
    d.create(&GpuNode.block(&attrs("l4", json!({}))).desired_state(&env()), &owner("l4")).await.unwrap();
    let stored = fake.instance(ZONE, "l4").unwrap();
    assert_eq!(stored["networkInterfaces"][0]["accessConfigs"][0]["type"], "ONE_TO_ONE_NAT", "{stored}");
    let mut a = attrs("private", json!({}));
    a.insert("external_ip".into(), json!(false));
    let desired = GpuNode.block(&a).desired_state(&env());
    d.create(&desired, &owner("private")).await.unwrap();
    assert!(fake.instance(ZONE, "private").unwrap()["networkInterfaces"][0].get("accessConfigs").is_none());
    let live = d.read(&scope(&[])).await.unwrap();
    let private = live.iter().find(|l| l.identity.ends_with("/private")).unwrap();
    assert_eq!(private.state["external_ip"], json!(false));
    assert!(diff_fields(GpuNode.fields(), &desired, &private.state).is_empty());
    // Turning it on later replaces the machine (the field forces replacement).
    let public = GpuNode.block(&attrs("private", json!({}))).desired_state(&env());
    let changes = diff_fields(GpuNode.fields(), &public, &private.state);
    assert_eq!(changes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["external_ip"]);
}

#[test]
fn driverless_images_are_refused_unless_the_check_is_off() {
    let problems = |image: &str, check: bool| {
        let mut a = attrs("l4", json!({}));
        a.insert("boot_disk".into(), json!({"image": image, "size_gb": 200, "type": "pd-balanced"}));
        a.insert("gpu_image_check".into(), json!(check));
        GpuNode.block(&a).check().into_iter().map(|p| p.attr).collect::<Vec<_>>()
    };
    assert_eq!(problems("projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts", true), ["boot_disk.image"]);
    assert_eq!(problems("projects/debian-cloud/global/images/family/debian-12", true), ["boot_disk.image"]);
    assert!(problems("projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts", false).is_empty());
    assert!(problems(super::DEFAULT_IMAGE, true).is_empty());
    assert!(problems("projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204", true).is_empty());
    assert!(problems("projects/ubuntu-os-accelerator-images/global/images/family/ubuntu-accelerator-2204-amd64-with-nvidia-550", true).is_empty());
}

#[test]
fn deep_learning_vm_images_are_asked_to_install_the_driver_and_the_script_waits_for_it() {
    let mut a = attrs("l4", json!({}));
    a.insert("agent".into(), json!({"queue": "gpu", "token_secret": "t", "agents": 1, "tags": {}}));
    let st = GpuNode.block(&a).desired_state(&env());
    assert_eq!(st["metadata"]["install-nvidia-driver"], "True");
    let script = st["metadata"]["startup-script"].as_str().unwrap();
    assert!(script.contains("nvidia-smi") && script.contains("nvidia-ctk runtime configure --runtime=docker"), "{script}");
    a.insert("boot_disk".into(), json!({"image": "projects/ubuntu-os-accelerator-images/global/images/family/x", "size_gb": 200, "type": "pd-balanced"}));
    assert!(GpuNode.block(&a).desired_state(&env())["metadata"].get("install-nvidia-driver").is_none());
}

#[tokio::test]
async fn iam_bindings_are_the_instances_policy_and_change_in_place() {
    let (fake, d) = driver();
    let waker = "serviceAccount:gpu-ci-waker@test-project.iam.gserviceaccount.com";
    let mut a = attrs("l4", json!({}));
    a.insert("iam_binding".into(), json!([{"role": "projects/test-project/roles/gantryRunnerWaker", "members": [waker]}]));
    let desired = GpuNode.block(&a).desired_state(&env());
    d.create(&desired, &owner("l4")).await.unwrap();
    assert!(fake.calls().iter().any(|c| c == "SetIamPolicy us-central1-a/l4"), "the policy is written after the insert: {:?}", fake.calls());
    let live = d.read(&scope(&[])).await.unwrap();
    assert!(diff_fields(GpuNode.fields(), &desired, &live[0].state).is_empty(), "reads back as written");
    // Dropping the block removes the grant in place; nothing else is touched.
    let bare = GpuNode.block(&attrs("l4", json!({}))).desired_state(&env());
    let changes = diff_fields(GpuNode.fields(), &bare, &live[0].state);
    assert_eq!(changes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["iam"]);
    assert!(!changes[0].forces_replacement);
    assert_eq!(GpuNode.broadening(Some(&bare), &desired), vec![format!("projects/test-project/roles/gantryRunnerWaker granted to {waker}")]);
    d.update(&bare, &live[0], &["iam".into()], &owner("l4")).await.unwrap();
    assert_eq!(d.read(&scope(&[])).await.unwrap()[0].state["iam"], json!({}));
}

#[test]
fn capacity_prices_attached_gpus_apart_unless_the_machine_includes_them() {
    let cap = |machine: &str, accel: Value, spot: bool| {
        let mut a = attrs("g", json!({}));
        a.insert("machine_type".into(), json!(machine));
        a.insert("accelerator".into(), accel);
        a.insert("spot".into(), json!(spot));
        GpuNode.capacity(&GpuNode.block(&a).desired_state(&env())).unwrap()
    };
    let g2 = cap("g2-standard-24", json!({"type": "nvidia-l4", "count": 2}), false);
    assert_eq!((g2.types.clone(), g2.parts.len(), g2.on_demand_percent), (vec!["g2-standard-24".to_string()], 0, 100), "G2 includes its L4s");
    let n1 = cap("n1-standard-8", json!({"type": "nvidia-tesla-t4", "count": 2}), true);
    assert_eq!(n1.parts, vec![("nvidia-tesla-t4".to_string(), 2)]);
    assert_eq!((n1.on_demand_percent, n1.min, n1.max, n1.location.as_str()), (0, 1, 1, ZONE));
}
