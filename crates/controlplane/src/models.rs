//! Models: JSON-schema (draft 4) definitions of payloads, keyed by name within an API.

use portico_model::document::RestApiDocument;
use portico_model::patch::PatchOp;
use portico_model::{ids, v1};

use crate::patching::{self, invalid_path_must_be, unsupported_op};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

const EMPTY_SCHEMA: &str = "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}";
const ERROR_SCHEMA: &str = "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}";

/// The `Empty` and `Error` models AWS gives every new REST API.
pub(crate) fn default_models(doc: &mut RestApiDocument) {
    for (name, description, schema) in [
        (
            "Empty",
            "This is a default empty schema model",
            EMPTY_SCHEMA,
        ),
        (
            "Error",
            "This is a default error schema model",
            ERROR_SCHEMA,
        ),
    ] {
        doc.models
            .entry(name.to_string())
            .or_insert_with(|| v1::Model {
                id: Some(ids::short_id(6)),
                name: Some(name.to_string()),
                description: Some(description.to_string()),
                schema: Some(schema.to_string()),
                content_type: Some("application/json".to_string()),
            });
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid model name specified: {name}"))
}

fn empty_schema() -> ApiError {
    ApiError::bad_request("Model schema must have at least 1 property or array items defined")
}

/// Whether every model of the API (with `candidate` replacing or adding one) still compiles:
/// a schema that cannot be used for validation is refused when it is written, as on AWS.
fn check_compiles(doc: &RestApiDocument, name: &str, schema: &str) -> Result<(), ApiError> {
    let mut models: Vec<(String, String)> = doc
        .models
        .iter()
        .filter(|(n, _)| n.as_str() != name)
        .map(|(n, m)| (n.clone(), m.schema.clone().unwrap_or_default()))
        .collect();
    models.push((name.to_string(), schema.to_string()));
    portico_mapping::SchemaSet::compile(&models).map(|_| ()).map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified: {}]",
            e.message
        ))
    })
}

/// AWS's checks on a model's schema text.
fn check_schema(schema: Option<&str>, content_type: &str) -> Result<(), ApiError> {
    let Some(text) = schema.filter(|s| !s.trim().is_empty()) else {
        return Err(empty_schema());
    };
    if content_type.contains("json") {
        let parsed: serde_json::Value = serde_json::from_str(text).map_err(|_| {
            ApiError::bad_request(
                "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
            )
        })?;
        if parsed.as_object().is_some_and(|o| o.is_empty()) {
            return Err(empty_schema());
        }
    }
    Ok(())
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::CreateModelRequest = call.input()?;
    let name = input.name.clone().unwrap_or_default();
    let content_type = input
        .content_type
        .clone()
        .unwrap_or_else(|| "application/json".into());
    let model = cp
        .update_api(call.param("restapi_id"), |doc| {
            if name.is_empty() {
                return Err(ApiError::bad_request("Model name must be non-empty"));
            }
            if !name.bytes().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ApiError::bad_request(
                    "Model name must be alphanumeric: ".to_string() + &name,
                ));
            }
            if doc.models.contains_key(&name) {
                return Err(ApiError::conflict(
                    "Model name already exists for this REST API",
                ));
            }
            check_schema(input.schema.as_deref(), &content_type)?;
            if content_type.contains("json") {
                check_compiles(doc, &name, input.schema.as_deref().unwrap_or_default())?;
            }
            let m = v1::Model {
                id: Some(ids::short_id(6)),
                name: Some(name.clone()),
                description: input.description.clone().filter(|d| !d.is_empty()),
                schema: input.schema.clone(),
                content_type: Some(content_type.clone()),
            };
            doc.models.insert(name.clone(), m.clone());
            Ok(m)
        })
        .await?;
    Reply::json(&model)
}

/// AWS reports an unknown API on a model operation as an unknown model.
fn model_error(name: &str) -> impl Fn(ApiError) -> ApiError + '_ {
    move |e| {
        if e.status == 404 && e.message.starts_with("Invalid API identifier specified") {
            not_found(name)
        } else {
            e
        }
    }
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let name = call.param("model_name");
    let (doc, _) = cp
        .load_api(call.param("restapi_id"))
        .await
        .map_err(model_error(name))?;
    Reply::json(doc.models.get(name).ok_or_else(|| not_found(name))?)
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let mut models: Vec<&v1::Model> = doc.models.values().collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let items = models
        .into_iter()
        .map(|m| serde_json::to_value(m).map_err(|e| ApiError::internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateModelInput")?;
    let name = call.param("model_name").to_string();
    let model = cp
        .update_api(call.param("restapi_id"), |doc| {
            doc.models.get(&name).ok_or_else(|| not_found(&name))?;
            for p in &patches {
                let field = p.segments.first().map(String::as_str).unwrap_or("");
                if p.segments.len() != 1 || !["description", "schema"].contains(&field) {
                    return Err(if p.op == PatchOp::Replace {
                        invalid_path_must_be(p, "/description, /schema")
                    } else {
                        unsupported_op(p)
                    });
                }
                if p.op != PatchOp::Replace {
                    return Err(unsupported_op(p));
                }
                if field == "schema" {
                    let ct = doc
                        .models
                        .get(&name)
                        .and_then(|m| m.content_type.clone())
                        .unwrap_or_default();
                    check_schema(p.value.as_deref(), &ct)?;
                    if ct.contains("json") {
                        check_compiles(doc, &name, p.value.as_deref().unwrap_or_default())?;
                    }
                    let m = doc.models.get_mut(&name).ok_or_else(|| not_found(&name))?;
                    m.schema = p.value.clone();
                } else {
                    let m = doc.models.get_mut(&name).ok_or_else(|| not_found(&name))?;
                    m.description = p.value.clone().filter(|d| !d.is_empty());
                }
            }
            doc.models
                .get(&name)
                .cloned()
                .ok_or_else(|| not_found(&name))
        })
        .await
        .map_err(model_error(&name))?;
    Reply::json(&model)
}

/// Where a model is used, as AWS names it in its conflict message (`/pets/GET`, root `//GET`).
fn first_use(doc: &RestApiDocument, name: &str) -> Option<String> {
    for r in doc.resources.values() {
        for (verb, m) in r.resource_methods.iter().flatten() {
            let in_request = m.request_models.iter().flatten().any(|(_, n)| n == name);
            let in_response = m
                .method_responses
                .iter()
                .flatten()
                .any(|(_, mr)| mr.response_models.iter().flatten().any(|(_, n)| n == name));
            if in_request || in_response {
                return Some(format!("{}/{verb}", r.path.as_deref().unwrap_or("/")));
            }
        }
    }
    None
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let name = call.param("model_name").to_string();
    cp.update_api(call.param("restapi_id"), |doc| {
        if !doc.models.contains_key(&name) {
            return Err(not_found(&name));
        }
        if let Some(used) = first_use(doc, &name) {
            return Err(ApiError::conflict(format!(
                "Cannot delete model '{name}', is referenced in method request: {used}"
            )));
        }
        doc.models.shift_remove(&name);
        Ok(())
    })
    .await
    .map_err(model_error(&name))?;
    Reply::empty()
}
