//! Runtime values with Java semantics: reference semantics for lists and
//! maps (`Rc`), Java's `toString()` / `equals()` and `Double.toString`.

use std::cell::{Cell, Ref, RefCell};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use indexmap::{Equivalent, IndexMap};

use crate::ast::Block;

/// Maximum nesting followed when printing, comparing or converting values
/// (protects against self-containing collections).
pub(crate) const MAX_VALUE_DEPTH: usize = 100;

/// A value seen by templates.
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    /// Java `Integer` when it fits in 32 bits, `Long` otherwise.
    Int(i64),
    /// Java `Double`.
    Float(f64),
    String(Rc<str>),
    List(List),
    Map(Map),
    Object(Rc<dyn HostObject>),
}

/// Objects provided by the embedding application (`$input`, `$util`, ...).
pub trait HostObject {
    /// `$obj.name`; also tried for `$obj.getName()` / `$obj.isName()` when
    /// `call` does not know those methods.
    fn property(&self, name: &str) -> Option<Value>;
    /// `$obj.method(args)`. `Ok(None)`: no such method (the reference then
    /// renders as its source text, like Velocity). `Err(msg)`: the method
    /// threw; rendering fails with [`crate::RenderError::Method`].
    fn call(&self, method: &str, args: &[Value]) -> Result<Option<Value>, String>;
    /// How `$obj` prints.
    fn render(&self) -> String;
    /// `#set($obj.name = value)`; return false when not supported.
    fn set_property(&self, _name: &str, _value: Value) -> bool {
        false
    }
    /// Values iterated by `#foreach` over this object (`None`: not iterable).
    fn iterate(&self) -> Option<Vec<Value>> {
        None
    }
    #[doc(hidden)]
    fn builtin(&self) -> Option<&Builtin> {
        None
    }
}

/// How a list prints (its Java class).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListStyle {
    /// `java.util.ArrayList`: `[a, b]`.
    Java,
    /// A JSON array class whose `toString()` is compact JSON.
    Json,
    /// A Java `String[]` (e.g. the result of `split`): prints as
    /// `[Ljava.lang.String;@…`, cannot grow or shrink.
    StringArray,
}

pub(crate) struct ListData {
    items: RefCell<Vec<Value>>,
    mods: Cell<u64>,
    style: ListStyle,
    /// For `keySet()` / `values()` / `entrySet()`: the map viewed (used to
    /// detect modification of the map while iterating the view).
    source: Option<Map>,
}

/// A shared, mutable list (Java `List`).
#[derive(Clone)]
pub struct List(Rc<ListData>);

impl List {
    pub fn new(items: Vec<Value>) -> List {
        List::with_style(items, ListStyle::Java)
    }
    pub fn with_style(items: Vec<Value>, style: ListStyle) -> List {
        List(Rc::new(ListData {
            items: RefCell::new(items),
            mods: Cell::new(0),
            style,
            source: None,
        }))
    }
    pub(crate) fn view_of(items: Vec<Value>, map: &Map) -> List {
        List(Rc::new(ListData {
            items: RefCell::new(items),
            mods: Cell::new(0),
            style: ListStyle::Java,
            source: Some(map.clone()),
        }))
    }
    pub(crate) fn source(&self) -> Option<&Map> {
        self.0.source.as_ref()
    }
    pub fn style(&self) -> ListStyle {
        self.0.style
    }
    pub fn len(&self) -> usize {
        self.0.items.try_borrow().map(|v| v.len()).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> Option<Value> {
        self.0
            .items
            .try_borrow()
            .ok()
            .and_then(|v| v.get(i).cloned())
    }
    pub fn push(&self, v: Value) {
        self.with_mut(|items| items.push(v));
    }
    /// A copy of the elements.
    pub fn to_vec(&self) -> Vec<Value> {
        self.0
            .items
            .try_borrow()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
    pub fn ptr_eq(&self, other: &List) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
    pub(crate) fn borrow(&self) -> Option<Ref<'_, Vec<Value>>> {
        self.0.items.try_borrow().ok()
    }
    /// Structural modification (bumps the modification count used to detect
    /// concurrent modification during `#foreach`).
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(&mut Vec<Value>) -> R) -> Option<R> {
        let mut b = self.0.items.try_borrow_mut().ok()?;
        self.0.mods.set(self.0.mods.get().wrapping_add(1));
        Some(f(&mut b))
    }
    /// Element replacement, not a structural modification.
    pub(crate) fn set_at(&self, i: usize, v: Value) -> Option<Value> {
        let mut b = self.0.items.try_borrow_mut().ok()?;
        let slot = b.get_mut(i)?;
        Some(std::mem::replace(slot, v))
    }
    pub(crate) fn mods(&self) -> u64 {
        self.0.mods.get()
    }
    fn addr(&self) -> usize {
        Rc::as_ptr(&self.0) as *const u8 as usize
    }
}

