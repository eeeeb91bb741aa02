//! Renders a JSON array of cases `[{"name", "template", "context", "null_empty"}]`
//! (the input format of `tools/oracle/VelocityOracle.java`) and prints the
//! results as JSON, for differential testing against the Java engine.

use portico_vtl::{Context, Limits, NullRendering, Template, Value};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    for c in cases.as_array().cloned().unwrap_or_default() {
        let name = c["name"].as_str().unwrap_or("").to_string();
        let template = c["template"].as_str().unwrap_or("");
        let mut ctx = Context::new();
        if let Some(obj) = c["context"].as_object() {
            for (k, v) in obj {
                ctx.insert(k.clone(), Value::from_json(v));
            }
        }
        if c["null_empty"].as_bool() == Some(true) {
            ctx.set_null_rendering(NullRendering::Empty);
        }
        let res = match Template::parse(template) {
            Err(e) => serde_json::json!({"name": name, "error": format!("parse: {e}")}),
            Ok(t) => match t.render(&mut ctx, &Limits::default()) {
                Ok(s) => serde_json::json!({"name": name, "output": s}),
                Err(e) => serde_json::json!({"name": name, "error": format!("render: {e}")}),
            },
        };
        out.push(res);
    }
    println!("{}", serde_json::Value::Array(out));
}
