//! The machines to boot: each rendered bootstrap with the image it boots
//! and the world it may count on, from snapshots or a plan.

use super::profiles::{self, Profile};
use super::{write, Machine, World};

/// Graviton families carry a `g` right after their generation (c7g, m7gd, g5g).
pub(crate) fn arm64(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or_default();
    family.chars().skip_while(|c| !c.is_ascii_digit()).find(|c| !c.is_ascii_digit()) == Some('g')
}

/// Instance-store NVMe disks of a type, roughly as EC2's "Instance store
/// volume limits" lists them: the GPU families and the `d` variants have
/// some, the large sizes several; enough to take each path (none, one, a
/// RAID of several).
pub(crate) fn instance_store_disks(instance_type: &str) -> usize {
    let (family, size) = instance_type.split_once('.').unwrap_or((instance_type, ""));
    let has = ["g4dn", "g5", "g6", "g6e", "p4d", "p5", "i3", "i4i"].contains(&family) || (family.len() > 2 && family.ends_with('d'));
    let big = ["12xlarge", "16xlarge", "24xlarge", "48xlarge", "metal"].contains(&size);
    match (has, big) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => 2,
    }
}

/// One bootstrap gantry renders, with the image it boots and its world.
pub(crate) struct Case {
    pub name: String,
    pub script: String,
    pub profile: &'static Profile,
    pub world: World,
}

/// Runs a case to its first job; the error names the failing line or step.
pub(crate) fn boot_and_run_one_job(c: &Case) -> Result<Machine, String> {
    let m = Machine::new(c.profile, &c.world, &c.script);
    let b = m.boot();
    if !b.ok {
        return Err(format!("{} on {}: the bootstrap failed at line {}\n{}", c.name, c.profile.name, b.failed_at.unwrap_or_default(), b.output));
    }
    m.run_first_job().map_err(|e| format!("{} on {}: booted, but the first job failed: {e}\ncalls:\n{}", c.name, c.profile.name, m.calls()))?;
    // A startup script (Compute Engine) runs again at every boot.
    if c.script.contains("startup script") || c.script.contains("bootstrap on") {
        let b = m.reboot(c.profile);
        if !b.ok {
            return Err(format!("{} on {}: the second boot failed at line {}\n{}", c.name, c.profile.name, b.failed_at.unwrap_or_default(), b.output));
        }
        // A configuration works once: `gantry runner wake` left a new one for this boot.
        if c.world.gce_metadata.iter().any(|(p, _)| p.ends_with("gantry-runner-jitconfig")) {
            write(m.root.path(), "/harness/gce-metadata/instance/attributes/gantry-runner-jitconfig", "c2Vjb25kLWNvbmZpZw==", 0o644);
        }
        m.run_first_job().map_err(|e| format!("{} on {}: after a second boot the job failed: {e}", c.name, c.profile.name))?;
    }
    Ok(m)
}

/// Checks what every finished case must show in its calls: a one-job
/// machine leaves its group, a busy one holds scale-in protection.
pub(crate) fn check_lifecycle(c: &Case, m: &Machine) -> Result<(), String> {
    let calls = m.calls();
    let one_job = c.script.contains("disconnect-after-job") || c.script.contains("gantry-runner.service");
    if one_job && !calls.contains("autoscaling terminate-instance-in-auto-scaling-group") {
        return Err(format!("{}: the one-job machine did not leave its group:\n{calls}", c.name));
    }
    if c.script.contains("gantry-protection acquire") && !(calls.contains("--protected-from-scale-in") && calls.contains("--no-protected-from-scale-in")) {
        return Err(format!("{}: a busy machine must hold scale-in protection and release it after the job:\n{calls}", c.name));
    }
    Ok(())
}

/// A queue's machine from its CloudFormation template: the launch
/// template's user data, on the image the template boots (a literal AMI or
/// its ImageId parameter's SSM path), with its instance type's
/// architecture and instance-store disks.
pub(crate) fn queue_case(name: String, template: &serde_json::Value) -> Option<Case> {
    let data = template["Resources"].as_object()?.values().find_map(|r| r.pointer("/Properties/LaunchTemplateData").cloned())?;
    let script = data["UserData"]["Fn::Base64"].as_str()?.to_string();
    let image = match data["ImageId"].get("Ref").and_then(|r| r.as_str()) {
        Some(p) => template["Parameters"][p]["Default"].to_string(),
        None => data["ImageId"].to_string(),
    };
    let itype = data["InstanceType"].as_str().unwrap_or_default();
    let mut world = World::for_script(&script);
    world.arch = arm64(itype).then_some("aarch64");
    world.instance_store_disks = instance_store_disks(itype);
    let profile = if image.contains("/deeplearning/") { &profiles::DLAMI_AL2023 } else { &profiles::AL2023 };
    Some(Case { name, script, profile, world })
}

/// A Google Cloud node's machine: its startup script, with the data disk it
/// names attached, and a route out or not.
pub(crate) fn node_case(name: String, script: String, profile: &'static Profile, egress: bool) -> Case {
    let mut world = World::for_script(&script);
    world.egress = egress;
    world.data_disk = script.split("DATA_DEV=\"").nth(1).and_then(|s| s.split('"').next()).filter(|d| !d.is_empty()).map(String::from);
    Case { name, script, profile, world }
}

/// The bootstraps a plan (`plan --json`) would put on machines: each queue's
/// user data on the image its template boots, each node's startup script.
/// Nodes of one `count` whose scripts differ only in the node's own name
/// boot the same way: one of them stands for the rest (vllm-ci has 16).
pub(crate) fn cases_from_plan(stack: &str, plan: &serde_json::Value) -> Vec<Case> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in plan["changes"].as_array().into_iter().flatten() {
        let after = |name: &str| c["attributes"].as_array().into_iter().flatten().find(|a| a["name"] == name).map(|a| a["after"].clone()).unwrap_or_default();
        let name = format!("{stack}: {}", c["address"].as_str().unwrap_or_default());
        match c["kind"].as_str().unwrap_or_default() {
            "agent_queue" => out.extend(queue_case(name, &after("template"))),
            kind @ ("gpu_node" | "tpu_node") => {
                let Some(script) = after("metadata")["startup-script"].as_str().map(String::from) else { continue };
                let profile = match kind {
                    "tpu_node" => &profiles::TPU_VM_UBUNTU_2204,
                    _ if gantry::kinds::gpu_node::gpu_ready_image(after("boot_disk")["image"].as_str().unwrap_or_default()) => &profiles::DLVM_UBUNTU_2204,
                    _ => &profiles::UBUNTU_2204_GCE,
                };
                let egress = after("external_ip") != serde_json::json!(false);
                let own_name = after("name").as_str().unwrap_or_default().to_string();
                let alike = if own_name.is_empty() { script.clone() } else { script.replace(&own_name, "{{NODE}}") };
                if seen.insert((profile.name, alike, egress)) {
                    out.push(node_case(name, script, profile, egress));
                }
            }
            _ => {}
        }
    }
    out
}
