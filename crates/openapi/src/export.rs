//! GetExport: a deployed REST API as OpenAPI 2.0 or 3.0, optionally with API Gateway's
//! extensions (`integrations`, `authorizers`, `apigateway` = both plus the API-level ones).

use indexmap::IndexMap;
use portico_model::document::RestApiDocument;
use portico_model::v1;
use serde_json::{Map, Value, json};

use crate::authorizers::{self, API_KEY_SCHEME, SIGV4_SCHEME};
use crate::document::Version;
use crate::{integration, models};

/// What to export and where the API is served.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub version: Version,
    /// `x-amazon-apigateway-integration` on operations.
    pub integrations: bool,
    /// `x-amazon-apigateway-authorizer` on security schemes.
    pub authorizers: bool,
    /// The API-level extensions (validators, gateway responses, binary media types, ...).
    pub apigateway: bool,
    /// The stage the export describes (its base path).
    pub stage: String,
    /// The host clients call (`{api}.execute-api.{region}.amazonaws.com` on AWS).
    pub host: String,
    /// `https` or `http`.
    pub scheme: String,
    /// `info.version` for an API without a version (AWS writes the deployment's date).
    pub default_version: String,
}

impl ExportOptions {
    /// Reads GetExport's `extensions` parameter (`integrations,authorizers,apigateway,postman`).
    pub fn with_extensions(mut self, list: &str) -> ExportOptions {
        for e in list.split(',').map(str::trim) {
            match e {
                "integrations" => self.integrations = true,
                "authorizers" => self.authorizers = true,
                "apigateway" => {
                    self.integrations = true;
                    self.authorizers = true;
                    self.apigateway = true;
                }
                _ => {}
            }
        }
        self
    }
}

const METHOD_ORDER: &[&str] = &[
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "ANY",
];