// Dropping deeply nested collections iteratively (no recursion): a collection this is the
// last owner of is kept on a stack and emptied from there; anything else drops in place
// (a string, or a collection still shared, which only loses a reference). Flat collections
// thus drop without the stack ever allocating.
fn defer(v: Value, stack: &mut Vec<Value>) {
    let last = match &v {
        Value::List(l) => Rc::strong_count(&l.0) == 1,
        Value::Map(m) => Rc::strong_count(&m.0) == 1,
        _ => false,
    };
    if last {
        stack.push(v);
    }
}

fn take_children(v: Value, stack: &mut Vec<Value>) {
    match v {
        Value::List(l) => {
            if let Ok(mut data) = Rc::try_unwrap(l.0) {
                for c in data.items.get_mut().drain(..) {
                    defer(c, stack);
                }
            }
        }
        Value::Map(m) => {
            if let Ok(mut data) = Rc::try_unwrap(m.0) {
                for (k, c) in data.entries.get_mut().drain(..) {
                    defer(k.0, stack);
                    defer(c, stack);
                }
            }
        }
        _ => {}
    }
}

fn drain_stack(mut stack: Vec<Value>) {
    while let Some(v) = stack.pop() {
        take_children(v, &mut stack);
    }
}

impl Drop for ListData {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        for c in self.items.get_mut().drain(..) {
            defer(c, &mut stack);
        }
        drain_stack(stack);
    }
}

impl Drop for MapData {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        for (k, c) in self.entries.get_mut().drain(..) {
            defer(k.0, &mut stack);
            defer(c, &mut stack);
        }
        drain_stack(stack);
    }
}

fn container_ptr(v: &Value) -> Option<*const u8> {
    match v {
        Value::List(l) => Some(Rc::as_ptr(&l.0) as *const u8),
        Value::Map(m) => Some(Rc::as_ptr(&m.0) as *const u8),
        _ => None,
    }
}

fn holds_values(v: &Value) -> bool {
    container_ptr(v).is_some()
        || matches!(
            as_builtin(v),
            Some(BuiltinKind::Entry(_) | BuiltinKind::Scope(_))
        )
}

