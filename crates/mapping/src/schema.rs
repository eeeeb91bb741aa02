//! JSON Schema draft 4 validation of request bodies, the way API Gateway does it.
//!
//! API Gateway REST APIs validate a request body against a *model* (a draft-4 JSON schema) when
//! the method's request validator has `validateRequestBody`. AWS runs the Java
//! `json-schema-validator` by Francis Galiegue ("fge"), and the `$context.error.validationErrorString`
//! it exposes is the list of that validator's error messages. This module reimplements the
//! validation semantics and the message texts (the templates of fge's `validation.properties`
//! bundle) so that the strings match what AWS reports.
//!
//! # Semantics followed (fge's, which are draft 4 plus a few quirks)
//!
//! * At one schema level, keywords are checked in lexicographic keyword order (`additionalItems`,
//!   `additionalProperties`, `allOf`, `anyOf`, `dependencies`, `enum`, `format`, `maxItems`,
//!   `maxLength`, `maxProperties`, `maximum`, `minItems`, `minLength`, `minProperties`,
//!   `minimum`, `multipleOf`, `not`, `oneOf`, `pattern`, `required`, `type`, `uniqueItems`), and
//!   only those that apply to the instance's type.
//! * Children (array elements, object members in sorted member-name order) are only visited if
//!   no error at all has been reported so far: after the first error, remaining siblings are
//!   still checked at their own level but nothing deeper is visited. So the error list is *not*
//!   exhaustive, exactly like AWS's.
//! * `allOf`/`anyOf`/`oneOf`/`not` report one summary message; the nested failures are not part
//!   of the message list.
//! * `integer` is a JSON number written without fraction or exponent (`1` is an integer, `1.0`
//!   is a `number`), as draft 4 defines it and fge implements it. `"type": "number"` accepts
//!   integers too, and its message lists `["integer","number"]`.
//! * `additionalItems` as a schema applies to every element when `items` is absent (fge quirk).
//! * `$ref` replaces the whole schema it appears in (siblings are ignored). Supported forms:
//!   `#`, `#/json/pointer` (within the same model), and
//!   `https://apigateway.amazonaws.com/restapis/{api_id}/models/{Model}` optionally followed by
//!   `#/json/pointer`. The api id is not checked. `id` does not change resolution scope.
//! * Formats: `date-time`, `email`, `hostname`, `ipv4`, `ipv6`, `uri`, `regex` are checked
//!   (loosely, see the functions below); unknown formats are ignored (fge only warns).
//! * `pattern`/`patternProperties` are ECMA-262 regexes searched (not anchored). They are
//!   translated to the `regex` crate's syntax; constructs it lacks (look-around,
//!   back-references) make the model fail to compile with an error naming it.
//!
//! # Bounds
//!
//! Validation recursion is bounded: a schema revisited for the same instance location (a cycle
//! of `$ref`s that consumes no input, e.g. `{"anyOf": [{"$ref": "#"}]}`) is reported with fge's
//! "validation loop" message, and more than [`MAX_VALIDATION_DEPTH`] nested schema evaluations
//! are reported as an error instead of exhausting the stack. Neither ever panics.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Map, Number, Value};

/// Maximum number of nested schema evaluations (each `$ref` hop into a subschema applied to a
/// nested instance value counts). Exceeding it is a validation error, never a stack overflow.
pub const MAX_VALIDATION_DEPTH: usize = 256;

/// Upper bound on compiled regex size, so a hostile pattern cannot make compilation explode.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A model failed to compile: invalid JSON, not a valid draft-4 schema, or an unresolvable
/// `$ref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// Name of the offending model.
    pub model: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model \"{}\": {}", self.model, self.message)
    }
}

impl std::error::Error for SchemaError {}

/// All models of one REST API, compiled once (at deploy time) and validated against many times.
///
/// Cheap to clone (shared, immutable); `Send + Sync`.
#[derive(Clone)]
pub struct SchemaSet {
    inner: Arc<Compiled>,
}

/// One compiled model, ready to validate instances. Obtained from [`SchemaSet::get`]; keeps
/// the whole set alive (models may reference each other). Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Schema {
    inner: Arc<Compiled>,
    root: usize,
    name: String,
}

impl fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaSet")
            .field("models", &self.inner.models.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema").field("name", &self.name).finish()
    }
}

impl SchemaSet {
    /// Compiles every model of an API. `models` are `(name, schema JSON text)` pairs.
    ///
    /// Fails, naming the model, when a schema is not valid JSON, is not a syntactically valid
    /// draft-4 schema (e.g. `"required": []`, which AWS also rejects with "Invalid model schema
    /// specified"), has a `$ref` that does not resolve, a pure `$ref` cycle, a regex the
    /// engine cannot compile, or when two models share a name.
    pub fn compile(models: &[(String, String)]) -> Result<SchemaSet, SchemaError> {
        let mut docs = Vec::with_capacity(models.len());
        let mut index = HashMap::with_capacity(models.len());
        for (name, text) in models {
            // A model without a schema (the field is optional) constrains nothing.
            let text = if text.trim().is_empty() {
                "{}"
            } else {
                text.as_str()
            };
            let doc: Value = serde_json::from_str(text).map_err(|e| SchemaError {
                model: name.clone(),
                message: format!("schema is not valid JSON: {e}"),
            })?;
            if index.insert(name.clone(), docs.len()).is_some() {
                return Err(SchemaError {
                    model: name.clone(),
                    message: "duplicate model name".to_string(),
                });
            }
            docs.push((name.clone(), doc));
        }
        Builder::new(&docs, &index).build()
    }

    /// The compiled model called `name`, if any.
    pub fn get(&self, name: &str) -> Option<Schema> {
        self.inner.models.get(name).map(|&root| Schema {
            inner: Arc::clone(&self.inner),
            root,
            name: name.to_string(),
        })
    }

    /// Names of the models, in the order they were given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.models.keys().map(String::as_str)
    }

    /// Validates `instance` against model `name`.
    ///
    /// `Ok(())` when valid; otherwise the error messages in AWS's (fge's) wording and order,
    /// each without surrounding brackets, e.g. `object has missing required properties
    /// (["name"])`. Join them with [`error_string`] to get `$context.error.validationErrorString`.
    /// An unknown model name yields a single error `no model named "X"` (API Gateway itself
    /// refuses such a method configuration, so this is only a safety net).
    pub fn validate(&self, name: &str, instance: &Value) -> Result<(), Vec<String>> {
        match self.inner.models.get(name) {
            Some(&root) => self.inner.validate(root, instance),
            None => Err(vec![format!("no model named \"{name}\"")]),
        }
    }
}

impl Schema {
    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Validates `instance`; same contract as [`SchemaSet::validate`].
    pub fn validate(&self, instance: &Value) -> Result<(), Vec<String>> {
        self.inner.validate(self.root, instance)
    }
}

