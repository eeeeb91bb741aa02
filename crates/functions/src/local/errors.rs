//! The payloads of failed invocations, worded as Lambda words them.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value, json};

/// The invocation ran past the function's timeout.
pub(crate) fn timed_out(request_id: &str, timeout: Duration) -> Bytes {
    payload(json!({
        "errorType": "Sandbox.Timedout",
        "errorMessage": format!(
            "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
            timeout.as_secs_f64()
        ),
    }))
}

/// The runtime process exited (`status` as [`describe_exit`] puts it, `None` for a clean
/// exit) before answering.
pub(crate) fn exited(request_id: &str, status: Option<&str>) -> Bytes {
    let message = match status {
        Some(status) => {
            format!("RequestId: {request_id} Error: Runtime exited with error: {status}")
        }
        None => format!("RequestId: {request_id} Error: Runtime exited without providing a reason"),
    };
    payload(json!({ "errorType": "Runtime.ExitError", "errorMessage": message }))
}

/// The runtime process could not be started at all (Lambda: a missing or non-executable
/// bootstrap).
pub(crate) fn invalid_entrypoint(request_id: &str, detail: &str) -> Bytes {
    payload(json!({
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": format!("RequestId: {request_id} Error: {detail}"),
    }))
}

/// What the runtime is told when its response is larger than the payload limit.
pub(crate) fn response_too_large_for_runtime() -> Bytes {
    payload(json!({
        "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "RequestEntityTooLarge",
    }))
}

/// The invocation's answer when the runtime's response was larger than the payload limit.
pub(crate) fn response_too_large() -> Bytes {
    payload(json!({
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }))
}

/// An error a runtime reported (`/invocation/{id}/error`, `/init/error`): its body
/// (`{"errorMessage", "errorType", "stackTrace"}`) passed through as it came. A body without
/// an `errorType` takes the `Lambda-Runtime-Function-Error-Type` header's; one that is not a
/// JSON object becomes the message.
pub(crate) fn reported(body: &[u8], error_type: Option<&str>) -> Bytes {
    let fallback_type = error_type.unwrap_or("Runtime.Unknown");
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut object)) => {
            if object.get("errorType").is_some_and(Value::is_string) {
                return Bytes::copy_from_slice(body);
            }
            object.insert("errorType".into(), fallback_type.into());
            payload(Value::Object(object))
        }
        _ => {
            let mut object = Map::new();
            object.insert(
                "errorMessage".into(),
                String::from_utf8_lossy(body).trim().into(),
            );
            object.insert("errorType".into(), fallback_type.into());
            payload(Value::Object(object))
        }
    }
}

/// An exit status as Go's `os/exec` prints it, which is what Lambda's messages quote:
/// `exit status 1`, `signal: 9`. `None` for a clean exit.
pub(crate) fn describe_exit(status: std::process::ExitStatus) -> Option<String> {
    if status.success() {
        return None;
    }
    if let Some(code) = status.code() {
        return Some(format!("exit status {code}"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return Some(format!("signal: {signal}"));
        }
    }
    Some(status.to_string())
}

fn payload(value: Value) -> Bytes {
    Bytes::from(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: Bytes) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn timeouts_and_exits_are_worded_as_lambda_words_them() {
        assert_eq!(
            text(timed_out("r-1", Duration::from_secs(3))),
            r#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r-1 Error: Task timed out after 3.00 seconds"}"#
        );
        assert_eq!(
            text(exited("r-1", Some("exit status 1"))),
            r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r-1 Error: Runtime exited with error: exit status 1"}"#
        );
        assert!(text(exited("r-1", None)).contains("Runtime exited without providing a reason"));
        assert_eq!(
            text(response_too_large()),
            r#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#
        );
    }

    #[test]
    fn reported_errors_pass_through_or_are_completed() {
        let body = br#"{"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}"#;
        assert_eq!(reported(body, Some("Other")), Bytes::from_static(body));
        assert_eq!(
            text(reported(br#"{"errorMessage":"boom"}"#, Some("Custom"))),
            r#"{"errorMessage":"boom","errorType":"Custom"}"#
        );
        assert_eq!(
            text(reported(b"not json\n", None)),
            r#"{"errorMessage":"not json","errorType":"Runtime.Unknown"}"#
        );
        assert_eq!(
            text(reported(b"", Some("Runtime.ImportModuleError"))),
            r#"{"errorMessage":"","errorType":"Runtime.ImportModuleError"}"#
        );
    }

    #[cfg(unix)]
    #[test]
    fn exit_statuses_read_like_gos() {
        use std::os::unix::process::ExitStatusExt as _;
        use std::process::ExitStatus;
        assert_eq!(describe_exit(ExitStatus::from_raw(0)), None);
        assert_eq!(
            describe_exit(ExitStatus::from_raw(1 << 8)).as_deref(),
            Some("exit status 1")
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(9)).as_deref(),
            Some("signal: 9")
        );
    }
}