/// Whether putting `value` into `container` would make the container
/// (indirectly) contain itself. `Err(visited)` when more than `budget`
/// collections would have to be visited; `Ok((found, visited))` otherwise.
pub(crate) fn would_cycle(
    container: &Value,
    value: &Value,
    budget: usize,
) -> Result<(bool, usize), usize> {
    let Some(target) = container_ptr(container) else {
        return Ok((false, 0));
    };
    let mut seen: std::collections::HashSet<*const u8> = std::collections::HashSet::new();
    let mut stack: Vec<Value> = vec![value.clone()];
    let mut visited = 0usize;
    while let Some(v) = stack.pop() {
        // engine objects that hold values: look through them
        if let Some(b) = as_builtin(&v) {
            visited += 1;
            if visited > budget {
                return Err(visited);
            }
            match b {
                BuiltinKind::Entry(e) => {
                    stack.push(Value::Map(e.map.clone()));
                    if let Ok(x) = e.value.try_borrow() {
                        stack.push(x.clone());
                    }
                }
                BuiltinKind::Scope(sc) => {
                    stack.push(Value::Map(sc.storage.clone()));
                    if let Some(p) = &sc.parent {
                        stack.push(p.clone());
                    }
                }
                _ => {}
            }
            continue;
        }
        let Some(p) = container_ptr(&v) else { continue };
        if p == target {
            return Ok((true, visited));
        }
        if !seen.insert(p) {
            continue;
        }
        visited += 1;
        if visited > budget {
            return Err(visited);
        }
        match &v {
            Value::List(l) => stack.extend(l.to_vec().into_iter().filter(holds_values)),
            Value::Map(m) => {
                for (k, x) in m.entries() {
                    if holds_values(&k) {
                        stack.push(k);
                    }
                    if holds_values(&x) {
                        stack.push(x);
                    }
                }
            }
            _ => {}
        }
    }
    Ok((false, visited))
}

/// A map key with Java `equals`/`hashCode` semantics.
#[derive(Clone)]
pub struct MapKey(pub Value);

impl MapKey {
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for MapKey {
    fn from(s: &str) -> MapKey {
        MapKey(Value::String(Rc::from(s)))
    }
}
impl From<String> for MapKey {
    fn from(s: String) -> MapKey {
        MapKey(Value::String(Rc::from(s)))
    }
}

impl Hash for MapKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            // must hash exactly like `str` so that `&str` lookups work
            Value::String(s) => (**s).hash(state),
            Value::Null => 0u8.hash(state),
            Value::Bool(b) => (1u8, *b).hash(state),
            Value::Int(i) => (2u8, *i).hash(state),
            Value::Float(f) => (3u8, canonical_bits(*f)).hash(state),
            _ => 4u8.hash(state),
        }
    }
}

fn canonical_bits(f: f64) -> u64 {
    if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    }
}

impl PartialEq for MapKey {
    fn eq(&self, other: &MapKey) -> bool {
        java_equals(&self.0, &other.0, 0)
    }
}
impl Eq for MapKey {}

impl Equivalent<MapKey> for str {
    fn equivalent(&self, key: &MapKey) -> bool {
        matches!(&key.0, Value::String(s) if &**s == self)
    }
}

/// A map's entries. foldhash (randomly seeded per process) instead of SipHash: maps are built
/// and probed on every template render, and SipHash was a measurable share of it.
pub(crate) type Entries = IndexMap<MapKey, Value, foldhash::fast::RandomState>;

pub(crate) fn entries_with_capacity(n: usize) -> Entries {
    Entries::with_capacity_and_hasher(n, Default::default())
}

pub(crate) struct MapData {
    entries: RefCell<Entries>,
    mods: Cell<u64>,
    json: bool,
}

/// A shared, mutable, insertion-ordered map (Java `LinkedHashMap`).
#[derive(Clone)]
pub struct Map(Rc<MapData>);

impl Default for Map {
    fn default() -> Map {
        Map::new()
    }
}

