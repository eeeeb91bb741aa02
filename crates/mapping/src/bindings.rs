//! The variables API Gateway gives mapping templates: `$input`, `$util`, `$context`,
//! `$stageVariables`, as VTL values.
//!
//! `$context` is a plain VTL map so that templates can `#set` its `requestOverride.*` and
//! `responseOverride.*` entries; the caller reads them back after rendering.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use base64::Engine as _;
use bytes::Bytes;
use portico_vtl::{
    Context, HostObject, Limits, List, ListStyle, Map, NullRendering, RenderError, Template, Value,
};

use crate::jsonpath::JsonPath;

/// The request (or integration response) a template reads through `$input`: the body, as
/// bytes (turned into text only when a template reads it), and its parameters.
#[derive(Clone)]
pub struct InputData {
    pub body: Bytes,
    pub params: Rc<dyn Params>,
}

impl Default for InputData {
    fn default() -> InputData {
        InputData {
            body: Bytes::new(),
            params: Rc::new(ParamLists::default()),
        }
    }
}

/// Which of `$input.params()`'s three maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Path,
    QueryString,
    Header,
}

/// The request parameters `$input.params` reads. An embedder implements it over its own
/// request so that a render copies only the parameters a template asks for.
pub trait Params {
    /// `$input.params(name)`: the path parameter `name`, else the query parameter, else the
    /// header (its name matched case-insensitively); the last one where there are several.
    fn find(&self, name: &str) -> Option<String>;
    /// Calls `f` with each `(name, value)` of one of the maps of `$input.params()`, in
    /// request order.
    fn each(&self, kind: ParamKind, f: &mut dyn FnMut(&str, &str));
}

/// Parameters already gathered into lists.
#[derive(Debug, Clone, Default)]
pub struct ParamLists {
    pub path: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub header: Vec<(String, String)>,
}

impl Params for ParamLists {
    fn find(&self, name: &str) -> Option<String> {
        let last = |list: &[(String, String)], ci: bool| {
            list.iter()
                .rev()
                .find(|(k, _)| {
                    if ci {
                        k.eq_ignore_ascii_case(name)
                    } else {
                        k == name
                    }
                })
                .map(|(_, v)| v.clone())
        };
        last(&self.path, false)
            .or_else(|| last(&self.querystring, false))
            .or_else(|| last(&self.header, true))
    }

    fn each(&self, kind: ParamKind, f: &mut dyn FnMut(&str, &str)) {
        let list = match kind {
            ParamKind::Path => &self.path,
            ParamKind::QueryString => &self.querystring,
            ParamKind::Header => &self.header,
        };
        for (k, v) in list {
            f(k, v);
        }
    }
}

/// Everything one render sees.
#[derive(Clone)]
pub struct Bindings {
    pub input: InputData,
    /// `$context`: a map built with [`context_map`] (read overrides back with [`overrides`]),
    /// or a read-only object for templates that neither write it nor use it whole.
    pub context: Value,
    /// `$stageVariables`: a map (build it with [`string_map`]), or null for a template that
    /// never names it.
    pub stage_variables: Value,
}

