//! The management API: Amazon API Gateway's `apigateway` (v1) rest-json protocol, so that the
//! AWS CLI, boto3 and the AWS SDKs drive Portico unchanged with an endpoint override.
//!
//! A request is matched against the operation table generated from botocore's service model
//! ([`portico_model::OPERATIONS`]), dispatched to the module named after the AWS resource it
//! manages, and answered with AWS's status codes, JSON field names and error bodies.
//! Operations that are not built yet answer `NotImplementedException` naming the operation.
//!
//! Architecture invariant: the control plane writes definitions to the store and never talks
//! to the data plane; the data plane learns of changes through the store's change feed.

mod account;
mod admin_auth;
mod api_keys;
mod authorizers;
mod call;
mod deployments;
mod error;
mod exports;
mod gateway_responses;
mod imports;
mod integrations;
mod methods;
mod models;
mod pagination;
mod patching;
mod request_validators;
mod resources;
mod restapis;
mod routes;
mod stages;
mod state;
mod test_invoke_authorizer;
mod usage_plans;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response};
use portico_model::OperationName as Op;
use portico_store::Store;

pub use call::Call;
pub use error::ApiError;

/// The largest management request body accepted (imports included).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Settings the management API needs to answer as AWS would.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub account_id: String,
    /// The account's throttle (GetAccount's `throttleSettings`).
    pub account_rate_limit: f64,
    pub account_burst_limit: u32,
}

/// Called with a commit's revision; resolves once the data plane serves that revision.
pub type PublishedHook = Arc<dyn Fn(u64) -> portico_store::BoxFuture<'static, ()> + Send + Sync>;

/// The management API service.
pub struct ControlPlane {
    store: Arc<dyn Store>,
    settings: Settings,
    routes: routes::Routes,
    published: Option<PublishedHook>,
    /// Access key id → secret; when any are set, every request must be signed by one.
    access_keys: std::collections::HashMap<String, String>,
    /// Runs authorizer functions for TestInvokeAuthorizer.
    invoker: Option<Arc<portico_functions::Invoker>>,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A successful answer: the operation's status and an optional JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) body: Option<serde_json::Value>,
    /// Overrides the operation's documented status (rarely needed).
    pub(crate) status: Option<u16>,
    /// A body that is not JSON (GetExport): content type, extra headers, bytes.
    pub(crate) raw: Option<RawBody>,
}

/// A non-JSON response body.
#[derive(Debug)]
pub(crate) struct RawBody {
    pub(crate) content_type: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) bytes: Bytes,
}

impl Reply {
    pub(crate) fn json(v: impl serde::Serialize) -> Result<Reply, ApiError> {
        let body = serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Reply {
            body: Some(body),
            status: None,
            raw: None,
        })
    }

    pub(crate) fn empty() -> Result<Reply, ApiError> {
        Ok(Reply {
            body: None,
            status: None,
            raw: None,
        })
    }
}

pub(crate) type Outcome = Result<Reply, ApiError>;

impl ControlPlane {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> ControlPlane {
        ControlPlane {
            store,
            settings,
            routes: routes::Routes::new(),
            published: None,
            access_keys: Default::default(),
            invoker: None,
        }
    }

    /// Locks the API: every request must be SigV4-signed (service `apigateway`, this region)
    /// by one of `keys` (access key id, secret), or it is refused as AWS refuses it.
    /// Lets TestInvokeAuthorizer run Lambda authorizers.
    pub fn with_invoker(mut self, invoker: Arc<portico_functions::Invoker>) -> ControlPlane {
        self.invoker = Some(invoker);
        self
    }

    pub fn with_access_keys(
        mut self,
        keys: impl IntoIterator<Item = (String, String)>,
    ) -> ControlPlane {
        self.access_keys = keys.into_iter().collect();
        self
    }

    /// Makes writes that change what is served (deployments, stages) answer only once the
    /// data plane serves them, as AWS's do.
    pub fn with_published_hook(mut self, hook: PublishedHook) -> ControlPlane {
        self.published = Some(hook);
        self
    }

    /// Commits `writes` and waits until the data plane has applied them.
    pub(crate) async fn commit_live(
        &self,
        writes: Vec<portico_store::Write>,
    ) -> Result<u64, portico_store::StoreError> {
        let rev = self.store.commit(writes).await?;
        if let Some(hook) = &self.published {
            hook(rev).await;
        }
        Ok(rev)
    }

