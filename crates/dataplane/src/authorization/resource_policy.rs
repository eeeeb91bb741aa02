//! The RestApi's resource policy (`policy`, deployed with the API) and how it combines with
//! the method's authorization, by AWS's "How API Gateway resource policies affect
//! authorization workflow":
//!
//! - no authorization: the policy must allow; anything else is denied;
//! - Lambda authorizer: an explicit deny refuses before the authorizer runs; after it, Table A
//!   combines the authorizer's policy with the resource policy (either may allow, an explicit
//!   deny in either wins) — done in `lambda::check`, which has the authorizer's decision;
//! - Cognito: once the token is valid, the resource policy must allow;
//! - `AWS_IAM`: the caller is allowed by its (configured) access key, so in the API's account
//!   only an explicit deny refuses (Table A); another account's caller also needs an allow
//!   (Table B).
//!
//! Denials are `ACCESS_DENIED` with IAM's wording, whose default body names the key `Message`:
//! `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ARN` (implicit)
//! and `... with an explicit deny in a resource-based policy`, the ARN's account masked to its
//! last four digits.

use std::sync::Arc;

use super::policy::{self, Caller, Decision, Kind, Policy};
use super::{Authorization, Authorized};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::server::DataPlane;

/// A RestApi's resource policy, compiled with its deployment.
#[derive(Debug)]
pub enum ResourcePolicy {
    Policy(Policy),
    /// A policy this build cannot read: every request is refused, the reason logged.
    Invalid(String),
}

impl ResourcePolicy {
    /// The API's `policy` (JSON text), if it has one.
    pub fn compile(api_id: &str, text: Option<&str>) -> Option<Arc<ResourcePolicy>> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        let compiled = match Policy::parse_str(text, Kind::Resource) {
            Ok(p) => {
                for w in &p.warnings {
                    tracing::warn!(api_id, warning = %w, "resource policy");
                }
                ResourcePolicy::Policy(p)
            }
            Err(e) => {
                tracing::warn!(api_id, error = %e, "resource policy cannot be read; every request is refused");
                ResourcePolicy::Invalid(e)
            }
        };
        Some(Arc::new(compiled))
    }
}

/// A method request as policies see it: its ARN, and where the API's part of it starts.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub arn: String,
    pub api_prefix_len: usize,
}

impl Target {
    pub(crate) fn of(dp: &DataPlane, inv: &Invocation) -> Target {
        let prefix = policy::api_prefix(&dp.settings.region, &dp.account_id, &inv.stage.api_id);
        let arn = policy::execute_api_arn(
            &dp.settings.region,
            &dp.account_id,
            &inv.stage.api_id,
            &inv.stage.name,
            inv.method.as_str(),
            &inv.path,
        );
        Target {
            arn,
            api_prefix_len: prefix.len(),
        }
    }

    /// `policy::Request` for this target and caller.
    pub(crate) fn request<'a>(
        &'a self,
        inv: &'a Invocation,
        caller: Caller<'a>,
    ) -> policy::Request<'a> {
        policy::Request {
            action: "execute-api:Invoke",
            resource: &self.arn,
            api_prefix: &self.arn[..self.api_prefix_len],
            caller,
            source_ip: inv.source_ip,
            user_agent: inv.header("user-agent"),
        }
    }
}

/// The caller as a resource policy's `Principal` sees it, and how IAM's messages name it.
fn caller(a: &Authorized) -> (Caller<'_>, &str) {
    match &a.iam {
        Some(iam) => {
            let arn = iam.user_arn.as_deref().unwrap_or("");
            (
                Caller::Iam {
                    arn,
                    account: iam.account_id.as_deref(),
                },
                arn,
            )
        }
        None => (Caller::Anonymous, "anonymous"),
    }
}

/// What the API's resource policy says about this request (`None`: the API has none).
pub(crate) fn evaluate(
    inv: &Invocation,
    target: &Target,
    a: &Authorized,
) -> Result<Option<Decision>, GatewayError> {
    let Some(rp) = &inv.stage.resource_policy else {
        return Ok(None);
    };
    match rp.as_ref() {
        ResourcePolicy::Policy(p) => Ok(Some(p.evaluate(&target.request(inv, caller(a).0)))),
        ResourcePolicy::Invalid(why) => Err(resource_denied(a, target, false)
            .because(format!("the API's resource policy cannot be read: {why}"))),
    }
}

/// Applies the resource policy for every authorization but Lambda authorizers (see
/// [`combine_with_authorizer`]).
pub(crate) fn check(dp: &DataPlane, inv: &Invocation, a: &Authorized) -> Result<(), GatewayError> {
    if inv.stage.resource_policy.is_none() {
        return Ok(());
    }
    let must_allow = match &inv.target.authorization {
        // Combined with the authorizer's policy in lambda::check; nothing reaches here otherwise.
        Authorization::Lambda(_) | Authorization::Misconfigured(_) => return Ok(()),
        Authorization::Open | Authorization::Cognito(..) => true,
        // Table A in the API's account (the access key stands for an IAM allow), Table B
        // across accounts.
        Authorization::Iam => a
            .iam
            .as_ref()
            .and_then(|i| i.account_id.as_deref())
            .is_some_and(|acct| acct != &*dp.account_id),
    };
    let target = Target::of(dp, inv);
    match evaluate(inv, &target, a)? {
        None | Some(Decision::Allow) => Ok(()),
        Some(Decision::ExplicitDeny) => Err(resource_denied(a, &target, true)),
        Some(Decision::NotApplicable) if must_allow => Err(resource_denied(a, &target, false)),
        Some(Decision::NotApplicable) => Ok(()),
    }
}

