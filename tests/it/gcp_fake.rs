//! TPU and GPU nodes end to end on the in-repo fake of the TPU v2 and
//! Compute v1 APIs, through the real google-cloud-rust clients and the CLI.

use crate::support::{gantry, stack_dir};
use gantry_emulators::gcp::{FakeGcp, Faults};

const STACK: &str = r#"stack "tpu" {
  gcp {
    project = "ci-project"
  }
}

tpu_node "v6e" {
  count            = 12
  name             = "tpu-v6e-ci-${count.index}"
  zone             = "us-east5-b"
  accelerator_type = "v6e-1"
  runtime_version  = "v2-alpha-tpuv6e"
  data_disk {
    size_gb = 512
    type    = "hyperdisk-balanced"
  }
  labels = { team = "ci" }
  agent {
    queue        = "tpu_v6e_queue"
    token_secret = "bk-agent-token"
  }
}

gpu_node "l4" {
  name         = "gpu-l4-runner"
  zone         = "us-central1-a"
  machine_type = "g2-standard-24"
  accelerator {
    type  = "nvidia-l4"
    count = 2
  }
  boot_disk {
    image   = "projects/deeplearning-platform-release/global/images/family/common-cu128-ubuntu-2204-nvidia-570"
    size_gb = 200
  }
  labels = { team = "ci" }
  agent {
    queue        = "gpu_l4_queue"
    token_secret = "bk-agent-token"
  }
}
"#;

struct Fake {
    rt: tokio::runtime::Runtime,
    gcp: FakeGcp,
}

fn fake() -> Fake {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gcp = rt.block_on(FakeGcp::start(0)).unwrap();
    Fake { rt, gcp }
}

impl Fake {
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![("GANTRY_GCP_ENDPOINT", self.gcp.endpoint())]
    }
}

