//! API keys and usage plans as the data plane sees them: compiled from the store's keys,
//! plans and plan keys (not from deployments: they apply at once, as on AWS).

use std::collections::HashMap;
use std::sync::Arc;

use portico_limits::{QuotaSpec, Throttle};
use portico_model::v1;

/// One usage plan, compiled.
#[derive(Debug, Default)]
pub struct Plan {
    pub id: String,
    /// `(api id, stage)` → per-method throttles keyed `/resourcePath/METHOD`.
    pub stages: HashMap<(String, String), HashMap<String, Throttle>>,
    pub throttle: Option<Throttle>,
    pub quota: Option<QuotaSpec>,
}

/// One API key: whether it is enabled and which plans it belongs to.
#[derive(Debug)]
pub struct ApiKey {
    pub id: String,
    pub enabled: bool,
    pub plans: Vec<Arc<Plan>>,
}

/// Everything the API-key phase needs, by key value.
#[derive(Debug)]
pub struct UsageTable {
    pub keys: HashMap<String, Arc<ApiKey>>,
    pub account: Throttle,
}

impl Default for UsageTable {
    fn default() -> Self {
        UsageTable {
            keys: HashMap::new(),
            account: Throttle {
                rate: 10_000.0,
                burst: 5_000,
            },
        }
    }
}

/// A throttle from AWS's settings; a missing half defaults from the other (a rate of r
/// allows bursts of r; a burst of b refills at b per second).
pub fn throttle_of(t: &v1::ThrottleSettings) -> Option<Throttle> {
    let (rate, burst) = match (t.rate_limit, t.burst_limit) {
        (Some(r), Some(b)) => (r, b),
        (Some(r), None) => (r, r.ceil().min(f64::from(i32::MAX)) as i32),
        (None, Some(b)) => (f64::from(b), b),
        (None, None) => return None,
    };
    Some(Throttle {
        rate: rate.max(0.0),
        burst: u32::try_from(burst.max(0)).ok()?,
    })
}

impl UsageTable {
    /// Compiles keys, plans and plan memberships (`(plan id, key id)` pairs).
    pub fn compile(
        keys: &[v1::ApiKey],
        plans: &[v1::UsagePlan],
        memberships: &[(String, String)],
        account: Throttle,
    ) -> UsageTable {
        let plans: HashMap<String, Arc<Plan>> = plans
            .iter()
            .filter_map(|p| {
                let id = p.id.clone()?;
                let stages = p
                    .api_stages
                    .iter()
                    .flatten()
                    .filter_map(|s| {
                        let methods = s
                            .throttle
                            .iter()
                            .flatten()
                            .filter_map(|(k, t)| Some((k.clone(), throttle_of(t)?)))
                            .collect();
                        Some(((s.api_id.clone()?, s.stage.clone()?), methods))
                    })
                    .collect();
                let quota = p.quota.as_ref().and_then(|q| {
                    Some(QuotaSpec {
                        limit: u64::try_from(q.limit?).ok()?,
                        period: portico_limits::Period::parse(q.period.as_deref()?)?,
                        offset: u32::try_from(q.offset.unwrap_or(0)).ok()?,
                    })
                });
                let throttle = p.throttle.as_ref().and_then(throttle_of);
                Some((
                    id.clone(),
                    Arc::new(Plan {
                        id,
                        stages,
                        throttle,
                        quota,
                    }),
                ))
            })
            .collect();
        let keys = keys
            .iter()
            .filter_map(|k| {
                let id = k.id.clone()?;
                let key_plans = memberships
                    .iter()
                    .filter(|(_, key)| *key == id)
                    .filter_map(|(plan, _)| plans.get(plan).cloned())
                    .collect();
                Some((
                    k.value.clone()?,
                    Arc::new(ApiKey {
                        id,
                        enabled: k.enabled.unwrap_or(false),
                        plans: key_plans,
                    }),
                ))
            })
            .collect();
        UsageTable { keys, account }
    }
}
