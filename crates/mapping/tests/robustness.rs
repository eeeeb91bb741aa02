//! Random and mutated inputs for `JsonPath::parse`/`eval` and `SchemaSet::compile`/`validate`:
//! nothing may panic or overflow the stack, and a few invariants must hold. Deterministic
//! (fixed seeds, tiny xorshift generator, no dependencies).

use portico_mapping::jsonpath::JsonPath;
use portico_mapping::schema::{self, SchemaSet};
use serde_json::{Map, Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const CHARS: &[char] = &[
    '$', '@', '.', '[', ']', '\'', '"', '*', '?', '(', ')', ':', ',', '-', ' ', '=', '<', '>', '!',
    '&', '|', '~', '/', '\\', '{', '}', 'a', 'b', 'x', '0', '1', '9', 'i', 'é', '😀', '\u{0}',
    '\t', '^', '+',
];

/// Random insert / delete / replace of characters.
fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..=rng.below(4) {
        let pos = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => chars.insert(pos, *rng.pick(CHARS)),
            1 if pos < chars.len() => {
                chars.remove(pos);
            }
            _ if pos < chars.len() => chars[pos] = *rng.pick(CHARS),
            _ => chars.push(*rng.pick(CHARS)),
        }
    }
    chars.into_iter().collect()
}

fn random_json(rng: &mut Rng, depth: usize) -> Value {
    let kind = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(7)
    };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(rng.below(20) as i64 - 5),
        3 => json!((rng.below(2000) as f64) / 7.0),
        4 => Value::String(
            [
                "a",
                "b",
                "x-a",
                "",
                "abc",
                "😀",
                "2024-01-01T00:00:00Z",
                "a@b",
            ][rng.below(8)]
            .to_string(),
        ),
        5 => Value::Array(
            (0..rng.below(5))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(5) {
                let k = ["a", "b", "c", "name", "x-a", "0", "price"][rng.below(7)];
                m.insert(k.to_string(), random_json(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

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

fn case_strings(file: &str, key: &str) -> Vec<String> {
    let cases: Vec<Value> = serde_json::from_str(file).unwrap_or_default();
    cases
        .iter()
        .filter_map(|c| c.get(key))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn check_path(p: &JsonPath, docs: &[Value]) {
    for doc in docs {
        let r = p.eval(doc);
        if !p.is_definite() {
            assert!(
                matches!(r, None | Some(Value::Array(_))),
                "indefinite path {:?} returned a non-array",
                p.as_str()
            );
        }
        if let Some(v) = r {
            drop_deep(v);
        }
    }
}

#[test]
fn jsonpath_random_and_mutated_inputs() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seeds = case_strings(include_str!("jsonpath_cases.json"), "path");
    assert!(seeds.len() > 50);
    let mut deep = json!({"a": 1});
    for i in 0..2_000 {
        deep = if i % 2 == 0 {
            Value::Array(vec![deep, json!(i)])
        } else {
            let mut m = Map::new();
            m.insert("a".to_string(), deep);
            Value::Object(m)
        };
    }
    let mut docs = vec![
        json!({"store": {"book": [{"price": 1, "a": [1, 2]}, {"price": 20}], "x": null}, "expensive": 10}),
        json!([1, "a", [2, [3, {"a": {"a": null}}]], {"0": 0}]),
        deep,
    ];
    for _ in 0..8 {
        docs.push(random_json(&mut rng, 5));
    }
    let tokens = [
        "$",
        "@",
        ".",
        "..",
        "[",
        "]",
        "['a']",
        "[\"b\"]",
        "*",
        "[*]",
        "[0]",
        "[-1]",
        "[1:]",
        "[:2]",
        "[0,1]",
        "a",
        "price",
        "length()",
        "sum()",
        "[?(",
        ")]",
        "@.a",
        "@.price",
        " < ",
        " == ",
        " =~ /a.*/i",
        "'x'",
        "1",
        " && ",
        " || ",
        "!",
        "(",
        ")",
        " in ['a', 1]",
        " size 2",
        "$..",
        "[?(@)]",
        "['a','b']",
        "\\",
        "'",
        "{",
        "}",
    ];
    let mut parsed = 0;
    for i in 0..4_000 {
        let expr = if i % 2 == 0 {
            let seed = rng.pick(&seeds).clone();
            mutate(&mut rng, &seed)
        } else {
            let n = 1 + rng.below(12);
            let mut s = String::new();
            for _ in 0..n {
                let t: &&str = rng.pick(&tokens[..]);
                s.push_str(t);
            }
            s
        };
        if let Ok(p) = JsonPath::parse(&expr) {
            parsed += 1;
            check_path(&p, &docs);
        }
    }
    // the generator must produce both valid and invalid paths for this test to mean anything
    assert!(parsed > 400 && parsed < 3_900, "parsed {parsed}");
    for d in docs {
        drop_deep(d);
    }
}

fn random_schema(rng: &mut Rng, depth: usize, names: &[&str]) -> Value {
    let mut m = Map::new();
    for _ in 0..rng.below(4) {
        let kw = *rng.pick(&[
            "type",
            "enum",
            "minimum",
            "maximum",
            "exclusiveMaximum",
            "multipleOf",
            "minLength",
            "maxLength",
            "pattern",
            "items",
            "additionalItems",
            "minItems",
            "uniqueItems",
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "dependencies",
            "allOf",
            "anyOf",
            "oneOf",
            "not",
            "$ref",
            "format",
            "maxProperties",
        ]);
        let sub = |rng: &mut Rng| {
            if depth == 0 {
                json!({})
            } else {
                random_schema(rng, depth - 1, names)
            }
        };
        let v = match kw {
            "type" => json!(rng.pick(&[
                "string", "integer", "number", "object", "array", "null", "boolean"
            ])),
            "enum" => json!([random_json(rng, 1), rng.below(3)]),
            "minimum" | "maximum" => json!(rng.below(10) as f64 / 2.0),
            "exclusiveMaximum" | "uniqueItems" => json!(rng.chance(50)),
            "multipleOf" => json!(1 + rng.below(4)),
            "minLength" | "maxLength" | "minItems" | "maxProperties" => json!(rng.below(4)),
            "pattern" => json!(rng.pick(&["^a", "b+", "[0-9]{2}", "\\d", "(x|y)*$", "[^]", "a{"])),
            "items" | "additionalItems" | "additionalProperties" | "not" => sub(rng),
            "properties" | "patternProperties" | "dependencies" => {
                let mut p = Map::new();
                p.insert(rng.pick(&["a", "b", "^x-"]).to_string(), sub(rng));
                Value::Object(p)
            }
            "required" => json!([rng.pick(&["a", "b", "name"])]),
            "allOf" | "anyOf" | "oneOf" => json!([sub(rng), sub(rng)]),
            "$ref" => {
                let target = rng.pick(names);
                if rng.chance(30) {
                    json!("#")
                } else {
                    json!(format!(
                        "https://apigateway.amazonaws.com/restapis/r/models/{target}"
                    ))
                }
            }
            _ => json!(rng.pick(&["email", "date-time", "ipv4", "uri", "regex", "nope"])),
        };
        m.insert(kw.to_string(), v);
    }
    Value::Object(m)
}

fn check_set(set: &SchemaSet, instances: &[Value]) {
    let names: Vec<String> = set.names().map(str::to_string).collect();
    for name in &names {
        for inst in instances {
            let r = set.validate(name, inst);
            if let Err(errors) = &r {
                assert!(
                    !errors.is_empty() && errors.iter().all(|e| !e.is_empty()),
                    "{errors:?}"
                );
                let s = schema::error_string(errors);
                assert!(s.starts_with('[') && s.ends_with(']'));
            }
            assert_eq!(
                r,
                set.validate(name, inst),
                "validation must be deterministic"
            );
        }
    }
}

#[test]
fn schema_random_and_mutated_inputs() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut instances: Vec<Value> = (0..12).map(|_| random_json(&mut rng, 4)).collect();
    let mut chain = json!({"a": 1});
    for _ in 0..3_000 {
        let mut m = Map::new();
        m.insert("a".to_string(), chain);
        m.insert("b".to_string(), json!([1]));
        chain = Value::Object(m);
    }
    instances.push(chain);

    // 1. mutated texts of the schemas in the case file
    let texts: Vec<String> = case_strings(include_str!("schema_cases.json"), "schema");
    assert!(texts.len() > 50);
    let mut compiled = 0;
    for _ in 0..1_500 {
        let seed = rng.pick(&texts).clone();
        let text = mutate(&mut rng, &seed);
        if let Ok(set) = SchemaSet::compile(&[("M".to_string(), text)]) {
            compiled += 1;
            check_set(&set, &instances[..4]);
        }
    }
    assert!(compiled > 100 && compiled < 1_500, "compiled {compiled}");

    // 2. random model sets with cross-references (cycles included)
    let names = ["A", "B", "C"];
    let mut ok = 0;
    for _ in 0..600 {
        let models: Vec<(String, String)> = names
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    random_schema(&mut rng, 3, &names).to_string(),
                )
            })
            .collect();
        if let Ok(set) = SchemaSet::compile(&models) {
            ok += 1;
            check_set(&set, &instances);
        }
    }
    assert!(ok > 100, "only {ok} random model sets compiled");
    for i in instances {
        drop_deep(i);
    }
}

