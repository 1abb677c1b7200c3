//! Built-in functions available in stack expressions (a small, documented
//! subset of Terraform's).

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};

/// Declares every built-in function on `ctx`.
pub(crate) fn declare_all(ctx: &mut Context) {
    crate::config::budget::declare(ctx);
    ctx.declare_func("lower", FuncDef::new(lower, [ParamType::String]));
    ctx.declare_func("upper", FuncDef::new(upper, [ParamType::String]));
    ctx.declare_func("join", FuncDef::new(join, [ParamType::String, ParamType::array_of(ParamType::Any)]));
    ctx.declare_func("length", FuncDef::new(length, [ParamType::Any]));
    ctx.declare_func("merge", FuncDef::builder().variadic_param(ParamType::object_of(ParamType::Any)).build(merge));
    ctx.declare_func("concat", FuncDef::builder().variadic_param(ParamType::array_of(ParamType::Any)).build(concat));
    ctx.declare_func("replace", FuncDef::new(replace, [ParamType::String, ParamType::String, ParamType::String]));
    ctx.declare_func("tostring", FuncDef::new(tostring, [ParamType::Any]));
    ctx.declare_func("keys", FuncDef::new(keys, [ParamType::object_of(ParamType::Any)]));
    ctx.declare_func("range", FuncDef::new(range, [ParamType::Number]));
    ctx.declare_func("jsonencode", FuncDef::new(jsonencode, [ParamType::Any]));
    ctx.declare_func("toset", FuncDef::new(toset, [ParamType::array_of(ParamType::Any)]));
    ctx.declare_func("format", FuncDef::builder().param(ParamType::String).variadic_param(ParamType::Any).build(format));
    ctx.declare_func("lookup", FuncDef::new(lookup, [ParamType::object_of(ParamType::Any), ParamType::String, ParamType::Any]));
    ctx.declare_func("coalesce", FuncDef::builder().variadic_param(ParamType::Any).build(coalesce));
    ctx.declare_func("contains", FuncDef::new(contains, [ParamType::array_of(ParamType::Any), ParamType::Any]));
    ctx.declare_func("split", FuncDef::new(split, [ParamType::String, ParamType::String]));
    ctx.declare_func("trimspace", FuncDef::new(trimspace, [ParamType::String]));
    ctx.declare_func("flatten", FuncDef::new(flatten, [ParamType::array_of(ParamType::Any)]));
    ctx.declare_func("values", FuncDef::new(values, [ParamType::object_of(ParamType::Any)]));
    ctx.declare_func("tomap", FuncDef::new(tomap, [ParamType::object_of(ParamType::Any)]));
    ctx.declare_func("tolist", FuncDef::new(tolist, [ParamType::array_of(ParamType::Any)]));
    ctx.declare_func("regex", FuncDef::new(regex, [ParamType::String, ParamType::String]));
    ctx.declare_func("startswith", FuncDef::new(startswith, [ParamType::String, ParamType::String]));
    ctx.declare_func("endswith", FuncDef::new(endswith, [ParamType::String, ParamType::String]));
    ctx.declare_func("jsondecode", FuncDef::new(jsondecode, [ParamType::String]));
    ctx.declare_func("alltrue", FuncDef::new(alltrue, [ParamType::array_of(ParamType::Bool)]));
    ctx.declare_func("anytrue", FuncDef::new(anytrue, [ParamType::array_of(ParamType::Bool)]));
    // Calls are resolved argument by argument first (see try_call); this is what is left.
    ctx.declare_func("try", FuncDef::builder().variadic_param(ParamType::Any).build(|a: FuncArgs| Ok(a.first().cloned().unwrap_or(Value::Null))));
    super::file_functions::declare(ctx, declare_all);
}

