//! The account: region-wide throttle defaults (10,000 rps, burst 5,000) and the CloudWatch role.

use portico_model::patch::PatchOp;
use portico_model::v1;
use portico_store::{Expect, Key, Kind, Write};

use crate::patching::{self, invalid_path};
use crate::state::to_json;
use crate::{Call, ControlPlane, Outcome, Reply};

/// The account as configured (AWS's defaults: 10,000 rps, burst 5,000).
pub(crate) fn default_account(cp: &ControlPlane) -> v1::Account {
    v1::Account {
        cloudwatch_role_arn: None,
        throttle_settings: Some(v1::ThrottleSettings {
            burst_limit: Some(i32::try_from(cp.settings.account_burst_limit).unwrap_or(i32::MAX)),
            rate_limit: Some(cp.settings.account_rate_limit),
        }),
        features: Some(vec!["UsagePlans".into()]),
        api_key_version: Some("4".into()),
    }
}

async fn load(cp: &ControlPlane) -> Result<(v1::Account, Option<u64>), crate::ApiError> {
    match cp.store.get(&Key::new(Kind::Account, "", "")).await? {
        Some(rec) => {
            let mut a: v1::Account = serde_json::from_str(&rec.body)
                .map_err(|e| crate::ApiError::internal(e.to_string()))?;
            // The throttle is configuration, not stored state.
            a.throttle_settings = default_account(cp).throttle_settings;
            Ok((a, Some(rec.revision)))
        }
        None => Ok((default_account(cp), None)),
    }
}

pub(crate) async fn get(cp: &ControlPlane, _call: &Call) -> Outcome {
    Reply::json(load(cp).await?.0)
}

pub(crate) async fn update(cp: &ControlPlane, call: &Call) -> Outcome {
    let patches = patching::read(call, "updateAccountInput")?;
    let (mut account, rev) = load(cp).await?;
    for p in &patches {
        match (
            p.segments
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            p.op,
        ) {
            (["cloudwatchRoleArn"], PatchOp::Replace) => {
                account.cloudwatch_role_arn = p.value.clone().filter(|v| !v.is_empty())
            }
            _ => return Err(invalid_path(p)),
        }
    }
    let expect = rev.map_or(Expect::Absent, Expect::Revision);
    cp.store
        .commit(vec![Write::Put {
            key: Key::new(Kind::Account, "", ""),
            body: to_json(&account)?,
            expect,
        }])
        .await?;
    Reply::json(account)
}
