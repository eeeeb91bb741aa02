//! Integration request: template selection with passthrough behaviour, parameter mapping.

use bytes::Bytes;

use crate::compile::{Passthrough, RequestPlan};
use crate::gateway_response::{GatewayError, ResponseType};
use crate::invocation::Invocation;
use crate::mapping::{ParamTarget, media_type};
use crate::templates;
use portico_mapping::bindings::Overrides;

/// The integration request body and its content type after template selection, and the
/// overrides the request template set.
pub(crate) fn body(
    inv: &Invocation,
    plan: &RequestPlan,
) -> Result<(String, Bytes, Overrides), GatewayError> {
    let ct = inv
        .header("content-type")
        .map(media_type)
        .unwrap_or_else(|| "application/json".into());
    let binary = crate::binary::is_binary(&inv.stage.binary_media_types, Some(&ct));
    let payload = crate::binary::convert_request(&inv.body, binary, plan.content_handling)
        .map_err(|why| {
            GatewayError::new(ResponseType::BadRequestBody)
                .with_message("Invalid request body")
                .because(why)
        })?;
    if let Some((key, template)) = plan.templates.for_request(&ct) {
        let (body, overrides) = templates::render(inv, template, &payload, &Overrides::default())?;
        return Ok((key.to_string(), body, overrides));
    }
    let reject = match plan.passthrough {
        Passthrough::WhenNoMatch => false,
        Passthrough::WhenNoTemplates => !plan.templates.is_empty(),
        Passthrough::Never => true,
    };
    if reject {
        return Err(GatewayError::new(ResponseType::UnsupportedMediaType));
    }
    Ok((ct, payload, Overrides::default()))
}

/// Mapped integration-request parameters, split by where they go.
#[derive(Debug, Default)]
pub(crate) struct Mapped {
    pub(crate) path: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    /// Path targets whose value may keep its `/` (from the greedy parameter or a template).
    pub(crate) multi_segment: Vec<String>,
}

/// Mapped parameters, then the request template's `requestOverride`s on top.
pub(crate) fn parameters(inv: &Invocation, plan: &RequestPlan, overrides: &Overrides) -> Mapped {
    let mut out = mapped(inv, plan);
    let apply = |list: &mut Vec<(String, String)>, extra: &[(String, String)], ci: bool| {
        for (k, v) in extra {
            list.retain(|(n, _)| {
                if ci {
                    !n.eq_ignore_ascii_case(k)
                } else {
                    n != k
                }
            });
            list.push((k.clone(), v.clone()));
        }
    };
    apply(&mut out.path, &overrides.request_path, false);
    out.multi_segment
        .extend(overrides.request_path.iter().map(|(k, _)| k.clone()));
    apply(&mut out.query, &overrides.request_querystring, false);
    apply(&mut out.headers, &overrides.request_header, true);
    out
}

fn mapped(inv: &Invocation, plan: &RequestPlan) -> Mapped {
    let mut out = Mapped::default();
    for (target, source) in &plan.parameters {
        let Some(value) = inv.source_value(source) else {
            continue;
        };
        match target {
            ParamTarget::Path(n) => {
                let greedy = matches!(source, crate::mapping::ParamSource::MethodPath(src)
                    if inv.target.greedy_param.as_deref() == Some(src.as_str()));
                if greedy {
                    out.multi_segment.push(n.clone());
                }
                out.path.push((n.clone(), value))
            }
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
