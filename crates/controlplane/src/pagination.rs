//! v1 pagination: `{"item": [...], "position": "..."}` with `limit` (default 25, max 500).

use serde_json::{Value, json};

use crate::{ApiError, Call};

/// One page of `items` as the call's `limit` and `position` ask.
pub(crate) fn page(call: &Call, items: Vec<Value>) -> Result<Value, ApiError> {
    // AWS answers an out-of-range limit with an empty page (0) or at most 500 items.
    let limit = match call.query("limit") {
        None => 25,
        Some(s) => match s.parse::<i64>() {
            Ok(n) => n.clamp(0, 500) as usize,
            Err(_) => return Err(ApiError::bad_request("Invalid limit specified")),
        },
    };
    let start = match call.query("position") {
        None => 0,
        Some(p) => p
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request("Invalid position"))?,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let mut out = json!({ "item": page });
    if limit > 0 && start + limit < total {
        out["position"] = Value::String((start + limit).to_string());
    }
    Ok(out)
}
