//! What the real Google Cloud APIs do to a resource between the request and
//! the next read, so the fake answers in the shapes gantry meets in a real
//! project rather than echoing the request back. Each rule cites where it
//! is documented; gantry's readers must cope with every one of them.
//!
//! References:
//! - [TPU-NODE] Cloud TPU v2 REST, `projects.locations.nodes` resource
//!   (`Node`, `NetworkConfig`, `ServiceAccount`, `AttachedDisk`); the same
//!   fields are marked "Output only" in the google-cloud-tpu-v2 model docs.
//! - [GCE-INSTANCE] Compute Engine v1 REST, `instances` resource:
//!   `machineType`, `network`, `subnetwork`, `acceleratorType` and disk
//!   `source` are returned as full URLs; `AttachedDisk.initializeParams` is
//!   "Input only" and never returned; `AttachedDisk.diskSizeGb` is output only.
//! - [GCE-DISK] Compute Engine v1 REST, `disks` resource: `type` and
//!   `sourceImage` are full URLs, `sizeGb` is an int64 (a JSON string).
//! - [GCE-DEFAULTS] "Create a VM": a boot disk created from
//!   `initializeParams` is a Disk named like the instance unless `diskName`
//!   is given; image families resolve to the newest image of the family.
//! - [VPC-AUTO] "VPC networks", auto mode: each region has a subnet named
//!   like the network, used when a request names only the network.
//! - [GCE-NETWORK] Compute Engine v1 REST, `networks` resource: `id` and
//!   `selfLink` are output only (`id` a uint64 sent as a JSON string),
//!   `subnetworks` lists full URLs; new projects get an auto-mode network
//!   named `default` with one subnetwork per region ("Default network").
//! - [TPU-SA] Node.serviceAccount: "If None is specified, the default
//!   compute service account will be used."

use serde_json::{json, Value};

/// The fake project's number (default service accounts are named after it).
pub const PROJECT_NUMBER: &str = "123456789012";
/// Compute Engine's URL prefix for self links.
pub const COMPUTE: &str = "https://www.googleapis.com/compute/v1";
/// The concrete image a family resolves to (the fake's "newest").
pub const IMAGE_VERSION: &str = "v20241119";

