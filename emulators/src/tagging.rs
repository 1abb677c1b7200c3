//! ECR repositories in the Resource Groups Tagging API's GetResources,
//! which moto's tagging backend does not serve (moto lists only the
//! services that implement its tagging mixin; ECR is not one). The real API
//! lists them as `ecr:repository` ("Services that support the Resource
//! Groups Tagging API", AWS documentation), so a plan that finds a stack's
//! repositories by tag finds them here too. Only the first page is
//! extended: the filters gantry sends return few resources.

use serde_json::{json, Value};
use std::future::Future;

/// Whether a GetResources request may return ECR repositories.
fn wants_ecr(request: &Value) -> bool {
    if request.get("PaginationToken").and_then(Value::as_str).is_some_and(|t| !t.is_empty()) {
        return false;
    }
    match request.get("ResourceTypeFilters").and_then(Value::as_array) {
        Some(types) if !types.is_empty() => types.iter().filter_map(Value::as_str).any(|t| t == "ecr" || t == "ecr:repository"),
        _ => true,
    }
}

/// Whether a resource's tags pass GetResources' TagFilters (every filter's
/// key present, with one of its values when it lists any).
fn passes(tags: &[Value], filters: &[Value]) -> bool {
    filters.iter().all(|f| {
        let key = f.get("Key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = f.get("Values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        tags.iter().any(|t| t["Key"] == key && (values.is_empty() || values.iter().any(|v| t["Value"] == *v)))
    })
}

/// `answer` (moto's GetResources body) with the ECR repositories the
/// request selects added; `ecr` calls moto's ECR JSON API (target, body).
pub(crate) async fn with_ecr<F, Fut>(request: &Value, answer: &[u8], ecr: F) -> Vec<u8>
where
    F: Fn(&'static str, Value) -> Fut,
    Fut: Future<Output = Option<Value>>,
{
    let Ok(mut out) = serde_json::from_slice::<Value>(answer) else { return answer.to_vec() };
    if !wants_ecr(request) {
        return answer.to_vec();
    }
    let filters: Vec<Value> = request.get("TagFilters").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut repos = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let body = match &token {
            Some(t) => json!({"nextToken": t}),
            None => json!({}),
        };
        let Some(page) = ecr("AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", body).await else { break };
        repos.extend(page["repositories"].as_array().cloned().unwrap_or_default());
        token = page["nextToken"].as_str().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let mut added = Vec::new();
    for r in repos {
        let arn = r["repositoryArn"].as_str().unwrap_or_default().to_string();
        let tags = ecr("AmazonEC2ContainerRegistry_V20150921.ListTagsForResource", json!({"resourceArn": arn})).await;
        let tags: Vec<Value> = tags.and_then(|t| t["tags"].as_array().cloned()).unwrap_or_default();
        if !tags.is_empty() && passes(&tags, &filters) {
            added.push(json!({"ResourceARN": arn, "Tags": tags}));
        }
    }
    let list = out.as_object_mut().map(|o| o.entry("ResourceTagMappingList").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = list {
        list.extend(added);
    }
    out.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_select_as_the_real_api_does() {
        assert!(wants_ecr(&json!({"ResourceTypeFilters": ["ecr:repository"]})) && wants_ecr(&json!({})));
        assert!(!wants_ecr(&json!({"ResourceTypeFilters": ["cloudformation:stack"]})));
        assert!(!wants_ecr(&json!({"PaginationToken": "x"})));
        let tags = vec![json!({"Key": "gantry:stack", "Value": "s"}), json!({"Key": "team", "Value": "ml"})];
        assert!(passes(&tags, &[json!({"Key": "gantry:stack", "Values": ["s"]})]));
        assert!(passes(&tags, &[json!({"Key": "team"})]));
        assert!(!passes(&tags, &[json!({"Key": "gantry:stack", "Values": ["t"]})]));
    }
}
