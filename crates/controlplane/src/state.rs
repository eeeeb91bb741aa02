//! Reading and writing definitions through the store, with optimistic retries.

use portico_model::document::{DeploymentRecord, RestApiDocument};
use portico_model::v1;
use portico_store::{Expect, Key, Kind, StoreError, Write};

use crate::{ApiError, ControlPlane};

/// How often a read-modify-write is retried when another writer got there first.
const RETRIES: usize = 16;

impl ControlPlane {
    pub(crate) fn api_not_found(&self, api_id: &str) -> ApiError {
        ApiError::not_found(format!(
            "Invalid API identifier specified {}:{api_id}",
            self.settings.account_id
        ))
    }

    /// For operations under a resource, AWS reports an unknown API as an unknown resource.
    pub(crate) fn as_resource_error(e: ApiError) -> ApiError {
        if e.status == 404 && e.message.starts_with("Invalid API identifier specified") {
            ApiError::not_found("Invalid Resource identifier specified")
        } else {
            e
        }
    }

    pub(crate) async fn load_api(&self, api_id: &str) -> Result<(RestApiDocument, u64), ApiError> {
        let rec = self
            .store
            .get(&Key::new(Kind::RestApi, "", api_id))
            .await?
            .ok_or_else(|| self.api_not_found(api_id))?;
        let doc = serde_json::from_str(&rec.body)
            .map_err(|e| ApiError::internal(format!("corrupt stored API {api_id}: {e}")))?;
        Ok((doc, rec.revision))
    }

    /// Applies `f` to the stored API and writes it back atomically; retried on a concurrent
    /// write. `extra` writes (stages, deployments) commit in the same batch.
    pub(crate) async fn update_api<T>(
        &self,
        api_id: &str,
        mut f: impl FnMut(&mut RestApiDocument) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        for _ in 0..RETRIES {
            let (mut doc, rev) = self.load_api(api_id).await?;
            let out = f(&mut doc)?;
            let body = to_json(&doc)?;
            let write = Write::Put {
                key: Key::new(Kind::RestApi, "", api_id),
                body,
                expect: Expect::Revision(rev),
            };
            match self.store.commit(vec![write]).await {
                Ok(_) => return Ok(out),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(Key::new(Kind::RestApi, "", api_id)).into())
    }

    pub(crate) async fn load_stage(
        &self,
        api_id: &str,
        name: &str,
    ) -> Result<Option<(v1::Stage, u64)>, ApiError> {
        let Some(rec) = self.store.get(&Key::new(Kind::Stage, api_id, name)).await? else {
            return Ok(None);
        };
        let stage = serde_json::from_str(&rec.body)
            .map_err(|e| ApiError::internal(format!("corrupt stored stage: {e}")))?;
        Ok(Some((stage, rec.revision)))
    }

    pub(crate) async fn list_stages(&self, api_id: &str) -> Result<Vec<v1::Stage>, ApiError> {
        self.store
            .list(Kind::Stage, Some(api_id))
            .await?
            .iter()
            .map(|r| {
                serde_json::from_str(&r.body)
                    .map_err(|e| ApiError::internal(format!("corrupt stored stage: {e}")))
            })
            .collect()
    }

    pub(crate) async fn load_deployment(
        &self,
        api_id: &str,
        id: &str,
    ) -> Result<Option<DeploymentRecord>, ApiError> {
        let Some(rec) = self
            .store
            .get(&Key::new(Kind::Deployment, api_id, id))
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_str(&rec.body)
            .map(Some)
            .map_err(|e| ApiError::internal(format!("corrupt stored deployment: {e}")))
    }

    pub(crate) async fn list_deployments(
        &self,
        api_id: &str,
    ) -> Result<Vec<DeploymentRecord>, ApiError> {
        self.store
            .list(Kind::Deployment, Some(api_id))
            .await?
            .iter()
            .map(|r| {
                serde_json::from_str(&r.body)
                    .map_err(|e| ApiError::internal(format!("corrupt stored deployment: {e}")))
            })
            .collect()
    }
}

pub(crate) fn to_json(v: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::internal(e.to_string()))
}

/// The resource, or AWS's 404.
pub(crate) fn resource_mut<'a>(
    doc: &'a mut RestApiDocument,
    id: &str,
) -> Result<&'a mut v1::Resource, ApiError> {
    doc.resources
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
}

pub(crate) fn resource<'a>(
    doc: &'a RestApiDocument,
    id: &str,
) -> Result<&'a v1::Resource, ApiError> {
    doc.resources
        .get(id)
        .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
}

/// The method of a resource, or AWS's 404.
pub(crate) fn method_mut<'a>(
    doc: &'a mut RestApiDocument,
    resource_id: &str,
    http_method: &str,
) -> Result<&'a mut v1::Method, ApiError> {
    resource_mut(doc, resource_id)?
        .resource_methods
        .as_mut()
        .and_then(|m| m.get_mut(http_method))
        .ok_or_else(|| ApiError::not_found("Invalid Method identifier specified"))
}

pub(crate) fn method<'a>(
    doc: &'a RestApiDocument,
    resource_id: &str,
    http_method: &str,
) -> Result<&'a v1::Method, ApiError> {
    resource(doc, resource_id)?
        .resource_methods
        .as_ref()
        .and_then(|m| m.get(http_method))
        .ok_or_else(|| ApiError::not_found("Invalid Method identifier specified"))
}