#[test]
fn tpu_and_gpu_nodes_lifecycle() {
    let f = fake();
    f.gcp.set_faults(Faults { latency_ms: 300, ..Faults::default() });
    let env = f.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("Plan: 13 to add, 0 to change, 0 to destroy."), "{}", r.all());

    // 12 TPU nodes (each a disk then a node, 300 ms per operation) and a GPU VM, concurrently.
    let t = std::time::Instant::now();
    let r = gantry(&["apply", d, "--auto-approve", "--parallelism", "16"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(t.elapsed() < std::time::Duration::from_secs(12), "creates ran concurrently: {:?}", t.elapsed());
    assert_eq!(f.gcp.tpu_names().len(), 12);
    let node = f.gcp.tpu_node("projects/ci-project/locations/us-east5-b/nodes/tpu-v6e-ci-3").unwrap();
    assert_eq!(node["labels"]["gantry-stack"], "tpu");
    assert_eq!(node["metadata"]["gantry-address"], "tpu_node.v6e[3]");
    assert!(node["metadata"]["startup-script"].as_str().unwrap().contains("tags=\"queue=tpu_v6e_queue"), "{node}");
    assert!(!node.to_string().contains("agent-token-value"), "no token in metadata");
    assert_eq!(node["dataDisks"][0]["sourceDisk"], "projects/ci-project/zones/us-east5-b/disks/tpu-v6e-ci-3-data");

    let r = gantry(&["plan", d, "--detailed-exitcode", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan must be empty: {}", r.all());
    // One list per zone (nodes, disks, instances), not a GET per node.
    let req = f.gcp.requests();
    assert!(!req.contains_key("tpu.get"), "{req:?}");

    // A label changes in place; a runtime version change replaces node 0 only.
    let changed = STACK.replace(
        "labels = { team = \"ci\" }\n  agent {\n    queue        = \"tpu_v6e_queue\"",
        "labels = { team = \"ml\" }\n  agent {\n    queue        = \"tpu_v6e_queue\"",
    );
    std::fs::write(dir.path().join("main.gantry.hcl"), &changed).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 0 to add, 12 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("~ labels = {\n          ~ team = \"ci\" -> \"ml\"\n        }"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve", "--parallelism", "16"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let replaced = changed.replace("runtime_version  = \"v2-alpha-tpuv6e\"", "runtime_version  = \"v2-alpha-tpuv6e-next\"");
    std::fs::write(dir.path().join("main.gantry.hcl"), &replaced).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("must be replaced"), "{}", r.all());
    assert!(r.stdout.contains("runtime_version = \"v2-alpha-tpuv6e\" -> \"v2-alpha-tpuv6e-next\" # forces replacement"), "{}", r.all());
    assert!(r.stdout.contains("Plan: 12 to add, 0 to change, 12 to destroy."), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve", "--parallelism", "16"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve", "--parallelism", "16"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("13 destroyed"), "{}", r.all());
    assert!(f.gcp.tpu_names().is_empty() && f.gcp.compute_names().is_empty(), "nodes, disks and instances are gone");
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    drop(f.rt);
}

#[test]
fn a_failed_operation_is_reported_and_replan_shows_what_remains() {
    let f = fake();
    f.gcp.set_faults(Faults { latency_ms: 50, fail_names: vec!["tpu-v6e-ci-2".into()], http_errors: vec![503, 429], ..Faults::default() });
    let env = f.env();
    let small = STACK.replace("count            = 12", "count            = 4");
    let dir = stack_dir(&[("main.gantry.hcl", &small)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve", "--parallelism", "1"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("tpu_node.v6e[2]") && r.stderr.contains("injected failure"), "{}", r.all());
    f.gcp.set_faults(Faults::default());
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("# tpu_node.v6e[2] will be created"), "{}", r.all());
    assert!(!r.stdout.contains("# tpu_node.v6e[0] will be created"), "done work is not redone: {}", r.all());
    drop(f.rt);
}

/// An operation that does not finish is a bounded wait: gantry gives up
/// with the way out and releases the lock (GANTRY_GCP_OPERATION_TIMEOUT
/// shortens the 60-minute default for the test).
#[test]
fn an_operation_that_never_finishes_is_a_bounded_wait() {
    let f = fake();
    f.gcp.set_faults(Faults { latency_ms: 60_000, ..Faults::default() });
    let mut env = f.env();
    env.push(("GANTRY_GCP_OPERATION_TIMEOUT", "2s".into()));
    let one = STACK.replace("count            = 12", "count            = 1");
    // No data disk: the TPU create itself is the operation that hangs.
    let one = one.replace("  data_disk {\n    size_gb = 512\n    type    = \"hyperdisk-balanced\"\n  }\n", "");
    let dir = stack_dir(&[("main.gantry.hcl", &one)]);
    let started = std::time::Instant::now();
    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    // Both pollers: the TPU API's (its policy's time limit) and Compute's (a deadline around it).
    assert!(r.all().contains("tpu CreateNode: gave up waiting for the operation after 2s"), "{}", r.all());
    assert!(r.all().contains("compute InsertInstance: gave up waiting for the operation after 2s"), "{}", r.all());
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}: {}", started.elapsed(), r.all());
    assert!(!dir.path().join(".gantry/lock").exists(), "the lock is released");
    drop(f.rt);
}

#[test]
fn bad_gcp_input_is_a_diagnostic() {
    let bad = STACK
        .replace("zone             = \"us-east5-b\"", "zone             = \"useast5\"")
        .replace("size_gb = 512", "size_gb = 0")
        .replace("runtime_version  = \"v2-alpha-tpuv6e\"", "runtime_version  = \"v2-alpha-tpuv5-lite\"")
        .replace(
            "labels = { team = \"ci\" }\n  agent {\n    queue        = \"gpu_l4_queue\"",
            "labels = { Team = \"CI\" }\n  agent {\n    queue        = \"gpu_l4_queue\"",
        )
        .replace("name             = \"tpu-v6e-ci-${count.index}\"", "name             = \"tpu-v6e-ci\"");
    let dir = stack_dir(&[("main.gantry.hcl", &bad)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    for needle in [
        "\"useast5\" is not a zone",
        "invalid value for \"size_gb\": 0 is out of range",
        "runtime \"v2-alpha-tpuv5-lite\" does not match accelerator v6e-1",
        "label key \"Team\" must start with a lowercase letter",
    ] {
        assert!(r.stderr.contains(needle), "missing {needle}: {}", r.all());
    }
    // Duplicate names after count expansion.
    let dup = STACK.replace("name             = \"tpu-v6e-ci-${count.index}\"", "name             = \"tpu-v6e-ci\"");
    let dir = stack_dir(&[("main.gantry.hcl", &dup)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert!(r.stderr.contains("would both manage the tpu_node named \"us-east5-b/tpu-v6e-ci\""), "{}", r.all());
}

/// The fake answers like the real APIs (full URLs, server-filled subnetwork
/// and service account, input-only boot disk parameters dropped, empty list
/// pages with a next token): apply converges and the re-plan is empty.
#[test]
fn real_api_shapes_replan_empty_and_second_apply_changes_nothing() {
    let f = fake();
    f.gcp.set_faults(Faults { latency_ms: 20, empty_pages: true, ..Faults::default() });
    let env = f.env();
    let small = STACK.replace("count            = 12", "count            = 2");
    let dir = stack_dir(&[("main.gantry.hcl", &small)]);
    let d = dir.path().to_str().unwrap();

    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("subnetwork       = (known after apply)"), "server-filled fields are shown as such: {}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // What the server stored is not what gantry sent.
    let node = f.gcp.tpu_node("projects/ci-project/locations/us-east5-b/nodes/tpu-v6e-ci-1").unwrap();
    assert_eq!(node["networkConfig"]["network"], "projects/ci-project/global/networks/default");
    assert_eq!(node["networkConfig"]["subnetwork"], "projects/ci-project/regions/us-east5/subnetworks/default");
    assert!(node["serviceAccount"]["email"].as_str().unwrap().ends_with("-compute@developer.gserviceaccount.com"), "{node}");
    let inst = f.gcp.instance("projects/ci-project/zones/us-central1-a/instances/gpu-l4-runner").unwrap();
    assert!(inst.pointer("/disks/0/initializeParams").is_none(), "initializeParams is input only: {inst}");
    assert!(inst["machineType"].as_str().unwrap().starts_with("https://www.googleapis.com/compute/v1/projects/ci-project/zones/"), "{inst}");
    let boot = f.gcp.disk("projects/ci-project/zones/us-central1-a/disks/gpu-l4-runner").expect("the boot disk is a Disk");
    assert!(boot["sourceImage"].as_str().unwrap().contains("/global/images/common-cu128-ubuntu-2204-nvidia-570-v"), "a family resolves to an image: {boot}");

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan right after apply must be empty: {}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("No changes"), "a second apply changes nothing: {}", r.all());

    // Naming the server's choices in another spelling is no change either.
    let explicit = small
        .replace("  runtime_version  = \"v2-alpha-tpuv6e\"\n", "  runtime_version  = \"v2-alpha-tpuv6e\"\n  network          = \"projects/ci-project/global/networks/default\"\n  subnetwork       = \"default\"\n")
        .replace("  machine_type = \"g2-standard-24\"\n", "  machine_type = \"g2-standard-24\"\n  subnetwork   = \"regions/us-central1/subnetworks/default\"\n");
    std::fs::write(dir.path().join("main.gantry.hcl"), &explicit).unwrap();
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "same resources, other spellings: {}", r.all());

    // Another network is a replacement; a new startup script says when it runs.
    let moved = small.replace("  runtime_version  = \"v2-alpha-tpuv6e\"\n", "  runtime_version  = \"v2-alpha-tpuv6e\"\n  network          = \"ci\"\n");
    std::fs::write(dir.path().join("main.gantry.hcl"), &moved).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 2 to add, 0 to change, 2 to destroy."), "{}", r.all());
    let retagged = small.replace("queue        = \"gpu_l4_queue\"", "queue        = \"gpu_l4_queue_v2\"");
    std::fs::write(dir.path().join("main.gantry.hcl"), &retagged).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("runs at the node's next boot"), "{}", r.all());
    drop(f.rt);
}

#[test]
fn a_failed_compute_operation_is_an_error_not_a_success() {
    // The Compute poller answers a failed operation as Ok: gantry must read its error.
    let f = fake();
    f.gcp.set_faults(Faults { latency_ms: 20, fail_names: vec!["gpu-l4-runner".into()], ..Faults::default() });
    let env = f.env();
    let gpu_only = &STACK[STACK.find("gpu_node").unwrap()..];
    let stack = format!("{}{gpu_only}", &STACK[..STACK.find("tpu_node").unwrap()]);
    let dir = stack_dir(&[("main.gantry.hcl", &stack)]);
    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("ZONE_RESOURCE_POOL_EXHAUSTED"), "{}", r.all());
    drop(f.rt);
}

const LOOKED_UP_NETWORK: &str = r#"stack "gpu" {
  gcp {
    project = "ci-project"
  }
}

data "gcp_network" "ci" {
  name = "ci"
}

gpu_node "l4" {
  name         = "gpu-l4-net"
  zone         = "us-central1-a"
  machine_type = "g2-standard-8"
  accelerator {
    type  = "nvidia-l4"
    count = 1
  }
  boot_disk {
    image   = "projects/deeplearning-platform-release/global/images/family/common-cu128-ubuntu-2204-nvidia-570"
    size_gb = 100
  }
  network    = data.gcp_network.ci.self_link
  subnetwork = data.gcp_network.ci.subnetworks[0]
  agent {
    queue        = "gpu_l4_queue"
    token_secret = "bk-agent-token"
  }
}
"#;

/// A node joins a network another team owns, found by name: Compute's
/// full URLs (self link, subnetwork links) go in, and the re-plan is empty.
#[test]
fn a_node_joins_a_looked_up_network() {
    let f = fake();
    let dir = stack_dir(&[("main.gantry.hcl", LOOKED_UP_NETWORK)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["plan", d], &f.env(), dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("data.gcp_network.ci: no network named \"ci\" in project ci-project"), "{}", r.all());

    f.gcp.add_network("ci-project", "ci", &["us-central1", "us-east5"]);
    let r = gantry(&["apply", d, "--auto-approve"], &f.env(), dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let inst = f.gcp.instance("projects/ci-project/zones/us-central1-a/instances/gpu-l4-net").expect("instance created");
    let nic = &inst["networkInterfaces"][0];
    assert_eq!(nic["network"], "https://www.googleapis.com/compute/v1/projects/ci-project/global/networks/ci");
    assert_eq!(nic["subnetwork"], "https://www.googleapis.com/compute/v1/projects/ci-project/regions/us-central1/subnetworks/ci");
    let r = gantry(&["plan", d, "--detailed-exitcode"], &f.env(), dir.path());
    assert_eq!(r.code, 0, "re-plan must be empty: {}", r.all());
    assert_eq!(f.gcp.requests().get("compute.networks.get"), Some(&3), "one read per plan");
}

/// Without a state file, a node is found wherever the stack left it: a zone
/// no block names any more, a kind whose last block is gone. One listing
/// across locations per kind (TPU `locations/-`, Compute aggregatedList).
#[test]
fn nodes_in_zones_no_block_names_are_found_and_protected_ones_still_guarded() {
    let f = fake();
    let env = f.env();
    let stack = r#"stack "roam" {
  gcp { project = "ci-project" }
}

tpu_node "a" {
  name             = "roam-a"
  zone             = "us-east5-b"
  accelerator_type = "v6e-1"
  runtime_version  = "v2-alpha-tpuv6e"
  protect          = true
}

gpu_node "g" {
  name         = "roam-g"
  zone         = "us-central1-a"
  machine_type = "g2-standard-8"
  accelerator {
    type  = "nvidia-l4"
    count = 1
  }
}
"#;
    let dir = stack_dir(&[("main.gantry.hcl", stack)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // Both blocks go; a TPU in another zone comes.
    let moved = r#"stack "roam" {
  gcp { project = "ci-project" }
}

tpu_node "b" {
  name             = "roam-b"
  zone             = "europe-west4-a"
  accelerator_type = "v5litepod-1"
  runtime_version  = "v2-alpha-tpuv5-lite"
}
"#;
    std::fs::write(dir.path().join("main.gantry.hcl"), moved).unwrap();
    let r = gantry(&["plan", d, "-v"], &env, dir.path());
    assert_eq!(r.code, 1, "the protected node in a zone no block names is seen, and guarded: {}", r.all());
    assert!(r.all().contains("tpu_node.a (us-east5-b/roam-a) is protected"), "{}", r.all());
    let r = gantry(&["plan", d, "--allow-delete", "tpu_node.a"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Plan: 1 to add, 0 to change, 2 to destroy."), "the GPU node of a removed kind and the TPU of an unnamed zone: {}", r.all());
    assert!(r.stdout.contains("gpu_node.g") && r.stdout.contains("tpu_node.a"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve", "--allow-delete", "tpu_node.a"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}
