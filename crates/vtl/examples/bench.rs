//! Rough timing of parse and render for a typical API Gateway mapping
//! template. `cargo run --release -p portico-vtl --example bench`

use std::time::Instant;

use portico_vtl::{Context, Limits, NullRendering, Template, Value};

const TEMPLATE: &str = r#"#set($inputRoot = $body)
#set($allParams = $params)
{
  "body-json" : $json,
  "params" : {
  #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
  "$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$params.get($paramName).replaceAll('"', '\\"')"
        #if($foreach.hasNext),#end
    #end
  }
    #if($foreach.hasNext),#end
  #end
  },
  "items": [
#foreach($elem in $inputRoot.items)
    {
      "description" : "Item $elem.id is a $elem.type.",
      "askingPrice" : $elem.price,
      "tags": "$elem.tags.toString()"
    }#if($foreach.hasNext),#end

#end
  ],
  "context" : {
    "http-method" : "$context.httpMethod",
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "request-id" : "$context.requestId",
    "resource-path" : "$context.resourcePath"
  }
}
"#;

fn main() {
    let json = serde_json::json!({
        "body": {"items": [
            {"id": 1, "type": "dog", "price": 249.99, "tags": ["a", "b"]},
            {"id": 2, "type": "cat", "price": 124.99, "tags": []},
            {"id": 3, "type": "fish", "price": 0.99, "tags": ["c"]}
        ]},
        "json": "{\"a\": 1}",
        "params": {"path": {"id": "42"}, "querystring": {"q": "x\"y", "n": "1"}, "header": {"Accept": "*/*", "Host": "example.com"}},
        "context": {"httpMethod": "POST", "stage": "prod", "requestId": "abc-123", "resourcePath": "/pets/{id}",
                    "identity": {"sourceIp": "1.2.3.4", "userAgent": "curl/8"}}
    });
    let n = 20_000;
    let start = Instant::now();
    let mut t = None;
    for _ in 0..1000 {
        t = Some(Template::parse(TEMPLATE).expect("parses"));
    }
    let parse = start.elapsed() / 1000;
    let t = t.expect("template");
    let base: Vec<(String, Value)> = json
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect()
        })
        .unwrap_or_default();
    let limits = Limits::default();
    let mut len = 0;
    let start = Instant::now();
    for _ in 0..n {
        let mut ctx = Context::new();
        ctx.set_null_rendering(NullRendering::Empty);
        for (k, v) in &base {
            ctx.insert(k.clone(), v.clone());
        }
        len = t.render(&mut ctx, &limits).expect("renders").len();
    }
    let render = start.elapsed() / n;
    println!(
        "template {} bytes: parse {:?}, render {:?} ({} bytes out)",
        TEMPLATE.len(),
        parse,
        render,
        len
    );
}
