//! ECR lifecycle policy: generated from the `lifecycle_policy` block's rules
//! and normalised so a policy read back from ECR compares equal.

use gantry_schema_derive::Schema;
use serde::Deserialize;
use serde_json::{json, Value};

/// The `lifecycle_policy` block's rules.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Lifecycle {
    /// Expire untagged images this many days after push.
    #[schema(range(1, 3650))]
    pub expire_untagged_after_days: Option<u32>,
    /// Keep only this many most recent tagged images.
    #[schema(range(1, 10000))]
    pub keep_last_tagged: Option<u32>,
    /// Limit keep_last_tagged to tags with these prefixes (default: all tags).
    pub tag_prefixes: Option<Vec<String>>,
}

/// Builds the ECR lifecycle policy document for the block's rules, or None
/// when no rule is set.
pub fn render(block: &Lifecycle) -> Option<Value> {
    let mut rules = Vec::new();
    let mut priority = 1;
    if let Some(days) = block.expire_untagged_after_days {
        rules.push(json!({
            "rulePriority": priority,
            "description": format!("expire untagged images after {days} days"),
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days},
            "action": {"type": "expire"}
        }));
        priority += 1;
    }
    if let Some(keep) = block.keep_last_tagged {
        let prefixes = block.tag_prefixes.clone().unwrap_or_default();
        let selection = if prefixes.is_empty() {
            json!({"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": keep})
        } else {
            json!({"tagStatus": "tagged", "tagPrefixList": prefixes, "countType": "imageCountMoreThan", "countNumber": keep})
        };
        rules.push(json!({
            "rulePriority": priority,
            "description": format!("keep the last {keep} tagged images"),
            "selection": selection,
            "action": {"type": "expire"}
        }));
    }
    if rules.is_empty() {
        None
    } else {
        Some(json!({"rules": rules}))
    }
}

/// Canonical form of a lifecycle policy: rules ordered by priority, tag lists
/// sorted. Keys are already sorted by `serde_json::Map`.
pub fn normalize(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(rules) = doc.get_mut("rules").and_then(Value::as_array_mut) {
        for r in rules.iter_mut() {
            if let Some(sel) = r.get_mut("selection").and_then(Value::as_object_mut) {
                for key in ["tagPrefixList", "tagPatternList"] {
                    if let Some(list) = sel.get_mut(key).and_then(Value::as_array_mut) {
                        list.sort_by_key(|v| v.to_string());
                    }
                }
            }
        }
        rules.sort_by_key(|r| r.get("rulePriority").and_then(Value::as_i64).unwrap_or(i64::MAX));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block as the loader hands it over.
    fn block(v: Value) -> Lifecycle {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn renders_both_rules_in_priority_order() {
        let doc = render(&block(json!({"expire_untagged_after_days": 14, "keep_last_tagged": 100}))).unwrap();
        let rules = doc["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
        assert_eq!(rules[0]["selection"]["countNumber"], 14);
        assert_eq!(rules[1]["selection"]["countNumber"], 100);
        assert_eq!(rules[1]["rulePriority"], 2);
    }

    #[test]
    fn empty_block_renders_nothing() {
        assert!(render(&block(json!({}))).is_none());
    }

    #[test]
    fn normalize_ignores_rule_order() {
        let doc = render(&block(json!({"expire_untagged_after_days": 3, "keep_last_tagged": 5, "tag_prefixes": ["v", "release"]}))).unwrap();
        let mut swapped = doc.clone();
        swapped["rules"].as_array_mut().unwrap().reverse();
        swapped["rules"][0]["selection"]["tagPrefixList"].as_array_mut().unwrap().reverse();
        assert_eq!(normalize(&doc), normalize(&swapped));
    }
}
