//! One row of the management API's operation table.

use crate::OperationName;

/// A management operation: how it is addressed and what it answers on success.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub name: OperationName,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// URI template, e.g. `/restapis/{restapi_id}/resources/{resource_id}`.
    pub uri: &'static str,
    /// A query parameter the operation requires (`mode=import`), if any.
    pub query: Option<(&'static str, &'static str)>,
    /// Status code of a successful answer.
    pub status: u16,
}