impl Map {
    pub fn new() -> Map {
        Map::from_entries(Entries::default(), false)
    }
    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Map {
        Map::from_entries(entries_with_capacity(n), false)
    }
    /// A map whose `toString()` is compact JSON (like a JSON object class).
    pub fn new_json() -> Map {
        Map::from_entries(Entries::default(), true)
    }
    pub(crate) fn from_entries(entries: Entries, json: bool) -> Map {
        Map(Rc::new(MapData {
            entries: RefCell::new(entries),
            mods: Cell::new(0),
            json,
        }))
    }
    pub fn is_json(&self) -> bool {
        self.0.json
    }
    pub fn len(&self) -> usize {
        self.0.entries.try_borrow().map(|m| m.len()).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Value for a string key.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0
            .entries
            .try_borrow()
            .ok()
            .and_then(|m| m.get(key).cloned())
    }
    pub fn get_key(&self, key: &Value) -> Option<Value> {
        let k = MapKey(key.clone());
        self.0
            .entries
            .try_borrow()
            .ok()
            .and_then(|m| m.get(&k).cloned())
    }
    pub fn insert(&self, key: impl Into<MapKey>, value: Value) -> Option<Value> {
        self.put(key.into(), value)
    }
    /// Java `put`: returns the previous value.
    pub(crate) fn put(&self, key: MapKey, value: Value) -> Option<Value> {
        let mut m = self.0.entries.try_borrow_mut().ok()?;
        match m.entry(key) {
            indexmap::map::Entry::Occupied(mut slot) => Some(slot.insert(value)),
            indexmap::map::Entry::Vacant(slot) => {
                slot.insert(value);
                self.0.mods.set(self.0.mods.get().wrapping_add(1));
                None
            }
        }
    }
    pub(crate) fn remove(&self, key: &Value) -> Option<Value> {
        let mut m = self.0.entries.try_borrow_mut().ok()?;
        let r = m.shift_remove(&MapKey(key.clone()));
        if r.is_some() {
            self.0.mods.set(self.0.mods.get().wrapping_add(1));
        }
        r
    }
    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.entries.try_borrow_mut() {
            m.clear();
            self.0.mods.set(self.0.mods.get().wrapping_add(1));
        }
    }
    /// A copy of the entries, in order.
    pub fn entries(&self) -> Vec<(Value, Value)> {
        self.0
            .entries
            .try_borrow()
            .map(|m| m.iter().map(|(k, v)| (k.0.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
    pub fn keys(&self) -> Vec<Value> {
        self.0
            .entries
            .try_borrow()
            .map(|m| m.keys().map(|k| k.0.clone()).collect())
            .unwrap_or_default()
    }
    pub fn values(&self) -> Vec<Value> {
        self.0
            .entries
            .try_borrow()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
    pub(crate) fn value_at(&self, i: usize) -> Option<Value> {
        self.0
            .entries
            .try_borrow()
            .ok()
            .and_then(|m| m.get_index(i).map(|(_, v)| v.clone()))
    }
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
    pub(crate) fn mods(&self) -> u64 {
        self.0.mods.get()
    }
}

// ----- built-in objects (foreach scope, #define blocks, map entries) ------

/// Engine-internal objects exposed to templates. Opaque.
#[doc(hidden)]
pub struct Builtin(pub(crate) BuiltinKind);

pub(crate) enum BuiltinKind {
    Scope(ScopeData),
    Define(DefineData),
    Entry(EntryData),
    /// `java.lang.Class` (from `getClass()`), holding the class name.
    Class(&'static str),
}

pub(crate) struct ScopeData {
    pub(crate) id: u64,
    pub(crate) index: Cell<i64>,
    pub(crate) has_next: Cell<bool>,
    pub(crate) parent: Option<Value>,
    pub(crate) replaced: Option<Value>,
    pub(crate) storage: Map,
}

pub(crate) struct DefineData {
    pub(crate) block: Arc<Block>,
    pub(crate) depth: Cell<u32>,
}

pub(crate) struct EntryData {
    pub(crate) key: Value,
    pub(crate) value: RefCell<Value>,
    pub(crate) map: Map,
}

pub(crate) struct BuiltinObject(pub(crate) Builtin);

impl HostObject for BuiltinObject {
    fn property(&self, _name: &str) -> Option<Value> {
        None
    }
    fn call(&self, _method: &str, _args: &[Value]) -> Result<Option<Value>, String> {
        Ok(None)
    }
    fn render(&self) -> String {
        match &self.0.0 {
            BuiltinKind::Scope(s) => s.storage_render(),
            BuiltinKind::Define(_) => String::new(),
            BuiltinKind::Class(name) => format!("class {name}"),
            BuiltinKind::Entry(e) => {
                let v = e.value.try_borrow().map(|v| v.clone()).unwrap_or_default();
                format!("{}={}", e.key.render(), v.render())
            }
        }
    }
    fn builtin(&self) -> Option<&Builtin> {
        Some(&self.0)
    }
}

impl ScopeData {
    fn storage_render(&self) -> String {
        Value::Map(self.storage.clone()).render()
    }
}

pub(crate) fn builtin_value(kind: BuiltinKind) -> Value {
    Value::Object(Rc::new(BuiltinObject(Builtin(kind))))
}

pub(crate) fn as_builtin(v: &Value) -> Option<&BuiltinKind> {
    match v {
        Value::Object(o) => o.builtin().map(|b| &b.0),
        _ => None,
    }
}

// ----- conversions -------------------------------------------------------------

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(Rc::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Rc::from(s))
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::List(List::new(v))
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Map(m)
    }
}

impl Value {
    pub fn string(s: impl AsRef<str>) -> Value {
        Value::String(Rc::from(s.as_ref()))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts JSON: objects become maps (order kept), arrays lists,
    /// integral numbers `Int`, other numbers `Float`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        from_json_depth(json, 0)
    }

    /// Converts to JSON. Map keys are printed with Java `toString()`;
    /// non-finite doubles and too deeply nested values become `null`;
    /// host objects become their rendered string.
    pub fn to_json(&self) -> serde_json::Value {
        to_json_depth(self, 0)
    }

    /// Java `String.valueOf(value)`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        render_into(self, &mut s, 0);
        s
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "java.lang.Boolean",
            Value::Int(i) => {
                if i32::try_from(*i).is_ok() {
                    "java.lang.Integer"
                } else {
                    "java.lang.Long"
                }
            }
            Value::Float(_) => "java.lang.Double",
            Value::String(_) => "java.lang.String",
            Value::List(l) => match l.style() {
                ListStyle::StringArray => "[Ljava.lang.String;",
                _ => "java.util.ArrayList",
            },
            Value::Map(_) => "java.util.LinkedHashMap",
            Value::Object(_) => "java.lang.Object",
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Float(x) => write!(f, "Float({x})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::List(_) | Value::Map(_) | Value::Object(_) => write!(f, "{}", self.render()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

fn from_json_depth(json: &serde_json::Value, depth: usize) -> Value {
    if depth > MAX_VALUE_DEPTH * 4 {
        return Value::Null;
    }
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::string(s),
        serde_json::Value::Array(a) => Value::List(List::new(
            a.iter().map(|v| from_json_depth(v, depth + 1)).collect(),
        )),
        serde_json::Value::Object(o) => {
            let mut m = entries_with_capacity(o.len());
            for (k, v) in o {
                m.insert(MapKey::from(k.as_str()), from_json_depth(v, depth + 1));
            }
            Value::Map(Map::from_entries(m, false))
        }
    }
}

fn to_json_depth(v: &Value, depth: usize) -> serde_json::Value {
    if depth > MAX_VALUE_DEPTH {
        return serde_json::Value::Null;
    }
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(
            l.to_vec()
                .iter()
                .map(|x| to_json_depth(x, depth + 1))
                .collect(),
        ),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, val) in m.entries() {
                o.insert(k.render(), to_json_depth(&val, depth + 1));
            }
            serde_json::Value::Object(o)
        }
        Value::Object(o) => serde_json::Value::String(o.render()),
    }
}

// ----- Java toString ---------------------------------------------------------

fn render_into(v: &Value, out: &mut String, depth: usize) {
    if depth > MAX_VALUE_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            use std::fmt::Write;
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&java_double(*f)),
        Value::String(s) => out.push_str(s),
        Value::List(l) => match l.style() {
            ListStyle::Java => {
                out.push('[');
                if let Some(items) = l.borrow() {
                    for (i, it) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        match it {
                            Value::List(x) if x.ptr_eq(l) => out.push_str("(this Collection)"),
                            _ => render_into(it, out, depth + 1),
                        }
                    }
                }
                out.push(']');
            }
            ListStyle::Json => json_into(v, out, depth),
            ListStyle::StringArray => {
                use std::fmt::Write;
                let _ = write!(
                    out,
                    "[Ljava.lang.String;@{:x}",
                    (l.addr() >> 4) & 0x7fff_ffff
                );
            }
        },
        Value::Map(m) => {
            if m.is_json() {
                json_into(v, out, depth);
                return;
            }
            out.push('{');
            for (i, (k, val)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    Value::Map(x) if x.ptr_eq(m) => out.push_str("(this Map)"),
                    _ => render_into(k, out, depth + 1),
                }
                out.push('=');
                match val {
                    Value::Map(x) if x.ptr_eq(m) => out.push_str("(this Map)"),
                    _ => render_into(val, out, depth + 1),
                }
            }
            out.push('}');
        }
        Value::Object(o) => out.push_str(&o.render()),
    }
}