/// Table A for a Lambda authorizer: its policy's decision with the resource policy's (`None`:
/// the API has none). An explicit deny in either wins, else an allow in either allows.
pub(crate) fn combine_with_authorizer(
    authorizer: Decision,
    resource: Option<Decision>,
    target: &Target,
) -> Result<(), GatewayError> {
    let anonymous = Authorized::default();
    match (authorizer, resource) {
        (_, Some(Decision::ExplicitDeny)) => Err(resource_denied(&anonymous, target, true)),
        (Decision::ExplicitDeny, _) => Err(authorizer_denied(true)),
        (Decision::Allow, _) | (Decision::NotApplicable, Some(Decision::Allow)) => Ok(()),
        (Decision::NotApplicable, Some(Decision::NotApplicable)) => {
            Err(resource_denied(&anonymous, target, false))
        }
        (Decision::NotApplicable, None) => Err(authorizer_denied(false)),
    }
}

/// The authorizer's policy denies: 403 `User is not authorized to access this resource`
/// (`{"message": ...}`), or with an explicit deny `... with an explicit deny in an
/// identity-based policy` (`{"Message": ...}`, IAM's key).
pub(crate) fn authorizer_denied(explicit: bool) -> GatewayError {
    let e = GatewayError::new(ResponseType::AccessDenied);
    if explicit {
        e.with_iam_message(
            "User is not authorized to access this resource with an explicit deny in an identity-based policy",
        )
        .because("the authorizer's policy denies the method explicitly")
    } else {
        e.with_message("User is not authorized to access this resource")
            .because("the authorizer's policy does not allow the method")
    }
}

fn resource_denied(a: &Authorized, target: &Target, explicit: bool) -> GatewayError {
    let who = caller(a).1;
    let who = if who.is_empty() { "anonymous" } else { who };
    let suffix = if explicit {
        " with an explicit deny in a resource-based policy"
    } else {
        ""
    };
    GatewayError::new(ResponseType::AccessDenied)
        .with_iam_message(format!(
            "User: {who} is not authorized to perform: execute-api:Invoke on resource: {}{suffix}",
            masked(&target.arn)
        ))
        .because(if explicit {
            "the API's resource policy denies the request explicitly"
        } else {
            "the API's resource policy does not allow the request"
        })
}

/// The ARN with its account masked to the last four digits, as AWS's messages show it
/// (`arn:aws:execute-api:us-east-1:********9012:abc/dev/GET/`).
fn masked(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 {
        return arn.to_string();
    }
    let account = parts[4];
    let keep = account.len().saturating_sub(4);
    let masked: String = account
        .char_indices()
        .map(|(i, c)| if i < keep { '*' } else { c })
        .collect();
    format!(
        "{}:{}:{}:{}:{masked}:{}",
        parts[0], parts[1], parts[2], parts[3], parts[5]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets".to_string();
        Target {
            api_prefix_len: "arn:aws:execute-api:us-east-1:123456789012:abc/".len(),
            arn,
        }
    }

    #[test]
    fn account_masked_to_its_last_four_digits() {
        assert_eq!(
            masked("arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets"),
            "arn:aws:execute-api:us-east-1:********9012:abc/dev/GET/pets"
        );
        assert_eq!(masked("not-an-arn"), "not-an-arn");
    }

    #[test]
    fn table_a_for_lambda_authorizers() {
        use Decision::*;
        let t = target();
        let ok = |a, r| combine_with_authorizer(a, r, &t).is_ok();
        let message = |a, r| {
            combine_with_authorizer(a, r, &t)
                .err()
                .map(|e| e.message().to_string())
        };
        // Without a resource policy, the authorizer decides.
        assert!(ok(Allow, None));
        assert_eq!(
            message(NotApplicable, None).as_deref(),
            Some("User is not authorized to access this resource")
        );
        assert!(
            message(ExplicitDeny, None)
                .unwrap()
                .contains("explicit deny")
        );
        // Table A (same account).
        assert!(ok(Allow, Some(Allow)));
        assert!(ok(Allow, Some(NotApplicable)));
        assert!(!ok(Allow, Some(ExplicitDeny)));
        assert!(ok(NotApplicable, Some(Allow)));
        assert_eq!(
            message(NotApplicable, Some(NotApplicable)).as_deref(),
            Some(
                "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:abc/dev/GET/pets"
            )
        );
        assert!(!ok(NotApplicable, Some(ExplicitDeny)));
        assert!(!ok(ExplicitDeny, Some(Allow)));
        assert!(!ok(ExplicitDeny, Some(NotApplicable)));
        assert_eq!(
            message(ExplicitDeny, Some(ExplicitDeny)).as_deref(),
            Some(
                "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:abc/dev/GET/pets with an explicit deny in a resource-based policy"
            )
        );
    }
}
