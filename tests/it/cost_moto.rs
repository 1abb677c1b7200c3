//! Cost ceilings in the plan on moto: each change's ceiling before → after,
//! the stack's total, `plan --json`'s `cost`, and `max_hourly_cost`
//! refusing a plan whose machines could cost more.

use crate::support::{fixture_zip, gantry, put_token, stack_dir, Moto};

fn stack(zip: &str, max_size: u32, budget: &str) -> String {
    format!(
        r#"stack "c" {{
  aws {{ region = "us-east-1" }}
  {budget}
}}

agent_queue "gpu4" {{
  instance_types        = ["g6.12xlarge", "g5.12xlarge"]
  min_size              = 1
  max_size              = {max_size}
  agent_token_parameter = "/bk/token"
  scaler {{
    zip = "{zip}"
  }}
}}
"#
    )
}

#[test]
fn plans_carry_cost_ceilings_and_a_budget_refuses_more() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-east-1", "/bk/token"));
    let zip = fixture_zip();
    let dir = stack_dir(&[("main.gantry.hcl", &stack(&zip, 8, "max_hourly_cost = 50"))]);
    let d = dir.path().to_str().unwrap();

    // 8 machines of the dearer type (g5.12xlarge, $5.672/h): $45.38/h, under the budget.
    let r = gantry(&["plan", d, "--json"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let cost = &plan["cost"];
    assert!((cost["total_after"].as_f64().unwrap() - 8.0 * 5.672).abs() < 1e-9, "{cost}");
    assert_eq!(cost["total_before"], 0.0);
    let line = &cost["lines"][0];
    assert_eq!((line["address"].as_str(), line["after"]["accelerators"].as_u64()), (Some("agent_queue.gpu4"), Some(32)));
    assert!((line["after"]["floor_hourly"].as_f64().unwrap() - 4.6016).abs() < 1e-9, "min_size 1 of the cheaper type");
    assert_eq!(cost["prices_date"], "2026-12-04");
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // Twice the machines: $90.75/h would pass the budget: refused, nothing changed.
    std::fs::write(dir.path().join("main.gantry.hcl"), stack(&zip, 16, "max_hourly_cost = 50")).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("could cost up to $90.75/h, above max_hourly_cost = $50.00/h"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_ne!(r.code, 0, "{}", r.all());

    // A raised budget is a reviewed change: the plan shows the move.
    std::fs::write(dir.path().join("main.gantry.hcl"), stack(&zip, 16, "max_hourly_cost = 100")).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("# cost ceiling: $45.38/h → $90.75/h (16 × g5.12xlarge at $5.672/h; 64 GPUs/chips at most)"), "{}", r.stdout);
    assert!(r.stdout.contains("Cost ceiling: $45.38/h → $90.75/h (+$45.38/h at most; prices of 2026-12-04, gantry's bundled snapshot)"), "{}", r.stdout);

    // Prices of one's own (negotiated, another region) come from a price book file.
    let book = r#"{"source": "our negotiated prices", "date": "2026-11-01", "currency": "USD",
                   "prices": [{"cloud": "aws", "regions": ["us-east-1"], "sku": "g6.12xlarge", "hourly": 3.0, "accelerators": 4},
                              {"cloud": "aws", "regions": ["us-east-1"], "sku": "g5.12xlarge", "hourly": 4.0, "accelerators": 4}]}"#;
    std::fs::write(dir.path().join("prices.json"), book).unwrap();
    let mut env2 = env.clone();
    env2.push(("GANTRY_PRICE_FILE", dir.path().join("prices.json").to_str().unwrap().to_string()));
    let r = gantry(&["plan", d], &env2, dir.path());
    assert!(r.stdout.contains("Cost ceiling: $32.00/h → $64.00/h (+$32.00/h at most; prices of 2026-11-01, our negotiated prices)"), "{}", r.all());
    // A budget cannot be checked against machines the book does not price.
    std::fs::write(dir.path().join("prices.json"), book.replace("g5.12xlarge", "g5.xlarge")).unwrap();
    let r = gantry(&["plan", d], &env2, dir.path());
    assert!(r.code == 1 && r.stderr.contains("max_hourly_cost cannot be checked: agent_queue.gpu4: no price for g5.12xlarge in us-east-1"), "{}", r.all());
}

/// A stack without machines has no ceiling to price: its plan reads no
/// price book, so a bad GANTRY_PRICE_FILE cannot stop it; a stack with
/// machines names the file's problem.
#[test]
fn only_stacks_with_machines_read_the_price_book() {
    let moto = Moto::start();
    let mut env = moto.env();
    env.push(("GANTRY_PRICE_FILE", "/nonexistent/prices.json".to_string()));
    let repos = "stack \"r\" {\n  aws { region = \"us-east-1\" }\n}\n\necr_repository \"cache\" {}\n";
    let dir = stack_dir(&[("main.gantry.hcl", repos)]);
    let r = gantry(&["plan", dir.path().to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("Cost ceiling"), "{}", r.stdout);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-east-1", "/bk/token"));
    let zip = fixture_zip();
    let dir = stack_dir(&[("main.gantry.hcl", &stack(&zip, 2, ""))]);
    let r = gantry(&["plan", dir.path().to_str().unwrap()], &env, dir.path());
    assert!(r.code != 0 && r.stderr.contains("GANTRY_PRICE_FILE /nonexistent/prices.json"), "{}", r.all());
}