/// Every built-in function, with an example and its result (README and
/// `gantry docs` list these; a test evaluates every example).
pub const EXAMPLES: &[(&str, &str, &str)] = &[
    ("lower", r#"lower("CI")"#, r#""ci""#),
    ("upper", r#"upper("ci")"#, r#""CI""#),
    ("join", r#"join("-", ["a", "b"])"#, r#""a-b""#),
    ("length", r#"length(["a", "b"])"#, "2"),
    ("merge", r#"merge({ a = 1 }, { b = 2 })"#, r#"{"a":1,"b":2}"#),
    ("concat", r#"concat(["a"], ["b"])"#, r#"["a","b"]"#),
    ("replace", r#"replace("3.11", ".", "")"#, r#""311""#),
    ("tostring", "tostring(3)", r#""3""#),
    ("keys", r#"keys({ b = 1, a = 2 })"#, r#"["a","b"]"#),
    ("values", r#"values({ b = 1, a = 2 })"#, "[2,1]"),
    ("range", "range(3)", "[0,1,2]"),
    ("format", r#"format("gpu-%d-%s", 4, "x")"#, r#""gpu-4-x""#),
    ("jsonencode", r#"jsonencode(["a"])"#, r#""[\"a\"]""#),
    ("jsondecode", r#"jsondecode("{\"a\": [1]}")"#, r#"{"a":[1]}"#),
    ("toset", r#"toset(["b", "a", "b"])"#, r#"["a","b"]"#),
    ("tomap", r#"tomap({ a = "x" })"#, r#"{"a":"x"}"#),
    ("tolist", r#"tolist(["a"])"#, r#"["a"]"#),
    ("lookup", r#"lookup({ a = "x" }, "b", "none")"#, r#""none""#),
    ("coalesce", r#"coalesce("", null, "fallback")"#, r#""fallback""#),
    ("contains", r#"contains(["main", "dev"], "dev")"#, "true"),
    ("split", r#"split(",", "a,b")"#, r#"["a","b"]"#),
    ("trimspace", r#"trimspace("  a \n")"#, r#""a""#),
    ("flatten", r#"flatten([["a"], ["b", ["c"]]])"#, r#"["a","b","c"]"#),
    ("regex", r#"regex("v([0-9]+)", "release-v12")"#, r#"["12"]"#),
    ("startswith", r#"startswith("refs/tags/v1", "refs/tags/")"#, "true"),
    ("endswith", r#"endswith("model.onnx", ".onnx")"#, "true"),
    ("alltrue", "alltrue([true, 1 < 2])", "true"),
    ("anytrue", "anytrue([false, 1 > 2])", "false"),
    ("try", r#"try(jsondecode("{"), "fallback")"#, r#""fallback""#),
    ("file", r#"file("hello.sh")"#, r##""#!/usr/bin/env bash\necho hello\n""##),
    ("templatefile", r#"templatefile("agent.cfg.tpl", { queues = ["gpu", "tpu"], host = "ci-1" })"#, r#""queue=gpu tpu on ci-1\n""#),
];

/// The names of every built-in function (for did-you-mean).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    EXAMPLES.iter().map(|(name, _, _)| *name)
}

/// `lookup(map, key, default)`.
fn lookup(a: FuncArgs) -> Result<Value, String> {
    let m = a[0].as_object().ok_or("lookup: first argument must be a map")?;
    Ok(m.get(&s(&a[1])).cloned().unwrap_or_else(|| a[2].clone()))
}

/// `coalesce(a, b, ...)`: the first argument that is neither null nor "".
fn coalesce(a: FuncArgs) -> Result<Value, String> {
    a.iter().find(|v| !matches!(v, Value::Null) && v.as_str() != Some("")).cloned().ok_or_else(|| "coalesce: every argument is null or empty".to_string())
}

fn contains(a: FuncArgs) -> Result<Value, String> {
    Ok(a[0].as_array().is_some_and(|items| items.contains(&a[1])).into())
}

/// `alltrue(list)`: true when every element is (and for an empty list).
fn alltrue(a: FuncArgs) -> Result<Value, String> {
    Ok(a[0].as_array().is_none_or(|items| items.iter().all(|v| v == &Value::Bool(true))).into())
}

/// `anytrue(list)`: true when one element is.
fn anytrue(a: FuncArgs) -> Result<Value, String> {
    Ok(a[0].as_array().is_some_and(|items| items.iter().any(|v| v == &Value::Bool(true))).into())
}

/// `split(separator, string)`.
fn split(a: FuncArgs) -> Result<Value, String> {
    let sep = s(&a[0]);
    if sep.is_empty() {
        return Err("split: the separator is empty".into());
    }
    Ok(Value::Array(s(&a[1]).split(sep.as_str()).map(Value::from).collect()))
}

fn trimspace(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).trim().into())
}

/// `flatten(list)`: nested lists into one.
fn flatten(a: FuncArgs) -> Result<Value, String> {
    fn walk(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    walk(&a[0], &mut out);
    Ok(Value::Array(out))
}

/// `values(map)`: in key order, as `keys` lists them.
fn values(a: FuncArgs) -> Result<Value, String> {
    let m = a[0].as_object().ok_or("values: argument must be a map")?;
    let mut pairs: Vec<_> = m.iter().collect();
    pairs.sort_by(|x, y| x.0.cmp(y.0));
    Ok(Value::Array(pairs.into_iter().map(|(_, v)| v.clone()).collect()))
}

fn tomap(a: FuncArgs) -> Result<Value, String> {
    Ok(a[0].clone())
}

fn tolist(a: FuncArgs) -> Result<Value, String> {
    Ok(a[0].clone())
}

/// `regex(pattern, string)`: the match, or its capture groups as a list
/// when the pattern has any (Terraform's rule); no match is an error.
fn regex(a: FuncArgs) -> Result<Value, String> {
    let re = regex_lite::Regex::new(&s(&a[0])).map_err(|e| format!("regex: {e}"))?;
    let text = s(&a[1]);
    let caps = re.captures(&text).ok_or_else(|| format!("regex: no match for {:?} in {text:?}", s(&a[0])))?;
    if caps.len() == 1 {
        return Ok(caps.get(0).map(|m| m.as_str()).unwrap_or_default().into());
    }
    Ok(Value::Array(caps.iter().skip(1).map(|m| m.map(|m| Value::from(m.as_str())).unwrap_or(Value::Null)).collect()))
}

fn startswith(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).starts_with(&s(&a[1])).into())
}

fn endswith(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).ends_with(&s(&a[1])).into())
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn lower(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).to_lowercase().into())
}
fn upper(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).to_uppercase().into())
}
fn join(a: FuncArgs) -> Result<Value, String> {
    let sep = s(&a[0]);
    let items = a[1].as_array().ok_or("join: second argument must be a list")?;
    Ok(items.iter().map(s).collect::<Vec<_>>().join(&sep).into())
}
fn length(a: FuncArgs) -> Result<Value, String> {
    let n = match &a[0] {
        Value::Array(v) => v.len(),
        Value::Object(m) => m.len(),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("length: cannot take the length of {other}")),
    };
    Ok((n as u64).into())
}
fn merge(a: FuncArgs) -> Result<Value, String> {
    let mut out = Map::new();
    for v in a.iter() {
        if let Value::Object(m) = v {
            out.extend(m.clone());
        }
    }
    Ok(Value::Object(out))
}
fn concat(a: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for v in a.iter() {
        if let Value::Array(items) = v {
            out.extend(items.iter().cloned());
        }
    }
    Ok(Value::Array(out))
}
fn replace(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).replace(&s(&a[1]), &s(&a[2])).into())
}
fn tostring(a: FuncArgs) -> Result<Value, String> {
    Ok(s(&a[0]).into())
}
fn keys(a: FuncArgs) -> Result<Value, String> {
    let m = a[0].as_object().ok_or("keys: argument must be a map")?;
    let mut k: Vec<_> = m.keys().cloned().collect();
    k.sort();
    Ok(Value::Array(k.into_iter().map(Value::String).collect()))
}
/// The most elements `range()` makes.
pub(crate) const RANGE_LIMIT: u64 = 1024;

fn range(a: FuncArgs) -> Result<Value, String> {
    let n = a[0].as_u64().ok_or("range: argument must be a non-negative whole number")?;
    // Terraform's range() refuses more than 1024 elements: nested `for`s
    // over ranges multiply, and a stack file must not exhaust memory.
    if n > RANGE_LIMIT {
        return Err(format!("range: at most {RANGE_LIMIT} elements (as Terraform's range)"));
    }
    Ok(Value::Array((0..n).map(Value::from).collect()))
}
/// `jsonencode(value)`: JSON text (for policy templates).
fn jsonencode(a: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&a[0]).map(Value::from).map_err(|e| e.to_string())
}

/// `jsondecode(text)`: the value a JSON document holds.
fn jsondecode(a: FuncArgs) -> Result<Value, String> {
    serde_json::from_str::<Value>(&s(&a[0])).map_err(|e| format!("jsondecode: {e}"))
}

/// `toset(list)`: unique elements, sorted (for for_each over a list).
fn toset(a: FuncArgs) -> Result<Value, String> {
    let mut items: Vec<Value> = a[0].as_array().cloned().unwrap_or_default();
    items.sort_by_key(|v| v.to_string());
    items.dedup();
    Ok(Value::Array(items))
}

/// `format("%s-%d", a, b)`: `%s`, `%d` and `%%` only.
fn format(a: FuncArgs) -> Result<Value, String> {
    let spec = s(&a[0]);
    let mut args = a.iter().skip(1);
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s') | Some('d') | Some('v') => out.push_str(&s(args.next().ok_or("format: not enough arguments")?)),
            other => return Err(format!("format: unsupported verb %{}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    /// Evaluates as the loader does (try calls first), reading files from
    /// tests/fixtures/functions.
    fn eval(src: &str) -> Value {
        let mut ctx = Context::new();
        declare_all(&mut ctx);
        let e = super::super::try_call::resolve(&hcl_edit::parser::parse_expr(src).unwrap(), &ctx);
        let e: hcl::Expression = e.into();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/functions");
        super::super::file_functions::with_base_dir(&dir, &crate::core::bounded::ReadRoot::for_stack(&dir, false), || e.evaluate(&ctx)).unwrap()
    }

    /// Every documented example evaluates to its documented result.
    #[test]
    fn every_example_gives_its_result() {
        let mut declared = Context::new();
        declare_all(&mut declared);
        for (name, example, want) in EXAMPLES {
            assert!(example.starts_with(&format!("{name}(")), "{name}: {example}");
            let got = serde_json::to_string(&eval(example)).unwrap();
            assert_eq!(&got, want, "{example}");
        }
        assert_eq!(names().count(), 31);
    }

    #[test]
    fn functions_work() {
        assert_eq!(eval(r#"join("-", ["a", "b"])"#), Value::from("a-b"));
        assert_eq!(eval(r#"format("q-%d-%s", 3, "x")"#), Value::from("q-3-x"));
        assert_eq!(eval(r#"length(range(4))"#), Value::from(4u64));
        assert_eq!(eval(r#"jsonencode(["a", 1])"#), Value::from("[\"a\",1]"));
        assert_eq!(eval(r#"keys(merge({b = 1}, {a = 2}))"#), Value::Array(vec!["a".into(), "b".into()]));
    }
}
