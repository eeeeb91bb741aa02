//! Compile at deploy, execute at request: a stage's deployment snapshot becomes a route trie
//! and per-method integration plans, with every regex, URI template and mapping expression
//! parsed here once.

use std::sync::Arc;

use indexmap::IndexMap;
use portico_model::document::{DeploymentRecord, RestApiDocument};
use portico_model::v1;
use portico_router::Router;

use crate::mapping::{ParamSource, ParamTarget, TemplateSet};

/// One REST API: its stages, by name.
#[derive(Debug, Clone, Default)]
pub struct CompiledApi {
    pub id: String,
    pub stages: crate::runtime::FastMap<String, Arc<CompiledStage>>,
}

impl CompiledApi {
    /// Whether a stage passes client header casing on (a Lambda proxy integration).
    pub fn needs_header_case(&self) -> bool {
        self.stages.values().any(|s| s.needs_header_case)
    }
}

/// A deployed stage, ready to serve.
#[derive(Debug)]
pub struct CompiledStage {
    pub api_id: String,
    /// `HEADER` (x-api-key) or `AUTHORIZER` (the authorizer's usageIdentifierKey).
    pub api_key_from_header: bool,
    pub gateway_responses: crate::gateway_response::Customized,
    pub name: String,
    pub deployment_id: String,
    pub variables: Arc<IndexMap<String, String>>,
    pub router: Router<CompiledResource>,
    pub binary_media_types: Vec<String>,
    /// Some method has a Lambda proxy integration or a REQUEST authorizer (their events keep
    /// header casing).
    pub needs_header_case: bool,
    /// The RestApi's resource policy, if it has one.
    pub resource_policy: Option<Arc<crate::authorization::resource_policy::ResourcePolicy>>,
}

/// A resource and its methods.
#[derive(Debug)]
pub struct CompiledResource {
    pub id: String,
    pub path: String,
    pub methods: Vec<Arc<CompiledMethod>>,
}

impl CompiledResource {
    /// The method for `verb`, falling back to `ANY`.
    pub fn method(&self, verb: &str) -> Option<&Arc<CompiledMethod>> {
        self.methods
            .iter()
            .find(|m| m.http_method == verb)
            .or_else(|| self.methods.iter().find(|m| m.http_method == "ANY"))
    }
}

#[derive(Debug)]
pub struct CompiledMethod {
    pub http_method: String,
    pub authorization: crate::authorization::Authorization,
    pub api_key_required: bool,
    /// `/resourcePath/METHOD`, as usage plans key their per-method throttles.
    pub method_key: String,
    /// The stage's throttle for this method (its own method setting, else `*/*`): bucket
    /// key and limit.
    pub stage_throttle: Option<(String, portico_limits::Throttle)>,
    pub validation: crate::method_request::Validation,
    pub resource_id: String,
    pub resource_path: String,
    /// The resource's greedy path parameter (`proxy` of `/{proxy+}`): its value may hold `/`.
    pub greedy_param: Option<String>,
    pub integration: Integration,
}

/// What runs behind a method: a closed set, dispatched by `match`.
#[derive(Debug)]
pub enum Integration {
    Mock(RequestPlan, ResponsePlan),
    Http(HttpPlan, RequestPlan, ResponsePlan),
    HttpProxy(HttpPlan, RequestPlan),
    /// AWS_PROXY to a Lambda function: the payload 1.0 event in, the proxy response out (the
    /// request plan's parameter mappings add headers and query parameters to the event).
    LambdaProxy(LambdaPlan, RequestPlan),
    /// AWS to a Lambda function: the request template's output is the event; the result, or
    /// the error's `errorMessage`, selects the integration response.
    Lambda(LambdaPlan, RequestPlan, ResponsePlan),
    /// A configuration AWS accepts but that this build cannot run; answered as
    /// `API_CONFIGURATION_ERROR`/500 with the reason logged.
    Unsupported(String),
}