/// Builds AWS's `$context.error.validationErrorString` from the messages returned by
/// [`SchemaSet::validate`]: `[` + messages joined with `", "` + `]` (Java's `List.toString()`),
/// e.g. `[object has missing required properties (["a","b"])]`, or
/// `[msg1, msg2]` for two messages. An empty list gives `[]`.
pub fn error_string(errors: &[String]) -> String {
    format!("[{}]", errors.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Compiled representation
// ---------------------------------------------------------------------------------------------

/// fge's `NodeType` names, in its enum order (which is also how allowed types are listed).
const TYPE_NAMES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];
const T_INTEGER: u8 = 1 << 2;
const T_NUMBER: u8 = 1 << 4;

fn type_bit(v: &Value) -> u8 {
    1 << type_index(v)
}

fn type_index(v: &Value) -> usize {
    match v {
        Value::Array(_) => 0,
        Value::Bool(_) => 1,
        Value::Number(n) if n.is_f64() => 4,
        Value::Number(_) => 2,
        Value::Null => 3,
        Value::Object(_) => 5,
        Value::String(_) => 6,
    }
}

struct Compiled {
    nodes: Vec<Node>,
    /// model name -> root node
    models: IndexMap<String, usize>,
    /// node -> (model name, JSON pointer) for messages
    locations: Vec<(usize, String)>,
    model_names: Vec<String>,
}

#[derive(Default)]
struct Node {
    ref_target: Option<usize>,
    types: Option<u8>,
    enumeration: Option<Value>,
    format: Option<Format>,
    minimum: Option<Bound>,
    maximum: Option<Bound>,
    multiple_of: Option<Number>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<Pattern>,
    items: Items,
    additional_items: Additional,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    properties: IndexMap<String, usize>,
    pattern_properties: Vec<(Pattern, usize)>,
    additional_properties: Additional,
    required: Vec<String>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    property_deps: Vec<(String, Vec<String>)>,
    schema_deps: Vec<(String, usize)>,
    all_of: Vec<usize>,
    any_of: Vec<usize>,
    one_of: Vec<usize>,
    not: Option<usize>,
}

struct Bound {
    value: Number,
    exclusive: bool,
}

struct Pattern {
    source: String,
    re: Regex,
}

#[derive(Default)]
enum Items {
    #[default]
    Absent,
    Single(usize),
    Tuple(Vec<usize>),
}

#[derive(Default, Clone, Copy)]
enum Additional {
    #[default]
    Allowed,
    Forbidden,
    Schema(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    DateTime,
    Email,
    Hostname,
    Ipv4,
    Ipv6,
    Uri,
    Regex,
}

// ---------------------------------------------------------------------------------------------
// Compilation (iterative worklist: no recursion over the schema documents)
// ---------------------------------------------------------------------------------------------

struct Builder<'a> {
    docs: &'a [(String, Value)],
    index: &'a HashMap<String, usize>,
    nodes: Vec<Option<Node>>,
    locations: Vec<(usize, Vec<String>)>,
    memo: HashMap<(usize, Vec<String>), usize>,
    queue: Vec<usize>,
}

impl<'a> Builder<'a> {
    fn new(docs: &'a [(String, Value)], index: &'a HashMap<String, usize>) -> Self {
        Builder {
            docs,
            index,
            nodes: Vec::new(),
            locations: Vec::new(),
            memo: HashMap::new(),
            queue: Vec::new(),
        }
    }

    fn err(&self, model: usize, message: String) -> SchemaError {
        SchemaError {
            model: self.docs[model].0.clone(),
            message,
        }
    }

    fn node_for(&mut self, model: usize, ptr: Vec<String>) -> usize {
        if let Some(&idx) = self.memo.get(&(model, ptr.clone())) {
            return idx;
        }
        let idx = self.nodes.len();
        self.nodes.push(None);
        self.locations.push((model, ptr.clone()));
        self.memo.insert((model, ptr), idx);
        self.queue.push(idx);
        idx
    }

    fn build(mut self) -> Result<SchemaSet, SchemaError> {
        let mut models = IndexMap::new();
        for m in 0..self.docs.len() {
            let root = self.node_for(m, Vec::new());
            models.insert(self.docs[m].0.clone(), root);
        }
        while let Some(idx) = self.queue.pop() {
            let (model, ptr) = self.locations[idx].clone();
            let node = self.compile_node(model, &ptr)?;
            self.nodes[idx] = Some(node);
        }
        let mut nodes = Vec::with_capacity(self.nodes.len());
        for n in self.nodes {
            nodes.push(n.unwrap_or_default());
        }
        // Pure `$ref` chains must end somewhere: a cycle made only of references can never
        // be validated against.
        for start in 0..nodes.len() {
            let mut cur = start;
            let mut hops = 0usize;
            while let Some(next) = nodes[cur].ref_target {
                cur = next;
                hops += 1;
                if hops > nodes.len() {
                    let (model, ptr) = &self.locations[start];
                    return Err(SchemaError {
                        model: self.docs[*model].0.clone(),
                        message: format!(
                            "JSON Reference loop detected at \"{}\"",
                            pointer_string(ptr)
                        ),
                    });
                }
            }
        }
        let locations = self
            .locations
            .into_iter()
            .map(|(m, p)| (m, pointer_string(&p)))
            .collect();
        Ok(SchemaSet {
            inner: Arc::new(Compiled {
                nodes,
                models,
                locations,
                model_names: self.docs.iter().map(|(n, _)| n.clone()).collect(),
            }),
        })
    }

    fn child(&mut self, model: usize, ptr: &[String], extra: &[&str]) -> usize {
        let mut p = ptr.to_vec();
        p.extend(extra.iter().map(|s| s.to_string()));
        self.node_for(model, p)
    }

    fn compile_node(&mut self, model: usize, ptr: &[String]) -> Result<Node, SchemaError> {
        let docs = self.docs;
        let at = pointer_string(ptr);
        let value = resolve_pointer(&docs[model].1, ptr)
            .ok_or_else(|| self.err(model, format!("nothing at \"{at}\"")))?;
        let obj = value.as_object().ok_or_else(|| {
            self.err(
                model,
                format!(
                    "schema at \"{at}\" is not a JSON object (found {})",
                    json_kind(value)
                ),
            )
        })?;
        let bad = |kw: &str, what: &str| -> SchemaError {
            SchemaError {
                model: docs[model].0.clone(),
                message: format!("invalid schema at \"{at}\": keyword \"{kw}\" {what}"),
            }
        };
        let mut node = Node::default();

        for (kw, v) in obj {
            match kw.as_str() {
                "$ref" => {
                    let r = v.as_str().ok_or_else(|| bad(kw, "must be a string"))?;
                    let (tm, tp) = self.parse_ref(model, r).map_err(|m| bad(kw, &m))?;
                    match resolve_pointer(&docs[tm].1, &tp) {
                        Some(Value::Object(_)) => {}
                        Some(_) => {
                            return Err(bad(kw, &format!("\"{r}\" does not point to a schema")));
                        }
                        None => return Err(bad(kw, &format!("\"{r}\" does not resolve"))),
                    }
                    node.ref_target = Some(self.node_for(tm, tp));
                }
                "type" => {
                    let mut bits = 0u8;
                    let mut add = |t: &Value| -> Result<(), SchemaError> {
                        let name = t.as_str().ok_or_else(|| bad(kw, "must contain strings"))?;
                        let i = TYPE_NAMES
                            .iter()
                            .position(|n| *n == name)
                            .ok_or_else(|| bad(kw, &format!("has unknown type \"{name}\"")))?;
                        if bits & (1 << i) != 0 {
                            return Err(bad(kw, "has duplicate elements"));
                        }
                        bits |= 1 << i;
                        Ok(())
                    };
                    match v {
                        Value::String(_) => add(v)?,
                        Value::Array(a) if !a.is_empty() => {
                            for t in a {
                                add(t)?;
                            }
                        }
                        Value::Array(_) => return Err(bad(kw, "must not be empty")),
                        _ => return Err(bad(kw, "must be a string or an array")),
                    }
                    if bits & T_NUMBER != 0 {
                        bits |= T_INTEGER;
                    }
                    node.types = Some(bits);
                }
                "enum" => {
                    let a = v.as_array().ok_or_else(|| bad(kw, "must be an array"))?;
                    if a.is_empty() {
                        return Err(bad(kw, "must not be empty"));
                    }
                    if has_duplicates(a) {
                        return Err(bad(kw, "must have unique elements"));
                    }
                    node.enumeration = Some(v.clone());
                }
                "format" => {
                    let f = v.as_str().ok_or_else(|| bad(kw, "must be a string"))?;
                    node.format = match f {
                        "date-time" => Some(Format::DateTime),
                        "email" => Some(Format::Email),
                        "hostname" | "host-name" => Some(Format::Hostname),
                        "ipv4" => Some(Format::Ipv4),
                        "ipv6" => Some(Format::Ipv6),
                        "uri" => Some(Format::Uri),
                        "regex" => Some(Format::Regex),
                        _ => None,
                    };
                }
                "minimum" | "maximum" | "multipleOf" => {
                    let n = match v {
                        Value::Number(n) => n.clone(),
                        _ => return Err(bad(kw, "must be a number")),
                    };
                    match kw.as_str() {
                        "minimum" => {
                            node.minimum = Some(Bound {
                                value: n,
                                exclusive: flag(obj, "exclusiveMinimum")
                                    .map_err(|m| bad("exclusiveMinimum", m))?,
                            })
                        }
                        "maximum" => {
                            node.maximum = Some(Bound {
                                value: n,
                                exclusive: flag(obj, "exclusiveMaximum")
                                    .map_err(|m| bad("exclusiveMaximum", m))?,
                            })
                        }
                        _ => {
                            if n.as_f64().is_none_or(|f| f <= 0.0) {
                                return Err(bad(kw, "must be strictly greater than 0"));
                            }
                            node.multiple_of = Some(n);
                        }
                    }
                }
                "exclusiveMinimum" | "exclusiveMaximum" => {
                    if !v.is_boolean() {
                        return Err(bad(kw, "must be a boolean"));
                    }
                    let base = if kw == "exclusiveMinimum" {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    if !obj.contains_key(base) {
                        return Err(bad(kw, &format!("requires \"{base}\" to be present")));
                    }
                }
                "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
                | "maxProperties" => {
                    let n = v
                        .as_u64()
                        .ok_or_else(|| bad(kw, "must be a non-negative integer"))?;
                    match kw.as_str() {
                        "minLength" => node.min_length = Some(n),
                        "maxLength" => node.max_length = Some(n),
                        "minItems" => node.min_items = Some(n),
                        "maxItems" => node.max_items = Some(n),
                        "minProperties" => node.min_properties = Some(n),
                        _ => node.max_properties = Some(n),
                    }
                }
                "pattern" => {
                    let s = v.as_str().ok_or_else(|| bad(kw, "must be a string"))?;
                    node.pattern = Some(compile_pattern(s).map_err(|m| bad(kw, &m))?);
                }
                "uniqueItems" => {
                    node.unique_items = v.as_bool().ok_or_else(|| bad(kw, "must be a boolean"))?;
                }
                "required" => {
                    let a = v.as_array().ok_or_else(|| bad(kw, "must be an array"))?;
                    if a.is_empty() {
                        return Err(bad(kw, "must have at least one element"));
                    }
                    if has_duplicates(a) {
                        return Err(bad(kw, "must have unique elements"));
                    }
                    for r in a {
                        let s = r.as_str().ok_or_else(|| bad(kw, "must contain strings"))?;
                        node.required.push(s.to_string());
                    }
                }
                "items" => match v {
                    Value::Object(_) => {
                        node.items = Items::Single(self.child(model, ptr, &["items"]))
                    }
                    Value::Array(a) => {
                        let mut v = Vec::with_capacity(a.len());
                        for (i, s) in a.iter().enumerate() {
                            if !s.is_object() {
                                return Err(bad(kw, "must contain only schemas (objects)"));
                            }
                            let idx = i.to_string();
                            v.push(self.child(model, ptr, &["items", &idx]));
                        }
                        node.items = Items::Tuple(v);
                    }
                    _ => return Err(bad(kw, "must be a schema or an array of schemas")),
                },
                "additionalItems" | "additionalProperties" => {
                    let add = match v {
                        Value::Bool(true) => Additional::Allowed,
                        Value::Bool(false) => Additional::Forbidden,
                        Value::Object(_) => {
                            Additional::Schema(self.child(model, ptr, &[kw.as_str()]))
                        }
                        _ => return Err(bad(kw, "must be a boolean or a schema")),
                    };
                    if kw == "additionalItems" {
                        node.additional_items = add;
                    } else {
                        node.additional_properties = add;
                    }
                }
                "properties" | "patternProperties" | "definitions" => {
                    let m = v.as_object().ok_or_else(|| bad(kw, "must be an object"))?;
                    for (name, s) in m {
                        if !s.is_object() {
                            return Err(bad(kw, &format!("member \"{name}\" is not a schema")));
                        }
                        let idx = self.child(model, ptr, &[kw.as_str(), name.as_str()]);
                        match kw.as_str() {
                            "properties" => {
                                node.properties.insert(name.clone(), idx);
                            }
                            "patternProperties" => {
                                let p = compile_pattern(name).map_err(|m| bad(kw, &m))?;
                                node.pattern_properties.push((p, idx));
                            }
                            _ => {}
                        }
                    }
                }
                "dependencies" => {
                    let m = v.as_object().ok_or_else(|| bad(kw, "must be an object"))?;
                    for (name, d) in m {
                        match d {
                            Value::Object(_) => {
                                let idx = self.child(model, ptr, &[kw.as_str(), name.as_str()]);
                                node.schema_deps.push((name.clone(), idx));
                            }
                            Value::Array(a) => {
                                if a.is_empty() {
                                    return Err(bad(
                                        kw,
                                        &format!("member \"{name}\" must not be empty"),
                                    ));
                                }
                                if has_duplicates(a) {
                                    return Err(bad(
                                        kw,
                                        &format!("member \"{name}\" has duplicates"),
                                    ));
                                }
                                let mut props = Vec::with_capacity(a.len());
                                for p in a {
                                    let s = p.as_str().ok_or_else(|| {
                                        bad(kw, "property dependencies must be strings")
                                    })?;
                                    props.push(s.to_string());
                                }
                                props.sort_by(|a, b| utf16_cmp(a, b));
                                node.property_deps.push((name.clone(), props));
                            }
                            _ => {
                                return Err(bad(
                                    kw,
                                    &format!("member \"{name}\" must be a schema or an array"),
                                ));
                            }
                        }
                    }
                    node.schema_deps.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let a = v.as_array().ok_or_else(|| bad(kw, "must be an array"))?;
                    if a.is_empty() {
                        return Err(bad(kw, "must not be empty"));
                    }
                    let mut list = Vec::with_capacity(a.len());
                    for (i, s) in a.iter().enumerate() {
                        if !s.is_object() {
                            return Err(bad(kw, "must contain only schemas (objects)"));
                        }
                        let idx = i.to_string();
                        list.push(self.child(model, ptr, &[kw.as_str(), &idx]));
                    }
                    match kw.as_str() {
                        "allOf" => node.all_of = list,
                        "anyOf" => node.any_of = list,
                        _ => node.one_of = list,
                    }
                }
                "not" => {
                    if !v.is_object() {
                        return Err(bad(kw, "must be a schema"));
                    }
                    node.not = Some(self.child(model, ptr, &["not"]));
                }
                "id" | "$schema" | "title" | "description" if !v.is_string() => {
                    return Err(bad(kw, "must be a string"));
                }
                // `default`, vendor extensions and unknown keywords are ignored (fge warns).
                _ => {}
            }
        }
        // The array-size check of `additionalItems: false` only exists with a tuple `items`.
        if matches!(node.additional_items, Additional::Forbidden)
            && !matches!(node.items, Items::Tuple(_))
        {
            node.additional_items = Additional::Allowed;
        }
        Ok(node)
    }

    /// Resolves a `$ref` to (model index, pointer tokens).
    fn parse_ref(&self, model: usize, r: &str) -> Result<(usize, Vec<String>), String> {
        let (base, frag) = match r.find('#') {
            Some(i) => (&r[..i], &r[i + 1..]),
            None => (r, ""),
        };
        let target = if base.is_empty() {
            model
        } else {
            let name = apigateway_model_name(base)
                .ok_or_else(|| format!("unsupported reference \"{r}\" (expected \"#/...\" or https://apigateway.amazonaws.com/restapis/{{api_id}}/models/{{name}})"))?;
            *self
                .index
                .get(name)
                .ok_or_else(|| format!("references unknown model \"{name}\""))?
        };
        let frag =
            percent_decode(frag).ok_or_else(|| format!("bad escape in reference \"{r}\""))?;
        if frag.is_empty() {
            return Ok((target, Vec::new()));
        }
        if !frag.starts_with('/') {
            return Err(format!("unsupported reference fragment in \"{r}\""));
        }
        let tokens = frag[1..]
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        Ok((target, tokens))
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, &'static str> {
    match obj.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err("must be a boolean"),
    }
}

fn json_kind(v: &Value) -> &'static str {
    TYPE_NAMES[type_index(v)]
}

fn apigateway_model_name(base: &str) -> Option<&str> {
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))?;
    let rest = rest.strip_prefix("apigateway.amazonaws.com/restapis/")?;
    let (api_id, rest) = rest.split_once('/')?;
    if api_id.is_empty() {
        return None;
    }
    let name = rest.strip_prefix("models/")?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    Some(name)
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = b.get(i + 1..i + 3)?;
            let h = std::str::from_utf8(h).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn resolve_pointer<'v>(doc: &'v Value, ptr: &[String]) -> Option<&'v Value> {
    let mut cur = doc;
    for t in ptr {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => {
                if t.len() > 1 && t.starts_with('0') {
                    return None;
                }
                a.get(t.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn pointer_string(ptr: &[String]) -> String {
    let mut s = String::from("#");
    for t in ptr {
        s.push('/');
        s.push_str(&t.replace('~', "~0").replace('/', "~1"));
    }
    s
}

/// Java `String.compareTo` order (UTF-16 code units), which fge uses to sort member names.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

// ---------------------------------------------------------------------------------------------
// ECMA-262 regex translation
// ---------------------------------------------------------------------------------------------

fn compile_pattern(source: &str) -> Result<Pattern, String> {
    let translated = ecma_to_rust_regex(source)?;
    let re = regex::RegexBuilder::new(&translated)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            format!(
                "regex \"{source}\" is not supported: {}",
                last_line(&e.to_string())
            )
        })?;
    Ok(Pattern {
        source: source.to_string(),
        re,
    })
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// Translates an ECMA-262 pattern into the `regex` crate's dialect. ASCII-only classes
/// (`\d`, `\w`, `\b`) stay ASCII-only; identity escapes become literals; a lone `{` that does
/// not start a quantifier is literal. Look-around and back-references are rejected.
pub(crate) fn ecma_to_rust_regex(p: &str) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = false;
    while i < chars.len() {
        let c = chars[i];
        let at_class_start = class_start;
        class_start = false;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(format!("regex \"{p}\" ends with a backslash"));
                };
                i += 2;
                match n {
                    'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                    'D' => out.push_str(if in_class { "\\D" } else { "[^0-9]" }),
                    'w' => out.push_str(if in_class {
                        "0-9A-Za-z_"
                    } else {
                        "[0-9A-Za-z_]"
                    }),
                    'W' => out.push_str(if in_class { "\\W" } else { "[^0-9A-Za-z_]" }),
                    's' | 'S' | 'n' | 'r' | 't' | 'v' | 'f' => {
                        out.push('\\');
                        out.push(n);
                    }
                    'b' if in_class => out.push_str("\\x08"),
                    'b' => out.push_str("(?-u:\\b)"),
                    'B' => out.push_str("(?-u:\\B)"),
                    '0' if !chars.get(i).is_some_and(|c| c.is_ascii_digit()) => {
                        out.push_str("\\x00")
                    }
                    '1'..='9' => {
                        return Err(format!(
                            "regex \"{p}\" uses back-references, which are not supported"
                        ));
                    }
                    'k' if chars.get(i) == Some(&'<') => {
                        return Err(format!(
                            "regex \"{p}\" uses back-references, which are not supported"
                        ));
                    }
                    'c' if chars.get(i).is_some_and(|c| c.is_ascii_alphabetic()) => {
                        let ctl = (chars[i] as u32) % 32;
                        out.push_str(&format!("\\x{{{ctl:X}}}"));
                        i += 1;
                    }
                    'x' if chars
                        .get(i..i + 2)
                        .is_some_and(|h| h.iter().all(|c| c.is_ascii_hexdigit())) =>
                    {
                        out.push_str("\\x");
                        out.push(chars[i]);
                        out.push(chars[i + 1]);
                        i += 2;
                    }
                    'u' if chars
                        .get(i..i + 4)
                        .is_some_and(|h| h.iter().all(|c| c.is_ascii_hexdigit())) =>
                    {
                        out.push_str("\\x{");
                        out.extend(&chars[i..i + 4]);
                        out.push('}');
                        i += 4;
                    }
                    _ => push_literal(&mut out, n),
                }
                continue;
            }
            '[' if in_class => out.push_str("\\["),
            '[' => {
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("[a&&b]"); // ECMA `[]`: matches nothing
                    i += 2;
                    continue;
                }
                if chars.get(i + 1) == Some(&'^') && chars.get(i + 2) == Some(&']') {
                    out.push_str("(?s:.)"); // ECMA `[^]`: matches anything
                    i += 3;
                    continue;
                }
                in_class = true;
                class_start = true;
                out.push('[');
            }
            ']' if in_class && !at_class_start => {
                in_class = false;
                out.push(']');
            }
            ']' => out.push_str("\\]"),
            '^' if in_class && at_class_start => {
                out.push('^');
                class_start = true; // `[^]...` handled above; `]` right after `^` is literal
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '-' if in_class && chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                match chars.get(i + 2) {
                    Some(':') => out.push_str("(?:"),
                    Some('<') if matches!(chars.get(i + 3), Some('=' | '!')) => {
                        return Err(format!(
                            "regex \"{p}\" uses look-behind, which is not supported"
                        ));
                    }
                    Some('<') => out.push_str("(?P<"),
                    Some('=' | '!') => {
                        return Err(format!(
                            "regex \"{p}\" uses look-ahead, which is not supported"
                        ));
                    }
                    _ => return Err(format!("regex \"{p}\" has an invalid group")),
                }
                i += 3;
                continue;
            }
            '{' if !in_class => {
                let end = quantifier_end(&chars, i);
                match end {
                    Some(e) => {
                        out.extend(&chars[i..=e]);
                        i = e + 1;
                        continue;
                    }
                    None => out.push_str("\\{"),
                }
            }
            '}' if !in_class => out.push_str("\\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    if in_class {
        return Err(format!("regex \"{p}\" has an unterminated character class"));
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&regex::escape(&c.to_string()));
    }
}

