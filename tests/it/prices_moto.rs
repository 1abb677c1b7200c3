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
    assert!(doc["price"].as_str().unwrap().contains("g6e.xlarge at $1.861/h in us-west-2"), "{}", r.stdout);

    // A broken stack directory is named, before any call.
    std::fs::write(dir.path().join("main.gantry.hcl"), "stack \"p\" {\n").unwrap();
    let r = gantry(&["prices", "update", d, "--out", book.to_str().unwrap()], &env, dir.path());
    assert!(r.code != 0 && r.stderr.contains("error(s) in the stack files (gantry validate"), "{}", r.all());
}
