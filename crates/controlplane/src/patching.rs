//! Reading `patchOperations` from a call, and the error messages AWS gives for bad ones.

use portico_model::patch::{self, Patch, PatchOp};
use portico_model::v1::PatchOperation;

use crate::{ApiError, Call};

#[derive(serde::Deserialize, Default)]
struct PatchBody {
    #[serde(rename = "patchOperations", default)]
    patch_operations: Vec<PatchOperation>,
}

/// The call's patch operations; bad `op`s answer AWS's ValidationException. `input` is the
/// input shape's name as AWS reports it (`updateRestApiInput`).
pub(crate) fn read(call: &Call, input: &str) -> Result<Vec<Patch>, ApiError> {
    let body: PatchBody = call.input()?;
    patch::parse(&body.patch_operations, input).map_err(|errs| ApiError::validation(&errs))
}

/// `Invalid patch path  '/x' specified for op 'replace'. Must be one of: [...]` (two spaces: AWS's).
pub(crate) fn invalid_path_must_be(p: &Patch, allowed: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid patch path  '{}' specified for op '{}'. Must be one of: [{allowed}]",
        p.path,
        p.op.as_str()
    ))
}

/// `Invalid patch path  '/x' specified for op 'add'. Please choose supported operations`.
pub(crate) fn unsupported_op(p: &Patch) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
        p.path,
        p.op.as_str()
    ))
}

/// `Invalid patch path /x`.
pub(crate) fn invalid_path(p: &Patch) -> ApiError {
    ApiError::bad_request(format!("Invalid patch path {}", p.path))
}

/// `Invalid patch operation specified. Must be one of: [replace]`.
pub(crate) fn replace_only() -> ApiError {
    ApiError::bad_request("Invalid patch operation specified. Must be one of: [replace]")
}

/// The value of an add/replace, or AWS's complaint about a missing one.
pub(crate) fn value(p: &Patch) -> Result<String, ApiError> {
    p.value.clone().ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid null or empty value for patch path {}",
            p.path
        ))
    })
}

/// A boolean patch value (`"true"`/`"false"`; anything else is false, as AWS parses it).
pub(crate) fn bool_value(p: &Patch) -> bool {
    p.value
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Whether the op sets a value (add or replace).
pub(crate) fn sets(p: &Patch) -> bool {
    matches!(p.op, PatchOp::Add | PatchOp::Replace)
}
