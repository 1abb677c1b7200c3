//! IAM condition operators, understood one by one: which of them narrow
//! who or what a statement lets in, and which only look like they do.
//!
//! The operator grammar is AWS's "IAM JSON policy elements: Condition
//! operators" (base operator, optional `...IfExists` suffix, optional
//! `ForAnyValue:`/`ForAllValues:` set prefix). A negation (`StringNotLike`),
//! `Null`, an `...IfExists` (true when the key is missing) and
//! `ForAllValues:` (true for an empty set) never narrow: each admits values
//! the author did not name.

use super::strings;
use serde_json::Value;

/// Base operators IAM accepts (without `IfExists` or a set prefix).
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// What one operator does to a string key such as a token's `sub`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Only the listed values pass; `like` when `*`/`?` are wildcards.
    Narrows {
        /// `*` and `?` are wildcards (the `Like` operators).
        like: bool,
    },
    /// Passes values the author did not list; the reason says why.
    Admits(&'static str),
    /// Not an IAM operator: nothing can be said about it.
    Unknown,
}

/// Classifies a condition operator as written in the policy.
pub fn effect(op: &str) -> Effect {
    let (set, rest) = match op.split_once(':') {
        Some((p, r)) if p.eq_ignore_ascii_case("ForAllValues") => (Some(true), r),
        Some((p, r)) if p.eq_ignore_ascii_case("ForAnyValue") => (Some(false), r),
        Some(_) => return Effect::Unknown,
        None => (None, op),
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let Some(base) = OPERATORS.iter().find(|o| o.eq_ignore_ascii_case(base)) else { return Effect::Unknown };
    if *base == "Null" {
        return if if_exists || set.is_some() { Effect::Unknown } else { Effect::Admits("Null only tests whether the key is present, not its value") };
    }
    if base.contains("Not") {
        return Effect::Admits("a negation admits every value it does not name");
    }
    if !(base.starts_with("String") || base.starts_with("Arn")) {
        return Effect::Admits("it compares the key as a number, date, boolean, address or binary, which does not restrict a name");
    }
    if if_exists {
        return Effect::Admits("...IfExists passes when the key is missing");
    }
    if set == Some(true) {
        return Effect::Admits("ForAllValues passes when the key is missing (an empty set)");
    }
    // ArnEquals matches wildcards in each ARN component just as ArnLike
    // does (IAM's "Amazon Resource Name (ARN) condition operators").
    Effect::Narrows { like: base.ends_with("Like") || base.starts_with("Arn") }
}

/// One operator's test of one key in a statement.
#[derive(Debug, Clone)]
pub struct KeyTest {
    /// The IAM condition operator (`StringLike`).
    pub operator: String,
    /// What it lets through.
    pub effect: Effect,
    /// The values it tests against.
    pub values: Vec<String>,
}

impl KeyTest {
    /// A value that matches more than itself (a wildcard under a `Like` operator).
    pub fn is_pattern(&self, value: &str) -> bool {
        matches!(self.effect, Effect::Narrows { like: true }) && value.contains(['*', '?'])
    }
}

/// Every test of `key` (compared case-insensitively, as IAM does) in a statement.
pub fn tests_of(stmt: &Value, key: &str) -> Vec<KeyTest> {
    tests_where(stmt, |k| k.eq_ignore_ascii_case(key))
}

/// Every test of a key `wanted` accepts (e.g. any provider's `…:sub`).
pub fn tests_where(stmt: &Value, wanted: impl Fn(&str) -> bool) -> Vec<KeyTest> {
    let mut out = Vec::new();
    for (op, keys) in operators(stmt) {
        let Value::Object(keys) = keys else { continue };
        for (k, v) in keys {
            if wanted(k) {
                out.push(KeyTest { operator: op.clone(), effect: effect(op), values: strings(Some(v)) });
            }
        }
    }
    out
}

/// The statement's operators with their key maps.
pub fn operators(stmt: &Value) -> Vec<(&String, &Value)> {
    match stmt.get("Condition") {
        Some(Value::Object(ops)) => ops.iter().collect(),
        _ => Vec::new(),
    }
}

/// Operators in a statement that are not IAM operators.
pub fn unknown_operators(stmt: &Value) -> Vec<String> {
    operators(stmt).into_iter().filter(|(op, _)| effect(op) == Effect::Unknown).map(|(op, _)| op.clone()).collect()
}

/// What the tests of a key allow, in a reviewer's words: the values that
/// pass ("repo:o/r:ref:refs/heads/main"), or "any subject" / "any subject
/// except X" when
/// nothing narrows.
pub fn describe(tests: &[KeyTest]) -> Vec<String> {
    let narrowing: Vec<String> = tests.iter().filter(|t| matches!(t.effect, Effect::Narrows { .. })).flat_map(|t| t.values.clone()).collect();
    if !narrowing.is_empty() {
        return narrowing;
    }
    let negated: Vec<String> = tests.iter().filter(|t| t.operator.to_ascii_lowercase().contains("not")).flat_map(|t| t.values.clone()).collect();
    if negated.is_empty() {
        vec!["any subject".to_string()]
    } else {
        vec![format!("any subject except {}", negated.join(", "))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_positive_string_and_arn_operators_narrow() {
        for op in ["StringEquals", "StringLike", "stringequalsignorecase", "ArnLike", "ForAnyValue:StringLike"] {
            assert!(matches!(effect(op), Effect::Narrows { .. }), "{op}");
        }
        for op in [
            "StringNotEquals",
            "StringNotLike",
            "ArnNotLike",
            "Null",
            "StringLikeIfExists",
            "StringEqualsIfExists",
            "ForAllValues:StringLike",
            "Bool",
            "NumericEquals",
            "NotIpAddress",
        ] {
            assert!(matches!(effect(op), Effect::Admits(_)), "{op}");
        }
        for op in ["StringMatches", "Foo:StringLike", "NullIfExists", ""] {
            assert_eq!(effect(op), Effect::Unknown, "{op}");
        }
        assert_eq!(effect("StringLike"), Effect::Narrows { like: true });
        assert_eq!(effect("StringEquals"), Effect::Narrows { like: false });
    }

    #[test]
    fn descriptions_say_what_passes() {
        let stmt = |c: Value| json!({"Condition": c});
        let d = |c: Value| describe(&tests_of(&stmt(c), "h:sub"));
        assert_eq!(d(json!({"StringLike": {"H:SUB": ["repo:o/r:*"]}})), ["repo:o/r:*"]);
        assert_eq!(d(json!({"StringNotLike": {"h:sub": "repo:evil/*"}})), ["any subject except repo:evil/*"]);
        assert_eq!(d(json!({"Null": {"h:sub": "false"}})), ["any subject"]);
        assert_eq!(d(json!({})), ["any subject"]);
        let t = &tests_of(&stmt(json!({"StringEquals": {"h:sub": "a*"}})), "h:sub")[0];
        assert!(!t.is_pattern("a*"), "StringEquals compares literally");
    }
}
