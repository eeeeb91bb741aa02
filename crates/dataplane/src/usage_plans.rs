//! Method request, second step: API key, then throttling and quota.
//!
//! One throttle applies per request, the most specific configured: usage-plan method >
//! usage-plan > stage method > stage `*/*`. The account's limit applies to every request on
//! top, as the region-wide cap. A usage plan's quota counts every request of its keys.

use portico_limits::Refusal;

use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

fn refused(r: Refusal) -> GatewayError {
    match r {
        Refusal::Throttled => GatewayError::new(ResponseType::Throttled),
        Refusal::QuotaExceeded => GatewayError::new(ResponseType::QuotaExceeded),
    }
}

/// Checks the API key (when the method requires one) and every throttle and quota that
/// applies. On success the key, if any, is recorded on the invocation.
pub(crate) fn check(dp: &DataPlane, inv: &mut Invocation) -> Result<(), GatewayError> {
    let table = dp.runtime.usage();
    let target = inv.target.clone();
    let mut client_throttled = false;
    if target.api_key_required {
        let forbidden = || GatewayError::new(ResponseType::InvalidApiKey);
        let value = if inv.stage.api_key_from_header {
            inv.header("x-api-key")
        } else {
            // apiKeySource AUTHORIZER: the Lambda authorizer's usageIdentifierKey.
            inv.authorized.usage_identifier_key.as_deref()
        };
        let value = value.ok_or_else(forbidden)?;
        let key = table
            .keys
            .get(value)
            .filter(|k| k.enabled)
            .ok_or_else(forbidden)?;
        let scope = (inv.stage.api_id.clone(), inv.stage.name.clone());
        let (plan, methods) = key
            .plans
            .iter()
            .find_map(|p| p.stages.get(&scope).map(|m| (p, m)))
            .ok_or_else(forbidden)?;
        // Usage plan: per-method throttle, else the plan's.
        if let Some(t) = methods.get(&target.method_key) {
            let bucket = format!(
                "plan:{}:{}:{}:{}:{}",
                plan.id, key.id, scope.0, scope.1, target.method_key
            );
            dp.limits.throttle(&bucket, *t).map_err(refused)?;
            client_throttled = true;
        } else if let Some(t) = plan.throttle {
            dp.limits
                .throttle(&format!("plan:{}:{}", plan.id, key.id), t)
                .map_err(refused)?;
            client_throttled = true;
        }
        dp.limits
            .consume(&plan.id, &key.id, plan.quota)
            .map_err(refused)?;
        inv.api_key = Some((value.to_string(), key.id.clone()));
    }
    if !client_throttled && let Some((bucket, t)) = &target.stage_throttle {
        dp.limits.throttle(bucket, *t).map_err(refused)?;
    }
    dp.limits.throttle_account(table.account).map_err(refused)
}
