//! Every OpenAPI document recorded against AWS imports; exporting the result (as 2.0 and as
//! 3.0) and importing that again yields the same API, ids aside. A generated family of APIs
//! checks the same property over combinations the recorded documents do not cover.

use std::path::PathBuf;

use portico_model::document::RestApiDocument;
use portico_openapi::{ExportOptions, ImportOptions, Version, export, import, parse};
use serde_json::{Map, Value, json};

fn oracle_dir() -> PathBuf {
    std::env::var_os("PORTICO_OPENAPI_ORACLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/oracles/aws-recorded/openapi")
        })
}

const LAMBDA_ARN: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations";

fn options(version: Version) -> ExportOptions {
    ExportOptions {
        version,
        integrations: false,
        authorizers: false,
        apigateway: false,
        stage: "dev".into(),
        host: "abc.execute-api.us-east-1.amazonaws.com".into(),
        scheme: "https".into(),
        default_version: "2026-01-01T00:00:00Z".into(),
    }
    .with_extensions("apigateway")
}

/// The document with ids replaced by what they point at, so two imports compare equal.
fn normalize(doc: &RestApiDocument) -> Value {
    let authorizer_name = |id: &str| {
        doc.authorizers
            .get(id)
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| format!("missing:{id}"))
    };
    let validator_name = |id: &str| {
        doc.request_validators
            .get(id)
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| format!("missing:{id}"))
    };
    let mut resources = Map::new();
    for (rid, r) in &doc.resources {
        let mut methods = Map::new();
        for (hm, m) in r.resource_methods.iter().flatten() {
            let mut m = m.clone();
            m.authorizer_id = m.authorizer_id.as_deref().map(authorizer_name);
            m.request_validator_id = m.request_validator_id.as_deref().map(validator_name);
            if let Some(i) = m.method_integration.as_mut()
                && i.cache_namespace.as_deref() == Some(rid)
            {
                i.cache_namespace = None;
            }
            methods.insert(hm.clone(), serde_json::to_value(&m).unwrap());
        }
        resources.insert(r.path.clone().unwrap(), Value::Object(methods));
    }
    let models: Map<String, Value> = doc
        .models
        .iter()
        .map(|(n, m)| {
            let schema: Value = serde_json::from_str(m.schema.as_deref().unwrap()).unwrap();
            (n.clone(), json!({"schema": schema, "description": m.description, "contentType": m.content_type}))
        })
        .collect();
    let authorizers: Map<String, Value> = doc
        .authorizers
        .values()
        .map(|a| {
            let mut a = a.clone();
            a.id = None;
            (a.name.clone().unwrap(), serde_json::to_value(a).unwrap())
        })
        .collect();
    let validators: Map<String, Value> = doc
        .request_validators
        .values()
        .map(|v| {
            let mut v = v.clone();
            v.id = None;
            (v.name.clone().unwrap(), serde_json::to_value(v).unwrap())
        })
        .collect();
    let mut api = doc.api.clone();
    if api.api_key_source.as_deref() == Some("HEADER") {
        api.api_key_source = None;
    }
    json!({
        "api": api,
        "resources": resources,
        "models": models,
        "authorizers": authorizers,
        "validators": validators,
        "gatewayResponses": doc.gateway_responses,
    })
}

/// The value with every object's keys in order, so that pretty-printed lines line up.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn import_value(v: &Value) -> RestApiDocument {
    import(
        v,
        &ImportOptions {
            api_id: "api0000000".into(),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("import failed: {e}\n{v:#}"))
    .doc
}

fn assert_round_trips(name: &str, doc: &RestApiDocument) {
    for version in [Version::Swagger2, Version::OpenApi3] {
        let exported = export(doc, &options(version));
        let mut again = import_value(&exported);
        // OpenAPI requires info.version, so an API without one comes back with "1.0".
        if doc.api.version.is_none() {
            again.api.version = None;
        }
        let (a, b) = (normalize(doc), normalize(&again));
        if a != b {
            let (pa, pb) = (format!("{:#}", sorted(&a)), format!("{:#}", sorted(&b)));
            let diff: Vec<String> = pa
                .lines()
                .zip(pb.lines())
                .enumerate()
                .filter(|(_, (x, y))| x != y)
                .take(10)
                .map(|(n, (x, y))| format!("line {n}: before `{x}` after `{y}`"))
                .collect();
            panic!(
                "{name}: {version:?} export does not round-trip\n{}\nexported: {exported:#}",
                diff.join("\n")
            );
        }
        // And through text, as a client would send it.
        let text = serde_json::to_vec(&exported).unwrap();
        let mut through_text = import_value(&parse(&text).unwrap());
        through_text.api.version.clone_from(&again.api.version);
        assert_eq!(normalize(&through_text), a);
    }
}