impl Bindings {
    /// `$context` when it is a map (the only form a template can write overrides into).
    pub fn context_map(&self) -> Option<&Map> {
        match &self.context {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
}

/// Renders `template` as API Gateway does: undefined references print as nothing.
pub fn render(template: &Template, b: &Bindings, limits: &Limits) -> Result<String, RenderError> {
    thread_local! {
        static UTIL: Value = Value::Object(Rc::new(Util));
    }
    let mut ctx = Context::with_capacity(4);
    ctx.set_null_rendering(NullRendering::Empty);
    ctx.insert("input", Value::Object(Rc::new(Input::new(b.input.clone()))));
    ctx.insert("util", UTIL.with(Value::clone));
    ctx.insert("context", b.context.clone());
    ctx.insert("stageVariables", b.stage_variables.clone());
    template.render(&mut ctx, limits)
}

/// A map of strings, as `$stageVariables` or a parameter map.
pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Map {
    let pairs = pairs.into_iter();
    let m = Map::with_capacity(pairs.size_hint().0);
    for (k, v) in pairs {
        m.insert(k, Value::String(Rc::from(v)));
    }
    m
}

/// `$context` with its writable override maps (`requestOverride.{header,querystring,path}`,
/// `responseOverride.{header,status}`) in place. `values` are dotted names
/// (`identity.sourceIp`) and their values; nested maps are created as needed.
pub fn context_map(values: &[(&str, Value)]) -> Map {
    context_map_with(values, true)
}

/// [`context_map`], with the override maps only when `overrides` (a template that never
/// names them cannot read or write them).
pub fn context_map_with(values: &[(&str, Value)], overrides: bool) -> Map {
    let root = Map::with_capacity(values.len() + if overrides { 2 } else { 0 });
    for (name, value) in values {
        let mut cur = root.clone();
        let mut parts = name.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                cur.insert(part, value.clone());
            } else {
                let next = match cur.get(part) {
                    Some(Value::Map(m)) => m,
                    _ => {
                        let m = Map::new();
                        cur.insert(part, Value::Map(m.clone()));
                        m
                    }
                };
                cur = next;
            }
        }
    }
    if !overrides {
        return root;
    }
    let request = Map::new();
    for k in ["header", "querystring", "path"] {
        request.insert(k, Value::Map(Map::new()));
    }
    root.insert("requestOverride", Value::Map(request));
    let response = Map::new();
    response.insert("header", Value::Map(Map::new()));
    root.insert("responseOverride", Value::Map(response));
    root
}

/// What a template set through `$context.requestOverride` / `responseOverride`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Overrides {
    pub request_header: Vec<(String, String)>,
    pub request_querystring: Vec<(String, String)>,
    pub request_path: Vec<(String, String)>,
    pub response_header: Vec<(String, String)>,
    pub status: Option<u16>,
    /// The whole `requestOverride` / `responseOverride` maps as the template left them
    /// (templates may add keys of their own; the response template sees them).
    pub request_json: serde_json::Value,
    pub response_json: serde_json::Value,
}

impl Overrides {
    /// Whether no override is set.
    pub fn is_empty(&self) -> bool {
        self.request_header.is_empty()
            && self.request_querystring.is_empty()
            && self.request_path.is_empty()
            && self.response_header.is_empty()
            && self.status.is_none()
            && self.request_json.is_null()
            && self.response_json.is_null()
    }

    /// A copy, made cheaply when nothing is set (the common case).
    pub fn carried(&self) -> Overrides {
        if self.is_empty() {
            Overrides::default()
        } else {
            self.clone()
        }
    }
}

fn entries(m: Option<Value>) -> Vec<(String, String)> {
    match m {
        Some(Value::Map(m)) => m
            .entries()
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.render(), v.render()))
            .collect(),
        _ => Vec::new(),
    }
}

fn sub(m: &Map, key: &str) -> Option<Map> {
    match m.get(key) {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    }
}

/// Puts earlier overrides (set by the request template) into a fresh `$context`, so the
/// response template sees and may change them.
pub fn seed_overrides(context: &Map, o: &Overrides) {
    for (key, json) in [
        ("requestOverride", &o.request_json),
        ("responseOverride", &o.response_json),
    ] {
        if json.is_object() {
            context.insert(key, Value::from_json(json));
        }
    }
    let put = |parent: Option<Map>, key: &str, pairs: &[(String, String)]| {
        if let Some(Value::Map(m)) = parent.and_then(|p| p.get(key)) {
            for (k, v) in pairs {
                m.insert(k.as_str(), Value::String(Rc::from(v.as_str())));
            }
        }
    };
    put(sub(context, "requestOverride"), "header", &o.request_header);
    put(
        sub(context, "requestOverride"),
        "querystring",
        &o.request_querystring,
    );
    put(sub(context, "requestOverride"), "path", &o.request_path);
    put(
        sub(context, "responseOverride"),
        "header",
        &o.response_header,
    );
    if let (Some(status), Some(resp)) = (o.status, sub(context, "responseOverride")) {
        resp.insert("status", Value::Int(i64::from(status)));
    }
}

/// Whether an override map still holds only its empty sub-maps.
fn untouched(m: &Map) -> bool {
    m.entries()
        .iter()
        .all(|(_, v)| matches!(v, Value::Map(sub) if sub.is_empty()))
}

