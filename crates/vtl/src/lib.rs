//! Apache Velocity 1.7 template engine with the behaviour Amazon API Gateway
//! relies on for VTL mapping templates.
//!
//! ```
//! use portico_vtl::{Context, Limits, Template, Value};
//!
//! let t = Template::parse("#set($n = $items.size())Hello $name ($n)").unwrap();
//! let mut ctx = Context::new();
//! ctx.insert("name", Value::from("world"));
//! ctx.insert("items", Value::from(vec![Value::Int(1), Value::Int(2)]));
//! assert_eq!(t.render(&mut ctx, &Limits::default()).unwrap(), "Hello world (2)");
//! ```
//!
//! The lexer mirrors the JavaCC token manager of Velocity 1.7 (same lexical
//! states and token patterns), so whitespace handling, escapes and the odd
//! corners of the grammar behave like the Java engine. Values follow Java
//! semantics (`toString`, `equals`, `Double.toString`, `String` methods with
//! UTF-16 indices, Java regular expressions as far as the `regex` crate
//! supports them).
//!
//! Parsing checks the template size against [`MAX_TEMPLATE_BYTES`]
//! (300 KiB, API Gateway's limit); use [`Template::parse_with_limit`] for
//! another limit. Errors Velocity raises while initialising a template
//! (malformed `#macro`, `#define` without a name, unparsable string literal)
//! are parse errors here.
//!
//! # API Gateway specifics
//!
//! * API Gateway prints undefined / null references as nothing; Velocity
//!   prints their source text. It also treats null as equal to `""` in
//!   `==` / `!=`. Select API Gateway's behaviour with
//!   `Context::set_null_rendering(NullRendering::Empty)`.
//! * `#foreach` is limited to [`Limits::max_foreach_iterations`] (1000) per
//!   loop; exceeding it fails the render.
//!
//! # Known deviations from Velocity 1.7
//!
//! * Integer overflow past `long` (Velocity switches to `BigInteger`) and
//!   number literals that need `BigInteger`/`BigDecimal` fail the render.
//! * Java regular expressions are translated to the `regex` crate: back
//!   references, look-around and possessive quantifiers are reported as
//!   `PatternSyntaxException`s; `\d \w \s \b` are ASCII as in Java.
//! * A collection cannot be put into itself (Java prints `(this
//!   Collection)`); reference cycles would leak with reference counting.
//! * `keySet()`, `values()`, `entrySet()` and `subList()` return copies, not
//!   live views (modifying the map while iterating a view still fails like
//!   Java's `ConcurrentModificationException`).
//! * Arrays (`split`) print as `[Ljava.lang.String;@<hex>` with a made-up
//!   identity hash.
//! * Doubles print with the shortest round-tripping digits (Java 19+
//!   `Double.toString`); older JDKs print a different last digit for about
//!   2-3% of doubles that need 16-17 significant digits.
//! * `#include` and `#parse` always fail (there are no resources to load).
//! * Lists built from `[n..m]` outside `#foreach` are limited to 1,000,000
//!   elements; statement / expression nesting is limited to 200 levels.

#![forbid(unsafe_code)]

mod ast;
mod lexer;
mod methods;
mod parser;
mod render;
mod value;

use std::borrow::Cow;
use std::sync::Arc;

use indexmap::IndexMap;

pub use value::{Builtin, HostObject, List, ListStyle, Map, MapKey, Value, java_double};

/// Fast non-cryptographic hasher (the Fx hash of rustc) for variable names,
/// which come from the template, not from request data.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// API Gateway's maximum mapping template size.
pub const MAX_TEMPLATE_BYTES: usize = 300 * 1024;

/// A template that failed to parse (including Velocity's `init()`-time
/// errors such as a malformed `#macro` or string literal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// A render that failed: a limit was hit or Velocity would have thrown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// One `#foreach` loop ran more than `Limits::max_foreach_iterations`.
    #[error("line {line}, column {column}: #foreach exceeded the limit of {limit} iterations")]
    ForeachIterations {
        line: u32,
        column: u32,
        limit: usize,
    },
    /// The output (or an intermediate string) grew past `Limits::max_output_bytes`.
    #[error("output exceeded the limit of {limit} bytes")]
    OutputSize { limit: usize },
    /// Macro / `#define` / `#evaluate` nesting (or evaluator recursion) too deep.
    #[error("nesting exceeded the limit of {limit}: {message}")]
    Depth { limit: usize, message: String },
    /// More than `Limits::max_steps` evaluation steps.
    #[error("evaluation exceeded the limit of {limit} steps")]
    Steps { limit: u64 },
    /// A method threw (Velocity's `MethodInvocationException`).
    #[error("line {line}, column {column}: {message}")]
    Method {
        line: u32,
        column: u32,
        message: String,
    },
    /// Another error Velocity raises while rendering (bad `#break` argument,
    /// `#parse`/`#include` without resources, `#evaluate` parse error, ...).
    #[error("line {line}, column {column}: {message}")]
    Runtime {
        line: u32,
        column: u32,
        message: String,
    },
}

