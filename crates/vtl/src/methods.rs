//! Java methods and properties of the built-in value types, resolved the
//! way Velocity 1.7's introspection would (argument types must convert to
//! the Java parameter types, otherwise "no such method" = null).
//!
//! Inner `Err(String)` results are Java exceptions thrown by the method
//! (Velocity's `MethodInvocationException`).

use std::rc::Rc;

use crate::render::{Flow, R, Renderer, as_f64, java_d2i};
use crate::value::*;

type JResult = Result<Value, String>;

fn found(v: Value) -> R<JResult> {
    Ok(Ok(v))
}
fn none() -> R<JResult> {
    Ok(Ok(Value::Null))
}
fn thrown(msg: String) -> R<JResult> {
    Ok(Err(msg))
}
/// Java `void` methods return "" in Velocity.
fn void() -> R<JResult> {
    Ok(Ok(Value::string("")))
}

/// A Java `int` argument: Integer (not Long, not Double).
fn int_arg(v: &Value) -> Option<i32> {
    match v {
        Value::Int(i) => i32::try_from(*i).ok(),
        _ => None,
    }
}

fn str_arg(v: &Value) -> Option<Option<&str>> {
    match v {
        Value::String(s) => Some(Some(s)),
        Value::Null => Some(None),
        _ => None,
    }
}

fn npe() -> String {
    "java.lang.NullPointerException".into()
}

fn sioobe(i: i64) -> String {
    format!("java.lang.StringIndexOutOfBoundsException: String index out of range: {i}")
}

fn ioobe(index: i64, size: usize) -> String {
    format!("java.lang.IndexOutOfBoundsException: Index: {index}, Size: {size}")
}

// ----- UTF-16 helpers ---------------------------------------------------------------

struct U16 {
    ascii: bool,
    units: Vec<u16>,
}

fn u16s(s: &str) -> U16 {
    if s.is_ascii() {
        U16 {
            ascii: true,
            units: Vec::new(),
        }
    } else {
        U16 {
            ascii: false,
            units: s.encode_utf16().collect(),
        }
    }
}

fn jlen(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

fn jsub(s: &str, u: &U16, a: usize, b: usize) -> String {
    if u.ascii {
        s.get(a..b).unwrap_or("").to_string()
    } else {
        let slice = u.units.get(a..b).unwrap_or(&[]);
        String::from_utf16(slice).unwrap_or_else(|_| {
            char::decode_utf16(slice.iter().copied())
                .map(|r| r.unwrap_or('?'))
                .collect()
        })
    }
}

fn units_of(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn index_of_units(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return if from <= hay.len() { Some(from) } else { None };
    }
    if needle.len() > hay.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay.get(i..i + needle.len()) == Some(needle))
}

fn last_index_of_units(hay: &[u16], needle: &[u16], from: i64) -> Option<usize> {
    if from < 0 || needle.len() > hay.len() {
        return None;
    }
    let max_start = (hay.len() - needle.len()).min(from as usize);
    (0..=max_start)
        .rev()
        .find(|&i| hay.get(i..i + needle.len()) == Some(needle))
}

/// Java `String.trim()`: strips chars <= U+0020.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn char_to_value(u: u16) -> Value {
    match char::from_u32(u32::from(u)) {
        Some(c) => Value::from(c.to_string()),
        None => Value::string("?"),
    }
}

// ----- properties -------------------------------------------------------------------

/// `$value.name` (Velocity's `getPropertyGet`: getter, map get, get(name),
/// boolean `isName`).
pub(crate) fn get_property(r: &mut Renderer<'_>, v: &Value, name: &str) -> R<Value> {
    if name == "class" && !matches!(v, Value::Object(o) if o.builtin().is_none()) {
        return Ok(builtin_value(BuiltinKind::Class(class_name(v))));
    }
    match v {
        Value::Map(m) => Ok(m.get(name).unwrap_or(Value::Null)),
        Value::Object(o) => {
            if let Some(b) = o.builtin() {
                if let BuiltinKind::Scope(sc) = &b.0
                    && name == "topmost"
                {
                    return Ok(scope_topmost(sc, v));
                }
                return Ok(builtin_property(&b.0, name));
            }
            if let Some(p) = o.property(name) {
                return Ok(p);
            }
            let cap = capitalize(name);
            for m in [format!("get{cap}"), format!("is{cap}")] {
                match o.call(&m, &[]) {
                    Ok(Some(v)) => return Ok(v),
                    Ok(None) => {}
                    Err(e) => {
                        let (line, column) = r.position();
                        return Err(Flow::Err(crate::RenderError::Method {
                            line,
                            column,
                            message: format!("Invocation of method '{m}' threw exception {e}"),
                        }));
                    }
                }
            }
            Ok(Value::Null)
        }
        Value::List(l) => match name {
            "empty" if l.style() != ListStyle::StringArray => Ok(Value::Bool(l.is_empty())),
            _ => Ok(Value::Null),
        },
        Value::String(s) => match name {
            "empty" => Ok(Value::Bool(s.is_empty())),
            _ => Ok(Value::Null),
        },
        Value::Float(f) => match name {
            "naN" | "NaN" => Ok(Value::Bool(f.is_nan())),
            "infinite" | "Infinite" => Ok(Value::Bool(f.is_infinite())),
            _ => Ok(Value::Null),
        },
        _ => Ok(Value::Null),
    }
}

fn class_name(v: &Value) -> &'static str {
    match v {
        Value::Object(o) => match o.builtin().map(|b| &b.0) {
            Some(BuiltinKind::Scope(_)) => "org.apache.velocity.runtime.directive.ForeachScope",
            Some(BuiltinKind::Define(_)) => "org.apache.velocity.runtime.directive.Block$Reference",
            Some(BuiltinKind::Entry(_)) => "java.util.LinkedHashMap$Entry",
            Some(BuiltinKind::Class(_)) => "java.lang.Class",
            None => "java.lang.Object",
        },
        other => other.type_name(),
    }
}