/// A fingerprint as Compute Engine sends it: URL-safe base64 of 8 opaque
/// bytes (`labelFingerprint`, `metadata.fingerprint` are `format: byte`
/// fields; google-cloud-compute-v1 decodes them as URL-safe base64, and a
/// real one, `--KE24GB4T0=`, is quoted in abdolence/gcloud-sdk-rs#191).
/// The bytes are mixed and the first one fixed at 0xFB so every fingerprint
/// holds a `-` (a `+` in standard base64): a client that decodes the wrong
/// alphabet fails on every one, not on one in a few.
pub fn fingerprint(n: u64) -> String {
    use base64::Engine;
    let mut bytes = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes();
    bytes[0] = 0xFB;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Whether two fingerprints are the same bytes. Compute compares what the
/// bytes decode to, and accepts both base64 alphabets with or without
/// padding (proto3 JSON `bytes`), so a client's re-encoding still matches.
pub fn same_fingerprint(a: Option<&Value>, b: Option<&Value>) -> bool {
    use base64::Engine;
    let decode = |v: Option<&Value>| -> Option<Vec<u8>> {
        let s = v?.as_str()?.trim_end_matches('=').replace('+', "-").replace('/', "_");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()
    };
    matches!((decode(a), decode(b)), (Some(x), Some(y)) if x == y)
}

/// The region of a zone (`us-east5-b` → `us-east5`).
pub fn region_of(zone: &str) -> &str {
    zone.rsplit_once('-').map(|(r, _)| r).unwrap_or(zone)
}

fn last(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A global network reference in the TPU API's relative form [TPU-NODE].
fn tpu_network(project: &str, given: Option<&str>) -> String {
    format!("projects/{project}/global/networks/{}", last(given.unwrap_or("default")))
}

/// Fills a TPU node the way the TPU API does on create [TPU-NODE].
pub fn tpu_node(project: &str, zone: &str, id: &str, mut body: Value, number: u64) -> Value {
    let region = region_of(zone);
    let cfg = body.get("networkConfig").cloned().unwrap_or(json!({}));
    let network = tpu_network(project, cfg.get("network").and_then(Value::as_str));
    // [VPC-AUTO]: with no subnetwork, the network's own subnet in the region.
    let subnetwork =
        format!("projects/{project}/regions/{region}/subnetworks/{}", last(cfg.get("subnetwork").and_then(Value::as_str).unwrap_or(last(&network))));
    let mut net = cfg.clone();
    net["network"] = json!(network);
    net["subnetwork"] = json!(subnetwork);
    body["networkConfig"] = net;
    // [TPU-SA]: the default compute service account, with the cloud-platform scope.
    let mut sa = body.get("serviceAccount").cloned().filter(Value::is_object).unwrap_or(json!({}));
    if sa.get("email").and_then(Value::as_str).unwrap_or("").is_empty() {
        sa["email"] = json!(format!("{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"));
    }
    if sa.get("scope").and_then(Value::as_array).is_none_or(|a| a.is_empty()) {
        sa["scope"] = json!(["https://www.googleapis.com/auth/cloud-platform"]);
    }
    body["serviceAccount"] = sa;
    // Output only [TPU-NODE].
    let accel = body.get("acceleratorType").and_then(Value::as_str).unwrap_or_default().to_string();
    body["name"] = json!(format!("projects/{project}/locations/{zone}/nodes/{id}"));
    body["state"] = json!("CREATING");
    body["health"] = json!("HEALTHY");
    body["apiVersion"] = json!("V2");
    body["id"] = json!(number.to_string());
    body["createTime"] = json!("2026-11-25T12:00:00.000000Z");
    body["cidrBlock"] = json!("10.130.0.0/20");
    body["networkEndpoints"] = json!([{"ipAddress": "10.130.0.2", "port": 8470, "accessConfig": {"externalIp": "34.0.0.2"}}]);
    body["acceleratorConfig"] = json!({"type": accel.split('-').next().unwrap_or_default().to_uppercase(), "topology": "1x1"});
    body["shieldedInstanceConfig"] = json!({});
    // Proto3 JSON omits default values: a scheduling config of all-false is absent.
    if body.get("schedulingConfig").and_then(Value::as_object).is_some_and(|m| m.values().all(|v| v == &json!(false))) {
        body.as_object_mut().map(|m| m.remove("schedulingConfig"));
    }
    // Data disks are stored with the mode the API normalises to.
    if let Some(disks) = body.get_mut("dataDisks").and_then(Value::as_array_mut) {
        for d in disks {
            if d.get("mode").is_none_or(|m| m == "MODE_UNSPECIFIED") {
                d["mode"] = json!("READ_WRITE");
            }
        }
    }
    body
}

/// A reference to a zonal collection item as a full URL [GCE-INSTANCE].
fn zonal_url(project: &str, zone: &str, collection: &str, given: &str) -> String {
    format!("{COMPUTE}/projects/{project}/zones/{zone}/{collection}/{}", last(given))
}

/// A source image as the Disk reports it: a family resolves to a concrete
/// image [GCE-DEFAULTS]; any reference becomes a full URL.
pub fn resolve_image(given: &str) -> String {
    let rel = given.trim_start_matches(COMPUTE).trim_start_matches("https://compute.googleapis.com/compute/v1").trim_start_matches('/');
    match rel.split_once("/global/images/family/") {
        Some((project_path, family)) => format!("{COMPUTE}/{project_path}/global/images/{family}-{IMAGE_VERSION}"),
        None => format!("{COMPUTE}/{rel}"),
    }
}

/// Fills a Disk the way Compute Engine stores it [GCE-DISK].
pub fn disk(project: &str, zone: &str, mut body: Value, number: u64) -> Value {
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("pd-standard").to_string();
    body["kind"] = json!("compute#disk");
    body["type"] = json!(zonal_url(project, zone, "diskTypes", &kind));
    let size = body.get("sizeGb").and_then(|s| s.as_str().map(String::from).or_else(|| s.as_i64().map(|n| n.to_string()))).unwrap_or_else(|| "10".into());
    body["sizeGb"] = json!(size);
    if let Some(img) = body.get("sourceImage").and_then(Value::as_str).map(String::from) {
        body["sourceImage"] = json!(resolve_image(&img));
        body["sourceImageId"] = json!("9876543210");
    }
    body["id"] = json!(number.to_string());
    body["selfLink"] = json!(zonal_url(project, zone, "disks", &name));
    body["zone"] = json!(format!("{COMPUTE}/projects/{project}/zones/{zone}"));
    body["status"] = json!("CREATING");
    body["creationTimestamp"] = json!("2026-11-25T04:00:00.000-08:00");
    body["labelFingerprint"] = json!(fingerprint(number * 1000 + 3));
    body["physicalBlockSizeBytes"] = json!("4096");
    body
}

/// Fills an instance the way Compute Engine stores it and returns the boot
/// disk it creates from `initializeParams` [GCE-INSTANCE], [GCE-DEFAULTS].
pub fn instance(project: &str, zone: &str, mut body: Value, number: u64) -> (Value, Vec<Value>) {
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let region = region_of(zone);
    if let Some(mt) = body.get("machineType").and_then(Value::as_str).map(String::from) {
        body["machineType"] = json!(zonal_url(project, zone, "machineTypes", &mt));
    }
    for g in body.get_mut("guestAccelerators").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(t) = g.get("acceleratorType").and_then(Value::as_str).map(String::from) {
            g["acceleratorType"] = json!(zonal_url(project, zone, "acceleratorTypes", &t));
        }
    }
    for (i, nic) in body.get_mut("networkInterfaces").and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
        let net = last(nic.get("network").and_then(Value::as_str).unwrap_or("default")).to_string();
        let sub = nic.get("subnetwork").and_then(Value::as_str).map(|s| last(s).to_string()).unwrap_or_else(|| net.clone());
        nic["network"] = json!(format!("{COMPUTE}/projects/{project}/global/networks/{net}"));
        nic["subnetwork"] = json!(format!("{COMPUTE}/projects/{project}/regions/{region}/subnetworks/{sub}"));
        nic["name"] = json!(format!("nic{i}"));
        nic["networkIP"] = json!(format!("10.128.0.{}", 2 + i));
        nic["fingerprint"] = json!(fingerprint(number * 1000 + 5 + i as u64));
        nic["stackType"] = json!("IPV4_ONLY");
        // An access config gives the interface an external IP: the server
        // fills the ephemeral address and the defaults (REST reference,
        // `AccessConfig`: type ONE_TO_ONE_NAT, networkTier PREMIUM).
        for (j, ac) in nic.get_mut("accessConfigs").and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
            ac["kind"] = json!("compute#accessConfig");
            ac["type"] = ac.get("type").cloned().unwrap_or(json!("ONE_TO_ONE_NAT"));
            ac["name"] = ac.get("name").cloned().unwrap_or(json!("External NAT"));
            ac["networkTier"] = json!("PREMIUM");
            ac["natIP"] = json!(format!("34.{}.{}.{}", 100 + i, (number % 250) + 1, j + 10));
        }
    }
    let mut created = Vec::new();
    for (i, d) in body.get_mut("disks").and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
        let init = d.as_object_mut().and_then(|m| m.remove("initializeParams"));
        let disk_name = init.as_ref().and_then(|p| p.get("diskName")).and_then(Value::as_str).map(String::from).unwrap_or_else(|| name.clone());
        if let Some(p) = init {
            let mut spec = json!({"name": disk_name, "sizeGb": p.get("diskSizeGb").cloned().unwrap_or(json!("10")), "type": p.get("diskType").cloned().unwrap_or(json!("pd-standard"))});
            if let Some(img) = p.get("sourceImage") {
                spec["sourceImage"] = img.clone();
            }
            if let Some(l) = p.get("labels") {
                spec["labels"] = l.clone();
            }
            let mut disk = disk(project, zone, spec, number + 1 + i as u64);
            disk["users"] = json!([zonal_url(project, zone, "instances", &name)]);
            d["source"] = disk["selfLink"].clone();
            d["diskSizeGb"] = disk["sizeGb"].clone();
            created.push(disk);
        }
        d["kind"] = json!("compute#attachedDisk");
        d["type"] = json!("PERSISTENT");
        d["mode"] = d.get("mode").cloned().unwrap_or(json!("READ_WRITE"));
        d["interface"] = json!("SCSI");
        d["index"] = json!(i);
        // Without a device name the API assigns persistent-disk-N.
        if d.get("deviceName").is_none() {
            d["deviceName"] = json!(format!("persistent-disk-{i}"));
        }
    }
    // `email: "default"` names the project's default compute service account;
    // the API stores and answers its real address.
    for sa in body.get_mut("serviceAccounts").and_then(Value::as_array_mut).into_iter().flatten() {
        if sa.get("email").and_then(Value::as_str) == Some("default") {
            sa["email"] = json!(format!("{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"));
        }
    }
    // The API fills every scheduling default it was not sent.
    let mut sched = body.get("scheduling").cloned().unwrap_or(json!({}));
    for (k, v) in
        [("automaticRestart", json!(true)), ("onHostMaintenance", json!("MIGRATE")), ("preemptible", json!(false)), ("provisioningModel", json!("STANDARD"))]
    {
        if sched.get(k).is_none() {
            sched[k] = v;
        }
    }
    body["scheduling"] = sched;
    body["kind"] = json!("compute#instance");
    body["id"] = json!(number.to_string());
    body["cpuPlatform"] = json!("Unknown CPU Platform");
    body["creationTimestamp"] = json!("2026-11-25T04:00:00.000-08:00");
    body["selfLink"] = json!(zonal_url(project, zone, "instances", &name));
    body["zone"] = json!(format!("{COMPUTE}/projects/{project}/zones/{zone}"));
    body["status"] = json!("PROVISIONING");
    body["labelFingerprint"] = json!(fingerprint(number * 1000 + 3));
    body["fingerprint"] = json!(fingerprint(number * 1000 + 7));
    let items = body.pointer("/metadata/items").cloned().unwrap_or(json!([]));
    body["metadata"] = json!({"kind": "compute#metadata", "fingerprint": fingerprint(number * 1000 + 1), "items": items});
    (body, created)
}

