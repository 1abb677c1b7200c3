//! Built-in functions available in stack expressions (a small, documented
//! subset of Terraform's).

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};

/// Declares every built-in function on `ctx`.
pub fn declare_all(ctx: &mut Context) {
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
fn range(a: FuncArgs) -> Result<Value, String> {
    let n = a[0].as_u64().ok_or("range: argument must be a non-negative whole number")?;
    if n > 10_000 {
        return Err("range: at most 10000 elements".into());
    }
    Ok(Value::Array((0..n).map(Value::from).collect()))
}
/// `jsonencode(value)`: JSON text (for policy templates).
fn jsonencode(a: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&a[0]).map(Value::from).map_err(|e| e.to_string())
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

    fn eval(src: &str) -> Value {
        let mut ctx = Context::new();
        declare_all(&mut ctx);
        let e: hcl::Expression = hcl_edit::parser::parse_expr(src).unwrap().into();
        e.evaluate(&ctx).unwrap()
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
