//! OpenAPI 2.0 (Swagger) and 3.0 import and export for REST APIs, with Amazon API Gateway's
//! `x-amazon-apigateway-*` extensions.
//!
//! [`import`] turns a parsed document into a [`RestApiDocument`] (the same document the
//! management API builds call by call) plus AWS-style warnings; [`export`] turns a deployed
//! document back into OpenAPI. The crate is pure: no store, no HTTP, no clock. Ids come from
//! [`portico_model::ids`], so an import creates ids of the shapes AWS gives them.
//!
//! Invariants: bad input is an [`ImportError`] carrying AWS's message, never a panic; nesting
//! and sizes are bounded by the parser ([`parse`]); `import(export(doc))` rebuilds the same
//! API (ids aside).

mod authorizers;
mod document;
mod export;
mod import;
mod integration;
mod merge;
mod models;

pub use document::{Version, parse};
pub use export::{ExportOptions, export};
pub use import::{BasePathMode, ImportOptions, Imported, import};
pub use merge::{PutMode, put};

/// Why an import was refused, in AWS's words (`Invalid OpenAPI input.`, or `Errors found
/// during import:` followed by one tab-indented line per problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub message: String,
}

impl ImportError {
    pub fn invalid_input() -> ImportError {
        ImportError {
            message: "Invalid OpenAPI input.".to_string(),
        }
    }

    pub(crate) fn errors(errors: &[String]) -> ImportError {
        ImportError {
            message: format!("Errors found during import:\n\t{}", errors.join("\n\t")),
        }
    }

    pub(crate) fn warnings(warnings: &[String]) -> ImportError {
        ImportError {
            message: format!("Warnings found during import:\n\t{}", warnings.join("\n\t")),
        }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ImportError {}

pub use portico_model::document::RestApiDocument;