/// Compact JSON text of a value (for JSON-style containers).
fn json_into(v: &Value, out: &mut String, depth: usize) {
    if depth > MAX_VALUE_DEPTH {
        out.push_str("null");
        return;
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(_) | Value::Float(_) => render_into(v, out, depth),
        Value::String(s) => json_string(s, out),
        Value::List(l) => {
            out.push('[');
            for (i, it) in l.to_vec().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_into(it, out, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, val)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(&k.render(), out);
                out.push(':');
                json_into(val, out, depth + 1);
            }
            out.push('}');
        }
        Value::Object(o) => json_string(&o.render(), out),
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString(double)`.
pub fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    let a = f.abs();
    if (1e-3..1e7).contains(&a) {
        if exp >= 0 {
            let e = exp as usize;
            let (int_part, frac) = if digits.len() > e + 1 {
                (digits[..=e].to_string(), digits[e + 1..].to_string())
            } else {
                let mut ip = digits.clone();
                while ip.len() < e + 1 {
                    ip.push('0');
                }
                (ip, String::new())
            };
            out.push_str(&int_part);
            out.push('.');
            out.push_str(if frac.is_empty() { "0" } else { &frac });
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

// ----- Java equals --------------------------------------------------------------

/// Java `a.equals(b)` (with `null.equals(null)` true).
pub(crate) fn java_equals(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => canonical_bits(*x) == canonical_bits(*y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            if (x.style() == ListStyle::StringArray) != (y.style() == ListStyle::StringArray) {
                return false;
            }
            if x.style() == ListStyle::StringArray {
                return false; // arrays compare by identity
            }
            let (xv, yv) = (x.to_vec(), y.to_vec());
            xv.len() == yv.len()
                && xv
                    .iter()
                    .zip(yv.iter())
                    .all(|(p, q)| java_equals(p, q, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            if x.len() != y.len() {
                return false;
            }
            x.entries().iter().all(|(k, v)| match y.get_key(k) {
                Some(w) => java_equals(v, &w, depth + 1),
                None => false,
            })
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// Java `hashCode()` for strings.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    for u in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(u));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        let cases = [
            (1.5, "1.5"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (1e10, "1.0E10"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.0e-5, "1.0E-5"),
            (-2.5, "-2.5"),
            (123456.789, "123456.789"),
            (1.2345678e8, "1.2345678E8"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (-0.0, "-0.0"),
            (249.99, "249.99"),
        ];
        for (f, s) in cases {
            assert_eq!(java_double(f), s, "{f}");
        }
    }

    #[test]
    fn map_str_lookup_and_java_render() {
        let m = Map::new();
        m.insert("a", Value::Int(1));
        m.put(MapKey(Value::Int(1)), Value::string("x"));
        assert!(m.get("a").is_some());
        assert_eq!(Value::Map(m.clone()).render(), "{a=1, 1=x}");
        let l = List::new(vec![Value::Null, Value::Bool(true), Value::Float(2.0)]);
        assert_eq!(Value::List(l).render(), "[null, true, 2.0]");
    }
}
