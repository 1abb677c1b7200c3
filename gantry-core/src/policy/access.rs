//! Effective access as comparable facts, so that every kind says what a
//! change widens the same way: before against after.
//!
//! An [`Access`] holds what policies allow and deny — (principal, action,
//! resource, condition) grants, principals for resource policies, actions
//! lower-cased — and the facts around them that widen too: limits whose
//! growth widens (session duration), things whose arrival widens (a managed
//! policy, an ingress rule), and guards whose change or loss widens (a
//! permissions boundary). [`widening`] lists every fact of `after` that
//! `before` did not already allow.

use crate::lint::{action_matches, is_allow, statements, strings};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One thing a policy allows or denies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// Who (a resource policy's principal, or the role the policy is on).
    pub principal: String,
    /// The action (`s3:GetObject`).
    pub action: String,
    /// The resource ARN or pattern.
    pub resource: String,
    /// The statement's Condition, as canonical JSON ("" without one).
    pub condition: String,
}

/// What a resource's policies and settings let happen.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// What is allowed.
    pub allows: BTreeSet<Grant>,
    /// What is explicitly denied.
    pub denies: BTreeSet<Grant>,
    /// Limits whose growth widens (e.g. the session duration, in seconds), with how to show them.
    pub limits: BTreeMap<String, (u64, String)>,
    /// Things whose arrival widens, in words (a managed policy, an ingress rule).
    pub extras: BTreeSet<String>,
    /// Guards whose change or removal widens (a permissions boundary).
    pub guards: BTreeMap<String, String>,
}

impl Access {
    /// Adds a policy document's statements. `on` names who holds an
    /// identity policy; a resource policy's statements name their principals.
    pub fn add_policy(&mut self, doc: &Value, on: &str) {
        for s in statements(doc) {
            let principals: Vec<String> = match (s.get("Principal"), s.get("NotPrincipal")) {
                (_, Some(not)) => vec![format!("anyone except {}", canonical(not))],
                (Some(Value::String(p)), _) => vec![if p == "*" { "anyone".into() } else { p.clone() }],
                (Some(Value::Object(m)), _) => m.values().flat_map(|v| strings(Some(v))).map(|p| if p == "*" { "anyone".into() } else { p }).collect(),
                _ => vec![on.to_string()],
            };
            let actions: Vec<String> = match s.get("NotAction") {
                Some(not) => vec![format!("any action except {}", strings(Some(not)).join(", ").to_lowercase())],
                None => strings(s.get("Action")).into_iter().map(|a| a.to_lowercase()).collect(),
            };
            let resources: Vec<String> = match s.get("NotResource") {
                Some(not) => vec![format!("any resource except {}", strings(Some(not)).join(", "))],
                None => match s.get("Resource") {
                    None => vec!["*".to_string()],
                    Some(r @ Value::Object(_)) => vec![canonical(r)],
                    Some(r) => strings(Some(r)),
                },
            };
            let condition = s.get("Condition").map(canonical).unwrap_or_default();
            let set = if is_allow(s) { &mut self.allows } else { &mut self.denies };
            for p in &principals {
                for a in &actions {
                    for r in &resources {
                        set.insert(Grant { principal: p.clone(), action: a.clone(), resource: r.clone(), condition: condition.clone() });
                    }
                }
            }
        }
    }

    /// A managed policy attached (to `on`, when the resource has several
    /// roles): its arrival widens, and an admin-like one says so.
    pub fn managed_policy(&mut self, arn: &str, on: Option<&str>) {
        let on = on.map(|r| format!(" on {r}")).unwrap_or_default();
        let note = crate::lint::admin_like(arn).map(|why| format!(" (administrator or full access: {why})")).unwrap_or_default();
        self.extras.insert(format!("managed policy {arn}{on}{note}"));
    }

    /// A limit whose growth widens, shown by `show`.
    pub fn limit(&mut self, name: &str, value: u64, shown: String) {
        self.limits.insert(name.to_string(), (value, shown));
    }
}

fn canonical(v: &Value) -> String {
    // serde_json keeps object keys sorted: one spelling per condition.
    serde_json::to_string(v).unwrap_or_default()
}

/// Whether `pattern` (with IAM's `*`/`?`) covers `value`.
fn covers(pattern: &str, value: &str) -> bool {
    pattern == value || action_matches(pattern, value)
}

/// Whether `before` already allowed what `g` allows: the same principal, an
/// action and resource it covers, and no condition (or the same one).
fn allowed_before(before: &Access, g: &Grant) -> bool {
    before.allows.iter().any(|b| {
        b.principal == g.principal
            && covers(&b.action, &g.action)
            && (covers(&b.resource, &g.resource) || b.resource == "*")
            && (b.condition.is_empty() || b.condition == g.condition)
    })
}

/// Who a resource policy (a repository's, a bucket's) newly lets in, and to
/// do what: `before` is None for a resource being created.
pub fn resource_policy_widening(before: Option<&Value>, after: Option<&Value>, on: &str) -> Vec<String> {
    let access = |doc: Option<&Value>| {
        let mut a = Access::default();
        if let Some(doc) = doc {
            a.add_policy(doc, on);
        }
        a
    };
    widening(&access(before), &access(after))
}

/// Everything `after` allows that `before` did not, in words a reviewer reads.
pub fn widening(before: &Access, after: &Access) -> Vec<String> {
    let mut out = Vec::new();
    // New grants, one line per principal and resource.
    let mut grouped: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for g in after.allows.iter().filter(|g| !allowed_before(before, g)) {
        grouped.entry((g.principal.clone(), g.resource.clone(), g.condition.clone())).or_default().push(g.action.clone());
    }
    for ((principal, resource, condition), actions) in grouped {
        let who = if principal.is_empty() { String::new() } else { format!("{principal} ") };
        let when = if condition.is_empty() { String::new() } else { format!(" when {condition}") };
        out.push(format!("{who}may now {} on {resource}{when}", actions.join(", ")).trim_start().to_string());
    }
    for d in before.denies.iter().filter(|d| !after.denies.contains(d)) {
        let who = if d.principal.is_empty() { String::new() } else { format!(" for {}", d.principal) };
        out.push(format!("no longer denies {} on {}{who}", d.action, d.resource));
    }
    for (name, (value, shown)) in &after.limits {
        match before.limits.get(name) {
            Some((old, old_shown)) if value > old => out.push(format!("{name} grows from {old_shown} to {shown}")),
            None if !before.limits.is_empty() || !before.allows.is_empty() => out.push(format!("{name} is now {shown}")),
            _ => {}
        }
    }
    out.extend(after.extras.difference(&before.extras).map(|e| format!("gains {e}")));
    for (name, old) in &before.guards {
        match after.guards.get(name) {
            None => out.push(format!("loses its {name} {old}")),
            Some(new) if new != old => out.push(format!("{name} changes from {old} to {new}")),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
