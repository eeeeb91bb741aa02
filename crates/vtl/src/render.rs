//! The evaluator: renders a parsed template against a [`Context`] with the
//! semantics of Velocity 1.7's node classes (`ASTReference.render`,
//! `ASTSetDirective`, `Foreach`, `VelocimacroProxy`/`ProxyVMContext`, ...).

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::ast::*;
use crate::methods;
use crate::value::*;
use crate::{Context, Limits, NullRendering, RenderError};

/// Velocity's `velocimacro.max.depth` default.
pub(crate) const VELOCIMACRO_MAX_DEPTH: usize = 20;
/// Velocity's `directive.define.max.depth` default.
const DEFINE_MAX_DEPTH: u32 = 2;
/// Largest `[n..m]` list built outside `#foreach` (which iterates ranges
/// lazily).
const MAX_RANGE_LEN: u64 = 1_000_000;
/// Hard cap on evaluator recursion (protects the native stack).
const MAX_RECURSION: usize = 600;

/// Non-local exits: Velocity's `StopCommand` and errors.
pub(crate) enum Flow {
    Stop(StopTarget),
    Err(RenderError),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopTarget {
    /// `#break`: the nearest foreach / macro / define block / evaluate.
    Nearest,
    /// `#break($foreach)`: that loop.
    Scope(u64),
    /// `#stop`: the template (or the enclosing `#evaluate`).
    Top,
}

pub(crate) type R<T> = Result<T, Flow>;

impl From<RenderError> for Flow {
    fn from(e: RenderError) -> Flow {
        Flow::Err(e)
    }
}

/// Parsed template shared by renders.
pub(crate) struct Compiled {
    pub(crate) root: Block,
    pub(crate) macros: HashMap<Box<str>, Arc<MacroDef>>,
    /// Compiled Java regular expressions, shared by renders.
    pub(crate) regex_cache: std::sync::Mutex<HashMap<String, Arc<regex::Regex>>>,
}

enum ProxyArg {
    Expr(Arc<Expr>),
}

#[derive(Default)]
struct Frame {
    locals: HashMap<Rc<str>, Value, crate::FxBuild>,
    proxies: HashMap<Rc<str>, ProxyArg, crate::FxBuild>,
    literals: HashMap<String, Rc<str>, crate::FxBuild>,
}

pub(crate) struct Renderer<'a> {
    compiled: &'a Compiled,
    extra_macros: HashMap<Box<str>, Arc<MacroDef>>,
    ctx: &'a mut Context,
    limits: &'a Limits,
    pub(crate) out: String,
    steps: u64,
    depth: usize,
    nested: usize,
    frames: Vec<Frame>,
    /// Number of frames visible to variable lookups (less than
    /// `frames.len()` while a macro argument is evaluated in its caller's
    /// context).
    level: usize,
    next_scope_id: u64,
    null_empty: bool,
    pos: (u32, u32),
    /// Argument lists of finished method calls, kept for the next call's arguments.
    arg_lists: Vec<Vec<Value>>,
}

pub(crate) fn render(
    compiled: &Compiled,
    ctx: &mut Context,
    limits: &Limits,
) -> Result<String, RenderError> {
    let null_empty = ctx.null_rendering == NullRendering::Empty;
    let mut r = Renderer {
        compiled,
        extra_macros: HashMap::new(),
        ctx,
        limits,
        out: String::with_capacity(1024),
        steps: 0,
        depth: 0,
        nested: 0,
        frames: Vec::new(),
        level: 0,
        next_scope_id: 1,
        null_empty,
        pos: (1, 1),
        arg_lists: Vec::new(),
    };
    match r.render_block(&compiled.root) {
        Ok(()) | Err(Flow::Stop(_)) => Ok(std::mem::take(&mut r.out)),
        Err(Flow::Err(e)) => Err(e),
    }
}

fn method_err(line: u32, column: u32, message: String) -> Flow {
    Flow::Err(RenderError::Method {
        line,
        column,
        message,
    })
}

impl<'a> Renderer<'a> {
    // ----- accounting ------------------------------------------------------------

