//! ImportRestApi / PutRestApi: an OpenAPI document to a [`RestApiDocument`].

use indexmap::IndexMap;
use portico_model::document::RestApiDocument;
use portico_model::{ids, v1};
use serde_json::{Map, Value};

use crate::authorizers::{self, Scheme};
use crate::document::{Spec, Version, text};
use crate::{ImportError, integration, models};

/// The OpenAPI operations API Gateway reads, and the method each becomes.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// Extensions read at the top level of the document.
const API_EXTENSIONS: &[&str] = &[
    "x-amazon-apigateway-binary-media-types",
    "x-amazon-apigateway-api-key-source",
    "x-amazon-apigateway-minimum-compression-size",
    "x-amazon-apigateway-policy",
    "x-amazon-apigateway-endpoint-configuration",
    "x-amazon-apigateway-gateway-responses",
    "x-amazon-apigateway-request-validators",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-documentation",
    "x-amazon-apigateway-tag-value",
    "x-amazon-apigateway-importexport-version",
];

/// Extensions read on an operation.
const OPERATION_EXTENSIONS: &[&str] = &[
    "x-amazon-apigateway-integration",
    "x-amazon-apigateway-auth",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-api-key-source",
];

/// `parameters.basepath`: what to do with the document's base path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BasePathMode {
    /// Resources are the document's paths (the default).
    #[default]
    Ignore,
    /// The base path is prepended to every path.
    Prepend,
    /// The base path's first segment is dropped and the rest prepended.
    Split,
}

