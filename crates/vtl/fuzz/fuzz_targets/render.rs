#![no_main]
//! Parse + render arbitrary templates with small limits against a fixed
//! context: must never panic and must respect the output limit.

use libfuzzer_sys::fuzz_target;
use portico_vtl::{Context, Limits, NullRendering, Template, Value};

fn context(empty: bool) -> Context {
    let json = serde_json::json!({
        "a": "A", "b": 2, "f": 1.5, "s": "a,b,c", "e": "",
        "l": [1, "two", 3.5, null, {"k": [1, 2]}],
        "m": {"k": "v", "n": 1, "z": null, "o": {"p": "q"}},
    });
    let mut c = Context::new();
    if let Some(o) = json.as_object() {
        for (k, v) in o {
            c.insert(k.clone(), Value::from_json(v));
        }
    }
    if empty {
        c.set_null_rendering(NullRendering::Empty);
    }
    c
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(src) = std::str::from_utf8(rest) else { return };
    let Ok(t) = Template::parse(src) else { return };
    let limits = Limits {
        max_template_bytes: 64 * 1024,
        max_foreach_iterations: 100,
        max_output_bytes: 64 * 1024,
        max_depth: 16,
        max_steps: 200_000,
    };
    let mut ctx = context(mode & 1 == 1);
    if let Ok(out) = t.render(&mut ctx, &limits) {
        assert!(out.len() <= limits.max_output_bytes);
    }
});