/// Exports `doc` (a deployment's snapshot).
pub fn export(doc: &RestApiDocument, opts: &ExportOptions) -> Value {
    let v = opts.version;
    let mut out = Map::new();
    match v {
        Version::Swagger2 => {
            out.insert("swagger".into(), json!("2.0"));
        }
        Version::OpenApi3 => {
            out.insert("openapi".into(), json!("3.0.1"));
        }
    }
    let mut info = Map::new();
    if let Some(d) = &doc.api.description {
        info.insert("description".into(), json!(d));
    }
    info.insert(
        "version".into(),
        json!(
            doc.api
                .version
                .clone()
                .unwrap_or_else(|| opts.default_version.clone())
        ),
    );
    info.insert(
        "title".into(),
        json!(doc.api.name.clone().unwrap_or_default()),
    );
    out.insert("info".into(), Value::Object(info));
    match v {
        Version::Swagger2 => {
            out.insert("host".into(), json!(opts.host));
            out.insert("basePath".into(), json!(format!("/{}", opts.stage)));
            out.insert("schemes".into(), json!([opts.scheme]));
        }
        Version::OpenApi3 => {
            out.insert(
                "servers".into(),
                json!([{
                    "url": format!("{}://{}/{{basePath}}", opts.scheme, opts.host),
                    "variables": {"basePath": {"default": opts.stage}},
                }]),
            );
        }
    }

    let validator_names: IndexMap<&str, &str> = doc
        .request_validators
        .iter()
        .map(|(id, r)| (id.as_str(), r.name.as_deref().unwrap_or(id)))
        .collect();
    let mut uses_api_key = false;
    let mut uses_sigv4 = false;

    let mut resources: Vec<(&String, &v1::Resource)> = doc.resources.iter().collect();
    resources.sort_by(|a, b| a.1.path.cmp(&b.1.path));
    let mut paths = Map::new();
    for (rid, r) in resources {
        let path = r.path.clone().unwrap_or_else(|| "/".into());
        let methods = r.resource_methods.as_ref();
        let has_children = doc
            .resources
            .values()
            .any(|c| c.parent_id.as_deref() == Some(rid));
        if methods.is_none_or(IndexMap::is_empty) && (has_children || path == "/") {
            continue;
        }
        let mut item = Map::new();
        let mut ordered: Vec<(&String, &v1::Method)> = methods.into_iter().flatten().collect();
        ordered.sort_by_key(|(m, _)| METHOD_ORDER.iter().position(|o| o == m));
        for (hm, m) in ordered {
            let key = if hm == "ANY" {
                "x-amazon-apigateway-any-method".to_string()
            } else {
                hm.to_ascii_lowercase()
            };
            let mut op = Map::new();
            if let Some(name) = &m.operation_name {
                op.insert("operationId".into(), json!(name));
            }
            let mut params = Vec::new();
            for (key, required) in m.request_parameters.iter().flatten() {
                let Some((location, name)) = parameter_location(key) else {
                    continue;
                };
                let mut p = Map::new();
                p.insert("name".into(), json!(name));
                p.insert("in".into(), json!(location));
                if *required || v == Version::Swagger2 {
                    p.insert("required".into(), json!(*required));
                }
                match v {
                    Version::Swagger2 => {
                        p.insert("type".into(), json!("string"));
                    }
                    Version::OpenApi3 => {
                        p.insert("schema".into(), json!({"type": "string"}));
                    }
                }
                params.push(Value::Object(p));
            }
            if v == Version::Swagger2 {
                let mut consumes: Vec<&String> = Vec::new();
                let templates = m
                    .method_integration
                    .as_ref()
                    .and_then(|i| i.request_templates.as_ref());
                for ct in m
                    .request_models
                    .iter()
                    .flatten()
                    .map(|(ct, _)| ct)
                    .chain(templates.into_iter().flat_map(|t| t.keys()))
                {
                    if !consumes.contains(&ct) {
                        consumes.push(ct);
                    }
                }
                if !consumes.is_empty() {
                    op.insert("consumes".into(), json!(consumes));
                }
            }
            if let Some(models) = m.request_models.as_ref().filter(|m| !m.is_empty()) {
                match v {
                    Version::Swagger2 => {
                        let model = models.values().next().cloned().unwrap_or_default();
                        params.push(json!({
                            "in": "body",
                            "name": model,
                            "required": true,
                            "schema": {"$ref": format!("#/definitions/{model}")},
                        }));
                    }
                    Version::OpenApi3 => {
                        let content = content_refs(models);
                        op.insert(
                            "requestBody".into(),
                            json!({"content": content, "required": true}),
                        );
                    }
                }
            }
            if !params.is_empty() {
                op.insert("parameters".into(), Value::Array(params));
            }
            let responses = responses(m, v, &mut op);
            op.insert("responses".into(), responses);

            let mut security = Vec::new();
            match m.authorization_type.as_deref() {
                Some("CUSTOM" | "COGNITO_USER_POOLS") => {
                    if let Some(a) = m
                        .authorizer_id
                        .as_ref()
                        .and_then(|id| doc.authorizers.get(id))
                    {
                        let scopes = m.authorization_scopes.clone().unwrap_or_default();
                        security.push(json!({a.name.clone().unwrap_or_default(): scopes}));
                    }
                }
                Some("AWS_IAM") => {
                    uses_sigv4 = true;
                    security.push(json!({SIGV4_SCHEME: []}));
                }
                _ => {}
            }
            if m.api_key_required == Some(true) {
                uses_api_key = true;
                security.push(json!({API_KEY_SCHEME: []}));
            }
            if !security.is_empty() {
                op.insert("security".into(), Value::Array(security));
            }
            if opts.apigateway
                && let Some(name) = m
                    .request_validator_id
                    .as_deref()
                    .and_then(|id| validator_names.get(id))
            {
                op.insert("x-amazon-apigateway-request-validator".into(), json!(name));
            }
            if opts.integrations
                && let Some(i) = &m.method_integration
            {
                op.insert(
                    "x-amazon-apigateway-integration".into(),
                    integration::export(i, rid),
                );
            }
            item.insert(key, Value::Object(op));
        }
        paths.insert(path, Value::Object(item));
    }
    out.insert("paths".into(), Value::Object(paths));

    let mut schemes = Map::new();
    if uses_api_key {
        schemes.insert(API_KEY_SCHEME.into(), authorizers::api_key_scheme());
    }
    if uses_sigv4 {
        schemes.insert(SIGV4_SCHEME.into(), authorizers::sigv4_scheme());
    }
    if opts.authorizers {
        schemes.extend(authorizers::export(&doc.authorizers));
    }
    let mut definitions = Map::new();
    for (name, m) in &doc.models {
        let mut schema: Value = m
            .schema
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| json!({}));
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("$schema");
        }
        definitions.insert(name.clone(), models::to_spec_schema(&schema, v));
    }
    match v {
        Version::Swagger2 => {
            if !schemes.is_empty() {
                out.insert("securityDefinitions".into(), Value::Object(schemes));
            }
            if !definitions.is_empty() {
                out.insert("definitions".into(), Value::Object(definitions));
            }
        }
        Version::OpenApi3 => {
            let mut components = Map::new();
            if !definitions.is_empty() {
                components.insert("schemas".into(), Value::Object(definitions));
            }
            if !schemes.is_empty() {
                components.insert("securitySchemes".into(), Value::Object(schemes));
            }
            out.insert("components".into(), Value::Object(components));
        }
    }
    if opts.apigateway {
        api_extensions(doc, &mut out);
    }
    Value::Object(out)
}

/// An OpenAPI 3.0 `content` map: each media type's schema a reference to its model.
fn content_refs(models: &IndexMap<String, String>) -> Map<String, Value> {
    models
        .iter()
        .map(|(ct, model)| {
            (
                ct.clone(),
                json!({"schema": {"$ref": format!("#/components/schemas/{model}")}}),
            )
        })
        .collect()
}

/// `method.request.querystring.x` -> ("query", "x").
fn parameter_location(key: &str) -> Option<(&'static str, &str)> {
    for (prefix, location) in [
        ("method.request.path.", "path"),
        ("method.request.querystring.", "query"),
        ("method.request.header.", "header"),
    ] {
        if let Some(name) = key.strip_prefix(prefix) {
            return Some((location, name));
        }
    }
    None
}