/// Reads the overrides back from a rendered `$context`.
pub fn overrides(context: &Map) -> Overrides {
    let mut o = Overrides::default();
    if let Some(req) = sub(context, "requestOverride").filter(|m| !untouched(m)) {
        o.request_json = Value::Map(req.clone()).to_json();
        o.request_header = entries(req.get("header"));
        o.request_querystring = entries(req.get("querystring"));
        o.request_path = entries(req.get("path"));
    }
    if let Some(resp) = sub(context, "responseOverride").filter(|m| !untouched(m)) {
        o.response_json = Value::Map(resp.clone()).to_json();
        o.response_header = entries(resp.get("header"));
        o.status = match resp.get("status") {
            Some(Value::Int(n)) => u16::try_from(n).ok(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(Value::Float(f)) if f.fract() == 0.0 => u16::try_from(f as i64).ok(),
            _ => None,
        };
    }
    o
}

/// JSON as `$input.path` returns it: maps print Java-style, arrays as compact JSON.
fn path_value(json: &serde_json::Value, depth: usize) -> Value {
    if depth > 256 {
        return Value::Null;
    }
    match json {
        serde_json::Value::Array(items) => Value::List(List::with_style(
            items.iter().map(|v| path_value(v, depth + 1)).collect(),
            ListStyle::Json,
        )),
        serde_json::Value::Object(fields) => {
            let m = Map::new();
            for (k, v) in fields {
                m.insert(k.as_str(), path_value(v, depth + 1));
            }
            Value::Map(m)
        }
        other => Value::from_json(other),
    }
}

fn arg_str(args: &[Value], i: usize) -> Option<Cow<'_, str>> {
    args.get(i).map(|v| match v {
        Value::String(s) => Cow::Borrowed(&**s),
        other => Cow::Owned(other.render()),
    })
}

// === impl Input ===

struct Input {
    data: InputData,
    /// The body as text, made on first use.
    text: OnceCell<Rc<str>>,
    parsed: RefCell<Option<Option<Rc<serde_json::Value>>>>,
}

impl Input {
    fn new(data: InputData) -> Input {
        Input {
            data,
            text: OnceCell::new(),
            parsed: RefCell::new(None),
        }
    }

    fn text(&self) -> &Rc<str> {
        self.text
            .get_or_init(|| Rc::from(String::from_utf8_lossy(&self.data.body).as_ref()))
    }

    /// The body as JSON, parsed once per render. An empty body reads as `{}`.
    fn json_body(&self) -> Result<Rc<serde_json::Value>, String> {
        if let Some(p) = self.parsed.borrow().as_ref() {
            return p
                .clone()
                .ok_or_else(|| "Unable to parse the request body as JSON".to_string());
        }
        let text = self.text();
        let parsed = if text.trim().is_empty() {
            Some(Rc::new(serde_json::Value::Object(Default::default())))
        } else {
            serde_json::from_str(text).ok().map(Rc::new)
        };
        *self.parsed.borrow_mut() = Some(parsed.clone());
        parsed.ok_or_else(|| "Unable to parse the request body as JSON".to_string())
    }

    /// `$input.json(path)`: the JSON text of the value at `path`. The whole body (`$`) is
    /// serialized from the parsed document directly, without a copy.
    fn json_text(&self, path: &str) -> Result<String, String> {
        if path.trim() == "$" {
            return Ok(self.json_body()?.to_string());
        }
        Ok(self.eval(path)?.to_string())
    }

    fn eval(&self, path: &str) -> Result<serde_json::Value, String> {
        let jp = JsonPath::parse(path).map_err(|e| format!("Invalid JSONPath {path}: {e}"))?;
        let body = self.json_body()?;
        Ok(jp.eval(&body).unwrap_or(serde_json::Value::Null))
    }

    fn params_map(&self) -> Map {
        let all = Map::with_capacity(3);
        for (name, kind) in [
            ("path", ParamKind::Path),
            ("querystring", ParamKind::QueryString),
            ("header", ParamKind::Header),
        ] {
            let m = Map::new();
            self.data.params.each(kind, &mut |k, v| {
                m.insert(k, Value::String(Rc::from(v)));
            });
            all.insert(name, Value::Map(m));
        }
        all
    }
}

impl HostObject for Input {
    fn property(&self, name: &str) -> Option<Value> {
        match name {
            "body" => Some(Value::String(if self.data.body.is_empty() {
                Rc::from("{}")
            } else {
                self.text().clone()
            })),
            _ => None,
        }
    }

