//! `fake-gcp --port PORT [--latency-ms MS]`: serves the fake TPU v2 and
//! Compute v1 APIs until killed (for the demo and benchmarks). Prints its URL.

fn main() {
    let mut port = 0u16;
    let mut latency_ms = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--latency-ms" => latency_ms = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            other => {
                eprintln!("unknown argument {other}; usage: fake-gcp --port PORT [--latency-ms MS]");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let fake = gantry_emulators::gcp::FakeGcp::start(port).await.expect("bind");
        fake.set_faults(gantry_emulators::gcp::Faults { latency_ms, ..Default::default() });
        println!("{}", fake.endpoint());
        let _ = tokio::signal::ctrl_c().await;
    });
}
