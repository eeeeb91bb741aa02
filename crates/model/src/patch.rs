//! AWS's `patchOperations` (not RFC 6902): string values, `~1` escaping, per-resource paths.

use crate::v1::PatchOperation;

/// One patch operation, with its path split into unescaped segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    pub op: PatchOp,
    /// The raw path as sent (`/variables/name`).
    pub path: String,
    /// The path's segments, `~1` turned back into `/` and `~0` into `~`.
    pub segments: Vec<String>,
    pub value: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl PatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Remove => "remove",
            PatchOp::Replace => "replace",
            PatchOp::Move => "move",
            PatchOp::Copy => "copy",
            PatchOp::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<PatchOp> {
        Some(match s {
            "add" => PatchOp::Add,
            "remove" => PatchOp::Remove,
            "replace" => PatchOp::Replace,
            "move" => PatchOp::Move,
            "copy" => PatchOp::Copy,
            "test" => PatchOp::Test,
            _ => return None,
        })
    }
}

/// Unescapes one JSON-pointer segment (`~1` → `/`, `~0` → `~`).
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Parses the wire operations of the input shape `input` (`updateRestApiInput`). `Err` holds
/// one AWS validation message per bad `op`, numbered as AWS numbers them (from 1).
pub fn parse(ops: &[PatchOperation], input: &str) -> Result<Vec<Patch>, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        let op_str = o.op.as_deref().unwrap_or("");
        let Some(op) = PatchOp::parse(op_str) else {
            errors.push(format!(
                "Value '{op_str}' at '{input}.patchOperations.{}.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]",
                i + 1
            ));
            continue;
        };
        let path = o.path.clone().unwrap_or_default();
        let segments = path.split('/').skip(1).map(unescape).collect();
        out.push(Patch {
            op,
            path,
            segments,
            value: o.value.clone(),
            from: o.from.clone(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_unescapes_paths() {
        let ops = vec![PatchOperation {
            op: Some("replace".into()),
            path: Some("/~1pets~1{id}/GET/throttling/rateLimit".into()),
            value: Some("10".into()),
            from: None,
        }];
        let p = parse(&ops, "updateStageInput").unwrap();
        assert_eq!(
            p[0].segments,
            vec!["/pets/{id}", "GET", "throttling", "rateLimit"]
        );
        assert_eq!(p[0].op, PatchOp::Replace);
    }
}
