//! Golden tests of the mapping layer: every `tests/golden/<area>/<case>.test` file renders one
//! mapping template through `portico_mapping::bindings::render` with API Gateway's `$input`,
//! `$util`, `$context` and `$stageVariables`, and compares the output byte for byte.
//!
//! File format (the same conventions as `crates/vtl/tests/golden.rs`): sections start with a
//! header line `--- <name>[: value]`:
//!
//! * `--- source: <aws-recorded | aws-docs | hand-written> <reference>` (required)
//! * `--- template` — the mapping template, exactly as rendered (no trimming)
//! * `--- input` (optional) — a JSON object
//!   `{"body": "...", "path": {...}, "querystring": {...}, "header": {...}}`; every part is
//!   optional (no body = empty body)
//! * `--- context` (optional) — a JSON object of `$context` values by dotted name
//!   (`{"identity.sourceIp": "192.0.2.1", "stage": "prod"}`); the override maps
//!   (`requestOverride.*`, `responseOverride.*`) are always there, as in API Gateway, and names
//!   under them seed those maps (as the data plane does for a response template after the
//!   request template set overrides)
//! * `--- stageVariables` (optional) — a JSON object of strings
//! * `--- overrides` (optional) — the overrides the template must leave in `$context`, read back
//!   with `bindings::overrides`: a JSON object with any of `requestOverride.header`,
//!   `requestOverride.querystring`, `requestOverride.path`, `responseOverride.header` (objects of
//!   strings) and `responseOverride.status` (a number); what is not given must be empty
//! * `--- expected` — the exact output, or `--- error` — a substring of the error, which is
//!   reported as `parse error: <msg>` or `render error: <msg>`
//!
//! A section's content is the text between its header line and the next header line (or the
//! end of the file) with the one newline that ends its last line removed: to expect a trailing
//! newline, leave one empty line before the next header.
//!
//! All failures are reported at once. `UPDATE_GOLDEN=1 cargo test -p portico-mapping --test
//! golden` rewrites the `expected` / `error` sections with the actual results (review the diff:
//! a rewritten expectation is only right if the new output is what API Gateway answers).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use portico_mapping::bindings::{self, Bindings, InputData, ParamLists};
use portico_vtl::{Limits, Map, Template, Value};

struct Case {
    /// (name, header value, content), in file order.
    sections: Vec<(String, String, String)>,
}

fn parse_case(text: &str) -> Case {
    let mut sections: Vec<(String, String, String)> = Vec::new();
    let mut cur: Option<(String, String, String)> = None;
    for line in text.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("--- ") {
            if let Some(c) = cur.take() {
                sections.push(c);
            }
            let h = h.trim_end_matches(['\n', '\r']);
            let (name, value) = match h.split_once(':') {
                Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
                None => (h.trim().to_string(), String::new()),
            };
            cur = Some((name, value, String::new()));
        } else if let Some(c) = cur.as_mut() {
            c.2.push_str(line);
        }
    }
    if let Some(c) = cur.take() {
        sections.push(c);
    }
    for s in &mut sections {
        if s.2.ends_with('\n') {
            s.2.pop();
        }
    }
    Case { sections }
}

impl Case {
    fn get(&self, name: &str) -> Option<&(String, String, String)> {
        self.sections.iter().find(|s| s.0 == name)
    }

    /// A JSON section, `Null` when absent or blank.
    fn json(&self, name: &str) -> Result<serde_json::Value, String> {
        match self.get(name) {
            Some(s) if !s.2.trim().is_empty() => serde_json::from_str(&s.2)
                .map_err(|e| format!("bad test file: `--- {name}` is not JSON: {e}")),
            _ => Ok(serde_json::Value::Null),
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "test") {
            out.push(p);
        }
    }
}

/// `{"name": "value", ...}` as ordered pairs (values must be strings).
fn pairs(v: &serde_json::Value, what: &str) -> Result<Vec<(String, String)>, String> {
    match v {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(format!(
                    "bad test file: {what}.{k} must be a string, not {other}"
                )),
            })
            .collect(),
        other => Err(format!(
            "bad test file: {what} must be an object, not {other}"
        )),
    }
}

/// The bindings a case describes.
fn bindings_of(case: &Case) -> Result<Bindings, String> {
    let input = case.json("input")?;
    if !(input.is_null() || input.is_object()) {
        return Err("bad test file: `--- input` must be a JSON object".into());
    }
    let body = match input.get("body") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(format!(
                "bad test file: input.body must be a string, not {other}"
            ));
        }
    };
    let data = InputData {
        body: bytes::Bytes::from(body),
        params: Rc::new(ParamLists {
            path: pairs(
                input.get("path").unwrap_or(&serde_json::Value::Null),
                "input.path",
            )?,
            querystring: pairs(
                input.get("querystring").unwrap_or(&serde_json::Value::Null),
                "input.querystring",
            )?,
            header: pairs(
                input.get("header").unwrap_or(&serde_json::Value::Null),
                "input.header",
            )?,
        }),
    };

    let context = case.json("context")?;
    let values: Vec<(String, Value)> = match &context {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect(),
        _ => return Err("bad test file: `--- context` must be a JSON object".into()),
    };
    let is_override =
        |k: &str| k.starts_with("requestOverride.") || k.starts_with("responseOverride.");
    let refs: Vec<(&str, Value)> = values
        .iter()
        .filter(|(k, _)| !is_override(k))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let context = bindings::context_map(&refs);
    for (k, v) in values.iter().filter(|(k, _)| is_override(k)) {
        set_dotted(&context, k, v.clone());
    }

    let stage = pairs(&case.json("stageVariables")?, "stageVariables")?;
    Ok(Bindings {
        input: data,
        context: Value::Map(context),
        stage_variables: Value::Map(bindings::string_map(
            stage.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )),
    })
}