/// If `chars[start]` (a `{`) begins a `{n}`, `{n,}` or `{n,m}` quantifier, the index of `}`.
fn quantifier_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let digits_from = i;
    while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    if i == digits_from {
        return None;
    }
    if chars.get(i) == Some(&',') {
        i += 1;
        while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    (chars.get(i) == Some(&'}')).then_some(i)
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Seg<'v> {
    Key(&'v str),
    Index(usize),
}

struct Validator<'c, 'v> {
    c: &'c Compiled,
    /// (resolved node, instance depth) of every schema evaluation in progress.
    stack: Vec<(usize, usize)>,
    /// Instance location, for messages.
    path: Vec<Seg<'v>>,
}

impl Compiled {
    fn validate(&self, root: usize, instance: &Value) -> Result<(), Vec<String>> {
        let mut v = Validator {
            c: self,
            stack: Vec::new(),
            path: Vec::new(),
        };
        let mut report = Vec::new();
        v.process(root, instance, &mut report);
        if report.is_empty() {
            Ok(())
        } else {
            Err(report)
        }
    }
}

impl<'c, 'v> Validator<'c, 'v> {
    fn process(&mut self, node: usize, inst: &'v Value, report: &mut Vec<String>) {
        let c = self.c;
        let nodes = &c.nodes;
        let mut n = node;
        let mut hops = 0usize;
        while let Some(t) = nodes[n].ref_target {
            n = t;
            hops += 1;
            if hops > nodes.len() {
                report.push("JSON Reference loop detected".to_string());
                return;
            }
        }
        let depth = self.path.len();
        if self
            .stack
            .iter()
            .rev()
            .take_while(|(_, d)| *d == depth)
            .any(|(s, _)| *s == n)
        {
            report.push(self.loop_message(n));
            return;
        }
        if self.stack.len() >= MAX_VALIDATION_DEPTH {
            report.push(format!(
                "validation depth limit exceeded (more than {MAX_VALIDATION_DEPTH} nested schema evaluations)"
            ));
            return;
        }
        self.stack.push((n, depth));
        self.keywords(n, inst, report);
        if report.is_empty() {
            self.children(n, inst, report);
        }
        self.stack.pop();
    }

    fn loop_message(&self, n: usize) -> String {
        let (model, ptr) = &self.c.locations[n];
        let mut p = String::new();
        for s in &self.path {
            p.push('/');
            match s {
                Seg::Key(k) => p.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Seg::Index(i) => p.push_str(&i.to_string()),
            }
        }
        format!(
            "validation loop: schema \"{}{}\" visited twice for pointer \"{p}\" of validated instance",
            self.c.model_names[*model], ptr
        )
    }

    fn children(&mut self, n: usize, inst: &'v Value, report: &mut Vec<String>) {
        let node = &self.c.nodes[n];
        match inst {
            Value::Array(a) => {
                for (i, el) in a.iter().enumerate() {
                    let target = match &node.items {
                        Items::Absent => match node.additional_items {
                            Additional::Schema(s) => Some(s),
                            _ => None,
                        },
                        Items::Single(s) => Some(*s),
                        Items::Tuple(t) => match t.get(i) {
                            Some(s) => Some(*s),
                            None => match node.additional_items {
                                Additional::Schema(s) => Some(s),
                                _ => None,
                            },
                        },
                    };
                    if let Some(s) = target {
                        self.path.push(Seg::Index(i));
                        self.process(s, el, report);
                        self.path.pop();
                    }
                }
            }
            Value::Object(m) => {
                if node.properties.is_empty()
                    && node.pattern_properties.is_empty()
                    && !matches!(node.additional_properties, Additional::Schema(_))
                {
                    return;
                }
                let mut keys: Vec<&'v String> = m.keys().collect();
                keys.sort_by(|a, b| utf16_cmp(a, b));
                let mut selected = Vec::new();
                for k in keys {
                    selected.clear();
                    if let Some(&s) = node.properties.get(k.as_str()) {
                        selected.push(s);
                    }
                    for (p, s) in &node.pattern_properties {
                        if p.re.is_match(k) {
                            selected.push(*s);
                        }
                    }
                    if selected.is_empty()
                        && let Additional::Schema(s) = node.additional_properties
                    {
                        selected.push(s);
                    }
                    let Some(child) = m.get(k.as_str()) else {
                        continue;
                    };
                    self.path.push(Seg::Key(k));
                    for &s in &selected {
                        self.process(s, child, report);
                    }
                    self.path.pop();
                }
            }
            _ => {}
        }
    }

    fn passes(&mut self, s: usize, inst: &'v Value) -> bool {
        let mut sub = Vec::new();
        self.process(s, inst, &mut sub);
        sub.is_empty()
    }

    /// Checks one schema level, in fge's (lexicographic) keyword order.
    fn keywords(&mut self, n: usize, inst: &'v Value, report: &mut Vec<String>) {
        let c = self.c;
        let node = &c.nodes[n];
        let t = type_bit(inst);

        // additionalItems
        if let (Value::Array(a), Items::Tuple(items), Additional::Forbidden) =
            (inst, &node.items, node.additional_items)
            && a.len() > items.len()
        {
            report.push(format!(
                "schema only allows {} elements in array but instance has {} elements",
                items.len(),
                a.len()
            ));
        }
        // additionalProperties
        if let (Value::Object(m), Additional::Forbidden) = (inst, node.additional_properties) {
            let mut extra: Vec<&String> = m
                .keys()
                .filter(|k| !node.properties.contains_key(k.as_str()))
                .filter(|k| {
                    !node
                        .pattern_properties
                        .iter()
                        .any(|(p, _)| p.re.is_match(k))
                })
                .collect();
            if !extra.is_empty() {
                extra.sort_by(|a, b| utf16_cmp(a, b));
                report.push(format!(
                    "object instance has properties which are not allowed by the schema: {}",
                    json_string_array(extra.iter().map(|s| s.as_str()))
                ));
            }
        }
        // allOf
        if !node.all_of.is_empty() {
            let matched = node
                .all_of
                .iter()
                .filter(|&&s| self.passes(s, inst))
                .count();
            if matched != node.all_of.len() {
                report.push(format!(
                    "instance failed to match all required schemas (matched only {} out of {})",
                    matched,
                    node.all_of.len()
                ));
            }
        }
        // anyOf
        if !node.any_of.is_empty() {
            let matched = node
                .any_of
                .iter()
                .filter(|&&s| self.passes(s, inst))
                .count();
            if matched == 0 {
                report.push(format!(
                    "instance failed to match at least one required schema among {}",
                    node.any_of.len()
                ));
            }
        }
        // dependencies
        if let Value::Object(m) = inst {
            for (prop, deps) in &node.property_deps {
                if !m.contains_key(prop) {
                    continue;
                }
                let missing: Vec<&str> = deps
                    .iter()
                    .filter(|d| !m.contains_key(d.as_str()))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    report.push(format!(
                        "property \"{}\" of object has missing property dependencies (schema requires {}; missing: {})",
                        prop,
                        json_string_array(deps.iter().map(String::as_str)),
                        json_string_array(missing.into_iter())
                    ));
                }
            }
            for (prop, s) in &node.schema_deps {
                if m.contains_key(prop) {
                    self.process(*s, inst, report);
                }
            }
        }
        // enum
        if let Some(Value::Array(values)) = &node.enumeration
            && !values.iter().any(|e| json_equal(e, inst))
        {
            report.push(format!(
                "instance value ({}) not found in enum (possible values: {})",
                json_text(inst),
                json_text(node.enumeration.as_ref().unwrap_or(&Value::Null))
            ));
        }
        // format
        if let (Some(f), Value::String(s)) = (node.format, inst)
            && let Some(msg) = check_format(f, s)
        {
            report.push(msg);
        }
        // maxItems / maxLength / maxProperties / maximum
        if let (Some(max), Value::Array(a)) = (node.max_items, inst)
            && a.len() as u64 > max
        {
            report.push(format!(
                "array is too long: must have at most {max} elements but instance has {} elements",
                a.len()
            ));
        }
        if let (Some(max), Value::String(s)) = (node.max_length, inst) {
            let len = s.chars().count() as u64;
            if len > max {
                report.push(format!(
                    "string \"{s}\" is too long (length: {len}, maximum allowed: {max})"
                ));
            }
        }
        if let (Some(max), Value::Object(m)) = (node.max_properties, inst)
            && m.len() as u64 > max
        {
            report.push(format!(
                "object has too many properties (found {} but schema requires at most {max})",
                m.len()
            ));
        }
        if let (Some(b), Value::Number(x)) = (&node.maximum, inst) {
            match num_cmp(x, &b.value) {
                Some(Ordering::Greater) => report.push(format!(
                    "numeric instance is greater than the required maximum (maximum: {}, found: {})",
                    b.value, x
                )),
                Some(Ordering::Equal) if b.exclusive => report.push(format!(
                    "numeric instance is not strictly lower than the required maximum {}",
                    b.value
                )),
                _ => {}
            }
        }
        // minItems / minLength / minProperties / minimum
        if let (Some(min), Value::Array(a)) = (node.min_items, inst)
            && (a.len() as u64) < min
        {
            report.push(format!(
                "array is too short: must have at least {min} elements but instance has {} elements",
                a.len()
            ));
        }
        if let (Some(min), Value::String(s)) = (node.min_length, inst) {
            let len = s.chars().count() as u64;
            if len < min {
                report.push(format!(
                    "string \"{s}\" is too short (length: {len}, required minimum: {min})"
                ));
            }
        }
        if let (Some(min), Value::Object(m)) = (node.min_properties, inst)
            && (m.len() as u64) < min
        {
            report.push(format!(
                "object has too few properties (found {} but schema requires at least {min})",
                m.len()
            ));
        }
        if let (Some(b), Value::Number(x)) = (&node.minimum, inst) {
            match num_cmp(x, &b.value) {
                Some(Ordering::Less) => report.push(format!(
                    "numeric instance is lower than the required minimum (minimum: {}, found: {})",
                    b.value, x
                )),
                Some(Ordering::Equal) if b.exclusive => report.push(format!(
                    "numeric instance is not strictly greater than the required minimum {}",
                    b.value
                )),
                _ => {}
            }
        }
        // multipleOf
        if let (Some(d), Value::Number(x)) = (&node.multiple_of, inst)
            && !is_multiple_of(x, d)
        {
            report.push(format!("remainder of division is not zero ({x} / {d})"));
        }
        // not
        if let Some(s) = node.not
            && self.passes(s, inst)
        {
            report.push("instance matched a schema which it should not have".to_string());
        }
        // oneOf
        if !node.one_of.is_empty() {
            let matched = node
                .one_of
                .iter()
                .filter(|&&s| self.passes(s, inst))
                .count();
            if matched != 1 {
                report.push(format!(
                    "instance failed to match exactly one schema (matched {} out of {})",
                    matched,
                    node.one_of.len()
                ));
            }
        }
        // pattern
        if let (Some(p), Value::String(s)) = (&node.pattern, inst)
            && !p.re.is_match(s)
        {
            report.push(format!(
                "ECMA 262 regex \"{}\" does not match input string \"{s}\"",
                p.source
            ));
        }
        // required
        if let Value::Object(m) = inst
            && !node.required.is_empty()
        {
            let missing: Vec<&str> = node
                .required
                .iter()
                .filter(|r| !m.contains_key(r.as_str()))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                report.push(format!(
                    "object has missing required properties ({})",
                    json_string_array(missing.into_iter())
                ));
            }
        }
        // type
        if let Some(types) = node.types
            && types & t == 0
        {
            let allowed = (0..TYPE_NAMES.len())
                .filter(|i| types & (1 << i) != 0)
                .map(|i| TYPE_NAMES[i]);
            report.push(format!(
                "instance type ({}) does not match any allowed primitive type (allowed: {})",
                TYPE_NAMES[type_index(inst)],
                json_string_array(allowed)
            ));
        }
        // uniqueItems
        if let (true, Value::Array(a)) = (node.unique_items, inst)
            && has_duplicates(a)
        {
            report.push("array must not contain duplicate elements".to_string());
        }
    }
}