/// Where an HTTP(_PROXY) integration sends requests.
#[derive(Debug)]
pub struct HttpPlan {
    pub method: Option<http::Method>,
    pub uri: UriTemplate,
    pub timeout: std::time::Duration,
    pub insecure_skip_verification: bool,
}

/// Which function a Lambda integration invokes, and for how long it waits.
#[derive(Debug)]
pub struct LambdaPlan {
    pub function: portico_functions::FunctionRef,
    pub timeout: std::time::Duration,
}

/// An integration URI with `{name}` placeholders left to fill at request time (stage
/// variables are substituted at compile time).
#[derive(Debug)]
pub struct UriTemplate {
    pub parts: Vec<UriPart>,
}

#[derive(Debug)]
pub enum UriPart {
    Literal(String),
    Param(String),
}

/// Integration request: parameter mappings and request templates.
#[derive(Debug, Default)]
pub struct RequestPlan {
    pub parameters: Vec<(ParamTarget, ParamSource)>,
    pub content_handling: crate::binary::ContentHandling,
    pub templates: TemplateSet,
    pub passthrough: Passthrough,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Passthrough {
    #[default]
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

/// Integration responses, in selection order, and the default one.
#[derive(Debug, Default)]
pub struct ResponsePlan {
    pub responses: Vec<IntegrationResponse>,
    pub default: Option<usize>,
}

#[derive(Debug)]
pub struct IntegrationResponse {
    pub status: u16,
    pub content_handling: crate::binary::ContentHandling,
    pub pattern: Option<regex::Regex>,
    pub parameters: Vec<(String, ParamSource)>,
    pub templates: TemplateSet,
}

impl ResponsePlan {
    /// The integration response whose pattern matches `subject` entirely, else the default.
    pub fn select(&self, subject: &str) -> Option<&IntegrationResponse> {
        self.responses
            .iter()
            .find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(subject)))
            .or_else(|| self.default.and_then(|i| self.responses.get(i)))
    }
}

/// Why a stage could not be compiled; the stage then answers 500 as AWS would.
#[derive(Debug, Clone)]
pub struct CompileError(pub String);

pub(crate) use portico_model::integration::substitute_stage_variables;

