//! `fake-github --port PORT [--app-id ID --public-key FILE] [--repo OWNER/NAME]...`:
//! serves the fake GitHub REST API until killed (used by the demo); with an
//! app id and public key, app JWTs are verified; each `--repo` is listed
//! under its organisation. `POST /_fake/jobs {"repo", "labels"}` queues a job.

fn main() {
    let mut port = 0u16;
    let mut app: Option<(u64, String)> = None;
    let mut app_id = None;
    let mut repos = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--app-id" => app_id = args.next().and_then(|p| p.parse().ok()),
            "--repo" => repos.extend(args.next()),
            "--public-key" => {
                let file = args.next().unwrap_or_default();
                let pem = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                    eprintln!("cannot read {file}: {e}");
                    std::process::exit(2);
                });
                app = Some((0, pem));
            }
            other => {
                eprintln!("unknown argument {other}; usage: fake-github --port PORT [--app-id ID --public-key FILE] [--repo OWNER/NAME]...");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let fake = gantry_emulators::github::FakeGithub::start(port).await.expect("bind");
        if let (Some(id), Some((_, pem))) = (app_id, app) {
            fake.require_app(id, &pem);
        }
        for full_name in repos {
            fake.repos.add(gantry_emulators::github_repos::Repo { full_name, topics: vec![], archived: false, fork: false, org: true });
        }
        println!("{}", fake.endpoint());
        let _ = tokio::signal::ctrl_c().await;
    });
}