/// `["a","b"]`, compact, as Jackson prints an array node of strings.
fn json_string_array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    Value::Array(items.map(|s| Value::String(s.to_string())).collect()).to_string()
}

// ---------------------------------------------------------------------------------------------
// Numbers and equality
// ---------------------------------------------------------------------------------------------

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

pub(crate) fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (as_i128(a), as_i128(b)) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// JSON equality where numbers compare by value (`1` equals `1.0`), as fge's `JsonNumEquals`.
/// Iterative, so arbitrarily deep values cannot exhaust the stack.
fn json_equal(a: &Value, b: &Value) -> bool {
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                if num_cmp(x, y) != Some(Ordering::Equal) {
                    return false;
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                stack.extend(x.iter().zip(y));
            }
            (Value::Object(x), Value::Object(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => stack.push((v, w)),
                        None => return false,
                    }
                }
            }
            _ => {
                if a != b {
                    return false;
                }
            }
        }
    }
    true
}

/// A hash consistent with [`json_equal`] (equal values hash equally); content deeper than
/// `depth` levels is not hashed, which keeps the recursion bounded.
fn json_hash<H: Hasher>(v: &Value, depth: usize, h: &mut H) {
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Null => {}
        Value::Bool(b) => b.hash(h),
        Value::String(s) => s.hash(h),
        Value::Number(n) => match as_i128(n) {
            Some(i) => i.hash(h),
            None => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e30 {
                    (f as i128).hash(h);
                } else {
                    f.to_bits().hash(h);
                }
            }
        },
        Value::Array(a) => {
            a.len().hash(h);
            if depth > 0 {
                for x in a {
                    json_hash(x, depth - 1, h);
                }
            }
        }
        Value::Object(m) => {
            m.len().hash(h);
            if depth > 0 {
                // order-independent combination of the members
                let mut acc: u64 = 0;
                for (k, x) in m {
                    let mut eh = std::collections::hash_map::DefaultHasher::new();
                    k.hash(&mut eh);
                    json_hash(x, depth - 1, &mut eh);
                    acc = acc.wrapping_add(eh.finish());
                }
                acc.hash(h);
            }
        }
    }
}

