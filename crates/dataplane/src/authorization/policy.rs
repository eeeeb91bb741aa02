//! IAM policy documents evaluated against an `execute-api` ARN. (Being implemented.)