impl BasePathMode {
    pub fn parse(s: &str) -> Option<BasePathMode> {
        match s {
            "ignore" => Some(BasePathMode::Ignore),
            "prepend" => Some(BasePathMode::Prepend),
            "split" => Some(BasePathMode::Split),
            _ => None,
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The id the API has or will have (model references name it).
    pub api_id: String,
    pub base_path: BasePathMode,
    /// `parameters.endpointConfigurationTypes`: overrides the document's endpoint types.
    pub endpoint_types: Option<Vec<String>>,
    /// `failonwarnings`: a warning refuses the import.
    pub fail_on_warnings: bool,
}

/// The result of an import: the API's definitions and the warnings AWS would report.
#[derive(Debug, Clone)]
pub struct Imported {
    /// `api` holds what the document sets (name, description, version, binary media types,
    /// API key source, compression, policy, endpoint configuration); the caller adds the id,
    /// creation date and root resource id.
    pub doc: RestApiDocument,
    pub warnings: Vec<String>,
}

/// Imports a parsed document (see [`crate::parse`]).
pub fn import(value: &Value, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let spec = Spec::new(value)?;
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut doc = RestApiDocument::default();

    let info = spec.get("info").and_then(Value::as_object);
    let name = info.and_then(|i| i.get("title")).and_then(text);
    doc.api = api_settings(&spec, opts, &mut errors);
    doc.api.name = name;
    doc.api.description = info
        .and_then(|i| i.get("description"))
        .and_then(text)
        .filter(|d| !d.is_empty());
    doc.api.version = info.and_then(|i| i.get("version")).and_then(text);
    if doc.api.name.as_deref().unwrap_or("").is_empty() {
        errors.push("The API has no name: info.title is required".to_string());
    }

    for key in spec.root.keys() {
        if key.starts_with("x-amazon-apigateway-") && !API_EXTENSIONS.contains(&key.as_str()) {
            warnings.push(format!("Unsupported extension ignored: {key}"));
        }
    }

    // Models.
    for (name, schema) in spec.schemas().into_iter().flatten() {
        if !models::valid_model_name(name) {
            errors.push(format!(
                "Unable to create model for '{name}': Model name must be alphanumeric"
            ));
            continue;
        }
        if !schema.is_object() {
            errors.push(format!(
                "Unable to create model for '{name}': the schema must be an object"
            ));
            continue;
        }
        let stored = models::to_model_schema(schema, &opts.api_id);
        doc.models.insert(
            name.clone(),
            v1::Model {
                id: Some(ids::short_id(6)),
                name: Some(name.clone()),
                description: schema.get("description").and_then(text),
                schema: Some(stored.to_string()),
                content_type: Some("application/json".into()),
            },
        );
    }

    // Request validators, by name.
    let mut validator_ids = IndexMap::new();
    if let Some(vs) = spec.get("x-amazon-apigateway-request-validators") {
        match vs.as_object() {
            Some(vs) => {
                for (name, v) in vs {
                    let id = ids::short_id(6);
                    doc.request_validators.insert(
                        id.clone(),
                        v1::RequestValidator {
                            id: Some(id.clone()),
                            name: Some(name.clone()),
                            validate_request_body: Some(flag(v.get("validateRequestBody"))),
                            validate_request_parameters: Some(flag(
                                v.get("validateRequestParameters"),
                            )),
                        },
                    );
                    validator_ids.insert(name.clone(), id);
                }
            }
            None => {
                errors.push("x-amazon-apigateway-request-validators must be an object".to_string())
            }
        }
    }
    let default_validator = spec
        .get("x-amazon-apigateway-request-validator")
        .and_then(text);

    // Security schemes.
    let (authorizers, schemes) = match authorizers::import(spec.security_schemes(), &mut warnings) {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            Default::default()
        }
    };
    doc.authorizers = authorizers;

    // Gateway responses.
    if let Some(grs) = spec.get("x-amazon-apigateway-gateway-responses") {
        gateway_responses(grs, &mut doc, &mut errors);
    }

    // Resources and methods.
    let root_id = ids::root_resource_id();
    doc.resources.insert(
        root_id.clone(),
        v1::Resource {
            id: Some(root_id.clone()),
            path: Some("/".into()),
            ..Default::default()
        },
    );
    let prefix = base_prefix(&spec, opts.base_path);
    let mut tree = Tree::default();
    let ctx = MethodContext {
        spec: &spec,
        schemes: &schemes,
        validators: &validator_ids,
        default_validator: default_validator.as_deref(),
        global_security: spec.get("security"),
    };
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            if !path.starts_with('/') {
                if path.starts_with("x-") {
                    continue;
                }
                errors.push(format!("Invalid path '{path}': paths must begin with '/'"));
                continue;
            }
            let Some(item) = item.as_object() else {
                errors.push(format!("Invalid path item for '{path}'"));
                continue;
            };
            let full = format!("{prefix}{}", path.trim_end_matches('/'));
            let rid = match ensure_resource(&mut doc, &mut tree, &root_id, &full) {
                Ok(id) => id,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let path_params = item.get("parameters");
            for (op_key, http_method) in OPERATIONS {
                let Some(op) = item.get(*op_key) else {
                    continue;
                };
                let shown = if full.is_empty() { "/" } else { full.as_str() };
                let site = integration::Site {
                    resource_id: &rid,
                    path: shown,
                    http_method,
                };
                match ctx.method(op, path_params, &site, &doc, &mut warnings) {
                    Ok(m) => {
                        if let Some(resource) = doc.resources.get_mut(&rid) {
                            resource
                                .resource_methods
                                .get_or_insert_with(IndexMap::new)
                                .insert(http_method.to_string(), m);
                        }
                    }
                    Err(e) => errors.push(format!(
                        "Unable to put method '{http_method}' on resource at path '{shown}': {e}"
                    )),
                }
            }
            for key in item.keys() {
                if key.starts_with("x-amazon-apigateway-")
                    && *key != "x-amazon-apigateway-any-method"
                {
                    warnings.push(format!(
                        "Unsupported extension ignored at path '{path}': {key}"
                    ));
                }
            }
        }
    }
    doc.refresh_paths();

    if !errors.is_empty() {
        return Err(ImportError::errors(&errors));
    }
    if opts.fail_on_warnings && !warnings.is_empty() {
        return Err(ImportError::warnings(&warnings));
    }
    Ok(Imported { doc, warnings })
}

fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The API-level settings the document's extensions (and the import parameters) give.
fn api_settings(spec: &Spec<'_>, opts: &ImportOptions, errors: &mut Vec<String>) -> v1::RestApi {
    let mut api = v1::RestApi::default();
    if let Some(b) = spec.get("x-amazon-apigateway-binary-media-types") {
        match b.as_array() {
            Some(list) => {
                let list: Vec<String> = list.iter().filter_map(text).collect();
                api.binary_media_types = (!list.is_empty()).then_some(list);
            }
            None => errors.push("x-amazon-apigateway-binary-media-types must be a list".into()),
        }
    }
    if let Some(src) = spec
        .get("x-amazon-apigateway-api-key-source")
        .and_then(text)
    {
        let src = src.to_ascii_uppercase();
        if src == "HEADER" || src == "AUTHORIZER" {
            api.api_key_source = Some(src);
        } else {
            errors.push(format!(
                "Invalid apiKeySource specified. Valid values are HEADER,AUTHORIZER. Provided value is {src}"
            ));
        }
    }
    if let Some(c) = spec.get("x-amazon-apigateway-minimum-compression-size") {
        match c.as_i64() {
            Some(n) if (0..=10_485_760).contains(&n) => {
                api.minimum_compression_size = Some(n as i32)
            }
            _ => errors
                .push("Invalid minimum compression size, must be between 0 and 10485760".into()),
        }
    }
    if let Some(p) = spec.get("x-amazon-apigateway-policy") {
        api.policy = match p {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
    }
    let mut types = None;
    if let Some(cfg) = spec.get("x-amazon-apigateway-endpoint-configuration") {
        types = cfg
            .get("types")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(text).collect::<Vec<_>>());
        let vpce = cfg
            .get("vpcEndpointIds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(text).collect::<Vec<_>>());
        if let Some(d) = cfg
            .get("disableExecuteApiEndpoint")
            .and_then(Value::as_bool)
        {
            api.disable_execute_api_endpoint = Some(d);
        }
        api.endpoint_configuration = Some(v1::EndpointConfiguration {
            types: None,
            ip_address_type: cfg.get("ipAddressType").and_then(text),
            vpc_endpoint_ids: vpce,
        });
    }
    if let Some(t) = &opts.endpoint_types {
        types = Some(t.clone());
    }
    if let Some(types) = types {
        for t in &types {
            if !["EDGE", "REGIONAL", "PRIVATE"].contains(&t.as_str()) {
                errors.push(format!(
                    "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE: {t}"
                ));
            }
        }
        api.endpoint_configuration
            .get_or_insert_with(Default::default)
            .types = Some(types);
    }
    api
}

fn gateway_responses(grs: &Value, doc: &mut RestApiDocument, errors: &mut Vec<String>) {
    let Some(grs) = grs.as_object() else {
        errors.push("x-amazon-apigateway-gateway-responses must be an object".into());
        return;
    };
    for (ty, r) in grs {
        let params = integration::string_map(r.get("responseParameters"));
        let templates = integration::string_map(r.get("responseTemplates"));
        match (params, templates) {
            (Ok(p), Ok(t)) => {
                doc.gateway_responses.insert(
                    ty.clone(),
                    v1::GatewayResponse {
                        response_type: Some(ty.clone()),
                        status_code: r.get("statusCode").and_then(text),
                        response_parameters: p,
                        response_templates: t,
                        default_response: Some(false),
                    },
                );
            }
            (Err(e), _) | (_, Err(e)) => errors.push(format!("Gateway response {ty}: {e}")),
        }
    }
}

/// The path every resource is placed under, per `parameters.basepath`.
fn base_prefix(spec: &Spec<'_>, mode: BasePathMode) -> String {
    let Some(base) = spec.base_path() else {
        return String::new();
    };
    match mode {
        BasePathMode::Ignore => String::new(),
        BasePathMode::Prepend => base,
        BasePathMode::Split => {
            let rest: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).skip(1).collect();
            if rest.is_empty() {
                String::new()
            } else {
                format!("/{}", rest.join("/"))
            }
        }
    }
}

/// Resources are bounded per import (AWS's default quota is 300 per API).
pub(crate) const MAX_RESOURCES: usize = 10_000;

/// The resource tree being built: children by (parent id, path part), and whether a parent
/// already has a variable child.
#[derive(Default)]
struct Tree {
    children: std::collections::HashMap<(String, String), String>,
    variable_child: std::collections::HashMap<String, String>,
}

/// The id of the resource at `path`, creating it and its ancestors as needed.
fn ensure_resource(
    doc: &mut RestApiDocument,
    tree: &mut Tree,
    root_id: &str,
    path: &str,
) -> Result<String, String> {
    let mut parent = root_id.to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, seg) in segments.iter().enumerate() {
        check_path_part(seg, path)?;
        if seg.ends_with("+}") && i + 1 != segments.len() {
            return Err(format!(
                "Cannot create a child of a resource with a greedy path variable: {seg} (path '{path}')"
            ));
        }
        let key = (parent.clone(), seg.to_string());
        if let Some(id) = tree.children.get(&key) {
            parent = id.clone();
            continue;
        }
        if seg.starts_with('{')
            && let Some(sibling) = tree.variable_child.get(&parent)
        {
            return Err(format!(
                "A sibling ({sibling}) of this resource already has a variable path part -- only one is allowed (path '{path}')"
            ));
        }
        if doc.resources.len() >= MAX_RESOURCES {
            return Err(format!(
                "The document has more than {MAX_RESOURCES} resources"
            ));
        }
        let id = ids::resource_id();
        doc.resources.insert(
            id.clone(),
            v1::Resource {
                id: Some(id.clone()),
                parent_id: Some(parent.clone()),
                path_part: Some(seg.to_string()),
                ..Default::default()
            },
        );
        if seg.starts_with('{') {
            tree.variable_child.insert(parent.clone(), seg.to_string());
        }
        tree.children.insert(key, id.clone());
        parent = id;
    }
    Ok(parent)
}