fn capitalize(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn builtin_property(b: &BuiltinKind, name: &str) -> Value {
    match b {
        BuiltinKind::Scope(s) => match name {
            "index" => Value::Int(s.index.get()),
            "count" => Value::Int(s.index.get() + 1),
            "hasNext" => Value::Bool(s.has_next.get()),
            "first" => Value::Bool(s.index.get() < 1),
            "last" => Value::Bool(!s.has_next.get()),
            "parent" => s.parent.clone().unwrap_or(Value::Null),
            "replaced" => s.replaced.clone().unwrap_or(Value::Null),
            _ => s.storage.get(name).unwrap_or(Value::Null),
        },
        BuiltinKind::Entry(e) => match name {
            "key" => e.key.clone(),
            "value" => e.value.try_borrow().map(|v| v.clone()).unwrap_or_default(),
            _ => Value::Null,
        },
        BuiltinKind::Define(_) => Value::Null,
        BuiltinKind::Class(n) => match name {
            "name" => Value::string(n),
            "simpleName" => Value::string(n.rsplit('.').next().unwrap_or(n)),
            _ => Value::Null,
        },
    }
}

fn scope_topmost(s: &ScopeData, this: &Value) -> Value {
    let mut cur: Option<Value> = s.parent.clone();
    let mut last: Option<Value> = Some(this.clone());
    let mut guard = 0;
    while let Some(p) = cur {
        guard += 1;
        if guard > 10_000 {
            break;
        }
        cur = match as_builtin(&p) {
            Some(BuiltinKind::Scope(ps)) => ps.parent.clone(),
            _ => None,
        };
        last = Some(p);
    }
    last.unwrap_or(Value::Null)
}

/// `#set($value.name = x)`.
pub(crate) fn set_property(target: &Value, name: &str, value: Value) {
    match target {
        Value::Map(m) => {
            m.put(MapKey::from(name), value);
        }
        Value::Object(o) => {
            if let Some(b) = o.builtin() {
                if let BuiltinKind::Scope(s) = &b.0 {
                    s.storage.put(MapKey::from(name), value);
                }
                return;
            }
            o.set_property(name, value);
        }
        _ => {}
    }
}

// ----- index access -------------------------------------------------------------------

fn size_of(v: &Value) -> Option<usize> {
    match v {
        Value::List(l) => Some(l.len()),
        Value::Map(m) => Some(m.len()),
        _ => None,
    }
}

/// `ASTIndex.adjMinusIndexArg`.
fn adjust_index(target: &Value, idx: &Value) -> Result<Value, String> {
    if let Value::Int(i) = idx
        && i32::try_from(*i).is_ok()
        && *i < 0
    {
        let Some(size) = size_of(target) else {
            return Err(format!(
                "A 'size()' method required for negative value {i} does not exist for class '{}'",
                target.type_name()
            ));
        };
        return Ok(Value::Int(size as i64 + *i));
    }
    Ok(idx.clone())
}

/// `$value[idx]`.
pub(crate) fn index_get(_r: &mut Renderer<'_>, target: &Value, idx: &Value) -> R<JResult> {
    let idx = match adjust_index(target, idx) {
        Ok(i) => i,
        Err(e) => return thrown(e),
    };
    match target {
        Value::List(l) => match int_arg(&idx) {
            Some(i) => match usize::try_from(i).ok().and_then(|u| l.get(u)) {
                Some(v) => found(v),
                None => thrown(format!(
                    "Error invoking method 'get({})' in {} ({})",
                    idx.type_name(),
                    target.type_name(),
                    ioobe(i64::from(i), l.len())
                )),
            },
            None => none(),
        },
        Value::Map(m) => found(m.get_key(&idx).unwrap_or(Value::Null)),
        Value::Object(o) => {
            if o.builtin().is_some() {
                return none();
            }
            match o.call("get", std::slice::from_ref(&idx)) {
                Ok(Some(v)) => found(v),
                Ok(None) => none(),
                Err(e) => thrown(e),
            }
        }
        _ => none(),
    }
}

/// `#set($value[idx] = x)`: `set(int, Object)` or `put(Object, Object)`.
pub(crate) fn index_set(target: &Value, idx: &Value, value: Value) -> Result<(), String> {
    let idx = adjust_index(target, idx)?;
    match target {
        Value::List(l) => {
            if let Some(i) = int_arg(&idx) {
                let len = l.len();
                match usize::try_from(i).ok().filter(|&u| u < len) {
                    Some(u) => {
                        l.set_at(u, value);
                        Ok(())
                    }
                    None => Err(ioobe(i64::from(i), len)),
                }
            } else {
                Ok(())
            }
        }
        Value::Map(m) => {
            m.put(MapKey(idx), value);
            Ok(())
        }
        Value::Object(o) => {
            if o.builtin().is_none() {
                match o.call("set", &[idx.clone(), value.clone()]) {
                    Ok(Some(_)) => return Ok(()),
                    Ok(None) => {}
                    Err(e) => return Err(e),
                }
                match o.call("put", &[idx, value]) {
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

// ----- methods ------------------------------------------------------------------------

pub(crate) fn call_method(
    r: &mut Renderer<'_>,
    v: &Value,
    name: &str,
    args: &[Value],
) -> R<JResult> {
    // methods every object has
    match (name, args.len()) {
        ("getClass", 0) if !matches!(v, Value::Object(o) if o.builtin().is_none()) => {
            return found(builtin_value(BuiltinKind::Class(class_name(v))));
        }
        ("toString", 0) => {
            return match r.java_to_string(v)? {
                Some(s) => found(Value::from(s)),
                None => none(),
            };
        }
        ("equals", 1) if !matches!(v, Value::Object(o) if o.builtin().is_none()) => {
            let a = args.first().cloned().unwrap_or_default();
            return found(Value::Bool(java_equals(v, &a, 0)));
        }
        _ => {}
    }
    match v {
        Value::String(s) => string_method(r, s, name, args),
        Value::List(l) => list_method(r, v, l, name, args),
        Value::Map(m) => map_method(r, v, m, name, args),
        Value::Int(i) => int_method(*i, name, args),
        Value::Float(f) => float_method(*f, name, args),
        Value::Bool(b) => match (name, args.len()) {
            ("booleanValue", 0) => found(Value::Bool(*b)),
            ("hashCode", 0) => found(Value::Int(if *b { 1231 } else { 1237 })),
            ("compareTo", 1) => match args.first() {
                Some(Value::Bool(o)) => found(Value::Int(i64::from(*b as i8 - *o as i8))),
                Some(Value::Null) | None => thrown(npe()),
                Some(other) => thrown(class_cast(other, "java.lang.Boolean")),
            },
            _ => none(),
        },
        Value::Null => none(),
        Value::Object(o) => {
            if let Some(b) = o.builtin() {
                return builtin_method(v, &b.0, name, args);
            }
            match o.call(name, args) {
                Ok(Some(v)) => found(v),
                Ok(None) => {
                    if args.is_empty() {
                        let prop = name
                            .strip_prefix("get")
                            .or_else(|| name.strip_prefix("is"))
                            .filter(|p| !p.is_empty());
                        if let Some(p) = prop {
                            let mut c = p.chars();
                            let decap: String = match c.next() {
                                Some(f) => f.to_lowercase().chain(c).collect(),
                                None => String::new(),
                            };
                            if let Some(v) = o.property(&decap).or_else(|| o.property(p)) {
                                return found(v);
                            }
                        }
                    }
                    none()
                }
                Err(e) => thrown(e),
            }
        }
    }
}

fn builtin_method(this: &Value, b: &BuiltinKind, name: &str, args: &[Value]) -> R<JResult> {
    match b {
        BuiltinKind::Scope(s) => match (name, args.len()) {
            ("getIndex", 0) => found(Value::Int(s.index.get())),
            ("getCount", 0) => found(Value::Int(s.index.get() + 1)),
            ("hasNext" | "getHasNext", 0) => found(Value::Bool(s.has_next.get())),
            ("isFirst" | "getFirst", 0) => found(Value::Bool(s.index.get() < 1)),
            ("isLast" | "getLast", 0) => found(Value::Bool(!s.has_next.get())),
            ("getParent", 0) => found(s.parent.clone().unwrap_or(Value::Null)),
            ("getTopmost", 0) => found(scope_topmost(s, this)),
            ("getReplaced", 0) => found(s.replaced.clone().unwrap_or(Value::Null)),
            ("get", 1) => found(
                args.first()
                    .and_then(|k| s.storage.get_key(k))
                    .unwrap_or(Value::Null),
            ),
            ("put", 2) => {
                let (k, v) = (args[0].clone(), args[1].clone());
                found(s.storage.put(MapKey(k), v).unwrap_or(Value::Null))
            }
            ("size", 0) => found(Value::Int(s.storage.len() as i64)),
            ("isEmpty", 0) => found(Value::Bool(s.storage.is_empty())),
            _ => none(),
        },
        BuiltinKind::Entry(e) => match (name, args.len()) {
            ("getKey", 0) => found(e.key.clone()),
            ("getValue", 0) => found(e.value.try_borrow().map(|v| v.clone()).unwrap_or_default()),
            ("setValue", 1) => {
                let nv = args.first().cloned().unwrap_or_default();
                if !matches!(
                    would_cycle(&Value::Map(e.map.clone()), &nv, 100_000),
                    Ok((false, _))
                ) {
                    return thrown("a collection cannot be added to itself (reference cycles are not supported)".into());
                }
                let old = match e.value.try_borrow_mut() {
                    Ok(mut slot) => std::mem::replace(&mut *slot, nv.clone()),
                    Err(_) => Value::Null,
                };
                e.map.put(MapKey(e.key.clone()), nv);
                found(old)
            }
            _ => none(),
        },
        BuiltinKind::Define(_) => none(),
        BuiltinKind::Class(n) => match (name, args.len()) {
            ("getName", 0) => found(Value::string(n)),
            ("getSimpleName", 0) => found(Value::string(n.rsplit('.').next().unwrap_or(n))),
            _ => none(),
        },
    }
}

fn int_method(i: i64, name: &str, args: &[Value]) -> R<JResult> {
    let is_int = i32::try_from(i).is_ok();
    match (name, args.len()) {
        ("intValue", 0) => found(Value::Int(i64::from(i as i32))),
        ("longValue", 0) => found(Value::Int(i)),
        ("doubleValue", 0) => found(Value::Float(i as f64)),
        ("hashCode", 0) => found(Value::Int(if is_int {
            i
        } else {
            i64::from((i ^ (i >> 32)) as i32)
        })),
        ("compareTo", 1) => match args.first() {
            Some(Value::Int(o)) if i32::try_from(*o).is_ok() == is_int => {
                found(Value::Int(match i.cmp(o) {
                    std::cmp::Ordering::Less => -1,
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Greater => 1,
                }))
            }
            Some(Value::Null) | None => thrown(npe()),
            Some(other) => thrown(class_cast(
                other,
                if is_int {
                    "java.lang.Integer"
                } else {
                    "java.lang.Long"
                },
            )),
        },
        _ => none(),
    }
}

fn class_cast(v: &Value, to: &str) -> String {
    format!(
        "java.lang.ClassCastException: class {} cannot be cast to class {to}",
        v.type_name()
    )
}

fn float_method(f: f64, name: &str, args: &[Value]) -> R<JResult> {
    match (name, args.len()) {
        ("intValue", 0) => found(Value::Int(i64::from(java_d2i(f)))),
        ("longValue", 0) => found(Value::Int(if f.is_nan() {
            0
        } else if f >= i64::MAX as f64 {
            i64::MAX
        } else if f <= i64::MIN as f64 {
            i64::MIN
        } else {
            f as i64
        })),
        ("doubleValue", 0) => found(Value::Float(f)),
        ("hashCode", 0) => found(Value::Int(i64::from(java_hash(&Value::Float(f), 0)))),
        ("isNaN", 0) => found(Value::Bool(f.is_nan())),
        ("isInfinite", 0) => found(Value::Bool(f.is_infinite())),
        ("compareTo", 1) => match args.first() {
            Some(Value::Float(o)) => found(Value::Int(match f.total_cmp(o) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            })),
            Some(Value::Null) | None => thrown(npe()),
            Some(other) => thrown(class_cast(other, "java.lang.Double")),
        },
        _ => none(),
    }
}

fn string_method(r: &mut Renderer<'_>, s: &Rc<str>, name: &str, args: &[Value]) -> R<JResult> {
    let a0 = args.first();
    let a1 = args.get(1);
    match (name, args.len()) {
        ("length", 0) => found(Value::Int(jlen(s) as i64)),
        ("isEmpty", 0) => found(Value::Bool(s.is_empty())),
        ("hashCode", 0) => found(Value::Int(i64::from(java_string_hash(s)))),
        ("intern", 0) => found(Value::String(s.clone())),
        ("trim", 0) => found(Value::string(java_trim(s))),
        ("toLowerCase", 0) => {
            r.charge_bytes(s.len())?;
            found(Value::from(s.to_lowercase()))
        }
        ("toUpperCase", 0) => {
            r.charge_bytes(s.len())?;
            found(Value::from(s.to_uppercase()))
        }
        ("charAt", 1) => {
            let Some(i) = a0.and_then(int_arg) else {
                return none();
            };
            let u = units_of(s);
            match usize::try_from(i).ok().and_then(|x| u.get(x)) {
                Some(&c) => found(char_to_value(c)),
                None => thrown(sioobe(i64::from(i))),
            }
        }
        ("substring", 1 | 2) => {
            let Some(b) = a0.and_then(int_arg) else {
                return none();
            };
            let len = jlen(s) as i64;
            let e = match a1 {
                None => len,
                Some(v) => match int_arg(v) {
                    Some(e) => i64::from(e),
                    None => return none(),
                },
            };
            let b = i64::from(b);
            if b < 0 {
                return thrown(sioobe(b));
            }
            if e > len {
                return thrown(sioobe(e));
            }
            if b > e {
                return thrown(sioobe(e - b));
            }
            let u = u16s(s);
            found(Value::from(jsub(s, &u, b as usize, e as usize)))
        }
        ("indexOf" | "lastIndexOf", 1 | 2) => {
            let last = name == "lastIndexOf";
            // overload resolution first: (String|int [, int])
            let from_arg = match a1 {
                None => None,
                Some(v) => match int_arg(v) {
                    Some(x) => Some(i64::from(x)),
                    None => return none(),
                },
            };
            let needle: Vec<u16> = match a0 {
                Some(Value::String(n)) => units_of(n),
                Some(Value::Int(c)) if i32::try_from(*c).is_ok() => {
                    match u32::try_from(*c).ok().and_then(char::from_u32) {
                        Some(ch) => ch.to_string().encode_utf16().collect(),
                        None => return found(Value::Int(-1)),
                    }
                }
                Some(Value::Null) => return thrown(npe()),
                _ => return none(),
            };
            let hay = units_of(s);
            let from: i64 = from_arg.unwrap_or(if last { hay.len() as i64 } else { 0 });
            let res = if last {
                last_index_of_units(&hay, &needle, from)
            } else {
                let f = from.max(0) as usize;
                if f > hay.len() {
                    if needle.is_empty() {
                        Some(hay.len())
                    } else {
                        None
                    }
                } else {
                    index_of_units(&hay, &needle, f)
                }
            };
            found(Value::Int(res.map(|x| x as i64).unwrap_or(-1)))
        }
        ("contains", 1) => match a0.and_then(str_arg) {
            Some(Some(n)) => found(Value::Bool(s.contains(n))),
            Some(None) => thrown(npe()),
            None => none(),
        },
        ("startsWith", 1) => match a0.and_then(str_arg) {
            Some(Some(n)) => found(Value::Bool(s.starts_with(n))),
            Some(None) => thrown(npe()),
            None => none(),
        },
        ("startsWith", 2) => {
            let (Some(p), Some(off)) = (a0.and_then(str_arg), a1.and_then(int_arg)) else {
                return none();
            };
            if off < 0 {
                return found(Value::Bool(false));
            }
            let Some(p) = p else { return thrown(npe()) };
            let hay = units_of(s);
            let pu = units_of(p);
            let ok = usize::try_from(off)
                .ok()
                .and_then(|o| hay.get(o..o + pu.len()))
                .is_some_and(|w| w == pu.as_slice());
            found(Value::Bool(ok))
        }
        ("endsWith", 1) => match a0.and_then(str_arg) {
            Some(Some(n)) => found(Value::Bool(s.ends_with(n))),
            Some(None) => thrown(npe()),
            None => none(),
        },
        ("equalsIgnoreCase", 1) => match a0 {
            Some(Value::String(o)) => found(Value::Bool(eq_ignore_case(s, o))),
            Some(Value::Null) => found(Value::Bool(false)),
            _ => none(),
        },
        ("compareTo", 1) => match a0 {
            Some(Value::String(o)) => found(Value::Int(i64::from(compare_utf16(s, o, false)))),
            Some(Value::Null) | None => thrown(npe()),
            Some(other) => thrown(class_cast(other, "java.lang.String")),
        },
        ("compareToIgnoreCase", 1) => match a0.and_then(str_arg) {
            Some(Some(o)) => found(Value::Int(i64::from(compare_utf16(s, o, true)))),
            Some(None) => thrown(npe()),
            None => none(),
        },
        ("concat", 1) => match a0.and_then(str_arg) {
            Some(Some(o)) => {
                r.charge_bytes(s.len() + o.len())?;
                let mut x = String::with_capacity(s.len() + o.len());
                x.push_str(s);
                x.push_str(o);
                found(Value::from(x))
            }
            Some(None) => thrown(npe()),
            None => none(),
        },
        ("replace", 2) => {
            let (Some(a), Some(b)) = (a0.and_then(str_arg), a1.and_then(str_arg)) else {
                return none();
            };
            let (Some(a), Some(b)) = (a, b) else {
                return thrown(npe());
            };
            let out = java_replace_literal(s, a, b);
            r.charge_bytes(out.len())?;
            found(Value::from(out))
        }
        ("replaceAll" | "replaceFirst", 2) => {
            let (Some(a), Some(b)) = (a0.and_then(str_arg), a1.and_then(str_arg)) else {
                return none();
            };
            let Some(pat) = a else { return thrown(npe()) };
            let re = match compile(r, pat) {
                Ok(re) => re,
                Err(e) => return thrown(e),
            };
            // Java only reads the replacement when something matched
            let Some(rep) = b else {
                return if re.is_match(s) {
                    thrown(npe())
                } else {
                    found(Value::String(s.clone()))
                };
            };
            match java_regex_replace(&re, s, rep, name == "replaceAll") {
                Ok(out) => {
                    r.charge_bytes(out.len())?;
                    found(Value::from(out))
                }
                Err(e) => thrown(e),
            }
        }
        ("matches", 1) => match a0.and_then(str_arg) {
            Some(Some(pat)) => {
                let re = match compile(r, pat) {
                    Ok(re) => re,
                    Err(e) => return thrown(e),
                };
                let whole = re
                    .find_iter(s)
                    .any(|m| m.start() == 0 && m.end() == s.len())
                    || anchored_match(pat, s);
                found(Value::Bool(whole))
            }
            Some(None) => thrown(npe()),
            None => none(),
        },
        ("split", 1 | 2) => {
            let limit = match a1 {
                None => 0,
                Some(v) => match int_arg(v) {
                    Some(l) => l,
                    None => return none(),
                },
            };
            let Some(pat) = a0.and_then(str_arg) else {
                return none();
            };
            let Some(pat) = pat else { return thrown(npe()) };
            let parts = match java_split(r, s, pat, limit) {
                Ok(p) => p,
                Err(e) => return thrown(e),
            };
            r.step(parts.len() as u64)?;
            found(Value::List(List::with_style(
                parts.into_iter().map(Value::from).collect(),
                ListStyle::StringArray,
            )))
        }
        _ => none(),
    }
}

/// `matches` must match the whole input; re-run anchored to be sure the
/// leftmost-first semantics did not pick a shorter alternative.
fn anchored_match(pat: &str, s: &str) -> bool {
    let Ok(t) = translate_java_regex(pat) else {
        return false;
    };
    regex::RegexBuilder::new(&format!("^(?:{t})$"))
        .size_limit(1 << 20)
        .build()
        .map(|re| re.is_match(s))
        .unwrap_or(false)
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    let (x, y) = (units_of(a), units_of(b));
    x.len() == y.len()
        && x.iter().zip(y.iter()).all(|(&p, &q)| {
            if p == q {
                return true;
            }
            let (cp, cq) = (
                char::from_u32(u32::from(p)).unwrap_or('\0'),
                char::from_u32(u32::from(q)).unwrap_or('\0'),
            );
            let up = |c: char| c.to_uppercase().next().unwrap_or(c);
            let lo = |c: char| c.to_lowercase().next().unwrap_or(c);
            up(cp) == up(cq) || lo(up(cp)) == lo(up(cq))
        })
}

fn compare_utf16(a: &str, b: &str, ignore_case: bool) -> i32 {
    let fold = |u: u16| -> u16 {
        if !ignore_case {
            return u;
        }
        let c = char::from_u32(u32::from(u)).unwrap_or('\0');
        let up = c.to_uppercase().next().unwrap_or(c);
        let lo = up.to_lowercase().next().unwrap_or(up);
        u16::try_from(lo as u32).unwrap_or(u)
    };
    let (x, y) = (units_of(a), units_of(b));
    for (p, q) in x.iter().zip(y.iter()) {
        let (p, q) = (fold(*p), fold(*q));
        if p != q {
            return i32::from(p) - i32::from(q);
        }
    }
    x.len() as i32 - y.len() as i32
}

/// Java `String.replace(CharSequence, CharSequence)`.
fn java_replace_literal(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        // inserts `to` before every char and at the end (UTF-16 units)
        let u = units_of(s);
        let mut out = String::new();
        for c in char::decode_utf16(u.iter().copied()) {
            out.push_str(to);
            out.push(c.unwrap_or('?'));
        }
        out.push_str(to);
        return out;
    }
    s.replace(from, to)
}

fn list_method(
    r: &mut Renderer<'_>,
    this: &Value,
    l: &List,
    name: &str,
    args: &[Value],
) -> R<JResult> {
    let a0 = args.first();
    let a1 = args.get(1);
    let fixed = l.style() == ListStyle::StringArray;
    let unsupported = || "java.lang.UnsupportedOperationException".to_string();
    match (name, args.len()) {
        ("size", 0) => found(Value::Int(l.len() as i64)),
        ("isEmpty", 0) => found(Value::Bool(l.is_empty())),
        ("get", 1) => {
            let Some(i) = a0.and_then(int_arg) else {
                return none();
            };
            match usize::try_from(i).ok().and_then(|u| l.get(u)) {
                Some(v) => found(v),
                None => {
                    if fixed {
                        thrown(format!("java.lang.ArrayIndexOutOfBoundsException: {i}"))
                    } else {
                        thrown(ioobe(i64::from(i), l.len()))
                    }
                }
            }
        }
        ("contains", 1) => {
            let x = a0.cloned().unwrap_or_default();
            found(Value::Bool(
                l.to_vec().iter().any(|e| java_equals(&x, e, 0)),
            ))
        }
        ("indexOf" | "lastIndexOf", 1) => {
            let x = a0.cloned().unwrap_or_default();
            let items = l.to_vec();
            let pos = if name == "indexOf" {
                items.iter().position(|e| java_equals(&x, e, 0))
            } else {
                items.iter().rposition(|e| java_equals(&x, e, 0))
            };
            found(Value::Int(pos.map(|p| p as i64).unwrap_or(-1)))
        }
        ("add", 1) => {
            if fixed {
                return thrown(unsupported());
            }
            r.check_insert(this, a0.unwrap_or(&Value::Null))?;
            r.step(1)?;
            l.push(a0.cloned().unwrap_or_default());
            found(Value::Bool(true))
        }
        ("add", 2) => {
            let Some(i) = a0.and_then(int_arg) else {
                return none();
            };
            if fixed {
                return thrown(unsupported());
            }
            let len = l.len();
            match usize::try_from(i).ok().filter(|&u| u <= len) {
                Some(u) => {
                    r.check_insert(this, a1.unwrap_or(&Value::Null))?;
                    r.step(1)?;
                    let v = a1.cloned().unwrap_or_default();
                    l.with_mut(|items| items.insert(u, v));
                    void()
                }
                None => thrown(ioobe(i64::from(i), len)),
            }
        }
        ("set", 2) => {
            let Some(i) = a0.and_then(int_arg) else {
                return none();
            };
            let len = l.len();
            match usize::try_from(i).ok().filter(|&u| u < len) {
                Some(u) => found(
                    l.set_at(u, a1.cloned().unwrap_or_default())
                        .unwrap_or(Value::Null),
                ),
                None => thrown(ioobe(i64::from(i), len)),
            }
        }
        ("remove", 1) => {
            if let Some(i) = a0.and_then(int_arg) {
                if fixed {
                    return thrown(unsupported());
                }
                let len = l.len();
                return match usize::try_from(i).ok().filter(|&u| u < len) {
                    Some(u) => found(l.with_mut(|items| items.remove(u)).unwrap_or(Value::Null)),
                    None => thrown(ioobe(i64::from(i), len)),
                };
            }
            if fixed {
                return thrown(unsupported());
            }
            let x = a0.cloned().unwrap_or_default();
            let pos = l.to_vec().iter().position(|e| java_equals(&x, e, 0));
            match pos {
                Some(p) => {
                    l.with_mut(|items| items.remove(p));
                    found(Value::Bool(true))
                }
                None => found(Value::Bool(false)),
            }
        }
        ("addAll", 1) => {
            let Some(items) = a0.and_then(collection_items) else {
                return match a0 {
                    Some(Value::Null) => thrown(npe()),
                    _ => none(),
                };
            };
            if fixed {
                return thrown(unsupported());
            }
            for it in &items {
                r.check_insert(this, it)?;
            }
            r.step(items.len() as u64 + 1)?;
            let changed = !items.is_empty();
            l.with_mut(|v| v.extend(items));
            found(Value::Bool(changed))
        }
        ("addAll", 2) => {
            let Some(i) = a0.and_then(int_arg) else {
                return none();
            };
            let Some(items) = a1.and_then(collection_items) else {
                return none();
            };
            if fixed {
                return thrown(unsupported());
            }
            let len = l.len();
            match usize::try_from(i).ok().filter(|&u| u <= len) {
                Some(u) => {
                    for it in &items {
                        r.check_insert(this, it)?;
                    }
                    r.step(items.len() as u64 + 1)?;
                    let changed = !items.is_empty();
                    l.with_mut(|v| {
                        let tail = v.split_off(u);
                        v.extend(items);
                        v.extend(tail);
                    });
                    found(Value::Bool(changed))
                }
                None => thrown(ioobe(i64::from(i), len)),
            }
        }
        ("containsAll", 1) => {
            let Some(items) = a0.and_then(collection_items) else {
                return none();
            };
            let mine = l.to_vec();
            found(Value::Bool(
                items
                    .iter()
                    .all(|x| mine.iter().any(|e| java_equals(x, e, 0))),
            ))
        }
        ("clear", 0) => {
            if fixed {
                return thrown(unsupported());
            }
            l.with_mut(|v| v.clear());
            void()
        }
        ("subList", 2) => {
            let (Some(a), Some(b)) = (a0.and_then(int_arg), a1.and_then(int_arg)) else {
                return none();
            };
            let len = l.len() as i64;
            let (a, b) = (i64::from(a), i64::from(b));
            if a < 0 {
                return thrown(format!(
                    "java.lang.IndexOutOfBoundsException: fromIndex = {a}"
                ));
            }
            if b > len {
                return thrown(format!(
                    "java.lang.IndexOutOfBoundsException: toIndex = {b}"
                ));
            }
            if a > b {
                return thrown(format!(
                    "java.lang.IllegalArgumentException: fromIndex({a}) > toIndex({b})"
                ));
            }
            let items = l.to_vec();
            let part = items
                .get(a as usize..b as usize)
                .map(|x| x.to_vec())
                .unwrap_or_default();
            r.step(part.len() as u64 + 1)?;
            found(Value::List(List::new(part)))
        }
        ("hashCode", 0) => found(Value::Int(i64::from(java_hash(this, 0)))),
        _ => none(),
    }
}

fn collection_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.to_vec()),
        _ => None,
    }
}

fn map_method(
    r: &mut Renderer<'_>,
    this: &Value,
    m: &Map,
    name: &str,
    args: &[Value],
) -> R<JResult> {
    let a0 = args.first();
    let a1 = args.get(1);
    match (name, args.len()) {
        ("get", 1) => found(a0.and_then(|k| m.get_key(k)).unwrap_or(Value::Null)),
        ("getOrDefault", 2) => {
            let k = a0.cloned().unwrap_or_default();
            let present = m.entries().iter().any(|(x, _)| java_equals(x, &k, 0));
            if present {
                found(m.get_key(&k).unwrap_or(Value::Null))
            } else {
                found(a1.cloned().unwrap_or_default())
            }
        }
        ("put", 2) => {
            r.step(1)?;
            r.check_insert(this, a0.unwrap_or(&Value::Null))?;
            r.check_insert(this, a1.unwrap_or(&Value::Null))?;
            let k = a0.cloned().unwrap_or_default();
            found(
                m.put(MapKey(k), a1.cloned().unwrap_or_default())
                    .unwrap_or(Value::Null),
            )
        }
        ("putIfAbsent", 2) => {
            let k = a0.cloned().unwrap_or_default();
            match m.get_key(&k) {
                Some(v) if !v.is_null() => found(v),
                _ => {
                    r.step(1)?;
                    r.check_insert(this, &k)?;
                    r.check_insert(this, a1.unwrap_or(&Value::Null))?;
                    m.put(MapKey(k), a1.cloned().unwrap_or_default());
                    none()
                }
            }
        }
        ("putAll", 1) => match a0 {
            Some(Value::Map(o)) => {
                let entries = o.entries();
                r.step(entries.len() as u64 + 1)?;
                for (k, v) in &entries {
                    r.check_insert(this, k)?;
                    r.check_insert(this, v)?;
                }
                for (k, v) in entries {
                    m.put(MapKey(k), v);
                }
                void()
            }
            Some(Value::Null) => thrown(npe()),
            _ => none(),
        },
        ("containsKey", 1) => {
            let k = a0.cloned().unwrap_or_default();
            found(Value::Bool(
                m.entries().iter().any(|(x, _)| java_equals(x, &k, 0)),
            ))
        }
        ("containsValue", 1) => {
            let k = a0.cloned().unwrap_or_default();
            found(Value::Bool(
                m.values().iter().any(|x| java_equals(x, &k, 0)),
            ))
        }
        ("remove", 1) => found(a0.and_then(|k| m.remove(k)).unwrap_or(Value::Null)),
        ("size", 0) => found(Value::Int(m.len() as i64)),
        ("isEmpty", 0) => found(Value::Bool(m.is_empty())),
        ("clear", 0) => {
            m.clear();
            void()
        }
        ("keySet", 0) => {
            let keys = m.keys();
            r.step(keys.len() as u64 + 1)?;
            found(Value::List(List::view_of(keys, m)))
        }
        ("values", 0) => {
            let vals = m.values();
            r.step(vals.len() as u64 + 1)?;
            found(Value::List(List::view_of(vals, m)))
        }
        ("entrySet", 0) => {
            let entries = m.entries();
            r.step(entries.len() as u64 + 1)?;
            let items = entries
                .into_iter()
                .map(|(k, v)| {
                    builtin_value(BuiltinKind::Entry(EntryData {
                        key: k,
                        value: std::cell::RefCell::new(v),
                        map: m.clone(),
                    }))
                })
                .collect();
            found(Value::List(List::view_of(items, m)))
        }
        ("hashCode", 0) => found(Value::Int(i64::from(java_hash(&Value::Map(m.clone()), 0)))),
        _ => none(),
    }
}

fn java_hash(v: &Value, depth: usize) -> i32 {
    if depth > MAX_VALUE_DEPTH {
        return 0;
    }
    match v {
        Value::Null => 0,
        Value::Bool(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        Value::Int(i) => match i32::try_from(*i) {
            Ok(x) => x,
            Err(_) => (*i ^ (*i >> 32)) as i32,
        },
        Value::Float(f) => {
            let bits = if f.is_nan() {
                0x7ff8_0000_0000_0000u64
            } else {
                f.to_bits()
            };
            (bits ^ (bits >> 32)) as i32
        }
        Value::String(s) => java_string_hash(s),
        Value::List(l) => l.to_vec().iter().fold(1i32, |h, e| {
            h.wrapping_mul(31).wrapping_add(java_hash(e, depth + 1))
        }),
        Value::Map(m) => m.entries().iter().fold(0i32, |h, (k, v)| {
            h.wrapping_add(java_hash(k, depth + 1) ^ java_hash(v, depth + 1))
        }),
        Value::Object(_) => 0,
    }
}

// ----- Java regex ----------------------------------------------------------------------

fn compile(r: &mut Renderer<'_>, pat: &str) -> Result<std::sync::Arc<regex::Regex>, String> {
    if let Some(re) = r.cached_regex(pat) {
        return Ok(re);
    }
    let t = translate_java_regex(pat)?;
    let re = regex::RegexBuilder::new(&t)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            format!(
                "java.util.regex.PatternSyntaxException: {} near index 0\n{pat}",
                e.to_string().lines().last().unwrap_or("invalid pattern")
            )
        })?;
    let re = std::sync::Arc::new(re);
    r.cache_regex(pat, re.clone());
    Ok(re)
}