fn responses(m: &v1::Method, v: Version, op: &mut Map<String, Value>) -> Value {
    let mut out = Map::new();
    let mut produces: Vec<String> = Vec::new();
    for (code, r) in m.method_responses.iter().flatten() {
        let mut resp = Map::new();
        resp.insert("description".into(), json!(format!("{code} response")));
        if let Some(models) = r.response_models.as_ref().filter(|m| !m.is_empty()) {
            match v {
                Version::Swagger2 => {
                    for ct in models.keys() {
                        if !produces.contains(ct) {
                            produces.push(ct.clone());
                        }
                    }
                    let model = models.values().next().cloned().unwrap_or_default();
                    resp.insert(
                        "schema".into(),
                        json!({"$ref": format!("#/definitions/{model}")}),
                    );
                }
                Version::OpenApi3 => {
                    resp.insert("content".into(), Value::Object(content_refs(models)));
                }
            }
        }
        let headers: Map<String, Value> = r
            .response_parameters
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("method.response.header."))
            .map(|h| {
                let schema = match v {
                    Version::Swagger2 => json!({"type": "string"}),
                    Version::OpenApi3 => json!({"schema": {"type": "string"}}),
                };
                (h.to_string(), schema)
            })
            .collect();
        if !headers.is_empty() {
            resp.insert("headers".into(), Value::Object(headers));
        }
        if v == Version::OpenApi3 && !resp.contains_key("content") {
            resp.insert("content".into(), json!({}));
        }
        out.insert(code.clone(), Value::Object(resp));
    }
    if v == Version::Swagger2 {
        let templates = m
            .method_integration
            .as_ref()
            .and_then(|i| i.integration_responses.as_ref());
        for ct in templates
            .into_iter()
            .flat_map(|rs| rs.values())
            .flat_map(|r| r.response_templates.iter().flatten().map(|(ct, _)| ct))
        {
            if !produces.contains(ct) {
                produces.push(ct.clone());
            }
        }
    }
    if !produces.is_empty() {
        op.insert("produces".into(), json!(produces));
    }
    Value::Object(out)
}

fn api_extensions(doc: &RestApiDocument, out: &mut Map<String, Value>) {
    let api = &doc.api;
    if let Some(b) = api.binary_media_types.as_ref().filter(|b| !b.is_empty()) {
        out.insert("x-amazon-apigateway-binary-media-types".into(), json!(b));
    }
    if let Some(src) = api.api_key_source.as_deref().filter(|s| *s != "HEADER") {
        out.insert("x-amazon-apigateway-api-key-source".into(), json!(src));
    }
    if let Some(c) = api.minimum_compression_size {
        out.insert(
            "x-amazon-apigateway-minimum-compression-size".into(),
            json!(c),
        );
    }
    if let Some(p) = &api.policy {
        let policy = serde_json::from_str::<Value>(p).unwrap_or_else(|_| json!(p));
        out.insert("x-amazon-apigateway-policy".into(), policy);
    }
    if let Some(cfg) = api.endpoint_configuration.as_ref().filter(|c| {
        c.types.as_deref().is_some_and(|t| t != ["EDGE"])
            || c.vpc_endpoint_ids.is_some()
            || api.disable_execute_api_endpoint == Some(true)
    }) {
        let mut c = Map::new();
        if let Some(t) = &cfg.types {
            c.insert("types".into(), json!(t));
        }
        if let Some(ip) = &cfg.ip_address_type {
            c.insert("ipAddressType".into(), json!(ip));
        }
        if let Some(v) = &cfg.vpc_endpoint_ids {
            c.insert("vpcEndpointIds".into(), json!(v));
        }
        if api.disable_execute_api_endpoint == Some(true) {
            c.insert("disableExecuteApiEndpoint".into(), json!(true));
        }
        out.insert(
            "x-amazon-apigateway-endpoint-configuration".into(),
            Value::Object(c),
        );
    }
    if !doc.request_validators.is_empty() {
        let vs: Map<String, Value> = doc
            .request_validators
            .values()
            .map(|r| {
                (
                    r.name.clone().unwrap_or_default(),
                    json!({
                        "validateRequestBody": r.validate_request_body.unwrap_or(false),
                        "validateRequestParameters": r.validate_request_parameters.unwrap_or(false),
                    }),
                )
            })
            .collect();
        out.insert(
            "x-amazon-apigateway-request-validators".into(),
            Value::Object(vs),
        );
    }
    let grs: Map<String, Value> = doc
        .gateway_responses
        .iter()
        .filter(|(_, g)| g.default_response != Some(true))
        .map(|(ty, g)| {
            let mut o = Map::new();
            if let Some(s) = &g.status_code {
                o.insert("statusCode".into(), json!(s));
            }
            if let Some(p) = &g.response_parameters {
                o.insert("responseParameters".into(), json!(p));
            }
            if let Some(t) = &g.response_templates {
                o.insert("responseTemplates".into(), json!(t));
            }
            (ty.clone(), Value::Object(o))
        })
        .collect();
    if !grs.is_empty() {
        out.insert(
            "x-amazon-apigateway-gateway-responses".into(),
            Value::Object(grs),
        );
    }
}