fn uri_template(uri: &str) -> UriTemplate {
    let mut parts = Vec::new();
    let mut rest = uri;
    while let Some(start) = rest.find('{') {
        match rest[start..].find('}') {
            Some(len) => {
                if start > 0 {
                    parts.push(UriPart::Literal(rest[..start].to_string()));
                }
                let name = &rest[start + 1..start + len];
                parts.push(UriPart::Param(name.trim_end_matches('+').to_string()));
                rest = &rest[start + len + 1..];
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        parts.push(UriPart::Literal(rest.to_string()));
    }
    UriTemplate { parts }
}

fn request_plan(i: &v1::Integration) -> Result<RequestPlan, CompileError> {
    let mut parameters = Vec::new();
    for (target, source) in i.request_parameters.iter().flatten() {
        let t = ParamTarget::parse(target).ok_or_else(|| {
            CompileError(format!("invalid integration request parameter {target}"))
        })?;
        if let ParamTarget::Header(h) | ParamTarget::MultiHeader(h) = &t
            && (h.eq_ignore_ascii_case("content-length")
                || h.eq_ignore_ascii_case("transfer-encoding"))
        {
            return Err(CompileError(format!("{target} cannot be mapped")));
        }
        let s = ParamSource::parse(source)
            .ok_or_else(|| CompileError(format!("invalid mapping expression {source}")))?;
        parameters.push((t, s));
    }
    let passthrough = match i.passthrough_behavior.as_deref() {
        Some("WHEN_NO_TEMPLATES") => Passthrough::WhenNoTemplates,
        Some("NEVER") => Passthrough::Never,
        _ => Passthrough::WhenNoMatch,
    };
    Ok(RequestPlan {
        parameters,
        templates: TemplateSet::compile(i.request_templates.as_ref())?,
        passthrough,
        content_handling: crate::binary::ContentHandling::parse(i.content_handling.as_deref()),
    })
}

fn response_plan(i: &v1::Integration) -> Result<ResponsePlan, CompileError> {
    let mut plan = ResponsePlan::default();
    for (code, r) in i.integration_responses.iter().flatten() {
        let status = code
            .parse()
            .map_err(|_| CompileError(format!("invalid integration response status {code}")))?;
        let pattern = match r.selection_pattern.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => Some(
                regex::Regex::new(&format!("^(?s:{p})$"))
                    .map_err(|e| CompileError(format!("invalid selection pattern {p}: {e}")))?,
            ),
            None => None,
        };
        let mut parameters = Vec::new();
        for (target, source) in r.response_parameters.iter().flatten() {
            let name = target
                .strip_prefix("method.response.header.")
                .ok_or_else(|| CompileError(format!("invalid response parameter {target}")))?;
            let s = ParamSource::parse(source)
                .ok_or_else(|| CompileError(format!("invalid mapping expression {source}")))?;
            parameters.push((name.to_string(), s));
        }
        if pattern.is_none() && plan.default.is_none() {
            plan.default = Some(plan.responses.len());
        }
        plan.responses.push(IntegrationResponse {
            status,
            content_handling: crate::binary::ContentHandling::parse(r.content_handling.as_deref()),
            pattern,
            parameters,
            templates: TemplateSet::compile(r.response_templates.as_ref())?,
        });
    }
    Ok(plan)
}

fn http_plan(
    i: &v1::Integration,
    vars: &IndexMap<String, String>,
) -> Result<HttpPlan, CompileError> {
    let uri = substitute_stage_variables(i.uri.as_deref().unwrap_or(""), vars);
    let method = match i.http_method.as_deref() {
        None | Some("ANY") => None,
        Some(m) => Some(
            m.parse()
                .map_err(|_| CompileError(format!("invalid integration method {m}")))?,
        ),
    };
    Ok(HttpPlan {
        method,
        uri: uri_template(&uri),
        timeout: std::time::Duration::from_millis(
            i.timeout_in_millis.unwrap_or(29_000).max(1) as u64
        ),
        insecure_skip_verification: i
            .tls_config
            .as_ref()
            .and_then(|t| t.insecure_skip_verification)
            .unwrap_or(false),
    })
}

/// A Lambda integration URI (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/
/// {name or ARN}/invocations`), stage variables substituted.
fn lambda_plan(
    i: &v1::Integration,
    vars: &IndexMap<String, String>,
) -> Result<LambdaPlan, CompileError> {
    let uri = substitute_stage_variables(i.uri.as_deref().unwrap_or(""), vars);
    if !uri.contains(":lambda:path/") {
        return Err(CompileError(format!(
            "AWS service integrations other than Lambda are not supported yet ({uri})"
        )));
    }
    let function = portico_functions::FunctionRef::parse(&uri)
        .ok_or_else(|| CompileError(format!("Invalid Lambda function in integration URI {uri}")))?;
    Ok(LambdaPlan {
        function,
        timeout: std::time::Duration::from_millis(
            i.timeout_in_millis.unwrap_or(29_000).max(1) as u64
        ),
    })
}

fn integration(
    i: Option<&v1::Integration>,
    vars: &IndexMap<String, String>,
) -> Result<Integration, CompileError> {
    let Some(i) = i else {
        return Ok(Integration::Unsupported(
            "no integration defined for method".into(),
        ));
    };
    Ok(match i.type_.as_deref() {
        Some("MOCK") => Integration::Mock(request_plan(i)?, response_plan(i)?),
        Some("HTTP") => Integration::Http(http_plan(i, vars)?, request_plan(i)?, response_plan(i)?),
        Some("HTTP_PROXY") => Integration::HttpProxy(http_plan(i, vars)?, request_plan(i)?),
        Some("AWS_PROXY") => match lambda_plan(i, vars) {
            Ok(plan) if i.http_method.as_deref() == Some("POST") => {
                Integration::LambdaProxy(plan, request_plan(i)?)
            }
            // AWS invokes Lambda with POST only; any other method fails every request.
            Ok(_) => Integration::Unsupported(format!(
                "AWS_PROXY integrations must use POST to invoke Lambda, not {}",
                i.http_method.as_deref().unwrap_or("nothing")
            )),
            Err(e) => Integration::Unsupported(e.0),
        },
        Some("AWS") => match lambda_plan(i, vars) {
            Ok(plan) => Integration::Lambda(plan, request_plan(i)?, response_plan(i)?),
            Err(e) => Integration::Unsupported(e.0),
        },
        Some(other) => {
            Integration::Unsupported(format!("integration type {other} is not supported yet"))
        }
        None => Integration::Unsupported("integration has no type".into()),
    })
}

/// The stage's throttle for a method: its own `methodSettings` entry, else `*/*`.
fn stage_throttle(
    stage: &v1::Stage,
    api: &v1::RestApi,
    path: &str,
    verb: &str,
) -> Option<(String, portico_limits::Throttle)> {
    let settings = stage.method_settings.as_ref()?;
    let own = format!("{}/{verb}", path.trim_start_matches('/'));
    let (key, s) = settings
        .get_key_value(&own)
        .or_else(|| settings.get_key_value("*/*"))?;
    let t = portico_limits::Throttle {
        rate: s.throttling_rate_limit?,
        burst: u32::try_from(s.throttling_burst_limit?.max(0)).ok()?,
    };
    let bucket = format!(
        "stage:{}:{}:{key}",
        api.id.as_deref().unwrap_or(""),
        stage.stage_name.as_deref().unwrap_or("")
    );
    Some((bucket, t))
}

/// The API's models compiled into one schema set, at most once per stage.
#[derive(Default)]
struct SchemaCache(Option<Option<Arc<portico_mapping::schema::SchemaSet>>>);

impl SchemaCache {
    fn get(&mut self, doc: &RestApiDocument) -> Option<Arc<portico_mapping::schema::SchemaSet>> {
        self.0
            .get_or_insert_with(|| {
                let models: Vec<(String, String)> = doc
                    .models
                    .iter()
                    .map(|(name, m)| (name.clone(), m.schema.clone().unwrap_or_default()))
                    .collect();
                match portico_mapping::schema::SchemaSet::compile(&models) {
                    Ok(set) => Some(Arc::new(set)),
                    Err(e) => {
                        tracing::warn!(error = %e, "models do not compile; validated bodies answer 500");
                        None
                    }
                }
            })
            .clone()
    }
}

/// The request validator's checks for one method.
fn validation(
    doc: &RestApiDocument,
    m: &v1::Method,
    schemas: &mut SchemaCache,
) -> crate::method_request::Validation {
    let mut v = crate::method_request::Validation::default();
    let Some(validator) = m
        .request_validator_id
        .as_ref()
        .and_then(|id| doc.request_validators.get(id))
    else {
        return v;
    };
    if validator.validate_request_parameters.unwrap_or(false) {
        for (key, required) in m.request_parameters.iter().flatten() {
            if !required {
                continue;
            }
            if let Some(n) = key.strip_prefix("method.request.header.") {
                v.required_headers.push(n.to_ascii_lowercase());
            } else if let Some(n) = key.strip_prefix("method.request.multivalueheader.") {
                v.required_headers.push(n.to_ascii_lowercase());
            } else if let Some(n) = key.strip_prefix("method.request.path.") {
                v.required_path.push(n.to_string());
            } else if let Some(n) = key
                .strip_prefix("method.request.querystring.")
                .or_else(|| key.strip_prefix("method.request.multivaluequerystring."))
            {
                v.required_query.push(n.to_string());
            }
        }
    }
    if validator.validate_request_body.unwrap_or(false) {
        let models: Vec<(String, String)> = m
            .request_models
            .iter()
            .flatten()
            .map(|(ct, model)| (ct.to_ascii_lowercase(), model.clone()))
            .collect();
        if !models.is_empty() {
            v.body_models = Some(models);
            v.schemas = schemas.get(doc);
        }
    }
    v
}

/// Compiles one stage of a deployment. Methods that cannot be compiled answer 500 at request
/// time (as AWS's API_CONFIGURATION_ERROR) rather than failing the whole stage.
pub fn compile_stage(stage: &v1::Stage, deployment: &DeploymentRecord) -> CompiledStage {
    let doc: &RestApiDocument = &deployment.snapshot;
    let vars = Arc::new(stage.variables.clone().unwrap_or_default());
    let mut router = Router::new();
    let mut schemas = SchemaCache::default();
    let mut needs_header_case = false;
    for (rid, r) in &doc.resources {
        let path = doc.path_of(rid).unwrap_or_else(|| "/".into());
        let methods = r
            .resource_methods
            .iter()
            .flatten()
            .map(|(verb, m)| {
                let integration = integration(m.method_integration.as_ref(), &vars)
                    .unwrap_or_else(|e| Integration::Unsupported(e.0));
                let authorization = crate::authorization::Authorization::compile(doc, m, &vars);
                needs_header_case |= matches!(integration, Integration::LambdaProxy(..))
                    || matches!(&authorization, crate::authorization::Authorization::Lambda(a) if a.is_request());
                let method_key = format!("{}/{verb}", if path == "/" { "" } else { path.as_str() });
                Arc::new(CompiledMethod {
                    http_method: verb.clone(),
                    authorization,
                    api_key_required: m.api_key_required.unwrap_or(false),
                    stage_throttle: stage_throttle(stage, &doc.api, &path, verb),
                    method_key,
                    validation: validation(doc, m, &mut schemas),
                    resource_id: rid.clone(),
                    resource_path: path.clone(),
                    greedy_param: path
                        .rsplit('/')
                        .next()
                        .and_then(|last| last.strip_prefix('{')?.strip_suffix("+}"))
                        .map(str::to_string),
                    integration,
                })
            })
            .collect();
        let res = CompiledResource {
            id: rid.clone(),
            path: path.clone(),
            methods,
        };
        if let Err(e) = router.insert(&path, res) {
            tracing::warn!(
                api_id = doc.api.id.as_deref().unwrap_or(""),
                ?e,
                "resource not routable"
            );
        }
    }
    CompiledStage {
        api_id: doc.api.id.clone().unwrap_or_default(),
        api_key_from_header: doc.api.api_key_source.as_deref() != Some("AUTHORIZER"),
        gateway_responses: crate::gateway_response::Customized::compile(doc),
        name: stage.stage_name.clone().unwrap_or_default(),
        deployment_id: deployment.deployment.id.clone().unwrap_or_default(),
        variables: vars,
        router,
        binary_media_types: doc.api.binary_media_types.clone().unwrap_or_default(),
        needs_header_case,
        resource_policy: crate::authorization::resource_policy::ResourcePolicy::compile(
            doc.api.id.as_deref().unwrap_or(""),
            doc.api.policy.as_deref(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variables_and_placeholders() {
        let mut vars = IndexMap::new();
        vars.insert("host".to_string(), "example.com".to_string());
        let s = substitute_stage_variables("http://${stageVariables.host}/{proxy}", &vars);
        assert_eq!(s, "http://example.com/{proxy}");
        let t = uri_template(&s);
        assert!(matches!(&t.parts[1], UriPart::Param(p) if p == "proxy"));
        assert_eq!(
            substitute_stage_variables("${stageVariables.none}x", &vars),
            "x"
        );
    }
}
