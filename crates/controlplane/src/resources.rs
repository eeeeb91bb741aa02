//! Resources: the REST API's path tree, with AWS's path-part rules.

use portico_model::document::RestApiDocument;
use portico_model::patch::PatchOp;
use portico_model::{ids, v1};
use serde_json::Value;

use crate::patching::{self, invalid_path_must_be, unsupported_op};
use crate::state::{resource, resource_mut};
use crate::{ApiError, Call, ControlPlane, Outcome, Reply, pagination};

/// AWS's rule for a path part: `a-zA-Z0-9._-`, or a whole `{name}` / `{name+}`.
fn valid_path_part(part: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
    };
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) => plain(inner.strip_suffix('+').unwrap_or(inner)),
        None => plain(part),
    }
}

fn is_variable(part: &str) -> bool {
    part.starts_with('{') && part.ends_with('}')
}

fn is_greedy(part: &str) -> bool {
    part.starts_with('{') && part.ends_with("+}")
}

/// Checks `path_part` may sit under `parent_id` (ignoring `except`, the resource being moved).
fn check_placement(
    doc: &RestApiDocument,
    parent_id: &str,
    path_part: &str,
    except: Option<&str>,
) -> Result<(), ApiError> {
    if !valid_path_part(path_part) {
        return Err(ApiError::bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
        ));
    }
    let parent = resource(doc, parent_id)?;
    if let Some(pp) = parent.path_part.as_deref().filter(|p| is_greedy(p)) {
        return Err(ApiError::bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {pp}"
        )));
    }
    for (id, sibling) in &doc.resources {
        if sibling.parent_id.as_deref() != Some(parent_id) || Some(id.as_str()) == except {
            continue;
        }
        let sp = sibling.path_part.as_deref().unwrap_or("");
        if sp == path_part {
            return Err(ApiError::conflict(format!(
                "Another resource with the same parent already has this name: {path_part}"
            )));
        }
        if is_variable(sp) && is_variable(path_part) {
            return Err(ApiError::bad_request(format!(
                "A sibling ({sp}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

/// The resource as a response: methods embedded in full or summarised.
pub(crate) fn render(r: &v1::Resource, embed_methods: bool) -> Result<Value, ApiError> {
    let mut r = r.clone();
    if !embed_methods && let Some(methods) = r.resource_methods.as_mut() {
        for m in methods.values_mut() {
            *m = v1::Method::default();
        }
    }
    if r.resource_methods.as_ref().is_some_and(|m| m.is_empty()) {
        r.resource_methods = None;
    }
    serde_json::to_value(r).map_err(|e| ApiError::internal(e.to_string()))
}

fn embeds_methods(call: &Call) -> bool {
    call.query("embed")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "methods"))
}

pub(crate) async fn list(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let embed = embeds_methods(call);
    let items = doc
        .resources
        .values()
        .map(|r| render(r, embed))
        .collect::<Result<_, _>>()?;
    Reply::json(pagination::page(call, items)?)
}

pub(crate) async fn get(cp: &ControlPlane, call: &Call) -> Outcome {
    let (doc, _) = cp.load_api(call.param("restapi_id")).await?;
    let r = resource(&doc, call.param("resource_id"))?;
    Reply::json(render(r, true)?)
}

pub(crate) async fn create(cp: &ControlPlane, call: &Call) -> Outcome {
    let input: v1::CreateResourceRequest = call.input()?;
    let path_part = input.path_part.unwrap_or_default();
    let parent_id = call.param("parent_id").to_string();
    let created = cp
        .update_api(call.param("restapi_id"), |doc| {
            check_placement(doc, &parent_id, &path_part, None)?;
            let id = ids::resource_id();
            let parent_path = doc.path_of(&parent_id).unwrap_or_else(|| "/".into());
            let path = if parent_path == "/" {
                format!("/{path_part}")
            } else {
                format!("{parent_path}/{path_part}")
            };
            let r = v1::Resource {
                id: Some(id.clone()),
                parent_id: Some(parent_id.clone()),
                path_part: Some(path_part.clone()),
                path: Some(path),
                ..Default::default()
            };
            doc.resources.insert(id, r.clone());
            Ok(r)
        })
        .await?;
    Reply::json(render(&created, true)?)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateResourceInput")?;
    let rid = call.param("resource_id").to_string();
    let updated = cp
        .update_api(call.param("restapi_id"), |doc| {
            let is_root = resource(doc, &rid)?.parent_id.is_none();
            for p in &patches {
                let field = p.segments.first().map(String::as_str).unwrap_or("");
                if p.segments.len() != 1 || !["pathPart", "parentId"].contains(&field) {
                    return Err(invalid_path_must_be(p, "/parentId, /pathPart"));
                }
                if p.op != PatchOp::Replace {
                    return Err(unsupported_op(p));
                }
                let value = patching::value(p)?;
                let current = resource(doc, &rid)?.clone();
                match field {
                    "pathPart" => {
                        if is_root {
                            return Err(ApiError::bad_request(
                                "Root resource cannot update its pathPart.",
                            ));
                        }
                        let parent = current.parent_id.clone().unwrap_or_default();
                        check_placement(doc, &parent, &value, Some(&rid))?;
                        resource_mut(doc, &rid)?.path_part = Some(value);
                    }
                    _ => {
                        if is_root {
                            return Err(ApiError::bad_request(
                                "Root resource cannot update its parentId.",
                            ));
                        }
                        resource(doc, &value)?;
                        if doc.subtree(&rid).contains(&value) {
                            return Err(ApiError::bad_request("Resources cannot be cyclical."));
                        }
                        let part = current.path_part.clone().unwrap_or_default();
                        check_placement(doc, &value, &part, Some(&rid))?;
                        resource_mut(doc, &rid)?.parent_id = Some(value);
                    }
                }
                doc.refresh_paths();
            }
            Ok(resource(doc, &rid)?.clone())
        })
        .await?;
    Reply::json(render(&updated, true)?)
}

pub(crate) async fn delete(cp: &ControlPlane, call: &Call) -> Outcome {
    let rid = call.param("resource_id").to_string();
    cp.update_api(call.param("restapi_id"), |doc| {
        if resource(doc, &rid)?.parent_id.is_none() {
            return Err(ApiError::bad_request("Cannot delete root resource"));
        }
        for id in doc.subtree(&rid) {
            doc.resources.shift_remove(&id);
        }
        Ok(())
    })
    .await?;
    Reply::empty()
}

#[cfg(test)]
mod tests {
    use super::valid_path_part;

    #[test]
    fn path_part_rules() {
        for ok in ["pets", "{id}", "{proxy+}", "a.b-c_d"] {
            assert!(valid_path_part(ok), "{ok}");
        }
        for bad in ["", "{}", "{a", "a/b", "{a+}+", "{{x}}"] {
            assert!(!valid_path_part(bad), "{bad}");
        }
    }
}