/// Sets `a.b.c` inside `root`, entering (or creating) the maps on the way.
fn set_dotted(root: &Map, name: &str, value: Value) {
    let mut cur = root.clone();
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part, value);
            return;
        }
        cur = match cur.get(part) {
            Some(Value::Map(m)) => m,
            _ => {
                let m = Map::new();
                cur.insert(part, Value::Map(m.clone()));
                m
            }
        };
    }
}

/// What a template rendered, and the overrides it left in `$context`.
struct Rendered {
    output: Result<String, String>,
    overrides: serde_json::Value,
}

fn overrides_json(o: &bindings::Overrides) -> serde_json::Value {
    let obj = |pairs: &[(String, String)]| {
        serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    };
    serde_json::json!({
        "requestOverride.header": obj(&o.request_header),
        "requestOverride.querystring": obj(&o.request_querystring),
        "requestOverride.path": obj(&o.request_path),
        "responseOverride.header": obj(&o.response_header),
        "responseOverride.status": o.status,
    })
}

/// The `--- overrides` section, with what it leaves out filled in as empty.
fn expected_overrides(case: &Case) -> Result<Option<serde_json::Value>, String> {
    let given = case.json("overrides")?;
    if given.is_null() {
        return Ok(None);
    }
    let mut full = overrides_json(&bindings::Overrides::default());
    let (Some(given), Some(slots)) = (given.as_object(), full.as_object_mut()) else {
        return Err("bad test file: `--- overrides` must be a JSON object".into());
    };
    for (k, v) in given {
        match slots.get_mut(k) {
            Some(slot) => *slot = v.clone(),
            None => return Err(format!("bad test file: unknown override `{k}`")),
        }
    }
    Ok(Some(full))
}

/// Renders a case (`Err("parse error: …" | "render error: …")` when it fails); panics on a
/// broken test file.
fn run(case: &Case) -> Rendered {
    let template = case
        .get("template")
        .map(|s| s.2.clone())
        .unwrap_or_default();
    let b = bindings_of(case).unwrap_or_else(|e| panic!("{e}"));
    let output = match Template::parse(&template) {
        Err(e) => Err(format!("parse error: {e}")),
        Ok(t) => {
            bindings::render(&t, &b, &Limits::default()).map_err(|e| format!("render error: {e}"))
        }
    };
    Rendered {
        output,
        overrides: overrides_json(&bindings::overrides(
            b.context_map()
                .expect("the golden cases bind $context as a map"),
        )),
    }
}

fn rewrite(path: &Path, case: &Case, result: &Result<String, String>) {
    let mut out = String::new();
    for (name, value, content) in &case.sections {
        if name == "expected" || name == "error" {
            continue;
        }
        if value.is_empty() {
            out.push_str(&format!("--- {name}\n"));
        } else {
            out.push_str(&format!("--- {name}: {value}\n"));
        }
        out.push_str(content);
        out.push('\n');
    }
    let (name, content) = match result {
        Ok(s) => ("expected", s),
        Err(e) => ("error", e),
    };
    out.push_str(&format!("--- {name}\n{content}\n"));
    std::fs::write(path, out).expect("write golden file");
}

const SOURCES: [&str; 3] = ["aws-recorded", "aws-docs", "hand-written"];

#[test]
fn golden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files = Vec::new();
    collect(&root, &mut files);
    assert!(
        !files.is_empty(),
        "no golden cases found under {}",
        root.display()
    );
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read golden file");
        let case = parse_case(&text);
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        match case.get("source") {
            Some(s) if SOURCES.iter().any(|k| s.1.starts_with(k)) => {}
            _ => {
                failures.push(format!(
                    "{rel}: `--- source:` must start with one of {SOURCES:?} and give a reference"
                ));
                continue;
            }
        }
        if case.get("template").is_none() {
            failures.push(format!("{rel}: no `--- template` section"));
            continue;
        }
        let rendered = match std::panic::catch_unwind(|| run(&case)) {
            Ok(r) => r,
            Err(e) => {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{rel}: PANIC {why}"));
                continue;
            }
        };
        let result = rendered.output;
        match expected_overrides(&case) {
            Err(e) => failures.push(format!("{rel}: {e}")),
            Ok(Some(want)) if want != rendered.overrides => failures.push(format!(
                "{rel}: overrides differ\n  expected: {want}\n  actual:   {}",
                rendered.overrides
            )),
            Ok(_) => {}
        }
        if update {
            rewrite(f, &case, &result);
            continue;
        }
        match (case.get("expected"), case.get("error"), &result) {
            (Some(exp), _, Ok(out)) if &exp.2 == out => {}
            (None, Some(err), Err(e)) if e.contains(err.2.as_str()) => {}
            (Some(exp), _, r) => failures.push(format!(
                "{rel}:\n  expected: {:?}\n  actual:   {:?}",
                exp.2, r
            )),
            (None, Some(err), r) => failures.push(format!(
                "{rel}:\n  expected an error containing: {:?}\n  actual: {:?}",
                err.2, r
            )),
            (None, None, r) => failures.push(format!(
                "{rel}: no `--- expected` / `--- error` section; actual {r:?}"
            )),
        }
    }
    println!("{} golden cases", files.len());
    if !failures.is_empty() {
        panic!(
            "{} of {} golden cases failed:\n{}",
            failures.len(),
            files.len(),
            failures.join("\n")
        );
    }
}
