//! Rendering cost of mapping templates (issue #3): a typical request template, and a 1 MB
//! `$input.json('$')` passthrough. `cargo bench -p portico-mapping`.

use std::hint::black_box;
use std::rc::Rc;

use criterion::{Criterion, criterion_group, criterion_main};
use portico_mapping::bindings::{self, Bindings, InputData, ParamLists};
use portico_vtl::{Limits, Template, Value};

const TYPICAL: &str = r##"#set($inputRoot = $input.path('$'))
{
  "requestId": "$context.requestId",
  "stage": "$context.stage",
  "sourceIp": "$context.identity.sourceIp",
  "petId": "$input.params('petId')",
  "auth": "$util.escapeJavaScript($input.params('Authorization'))",
  "name": "$inputRoot.name",
  "tags": [
#foreach($tag in $inputRoot.tags)
    "$util.escapeJavaScript($tag)"#if($foreach.hasNext),#end
#end
  ],
  "price": $input.json('$.price')
}"##;

fn bindings_with(body: String) -> Bindings {
    Bindings {
        input: InputData {
            body: bytes::Bytes::from(body),
            params: Rc::new(ParamLists {
                path: vec![("petId".into(), "42".into())],
                querystring: vec![("q".into(), "dogs".into())],
                header: vec![("Authorization".into(), "Bearer 'abc'".into())],
            }),
        },
        context: Value::Map(bindings::context_map(&[
            (
                "requestId",
                Value::String(Rc::from("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")),
            ),
            ("stage", Value::String(Rc::from("prod"))),
            ("identity.sourceIp", Value::String(Rc::from("127.0.0.1"))),
        ])),
        stage_variables: Value::Map(bindings::string_map([("env", "prod")])),
    }
}

fn typical(c: &mut Criterion) {
    let t = Template::parse(TYPICAL).expect("template parses");
    let body = r#"{"name": "Rex", "tags": ["good", "boy", "dog's"], "price": 249.99}"#.to_string();
    let limits = Limits::default();
    c.bench_function("render typical request template", |b| {
        b.iter(|| {
            let bind = bindings_with(body.clone());
            black_box(bindings::render(&t, &bind, &limits).expect("renders"))
        })
    });
}

fn passthrough_1mb(c: &mut Criterion) {
    let t = Template::parse("$input.json('$')").expect("template parses");
    let item = r#"{"id": 12345, "name": "item name", "tags": ["a", "b"], "price": 10.5},"#;
    let mut body = String::from("[");
    while body.len() < 1024 * 1024 {
        body.push_str(item);
    }
    body.push_str(r#"{"id": 0}]"#);
    let limits = Limits::default();
    c.bench_function("render $input.json('$') of a 1 MB body", |b| {
        b.iter(|| {
            let bind = bindings_with(body.clone());
            black_box(bindings::render(&t, &bind, &limits).expect("renders"))
        })
    });
}

criterion_group!(benches, typical, passthrough_1mb);
criterion_main!(benches);
