//! Rules about integrations that the management API, OpenAPI import and the data plane share.

use indexmap::IndexMap;

/// Replaces `${stageVariables.NAME}` with the stage's value (an unknown variable becomes
/// empty, as on AWS). Used for integration and authorizer URIs at deploy time.
pub fn substitute_stage_variables(s: &str, vars: &IndexMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${stageVariables.".len()..];
        match after.find('}') {
            Some(end) => {
                out.push_str(vars.get(&after[..end]).map(String::as_str).unwrap_or(""));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `uri` is acceptable for an integration of type `ty`; the error is AWS's message.
pub fn check_uri(ty: &str, uri: Option<&str>) -> Result<(), &'static str> {
    match ty {
        "HTTP" | "HTTP_PROXY" => {
            let ok = uri.is_some_and(|u| {
                (u.starts_with("http://") || u.starts_with("https://"))
                    && u.split("://").nth(1).is_some_and(|rest| !rest.is_empty())
            });
            if !ok {
                return Err("Invalid HTTP endpoint specified for URI");
            }
        }
        "AWS" | "AWS_PROXY" => {
            let u = uri.unwrap_or("");
            let parts: Vec<&str> = u.splitn(6, ':').collect();
            if parts.len() < 6 || parts[0] != "arn" {
                return Err("Invalid ARN specified in the request");
            }
            let (service, rest) = (parts[4], parts[5]);
            if parts[2] != "apigateway"
                || !(rest.starts_with("path/") || rest.starts_with("action/"))
            {
                return Err("AWS ARN for integration must contain path or action");
            }
            if ty == "AWS_PROXY" && service != "lambda" && service != "firehose" {
                return Err(
                    "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
                );
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variables_are_substituted() {
        let mut vars = IndexMap::new();
        vars.insert("host".to_string(), "example.com".to_string());
        assert_eq!(
            substitute_stage_variables("http://${stageVariables.host}/{proxy}", &vars),
            "http://example.com/{proxy}"
        );
        assert_eq!(
            substitute_stage_variables("${stageVariables.none}x", &vars),
            "x"
        );
        assert_eq!(
            substitute_stage_variables("${stageVariables.open", &vars),
            "${stageVariables.open"
        );
    }

    #[test]
    fn uris_by_type() {
        assert!(check_uri("HTTP", Some("https://x")).is_ok());
        assert!(check_uri("HTTP", Some("ftp://x")).is_err());
        assert!(
            check_uri(
                "AWS_PROXY",
                Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations")
            )
            .is_ok()
        );
        assert!(check_uri("AWS_PROXY", Some("arn:aws:apigateway:us-east-1:s3:path/b")).is_err());
        assert!(check_uri("MOCK", None).is_ok());
    }
}
