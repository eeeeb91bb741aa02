//! Runs `schema_cases.json`: JSON-schema draft-4 models validated the way API Gateway does.
//!
//! Each case: `source` (`aws-recorded` | `aws-docs` | `hand-written`), `ref`, `description`, the
//! models — `schema` (compiled as the model `Model`), and/or `models` (name → schema) and
//! `models_text` (name → raw schema text) — the model to use (`model`, default `Model`), and one
//! expectation: `compile_error` (a substring of the compile error), or an `instance` with
//! `valid` and/or `errors` (the exact messages, in order) and optionally `error_string`.

use portico_mapping::schema::{self, SchemaSet};
use serde_json::Value;

const SOURCES: [&str; 3] = ["aws-recorded", "aws-docs", "hand-written"];

fn run_case(case: &Value) -> Result<(), String> {
    let source = case["source"].as_str().unwrap_or("");
    if !SOURCES.contains(&source) {
        return Err(format!("bad source {source:?}"));
    }
    if case["ref"].as_str().is_none_or(str::is_empty) {
        return Err("missing ref".into());
    }
    let mut models: Vec<(String, String)> = Vec::new();
    if let Some(m) = case.get("models").and_then(Value::as_object) {
        for (name, s) in m {
            models.push((name.clone(), s.to_string()));
        }
    }
    if let Some(s) = case.get("schema") {
        models.push(("Model".to_string(), s.to_string()));
    }
    if let Some(m) = case.get("models_text").and_then(Value::as_object) {
        for (name, s) in m {
            models.push((
                name.clone(),
                s.as_str().ok_or("models_text must be strings")?.to_string(),
            ));
        }
    }
    if models.is_empty() {
        return Err("case has no model".into());
    }
    let model = case.get("model").and_then(Value::as_str).unwrap_or("Model");

    let compiled = SchemaSet::compile(&models);
    if let Some(expected) = case.get("compile_error") {
        let expected = expected.as_str().ok_or("compile_error must be a string")?;
        return match compiled {
            Ok(_) => Err(format!(
                "expected a compile error containing {expected:?}, compiled fine"
            )),
            Err(e) if e.to_string().contains(expected) => Ok(()),
            Err(e) => Err(format!("compile error {e} does not contain {expected:?}")),
        };
    }
    let set = compiled.map_err(|e| format!("unexpected compile error: {e}"))?;
    let instance = case.get("instance").ok_or("case has no instance")?;
    let result = set.validate(model, instance);
    // The per-model handle must agree with the set.
    let handle = set.get(model).ok_or("model missing from the set")?;
    if handle.validate(instance) != result {
        return Err("Schema::validate disagrees with SchemaSet::validate".into());
    }
    let mut checked = false;
    if let Some(valid) = case.get("valid") {
        checked = true;
        let valid = valid.as_bool().ok_or("valid must be a boolean")?;
        if result.is_ok() != valid {
            return Err(format!("expected valid={valid}, got {result:?}"));
        }
    }
    if let Some(errors) = case.get("errors") {
        checked = true;
        let expected: Vec<String> = errors
            .as_array()
            .ok_or("errors must be an array")?
            .iter()
            .map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .ok_or("errors must be strings")
            })
            .collect::<Result<_, _>>()?;
        let got = match &result {
            Ok(()) => Vec::new(),
            Err(e) => e.clone(),
        };
        if got != expected {
            return Err(format!("expected errors {expected:#?}\n got {got:#?}"));
        }
    }
    if let Some(s) = case.get("error_string") {
        checked = true;
        let got = schema::error_string(&result.clone().err().unwrap_or_default());
        if Some(got.as_str()) != s.as_str() {
            return Err(format!("expected error string {s}, got {got:?}"));
        }
    }
    if !checked {
        return Err("case checks nothing".into());
    }
    Ok(())
}

#[test]
fn schema_cases() {
    let cases: Vec<Value> = match serde_json::from_str(include_str!("schema_cases.json")) {
        Ok(c) => c,
        Err(e) => panic!("schema_cases.json: {e}"),
    };
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Err(e) = run_case(case) {
            failures.push(format!("case #{i} ({}): {e}", case["description"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---- cases that cannot be expressed as JSON data (serde_json parses at most 128 levels) ----

/// Drops a value without recursion (serde_json's drop of a very deep value would overflow the
/// test thread's stack).
fn drop_deep(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, x)| x)),
            _ => {}
        }
    }
}

fn compile(models: &[(&str, &str)]) -> SchemaSet {
    let models: Vec<(String, String)> = models
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    match SchemaSet::compile(&models) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn recursive_model_on_a_very_deep_instance_is_bounded() {
    let set = compile(&[(
        "Node",
        r#"{"type": "object", "properties": {"child": {"$ref": "https://apigateway.amazonaws.com/restapis/x/models/Node"}}}"#,
    )]);
    // 100 levels validate fine...
    let mut v = serde_json::json!({});
    for _ in 0..100 {
        let mut m = serde_json::Map::new();
        m.insert("child".into(), v);
        v = Value::Object(m);
    }
    assert_eq!(set.validate("Node", &v), Ok(()));
    // ...50 000 levels hit the depth limit instead of the stack.
    for _ in 0..49_900 {
        let mut m = serde_json::Map::new();
        m.insert("child".into(), v);
        v = Value::Object(m);
    }
    let errors = set.validate("Node", &v).err().unwrap_or_default();
    assert_eq!(
        errors,
        vec![format!(
            "validation depth limit exceeded (more than {} nested schema evaluations)",
            schema::MAX_VALIDATION_DEPTH
        )]
    );
    drop_deep(v);
}

#[test]
fn deep_instance_under_enum_and_unique_items_does_not_overflow() {
    let set = compile(&[
        ("E", r#"{"enum": [1, [2]]}"#),
        ("U", r#"{"uniqueItems": true}"#),
    ]);
    let mut deep = Value::Null;
    for _ in 0..50_000 {
        deep = Value::Array(vec![deep]);
    }
    let errors = set.validate("E", &deep).err().unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .starts_with("instance value (<array nested too deeply to print>) not found in enum"),
        "{}",
        errors[0]
    );
    let pair = Value::Array(vec![deep, Value::Bool(true)]);
    assert_eq!(set.validate("U", &pair), Ok(()));
    if let Value::Array(mut a) = pair {
        a.pop();
        if let Some(d) = a.pop() {
            drop_deep(d);
        }
    }
}