/// Regions the fake's auto-mode `default` network has subnetworks in (a
/// few of the real list, enough for the zones tests use).
const AUTO_REGIONS: &[&str] = &["europe-west4", "us-central1", "us-central2", "us-east1", "us-east5", "us-west4"];

/// A network as networks.get returns it [GCE-NETWORK]: `subnet_regions`
/// empty means auto mode (one subnetwork per region, named like the network).
pub fn network(project: &str, name: &str, subnet_regions: &[&str], number: u64) -> Value {
    let auto = subnet_regions.is_empty();
    let regions: Vec<&str> = if auto { AUTO_REGIONS.to_vec() } else { subnet_regions.to_vec() };
    let subnetworks: Vec<String> = regions.iter().map(|r| format!("{COMPUTE}/projects/{project}/regions/{r}/subnetworks/{name}")).collect();
    json!({
        "kind": "compute#network",
        "id": (7_000_000_000_000_000_000u64 + number).to_string(),
        "creationTimestamp": "2024-11-19T08:00:00.000-08:00",
        "name": name,
        "selfLink": format!("{COMPUTE}/projects/{project}/global/networks/{name}"),
        "selfLinkWithId": format!("{COMPUTE}/projects/{project}/global/networks/{}", 7_000_000_000_000_000_000u64 + number),
        "autoCreateSubnetworks": auto,
        "subnetworks": subnetworks,
        "routingConfig": {"routingMode": "REGIONAL"},
        "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
        "mtu": 1460
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_url_safe_and_compared_as_bytes() {
        use base64::Engine;
        for n in [1u64, 2, 1001, 77_000] {
            let f = fingerprint(n);
            assert!(f.contains('-'), "{f}: every fingerprint has a URL-safe-only character");
            assert!(!f.contains('+') && !f.contains('/'), "{f}");
            base64::engine::general_purpose::URL_SAFE.decode(&f).unwrap();
            assert!(base64::engine::general_purpose::STANDARD.decode(&f).is_err(), "{f} must not decode as standard base64");
        }
        let f = json!(fingerprint(5));
        let standard = json!(f.as_str().unwrap().replace('-', "+").replace('_', "/"));
        let unpadded = json!(f.as_str().unwrap().trim_end_matches('='));
        assert!(same_fingerprint(Some(&f), Some(&standard)) && same_fingerprint(Some(&f), Some(&unpadded)));
        assert!(!same_fingerprint(Some(&f), Some(&json!(fingerprint(6)))) && !same_fingerprint(None, Some(&f)));
    }

    #[test]
    fn tpu_fills_network_service_account_and_outputs() {
        let n = tpu_node(
            "p",
            "us-east5-b",
            "n1",
            json!({"acceleratorType": "v6e-1", "runtimeVersion": "v2-alpha-tpuv6e", "networkConfig": {"network": "default"}}),
            7,
        );
        assert_eq!(n["networkConfig"]["network"], "projects/p/global/networks/default");
        assert_eq!(n["networkConfig"]["subnetwork"], "projects/p/regions/us-east5/subnetworks/default");
        assert_eq!(n["serviceAccount"]["email"], format!("{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"));
        assert_eq!(n["name"], "projects/p/locations/us-east5-b/nodes/n1");
    }

    #[test]
    fn instances_drop_input_only_fields_and_create_their_boot_disk() {
        let body = json!({"name": "vm", "machineType": "zones/z/machineTypes/g2-standard-24",
            "disks": [{"boot": true, "autoDelete": true, "initializeParams": {"sourceImage": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts", "diskSizeGb": "200", "diskType": "zones/us-central1-a/diskTypes/pd-balanced"}}],
            "networkInterfaces": [{"network": "global/networks/default"}]});
        let (inst, disks) = instance("p", "us-central1-a", body, 1);
        assert!(inst.pointer("/disks/0/initializeParams").is_none());
        assert_eq!(inst["disks"][0]["source"], format!("{COMPUTE}/projects/p/zones/us-central1-a/disks/vm"));
        assert_eq!(inst["machineType"], format!("{COMPUTE}/projects/p/zones/us-central1-a/machineTypes/g2-standard-24"));
        assert_eq!(inst["networkInterfaces"][0]["subnetwork"], format!("{COMPUTE}/projects/p/regions/us-central1/subnetworks/default"));
        assert_eq!(disks[0]["sourceImage"], format!("{COMPUTE}/projects/ubuntu-os-cloud/global/images/ubuntu-2204-lts-{IMAGE_VERSION}"));
        assert_eq!(disks[0]["sizeGb"], "200");
        assert_eq!(disks[0]["type"], format!("{COMPUTE}/projects/p/zones/us-central1-a/diskTypes/pd-balanced"));
    }
}