    pub(crate) fn step(&mut self, n: u64) -> R<()> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.max_steps {
            return Err(Flow::Err(RenderError::Steps {
                limit: self.limits.max_steps,
            }));
        }
        Ok(())
    }

    /// Refuses to put a collection into itself (Java allows it; here it
    /// would leak the reference-counted cycle) and charges the check.
    pub(crate) fn check_insert(&mut self, container: &Value, value: &Value) -> R<()> {
        if !matches!(value, Value::List(_) | Value::Map(_) | Value::Object(_)) {
            return Ok(());
        }
        // a scope's storage is a map too
        let container = match as_builtin(container) {
            Some(BuiltinKind::Scope(sc)) => Value::Map(sc.storage.clone()),
            _ => container.clone(),
        };
        match would_cycle(&container, value, 100_000) {
            Ok((false, visited)) => self.step(visited as u64),
            Ok((true, _)) => Err(Flow::Err(RenderError::Runtime {
                line: self.pos.0,
                column: self.pos.1,
                message:
                    "a collection cannot be added to itself (reference cycles are not supported)"
                        .into(),
            })),
            Err(visited) => {
                self.step(visited as u64)?;
                Err(Flow::Err(RenderError::Runtime {
                    line: self.pos.0,
                    column: self.pos.1,
                    message: "value too large to insert into a collection".into(),
                }))
            }
        }
    }

    /// Charges for creating a string of `len` bytes.
    pub(crate) fn charge_bytes(&mut self, len: usize) -> R<()> {
        if len > self.limits.max_output_bytes.saturating_mul(4).max(1 << 20) {
            return Err(Flow::Err(RenderError::OutputSize {
                limit: self.limits.max_output_bytes,
            }));
        }
        self.step(1 + (len / 16) as u64)
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_RECURSION {
            return Err(Flow::Err(RenderError::Depth {
                limit: MAX_RECURSION,
                message: "evaluation nested too deeply".into(),
            }));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn write(&mut self, s: &str) -> R<()> {
        if self.out.len() + s.len() > self.limits.max_output_bytes {
            return Err(Flow::Err(RenderError::OutputSize {
                limit: self.limits.max_output_bytes,
            }));
        }
        self.out.push_str(s);
        Ok(())
    }

    pub(crate) fn cached_regex(&self, pat: &str) -> Option<Arc<regex::Regex>> {
        self.compiled.regex_cache.lock().ok()?.get(pat).cloned()
    }

    pub(crate) fn cache_regex(&self, pat: &str, re: Arc<regex::Regex>) {
        if let Ok(mut c) = self.compiled.regex_cache.lock()
            && c.len() < 64
        {
            c.insert(pat.to_string(), re);
        }
    }

    pub(crate) fn position(&self) -> (u32, u32) {
        self.pos
    }

    // ----- context --------------------------------------------------------------------

    fn lookup(&mut self, name: &str) -> R<Value> {
        self.lookup_at(name, self.level)
    }

    fn lookup_at(&mut self, name: &str, level: usize) -> R<Value> {
        let mut l = level;
        while l > 0 {
            let Some(f) = self.frames.get(l - 1) else {
                break;
            };
            if let Some(v) = f.locals.get(name)
                && !v.is_null()
            {
                return Ok(v.clone());
            }
            if let Some(ProxyArg::Expr(e)) = f.proxies.get(name) {
                let e = e.clone();
                let saved = self.level;
                self.level = l - 1;
                let r = self.proxy_value(&e);
                self.level = saved;
                return r;
            }
            l -= 1;
        }
        Ok(self.ctx.vars.get(name).cloned().unwrap_or(Value::Null))
    }

    /// `ProxyVMContext.get` for a non-constant macro argument.
    fn proxy_value(&mut self, e: &Expr) -> R<Value> {
        match e {
            Expr::Ref(r) if r.parts.is_empty() => {
                if r.kind == RefKind::Runt {
                    return Ok(Value::Null);
                }
                let root = r.root.clone();
                self.lookup(&root)
            }
            Expr::Ref(r) => self.exec_ref(r),
            _ => self.eval(e),
        }
    }

    fn put(&mut self, key: &str, value: Value) {
        if self.level > 0 {
            let k: Rc<str> = Rc::from(key);
            for f in self.frames.iter_mut().take(self.level) {
                f.locals.insert(k.clone(), value.clone());
            }
        }
        match self.ctx.vars.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                self.ctx.vars.insert(key.to_string().into(), value);
            }
        }
    }

    fn remove(&mut self, key: &str) {
        for f in self.frames.iter_mut().take(self.level) {
            f.locals.remove(key);
            f.proxies.remove(key);
        }
        self.ctx.vars.shift_remove(key);
    }

    /// `ASTReference.getNullString`: inside a macro, a null `$arg` prints the
    /// caller's argument text.
    fn null_string(&self, r: &Reference) -> Rc<str> {
        let mut l = self.level;
        while l > 0 {
            if let Some(f) = self.frames.get(l - 1)
                && let Some(s) = f.literals.get(&*r.null_string)
            {
                return s.clone();
            }
            l -= 1;
        }
        Rc::from(&*r.null_string)
    }

    // ----- rendering ---------------------------------------------------------------------

    pub(crate) fn render_block(&mut self, b: &Block) -> R<()> {
        self.enter()?;
        let mut res = Ok(());
        for n in &b.nodes {
            res = self.render_node(n);
            if res.is_err() {
                break;
            }
        }
        self.leave();
        res
    }

    fn render_node(&mut self, n: &Node) -> R<()> {
        self.step(1)?;
        match n {
            Node::Text(t) => self.write(t),
            Node::Ref(r) => self.render_ref(r),
            Node::If(i) => {
                for (cond, block) in &i.branches {
                    if self.truthy(cond)? {
                        return self.render_block(block);
                    }
                }
                if let Some(b) = &i.else_block {
                    return self.render_block(b);
                }
                Ok(())
            }
            Node::Set(s) => self.set(s),
            Node::Directive(d) => self.directive(d),
        }
    }

    fn render_ref(&mut self, r: &Reference) -> R<()> {
        self.pos = (r.line, r.col);
        if r.kind == RefKind::Runt {
            return self.write(&r.root);
        }
        let value = self.exec_ref(r)?;
        if r.escaped {
            let ns = self.null_string(r);
            self.write(&r.esc_prefix)?;
            if value.is_null() {
                self.write("\\")?;
            }
            return self.write(&ns);
        }
        let value = if value.is_null() && self.null_empty {
            Value::string("")
        } else {
            value
        };
        if !value.is_null() {
            if let Some(BuiltinKind::Define(d)) = as_builtin(&value) {
                let block = d.block.clone();
                if self.render_define(&value, &block, true)? {
                    return Ok(());
                }
                // toString(): renders again (into a string), may give null
                if let Some(s) = self.define_to_string(&value)? {
                    self.write(&r.esc_prefix)?;
                    self.write(&r.more_prefix)?;
                    return self.write(&s);
                }
            } else {
                self.write(&r.esc_prefix)?;
                self.write(&r.more_prefix)?;
                return match &value {
                    Value::String(s) => self.write(s),
                    other => {
                        let s = other.render();
                        self.write(&s)
                    }
                };
            }
        }
        let ns = self.null_string(r);
        self.write(&r.esc_prefix)?;
        self.write(&r.esc_prefix)?;
        self.write(&r.more_prefix)?;
        self.write(&ns)
    }

    /// `Block.Reference.render`: false when the recursion limit is reached.
    fn render_define(&mut self, value: &Value, block: &Arc<Block>, _direct: bool) -> R<bool> {
        let Some(BuiltinKind::Define(d)) = as_builtin(value) else {
            return Ok(false);
        };
        let depth = d.depth.get() + 1;
        if depth > DEFINE_MAX_DEPTH {
            return Ok(false);
        }
        d.depth.set(depth);
        self.nested_enter()?;
        let r = self.render_block(block);
        self.nested -= 1;
        if let Some(BuiltinKind::Define(d)) = as_builtin(value) {
            d.depth.set(d.depth.get().saturating_sub(1));
        }
        match r {
            Ok(()) | Err(Flow::Stop(StopTarget::Nearest)) => Ok(true),
            Err(e) => Err(e),
        }
    }

    fn nested_enter(&mut self) -> R<()> {
        self.nested += 1;
        if self.nested > self.limits.max_depth {
            self.nested -= 1;
            return Err(Flow::Err(RenderError::Depth {
                limit: self.limits.max_depth,
                message: "macro / #define / #evaluate nesting too deep".into(),
            }));
        }
        Ok(())
    }

    fn define_to_string(&mut self, value: &Value) -> R<Option<String>> {
        let Some(BuiltinKind::Define(d)) = as_builtin(value) else {
            return Ok(Some(value.render()));
        };
        let block = d.block.clone();
        let saved = std::mem::take(&mut self.out);
        let r = self.render_define(value, &block, false);
        let s = std::mem::replace(&mut self.out, saved);
        Ok(if r? { Some(s) } else { None })
    }

    /// Java `toString()` of a value (null when a `#define` block cannot render).
    pub(crate) fn java_to_string(&mut self, v: &Value) -> R<Option<String>> {
        match as_builtin(v) {
            Some(BuiltinKind::Define(_)) => self.define_to_string(v),
            _ => Ok(Some(v.render())),
        }
    }

    /// Renders a sub-template into a string (string interpolation).
    fn render_to_string(&mut self, b: &Block) -> R<String> {
        let saved = std::mem::take(&mut self.out);
        let r = self.render_block(b);
        let s = std::mem::replace(&mut self.out, saved);
        match r {
            Ok(()) => Ok(s),
            Err(e) => Err(e),
        }
    }

    // ----- references ----------------------------------------------------------------

    pub(crate) fn exec_ref(&mut self, r: &Reference) -> R<Value> {
        if r.kind == RefKind::Runt {
            return Ok(Value::Null);
        }
        self.enter()?;
        let res = self.exec_ref_inner(r);
        self.leave();
        res
    }

    fn exec_ref_inner(&mut self, r: &Reference) -> R<Value> {
        let mut v = self.lookup(&r.root)?;
        for part in &r.parts {
            if v.is_null() {
                return Ok(Value::Null);
            }
            self.step(1)?;
            self.pos = (r.line, r.col);
            v = match part {
                RefPart::Prop(name) => methods::get_property(self, &v, name)?,
                RefPart::Method(name, args) => {
                    let mut vals = self.arg_lists.pop().unwrap_or_default();
                    for a in args {
                        vals.push(self.eval(a)?);
                    }
                    self.pos = (r.line, r.col);
                    let called = methods::call_method(self, &v, name, &vals);
                    vals.clear();
                    self.arg_lists.push(vals);
                    match called? {
                        Ok(v) => v,
                        Err(msg) => {
                            return Err(method_err(
                                r.line,
                                r.col,
                                format!(
                                    "Invocation of method '{name}' in {} threw exception {msg}",
                                    class_label(&v)
                                ),
                            ));
                        }
                    }
                }
                RefPart::Index(e) => {
                    let idx = self.eval(e)?;
                    self.pos = (r.line, r.col);
                    match methods::index_get(self, &v, &idx)? {
                        Ok(v) => v,
                        Err(msg) => return Err(method_err(r.line, r.col, msg)),
                    }
                }
            };
        }
        Ok(v)
    }

    // ----- expressions ---------------------------------------------------------------------

    pub(crate) fn eval(&mut self, e: &Expr) -> R<Value> {
        self.enter()?;
        let r = self.eval_inner(e);
        self.leave();
        r
    }

    fn eval_inner(&mut self, e: &Expr) -> R<Value> {
        self.step(1)?;
        match e {
            Expr::Ref(r) => {
                if !r.computable {
                    return Ok(Value::Null);
                }
                self.exec_ref(r)
            }
            Expr::Str(s) => match &s.tree {
                None => Ok(Value::String(Rc::from(&*s.text))),
                Some(tree) => {
                    let mut out = self.render_to_string(tree)?;
                    if s.strip_last && !out.is_empty() {
                        out.pop();
                    }
                    self.charge_bytes(out.len())?;
                    Ok(Value::from(out))
                }
            },
            Expr::Int(i) => Ok(Value::Int(*i)),
            Expr::Float(f) => Ok(Value::Float(*f)),
            Expr::Bool(b) => Ok(Value::Bool(*b)),
            Expr::BigNumber(s) => Err(Flow::Err(RenderError::Runtime {
                line: self.pos.0,
                column: self.pos.1,
                message: format!(
                    "number literal {s} needs BigInteger/BigDecimal, which is not supported"
                ),
            })),
            Expr::Word => Ok(Value::Null),
            Expr::Range(a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                match (range_bound(&a), range_bound(&b)) {
                    (Some(l), Some(r)) => {
                        let n = (i64::from(l) - i64::from(r)).unsigned_abs() + 1;
                        if n > MAX_RANGE_LEN {
                            return Err(Flow::Err(RenderError::Runtime {
                                line: self.pos.0,
                                column: self.pos.1,
                                message: format!(
                                    "range [{l}..{r}] has more than {MAX_RANGE_LEN} elements"
                                ),
                            }));
                        }
                        self.step(n)?;
                        let step: i32 = if l >= r { -1 } else { 1 };
                        let mut items = Vec::with_capacity(n as usize);
                        let mut x = l;
                        for _ in 0..n {
                            items.push(Value::Int(i64::from(x)));
                            x = x.wrapping_add(step);
                        }
                        Ok(Value::List(List::new(items)))
                    }
                    _ => Ok(Value::Null),
                }
            }
            Expr::List(items) => {
                let mut v = Vec::with_capacity(items.len());
                for it in items {
                    v.push(self.eval(it)?);
                }
                Ok(Value::List(List::new(v)))
            }
            Expr::Map(entries) => {
                let mut m = crate::value::entries_with_capacity(entries.len());
                for (k, v) in entries {
                    let key = self.eval(k)?;
                    let val = self.eval(v)?;
                    if let Some(slot) = m.get_mut(&MapKey(key.clone())) {
                        *slot = val;
                    } else {
                        m.insert(MapKey(key), val);
                    }
                }
                Ok(Value::Map(Map::from_entries(m, false)))
            }
            Expr::Not(inner) => Ok(Value::Bool(!self.truthy(inner)?)),
            Expr::Binary(op, l, r, lits) => match op {
                BinOp::And
                | BinOp::Or
                | BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Gt
                | BinOp::Le
                | BinOp::Ge => Ok(Value::Bool(self.truthy(e)?)),
                _ => {
                    let lv = self.eval(l)?;
                    let rv = self.eval(r)?;
                    self.math(*op, lv, rv, lits)
                }
            },
        }
    }

    fn math(&mut self, op: BinOp, lv: Value, rv: Value, lits: &[Box<str>; 2]) -> R<Value> {
        if op == BinOp::Add && (matches!(lv, Value::String(_)) || matches!(rv, Value::String(_))) {
            let ls = if lv.is_null() {
                Some(lits[0].to_string())
            } else {
                self.java_to_string(&lv)?
            };
            let rs = if rv.is_null() {
                Some(lits[1].to_string())
            } else {
                self.java_to_string(&rv)?
            };
            let (Some(ls), Some(rs)) = (ls, rs) else {
                return Err(Flow::Err(RenderError::Runtime {
                    line: self.pos.0,
                    column: self.pos.1,
                    message: "NullPointerException in string concatenation".into(),
                }));
            };
            self.charge_bytes(ls.len() + rs.len())?;
            let mut s = ls;
            s.push_str(&rs);
            return Ok(Value::from(s));
        }
        match (&lv, &rv) {
            (Value::Int(a), Value::Int(b)) => {
                let (a, b) = (*a, *b);
                let r = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::Div => {
                        if b == 0 {
                            return Ok(Value::Null);
                        }
                        Some(a.wrapping_div(b))
                    }
                    _ => {
                        if b == 0 {
                            return Ok(Value::Null);
                        }
                        Some(a.wrapping_rem(b))
                    }
                };
                match r {
                    Some(v) => Ok(Value::Int(v)),
                    None => Err(Flow::Err(RenderError::Runtime {
                        line: self.pos.0,
                        column: self.pos.1,
                        message: "integer overflow: Velocity would switch to BigInteger, which is not supported".into(),
                    })),
                }
            }
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                let a = as_f64(&lv);
                let b = as_f64(&rv);
                let r = match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => {
                        if b == 0.0 {
                            return Ok(Value::Null);
                        }
                        a / b
                    }
                    _ => {
                        if b == 0.0 {
                            return Ok(Value::Null);
                        }
                        a % b
                    }
                };
                Ok(Value::Float(r))
            }
            _ => Ok(Value::Null),
        }
    }

    /// Velocity's `Node.evaluate()` (the truth of a condition).
    pub(crate) fn truthy(&mut self, e: &Expr) -> R<bool> {
        self.enter()?;
        let r = self.truthy_inner(e);
        self.leave();
        r
    }

    fn truthy_inner(&mut self, e: &Expr) -> R<bool> {
        self.step(1)?;
        match e {
            Expr::Ref(r) => {
                let v = self.exec_ref(r)?;
                match v {
                    Value::Null => Ok(false),
                    Value::Bool(b) => Ok(b),
                    other => Ok(self.java_to_string(&other)?.is_some()),
                }
            }
            Expr::Bool(b) => Ok(*b),
            Expr::Not(inner) => Ok(!self.truthy(inner)?),
            Expr::Binary(op, l, r, _) => match op {
                BinOp::And => Ok(self.truthy(l)? && self.truthy(r)?),
                BinOp::Or => Ok(self.truthy(l)? || self.truthy(r)?),
                BinOp::Eq | BinOp::Ne => {
                    let lv = self.eval(l)?;
                    let rv = self.eval(r)?;
                    let eq = self.velocity_equals(&lv, &rv)?;
                    Ok(if *op == BinOp::Eq { eq } else { !eq })
                }
                BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                    let lv = self.eval(l)?;
                    let rv = self.eval(r)?;
                    match compare_numbers(&lv, &rv) {
                        Some(c) => Ok(match op {
                            BinOp::Lt => c == std::cmp::Ordering::Less,
                            BinOp::Gt => c == std::cmp::Ordering::Greater,
                            BinOp::Le => c != std::cmp::Ordering::Greater,
                            _ => c != std::cmp::Ordering::Less,
                        }),
                        None => Ok(false),
                    }
                }
                _ => Ok(false),
            },
            _ => Ok(false),
        }
    }

    /// `ASTEQNode.evaluate`, plus API Gateway's rule in
    /// [`NullRendering::Empty`] mode: null equals the empty string.
    fn velocity_equals(&mut self, l: &Value, r: &Value) -> R<bool> {
        if is_number(l) && is_number(r) {
            return Ok(compare_numbers(l, r) == Some(std::cmp::Ordering::Equal));
        }
        if same_class_family(l, r) {
            return Ok(java_equals(l, r, 0));
        }
        let ls = if l.is_null() {
            None
        } else {
            self.java_to_string(l)?
        };
        let rs = if r.is_null() {
            None
        } else {
            self.java_to_string(r)?
        };
        Ok(match (ls, rs) {
            (None, None) => true,
            (Some(a), Some(b)) => a == b,
            // Velocity 1.7: null never equals a non-null value. API Gateway
            // (recorded: `$input.path` of a missing path is both `== $null`
            // and `== ""`) treats null and "" as equal.
            (None, Some(s)) | (Some(s), None) => self.null_empty && s.is_empty(),
        })
    }

    // ----- #set ------------------------------------------------------------------------

    fn set(&mut self, s: &SetNode) -> R<()> {
        self.pos = (s.lhs.line, s.lhs.col);
        let value = self.eval(&s.rhs)?;
        if value.is_null() {
            // directive.set.null.allowed = false: the context is not modified
            return Ok(());
        }
        if s.lhs.parts.is_empty() {
            self.put(&s.key, value);
            return Ok(());
        }
        let mut target = self.lookup(&s.lhs.root)?;
        let n = s.lhs.parts.len();
        for part in s.lhs.parts.iter().take(n - 1) {
            if target.is_null() {
                return Ok(());
            }
            target = match part {
                RefPart::Prop(name) => methods::get_property(self, &target, name)?,
                RefPart::Method(name, args) => {
                    let mut vals = Vec::with_capacity(args.len());
                    for a in args {
                        vals.push(self.eval(a)?);
                    }
                    match methods::call_method(self, &target, name, &vals)? {
                        Ok(v) => v,
                        Err(msg) => {
                            return Err(method_err(
                                s.lhs.line,
                                s.lhs.col,
                                format!("Invocation of method '{name}' threw exception {msg}"),
                            ));
                        }
                    }
                }
                RefPart::Index(e) => {
                    let idx = self.eval(e)?;
                    match methods::index_get(self, &target, &idx)? {
                        Ok(v) => v,
                        Err(msg) => return Err(method_err(s.lhs.line, s.lhs.col, msg)),
                    }
                }
            };
        }
        if target.is_null() {
            return Ok(());
        }
        self.check_insert(&target, &value)?;
        match s.lhs.parts.last() {
            Some(RefPart::Prop(name)) | Some(RefPart::Method(name, _)) => {
                methods::set_property(&target, name, value);
                Ok(())
            }
            Some(RefPart::Index(e)) => {
                let idx = self.eval(e)?;
                match methods::index_set(&target, &idx, value) {
                    Ok(()) => Ok(()),
                    Err(msg) => Err(method_err(s.lhs.line, s.lhs.col, msg)),
                }
            }
            None => Ok(()),
        }
    }

    // ----- directives ----------------------------------------------------------------

    fn directive(&mut self, d: &DirectiveNode) -> R<()> {
        self.pos = (d.line, d.col);
        match d.kind {
            DirKind::Foreach => self.foreach(d),
            DirKind::Define => {
                let key = d
                    .args
                    .first()
                    .map(|a| a.first_image.get(1..).unwrap_or("").to_string())
                    .unwrap_or_default();
                if let Some(b) = &d.block {
                    let v = builtin_value(BuiltinKind::Define(DefineData {
                        block: b.clone(),
                        depth: std::cell::Cell::new(0),
                    }));
                    self.put(&key, v);
                }
                Ok(())
            }
            DirKind::Break => match d.args.first() {
                None => Err(Flow::Stop(StopTarget::Nearest)),
                Some(a) => {
                    let v = self.eval(&a.expr)?;
                    match as_builtin(&v) {
                        Some(BuiltinKind::Scope(s)) => Err(Flow::Stop(StopTarget::Scope(s.id))),
                        _ => Err(Flow::Err(RenderError::Runtime {
                            line: d.line,
                            column: d.col,
                            message: format!(
                                "{} is not a valid org.apache.velocity.runtime.directive.Scope instance",
                                a.literal
                            ),
                        })),
                    }
                }
            },
            DirKind::Stop => {
                if let Some(a) = d.args.first() {
                    self.eval(&a.expr)?;
                }
                Err(Flow::Stop(StopTarget::Top))
            }
            DirKind::Literal => self.write(&d.body_literal),
            DirKind::Evaluate => self.evaluate(d),
            DirKind::Include | DirKind::Parse => {
                let mut name = String::new();
                if let Some(a) = d.args.first() {
                    name = self.eval(&a.expr)?.render();
                }
                Err(Flow::Err(RenderError::Runtime {
                    line: d.line,
                    column: d.col,
                    message: format!("#{}: unable to find resource '{name}'", d.name),
                }))
            }
            DirKind::MacroCall | DirKind::BlockMacroCall => self.macro_call(d),
            DirKind::Plain => {
                self.write("#")?;
                self.write(&d.name)
            }
            DirKind::Macro => Ok(()),
        }
    }

    fn find_macro(&self, name: &str) -> Option<Arc<MacroDef>> {
        self.compiled
            .macros
            .get(name)
            .or_else(|| self.extra_macros.get(name))
            .cloned()
    }

    fn macro_call(&mut self, d: &DirectiveNode) -> R<()> {
        let name = if d.kind == DirKind::BlockMacroCall {
            d.name.get(1..).unwrap_or("")
        } else {
            &d.name
        };
        let Some(m) = self.find_macro(name) else {
            return self.write(&d.literal);
        };
        if let Some(a) = d.args.iter().find(|a| a.is_word) {
            return Err(Flow::Err(RenderError::Runtime {
                line: d.line,
                column: d.col,
                message: format!("Invalid arg '{}' in macro #{name}", a.first_image),
            }));
        }
        if self.frames.len() >= VELOCIMACRO_MAX_DEPTH {
            return Err(Flow::Err(RenderError::Depth {
                limit: VELOCIMACRO_MAX_DEPTH,
                message: format!(
                    "Max calling depth of {VELOCIMACRO_MAX_DEPTH} was exceeded in macro '{name}'"
                ),
            }));
        }
        let mut frame = Frame::default();
        for (param, arg) in m.params.iter().zip(d.args.iter()) {
            let key: Rc<str> = Rc::from(&**param);
            if arg.constant {
                let v = self.eval(&arg.expr)?;
                frame.locals.insert(key, v);
            } else {
                frame.proxies.insert(key, ProxyArg::Expr(arg.expr.clone()));
                frame
                    .literals
                    .insert(format!("${param}"), Rc::from(&*arg.literal));
            }
        }
        if let (DirKind::BlockMacroCall, Some(b)) = (&d.kind, &d.block) {
            let v = builtin_value(BuiltinKind::Define(DefineData {
                block: b.clone(),
                depth: std::cell::Cell::new(0),
            }));
            frame.locals.insert(Rc::from("bodyContent"), v);
        }
        self.nested_enter()?;
        // frames visible to the body: the caller's plus the new one
        let saved_level = self.level;
        self.frames.truncate(self.level);
        self.frames.push(frame);
        self.level = self.frames.len();
        let r = self.render_block(&m.body);
        self.frames.pop();
        self.level = saved_level;
        self.nested -= 1;
        match r {
            Ok(()) | Err(Flow::Stop(StopTarget::Nearest)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn evaluate(&mut self, d: &DirectiveNode) -> R<()> {
        let Some(a) = d.args.first() else {
            return Ok(());
        };
        let v = self.eval(&a.expr)?;
        let src = if v.is_null() {
            String::new()
        } else {
            self.java_to_string(&v)?.unwrap_or_default()
        };
        self.charge_bytes(src.len())?;
        let parsed = crate::parser::parse_nested(&src, 0, None).map_err(|e| {
            Flow::Err(RenderError::Runtime {
                line: d.line,
                column: d.col,
                message: format!("#evaluate: {e}"),
            })
        })?;
        for m in parsed.macros {
            let def = Arc::new(m);
            if self.compiled.macros.contains_key(&def.name) {
                continue;
            }
            self.extra_macros.entry(def.name.clone()).or_insert(def);
        }
        self.nested_enter()?;
        let r = self.render_block(&parsed.root);
        self.nested -= 1;
        match r {
            Ok(()) | Err(Flow::Stop(StopTarget::Nearest)) | Err(Flow::Stop(StopTarget::Top)) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn foreach(&mut self, d: &DirectiveNode) -> R<()> {
        let args = &d.args;
        let elem_key: String = match args.first() {
            Some(a) => match &*a.expr {
                Expr::Ref(r) => r.root.to_string(),
                _ => a.first_image.get(1..).unwrap_or("").to_string(),
            },
            None => String::new(),
        };
        // children = args + [block]; child(2) is the iterable, child(3) the body
        let iterable_expr: Option<&Expr> = match args.len() {
            0 | 1 => {
                return Err(Flow::Err(RenderError::Runtime {
                    line: d.line,
                    column: d.col,
                    message: "#foreach: ArrayIndexOutOfBoundsException (missing arguments)".into(),
                }));
            }
            2 => None,
            _ => args.get(2).map(|a| &*a.expr),
        };
        let Some(iter_expr) = iterable_expr else {
            return Ok(()); // the block's value is null
        };
        enum Body<'b> {
            Block(&'b Block),
            Ref(&'b Reference),
            Nothing,
        }
        let body = match args.get(3) {
            None => match &d.block {
                Some(b) => Body::Block(b),
                None => Body::Nothing,
            },
            Some(a) => match &*a.expr {
                Expr::Ref(r) => Body::Ref(r),
                _ => Body::Nothing,
            },
        };

        // the sequence: lazily for ranges, otherwise a live list/map
        enum Seq {
            Range {
                next: i64,
                last: i64,
                step: i64,
                done: bool,
            },
            List {
                list: List,
                cursor: usize,
                mods: u64,
                source_mods: u64,
            },
            MapValues {
                map: Map,
                cursor: usize,
                mods: u64,
            },
            Vec {
                items: Vec<Value>,
                cursor: usize,
            },
        }
        let mut seq = match iter_expr {
            Expr::Range(a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                match (range_bound(&a), range_bound(&b)) {
                    (Some(l), Some(r)) => Seq::Range {
                        next: i64::from(l),
                        last: i64::from(r),
                        step: if l >= r { -1 } else { 1 },
                        done: false,
                    },
                    _ => return Ok(()),
                }
            }
            other => {
                let v = self.eval(other)?;
                match v {
                    Value::List(l) => {
                        let mods = l.mods();
                        let source_mods = l.source().map(|m| m.mods()).unwrap_or(0);
                        Seq::List {
                            list: l,
                            cursor: 0,
                            mods,
                            source_mods,
                        }
                    }
                    Value::Map(m) => {
                        let mods = m.mods();
                        Seq::MapValues {
                            map: m,
                            cursor: 0,
                            mods,
                        }
                    }
                    Value::Object(o) => match o.iterate() {
                        Some(items) => Seq::Vec { items, cursor: 0 },
                        None => return Ok(()),
                    },
                    _ => return Ok(()),
                }
            }
        };
        fn has_next(seq: &Seq) -> bool {
            match seq {
                Seq::Range { done, .. } => !*done,
                Seq::List { list, cursor, .. } => *cursor != list.len(),
                Seq::MapValues { map, cursor, .. } => *cursor < map.len(),
                Seq::Vec { items, cursor } => *cursor < items.len(),
            }
        }
        fn next(seq: &mut Seq) -> Result<Value, &'static str> {
            match seq {
                Seq::Range {
                    next,
                    last,
                    step,
                    done,
                } => {
                    let v = *next;
                    if v == *last {
                        *done = true;
                    } else {
                        *next += *step;
                    }
                    Ok(Value::Int(v))
                }
                Seq::List {
                    list,
                    cursor,
                    mods,
                    source_mods,
                } => {
                    if list.mods() != *mods
                        || list.source().is_some_and(|m| m.mods() != *source_mods)
                    {
                        return Err("java.util.ConcurrentModificationException");
                    }
                    let v = list
                        .get(*cursor)
                        .ok_or("java.util.NoSuchElementException")?;
                    *cursor += 1;
                    Ok(v)
                }
                Seq::MapValues { map, cursor, mods } => {
                    if map.mods() != *mods {
                        return Err("java.util.ConcurrentModificationException");
                    }
                    let v = map
                        .value_at(*cursor)
                        .ok_or("java.util.NoSuchElementException")?;
                    *cursor += 1;
                    Ok(v)
                }
                Seq::Vec { items, cursor } => {
                    let v = items.get(*cursor).cloned().unwrap_or_default();
                    *cursor += 1;
                    Ok(v)
                }
            }
        }

        let saved_elem = self.lookup(&elem_key)?;
        let saved_count = self.lookup("velocityCount")?;
        let saved_has_next = self.lookup("velocityHasNext")?;
        let previous_scope = self.lookup("foreach")?;
        let scope_id = self.next_scope_id;
        self.next_scope_id += 1;
        let (parent, replaced): (Option<Value>, Option<Value>) = match as_builtin(&previous_scope) {
            Some(BuiltinKind::Scope(_)) => (Some(previous_scope.clone()), None),
            _ => (
                None,
                if previous_scope.is_null() {
                    None
                } else {
                    Some(previous_scope.clone())
                },
            ),
        };
        let scope = builtin_value(BuiltinKind::Scope(ScopeData {
            id: scope_id,
            index: std::cell::Cell::new(-1),
            has_next: std::cell::Cell::new(false),
            parent,
            replaced,
            storage: Map::new(),
        }));
        self.put("foreach", scope.clone());

        let mut counter: i64 = 1;
        let mut iterations: usize = 0;
        let mut result: R<()> = Ok(());
        while has_next(&seq) {
            if iterations >= self.limits.max_foreach_iterations {
                result = Err(Flow::Err(RenderError::ForeachIterations {
                    line: d.line,
                    column: d.col,
                    limit: self.limits.max_foreach_iterations,
                }));
                break;
            }
            iterations += 1;
            if let Err(e) = self.step(1) {
                result = Err(e);
                break;
            }
            self.put("velocityCount", Value::Int(counter));
            let value = match next(&mut seq) {
                Ok(v) => v,
                Err(ex) => {
                    result = Err(Flow::Err(RenderError::Runtime {
                        line: d.line,
                        column: d.col,
                        message: format!("#foreach: {ex}"),
                    }));
                    break;
                }
            };
            let hn = has_next(&seq);
            self.put("velocityHasNext", Value::Bool(hn));
            self.put(&elem_key, value);
            if let Some(BuiltinKind::Scope(s)) = as_builtin(&scope) {
                s.index.set(s.index.get() + 1);
                s.has_next.set(hn);
            }
            let r = match &body {
                Body::Block(b) => self.render_block(b),
                Body::Ref(r) => self.render_ref(r),
                Body::Nothing => Ok(()),
            };
            match r {
                Ok(()) => {}
                Err(Flow::Stop(StopTarget::Nearest)) => break,
                Err(Flow::Stop(StopTarget::Scope(id))) if id == scope_id => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
            counter += 1;
        }
        // clean()
        if saved_elem.is_null() {
            self.remove(&elem_key);
        } else {
            self.put(&elem_key, saved_elem);
        }
        if saved_count.is_null() {
            self.remove("velocityCount");
        } else {
            self.put("velocityCount", saved_count);
        }
        if saved_has_next.is_null() {
            self.remove("velocityHasNext");
        } else {
            self.put("velocityHasNext", saved_has_next);
        }
        // postRender(): restore $foreach
        let current = self.lookup("foreach")?;
        if let Some(BuiltinKind::Scope(sc)) = as_builtin(&current) {
            if let Some(p) = sc.parent.clone() {
                self.put("foreach", p);
            } else if let Some(r) = sc.replaced.clone() {
                self.put("foreach", r);
            } else {
                self.remove("foreach");
            }
        }
        result
    }
}

fn class_label(v: &Value) -> String {
    format!("class {}", v.type_name())
}

pub(crate) fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

pub(crate) fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// `MathUtils.compare`; `None` when either side is not a number.
pub(crate) fn compare_numbers(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let (x, y) = (as_f64(a), as_f64(b));
            Some(if x < y {
                Ordering::Less
            } else if x > y {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        _ => None,
    }
}

fn same_class_family(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(_), Value::Bool(_))
        | (Value::String(_), Value::String(_))
        | (Value::Map(_), Value::Map(_)) => true,
        (Value::List(x), Value::List(y)) => {
            (x.style() == ListStyle::StringArray) == (y.style() == ListStyle::StringArray)
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// `Number.intValue()` of a range bound; `None` when not a number.
fn range_bound(v: &Value) -> Option<i32> {
    match v {
        Value::Int(i) => Some(*i as i32),
        Value::Float(f) => Some(java_d2i(*f)),
        _ => None,
    }
}

/// Java `(int) double`.
pub(crate) fn java_d2i(f: f64) -> i32 {
    if f.is_nan() {
        0
    } else if f >= i32::MAX as f64 {
        i32::MAX
    } else if f <= i32::MIN as f64 {
        i32::MIN
    } else {
        f as i32
    }
}