/// Resource limits of one render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Checked by [`Template::parse`] (which uses [`MAX_TEMPLATE_BYTES`]) and
    /// [`Template::parse_with_limit`]; not used by `render`.
    pub max_template_bytes: usize,
    /// Iterations of one `#foreach` loop (API Gateway: 1000).
    pub max_foreach_iterations: usize,
    /// Output size in bytes (also bounds every intermediate string).
    pub max_output_bytes: usize,
    /// Nesting of macro calls, `#define` blocks and `#evaluate`.
    pub max_depth: usize,
    /// Evaluation steps: every node, method call, collection element
    /// created, and 16 bytes of string created count as one. Bounds time
    /// and memory.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_template_bytes: MAX_TEMPLATE_BYTES,
            max_foreach_iterations: 1000,
            max_output_bytes: 10 * 1024 * 1024,
            max_depth: 64,
            max_steps: 10_000_000,
        }
    }
}

/// How a reference whose value is null (or undefined) prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullRendering {
    /// Velocity 1.7's default: `$foo` prints its own source text `$foo`
    /// (`$!foo` prints nothing).
    #[default]
    Literal,
    /// What API Gateway does: as with a `ReferenceInsertionEventHandler`
    /// mapping null to "", `$foo` prints nothing; escaped references
    /// (`\$foo`) still print their text.
    ///
    /// Comparisons differ in one point too: `==` / `eq` between null (or
    /// undefined) and a value whose string form is empty (`""`) is true,
    /// and `!=` / `ne` false, so after `#set($r = $input.path("$.missing"))`
    /// both `#if($r == $null)` and `#if($r == "")` hold (recorded from API
    /// Gateway; Velocity 1.7 says `null == ""` is false). Other comparisons
    /// and truthiness stay Velocity's (`#if($r)` is false).
    Empty,
}

/// Variables of one render. `#set` writes here, so after a render it holds
/// the template's global variables.
#[derive(Clone, Default)]
pub struct Context {
    /// Names given by the embedder are usually `'static` (`"input"`): they are not copied.
    pub(crate) vars: IndexMap<Cow<'static, str>, Value, FxBuild>,
    pub(crate) null_rendering: NullRendering,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }
    /// A context with room for `n` variables.
    pub fn with_capacity(n: usize) -> Context {
        Context {
            vars: IndexMap::with_capacity_and_hasher(n, FxBuild::default()),
            null_rendering: NullRendering::default(),
        }
    }
    /// Binds `$name`.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: Value) -> Option<Value> {
        self.vars.insert(name.into(), value)
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name).filter(|v| !v.is_null())
    }
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.vars.shift_remove(name)
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Names and values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.vars.iter().map(|(k, v)| (k.as_ref(), v))
    }
    pub fn set_null_rendering(&mut self, mode: NullRendering) {
        self.null_rendering = mode;
    }
    pub fn null_rendering(&self) -> NullRendering {
        self.null_rendering
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.vars.iter()).finish()
    }
}

/// A parsed template: immutable, cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Template {
    inner: Arc<render::Compiled>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("nodes", &self.inner.root.nodes.len())
            .field("macros", &self.inner.macros.len())
            .finish()
    }
}

impl Template {
    /// Parses a template of at most [`MAX_TEMPLATE_BYTES`].
    pub fn parse(source: &str) -> Result<Template, ParseError> {
        Template::parse_with_limit(source, MAX_TEMPLATE_BYTES)
    }

    /// Parses a template of at most `max_bytes` bytes.
    pub fn parse_with_limit(source: &str, max_bytes: usize) -> Result<Template, ParseError> {
        if source.len() > max_bytes {
            return Err(ParseError {
                line: 1,
                column: 1,
                message: format!(
                    "template is {} bytes, more than the limit of {max_bytes} bytes",
                    source.len()
                ),
            });
        }
        let parsed = parser::parse_template(source)?;
        let mut macros = std::collections::HashMap::new();
        for m in parsed.macros {
            // the first definition of a name wins (Velocity does not let an
            // inline macro replace an existing one)
            macros.entry(m.name.clone()).or_insert_with(|| Arc::new(m));
        }
        Ok(Template {
            inner: Arc::new(render::Compiled {
                root: parsed.root,
                macros,
                regex_cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            }),
        })
    }

    /// Renders with the variables of `ctx` (which `#set` modifies).
    pub fn render(&self, ctx: &mut Context, limits: &Limits) -> Result<String, RenderError> {
        render::render(&self.inner, ctx, limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send_sync<T: Send + Sync>() {}

    #[test]
    fn template_is_send_sync() {
        is_send_sync::<Template>();
        is_send_sync::<ParseError>();
        is_send_sync::<RenderError>();
    }

    #[test]
    fn basic_render() {
        let t = Template::parse("a $x b").unwrap();
        let mut c = Context::new();
        c.insert("x", Value::Int(5));
        assert_eq!(t.render(&mut c, &Limits::default()).unwrap(), "a 5 b");
    }

    #[test]
    fn size_limit() {
        let big = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert!(Template::parse(&big).is_err());
        assert!(Template::parse_with_limit("abc", 2).is_err());
    }
}
