//! The real packaging path: `scripts/build-scaler.sh` (cargo-lambda from
//! PyPI) builds the scaler zip, and an agent queue deploys exactly that zip.
//!
//! Ignored in the suite: a cargo-lambda build costs two minutes of every CI
//! run (issue 28). The release workflow runs it against the x86_64 zip it
//! just built (`GANTRY_SCALER_ZIP`); without that variable the test builds a
//! debug x86_64 zip itself: `cargo test --test it scaler_build:: -- --ignored`.

use crate::support::{gantry, lambda_client, put_token, stack_dir, Moto};
use std::process::Command;

#[test]
#[ignore = "cargo-lambda build; run by the release workflow"]
fn build_script_produces_a_deployable_zip() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let zip = match std::env::var_os("GANTRY_SCALER_ZIP") {
        Some(zip) => root.join(zip),
        None => {
            let out = Command::new("bash")
                .arg(root.join("scripts/build-scaler.sh"))
                .args(["x86_64", "--debug"])
                .current_dir(root)
                .output()
                .expect("run build-scaler.sh");
            assert!(out.status.success(), "build-scaler.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
            root.join(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    assert!(zip.exists(), "no zip at {}", zip.display());
    // One entry, `bootstrap`, executable, an x86-64 ELF.
    let check = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); i = z.infolist(); assert [e.filename for e in i] == ['bootstrap'], i; \
             assert (i[0].external_attr >> 16) & 0o111, 'not executable'; h = z.open('bootstrap').read(20); \
             assert h[:4] == b'\\x7fELF' and h[18] == 62, h",
            zip.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));
    let stack = format!(
        "stack \"build\" {{\n  aws {{ region = \"us-west-2\" }}\n}}\nagent_queue \"cpu\" {{\n  instance_types = [\"c7i.large\"]\n  max_size = 2\n  image_id = \"ami-12c6146b\"\n  agent_token_parameter = \"/bk/token\"\n  scaler {{\n    zip          = \"{}\"\n    architecture = \"x86_64\"\n  }}\n}}\n",
        zip.display()
    );
    let dir = stack_dir(&[("main.gantry.hcl", &stack)]);
    // The zip was just built into this checkout's target/, outside the
    // stack's repository: a local use, which the flag is for.
    let r = gantry(&["apply", ".", "--auto-approve", "--allow-outside-files"], &moto.env(), dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let sha = rt.block_on(async {
        lambda_client(&moto, "us-west-2").await.get_function_configuration().function_name("gantry-build-cpu-scaler").send().await.unwrap().code_sha256.unwrap()
    });
    use base64::Engine;
    use sha2::Digest;
    assert_eq!(sha, base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(std::fs::read(&zip).unwrap())));
}
