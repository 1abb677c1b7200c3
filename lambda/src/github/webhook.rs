//! `workflow_job` webhook deliveries through the function URL.
//!
//! A delivery is trusted only when `X-Hub-Signature-256` is the HMAC-SHA256
//! of the raw body with the webhook secret (GitHub, "Validating webhook
//! deliveries"; compared in constant time). It is replay-safe because it
//! is only a nudge: a valid `queued` event for our labels makes the scaler
//! reconcile against GitHub's own list of queued jobs, so a replayed or
//! duplicated delivery can never add capacity for a job that is not
//! queued. Deliveries already seen (by `X-GitHub-Delivery`) are not acted
//! on twice within a warm function.

use super::labels_match;
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Mutex;

/// The function URL event (payload format 2.0), the parts read.
#[derive(Debug, Deserialize)]
pub struct UrlEvent {
    /// Request headers (lower-case names).
    #[serde(default)]
    pub headers: std::collections::HashMap<String, String>,
    /// The body, as sent or base64.
    #[serde(default)]
    pub body: Option<String>,
    /// The body is base64.
    #[serde(default, rename = "isBase64Encoded")]
    pub is_base64_encoded: bool,
}

#[derive(Debug, Deserialize)]
struct Payload {
    action: String,
    workflow_job: JobPart,
}

#[derive(Debug, Deserialize)]
struct JobPart {
    id: u64,
    #[serde(default)]
    labels: Vec<String>,
}

/// What a delivery asks of the scaler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signature missing or wrong: 401, nothing done.
    Forged,
    /// Not JSON of the expected shape: 400.
    Malformed(String),
    /// Valid, but nothing for us (another event, action or labels, or a repeat): 200.
    Ignored(String),
    /// A job for our labels was queued: reconcile now (202).
    Reconcile {
        /// The queued job.
        job_id: u64,
    },
}

/// `sha256=HEX` of HMAC-SHA256(secret, body), checked in constant time.
pub fn signature_valid(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else { return false };
    let Ok(sig) = hex::decode(hex_sig.trim()) else { return false };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Recently seen delivery ids (bounded).
#[derive(Default)]
pub struct Seen(Mutex<VecDeque<String>>);

impl Seen {
    const KEEP: usize = 1000;

    /// True the first time an id is offered.
    pub fn first(&self, id: &str) -> bool {
        let mut q = self.0.lock().unwrap();
        if q.iter().any(|s| s == id) {
            return false;
        }
        if q.len() == Self::KEEP {
            q.pop_front();
        }
        q.push_back(id.to_string());
        true
    }
}

/// Judges one delivery.
pub fn judge(event: &UrlEvent, secret: &str, labels: &[String], seen: &Seen) -> Verdict {
    let raw = match (&event.body, event.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), false) => b.as_bytes().to_vec(),
        (Some(b), true) => {
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(b) {
                Ok(v) => v,
                Err(_) => return Verdict::Malformed("body is not valid base64".into()),
            }
        }
    };
    let header = |k: &str| event.headers.iter().find(|(h, _)| h.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str());
    if !signature_valid(secret, &raw, header("x-hub-signature-256")) {
        return Verdict::Forged;
    }
    match header("x-github-event") {
        Some("workflow_job") => {}
        Some("ping") => return Verdict::Ignored("ping".into()),
        other => return Verdict::Ignored(format!("event {}", other.unwrap_or("(none)"))),
    }
    let p: Payload = match serde_json::from_slice(&raw) {
        Ok(p) => p,
        Err(e) => return Verdict::Malformed(e.to_string()),
    };
    if p.action != "queued" {
        return Verdict::Ignored(format!("action {}", p.action));
    }
    if !labels_match(&p.workflow_job.labels, labels) {
        return Verdict::Ignored(format!("job {} runs on other labels", p.workflow_job.id));
    }
    if let Some(id) = header("x-github-delivery") {
        if !seen.first(id) {
            return Verdict::Ignored(format!("delivery {id} already handled"));
        }
    }
    Verdict::Reconcile { job_id: p.workflow_job.id }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example ("Validating webhook deliveries").
    #[test]
    fn githubs_documented_example_verifies() {
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_valid("It's a Secret to Everybody", b"Hello, World!", Some(sig)));
        assert!(!signature_valid("It's a Secret to Everybody", b"Hello, World?", Some(sig)));
        assert!(!signature_valid("wrong", b"Hello, World!", Some(sig)));
        assert!(!signature_valid("It's a Secret to Everybody", b"Hello, World!", None));
        assert!(!signature_valid("It's a Secret to Everybody", b"Hello, World!", Some("sha1=abc")));
    }

    fn event(body: &str, secret: &str, delivery: &str, kind: &str) -> UrlEvent {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let headers = [("x-hub-signature-256", sig.as_str()), ("x-github-event", kind), ("x-github-delivery", delivery)]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        UrlEvent { headers, body: Some(body.into()), is_base64_encoded: false }
    }

    #[test]
    fn deliveries_are_judged() {
        let labels: Vec<String> = ["self-hosted", "gpu"].map(String::from).into();
        let seen = Seen::default();
        let queued = r#"{"action":"queued","workflow_job":{"id":9,"labels":["self-hosted","gpu"]}}"#;
        assert_eq!(judge(&event(queued, "s", "d1", "workflow_job"), "s", &labels, &seen), Verdict::Reconcile { job_id: 9 });
        assert!(matches!(judge(&event(queued, "s", "d1", "workflow_job"), "s", &labels, &seen), Verdict::Ignored(_)), "a repeat");
        assert_eq!(judge(&event(queued, "other", "d2", "workflow_job"), "s", &labels, &seen), Verdict::Forged);
        let other = r#"{"action":"queued","workflow_job":{"id":9,"labels":["ubuntu-latest"]}}"#;
        assert!(matches!(judge(&event(other, "s", "d3", "workflow_job"), "s", &labels, &seen), Verdict::Ignored(_)));
        let done = r#"{"action":"completed","workflow_job":{"id":9,"labels":["gpu"]}}"#;
        assert!(matches!(judge(&event(done, "s", "d4", "workflow_job"), "s", &labels, &seen), Verdict::Ignored(_)));
        assert!(matches!(judge(&event("{}", "s", "d5", "workflow_job"), "s", &labels, &seen), Verdict::Malformed(_)));
        assert!(matches!(judge(&event("{}", "s", "d6", "ping"), "s", &labels, &seen), Verdict::Ignored(_)));
    }
}