fn check_path_part(seg: &str, path: &str) -> Result<(), String> {
    let ok = if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let name = inner.strip_suffix('+').unwrap_or(inner);
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    } else {
        !seg.contains(['{', '}'])
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~:@&=+$,!*'()%".contains(c))
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace: '{seg}' in path '{path}'"
        ))
    }
}

/// The models an OpenAPI 3.0 `content` map names, by media type.
fn content_models(holder: &Value, models: &mut IndexMap<String, String>) {
    for (ct, media) in holder
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(model) = media.get("schema").and_then(models::schema_model) {
            models.insert(ct.clone(), model.to_string());
        }
    }
}

/// Every named model must be defined.
fn check_models(named: &IndexMap<String, String>, doc: &RestApiDocument) -> Result<(), String> {
    match named.values().find(|m| !doc.models.contains_key(*m)) {
        Some(model) => Err(format!("Invalid model identifier specified: {model}")),
        None => Ok(()),
    }
}

struct MethodContext<'a> {
    spec: &'a Spec<'a>,
    schemes: &'a IndexMap<String, Scheme>,
    validators: &'a IndexMap<String, String>,
    default_validator: Option<&'a str>,
    global_security: Option<&'a Value>,
}

impl MethodContext<'_> {
    fn method(
        &self,
        op: &Value,
        path_params: Option<&Value>,
        site: &integration::Site<'_>,
        doc: &RestApiDocument,
        warnings: &mut Vec<String>,
    ) -> Result<v1::Method, String> {
        let http_method = site.http_method;
        let op = op.as_object().ok_or("the operation must be an object")?;
        for key in op.keys() {
            if key.starts_with("x-amazon-apigateway-")
                && !OPERATION_EXTENSIONS.contains(&key.as_str())
            {
                warnings.push(format!(
                    "Unsupported extension ignored on {http_method}: {key}"
                ));
            }
        }
        let mut m = v1::Method {
            http_method: Some(http_method.to_string()),
            authorization_type: Some("NONE".into()),
            api_key_required: Some(false),
            operation_name: op.get("operationId").and_then(text),
            ..Default::default()
        };

        // Parameters and body models.
        let mut params = IndexMap::new();
        let mut models = IndexMap::new();
        let mut all: Vec<&Value> = Vec::new();
        for list in [path_params, op.get("parameters")].into_iter().flatten() {
            let list = list.as_array().ok_or("parameters must be a list")?;
            all.extend(list.iter());
        }
        let consumes = self.media_types(op, "consumes");
        for p in all {
            let p = self.resolve(p)?;
            let name = p.get("name").and_then(text).unwrap_or_default();
            let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
            let required = p.get("required").and_then(Value::as_bool);
            let key = match location {
                "path" => format!("method.request.path.{name}"),
                "query" => format!("method.request.querystring.{name}"),
                "header" => format!("method.request.header.{name}"),
                "body" => {
                    if let Some(model) = p.get("schema").and_then(|s| self.model_of(s)) {
                        for ct in &consumes {
                            models.insert(ct.clone(), model.to_string());
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            if name.is_empty() {
                return Err("a parameter has no name".into());
            }
            params.insert(key, required.unwrap_or(location == "path"));
        }
        // Every variable of the resource path is a required path parameter, declared or not.
        for seg in site.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let name = name.strip_suffix('+').unwrap_or(name);
                params
                    .entry(format!("method.request.path.{name}"))
                    .or_insert(true);
            }
        }
        if let Some(body) = op.get("requestBody") {
            content_models(self.resolve(body)?, &mut models);
        }
        check_models(&models, doc)?;
        m.request_parameters = (!params.is_empty()).then_some(params);
        m.request_models = (!models.is_empty()).then_some(models);

        // Security.
        let security = op.get("security").or(self.global_security);
        if let Some(reqs) = security {
            let reqs = reqs.as_array().ok_or("security must be a list")?;
            for req in reqs {
                for (name, scopes) in req.as_object().into_iter().flatten() {
                    match self.schemes.get(name) {
                        Some(Scheme::ApiKey) => m.api_key_required = Some(true),
                        Some(Scheme::Iam) => m.authorization_type = Some("AWS_IAM".into()),
                        Some(Scheme::Authorizer { id, cognito }) => {
                            m.authorization_type = Some(
                                if *cognito {
                                    "COGNITO_USER_POOLS"
                                } else {
                                    "CUSTOM"
                                }
                                .into(),
                            );
                            m.authorizer_id = Some(id.clone());
                            let scopes: Vec<String> = scopes
                                .as_array()
                                .map(|a| a.iter().filter_map(text).collect())
                                .unwrap_or_default();
                            if *cognito && !scopes.is_empty() {
                                m.authorization_scopes = Some(scopes);
                            }
                        }
                        None => {
                            return Err(format!("Invalid security definition reference: {name}"));
                        }
                    }
                }
            }
        }
        if let Some(auth) = op.get("x-amazon-apigateway-auth") {
            let ty = auth
                .get("type")
                .and_then(text)
                .map(|t| t.to_ascii_uppercase())
                .unwrap_or_default();
            match ty.as_str() {
                "AWS_IAM" => m.authorization_type = Some("AWS_IAM".into()),
                "NONE" => {
                    m.authorization_type = Some("NONE".into());
                    m.authorizer_id = None;
                }
                other => return Err(format!("Invalid authorization type specified: {other}")),
            }
        }

        // Request validator.
        let validator = op
            .get("x-amazon-apigateway-request-validator")
            .and_then(text)
            .or_else(|| self.default_validator.map(str::to_string));
        if let Some(name) = validator {
            let id = self
                .validators
                .get(&name)
                .ok_or_else(|| format!("Invalid Request Validator identifier specified: {name}"))?;
            m.request_validator_id = Some(id.clone());
        }

        // Method responses.
        let mut responses = IndexMap::new();
        let produces = self.media_types(op, "produces");
        for (code, r) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())) {
                if code != "default" {
                    warnings.push(format!("Invalid response status code ignored: {code}"));
                }
                continue;
            }
            let r = self.resolve(r)?;
            let mut mr = v1::MethodResponse {
                status_code: Some(code.clone()),
                ..Default::default()
            };
            let headers: IndexMap<String, bool> = r
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(h, _)| (format!("method.response.header.{h}"), false))
                .collect();
            mr.response_parameters = (!headers.is_empty()).then_some(headers);
            let mut models = IndexMap::new();
            match self.spec.version {
                Version::Swagger2 => {
                    if let Some(model) = r.get("schema").and_then(|s| self.model_of(s)) {
                        for ct in &produces {
                            models.insert(ct.clone(), model.to_string());
                        }
                    }
                }
                Version::OpenApi3 => content_models(r, &mut models),
            }
            check_models(&models, doc)?;
            mr.response_models = (!models.is_empty()).then_some(models);
            responses.insert(code.clone(), mr);
        }
        m.method_responses = (!responses.is_empty()).then_some(responses);

        // Integration.
        if let Some(ext) = op.get("x-amazon-apigateway-integration") {
            let ext = self.resolve(ext)?;
            m.method_integration = Some(integration::import(ext, site, warnings)?);
        }
        Ok(m)
    }

    /// `consumes` / `produces` of the operation, else of the document, else JSON (2.0 only).
    fn media_types(&self, op: &Map<String, Value>, key: &str) -> Vec<String> {
        op.get(key)
            .or_else(|| self.spec.get(key))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(text).collect::<Vec<_>>())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| vec!["application/json".to_string()])
    }

    /// The model a schema names (only a `$ref` names one).
    fn model_of<'v>(&self, schema: &'v Value) -> Option<&'v str> {
        models::schema_model(schema)
    }

    /// Follows local `$ref`s (`#/parameters/x`, `#/components/responses/y`, ...).
    fn resolve<'v>(&'v self, v: &'v Value) -> Result<&'v Value, String> {
        let mut cur = v;
        for _ in 0..16 {
            let Some(r) = cur.get("$ref").and_then(Value::as_str) else {
                return Ok(cur);
            };
            if models::referenced_model(r).is_some() {
                return Ok(cur);
            }
            let pointer = r
                .strip_prefix('#')
                .ok_or_else(|| format!("Unsupported reference: {r}"))?;
            cur = self
                .spec
                .value
                .pointer(pointer)
                .ok_or_else(|| format!("Unresolvable reference: {r}"))?;
        }
        Err("Reference chain too long".into())
    }
}
