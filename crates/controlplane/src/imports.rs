//! ImportRestApi (`POST /restapis?mode=import`) and PutRestApi (`PUT /restapis/{id}`): an
//! OpenAPI document, JSON or YAML, becomes an API or replaces/extends one.

use portico_model::document::RestApiDocument;
use portico_model::{ids, time, v1};
use portico_openapi::{BasePathMode, ImportOptions, PutMode};
use portico_store::{Expect, Key, Kind, StoreError, Write};

use crate::state::to_json;
use crate::{ApiError, Call, ControlPlane, Outcome, Reply};

/// Reads `failonwarnings` and `parameters` (`basepath`, `endpointConfigurationTypes`).
fn options(call: &Call, api_id: &str) -> Result<ImportOptions, ApiError> {
    let base_path = match call.query("basepath") {
        None => BasePathMode::Ignore,
        Some(b) => BasePathMode::parse(b).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid basepath parameter value: {b}. Valid values are ignore, prepend, split."
            ))
        })?,
    };
    let endpoint_types = call
        .query("endpointConfigurationTypes")
        .map(|t| t.split(',').map(|s| s.trim().to_string()).collect());
    Ok(ImportOptions {
        api_id: api_id.to_string(),
        base_path,
        endpoint_types,
        fail_on_warnings: call
            .query("failonwarnings")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
    })
}

fn read(call: &Call, api_id: &str) -> Result<portico_openapi::Imported, ApiError> {
    let opts = options(call, api_id)?;
    let spec = portico_openapi::parse(&call.body).map_err(|e| ApiError::bad_request(e.message))?;
    portico_openapi::import(&spec, &opts).map_err(|e| ApiError::bad_request(e.message))
}

/// Fills what AWS sets on every API and checks the endpoint configuration.
fn complete_api(api: &mut v1::RestApi) -> Result<(), ApiError> {
    let cfg = api
        .endpoint_configuration
        .get_or_insert_with(Default::default);
    let types = cfg.types.clone().unwrap_or_else(|| vec!["EDGE".into()]);
    if types.len() > 1 {
        return Err(ApiError::bad_request(
            "Cannot create an api with multiple Endpoint Types.",
        ));
    }
    let private = types.iter().any(|t| t == "PRIVATE");
    cfg.types = Some(types);
    if cfg.ip_address_type.is_none() {
        cfg.ip_address_type = Some(if private { "dualstack" } else { "ipv4" }.into());
    }
    if api.api_key_source.is_none() {
        api.api_key_source = Some("HEADER".into());
    }
    if api.disable_execute_api_endpoint.is_none() {
        api.disable_execute_api_endpoint = Some(false);
    }
    Ok(())
}

fn root_id(doc: &RestApiDocument) -> Option<String> {
    doc.resources
        .iter()
        .find(|(_, r)| r.parent_id.is_none())
        .map(|(id, _)| id.clone())
}

pub(crate) async fn import(cp: &ControlPlane, call: &Call) -> Outcome {
    let id = ids::rest_api_id();
    let imported = read(call, &id)?;
    let mut doc = imported.doc;
    complete_api(&mut doc.api)?;
    doc.api.id = Some(id.clone());
    doc.api.created_date = Some(time::now_epoch_seconds());
    doc.api.root_resource_id = root_id(&doc);
    cp.commit_live(vec![Write::Put {
        key: Key::new(Kind::RestApi, "", &id),
        body: to_json(&doc)?,
        expect: Expect::Absent,
    }])
    .await?;
    let mut api = doc.api;
    if !imported.warnings.is_empty() {
        api.warnings = Some(imported.warnings);
    }
    Reply::json(&api)
}

pub(crate) async fn put(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    let mode = match call.query("mode").unwrap_or("merge") {
        "merge" => PutMode::Merge,
        "overwrite" => PutMode::Overwrite,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid mode specified: {other}. Valid values are merge, overwrite."
            )));
        }
    };
    // The API must exist before the document is read (AWS answers 404 first).
    cp.load_api(api_id).await?;
    let imported = read(call, api_id)?;
    for _ in 0..16 {
        let (mut doc, rev) = cp.load_api(api_id).await?;
        portico_openapi::put(&mut doc, imported.doc.clone(), mode);
        let endpoint = imported.doc.api.endpoint_configuration.clone();
        if let Some(cfg) = endpoint.filter(|c| c.types.is_some()) {
            doc.api.endpoint_configuration = Some(cfg);
        }
        complete_api(&mut doc.api)?;
        doc.api.root_resource_id = root_id(&doc);
        if doc.api.tags.is_none() {
            doc.api.tags = Some(Default::default());
        }
        let write = Write::Put {
            key: Key::new(Kind::RestApi, "", api_id),
            body: to_json(&doc)?,
            expect: Expect::Revision(rev),
        };
        match cp.commit_live(vec![write]).await {
            Ok(_) => {
                let mut api = doc.api;
                if !imported.warnings.is_empty() {
                    api.warnings = Some(imported.warnings);
                }
                return Reply::json(&api);
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(Key::new(Kind::RestApi, "", api_id)).into())
}
