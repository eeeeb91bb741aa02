//! Syntax tree produced by the parser. Everything Velocity computes at
//! `init()` time (reference roots and literals, escape handling, text of
//! comments, string-literal sub-templates) is computed once here.

#[derive(Debug, Default, Clone)]
pub(crate) struct Block {
    pub(crate) nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Static output (text, escapes, text blocks, comment prefixes).
    Text(String),
    Ref(Box<Reference>),
    If(Box<IfNode>),
    Set(Box<SetNode>),
    Directive(Box<DirectiveNode>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    /// Velocity leaves the type unset for the `$\!foo` form.
    Unset,
    Normal,
    Formal,
    Quiet,
    Runt,
}

#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) kind: RefKind,
    pub(crate) root: Box<str>,
    pub(crate) escaped: bool,
    pub(crate) esc_prefix: Box<str>,
    pub(crate) more_prefix: Box<str>,
    pub(crate) null_string: Box<str>,
    pub(crate) computable: bool,
    pub(crate) literal: Box<str>,
    pub(crate) parts: Vec<RefPart>,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum RefPart {
    Prop(Box<str>),
    Method(Box<str>, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone)]
pub(crate) struct IfNode {
    /// `#if` and `#elseif` branches, in order.
    pub(crate) branches: Vec<(Expr, Block)>,
    pub(crate) else_block: Option<Block>,
}

#[derive(Debug, Clone)]
pub(crate) struct SetNode {
    /// Context key used when the left side has no children: Velocity takes
    /// the image of the first token minus its first character.
    pub(crate) key: Box<str>,
    pub(crate) lhs: Reference,
    pub(crate) rhs: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub(crate) struct StrLit {
    /// Literal value when not interpolated.
    pub(crate) text: Box<str>,
    /// Sub-template when the literal is double quoted and contains `$`/`#`.
    pub(crate) tree: Option<Block>,
    /// Velocity appends a space before parsing and strips one character of
    /// the output, unless the literal contains `##`.
    pub(crate) strip_last: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Ref(Box<Reference>),
    Str(Box<StrLit>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A number literal Velocity would hold as BigInteger / BigDecimal.
    BigNumber(Box<str>),
    Word,
    Range(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>, Box<[Box<str>; 2]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DirKind {
    Foreach,
    Include,
    Parse,
    Macro,
    Literal,
    Evaluate,
    Break,
    Define,
    Stop,
    /// `#name(...)`: a macro call, or literal text when no such macro exists.
    MacroCall,
    /// `#@name(...) ... #end`
    BlockMacroCall,
    /// `#@name` without arguments: renders as `#@name`.
    Plain,
}

#[derive(Debug, Clone)]
pub(crate) struct Arg {
    pub(crate) expr: std::sync::Arc<Expr>,
    pub(crate) literal: Box<str>,
    /// Velocity evaluates "constant" macro arguments once, others on use.
    pub(crate) constant: bool,
    pub(crate) is_word: bool,
    pub(crate) first_image: Box<str>,
}

#[derive(Debug, Clone)]
pub(crate) struct DirectiveNode {
    pub(crate) kind: DirKind,
    pub(crate) name: Box<str>,
    pub(crate) args: Vec<Arg>,
    pub(crate) block: Option<std::sync::Arc<Block>>,
    /// Source text of the directive (token images), printed for calls of
    /// macros that do not exist.
    pub(crate) literal: Box<str>,
    /// `#literal` body text.
    pub(crate) body_literal: Box<str>,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct MacroDef {
    pub(crate) name: Box<str>,
    pub(crate) params: Vec<Box<str>>,
    pub(crate) body: Block,
}
