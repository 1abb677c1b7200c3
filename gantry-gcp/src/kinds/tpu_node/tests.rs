//! Pure checks, and driver tests against the in-memory Google Cloud (real
//! API shapes: full resource names, server-filled network and service
//! account, paged lists).

use super::{runtime_matches, TpuDriver, TpuNode};
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use crate::kinds::common::gcp::fake::FakeGcp;
use serde_json::{json, Value};
use std::sync::Arc;

#[test]
fn runtime_families() {
    assert!(runtime_matches("v6e-8", "v2-alpha-tpuv6e"));
    assert!(!runtime_matches("v6e-1", "v2-alpha-tpuv5-lite"));
    assert!(runtime_matches("v5litepod-4", "v2-alpha-tpuv5-lite"));
    assert!(!runtime_matches("v4-8", "v2-alpha-tpuv6e"));
}

#[test]
fn checks_catch_bad_input() {
    let a = json!({"name": "Bad_Name", "zone": "useast5", "accelerator_type": "v6e-1", "runtime_version": "v2-alpha-tpuv5-lite",
                   "labels": {"Team": "x"}})
    .as_object()
    .unwrap()
    .clone();
    let attrs: Vec<String> = TpuNode.block(&a).check().into_iter().map(|p| p.attr).collect();
    assert_eq!(attrs, vec!["name", "zone", "labels", "runtime_version"]);
}

const ZONE: &str = "us-east5-b";

fn env() -> Env {
    Env { stack: "ml".into(), dir: ".".into(), gcp_project: "test-project".into(), workspace: "default".into(), ..Env::default() }
}

/// Attributes as the loader hands them over (defaults applied).
fn attrs(name: &str, extra: Value) -> State {
    let mut v = json!({
        "name": name, "zone": ZONE, "accelerator_type": "v6e-1", "runtime_version": "v2-alpha-tpuv6e", "network": "default",
        "spot": false, "preemptible": false, "reserved": false, "labels": {}, "metadata": {},
        "agent": {"queue": "tpu", "token_secret": "bk-token", "agents": 1, "tags": {}},
    });
    for (k, val) in extra.as_object().cloned().unwrap_or_default() {
        v[k] = val;
    }
    v.as_object().cloned().unwrap()
}

fn owner(name: &str) -> Owner {
    Owner { stack: "ml".into(), address: format!("tpu_node.{name}"), protect: false, notes: None }
}

fn scope() -> ReadScope {
    ReadScope { stack: "ml".into(), owner: "ml".into(), identities: vec![], regions: vec![], zones: vec![ZONE.into()] }
}

fn driver() -> (Arc<FakeGcp>, TpuDriver) {
    let fake = Arc::new(FakeGcp::default());
    (fake.clone(), TpuDriver::new(fake))
}

#[tokio::test]
async fn a_node_with_a_data_disk_reads_back_with_nothing_to_change() {
    let (fake, d) = driver();
    let desired = TpuNode.block(&attrs("v6e-0", json!({"data_disk": {"size_gb": 512, "type": "hyperdisk-balanced"}}))).desired_state(&env());
    d.create(&desired, &owner("v6e-0")).await.unwrap();
    assert_eq!(fake.calls(), ["InsertDisk us-east5-b/v6e-0-data", "CreateNode us-east5-b/v6e-0"], "the disk exists before the node that attaches it");
    let disk = fake.disk(ZONE, "v6e-0-data").unwrap();
    assert!(disk["type"].as_str().unwrap().ends_with("/diskTypes/hyperdisk-balanced"), "{disk}");
    let live = d.read(&scope()).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].owner_address.as_deref(), Some("tpu_node.v6e-0"));
    assert_eq!(live[0].state["data_disk"], json!({"size_gb": 512, "type": "hyperdisk-balanced"}));
    let changes = diff_fields(TpuNode.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "a fresh node must plan no change: {changes:?}");
}

#[tokio::test]
async fn reading_follows_tokens_past_empty_pages() {
    let (fake, d) = driver();
    for n in 0..3 {
        d.create(&TpuNode.block(&attrs(&format!("n{n}"), json!({}))).desired_state(&env()), &owner(&format!("n{n}"))).await.unwrap();
    }
    assert_eq!(d.read(&scope()).await.unwrap().len(), 3);
    assert_eq!(fake.calls().iter().filter(|c| c.starts_with("ListNodes")).count(), 3, "{:?}", fake.calls());
    assert!(!fake.calls().iter().any(|c| c.starts_with("ListDisks")), "no disk list without data disks");
}

#[tokio::test]
async fn labels_and_metadata_update_in_place_and_keep_ownership() {
    let (fake, d) = driver();
    d.create(&TpuNode.block(&attrs("n", json!({}))).desired_state(&env()), &owner("n")).await.unwrap();
    let after = TpuNode.block(&attrs("n", json!({"labels": {"team": "tpu"}, "metadata": {"k": "v"}}))).desired_state(&env());
    let live = d.read(&scope()).await.unwrap().remove(0);
    let changed: Vec<String> = diff_fields(TpuNode.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed, ["labels", "metadata"]);
    d.update(&after, &live, &changed, &owner("n")).await.unwrap();
    let live = d.read(&scope()).await.unwrap().remove(0);
    assert!(diff_fields(TpuNode.fields(), &after, &live.state).is_empty());
    assert_eq!(live.owner_address.as_deref(), Some("tpu_node.n"));
    assert_eq!(fake.node(ZONE, "n").unwrap()["labels"]["gantry-stack"], "ml");
}

