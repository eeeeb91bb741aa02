//! PutRestApi: folding an imported document into an existing API, by `mode=overwrite` (the
//! document replaces the API's definitions) or `mode=merge` (it adds to them).
//!
//! In both modes the API keeps its id, creation date, tags and root resource, and a resource
//! keeps its id when the document has a resource at the same path. Authorizers, request
//! validators and models are matched by name; references inside the imported methods are
//! rewritten to the ids they end up with.

use indexmap::IndexMap;
use portico_model::document::RestApiDocument;

/// How PutRestApi combines the document with the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    Overwrite,
    Merge,
}

/// Applies `imported` (from [`crate::import`]) to `existing`.
pub fn put(existing: &mut RestApiDocument, mut imported: RestApiDocument, mode: PutMode) {
    // API-level settings: the document's, merged or replacing.
    let old = existing.api.clone();
    let new = &imported.api;
    let api = &mut existing.api;
    api.name = new.name.clone().or(old.name.clone());
    match mode {
        PutMode::Overwrite => {
            api.description = new.description.clone();
            api.version = new.version.clone();
            api.binary_media_types = new.binary_media_types.clone();
            api.minimum_compression_size = new.minimum_compression_size;
            api.policy = new.policy.clone();
            api.api_key_source = Some(
                new.api_key_source
                    .clone()
                    .unwrap_or_else(|| "HEADER".into()),
            );
        }
        PutMode::Merge => {
            if new.description.is_some() {
                api.description = new.description.clone();
            }
            if new.version.is_some() {
                api.version = new.version.clone();
            }
            if let Some(types) = &new.binary_media_types {
                let list = api.binary_media_types.get_or_insert_with(Vec::new);
                for t in types {
                    if !list.contains(t) {
                        list.push(t.clone());
                    }
                }
            }
            if new.minimum_compression_size.is_some() {
                api.minimum_compression_size = new.minimum_compression_size;
            }
            if new.policy.is_some() {
                api.policy = new.policy.clone();
            }
            if new.api_key_source.is_some() {
                api.api_key_source = new.api_key_source.clone();
            }
        }
    }

    // Named definitions: keep an existing id when the name matches.
    let mut authorizer_ids = IndexMap::new();
    let mut validator_ids = IndexMap::new();
    if mode == PutMode::Overwrite {
        let keep_authorizers = std::mem::take(&mut existing.authorizers);
        let keep_validators = std::mem::take(&mut existing.request_validators);
        for (new_id, a) in &imported.authorizers {
            if let Some((old_id, _)) = keep_authorizers.iter().find(|(_, o)| o.name == a.name) {
                authorizer_ids.insert(new_id.clone(), old_id.clone());
            }
        }
        for (new_id, v) in &imported.request_validators {
            if let Some((old_id, _)) = keep_validators.iter().find(|(_, o)| o.name == v.name) {
                validator_ids.insert(new_id.clone(), old_id.clone());
            }
        }
        existing.models.clear();
        existing.gateway_responses.clear();
    } else {
        for (new_id, a) in &imported.authorizers {
            if let Some((old_id, _)) = existing.authorizers.iter().find(|(_, o)| o.name == a.name) {
                authorizer_ids.insert(new_id.clone(), old_id.clone());
            }
        }
        for (new_id, v) in &imported.request_validators {
            if let Some((old_id, _)) = existing
                .request_validators
                .iter()
                .find(|(_, o)| o.name == v.name)
            {
                validator_ids.insert(new_id.clone(), old_id.clone());
            }
        }
    }
    for (new_id, mut a) in std::mem::take(&mut imported.authorizers) {
        let id = authorizer_ids.get(&new_id).cloned().unwrap_or(new_id);
        a.id = Some(id.clone());
        existing.authorizers.insert(id, a);
    }
    for (new_id, mut v) in std::mem::take(&mut imported.request_validators) {
        let id = validator_ids.get(&new_id).cloned().unwrap_or(new_id);
        v.id = Some(id.clone());
        existing.request_validators.insert(id, v);
    }
    for (name, mut m) in std::mem::take(&mut imported.models) {
        if let Some(old) = existing.models.get(&name) {
            m.id.clone_from(&old.id);
        }
        existing.models.insert(name, m);
    }
    existing
        .gateway_responses
        .extend(std::mem::take(&mut imported.gateway_responses));

    // Resources, matched by path.
    let old_by_path: IndexMap<String, String> = existing
        .resources
        .iter()
        .filter_map(|(id, r)| Some((r.path.clone()?, id.clone())))
        .collect();
    let mut id_map: IndexMap<String, String> = IndexMap::new();
    for (new_id, r) in &imported.resources {
        if let Some(old_id) = r.path.as_ref().and_then(|p| old_by_path.get(p)) {
            id_map.insert(new_id.clone(), old_id.clone());
        }
    }
    if mode == PutMode::Overwrite {
        let root = existing
            .resources
            .iter()
            .find(|(_, r)| r.parent_id.is_none())
            .map(|(id, r)| (id.clone(), r.clone()));
        existing.resources.clear();
        if let Some((id, mut r)) = root {
            r.resource_methods = None;
            existing.resources.insert(id, r);
        }
    }
    for (new_id, mut r) in std::mem::take(&mut imported.resources) {
        let id = id_map.get(&new_id).cloned().unwrap_or(new_id.clone());
        r.id = Some(id.clone());
        r.parent_id = r.parent_id.map(|p| id_map.get(&p).cloned().unwrap_or(p));
        for m in r.resource_methods.iter_mut().flat_map(|m| m.values_mut()) {
            if let Some(a) = m.authorizer_id.as_mut()
                && let Some(to) = authorizer_ids.get(a)
            {
                a.clone_from(to);
            }
            if let Some(v) = m.request_validator_id.as_mut()
                && let Some(to) = validator_ids.get(v)
            {
                v.clone_from(to);
            }
            if let Some(i) = m.method_integration.as_mut()
                && i.cache_namespace.as_deref() == Some(new_id.as_str())
            {
                i.cache_namespace = Some(id.clone());
            }
        }
        match existing.resources.get_mut(&id) {
            Some(current) => {
                let methods = current.resource_methods.get_or_insert_with(IndexMap::new);
                methods.extend(r.resource_methods.into_iter().flatten());
                if methods.is_empty() {
                    current.resource_methods = None;
                }
            }
            None => {
                existing.resources.insert(id, r);
            }
        }
    }
    existing.refresh_paths();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportOptions, import};
    use serde_json::json;

    fn imported(spec: serde_json::Value) -> RestApiDocument {
        import(
            &spec,
            &ImportOptions {
                api_id: "a".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .doc
    }

    fn spec(paths: serde_json::Value, media: &[&str]) -> serde_json::Value {
        json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": paths,
               "x-amazon-apigateway-binary-media-types": media})
    }

    #[test]
    fn merge_keeps_ids_and_adds() {
        let mock = json!({"responses": {}, "x-amazon-apigateway-integration": {"type": "mock"}});
        let mut doc = imported(spec(json!({"/a": {"get": mock}}), &["image/heif"]));
        let a_id = doc
            .resources
            .iter()
            .find(|(_, r)| r.path.as_deref() == Some("/a"))
            .unwrap()
            .0
            .clone();
        put(
            &mut doc,
            imported(spec(
                json!({"/a": {"post": mock}, "/b": {"get": mock}}),
                &["image/png"],
            )),
            PutMode::Merge,
        );
        let a = &doc.resources[&a_id];
        assert_eq!(a.resource_methods.as_ref().unwrap().len(), 2);
        assert_eq!(doc.resources.len(), 3);
        assert_eq!(
            doc.api.binary_media_types.as_deref().unwrap(),
            ["image/heif", "image/png"]
        );
        assert_eq!(
            a.resource_methods.as_ref().unwrap()["POST"]
                .method_integration
                .as_ref()
                .unwrap()
                .cache_namespace
                .as_deref(),
            Some(a_id.as_str())
        );
    }

    #[test]
    fn overwrite_replaces() {
        let mock = json!({"responses": {}, "x-amazon-apigateway-integration": {"type": "mock"}});
        let mut doc = imported(spec(json!({"/a": {"get": mock}}), &["image/heif"]));
        let root = doc
            .resources
            .iter()
            .find(|(_, r)| r.parent_id.is_none())
            .unwrap()
            .0
            .clone();
        put(
            &mut doc,
            imported(spec(json!({"/b": {"get": mock}}), &["image/png"])),
            PutMode::Overwrite,
        );
        assert_eq!(doc.resources.len(), 2);
        assert!(doc.resources.contains_key(&root));
        assert!(
            doc.resources
                .values()
                .any(|r| r.path.as_deref() == Some("/b"))
        );
        assert_eq!(
            doc.api.binary_media_types.as_deref().unwrap(),
            ["image/png"]
        );
    }
}