#[test]
fn random_regex_patterns() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let alphabet = [
        "a", "b", "\\", "\\d", "\\w", "\\b", "\\u00e9", "\\x4", "\\c", "\\0", "\\1", "[", "]", "^",
        "$", "(", ")", "(?:", "(?=", "(?<n>", "{", "}", "{2}", "{1,", ",", "*", "+", "?", "|", ".",
        "-", "&&", "~", "/", "\\/", "<", ">", "😀",
    ];
    let mut compiled = 0;
    for _ in 0..3_000 {
        let mut p = String::new();
        for _ in 0..1 + rng.below(8) {
            let t: &&str = rng.pick(&alphabet[..]);
            p.push_str(t);
        }
        let schema = json!({"pattern": p, "patternProperties": {p.clone(): {}}}).to_string();
        if let Ok(set) = SchemaSet::compile(&[("P".to_string(), schema)]) {
            compiled += 1;
            for inst in [json!("abc"), json!({"a": 1, "😀": 2}), json!("a\\b")] {
                let _ = set.validate("P", &inst);
            }
        }
        let set = SchemaSet::compile(&[("F".to_string(), r#"{"format": "regex"}"#.to_string())]);
        if let Ok(set) = set {
            let _ = set.validate("F", &Value::String(p));
        }
    }
    assert!(compiled > 300 && compiled < 3_000, "compiled {compiled}");
}
