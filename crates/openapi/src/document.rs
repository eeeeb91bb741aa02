//! Reading an OpenAPI document: JSON or YAML into one JSON value, and the few places where
//! Swagger 2.0 and OpenAPI 3.0 keep the same thing under different names.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::ImportError;

/// Nesting deeper than this is refused (JSON's parser stops at 128 levels; YAML is held to the
/// same bound).
const MAX_DEPTH: usize = 128;

/// Parses a JSON or YAML document. Anything that is neither, or whose top level is not a
/// mapping, is AWS's `Invalid OpenAPI input.`
pub fn parse(bytes: &[u8]) -> Result<Value, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::invalid_input())?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let value = if trimmed.starts_with('{') {
        serde_json::from_str::<Value>(trimmed).map_err(|_| ImportError::invalid_input())?
    } else {
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! { max_depth: MAX_DEPTH, },
        };
        serde_saphyr::from_str_with_options::<Json>(trimmed, options)
            .map_err(|_| ImportError::invalid_input())?
            .0
    };
    if !value.is_object() {
        return Err(ImportError::invalid_input());
    }
    Ok(value)
}

/// A JSON value read from YAML: mapping keys of any scalar type become strings (AWS accepts
/// `200:` as a response code in YAML), and nesting is bounded.
struct Json(Value);

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor { depth: 0 }).map(Json)
    }
}

struct JsonVisitor {
    depth: usize,
}

struct Nested(Value);

struct NestedSeed {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for NestedSeed {
    type Value = Nested;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Nested, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("document nested too deeply"));
        }
        d.deserialize_any(JsonVisitor { depth: self.depth })
            .map(Nested)
    }
}

/// A mapping key: any scalar, as its text.
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key("null".to_string()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Nested(v)) = seq.next_element_seed(NestedSeed {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(k)) = map.next_key()? {
            let Nested(v) = map.next_value_seed(NestedSeed {
                depth: self.depth + 1,
            })?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Swagger2,
    OpenApi3,
}

/// An OpenAPI document, read in either version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec<'a> {
    pub(crate) value: &'a Value,
    pub(crate) root: &'a Map<String, Value>,
    pub(crate) version: Version,
}

impl<'a> Spec<'a> {
    pub(crate) fn new(v: &'a Value) -> Result<Spec<'a>, ImportError> {
        let root = v.as_object().ok_or_else(ImportError::invalid_input)?;
        let version = if root.get("swagger").and_then(text).as_deref() == Some("2.0") {
            Version::Swagger2
        } else if root
            .get("openapi")
            .and_then(text)
            .is_some_and(|v| v.starts_with("3."))
        {
            Version::OpenApi3
        } else {
            return Err(ImportError::invalid_input());
        };
        if !root.get("paths").is_none_or(Value::is_object) {
            return Err(ImportError::invalid_input());
        }
        Ok(Spec {
            value: v,
            root,
            version,
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.root.get(key)
    }

    /// `definitions` (2.0) or `components.schemas` (3.0).
    pub(crate) fn schemas(&self) -> Option<&'a Map<String, Value>> {
        match self.version {
            Version::Swagger2 => self.root.get("definitions"),
            Version::OpenApi3 => self.root.get("components").and_then(|c| c.get("schemas")),
        }
        .and_then(Value::as_object)
    }

    /// `securityDefinitions` (2.0) or `components.securitySchemes` (3.0).
    pub(crate) fn security_schemes(&self) -> Option<&'a Map<String, Value>> {
        match self.version {
            Version::Swagger2 => self.root.get("securityDefinitions"),
            Version::OpenApi3 => self
                .root
                .get("components")
                .and_then(|c| c.get("securitySchemes")),
        }
        .and_then(Value::as_object)
    }

    /// The base path: `basePath` (2.0); in 3.0 the first server's URL path, or its `basePath`
    /// variable's default.
    pub(crate) fn base_path(&self) -> Option<String> {
        let raw = match self.version {
            Version::Swagger2 => self.root.get("basePath").and_then(text),
            Version::OpenApi3 => {
                let server = self.root.get("servers")?.as_array()?.first()?;
                let url = server.get("url").and_then(text).unwrap_or_default();
                let variable = server
                    .get("variables")
                    .and_then(|v| v.get("basePath"))
                    .and_then(|v| v.get("default"))
                    .and_then(text);
                let path = match url.split_once("://") {
                    Some((_, rest)) => rest.find('/').map(|i| rest[i..].to_string()),
                    None => url.starts_with('/').then(|| url.clone()),
                };
                match (path, variable) {
                    (Some(p), Some(var)) if p.contains("{basePath}") => {
                        Some(p.replace("{basePath}", var.trim_start_matches('/')))
                    }
                    (_, Some(var)) => Some(var),
                    (p, None) => p,
                }
            }
        }?;
        let trimmed = raw.trim_matches('/');
        (!trimmed.is_empty()).then(|| format!("/{trimmed}"))
    }
}

/// A scalar as text (`2.0` written as a number in YAML is still the version "2.0").
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_integer_keys_become_strings() {
        let v = parse(b"openapi: 3.0.1\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n").unwrap();
        assert!(v["paths"]["/a"]["get"]["responses"]["200"].is_object());
    }

    #[test]
    fn garbage_is_invalid_input() {
        for bad in [
            &b"{\"swagger\": "[..],
            b"- a\n- b\n",
            b"just text",
            b"\xff\xfe",
            b"a: [b\n",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.message, "Invalid OpenAPI input.", "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("a: {}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(deep.as_bytes()).is_err());
        let deep_json = format!("{{\"a\": {}1{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(deep_json.as_bytes()).is_err());
    }

    #[test]
    fn base_path_from_oas3_servers() {
        let v: Value = serde_json::json!({"openapi": "3.0.1", "servers": [{"url": "https://x.com/{basePath}", "variables": {"basePath": {"default": "/base-var"}}}]});
        assert_eq!(
            Spec::new(&v).unwrap().base_path().as_deref(),
            Some("/base-var")
        );
        let v: Value = serde_json::json!({"openapi": "3.0.1", "servers": [{"url": "https://x.com/base-url/part/"}]});
        assert_eq!(
            Spec::new(&v).unwrap().base_path().as_deref(),
            Some("/base-url/part")
        );
        let v: Value = serde_json::json!({"openapi": "3.0.1", "servers": [{"url": "https://x.com", "variables": {"basePath": {"default": "/v"}}}]});
        assert_eq!(Spec::new(&v).unwrap().base_path().as_deref(), Some("/v"));
    }
}
