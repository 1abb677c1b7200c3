//! `fake-buildkite --port PORT --token TOKEN`: serves the fake agent metrics
//! API until killed (used by the demo).

fn main() {
    let mut port = 0u16;
    let mut token = "demo-token".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--token" => token = args.next().unwrap_or(token),
            other => {
                eprintln!("unknown argument {other}; usage: fake-buildkite --port PORT --token TOKEN");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let fake = gantry_emulators::buildkite::FakeBuildkite::start(port, &token).await.expect("bind");
        println!("{}", fake.endpoint());
        let _ = tokio::signal::ctrl_c().await;
    });
}
