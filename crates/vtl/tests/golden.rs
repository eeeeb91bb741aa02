//! Golden tests: every `tests/golden/**/*.test` file is one case.
//!
//! File format: sections start with a header line `--- <name>[: value]`:
//!
//! * `--- source: <where the expectation comes from>` (required)
//! * `--- options: k=v, ...` (optional): `null=empty` (API Gateway null
//!   rendering), `max_foreach=N`, `max_output=N`, `max_steps=N`, `max_depth=N`
//! * `--- template`, `--- context` (a JSON object, optional)
//! * `--- expected` (exact output) or `--- error` (a substring of the error,
//!   which is rendered as `parse error: <msg>` or `render error: <msg>`)
//!
//! A section's content is the text between its header line and the next
//! header line (or the end of the file) with the one newline that ends its
//! last line removed. So content never ends in that newline: to express a
//! trailing newline, leave one empty line before the next header.
//!
//! `UPDATE_GOLDEN=1 cargo test -p portico-vtl --test golden` rewrites the
//! `expected` / `error` sections with the actual results.

use std::path::{Path, PathBuf};

use portico_vtl::{Context, Limits, NullRendering, Template, Value};

struct Case {
    sections: Vec<(String, String, String)>, // (name, header value, content)
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

fn run(case: &Case) -> Result<String, String> {
    let template = case
        .get("template")
        .map(|s| s.2.clone())
        .unwrap_or_default();
    let mut limits = Limits::default();
    let mut ctx = Context::new();
    if let Some(o) = case.get("options") {
        for opt in o.1.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
            let n = || v.parse::<u64>().unwrap_or(0);
            match k {
                "null" if v == "empty" => ctx.set_null_rendering(NullRendering::Empty),
                "max_foreach" => limits.max_foreach_iterations = n() as usize,
                "max_output" => limits.max_output_bytes = n() as usize,
                "max_steps" => limits.max_steps = n(),
                "max_depth" => limits.max_depth = n() as usize,
                other => panic!("unknown option {other}"),
            }
        }
    }
    if let Some(c) = case.get("context")
        && !c.2.trim().is_empty()
    {
        let json: serde_json::Value = serde_json::from_str(&c.2).expect("context must be JSON");
        for (k, v) in json.as_object().expect("context must be a JSON object") {
            ctx.insert(k.clone(), Value::from_json(v));
        }
    }
    let t = Template::parse(&template).map_err(|e| format!("parse error: {e}"))?;
    t.render(&mut ctx, &limits)
        .map_err(|e| format!("render error: {e}"))
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
    match result {
        Ok(s) => {
            out.push_str("--- expected\n");
            out.push_str(s);
            out.push('\n');
        }
        Err(e) => {
            out.push_str("--- error\n");
            out.push_str(e);
            out.push('\n');
        }
    }
    std::fs::write(path, out).expect("write golden file");
}

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
        if case.get("source").is_none_or(|s| s.1.is_empty()) {
            failures.push(format!("{rel}: missing `--- source:` header"));
            continue;
        }
        let result = std::panic::catch_unwind(|| run(&case));
        let result = match result {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{rel}: PANIC"));
                continue;
            }
        };
        if update {
            rewrite(f, &case, &result);
            continue;
        }
        match (case.get("expected"), case.get("error"), &result) {
            (Some(exp), _, Ok(out)) if &exp.2 == out => {}
            (_, Some(err), Err(e)) if e.contains(err.2.as_str()) => {}
            (Some(exp), _, r) => failures.push(format!(
                "{rel}:\n  expected: {:?}\n  actual:   {:?}",
                exp.2, r
            )),
            (None, Some(err), r) => failures.push(format!(
                "{rel}:\n  expected error containing: {:?}\n  actual: {:?}",
                err.2, r
            )),
            (None, None, r) => {
                failures.push(format!("{rel}: no expected/error section; actual {r:?}"))
            }
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
