//! The data plane: execute-api traffic.
//!
//! Deployed stages are compiled once ([`compile`]) into a [`Runtime`] that the listener reads
//! through an `ArcSwap`; a request runs through [`pipeline::execute`], whose body follows
//! AWS's execution diagram (method request → integration request → integration →
//! integration response → method response), and any failure leaves through a
//! [`gateway_response`].
//!
//! Architecture invariants: the data plane never reads the store (it only sees compiled
//! snapshots handed to [`RuntimeHandle::swap`]); nothing is parsed or compiled on the request
//! path that could be done at compile time; every error that reaches a client is a
//! [`gateway_response::ResponseType`].

pub mod authorization;
pub mod binary;
pub mod compile;
pub mod gateway_response;
pub mod header_case;
pub mod integrations;
pub mod invocation;
pub mod mapping;
pub mod method_request;
pub mod pipeline;
pub mod runtime;
pub mod server;
mod templates;
pub mod upstream;
pub mod usage;
mod usage_plans;

pub use compile::{CompiledApi, CompiledStage, compile_stage};
pub use runtime::{Runtime, RuntimeHandle};
pub use server::{DataPlane, Settings};

/// AWS's REST payload limit.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
