//! API Gateway's mapping layer (issue #3): JSONPath with Jayway semantics, JSON-schema draft 4
//! models, and the VTL bindings (`$input`, `$util`, `$context`).
//!
//! Architecture invariant: pure. No IO, no async runtime, nothing about HTTP transport.

pub mod bindings;
pub mod jsonpath;
pub mod schema;

pub use jsonpath::JsonPath;
pub use schema::{Schema, SchemaError, SchemaSet};