    /// Answers one management request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: hyper::body::Body + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request_id = portico_model::ids::request_id();
        let (parts, body) = req.into_parts();
        let response = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => {
                let body = collected.to_bytes();
                if let Err(e) =
                    admin_auth::check(&self.access_keys, &self.settings.region, &parts, &body)
                {
                    return call::with_request_id(e.into_response(), &request_id);
                }
                match self.routes.resolve(&parts.method, &parts.uri) {
                    Some((op, params)) => {
                        let mut call = Call::new(op, params, parts.uri.query(), body);
                        call.accept = parts
                            .headers
                            .get(hyper::header::ACCEPT)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        let status = op.status;
                        match self.dispatch(&call).await {
                            Ok(Reply { raw: Some(raw), .. }) => call::raw(status, raw),
                            Ok(reply) => call::ok(reply.status.unwrap_or(status), reply.body),
                            Err(e) => e.into_response(),
                        }
                    }
                    None => {
                        ApiError::unknown_operation(&parts.method, parts.uri.path()).into_response()
                    }
                }
            }
            Err(_) => ApiError::bad_request("Request body too large").into_response(),
        };
        call::with_request_id(response, &request_id)
    }

    async fn dispatch(&self, call: &Call) -> Outcome {
        tracing::debug!(operation = call.op.as_str(), "management call");
        match call.op {
            Op::CreateRestApi => restapis::create(self, call).await,
            Op::GetRestApi => restapis::get(self, call).await,
            Op::GetRestApis => restapis::list(self, call).await,
            Op::UpdateRestApi => restapis::update(self, call).await,
            Op::ImportRestApi => imports::import(self, call).await,
            Op::PutRestApi => imports::put(self, call).await,
            Op::GetExport => exports::get(self, call).await,
            Op::CreateAuthorizer => authorizers::create(self, call).await,
            Op::GetAuthorizer => authorizers::get(self, call).await,
            Op::GetAuthorizers => authorizers::list(self, call).await,
            Op::UpdateAuthorizer => authorizers::update(self, call).await,
            Op::DeleteAuthorizer => authorizers::delete(self, call).await,
            Op::TestInvokeAuthorizer => test_invoke_authorizer::invoke(self, call).await,
            Op::DeleteRestApi => restapis::delete(self, call).await,
            Op::GetResources => resources::list(self, call).await,
            Op::GetResource => resources::get(self, call).await,
            Op::CreateResource => resources::create(self, call).await,
            Op::UpdateResource => resources::update(self, call).await,
            Op::DeleteResource => resources::delete(self, call).await,
            Op::PutMethod => methods::put(self, call).await,
            Op::GetMethod => methods::get(self, call).await,
            Op::UpdateMethod => methods::update(self, call).await,
            Op::DeleteMethod => methods::delete(self, call).await,
            Op::PutMethodResponse => methods::put_response(self, call).await,
            Op::GetMethodResponse => methods::get_response(self, call).await,
            Op::UpdateMethodResponse => methods::update_response(self, call).await,
            Op::DeleteMethodResponse => methods::delete_response(self, call).await,
            Op::PutIntegration => integrations::put(self, call).await,
            Op::GetIntegration => integrations::get(self, call).await,
            Op::UpdateIntegration => integrations::update(self, call).await,
            Op::DeleteIntegration => integrations::delete(self, call).await,
            Op::PutIntegrationResponse => integrations::put_response(self, call).await,
            Op::GetIntegrationResponse => integrations::get_response(self, call).await,
            Op::UpdateIntegrationResponse => integrations::update_response(self, call).await,
            Op::DeleteIntegrationResponse => integrations::delete_response(self, call).await,
            Op::CreateModel => models::create(self, call).await,
            Op::GetModel => models::get(self, call).await,
            Op::GetModels => models::list(self, call).await,
            Op::UpdateModel => models::update(self, call).await,
            Op::DeleteModel => models::delete(self, call).await,
            Op::CreateRequestValidator => request_validators::create(self, call).await,
            Op::GetRequestValidator => request_validators::get(self, call).await,
            Op::GetRequestValidators => request_validators::list(self, call).await,
            Op::UpdateRequestValidator => request_validators::update(self, call).await,
            Op::DeleteRequestValidator => request_validators::delete(self, call).await,
            Op::GetGatewayResponse => gateway_responses::get(self, call).await,
            Op::GetGatewayResponses => gateway_responses::list(self, call).await,
            Op::PutGatewayResponse => gateway_responses::put(self, call).await,
            Op::UpdateGatewayResponse => gateway_responses::update(self, call).await,
            Op::DeleteGatewayResponse => gateway_responses::delete(self, call).await,
            Op::CreateApiKey => api_keys::create(self, call).await,
            Op::GetApiKey => api_keys::get(self, call).await,
            Op::GetApiKeys => api_keys::list(self, call).await,
            Op::UpdateApiKey => api_keys::update(self, call).await,
            Op::DeleteApiKey => api_keys::delete(self, call).await,
            Op::ImportApiKeys => api_keys::import(self, call).await,
            Op::CreateUsagePlan => usage_plans::create(self, call).await,
            Op::GetUsagePlan => usage_plans::get(self, call).await,
            Op::GetUsagePlans => usage_plans::list(self, call).await,
            Op::UpdateUsagePlan => usage_plans::update(self, call).await,
            Op::DeleteUsagePlan => usage_plans::delete(self, call).await,
            Op::CreateUsagePlanKey => usage_plans::create_key(self, call).await,
            Op::GetUsagePlanKey => usage_plans::get_key(self, call).await,
            Op::GetUsagePlanKeys => usage_plans::list_keys(self, call).await,
            Op::DeleteUsagePlanKey => usage_plans::delete_key(self, call).await,
            Op::GetUsage => usage_plans::get_usage(self, call).await,
            Op::UpdateUsage => usage_plans::update_usage(self, call).await,
            Op::GetAccount => account::get(self, call).await,
            Op::UpdateAccount => account::update(self, call).await,
            Op::CreateDeployment => deployments::create(self, call).await,
            Op::GetDeployment => deployments::get(self, call).await,
            Op::GetDeployments => deployments::list(self, call).await,
            Op::UpdateDeployment => deployments::update(self, call).await,
            Op::DeleteDeployment => deployments::delete(self, call).await,
            Op::CreateStage => stages::create(self, call).await,
            Op::GetStage => stages::get(self, call).await,
            Op::GetStages => stages::list(self, call).await,
            Op::UpdateStage => stages::update(self, call).await,
            Op::DeleteStage => stages::delete(self, call).await,
            other => Err(ApiError::not_implemented(other)),
        }
    }
}