/// Whether two elements are [`json_equal`]; linear expected time for large arrays.
fn has_duplicates(a: &[Value]) -> bool {
    if a.len() <= 16 {
        return (0..a.len()).any(|i| (i + 1..a.len()).any(|j| json_equal(&a[i], &a[j])));
    }
    let mut buckets: HashMap<u64, Vec<usize>> = HashMap::with_capacity(a.len());
    for (i, v) in a.iter().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        json_hash(v, 32, &mut h);
        let bucket = buckets.entry(h.finish()).or_default();
        if bucket.iter().any(|&j| json_equal(&a[j], v)) {
            return true;
        }
        bucket.push(i);
    }
    false
}

/// Compact JSON text (as Jackson prints a node), refusing to recurse into absurdly deep
/// values: those are abbreviated instead of risking the stack.
fn json_text(v: &Value) -> String {
    let mut stack = vec![(v, 0usize)];
    while let Some((x, d)) = stack.pop() {
        if d > 200 {
            return format!("<{} nested too deeply to print>", json_kind(v));
        }
        match x {
            Value::Array(a) => stack.extend(a.iter().map(|y| (y, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|y| (y, d + 1))),
            _ => {}
        }
    }
    v.to_string()
}

/// `|n| = mantissa * 10^exponent`, exactly, from the number's decimal text.
fn decimal_parts(n: &Number) -> Option<(u128, i64)> {
    let s = n.to_string();
    let s = s.strip_prefix('-').unwrap_or(&s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 38 {
        return None;
    }
    let m = if digits.is_empty() {
        0
    } else {
        digits.parse::<u128>().ok()?
    };
    Some((m, exp - frac.len() as i64))
}

fn pow10_mod(mut k: i64, m: u128) -> Option<u128> {
    let mut result: u128 = 1 % m;
    let mut base: u128 = 10 % m;
    while k > 0 {
        if k & 1 == 1 {
            result = result.checked_mul(base)? % m;
        }
        base = base.checked_mul(base)? % m;
        k >>= 1;
    }
    Some(result)
}

/// Exact decimal divisibility (fge uses `BigDecimal.remainder`), with a float fallback for
/// numbers whose decimal expansion does not fit.
fn is_multiple_of(x: &Number, d: &Number) -> bool {
    if let (Some((a, p)), Some((b, q))) = (decimal_parts(x), decimal_parts(d)) {
        if b == 0 {
            return false;
        }
        if a == 0 {
            return true;
        }
        if p >= q {
            if let Some(pw) = pow10_mod(p - q, b)
                && let Some(prod) = (a % b).checked_mul(pw)
            {
                return prod % b == 0;
            }
        } else {
            let k = u32::try_from(q - p).unwrap_or(u32::MAX);
            return match 10u128.checked_pow(k).and_then(|f| f.checked_mul(b)) {
                Some(big) => a % big == 0,
                None => false,
            };
        }
    }
    match (x.as_f64(), d.as_f64()) {
        (Some(x), Some(d)) if d != 0.0 => {
            let q = x / d;
            q.is_finite() && q.fract() == 0.0
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Formats (fge's draft-4 set; checks are close to, not identical with, the Java libraries fge
// delegates to: Joda-Time, javax.mail, Guava, java.net.URI)
// ---------------------------------------------------------------------------------------------

fn check_format(f: Format, s: &str) -> Option<String> {
    let ok = match f {
        Format::DateTime => is_date_time(s),
        Format::Email => is_email(s),
        Format::Hostname => is_hostname(s),
        Format::Ipv4 => s.parse::<std::net::Ipv4Addr>().is_ok(),
        Format::Ipv6 => s.parse::<std::net::Ipv6Addr>().is_ok(),
        Format::Uri => is_uri(s),
        Format::Regex => ecma_to_rust_regex(s).ok().is_some_and(|r| {
            regex::RegexBuilder::new(&r)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .is_ok()
        }),
    };
    if ok {
        return None;
    }
    Some(match f {
        Format::DateTime => format!(
            "string \"{s}\" is invalid against requested date format(s) [\"yyyy-MM-dd'T'HH:mm:ssZ\",\"yyyy-MM-dd'T'HH:mm:ss.[0-9]{{1,12}}Z\"]"
        ),
        Format::Email => format!("string \"{s}\" is not a valid email address"),
        Format::Hostname => format!("string \"{s}\" is not a valid hostname"),
        Format::Ipv4 => format!("string \"{s}\" is not a valid IPv4 address"),
        Format::Ipv6 => format!("string \"{s}\" is not a valid IPv6 address"),
        Format::Uri => format!("string \"{s}\" is not a valid URI"),
        Format::Regex => format!("string \"{s}\" is not a valid ECMA 262 regular expression"),
    })
}

fn digits(b: &[u8], from: usize, n: usize) -> Option<u32> {
    let part = b.get(from..from + n)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        part.iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')),
    )
}

/// `yyyy-MM-ddTHH:mm:ss[.f{1,12}](Z|±HH:mm|±HHmm)`, with calendar checks.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) = (
        digits(b, 0, 4),
        digits(b, 5, 2),
        digits(b, 8, 2),
        digits(b, 11, 2),
        digits(b, 14, 2),
        digits(b, 17, 2),
    ) else {
        return false;
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if d == 0 || d > days || h > 23 || mi > 59 || se > 59 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start || i - start > 12 {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &b[i + 1..];
            let (hh, mm) = match rest.len() {
                5 if rest[2] == b':' => (digits(rest, 0, 2), digits(rest, 3, 2)),
                4 => (digits(rest, 0, 2), digits(rest, 2, 2)),
                _ => return false,
            };
            matches!((hh, mm), (Some(hh), Some(mm)) if hh <= 23 && mm <= 59)
        }
        _ => false,
    }
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// RFC 5322 addr-spec, loosely as javax.mail's strict parser: dot-atom or quoted local part,
/// `@`, dot-atom domain (one label suffices) or a `[...]` literal.
fn is_email(s: &str) -> bool {
    let Some(at) = s.rfind('@') else { return false };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || domain.is_empty() {
        return false;
    }
    let local_ok = if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        let inner = local[1..local.len() - 1]
            .replace("\\\\", "")
            .replace("\\\"", "");
        !inner
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
    } else {
        !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| is_atext(c) || c == '.')
    };
    let domain_ok = if domain.starts_with('[') && domain.ends_with(']') {
        domain.len() > 2
            && !domain[1..domain.len() - 1].contains(['[', ']', '\\'])
            && !domain.contains(char::is_whitespace)
    } else {
        !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    local_ok && domain_ok
}

/// RFC 1123 host name: dot-separated labels of 1..=63 letters, digits and inner hyphens.
fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// RFC 2396 URI reference, as lenient as `java.net.URI`: any scheme or none, legal characters
/// only, well-formed `%XX` escapes, a single `#`.
fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut hashes = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'%' => {
                if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
                continue;
            }
            b'#' => hashes += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {}
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {}
            b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b',' | b'[' | b']' => {}
            0x80.. => {}
            _ => return false,
        }
        i += 1;
    }
    if hashes > 1 {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let head_end = s.find(['/', '?', '#']).unwrap_or(s.len());
    if let Some(colon) = s[..head_end].find(':') {
        let scheme = &s[..colon];
        let mut chars = scheme.chars();
        let valid_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_scheme {
            return false;
        }
        let rest = &s[colon + 1..];
        if rest.is_empty() || rest.starts_with('#') {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(models: &[(&str, Value)]) -> SchemaSet {
        let models: Vec<(String, String)> = models
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        match SchemaSet::compile(&models) {
            Ok(s) => s,
            Err(e) => panic!("compile failed: {e}"),
        }
    }

    #[test]
    fn decimal_multiple_of_is_exact() {
        let n = |v: Value| match v {
            Value::Number(n) => n,
            _ => unreachable!(),
        };
        assert!(is_multiple_of(&n(json!(0.3)), &n(json!(0.1))));
        assert!(is_multiple_of(&n(json!(10)), &n(json!(2.5))));
        assert!(!is_multiple_of(&n(json!(10.1)), &n(json!(2.5))));
        assert!(is_multiple_of(&n(json!(1e300)), &n(json!(1e-300))));
        assert!(!is_multiple_of(&n(json!(1e-300)), &n(json!(1e300))));
        assert!(is_multiple_of(&n(json!(u64::MAX)), &n(json!(5))));
        assert!(is_multiple_of(&n(json!(-4)), &n(json!(2))));
        assert!(!is_multiple_of(&n(json!(7)), &n(json!(2))));
    }

    #[test]
    fn regex_translation() {
        assert_eq!(ecma_to_rust_regex(r"^\d+$").as_deref(), Ok("^[0-9]+$"));
        assert_eq!(
            ecma_to_rust_regex(r"[\d\w]").as_deref(),
            Ok("[0-9 0-9A-Za-z_]".replace(' ', "").as_str())
        );
        assert_eq!(ecma_to_rust_regex(r"a{").as_deref(), Ok(r"a\{"));
        assert_eq!(ecma_to_rust_regex(r"a{2,3}").as_deref(), Ok(r"a{2,3}"));
        assert_eq!(ecma_to_rust_regex(r"\/\u00e9").as_deref(), Ok(r"/\x{00e9}"));
        assert!(ecma_to_rust_regex(r"(?=a)").is_err());
        assert!(ecma_to_rust_regex(r"(a)\1").is_err());
        assert!(compile_pattern(r"[]").is_ok_and(|p| !p.re.is_match("a")));
        assert!(compile_pattern(r"[^]").is_ok_and(|p| p.re.is_match("\n")));
        assert!(compile_pattern(r"\bfoo\b").is_ok_and(|p| p.re.is_match("a foo b")));
        assert!(compile_pattern(r"[a-c&~]").is_ok_and(|p| p.re.is_match("&")));
        assert!(compile_pattern(r"\<x\>").is_ok_and(|p| p.re.is_match("<x>")));
        assert!(compile_pattern(r"^\d$").is_ok_and(|p| !p.re.is_match("\u{0663}")));
    }

    #[test]
    fn formats() {
        assert!(is_date_time("2024-02-29T12:00:00Z"));
        assert!(is_date_time("2024-02-29T12:00:00.123456+01:00"));
        assert!(!is_date_time("2023-02-29T12:00:00Z"));
        assert!(!is_date_time("2023-01-01 12:00:00Z"));
        assert!(!is_date_time("2023-01-01T12:00:00"));
        assert!(is_email("a.b+c@example.com"));
        assert!(is_email("a@b"));
        assert!(!is_email("a@@b"));
        assert!(!is_email(".a@b"));
        assert!(!is_email("a b@c"));
        assert!(is_uri("http://example.com/a?b=c#d"));
        assert!(is_uri("relative/path"));
        assert!(!is_uri("http://exa mple.com"));
        assert!(!is_uri("http:"));
        assert!(!is_uri("a#b#c"));
        assert!(is_hostname("example.com"));
        assert!(!is_hostname("-bad.com"));
    }

    #[test]
    fn schema_handle_matches_set() {
        let s = set(&[("A", json!({"type": "string"}))]);
        let a = s.get("A").expect("model A");
        assert_eq!(a.name(), "A");
        assert!(a.validate(&json!("x")).is_ok());
        assert_eq!(a.validate(&json!(1)), s.validate("A", &json!(1)));
        assert!(s.get("B").is_none());
        assert_eq!(
            s.validate("B", &json!(1)),
            Err(vec!["no model named \"B\"".to_string()])
        );
        assert_eq!(s.names().collect::<Vec<_>>(), vec!["A"]);
    }

    #[test]
    fn send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SchemaSet>();
        assert_send_sync::<Schema>();
    }

    #[test]
    fn error_string_joins_like_java_list() {
        assert_eq!(error_string(&[]), "[]");
        assert_eq!(error_string(&["a".into()]), "[a]");
        assert_eq!(error_string(&["a".into(), "b".into()]), "[a, b]");
    }
}
