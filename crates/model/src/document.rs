//! How a REST API is stored: one document holding the API and everything beneath it.
//!
//! A deployment is an immutable copy of this document; the data plane compiles that copy.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::v1;

/// A REST API and all of its child definitions, keyed by their ids (models by name,
/// gateway responses by type).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestApiDocument {
    pub api: v1::RestApi,
    #[serde(default)]
    pub resources: IndexMap<String, v1::Resource>,
    #[serde(default)]
    pub models: IndexMap<String, v1::Model>,
    #[serde(default, rename = "requestValidators")]
    pub request_validators: IndexMap<String, v1::RequestValidator>,
    #[serde(default)]
    pub authorizers: IndexMap<String, v1::Authorizer>,
    #[serde(default, rename = "gatewayResponses")]
    pub gateway_responses: IndexMap<String, v1::GatewayResponse>,
}

/// A deployment record: the AWS `Deployment` plus the snapshot it froze.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub deployment: v1::Deployment,
    pub snapshot: RestApiDocument,
}

impl RestApiDocument {
    /// The resource's full path (`/pets/{id}`), derived from its parents.
    pub fn path_of(&self, resource_id: &str) -> Option<String> {
        let mut parts = Vec::new();
        let mut cur = self.resources.get(resource_id)?;
        let mut guard = 0;
        while let Some(parent) = cur.parent_id.as_deref() {
            parts.push(cur.path_part.clone().unwrap_or_default());
            cur = self.resources.get(parent)?;
            guard += 1;
            if guard > 10_000 {
                return None;
            }
        }
        if parts.is_empty() {
            return Some("/".to_string());
        }
        parts.reverse();
        Some(format!("/{}", parts.join("/")))
    }

    /// Recomputes every resource's `path` (after a rename or a move).
    pub fn refresh_paths(&mut self) {
        let ids: Vec<String> = self.resources.keys().cloned().collect();
        for id in ids {
            if let Some(p) = self.path_of(&id)
                && let Some(r) = self.resources.get_mut(&id)
            {
                r.path = Some(p);
            }
        }
    }

    /// Ids of `resource_id` and all of its descendants.
    pub fn subtree(&self, resource_id: &str) -> Vec<String> {
        let mut out = vec![resource_id.to_string()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for (id, r) in &self.resources {
                if r.parent_id.as_deref() == Some(cur.as_str()) && !out.contains(id) {
                    out.push(id.clone());
                }
            }
            i += 1;
        }
        out
    }
}
