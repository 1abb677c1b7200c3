//! The fake GitHub API answers in GitHub's shapes: app token, JIT runner
//! config, runner listing with Link pagination, a busy runner that cannot
//! be deleted, rate-limit headers and exhaustion, injected 5xx, and
//! webhook deliveries signed the documented way.

use gantry_emulators::github::{signature, FakeGithub};
use serde_json::{json, Value};

async fn body(r: reqwest::Response) -> Value {
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

async fn token(gh: &FakeGithub) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/app/installations/1/access_tokens", gh.endpoint()))
        .header("Authorization", "Bearer a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    body(r).await["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn runners_are_registered_just_in_time_listed_and_deleted() {
    let gh = FakeGithub::start(0).await.unwrap();
    let c = reqwest::Client::new();
    let bad = c.post(format!("{}/app/installations/1/access_tokens", gh.endpoint())).header("Authorization", "Bearer not-a-jwt").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    let t = token(&gh).await;
    let auth = format!("Bearer {t}");
    let mut ids = Vec::new();
    for n in 0..3 {
        let r = c
            .post(format!("{}/repos/acme/ml/actions/runners/generate-jitconfig", gh.endpoint()))
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .body(json!({"name": format!("gpu-{n}"), "runner_group_id": 1, "labels": ["self-hosted", "gpu"]}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = body(r).await;
        assert!(body["encoded_jit_config"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(body["runner"]["status"], "offline");
        ids.push(body["runner"]["id"].as_u64().unwrap());
    }
    let dup = c
        .post(format!("{}/repos/acme/ml/actions/runners/generate-jitconfig", gh.endpoint()))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body(json!({"name": "gpu-0", "runner_group_id": 1, "labels": ["gpu"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 409);
    let page = c.get(format!("{}/repos/acme/ml/actions/runners?per_page=2", gh.endpoint())).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(page.headers()["x-ratelimit-limit"], "5000");
    let link = page.headers()["link"].to_str().unwrap().to_string();
    assert!(link.ends_with("page=2>; rel=\"next\""), "{link}");
    let body: Value = body(page).await;
    assert_eq!((body["total_count"].as_u64(), body["runners"].as_array().unwrap().len()), (Some(3), 2));

    let job = gh.queue_job("acme/ml", &["self-hosted", "gpu"]);
    gh.start_job(job.id, ids[0]);
    let busy = c.delete(format!("{}/repos/acme/ml/actions/runners/{}", gh.endpoint(), ids[0])).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(busy.status(), 422, "a busy runner cannot be deleted");
    let idle = c.delete(format!("{}/repos/acme/ml/actions/runners/{}", gh.endpoint(), ids[1])).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(idle.status(), 204);
    gh.finish_job(job.id, ids[0]);
    assert_eq!(gh.runners().len(), 1, "the ephemeral runner went away after its job");
}

#[tokio::test]
async fn queued_jobs_rate_limits_and_server_errors() {
    let gh = FakeGithub::start(0).await.unwrap();
    let c = reqwest::Client::new();
    let auth = format!("Bearer {}", token(&gh).await);
    let job = gh.queue_job("acme/ml", &["self-hosted", "gpu"]);
    let runs: Value =
        body(c.get(format!("{}/repos/acme/ml/actions/runs?status=queued", gh.endpoint())).header("Authorization", &auth).send().await.unwrap()).await;
    assert_eq!(runs["workflow_runs"][0]["id"], job.run_id);
    let jobs: Value =
        body(c.get(format!("{}/repos/acme/ml/actions/runs/{}/jobs", gh.endpoint(), job.run_id)).header("Authorization", &auth).send().await.unwrap()).await;
    assert_eq!(jobs["jobs"][0]["labels"], json!(["self-hosted", "gpu"]));

    gh.fail_next(&[502]);
    let r = c.get(format!("{}/repos/acme/ml/actions/runners", gh.endpoint())).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(r.status(), 502);
    gh.set_rate_limit_remaining(1);
    let r = c.get(format!("{}/repos/acme/ml/actions/runners", gh.endpoint())).header("Authorization", &auth).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["x-ratelimit-remaining"].to_str().unwrap()), (200, "1"));
    let r = c.get(format!("{}/repos/acme/ml/actions/runners", gh.endpoint())).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    let wrong = c.get(format!("{}/repos/acme/ml/actions/runners", gh.endpoint())).header("Authorization", "Bearer ghs_nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
}

#[test]
fn deliveries_are_signed_as_github_documents() {
    // The example in GitHub's "Validating webhook deliveries".
    assert_eq!(signature("It's a Secret to Everybody", b"Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

#[tokio::test]
async fn a_delivery_reaches_its_receiver_with_the_headers() {
    use axum::http::HeaderMap;
    let gh = FakeGithub::start(0).await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<(String, String, String)>));
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let s2 = s2.clone();
            async move {
                let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                *s2.lock().unwrap() = Some((h("x-github-event"), h("x-hub-signature-256"), body));
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let job = gh.queue_job("acme/ml", &["gpu"]);
    let status = gh.deliver(&url, "s3cret", "workflow_job", &gh.workflow_job_payload("queued", &job)).await.unwrap();
    assert_eq!(status, 202);
    let (event, sig, body) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(event, "workflow_job");
    assert_eq!(sig, signature("s3cret", body.as_bytes()));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["workflow_job"]["labels"], json!(["gpu"]));
}
