//! v1 pagination: `{"item": [...], "position": "..."}` with `limit` (default 25, max 500).

use serde_json::{Value, json};

use crate::{ApiError, Call};

/// One page of `items` as the call's `limit` and `position` ask.
pub(crate) fn page(call: &Call, items: Vec<Value>) -> Result<Value, ApiError> {
    let limit = match call.query("limit") {
        None => 25,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "The limit must be between 1 and 500.",
                ));
            }
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
    if start + limit < total {
        out["position"] = Value::String((start + limit).to_string());
    }
    Ok(out)
}
