//! Runs `jsonpath_cases.json`: Jayway JsonPath semantics as API Gateway uses them.
//!
//! Each case: `source`, `ref`, `path`, `doc`, and one expectation: `parse_error: true`,
//! `not_found: true` (evaluation gives `None`), or `expected` (the value `eval` returns);
//! optionally `definite` (what `is_definite` says).

use portico_mapping::jsonpath::JsonPath;
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
    let path = case["path"].as_str().ok_or("path must be a string")?;
    let doc = case.get("doc").ok_or("missing doc")?;
    let parsed = JsonPath::parse(path);
    if case.get("parse_error").and_then(Value::as_bool) == Some(true) {
        return match parsed {
            Ok(p) => Err(format!("expected a parse error, parsed as {p:?}")),
            Err(e) if e.is_empty() => Err("empty parse error message".into()),
            Err(_) => Ok(()),
        };
    }
    let p = parsed.map_err(|e| format!("parse error: {e}"))?;
    if let Some(d) = case.get("definite") {
        let d = d.as_bool().ok_or("definite must be a boolean")?;
        if p.is_definite() != d {
            return Err(format!("expected is_definite() = {d}"));
        }
    }
    let got = p.eval(doc);
    if case.get("not_found").and_then(Value::as_bool) == Some(true) {
        return match got {
            None => Ok(()),
            Some(v) => Err(format!("expected not found, got {v}")),
        };
    }
    let expected = case.get("expected").ok_or("case checks nothing")?;
    match got {
        Some(v) if &v == expected => Ok(()),
        Some(v) => Err(format!("expected {expected}, got {v}")),
        None => Err(format!("expected {expected}, got not found")),
    }
}

#[test]
fn jsonpath_cases() {
    let cases: Vec<Value> = match serde_json::from_str(include_str!("jsonpath_cases.json")) {
        Ok(c) => c,
        Err(e) => panic!("jsonpath_cases.json: {e}"),
    };
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Err(e) = run_case(case) {
            failures.push(format!("case #{i} ({}): {e}", case["path"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
