//! AWS API Gateway's resource model, exactly as AWS spells it on the wire.
//!
//! The shapes and the operation table are generated from botocore's service model
//! (`generated/`); everything else here is small, pure helpers over them: AWS-format ids,
//! timestamps, ARNs, `patchOperations`, and the document a REST API is stored as.
//!
//! Architecture invariant: this crate does no IO and depends on no runtime.

pub mod document;
pub mod generated;
pub mod ids;
pub mod integration;
pub mod operation;
pub mod patch;
pub mod time;

pub use generated::apigateway_operations::{OPERATIONS, OperationName};
pub use generated::apigateway_shapes as v1;
pub use operation::Operation;