    fn call(&self, method: &str, args: &[Value]) -> Result<Option<Value>, String> {
        match method {
            "json" => {
                let path = arg_str(args, 0).unwrap_or_else(|| "$".into());
                Ok(Some(Value::String(Rc::from(self.json_text(&path)?))))
            }
            "path" => {
                let path = arg_str(args, 0).unwrap_or_else(|| "$".into());
                Ok(Some(path_value(&self.eval(&path)?, 0)))
            }
            "params" => match arg_str(args, 0) {
                None => Ok(Some(Value::Map(self.params_map()))),
                Some(name) => Ok(Some(Value::String(Rc::from(
                    self.data.params.find(&name).unwrap_or_default(),
                )))),
            },
            _ => Ok(None),
        }
    }

    fn render(&self) -> String {
        String::new()
    }
}

// === impl Util ===

struct Util;

/// Java `StringEscapeUtils.escapeJavaScript` (commons-lang 2), which `$util.escapeJavaScript`
/// is documented to follow.
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for unit in s.encode_utf16() {
        match unit {
            0x08 => out.push_str("\\b"),
            0x0a => out.push_str("\\n"),
            0x09 => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            u if !(0x20..=0x7e).contains(&u) => out.push_str(&format!("\\u{u:04X}")),
            u => out.push(u as u8 as char),
        }
    }
    out
}

/// Java's `URLEncoder.encode(s, "UTF-8")`: space as `+`, `*-._` kept.
pub fn url_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'*')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(s, SET)
        .to_string()
        .replace(' ', "+")
}

impl HostObject for Util {
    fn property(&self, _name: &str) -> Option<Value> {
        None
    }

    fn call(&self, method: &str, args: &[Value]) -> Result<Option<Value>, String> {
        let arg = || arg_str(args, 0).unwrap_or_default();
        let s = |v: String| Ok(Some(Value::String(Rc::from(v))));
        // A function of a missing value gives a missing value (which prints as nothing).
        let string_functions = [
            "escapeJavaScript",
            "parseJson",
            "urlEncode",
            "urlDecode",
            "base64Encode",
            "base64Decode",
        ];
        if string_functions.contains(&method) && matches!(args.first(), None | Some(Value::Null)) {
            return Ok(Some(Value::Null));
        }
        match method {
            "escapeJavaScript" => s(escape_javascript(&arg())),
            "parseJson" => {
                let v: serde_json::Value = serde_json::from_str(&arg())
                    .map_err(|e| format!("Unable to parse JSON: {e}"))?;
                Ok(Some(Value::from_json(&v)))
            }
            "toJson" => match args.first() {
                Some(v) => s(v.to_json().to_string()),
                None => Ok(Some(Value::Null)),
            },
            "urlEncode" => s(url_encode(&arg())),
            "urlDecode" => s(
                percent_encoding::percent_decode_str(&arg().replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
            "base64Encode" => s(base64::engine::general_purpose::STANDARD.encode(arg().as_bytes())),
            "base64Decode" => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(arg().trim())
                    .map_err(|e| format!("Illegal base64 character: {e}"))?;
                s(String::from_utf8_lossy(&bytes).into_owned())
            }
            _ => Ok(None),
        }
    }

    fn render(&self) -> String {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_commons_lang() {
        assert_eq!(
            escape_javascript("it's \"x\"/\n\u{e9}"),
            "it\\'s \\\"x\\\"\\/\\n\\u00E9"
        );
        assert_eq!(url_encode("a b&c=d*é"), "a+b%26c%3Dd*%C3%A9");
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;

    fn render_with_body(template: &str, body: &str) -> String {
        let t = Template::parse(template).unwrap();
        let b = Bindings {
            input: InputData {
                body: Bytes::copy_from_slice(body.as_bytes()),
                ..Default::default()
            },
            context: Value::Map(context_map(&[])),
            stage_variables: Value::Null,
        };
        render(&t, &b, &Limits::default()).unwrap()
    }

    #[test]
    fn util_functions_of_null_print_nothing() {
        let out = render_with_body(
            "[$util.escapeJavaScript($input.path('$.missing'))][$util.urlEncode($input.body.x)]",
            "{}",
        );
        assert_eq!(out, "[][]");
    }
}
