//! An example Lambda function on the `lambda_runtime` crate: it answers
//! `{"echo": <event>, "function": <AWS_LAMBDA_FUNCTION_NAME>}`, and fails when the event has
//! `"fail": true`. Portico runs it locally as `[functions.NAME] command = ["path/to/rust-function"]`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, _context) = event.into_parts();
    if payload.get("fail") == Some(&Value::Bool(true)) {
        return Err("the event asked to fail".into());
    }
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    Ok(json!({ "echo": payload, "function": function }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