/// Translates the common Java regex syntax to the `regex` crate's: ASCII
/// `\d \w \s \b`, `\Q...\E` quoting. Constructs the crate does not support
/// (back-references, look-around, possessive quantifiers) are reported as
/// syntax errors.
pub(crate) fn translate_java_regex(p: &str) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                return Err(format!(
                    "java.util.regex.PatternSyntaxException: Unexpected internal error near index {}\n{p}",
                    chars.len()
                ));
            };
            i += 2;
            match n {
                'Q' => {
                    let mut lit = String::new();
                    while i < chars.len() {
                        if chars[i] == '\\' && chars.get(i + 1) == Some(&'E') {
                            i += 2;
                            break;
                        }
                        lit.push(chars[i]);
                        i += 1;
                    }
                    out.push_str(&regex::escape(&lit));
                }
                'd' => out.push_str(if in_class > 0 { "0-9" } else { "[0-9]" }),
                'D' => out.push_str(if in_class > 0 { "\\D" } else { "[^0-9]" }),
                'w' => out.push_str(if in_class > 0 {
                    "a-zA-Z0-9_"
                } else {
                    "[a-zA-Z0-9_]"
                }),
                'W' => out.push_str(if in_class > 0 { "\\W" } else { "[^a-zA-Z0-9_]" }),
                's' => out.push_str(if in_class > 0 {
                    " \\t\\n\\x0B\\f\\r"
                } else {
                    "[ \\t\\n\\x0B\\f\\r]"
                }),
                'S' => out.push_str(if in_class > 0 {
                    "\\S"
                } else {
                    "[^ \\t\\n\\x0B\\f\\r]"
                }),
                'b' if in_class == 0 => out.push_str("(?-u:\\b)"),
                'B' if in_class == 0 => out.push_str("(?-u:\\B)"),
                '1'..='9' if in_class == 0 => {
                    return Err(format!(
                        "java.util.regex.PatternSyntaxException: back-references are not supported\n{p}"
                    ));
                }
                'k' => {
                    return Err(format!(
                        "java.util.regex.PatternSyntaxException: back-references are not supported\n{p}"
                    ));
                }
                _ => {
                    out.push('\\');
                    out.push(n);
                }
            }
            continue;
        }
        match c {
            '[' => {
                in_class += 1;
                out.push(c);
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            ']' if in_class > 0 => {
                in_class -= 1;
                out.push(c);
            }
            '(' if in_class == 0 && chars.get(i + 1) == Some(&'?') => {
                match chars.get(i + 2) {
                    Some('=' | '!') | Some('<')
                        if chars.get(i + 2) != Some(&'<')
                            || matches!(chars.get(i + 3), Some('=' | '!')) =>
                    {
                        return Err(format!(
                            "java.util.regex.PatternSyntaxException: look-around is not supported\n{p}"
                        ));
                    }
                    Some('<') => {
                        // named group (?<name>...) -> (?P<name>...)
                        out.push_str("(?P<");
                        i += 3;
                        continue;
                    }
                    _ => out.push(c),
                }
            }
            '+' if in_class == 0
                && i > 0
                && matches!(chars.get(i - 1), Some('*' | '+' | '?' | '}')) =>
            {
                if chars.get(i.wrapping_sub(2)) != Some(&'\\') {
                    return Err(format!(
                        "java.util.regex.PatternSyntaxException: possessive quantifiers are not supported\n{p}"
                    ));
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// `Matcher.appendReplacement` semantics for `replaceAll`/`replaceFirst`.
fn java_regex_replace(re: &regex::Regex, s: &str, rep: &str, all: bool) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(s.get(last..m.start()).unwrap_or(""));
        append_replacement(&caps, re, rep, &mut out)?;
        last = m.end();
        if !all {
            break;
        }
        if out.len() > (64 << 20) {
            return Err("java.lang.OutOfMemoryError".into());
        }
    }
    out.push_str(s.get(last..).unwrap_or(""));
    Ok(out)
}

fn append_replacement(
    caps: &regex::Captures<'_>,
    re: &regex::Regex,
    rep: &str,
    out: &mut String,
) -> Result<(), String> {
    let chars: Vec<char> = rep.chars().collect();
    let group_count = re.captures_len() - 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 1;
            match chars.get(i) {
                Some(&n) => out.push(n),
                None => {
                    return Err(
                        "java.lang.IllegalArgumentException: character to be escaped is missing"
                            .into(),
                    );
                }
            }
            i += 1;
        } else if c == '$' {
            i += 1;
            match chars.get(i) {
                None => {
                    return Err("java.lang.IllegalArgumentException: Illegal group reference: group index is missing".into());
                }
                Some('{') => {
                    let mut name = String::new();
                    i += 1;
                    while let Some(&ch) = chars.get(i) {
                        if ch == '}' {
                            break;
                        }
                        name.push(ch);
                        i += 1;
                    }
                    if chars.get(i) != Some(&'}') {
                        return Err("java.lang.IllegalArgumentException: named capturing group is missing trailing '}'".into());
                    }
                    i += 1;
                    match caps.name(&name) {
                        Some(m) => out.push_str(m.as_str()),
                        None => {
                            if re.capture_names().flatten().any(|n| n == name) {
                                // group did not participate
                            } else {
                                return Err(format!(
                                    "java.lang.IllegalArgumentException: No group with name {{{name}}}"
                                ));
                            }
                        }
                    }
                }
                Some(&d) if d.is_ascii_digit() => {
                    let mut num = d as usize - '0' as usize;
                    i += 1;
                    if num > group_count {
                        return Err(format!(
                            "java.lang.IndexOutOfBoundsException: No group {num}"
                        ));
                    }
                    while let Some(&d2) = chars.get(i) {
                        if !d2.is_ascii_digit() {
                            break;
                        }
                        let n2 = num * 10 + (d2 as usize - '0' as usize);
                        if n2 > group_count {
                            break;
                        }
                        num = n2;
                        i += 1;
                    }
                    if let Some(m) = caps.get(num) {
                        out.push_str(m.as_str());
                    }
                }
                Some(_) => {
                    return Err(
                        "java.lang.IllegalArgumentException: Illegal group reference".into(),
                    );
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(())
}

/// Java `String.split(regex, limit)`.
fn java_split(r: &mut Renderer<'_>, s: &str, pat: &str, limit: i32) -> Result<Vec<String>, String> {
    let re = compile(r, pat)?;
    let mut list: Vec<String> = Vec::new();
    let mut index = 0usize;
    let mut matched_any = false;
    for m in re.find_iter(s) {
        if limit <= 0 || (list.len() as i64) < i64::from(limit) - 1 {
            if index == 0 && m.start() == 0 && m.start() == m.end() {
                continue;
            }
            matched_any = true;
            list.push(s.get(index..m.start()).unwrap_or("").to_string());
            index = m.end();
        } else {
            break;
        }
        if list.len() > 1_000_000 {
            return Err("java.lang.OutOfMemoryError".into());
        }
    }
    if !matched_any {
        return Ok(vec![s.to_string()]);
    }
    list.push(s.get(index..).unwrap_or("").to_string());
    if limit == 0 {
        while list.last().is_some_and(|x| x.is_empty()) {
            list.pop();
        }
    }
    Ok(list)
}

// keep `as_f64` referenced for numeric helpers used by other modules
#[allow(dead_code)]
fn _numeric(v: &Value) -> f64 {
    as_f64(v)
}
