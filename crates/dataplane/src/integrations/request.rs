//! Integration request: template selection with passthrough behaviour, parameter mapping.

use bytes::Bytes;

use crate::compile::{Passthrough, RequestPlan};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::mapping::{ParamTarget, media_type};

/// The integration request body and its content type, after template selection.
pub(crate) fn body(inv: &Invocation, plan: &RequestPlan) -> Result<(String, Bytes), GatewayError> {
    let ct = inv
        .header("content-type")
        .map(media_type)
        .unwrap_or_else(|| "application/json".into());
    if let Some((key, template)) = plan.templates.for_request(&ct) {
        return Ok((key.to_string(), Bytes::from(template.render())));
    }
    let reject = match plan.passthrough {
        Passthrough::WhenNoMatch => false,
        Passthrough::WhenNoTemplates => !plan.templates.is_empty(),
        Passthrough::Never => true,
    };
    if reject {
        return Err(GatewayError::new(ResponseType::UnsupportedMediaType));
    }
    Ok((ct, inv.body.clone()))
}

/// Mapped integration-request parameters, split by where they go.
#[derive(Debug, Default)]
pub(crate) struct Mapped {
    pub(crate) path: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
}

pub(crate) fn parameters(inv: &Invocation, plan: &RequestPlan) -> Mapped {
    let mut out = Mapped::default();
    for (target, source) in &plan.parameters {
        let Some(value) = inv.source_value(source) else {
            continue;
        };
        match target {
            ParamTarget::Path(n) => out.path.push((n.clone(), value)),
            ParamTarget::Query(n) | ParamTarget::MultiQuery(n) => {
                for v in value
                    .split(',')
                    .filter(|_| matches!(target, ParamTarget::MultiQuery(_)))
                {
                    out.query.push((n.clone(), v.to_string()));
                }
                if matches!(target, ParamTarget::Query(_)) {
                    out.query.push((n.clone(), value));
                }
            }
            ParamTarget::Header(n) | ParamTarget::MultiHeader(n) => {
                out.headers.push((n.clone(), value))
            }
        }
    }
    out
}
