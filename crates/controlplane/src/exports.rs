//! GetExport: a stage's deployed API as OpenAPI (`oas30` or `swagger`), JSON or YAML by the
//! `Accept` header, with the extensions the `extensions` parameter names.

use bytes::Bytes;
use portico_openapi::{ExportOptions, Version};

use portico_model::time;

use crate::{ApiError, Call, ControlPlane, Outcome, RawBody, Reply};

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let api_id = call.param("restapi_id");
    let stage_name = call.param("stage_name");
    let version = match call.param("export_type") {
        "oas30" => Version::OpenApi3,
        "swagger" => Version::Swagger2,
        other => {
            return Err(ApiError::bad_request(format!(
                "No API exporter for type '{other}'. Valid types are oas30, swagger."
            )));
        }
    };
    cp.load_api(api_id).await?;
    let (stage, _) = cp
        .load_stage(api_id, stage_name)
        .await?
        .ok_or_else(|| ApiError::not_found("Invalid stage identifier specified"))?;
    let deployment_id = stage.deployment_id.unwrap_or_default();
    let deployment = cp
        .load_deployment(api_id, &deployment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Invalid Deployment identifier specified"))?;
    let opts = ExportOptions {
        version,
        integrations: false,
        authorizers: false,
        apigateway: false,
        stage: stage_name.to_string(),
        host: format!("{api_id}.execute-api.{}.amazonaws.com", cp.settings.region),
        scheme: "https".into(),
        default_version: deployment
            .deployment
            .created_date
            .map(time::iso8601)
            .unwrap_or_default(),
    }
    .with_extensions(call.query("extensions").unwrap_or(""));
    let spec = portico_openapi::export(&deployment.snapshot, &opts);
    let yaml = call.accept.as_deref().is_some_and(|a| a.contains("yaml"));
    let (bytes, ext) = if yaml {
        let text = serde_saphyr::to_string(&spec)
            .map_err(|e| ApiError::internal(format!("YAML export failed: {e}")))?;
        (Bytes::from(text), "yaml")
    } else {
        let text =
            serde_json::to_vec_pretty(&spec).map_err(|e| ApiError::internal(e.to_string()))?;
        (Bytes::from(text), "json")
    };
    // AWS names the file after the API's version (or the deployment date) and sends it as
    // octet-stream, JSON and YAML alike.
    let label = deployment
        .snapshot
        .api
        .version
        .clone()
        .unwrap_or_else(|| opts.default_version.clone());
    let kind = match version {
        Version::OpenApi3 => "oas30",
        Version::Swagger2 => "swagger",
    };
    Ok(Reply {
        body: None,
        status: None,
        raw: Some(RawBody {
            content_type: "application/octet-stream".to_string(),
            headers: vec![(
                "content-disposition",
                format!("attachment; filename=\"{kind}_{label}.{ext}\""),
            )],
            bytes,
        }),
    })
}
