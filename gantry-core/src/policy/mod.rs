//! IAM-style policy documents: semantic normalisation, so that two
//! documents that mean the same thing compare equal whatever their statement
//! order, string-vs-list spelling, action case or URL-encoding.

pub mod access;

use serde_json::{Map, Value};

/// Keys whose values are sets of strings (order and single-vs-list do not matter).
const SET_KEYS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];
/// Keys whose strings are case-insensitive.
const CASELESS_KEYS: &[&str] = &["Action", "NotAction"];

/// Parses a policy document as IAM returns it: plain JSON, or URL-encoded JSON.
pub fn parse_document(text: &str) -> Result<Value, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(e) => {
            // IAM answers documents URL-encoded (RFC 3986).
            let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
            serde_json::from_str(&decoded).map_err(|_| e)
        }
    }
}

const DOC_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

/// Structural problems IAM would reject: unknown keys, missing Effect or
/// Action, an Effect other than Allow/Deny.
pub fn problems(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Value::Object(m) = doc else { return vec!["a policy document must be a JSON object".into()] };
    for k in m.keys().filter(|k| !DOC_KEYS.contains(&k.as_str())) {
        out.push(format!("unknown field \"{k}\" (expected {})", DOC_KEYS.join(", ")));
    }
    let stmts: Vec<&Value> = match m.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => {
            out.push("missing \"Statement\"".into());
            Vec::new()
        }
    };
    for (i, st) in stmts.iter().enumerate() {
        let Value::Object(sm) = st else {
            out.push(format!("statement {i} is not an object"));
            continue;
        };
        for k in sm.keys().filter(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
            out.push(format!("statement {i}: unknown field \"{k}\""));
        }
        match sm.get("Effect").and_then(Value::as_str) {
            Some("Allow") | Some("Deny") => {}
            _ => out.push(format!("statement {i}: Effect must be \"Allow\" or \"Deny\"")),
        }
        if !sm.contains_key("Action") && !sm.contains_key("NotAction") {
            out.push(format!("statement {i}: missing \"Action\""));
        }
    }
    out
}

/// Returns the canonical form of a policy document.
pub fn normalize(doc: &Value) -> Value {
    let Value::Object(m) = doc else { return doc.clone() };
    let mut out = Map::new();
    for (k, v) in m {
        if k == "Statement" {
            let stmts: Vec<Value> = match v {
                Value::Array(a) => a.iter().map(normalize_statement).collect(),
                other => vec![normalize_statement(other)],
            };
            let mut keyed: Vec<(String, Value)> = stmts.into_iter().map(|s| (s.to_string(), s)).collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            keyed.dedup_by(|a, b| a.0 == b.0);
            out.insert(k.clone(), Value::Array(keyed.into_iter().map(|(_, s)| s).collect()));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn normalize_statement(s: &Value) -> Value {
    let Value::Object(m) = s else { return s.clone() };
    let mut out = Map::new();
    for (k, v) in m {
        let nv = if SET_KEYS.contains(&k.as_str()) {
            string_set(v, CASELESS_KEYS.contains(&k.as_str()))
        } else if k == "Principal" || k == "NotPrincipal" {
            match v {
                // IAM stores an account id as its root ARN: compare them as one.
                Value::Object(p) => Value::Object(
                    p.iter()
                        .map(|(pk, pv)| {
                            let pv = if pk == "AWS" { map_strings(pv, crate::core::compare::aws_principal) } else { pv.clone() };
                            (pk.clone(), string_set(&pv, false))
                        })
                        .collect(),
                ),
                other => other.clone(),
            }
        } else if k == "Condition" {
            match v {
                Value::Object(ops) => Value::Object(
                    ops.iter()
                        .map(|(op, kv)| {
                            let inner = match kv {
                                Value::Object(keys) => Value::Object(keys.iter().map(|(ck, cv)| (ck.clone(), string_set(cv, false))).collect()),
                                other => other.clone(),
                            };
                            (op.clone(), inner)
                        })
                        .collect(),
                ),
                other => other.clone(),
            }
        } else {
            v.clone()
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}

fn map_strings(v: &Value, f: fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        other => other.clone(),
    }
}

fn string_set(v: &Value, lower: bool) -> Value {
    let mut items: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string())).collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        other => return other.clone(),
    };
    if lower {
        items.iter_mut().for_each(|s| *s = s.to_lowercase());
    }
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equivalent_documents_normalize_equal() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchCheckLayerAvailability"], "Resource": ["arn:x"]}
        ]});
        let b = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ECR:BatchCheckLayerAvailability", "ecr:PutImage"], "Resource": "arn:x"},
            {"Resource": ["*"], "Effect": "Allow", "Action": ["ecr:getauthorizationtoken"]}
        ]});
        assert_eq!(normalize(&a), normalize(&b));
    }

    #[test]
    fn account_principals_compare_as_iam_stores_them() {
        // IAM answers `arn:aws:iam::123456789012:root` for a principal written as the account id.
        let written = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "123456789012"}}]});
        let stored = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]});
        assert_eq!(normalize(&written), normalize(&stored));
        let other = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}}]});
        assert_ne!(normalize(&written), normalize(&other));
    }

    #[test]
    fn different_documents_stay_different() {
        let a = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        let b = json!({"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]});
        assert_ne!(normalize(&a), normalize(&b));
    }

    #[test]
    fn any_permutation_normalizes_equal() {
        let base = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], "Resource": ["arn:a", "arn:b"]},
            {"Sid": "B", "Effect": "Deny", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ["arn:x", "arn:y"]},
             "Condition": {"StringLike": {"k": ["v1", "v2", "v3"]}}}
        ]});
        let want = normalize(&base);
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..200 {
            let mut doc = base.clone();
            rng.shuffle(doc["Statement"].as_array_mut().unwrap());
            for st in doc["Statement"].as_array_mut().unwrap() {
                for key in ["Action", "Resource"] {
                    if let Some(Value::Array(a)) = st.get_mut(key) {
                        rng.shuffle(a);
                        if a.len() == 1 && rng.bool() {
                            let only = a[0].clone();
                            st[key] = only;
                        }
                    }
                }
                if let Some(Value::Array(a)) = st.pointer_mut("/Condition/StringLike/k") {
                    rng.shuffle(a);
                }
                if let Some(Value::Array(a)) = st.pointer_mut("/Principal/AWS") {
                    rng.shuffle(a);
                }
            }
            assert_eq!(normalize(&doc), want);
            // Round trip through text, as IAM stores it.
            assert_eq!(normalize(&parse_document(&doc.to_string()).unwrap()), want);
        }
    }

    #[test]
    fn problems_catch_typos() {
        let p = problems(&json!({"Version": "2012-10-17", "Statment": []}));
        assert!(p.iter().any(|m| m.contains("unknown field \"Statment\"")), "{p:?}");
        let p = problems(&json!({"Statement": [{"Effect": "allow", "Actions": "s3:*"}]}));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(problems(&json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})).is_empty());
    }

    #[test]
    fn url_encoded_documents_parse() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(parse_document(enc).unwrap(), json!({"Version": "2012-10-17"}));
    }
}
