//! `aws-proxy --upstream URL [--port PORT]`: serves the AWS realism proxy in
//! front of a running moto until killed (for the demo): what moto lacks
//! (ECR Public, ECR in the tagging API) and the shapes it gets wrong, with
//! none of the test suite's delays or throttling. Prints its URL.

fn main() {
    let mut port = 0u16;
    let mut upstream = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--upstream" => upstream = args.next().unwrap_or_default(),
            other => {
                eprintln!("unknown argument {other}; usage: aws-proxy --upstream URL [--port PORT]");
                std::process::exit(2);
            }
        }
    }
    if upstream.is_empty() {
        eprintln!("usage: aws-proxy --upstream URL [--port PORT]");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let proxy = gantry_emulators::aws_proxy::AwsProxy::start_on(&upstream, gantry_emulators::aws_proxy::Realism::none(), port).await.expect("bind");
        println!("{}", proxy.endpoint());
        let _ = tokio::signal::ctrl_c().await;
    });
}
