#!/usr/bin/env python3
"""Generate crates/model/src/generated/*.rs from botocore's API Gateway service model.

Run with tools/codegen/run.sh (it installs botocore into a throwaway virtualenv).
The output is committed; regenerate when botocore's model changes.
"""
import gzip
import json
import keyword
import os
import re
import sys

import botocore

RUST_KEYWORDS = set("as break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while async await dyn abstract become box do final macro override priv typeof unsized virtual yield try gen".split())


def load(service, version):
    base = os.path.join(os.path.dirname(botocore.__file__), "data", service, version, "service-2.json")
    if os.path.exists(base):
        return json.load(open(base))
    return json.load(gzip.open(base + ".gz"))


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = s.lower()
    if s in RUST_KEYWORDS:
        s += "_"
    return s


def screaming(name):
    return snake(name).upper().rstrip("_")


class Gen:
    def __init__(self, model):
        self.model = model
        self.shapes = model["shapes"]

    def rust_type(self, shape_name):
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "string":
            return "String"
        if t == "boolean":
            return "bool"
        if t == "integer":
            return "i32"
        if t == "long":
            return "i64"
        if t in ("double", "float"):
            return "f64"
        if t == "timestamp":
            return "i64"
        if t == "blob":
            return "String"
        if t == "list":
            return f"Vec<{self.rust_type(shape['member']['shape'])}>"
        if t == "map":
            return f"IndexMap<String, {self.rust_type(shape['value']['shape'])}>"
        if t == "structure":
            return shape_name
        raise ValueError(t)

    def structs(self):
        out = []
        for name, shape in sorted(self.shapes.items()):
            if shape["type"] != "structure" or shape.get("exception"):
                continue
            out.append("#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]")
            out.append(f"pub struct {name} {{")
            for mname, member in shape["members"].items():
                loc = member.get("location")
                wire = member.get("locationName", mname)
                field = snake(mname)
                ty = self.rust_type(member["shape"])
                if member.get("streaming") or self.shapes[member["shape"]]["type"] == "blob":
                    # payload blobs (import bodies, exports) are handled by the operation itself
                    out.append(f"    #[serde(skip)]")
                    out.append(f"    pub {field}: Option<{ty}>,")
                    continue
                if loc in ("uri", "querystring", "header", "headers", "statusCode"):
                    out.append(f"    /// Bound from the request's {loc} (`{wire}`), never the JSON body.")
                    out.append(f"    #[serde(skip)]")
                    out.append(f"    pub {field}: Option<{ty}>,")
                    continue
                out.append(f"    #[serde(rename = \"{wire}\", skip_serializing_if = \"Option::is_none\", default)]")
                out.append(f"    pub {field}: Option<{ty}>,")
            out.append("}")
            out.append("")
        return "\n".join(out)

    def enums(self):
        out = []
        for name, shape in sorted(self.shapes.items()):
            if shape["type"] == "string" and "enum" in shape:
                vals = ", ".join(json.dumps(v) for v in shape["enum"])
                out.append(f"/// Values of the `{name}` enum.")
                out.append(f"pub const {screaming(name)}_VALUES: &[&str] = &[{vals}];")
        return "\n".join(out)

    def operations(self):
        ops = []
        for name, op in sorted(self.model["operations"].items()):
            uri = op["http"]["requestUri"]
            path, _, query = uri.partition("?")
            qk, _, qv = query.partition("=")
            status = op["http"].get("responseCode", 200)
            ops.append((name, op["http"]["method"], path, qk, qv, status))
        out = ["/// Every operation of the service, as botocore names it.",
               "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]",
               "pub enum OperationName {"]
        for o in ops:
            out.append(f"    {o[0]},")
        out.append("}")
        out.append("")
        out.append("impl OperationName {")
        out.append("    /// The operation's name as AWS spells it.")
        out.append("    pub fn as_str(self) -> &'static str {")
        out.append("        match self {")
        for o in ops:
            out.append(f"            Self::{o[0]} => \"{o[0]}\",")
        out.append("        }")
        out.append("    }")
        out.append("}")
        out.append("")
        out.append("/// (operation, HTTP method, URI template, required query key, its value, success status).")
        out.append("pub static OPERATIONS: &[Operation] = &[")
        for o in ops:
            q = f'Some(("{o[3]}", "{o[4]}"))' if o[3] else "None"
            out.append(f"    Operation {{ name: OperationName::{o[0]}, method: \"{o[1]}\", uri: \"{o[2]}\", query: {q}, status: {o[5]} }},")
        out.append("];")
        return "\n".join(out)


HEADER = """// @generated by tools/codegen/gen_model.py from botocore {ver} ({svc} {apiver}).
// Do not edit by hand: change the generator and run tools/codegen/run.sh.
"""


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    model = load("apigateway", "2015-07-09")
    g = Gen(model)
    hdr = HEADER.format(ver=botocore.__version__, svc="apigateway", apiver="2015-07-09")
    with open(os.path.join(out_dir, "apigateway_shapes.rs"), "w") as f:
        f.write(hdr)
        f.write("#![allow(missing_docs, clippy::all)]\n\n")
        f.write("use indexmap::IndexMap;\nuse serde::{Deserialize, Serialize};\n\n")
        f.write(g.structs())
        f.write("\n")
        f.write(g.enums())
        f.write("\n")
    with open(os.path.join(out_dir, "apigateway_operations.rs"), "w") as f:
        f.write(hdr)
        f.write("use crate::operation::Operation;\n\n")
        f.write(g.operations())
        f.write("\n")


if __name__ == "__main__":
    main()
