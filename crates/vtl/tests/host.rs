//! Host objects (how the embedding crate exposes `$input`, `$util`, ...).

use std::cell::RefCell;
use std::rc::Rc;

use portico_vtl::{
    Context, HostObject, Limits, List, ListStyle, Map, NullRendering, RenderError, Template, Value,
};

struct Input {
    body: String,
    set: RefCell<Vec<(String, String)>>,
}

impl HostObject for Input {
    fn property(&self, name: &str) -> Option<Value> {
        match name {
            "body" => Some(Value::from(self.body.as_str())),
            _ => None,
        }
    }
    fn call(&self, method: &str, args: &[Value]) -> Result<Option<Value>, String> {
        match (method, args) {
            ("params", [Value::String(n)]) => Ok(Some(Value::from(format!("param:{n}")))),
            ("path", [_]) => Ok(Some(Value::List(List::with_style(
                vec![Value::from("a"), Value::Int(1), Value::Null],
                ListStyle::Json,
            )))),
            ("fail", _) => Err("java.lang.IllegalStateException: boom".into()),
            ("nothing", _) => Ok(Some(Value::Null)),
            ("getStage", []) => Ok(Some(Value::from("prod"))),
            _ => Ok(None),
        }
    }
    fn render(&self) -> String {
        "input-object".into()
    }
    fn set_property(&self, name: &str, value: Value) -> bool {
        self.set
            .borrow_mut()
            .push((name.to_string(), value.render()));
        true
    }
    fn iterate(&self) -> Option<Vec<Value>> {
        Some(vec![Value::from("x"), Value::from("y")])
    }
}

fn render(t: &str, input: Rc<Input>, mode: NullRendering) -> Result<String, RenderError> {
    let mut ctx = Context::new();
    ctx.set_null_rendering(mode);
    ctx.insert("input", Value::Object(input));
    Template::parse(t)
        .expect("parses")
        .render(&mut ctx, &Limits::default())
}

fn input() -> Rc<Input> {
    Rc::new(Input {
        body: "{\"a\":1}".into(),
        set: RefCell::new(Vec::new()),
    })
}

#[test]
fn properties_methods_and_getters() {
    let i = input();
    let out = render(
        "$input.body|$input.getBody()|$input.params('id')|$input.stage|$input.getStage()|$input|$input.missing|$input.nope()",
        i,
        NullRendering::Literal,
    )
    .expect("renders");
    assert_eq!(
        out,
        "{\"a\":1}|{\"a\":1}|param:id|prod|prod|input-object|$input.missing|$input.nope()"
    );
}

#[test]
fn null_results_follow_the_null_rendering_mode() {
    let t = "[$input.nothing()][$input.missing][$!input.missing]";
    assert_eq!(
        render(t, input(), NullRendering::Literal).expect("renders"),
        "[$input.nothing()][$input.missing][]"
    );
    assert_eq!(
        render(t, input(), NullRendering::Empty).expect("renders"),
        "[][][]"
    );
}

#[test]
fn json_style_lists_print_as_json_and_behave_as_lists() {
    let out = render(
        "$input.path('$') $input.path('$').size() $input.path('$').get(0) #foreach($x in $input.path('$'))<$x>#end",
        input(),
        NullRendering::Literal,
    )
    .expect("renders");
    assert_eq!(out, "[\"a\",1,null] 3 a <a><1><$x>");
}

#[test]
fn method_errors_become_render_errors() {
    let err = render("ok\n  $input.fail()", input(), NullRendering::Literal).expect_err("fails");
    match err {
        RenderError::Method {
            line,
            column,
            message,
        } => {
            assert_eq!((line, column), (2, 3));
            assert!(message.contains("boom"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn set_property_and_iteration() {
    let i = input();
    let out = render(
        "#set($input.header = 'v')#foreach($x in $input)$x#end",
        i.clone(),
        NullRendering::Literal,
    )
    .expect("renders");
    assert_eq!(out, "xy");
    assert_eq!(
        i.set.borrow().as_slice(),
        &[("header".to_string(), "v".to_string())]
    );
}

#[test]
fn context_keeps_global_sets_and_maps_are_shared() {
    let m = Map::new();
    m.insert("k", Value::from("v"));
    let mut ctx = Context::new();
    ctx.insert("m", Value::Map(m.clone()));
    let t = Template::parse("#set($x = 5)#set($m.added = 'yes')$m.put('k', 'w')").expect("parses");
    let out = t.render(&mut ctx, &Limits::default()).expect("renders");
    assert_eq!(out, "v");
    assert!(matches!(ctx.get("x"), Some(Value::Int(5))));
    assert_eq!(m.get("added").map(|v| v.render()), Some("yes".to_string()));
    assert_eq!(m.get("k").map(|v| v.render()), Some("w".to_string()));
}

#[test]
fn json_round_trip() {
    let json = serde_json::json!({"a": [1, 2.5, "x", null, true], "b": {"c": {}}, "n": 1e300, "big": 12345678901234i64});
    let v = Value::from_json(&json);
    assert_eq!(v.to_json(), json);
    assert_eq!(
        v.render(),
        "{a=[1, 2.5, x, null, true], b={c={}}, n=1.0E300, big=12345678901234}"
    );
}