#[tokio::test]
async fn deleting_removes_node_and_data_disk_and_is_idempotent() {
    let (fake, d) = driver();
    d.create(&TpuNode.block(&attrs("n", json!({"data_disk": {"size_gb": 100, "type": "hyperdisk-balanced"}}))).desired_state(&env()), &owner("n"))
        .await
        .unwrap();
    let live = d.read(&scope()).await.unwrap().remove(0);
    d.delete(&live).await.unwrap();
    assert!(fake.node(ZONE, "n").is_none() && fake.disk(ZONE, "n-data").is_none());
    d.delete(&live).await.unwrap();
}

/// Each generation takes the disk types Cloud TPU documents, at validate.
#[test]
fn data_disk_types_are_checked_per_generation() {
    let problems = |acc: &str, rt: &str, disk: &str| {
        let a = attrs("n", json!({"accelerator_type": acc, "runtime_version": rt, "data_disk": {"size_gb": 100, "type": disk}}));
        TpuNode.block(&a).check().into_iter().map(|p| p.attr).collect::<Vec<_>>()
    };
    for bad in ["pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-throughput", "hyperdisk-extreme"] {
        assert_eq!(problems("v6e-1", "v2-alpha-tpuv6e", bad), ["data_disk.type"], "{bad} on v6e");
    }
    for good in ["hyperdisk-balanced", "hyperdisk-ml"] {
        assert!(problems("v6e-8", "v2-alpha-tpuv6e", good).is_empty(), "{good} on v6e");
    }
    for (acc, rt) in [("v5litepod-4", "v2-alpha-tpuv5-lite"), ("v5p-8", "v2-alpha-tpuv5"), ("v4-8", "tpu-ubuntu2204-base")] {
        assert!(problems(acc, rt, "pd-balanced").is_empty(), "pd-balanced on {acc}");
        for bad in ["pd-ssd", "hyperdisk-balanced", "hyperdisk-ml"] {
            assert_eq!(problems(acc, rt, bad), ["data_disk.type"], "{bad} on {acc}");
        }
    }
}

/// A node the API refuses leaves no disk behind that this apply created;
/// a disk an earlier attempt left is reused and kept.
#[tokio::test]
async fn a_failed_node_create_deletes_the_disk_it_created() {
    let (fake, d) = driver();
    // Past validate (a driver-level call): the API refuses pd-ssd on v6e.
    let desired = TpuNode.block(&attrs("n", json!({"data_disk": {"size_gb": 100, "type": "pd-ssd"}}))).desired_state(&env());
    let err = d.create(&desired, &owner("n")).await.unwrap_err();
    assert!(err.message.contains("InvalidArgument"), "{err:?}");
    assert!(fake.disk(ZONE, "n-data").is_none(), "the disk this create made is gone: {:?}", fake.calls());
    assert_eq!(fake.calls().last().unwrap(), "DeleteDisk us-east5-b/n-data");
    // A disk that was already there (an earlier apply stopped between the
    // two creates) is reused, and not this create's to delete.
    let ok = TpuNode.block(&attrs("m", json!({"data_disk": {"size_gb": 100, "type": "hyperdisk-balanced"}}))).desired_state(&env());
    d.create(&ok, &owner("m")).await.unwrap();
    super::api::TpuApi::delete_node(&*fake, "projects/test-project/locations/us-east5-b/nodes/m").await.unwrap();
    let refused = TpuNode
        .block(&attrs(
            "m",
            json!({"accelerator_type": "v5litepod-4", "runtime_version": "v2-alpha-tpuv5-lite", "data_disk": {"size_gb": 100, "type": "hyperdisk-balanced"}}),
        ))
        .desired_state(&env());
    assert!(d.create(&refused, &owner("m")).await.is_err());
    assert!(fake.disk(ZONE, "m-data").is_some(), "a reused disk stays: {:?}", fake.calls());
}

#[test]
fn capacity_counts_chips_per_generation_and_spot() {
    let cap = |t: &str, extra: Value| {
        let mut a = attrs("n", extra);
        a.insert("accelerator_type".into(), json!(t));
        TpuNode.capacity(&TpuNode.block(&a).desired_state(&env())).unwrap()
    };
    let v6e = cap("v6e-8", json!({}));
    assert_eq!((v6e.parts.clone(), v6e.on_demand_percent, v6e.location.as_str()), (vec![("tpu-v6e".to_string(), 8)], 100, ZONE));
    assert_eq!(cap("v5litepod-4", json!({})).parts, vec![("tpu-v5e".to_string(), 4)]);
    assert_eq!(cap("v4-8", json!({})).parts, vec![("tpu-v4".to_string(), 4)], "v4-8 names TensorCores: two per chip");
    assert_eq!(cap("v6e-8", json!({"spot": true})).on_demand_percent, 0);
    assert_eq!(cap("v6e-8", json!({"preemptible": true})).on_demand_percent, 0);
}