#[test]
fn recorded_documents_import_and_round_trip() {
    let dir = oracle_dir();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        // The recorded tests substitute these placeholders before importing.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(
                "${uri}",
                "http://petstore.execute-api.us-east-1.amazonaws.com/petstore/pets",
            )
            .replace("${lambda_invocation_arn}", LAMBDA_ARN)
            .replace("${authorizer_lambda_invocation_arn}", LAMBDA_ARN)
            .replace(
                "${cognito_pool_arn}",
                "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_ABC123",
            );
        let bytes = text.into_bytes();
        let value = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let imported = import(
            &value,
            &ImportOptions {
                api_id: "api0000000".into(),
                ..Default::default()
            },
        );
        let doc = match imported {
            Ok(i) => i.doc,
            Err(e) => panic!("{} did not import: {e}", path.display()),
        };
        assert_round_trips(&path.display().to_string(), &doc);
        seen += 1;
    }
    assert!(
        seen >= 15,
        "only {seen} documents found in {}",
        dir.display()
    );
}

/// A small deterministic generator (no external crates): xorshift.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn generated_spec(g: &mut Gen, oas3: bool) -> Value {
    let all_paths = [
        "/",
        "/pets",
        "/pets/{id}",
        "/pets/{id}/items",
        "/orders",
        "/orders/{proxy+}",
        "/v1/items",
    ];
    let mut paths = Map::new();
    for _ in 0..(1 + g.next() % 5) {
        let path = g.pick(&all_paths).to_string();
        let mut item = Map::new();
        for _ in 0..(1 + g.next() % 3) {
            let method = *g.pick(&[
                "get",
                "post",
                "put",
                "delete",
                "x-amazon-apigateway-any-method",
            ]);
            let ty = *g.pick(&["mock", "http", "http_proxy"]);
            let mut integration = json!({"type": ty, "passthroughBehavior": *g.pick(&["when_no_match", "never", "when_no_templates"])});
            if ty != "mock" {
                integration["httpMethod"] = json!("GET");
                integration["uri"] = json!("http://example.com/x");
            }
            if g.chance(50) {
                integration["requestTemplates"] =
                    json!({"application/json": "{\"statusCode\": 200}"});
            }
            if ty != "http_proxy" {
                integration["responses"] = json!({"default": {"statusCode": "200", "responseParameters": {"method.response.header.X-A": "'a'"}}, "4\\d{2}": {"statusCode": "400"}});
            }
            let mut op = json!({
                "responses": {"200": {"description": "ok", "headers": {"X-A": if oas3 { json!({"schema": {"type": "string"}}) } else { json!({"type": "string"}) }}}},
                "x-amazon-apigateway-integration": integration,
            });
            if g.chance(50) {
                op["parameters"] = json!([{"name": "q", "in": "query", "required": g.chance(50), "type": "string"}]);
            }
            if g.chance(30) {
                op["security"] = json!([{"api_key": []}]);
            }
            if g.chance(30) {
                op["security"] = json!([{"tok": []}]);
            }
            if g.chance(30) {
                op["x-amazon-apigateway-request-validator"] = json!("all");
            }
            if g.chance(30) {
                op["operationId"] = json!(format!("op{}", g.next() % 1000));
            }
            item.insert(method.into(), op);
        }
        paths.insert(path, Value::Object(item));
    }
    let key_scheme = json!({"type": "apiKey", "name": "x-api-key", "in": "header"});
    let tok_scheme = json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom", "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations", "authorizerResultTtlInSeconds": 60}});
    let schemas = json!({"Pet": {"type": "object", "properties": {"id": {"type": "integer"}}}});
    let mut spec = json!({
        "info": {"title": "gen", "version": "1"},
        "paths": paths,
        "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true, "validateRequestParameters": true}},
    });
    if g.chance(50) {
        spec["x-amazon-apigateway-binary-media-types"] = json!(["image/png"]);
    }
    if g.chance(50) {
        spec["x-amazon-apigateway-gateway-responses"] = json!({"DEFAULT_4XX": {"statusCode": "400", "responseTemplates": {"application/json": "{\"m\": $context.error.messageString}"}}});
    }
    if oas3 {
        spec["openapi"] = json!("3.0.1");
        spec["components"] = json!({"schemas": schemas, "securitySchemes": {"api_key": key_scheme, "tok": tok_scheme}});
    } else {
        spec["swagger"] = json!("2.0");
        spec["definitions"] = schemas;
        spec["securityDefinitions"] = json!({"api_key": key_scheme, "tok": tok_scheme});
    }
    spec
}

#[test]
fn generated_apis_round_trip() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    for i in 0..300 {
        let spec = generated_spec(&mut g, i % 2 == 0);
        let doc = import_value(&spec);
        assert_round_trips(&format!("generated #{i}: {spec}"), &doc);
    }
}
