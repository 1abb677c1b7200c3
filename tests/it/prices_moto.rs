//! `gantry prices update` against the Price List Query API the realism
//! proxy serves (moto has none): today's EC2 prices into a price book that
//! plans then use through GANTRY_PRICE_FILE.

use crate::support::{gantry, stack_dir, Moto};
use gantry_emulators::aws_pricing::Ec2Price;

const STACK: &str = r#"stack "p" {
  aws { region = "us-west-2" }
}

agent_queue "gpu" {
  instance_types        = ["g6e.xlarge"]
  max_size              = 10
  agent_token_parameter = "/bk/token"
}
"#;

#[test]
fn an_updated_price_book_feeds_the_plans_ceiling() {
    let moto = Moto::start();
    let env = moto.env();
    let price = |region: &str, t: &str, hourly: f64, gpus: u32| Ec2Price { region: region.into(), instance_type: t.into(), hourly, gpus };
    moto.set_price(price("us-east-1", "g6.12xlarge", 4.2, 4));
    // A type of the stack's queue the bundled snapshot does not price.
    moto.set_price(price("us-west-2", "g6e.xlarge", 1.861, 1));
    // Its spot price now in two zones (the history also holds an older, dearer one).
    for (zone, p) in [("us-west-2a", 0.61), ("us-west-2b", 0.74)] {
        moto.set_spot_price(gantry_emulators::aws_spot::SpotPrice { zone: zone.into(), instance_type: "g6e.xlarge".into(), price: p });
    }
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();

    // The bundled snapshot has no price for g6e.xlarge: simulate says so.
    let r = gantry(&["simulate", "gpu", "-d", d, "--profile", "burst:jobs=2,duration=30m", "--json"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("\"cost\": null"), "{}", r.stdout);

    let book = dir.path().join("prices.json");
    let r = gantry(&["prices", "update", d, "--out", book.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&book).unwrap()).unwrap();
    let find = |sku: &str, region: &str| {
        written["prices"].as_array().unwrap().iter().find(|p| p["sku"] == sku && p["regions"].as_array().unwrap().iter().any(|r| r == region)).cloned()
    };
    assert_eq!(find("g6.12xlarge", "us-east-1").unwrap()["hourly"], 4.2, "today's price, not the snapshot's");
    assert_eq!(find("g6e.xlarge", "us-west-2").unwrap()["accelerators"], 1, "the stack's own type, with its GPUs");
    assert_eq!(find("g6e.xlarge", "us-west-2").unwrap()["spot_hourly"], 0.74, "the dearest zone's price in effect now");
    assert!(find("g6.12xlarge", "us-east-1").unwrap().get("spot_hourly").is_none(), "no spot history: no spot price");
    assert!(r.stderr.contains("read 2 EC2 price(s) from the Price List API, 1 spot price(s)"), "{}", r.stderr);
    assert!(find("g5.12xlarge", "us-east-1").is_none(), "a type the list does not have is left out, not guessed");
    assert!(r.stderr.contains("no Linux on-demand product for g5.12xlarge in us-east-1"), "{}", r.stderr);
    assert!(find("tpu-v6e", "us-east5").is_some(), "Google Cloud prices are carried over");
    assert!(written["source"].as_str().unwrap().starts_with("AWS Price List Query API (GetProducts"), "{written}");
    assert!(written["source"].as_str().unwrap().contains("Google Cloud prices carried over from gantry's bundled snapshot of 2026-12-04"));
    // A Windows product with the same type was not taken.
    assert_ne!(find("g6e.xlarge", "us-west-2").unwrap()["hourly"], 1.861 * 1.4);

    // With the new book, the same run is priced: two machines of 3m boot + 30m + the 10m scale-in wait.
    let mut env2 = env.clone();
    env2.push(("GANTRY_PRICE_FILE", book.to_str().unwrap().to_string()));
    let r = gantry(&["simulate", "gpu", "-d", d, "--profile", "burst:jobs=2,duration=30m", "--json"], &env2, dir.path());
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let run = &doc["runs"][0];
    assert!((run["cost"].as_f64().unwrap() - run["instance_hours"].as_f64().unwrap() * 1.861).abs() < 1e-9, "{}", r.stdout);
    assert!(doc["price"].as_str().unwrap().contains("g6e.xlarge at $1.861/h, spot $0.74/h in us-west-2"), "{}", r.stdout);

    // A queue a quarter on demand: the plan gives a spot estimate beside the ceiling.
    std::fs::write(dir.path().join("main.gantry.hcl"), STACK.replace("max_size              = 10", "max_size = 10\n  on_demand_percentage = 25")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(crate::support::put_token(&moto, "us-west-2", "/bk/token"));
    let r = gantry(&["plan", d], &env2, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let estimate = 10.0 * (0.25 * 1.861 + 0.75 * 0.74);
    assert!(
        r.stdout.contains(&format!("$0.00/h → $18.61/h (10 × g6e.xlarge at $1.861/h; 10 GPUs/chips at most; spot estimate ${estimate:.2}/h at 25% on demand)")),
        "{}",
        r.stdout
    );

    // A broken stack directory is named, before any call.
    std::fs::write(dir.path().join("main.gantry.hcl"), "stack \"p\" {\n").unwrap();
    let r = gantry(&["prices", "update", d, "--out", book.to_str().unwrap()], &env, dir.path());
    assert!(r.code != 0 && r.stderr.contains("error(s) in the stack files (gantry validate"), "{}", r.all());
}

const GPU_STACK: &str = r#"stack "g" {
  gcp { project = "ci-project" }
}

gpu_node "t4" {
  zone         = "us-east1-c"
  machine_type = "n1-standard-8"
  accelerator {
    type = "nvidia-tesla-t4"
  }
}

gpu_node "l4" {
  zone         = "us-central1-b"
  machine_type = "g2-standard-8"
  spot         = true
  accelerator {
    type = "nvidia-l4"
  }
}
"#;

/// Compute Engine prices from the Cloud Billing Catalog the fake serves:
/// machines priced from their parts and their shape, spot from the
/// Preemptible SKUs, TPU chips carried over; the plan then shows a spot
/// node's estimate beside its ceiling.
#[test]
fn google_prices_come_from_the_billing_catalog_and_machine_shapes() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gcp = rt.block_on(gantry_emulators::gcp::FakeGcp::start(0)).unwrap();
    // Over 5,000 SKUs: the catalog answers in two pages.
    let filler = (0..5000)
        .map(|i| gantry_emulators::gcp_billing::sku(&format!("Licensing Fee for OS {i} running in Americas"), "OnDemand", &["us-central1"], "h", 0.01));
    gcp.add_skus(filler.collect());
    let moto = Moto::start();
    let mut env = moto.env();
    env.push(("GANTRY_GCP_ENDPOINT", gcp.endpoint()));
    let dir = stack_dir(&[("main.gantry.hcl", GPU_STACK)]);
    let d = dir.path().to_str().unwrap();
    let book = dir.path().join("prices.json");

    let r = gantry(&["prices", "update", d, "--out", book.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("read 5016 Compute Engine SKU(s) from the Cloud Billing Catalog"), "{}", r.stderr);
    assert_eq!(gcp.requests()["billing.skus.list"], 2, "every page is read");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&book).unwrap()).unwrap();
    let find = |sku: &str, region: &str| {
        written["prices"].as_array().unwrap().iter().find(|p| p["sku"] == sku && p["regions"].as_array().unwrap().iter().any(|r| r == region)).cloned()
    };
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
    let g2 = find("g2-standard-8", "us-central1").unwrap();
    assert!(close(&g2["hourly"], 8.0 * 0.024988 + 32.0 * 0.002927 + 0.56004), "{g2}");
    assert!(close(&g2["spot_hourly"], 8.0 * 0.009995 + 32.0 * 0.001171 + 0.224016), "{g2}");
    assert_eq!(g2["accelerators"], 1, "the L4 the machine type carries");
    let n1 = find("n1-standard-8", "us-east1").unwrap();
    assert!(close(&n1["hourly"], 8.0 * 0.031611 + 30.0 * 0.004237), "{n1}");
    assert!(n1.get("spot_hourly").is_none(), "no spot SKU for N1 in the catalog: none written");
    let t4 = find("nvidia-tesla-t4", "us-east1").unwrap();
    assert!(close(&t4["hourly"], 0.35) && close(&t4["spot_hourly"], 0.14), "{t4}");
    // The bundled book's g2-standard-24 in us-west4: us-west4-b offers no G2, another zone does.
    assert_eq!(find("g2-standard-24", "us-west4").unwrap()["accelerators"], 2);
    assert!(find("tpu-v6e", "us-east5").is_some(), "TPU chips are carried over");
    let source = written["source"].as_str().unwrap();
    assert!(source.contains("Cloud Billing Catalog API (Compute Engine SKUs, on-demand and spot) read"), "{source}");
    assert!(source.contains("Cloud TPU prices carried over from gantry's bundled snapshot of 2026-12-04"), "{source}");

    // The plan prices the nodes from the new book; the spot node shows its estimate.
    let mut env2 = env.clone();
    env2.push(("GANTRY_PRICE_FILE", book.to_str().unwrap().to_string()));
    let r = gantry(&["plan", d], &env2, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let spot = 8.0 * 0.009995 + 32.0 * 0.001171 + 0.224016;
    assert!(r.stdout.contains(&format!("spot estimate ${spot:.2}/h at 0% on demand")), "{}", r.stdout);
    let n1_t4 = 8.0 * 0.031611 + 30.0 * 0.004237 + 0.35;
    assert!(r.stdout.contains(&format!("$0.00/h → ${n1_t4:.2}/h (1 × n1-standard-8 at $0.379998/h + 1 × nvidia-tesla-t4 at $0.35/unit-h")), "{}", r.stdout);
    assert!(r.stdout.contains("(1 × g2-standard-8 at $0.853608/h; "), "six decimals at most: {}", r.stdout);
    assert!(r.stdout.contains("AWS Price List Query API, Cloud Billing Catalog API, Cloud TPU prices carried over from"), "{}", r.stdout);

    // No Google credentials and no fake: Google prices are carried over, AWS still read.
    let mut env3: Vec<(&str, String)> = moto.env();
    env3.push(("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json".into()));
    let r = gantry(&["prices", "update", d, "--out", book.to_str().unwrap()], &env3, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("Google Cloud prices carried over from the current book:"), "{}", r.stderr);
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&book).unwrap()).unwrap();
    assert!(written["source"].as_str().unwrap().contains("Google Cloud prices carried over from gantry's bundled snapshot"), "{written}");
}
