//! Trust-policy rules: who may assume the role. Every Allow statement that
//! can grant an assume action is read — whatever its action spelling
//! (`sts:AssumeRole*`, `sts:*`, `*`, `NotAction`) and principal — and every
//! condition on the token's `aud` and `sub` is classified (see conditions).

use super::conditions::{self, Effect, KeyTest};
use super::{action_matches, is_allow, statements, strings, Finding, GITHUB_HOST};
use super::{
    TRUST_ANY_PRINCIPAL, TRUST_FOREIGN_PROVIDER, TRUST_NON_NARROWING, TRUST_NOT_ACTION, TRUST_NO_AUD, TRUST_NO_SUB, TRUST_UNKNOWN_OPERATOR, TRUST_WILDCARD_AUD,
    TRUST_WILDCARD_SUB,
};
use serde_json::Value;

/// The actions that hand out the role's credentials.
const ASSUME_ACTIONS: &[&str] = &["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"];

/// Whether a statement grants any assume action (NotAction grants every
/// action it does not name).
pub fn grants_assume(stmt: &Value) -> bool {
    if let Some(not) = stmt.get("NotAction") {
        let excluded = strings(Some(not));
        return ASSUME_ACTIONS.iter().any(|a| !excluded.iter().any(|p| action_matches(p, a)));
    }
    strings(stmt.get("Action")).iter().any(|p| ASSUME_ACTIONS.iter().any(|a| action_matches(p, a)))
}

/// A statement's principals as (type, value); `("*", "*")` for anyone.
pub fn principals(stmt: &Value) -> Vec<(String, String)> {
    if stmt.get("NotPrincipal").is_some() {
        return vec![("*".into(), "*".into())];
    }
    match stmt.get("Principal") {
        Some(Value::String(s)) => vec![("*".into(), s.clone())],
        Some(Value::Object(m)) => m.iter().flat_map(|(k, v)| strings(Some(v)).into_iter().map(move |s| (k.clone(), s))).collect(),
        _ => vec![("*".into(), "*".into())],
    }
}

/// Whether a principal lets in any AWS account or anyone at all.
pub fn principal_is_anyone(kind: &str, value: &str) -> bool {
    if value == "*" {
        return true;
    }
    // arn:aws:iam::*:root, arn:aws:iam::*:role/x — any account.
    kind.eq_ignore_ascii_case("AWS") && value.split(':').nth(4).is_some_and(|account| account.contains(['*', '?']))
}

/// True when a `sub` pattern lets in more than one repository.
pub fn sub_is_wildcard(sub: &str) -> bool {
    let Some(rest) = sub.strip_prefix("repo:") else { return sub.contains('*') || sub.contains('?') };
    let repo = rest.split(':').next().unwrap_or("");
    let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
    owner.is_empty() || owner.contains(['*', '?']) || name.is_empty() || name.contains(['*', '?'])
}

/// Lints a trust policy. `attr`/`file` locate findings.
pub fn lint_trust(doc: &Value, attr: &str, file: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for stmt in statements(doc).into_iter().filter(|s| is_allow(s)) {
        for op in conditions::unknown_operators(stmt) {
            out.push(Finding::new(TRUST_UNKNOWN_OPERATOR, &op, attr).at(file, &op));
        }
        if !grants_assume(stmt) {
            continue;
        }
        if let Some(not) = stmt.get("NotAction") {
            out.push(Finding::new(TRUST_NOT_ACTION, &format!("NotAction {}", strings(Some(not)).join(", ")), attr).at(file, "NotAction"));
        }
        let mut github = false;
        for (kind, value) in principals(stmt) {
            let needle = if stmt.get("NotPrincipal").is_some() { "NotPrincipal".to_string() } else { value.clone() };
            if principal_is_anyone(&kind, &value) {
                let what = match () {
                    _ if stmt.get("NotPrincipal").is_some() => "NotPrincipal: everyone else".to_string(),
                    _ if kind == "*" => format!("Principal \"{value}\""),
                    _ => format!("{kind}: {value}"),
                };
                out.push(Finding::new(TRUST_ANY_PRINCIPAL, &what, attr).at(file, &needle));
            } else if kind.eq_ignore_ascii_case("Federated") {
                if value.rsplit("oidc-provider/").next() == Some(GITHUB_HOST) {
                    github = true;
                } else {
                    out.push(Finding::new(TRUST_FOREIGN_PROVIDER, &format!("provider {value}"), attr).at(file, &value));
                }
            }
        }
        if github {
            out.extend(token_rules(stmt, attr, file));
        }
    }
    out
}

/// The GitHub token's `aud` and `sub` must each be narrowed by a positive
/// test; `sub` to one repository.
fn token_rules(stmt: &Value, attr: &str, file: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    let checks: [(&str, &'static str, &'static str); 2] = [("aud", TRUST_NO_AUD, TRUST_WILDCARD_AUD), ("sub", TRUST_NO_SUB, TRUST_WILDCARD_SUB)];
    for (claim, missing, wildcard) in checks {
        let key = format!("{GITHUB_HOST}:{claim}");
        let mut tests = conditions::tests_of(stmt, &key);
        // A policy variable (`${...}`) is replaced when the request is
        // made: `sub` compared with `${…:sub}` is always true, and any
        // other variable names what the caller brings, not what the author chose.
        for t in tests.iter_mut().filter(|t| t.values.iter().any(|v| v.contains("${"))) {
            t.effect = Effect::Admits("a policy variable (${...}) is filled in from the request, so it matches what the caller brings");
        }
        let narrowing: Vec<&KeyTest> = tests.iter().filter(|t| matches!(t.effect, Effect::Narrows { .. })).collect();
        if narrowing.is_empty() {
            let admits: Vec<String> = tests
                .iter()
                .filter_map(|t| if let Effect::Admits(why) = t.effect { Some(format!("{} on {claim}: {why}", t.operator)) } else { None })
                .collect();
            match admits.first() {
                Some(_) => out.push(Finding::new(TRUST_NON_NARROWING, &admits.join("; "), attr).at(file, &tests[0].operator)),
                None => out.push(Finding::new(missing, "", attr).at(file, "AssumeRoleWithWebIdentity")),
            }
            continue;
        }
        for t in narrowing {
            for v in &t.values {
                let wide = if claim == "sub" { t.is_pattern(v) && sub_is_wildcard(v) } else { t.is_pattern(v) };
                if wide {
                    out.push(Finding::new(wildcard, &format!("{claim} = \"{v}\""), attr).at(file, v));
                }
            }
        }
    }
    out
}
