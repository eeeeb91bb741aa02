//! Models: OpenAPI schemas (`definitions` / `components.schemas`) to API Gateway models and
//! back, rewriting `$ref`s between `#/definitions/X` and AWS's model URLs.

use serde_json::{Map, Value};

use crate::document::Version;

/// The host AWS writes into model references.
const MODEL_BASE: &str = "https://apigateway.amazonaws.com/restapis/";

/// The model a `$ref` names: `#/definitions/X`, `#/components/schemas/X` or an AWS model URL.
pub(crate) fn referenced_model(reference: &str) -> Option<&str> {
    if let Some(name) = reference
        .strip_prefix("#/definitions/")
        .or_else(|| reference.strip_prefix("#/components/schemas/"))
    {
        return Some(name);
    }
    let rest = reference.strip_prefix(MODEL_BASE)?;
    let (_, name) = rest.split_once("/models/")?;
    Some(name)
}

/// The model named by a schema that is only a `$ref`.
pub(crate) fn schema_model(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(referenced_model)
}

/// A schema with its local references pointed at the API's model URLs, as AWS stores it.
pub(crate) fn to_model_schema(schema: &Value, api_id: &str) -> Value {
    rewrite(schema, &|r| {
        referenced_model(r)
            .filter(|_| r.starts_with('#'))
            .map(|name| format!("{MODEL_BASE}{api_id}/models/{name}"))
    })
}

/// A stored model schema with AWS model URLs turned back into local references.
pub(crate) fn to_spec_schema(schema: &Value, version: Version) -> Value {
    let prefix = match version {
        Version::Swagger2 => "#/definitions/",
        Version::OpenApi3 => "#/components/schemas/",
    };
    rewrite(schema, &|r| {
        r.starts_with(MODEL_BASE)
            .then(|| referenced_model(r))
            .flatten()
            .map(|name| format!("{prefix}{name}"))
    })
}

fn rewrite(v: &Value, f: &dyn Fn(&str) -> Option<String>) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, item) in map {
                let new = match (k.as_str(), item) {
                    ("$ref", Value::String(r)) => f(r).map_or_else(|| item.clone(), Value::String),
                    _ => rewrite(item, f),
                };
                out.insert(k.clone(), new);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| rewrite(i, f)).collect()),
        other => other.clone(),
    }
}

/// Model names are alphanumeric in API Gateway.
pub(crate) fn valid_model_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_round_trip() {
        let s = json!({"type": "array", "items": {"$ref": "#/definitions/Pet"}});
        let m = to_model_schema(&s, "abc");
        assert_eq!(
            m["items"]["$ref"],
            "https://apigateway.amazonaws.com/restapis/abc/models/Pet"
        );
        assert_eq!(to_spec_schema(&m, Version::Swagger2), s);
        assert_eq!(
            to_spec_schema(&m, Version::OpenApi3)["items"]["$ref"],
            "#/components/schemas/Pet"
        );
    }
}
