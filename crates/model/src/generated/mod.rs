//! Code generated from botocore's service models by `tools/codegen/gen_model.py`.
#![allow(unreachable_pub, clippy::doc_markdown)]

pub mod apigateway_operations;
pub mod apigateway_shapes;
