//! Recursive-descent parser following the productions of Velocity 1.7's
//! `Parser.jjt`, including its LOOKAHEAD decisions (implemented with the
//! same scan semantics as JavaCC: a lookahead of `n` succeeds as soon as `n`
//! tokens matched) and the two places where the parser steers the lexer
//! (`Directive()` and `SetDirective()`).

use std::collections::HashSet;

use crate::ParseError;
use crate::ast::*;
use crate::lexer::{Lexer, State, Token, k};

/// Maximum nesting of statements / expressions / string literals.
pub(crate) const MAX_PARSE_DEPTH: usize = 200;

const KNOWN_DIRECTIVES: &[&str] = &[
    "foreach", "include", "parse", "macro", "literal", "evaluate", "break", "define", "stop",
];

fn is_block_directive(name: &str) -> bool {
    matches!(name, "foreach" | "macro" | "literal" | "define")
}

fn statement_start(kind: u8) -> bool {
    matches!(
        kind,
        k::LPAREN
            | k::RPAREN
            | k::ESCAPE_DIRECTIVE
            | k::SET_DIRECTIVE
            | k::SINGLE_LINE_COMMENT_START
            | k::DOUBLE_ESCAPE
            | k::ESCAPE
            | k::TEXT
            | k::FORMAL_COMMENT
            | k::MULTI_LINE_COMMENT
            | k::TEXTBLOCK
            | k::STRING_LITERAL
            | k::IF_DIRECTIVE
            | k::INTEGER_LITERAL
            | k::FLOATING_POINT_LITERAL
            | k::WORD
            | k::BRACKETED_WORD
            | k::IDENTIFIER
            | k::DOT
            | k::LCURLY
            | k::RCURLY
            | k::EMPTY_INDEX
    )
}

fn parameter_start(kind: u8) -> bool {
    matches!(
        kind,
        k::WHITESPACE
            | k::STRING_LITERAL
            | k::INTEGER_LITERAL
            | k::LBRACKET
            | k::LEFT_CURLEY
            | k::TRUE
            | k::FALSE
            | k::IDENTIFIER
            | k::LCURLY
            | k::FLOATING_POINT_LITERAL
    )
}

/// Outcome that aborts a lookahead scan early.
enum Stop {
    Success,
    Err(ParseError),
}

impl From<ParseError> for Stop {
    fn from(e: ParseError) -> Stop {
        Stop::Err(e)
    }
}

struct Scan {
    pos: usize,
    start: usize,
    limit: usize,
    depth: usize,
}

/// Productions whose unlimited-lookahead scans are memoised (packrat), which
/// keeps nested `[`/`(` lookahead linear instead of exponential.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Prod {
    Reference,
    Parameter,
    Range,
    Map,
    Array,
}

type SR = Result<bool, Stop>;

/// Result of parsing a whole template.
pub(crate) struct Parsed {
    pub(crate) root: Block,
    pub(crate) macros: Vec<MacroDef>,
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    toks: Vec<Token>,
    overrides: Vec<Option<Box<str>>>,
    pos: usize,
    macro_names: HashSet<String>,
    macros: Vec<MacroDef>,
    memo: std::collections::HashMap<(Prod, usize), Option<usize>>,
    depth: usize,
    /// Operators in the expression being parsed (they nest the tree).
    chain: usize,
    base_depth: usize,
    line_starts: Vec<usize>,
    /// Number of characters before each 64-byte block of the source.
    char_blocks: Vec<u32>,
    /// Position offset (line, column) of a sub-template (string literal).
    origin: Option<(u32, u32)>,
}

pub(crate) fn parse_template(src: &str) -> Result<Parsed, ParseError> {
    let mut p = Parser::new(src, 0, None);
    let root = p.process()?;
    Ok(Parsed {
        root,
        macros: p.macros,
    })
}

/// Parses a template for `#evaluate` / string interpolation with a nesting
/// depth already used by the caller.
pub(crate) fn parse_nested(
    src: &str,
    depth: usize,
    origin: Option<(u32, u32)>,
) -> Result<Parsed, ParseError> {
    let mut p = Parser::new(src, depth, origin);
    let root = p.process()?;
    Ok(Parsed {
        root,
        macros: p.macros,
    })
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, base_depth: usize, origin: Option<(u32, u32)>) -> Parser<'a> {
        let mut line_starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        let mut char_blocks = Vec::with_capacity(src.len() / 64 + 2);
        let mut count: u32 = 0;
        for (i, b) in src.bytes().enumerate() {
            if i % 64 == 0 {
                char_blocks.push(count);
            }
            if (b & 0xC0) != 0x80 {
                count = count.saturating_add(1);
            }
        }
        char_blocks.push(count);
        Parser {
            src,
            char_blocks,
            lexer: Lexer::new(src),
            toks: Vec::new(),
            overrides: Vec::new(),
            pos: 0,
            macro_names: HashSet::new(),
            macros: Vec::new(),
            memo: std::collections::HashMap::new(),
            depth: base_depth,
            chain: 0,
            base_depth,
            line_starts,
            origin,
        }
    }

    // ----- positions and errors -------------------------------------------

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.src.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .chars_before(offset)
            .saturating_sub(self.chars_before(start)) as usize
            + 1;
        let (l, c) = (line as u32 + 1, col as u32);
        match self.origin {
            Some((ol, oc)) => {
                if l == 1 {
                    (ol, oc + c)
                } else {
                    (ol + l - 1, c)
                }
            }
            None => (l, c),
        }
    }

    /// Characters (not bytes) in `src[..offset]`.
    fn chars_before(&self, offset: usize) -> u32 {
        let blk = offset / 64;
        let base = self.char_blocks.get(blk).copied().unwrap_or(0);
        let from = blk * 64;
        let extra = self
            .src
            .as_bytes()
            .get(from..offset)
            .map(|b| b.iter().filter(|&&c| (c & 0xC0) != 0x80).count())
            .unwrap_or(0);
        base.saturating_add(extra as u32)
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.line_col(offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }

    fn unexpected(&mut self) -> ParseError {
        match self.tok(self.pos) {
            Ok(t) => {
                let (start, end, kind) = (t.start, t.end, t.kind);
                if kind == k::EOF {
                    self.error_at(start, "Encountered end of template")
                } else {
                    let img = if kind == k::DOT {
                        "."
                    } else {
                        self.src.get(start..end).unwrap_or("")
                    };
                    let shown: String = img.chars().take(40).collect();
                    self.error_at(start, format!("Encountered {shown:?}"))
                }
            }
            Err(e) => e,
        }
    }

    // ----- token access ------------------------------------------------------

    fn fill(&mut self, idx: usize) -> Result<(), ParseError> {
        while self.toks.len() <= idx {
            if let Some(last) = self.toks.last()
                && last.kind == k::EOF
            {
                // keep returning EOF
                let t = last.clone();
                self.toks.push(t);
                self.overrides.push(None);
                continue;
            }
            match self.lexer.next_token() {
                Ok(t) => {
                    self.toks.push(t);
                    self.overrides.push(None);
                }
                Err(e) => return Err(self.error_at(e.offset, e.message)),
            }
        }
        Ok(())
    }

    fn tok(&mut self, idx: usize) -> Result<&Token, ParseError> {
        self.fill(idx)?;
        self.toks
            .get(idx)
            .ok_or_else(|| self.error_at(self.src.len(), "internal token error"))
    }

    fn kind_at(&mut self, idx: usize) -> Result<u8, ParseError> {
        Ok(self.tok(idx)?.kind)
    }

    fn peek(&mut self) -> Result<u8, ParseError> {
        self.kind_at(self.pos)
    }

    fn consume(&mut self, kind: u8) -> Result<usize, ParseError> {
        if self.peek()? == kind {
            let i = self.pos;
            self.pos += 1;
            Ok(i)
        } else {
            Err(self.unexpected())
        }
    }

    fn opt(&mut self, kind: u8) -> Result<bool, ParseError> {
        if self.peek()? == kind {
            self.pos += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn image(&self, idx: usize) -> &str {
        if let Some(Some(o)) = self.overrides.get(idx) {
            return o;
        }
        match self.toks.get(idx) {
            // the DOT action of Velocity 1.7 sets the image to "." (dropping
            // a MORE prefix such as the `$!` of `$!.a`)
            Some(t) if t.kind == k::DOT => ".",
            Some(t) => self.src.get(t.start..t.end).unwrap_or(""),
            None => "",
        }
    }

    fn offset_of(&self, idx: usize) -> usize {
        self.toks
            .get(idx)
            .map(|t| t.start)
            .unwrap_or(self.src.len())
    }

    /// Velocity's `NodeUtils.tokenLiteral`: the special text (only `$`, `#`
    /// and backslash runs ending in `$` survive) followed by the image.
    fn token_literal(&self, idx: usize) -> String {
        let Some(t) = self.toks.get(idx) else {
            return String::new();
        };
        if t.kind == k::MULTI_LINE_COMMENT {
            return String::new();
        }
        let img = self.image(idx);
        if t.specials.is_empty() {
            return img.to_string();
        }
        if let Some(&(s, e)) = t.specials.last()
            && self.src.get(s..e).is_some_and(|x| x.starts_with("##"))
        {
            return img.to_string();
        }
        let mut out = String::new();
        for &(s, e) in &t.specials {
            let st = self.src.as_bytes().get(s..e).unwrap_or(&[]);
            let mut i = 0;
            while i < st.len() {
                let c = st[i];
                if c == b'#' || c == b'$' {
                    out.push(c as char);
                }
                if c == b'\\' {
                    let mut j = i;
                    let mut term = false;
                    while j < st.len() {
                        let cc = st[j];
                        j += 1;
                        if cc != b'\\' {
                            if cc == b'$' {
                                term = true;
                            }
                            break;
                        }
                    }
                    if term {
                        for &b in &st[i..j] {
                            out.push(b as char);
                        }
                        i = j;
                    }
                }
                i += 1;
            }
        }
        out.push_str(img);
        out
    }

    fn literal_range(&self, first: usize, last: usize) -> String {
        let mut s = String::new();
        let mut i = first;
        while i <= last {
            s.push_str(&self.token_literal(i));
            i += 1;
        }
        s
    }

    fn raw_range(&self, first: usize, last: usize) -> String {
        let mut s = String::new();
        let mut i = first;
        while i <= last {
            s.push_str(self.image(i));
            i += 1;
        }
        s
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH {
            let off = self.offset_of(self.pos);
            return Err(self.error_at(off, "template nesting too deep"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- lookahead scanning -------------------------------------------------

    fn lookahead(
        &mut self,
        limit: usize,
        f: fn(&mut Self, &mut Scan) -> SR,
    ) -> Result<bool, ParseError> {
        let mut sc = Scan {
            pos: self.pos,
            start: self.pos,
            limit,
            depth: self.depth,
        };
        match f(self, &mut sc) {
            Ok(b) => Ok(b),
            Err(Stop::Success) => Ok(true),
            Err(Stop::Err(e)) => Err(e),
        }
    }

    fn s_tok(&mut self, sc: &mut Scan, kind: u8) -> SR {
        if self.kind_at(sc.pos)? != kind {
            return Ok(false);
        }
        sc.pos += 1;
        if sc.pos - sc.start >= sc.limit {
            return Err(Stop::Success);
        }
        Ok(true)
    }

    fn s_opt(&mut self, sc: &mut Scan, kind: u8) -> Result<(), Stop> {
        self.s_tok(sc, kind)?;
        Ok(())
    }

    /// Runs a scan production with the depth guard and, for unlimited
    /// lookahead, memoisation.
    fn s_memo(&mut self, sc: &mut Scan, prod: Prod, f: fn(&mut Self, &mut Scan) -> SR) -> SR {
        let memoise = sc.limit == usize::MAX;
        let start = sc.pos;
        if memoise && let Some(r) = self.memo.get(&(prod, start)) {
            return Ok(match *r {
                Some(end) => {
                    sc.pos = end;
                    true
                }
                None => false,
            });
        }
        if sc.depth >= MAX_PARSE_DEPTH {
            // too deep to decide: the template is rejected as a whole
            let off = self.offset_of(sc.pos);
            return Err(Stop::Err(self.error_at(off, "template nesting too deep")));
        }
        sc.depth += 1;
        let r = f(self, sc);
        sc.depth -= 1;
        if memoise && let Ok(b) = r {
            self.memo
                .insert((prod, start), if b { Some(sc.pos) } else { None });
        }
        r
    }

    fn s_reference(&mut self, sc: &mut Scan) -> SR {
        self.s_memo(sc, Prod::Reference, Self::s_reference_inner)
    }

    fn s_reference_inner(&mut self, sc: &mut Scan) -> SR {
        let save = sc.pos;
        if self.s_tok(sc, k::IDENTIFIER)? {
            self.s_ref_tail(sc)?;
            return Ok(true);
        }
        sc.pos = save;
        if !self.s_tok(sc, k::LCURLY)? {
            return Ok(false);
        }
        if !self.s_tok(sc, k::IDENTIFIER)? {
            return Ok(false);
        }
        self.s_ref_tail(sc)?;
        self.s_tok(sc, k::RCURLY)
    }

    fn s_ref_tail(&mut self, sc: &mut Scan) -> Result<(), Stop> {
        loop {
            let s = sc.pos;
            if !self.s_index(sc)? {
                sc.pos = s;
                break;
            }
        }
        loop {
            let s = sc.pos;
            if !self.s_dotpart(sc)? {
                sc.pos = s;
                break;
            }
        }
        Ok(())
    }

    fn s_dotpart(&mut self, sc: &mut Scan) -> SR {
        if !self.s_tok(sc, k::DOT)? {
            return Ok(false);
        }
        let s = sc.pos;
        if !self.s_method(sc)? {
            sc.pos = s;
            if !self.s_tok(sc, k::IDENTIFIER)? {
                return Ok(false);
            }
        }
        loop {
            let s = sc.pos;
            if !self.s_index(sc)? {
                sc.pos = s;
                break;
            }
        }
        Ok(true)
    }

    fn s_method(&mut self, sc: &mut Scan) -> SR {
        if !self.s_tok(sc, k::IDENTIFIER)? || !self.s_tok(sc, k::LPAREN)? {
            return Ok(false);
        }
        let s = sc.pos;
        if self.s_parameter(sc)? {
            loop {
                let s2 = sc.pos;
                if !(self.s_tok(sc, k::COMMA)? && self.s_parameter(sc)?) {
                    sc.pos = s2;
                    break;
                }
            }
        } else {
            sc.pos = s;
        }
        self.s_tok(sc, k::REFMOD2_RPAREN)
    }

    fn s_index(&mut self, sc: &mut Scan) -> SR {
        if !self.s_tok(sc, k::INDEX_LBRACKET)? {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        let s = sc.pos;
        let ok = self.s_tok(sc, k::STRING_LITERAL)?
            || self.s_tok(sc, k::INTEGER_LITERAL)?
            || self.s_tok(sc, k::TRUE)?
            || self.s_tok(sc, k::FALSE)?
            || {
                sc.pos = s;
                self.s_reference(sc)?
            };
        if !ok {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        self.s_tok(sc, k::INDEX_RBRACKET)
    }

    fn s_parameter(&mut self, sc: &mut Scan) -> SR {
        self.s_memo(sc, Prod::Parameter, Self::s_parameter_inner)
    }

    fn s_parameter_inner(&mut self, sc: &mut Scan) -> SR {
        self.s_opt(sc, k::WHITESPACE)?;
        let s = sc.pos;
        let ok = self.s_tok(sc, k::STRING_LITERAL)?
            || self.s_tok(sc, k::INTEGER_LITERAL)?
            || {
                sc.pos = s;
                self.s_range(sc)?
            }
            || {
                sc.pos = s;
                self.s_map(sc)?
            }
            || {
                sc.pos = s;
                self.s_array(sc)?
            }
            || {
                sc.pos = s;
                self.s_tok(sc, k::TRUE)?
            }
            || self.s_tok(sc, k::FALSE)?
            || {
                sc.pos = s;
                self.s_reference(sc)?
            }
            || {
                sc.pos = s;
                self.s_tok(sc, k::FLOATING_POINT_LITERAL)?
            };
        if !ok {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        Ok(true)
    }

    fn s_ref_or_int(&mut self, sc: &mut Scan) -> SR {
        let s = sc.pos;
        if self.s_reference(sc)? {
            return Ok(true);
        }
        sc.pos = s;
        self.s_tok(sc, k::INTEGER_LITERAL)
    }

    fn s_range_head(&mut self, sc: &mut Scan) -> SR {
        if !self.s_tok(sc, k::LBRACKET)? {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        if !self.s_ref_or_int(sc)? {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        self.s_tok(sc, k::DOUBLEDOT)
    }

    fn s_range(&mut self, sc: &mut Scan) -> SR {
        self.s_memo(sc, Prod::Range, Self::s_range_inner)
    }

    fn s_range_inner(&mut self, sc: &mut Scan) -> SR {
        if !self.s_range_head(sc)? {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        if !self.s_ref_or_int(sc)? {
            return Ok(false);
        }
        self.s_opt(sc, k::WHITESPACE)?;
        self.s_tok(sc, k::RBRACKET)
    }

    fn s_map(&mut self, sc: &mut Scan) -> SR {
        self.s_memo(sc, Prod::Map, Self::s_map_inner)
    }

    fn s_map_inner(&mut self, sc: &mut Scan) -> SR {
        if !self.s_tok(sc, k::LEFT_CURLEY)? {
            return Ok(false);
        }
        let s = sc.pos;
        let entries = self.s_parameter(sc)? && self.s_tok(sc, k::COLON)? && self.s_parameter(sc)?;
        if entries {
            loop {
                let s2 = sc.pos;
                let more = self.s_tok(sc, k::COMMA)?
                    && self.s_parameter(sc)?
                    && self.s_tok(sc, k::COLON)?
                    && self.s_parameter(sc)?;
                if !more {
                    sc.pos = s2;
                    break;
                }
            }
        } else {
            sc.pos = s;
            self.s_opt(sc, k::WHITESPACE)?;
        }
        let s = sc.pos;
        if self.s_tok(sc, k::RIGHT_CURLEY)? {
            return Ok(true);
        }
        sc.pos = s;
        self.s_tok(sc, k::RCURLY)
    }

    fn s_array(&mut self, sc: &mut Scan) -> SR {
        self.s_memo(sc, Prod::Array, Self::s_array_inner)
    }

    fn s_array_inner(&mut self, sc: &mut Scan) -> SR {
        if !self.s_tok(sc, k::LBRACKET)? {
            return Ok(false);
        }
        let s = sc.pos;
        if self.s_parameter(sc)? {
            loop {
                let s2 = sc.pos;
                if !(self.s_tok(sc, k::COMMA)? && self.s_parameter(sc)?) {
                    sc.pos = s2;
                    break;
                }
            }
        } else {
            sc.pos = s;
        }
        self.s_tok(sc, k::RBRACKET)
    }

    fn s_directive_arg(&mut self, sc: &mut Scan) -> SR {
        let s = sc.pos;
        if self.s_reference(sc)? {
            return Ok(true);
        }
        for kind in [k::WORD, k::STRING_LITERAL, k::INTEGER_LITERAL] {
            sc.pos = s;
            if self.s_tok(sc, kind)? {
                return Ok(true);
            }
        }
        sc.pos = s;
        if self.s_range(sc)? {
            return Ok(true);
        }
        sc.pos = s;
        if self.s_tok(sc, k::FLOATING_POINT_LITERAL)? {
            return Ok(true);
        }
        sc.pos = s;
        if self.s_map(sc)? {
            return Ok(true);
        }
        sc.pos = s;
        if self.s_array(sc)? {
            return Ok(true);
        }
        sc.pos = s;
        if self.s_tok(sc, k::TRUE)? {
            return Ok(true);
        }
        sc.pos = s;
        self.s_tok(sc, k::FALSE)
    }

    fn s_arg_prefix(&mut self, sc: &mut Scan) -> SR {
        self.s_opt(sc, k::WHITESPACE)?;
        let s = sc.pos;
        if self.s_tok(sc, k::COMMA)? {
            self.s_opt(sc, k::WHITESPACE)?;
        } else {
            sc.pos = s;
        }
        self.s_directive_arg(sc)
    }

    fn s_not_prefix(&mut self, sc: &mut Scan) -> SR {
        self.s_opt(sc, k::WHITESPACE)?;
        self.s_tok(sc, k::LOGICAL_NOT)
    }

    fn s_double_escape(&mut self, sc: &mut Scan) -> SR {
        self.s_tok(sc, k::DOUBLE_ESCAPE)
    }

    // ----- productions ---------------------------------------------------------

    fn process(&mut self) -> Result<Block, ParseError> {
        let mut block = Block::default();
        loop {
            let kind = self.peek()?;
            if statement_start(kind) {
                self.statement(&mut block)?;
            } else if kind == k::EOF {
                return Ok(block);
            } else {
                return Err(self.unexpected());
            }
        }
    }

    fn block(&mut self) -> Result<Block, ParseError> {
        let mut block = Block::default();
        while statement_start(self.peek()?) {
            self.statement(&mut block)?;
        }
        Ok(block)
    }

    fn push_text(block: &mut Block, text: String) {
        if text.is_empty() {
            return;
        }
        if let Some(Node::Text(prev)) = block.nodes.last_mut() {
            prev.push_str(&text);
        } else {
            block.nodes.push(Node::Text(text));
        }
    }

    fn statement(&mut self, block: &mut Block) -> Result<(), ParseError> {
        self.enter()?;
        let r = self.statement_inner(block);
        self.leave();
        r
    }

    fn statement_inner(&mut self, block: &mut Block) -> Result<(), ParseError> {
        let kind = self.peek()?;
        if kind == k::IF_DIRECTIVE {
            let n = self.if_statement()?;
            block.nodes.push(Node::If(Box::new(n)));
            return Ok(());
        }
        if self.lookahead(2, Self::s_reference)? {
            let r = self.reference()?;
            block.nodes.push(Node::Ref(Box::new(r)));
            return Ok(());
        }
        match kind {
            k::SINGLE_LINE_COMMENT_START | k::FORMAL_COMMENT | k::MULTI_LINE_COMMENT => {
                let first = self.pos;
                if kind == k::SINGLE_LINE_COMMENT_START {
                    self.pos += 1;
                    self.opt(k::SINGLE_LINE_COMMENT)?;
                } else {
                    self.pos += 1;
                }
                let img = self.image(first);
                let loc = img.find("##").or_else(|| img.find("#*"));
                if let Some(l) = loc {
                    let t = img.get(..l).unwrap_or("").to_string();
                    Self::push_text(block, t);
                }
            }
            k::TEXTBLOCK => {
                let i = self.consume(k::TEXTBLOCK)?;
                let img = self.image(i);
                let t = img
                    .get(3..img.len().saturating_sub(3))
                    .unwrap_or("")
                    .to_string();
                Self::push_text(block, t);
            }
            k::SET_DIRECTIVE => {
                let n = self.set_directive()?;
                block.nodes.push(Node::Set(Box::new(n)));
            }
            k::ESCAPE_DIRECTIVE => {
                let i = self.consume(k::ESCAPE_DIRECTIVE)?;
                let img = self.image(i).to_string();
                let t = self.escaped_directive(&img);
                Self::push_text(block, t);
            }
            k::DOUBLE_ESCAPE => {
                let mut count = 0usize;
                loop {
                    self.consume(k::DOUBLE_ESCAPE)?;
                    count += 1;
                    if !self.lookahead(2, Self::s_double_escape)? {
                        break;
                    }
                }
                // the token after the escapes has been fetched by the lookahead
                let next = self.pos;
                self.fill(next)?;
                let nk = self.kind_at(next)?;
                let mut control = matches!(
                    nk,
                    k::END | k::IF_DIRECTIVE | k::ELSEIF_DIRECTIVE | k::ELSE_DIRECTIVE
                );
                let nimg = self.image(next);
                if let Some(tag) = nimg.get(1..)
                    && !nimg.is_empty()
                    && (KNOWN_DIRECTIVES.contains(&tag) || self.macro_names.contains(tag))
                {
                    control = true;
                }
                let unit = if control { "\\" } else { "\\\\" };
                Self::push_text(block, unit.repeat(count));
            }
            k::WORD | k::BRACKETED_WORD => {
                let n = self.directive()?;
                block.nodes.push(n);
            }
            k::LPAREN
            | k::RPAREN
            | k::ESCAPE
            | k::TEXT
            | k::STRING_LITERAL
            | k::INTEGER_LITERAL
            | k::FLOATING_POINT_LITERAL
            | k::DOT
            | k::LCURLY
            | k::RCURLY
            | k::EMPTY_INDEX => {
                let i = self.pos;
                self.pos += 1;
                let t = self.token_literal(i);
                Self::push_text(block, t);
            }
            _ => return Err(self.unexpected()),
        }
        Ok(())
    }

    fn escaped_directive(&self, img: &str) -> String {
        let Some(i_last) = img.rfind('\\') else {
            return img.to_string();
        };
        let str_directive = img.get(i_last + 1..).unwrap_or("");
        let mut dir_tag = str_directive.get(1..).unwrap_or("");
        if dir_tag.starts_with('{') {
            dir_tag = dir_tag
                .get(1..dir_tag.len().saturating_sub(1))
                .unwrap_or("");
        }
        let recognized = KNOWN_DIRECTIVES.contains(&dir_tag)
            || self.macro_names.contains(dir_tag)
            || matches!(dir_tag, "if" | "end" | "set" | "else" | "elseif");
        if recognized {
            let mut s = img.get(..i_last / 2).unwrap_or("").to_string();
            s.push_str(str_directive);
            s
        } else {
            img.to_string()
        }
    }

    fn if_statement(&mut self) -> Result<IfNode, ParseError> {
        self.consume(k::IF_DIRECTIVE)?;
        self.opt(k::WHITESPACE)?;
        self.consume(k::LPAREN)?;
        let cond = self.expression()?;
        self.consume(k::RPAREN)?;
        let body = self.block()?;
        let mut branches = vec![(cond, body)];
        while self.peek()? == k::ELSEIF_DIRECTIVE {
            self.consume(k::ELSEIF_DIRECTIVE)?;
            self.opt(k::WHITESPACE)?;
            self.consume(k::LPAREN)?;
            let c = self.expression()?;
            self.consume(k::RPAREN)?;
            let b = self.block()?;
            branches.push((c, b));
        }
        let else_block = if self.peek()? == k::ELSE_DIRECTIVE {
            self.consume(k::ELSE_DIRECTIVE)?;
            Some(self.block()?)
        } else {
            None
        };
        self.consume(k::END)?;
        Ok(IfNode {
            branches,
            else_block,
        })
    }

    fn set_directive(&mut self) -> Result<SetNode, ParseError> {
        self.consume(k::SET_DIRECTIVE)?;
        self.opt(k::WHITESPACE)?;
        let first = self.pos;
        let kind = self.peek()?;
        if kind != k::IDENTIFIER && kind != k::LCURLY {
            return Err(self.unexpected());
        }
        let lhs = self.reference()?;
        let key = self.image(first).get(1..).unwrap_or("").to_string();
        self.opt(k::WHITESPACE)?;
        self.consume(k::EQUALS)?;
        let rhs = self.expression()?;
        self.consume(k::RPAREN)?;
        self.lexer.in_set = false;
        self.opt(k::NEWLINE)?;
        Ok(SetNode {
            key: key.into_boxed_str(),
            lhs,
            rhs,
        })
    }

    fn directive(&mut self) -> Result<Node, ParseError> {
        let t = self.pos;
        let tkind = self.peek()?;
        self.pos += 1;
        let img = self.image(t).to_string();
        let name: String = if tkind == k::BRACKETED_WORD {
            img.get(2..img.len().saturating_sub(1))
                .unwrap_or("")
                .to_string()
        } else {
            img.get(1..).unwrap_or("").to_string()
        };
        let known = KNOWN_DIRECTIVES.contains(&name.as_str());
        let do_it_now = name == "macro";
        let is_block = if known {
            is_block_directive(&name)
        } else {
            name.starts_with('@')
        };
        let (line, col) = self.line_col(self.offset_of(t));
        self.lexer.switch_to(State::Directive);

        let mut args: Vec<Arg> = Vec::new();
        let has_parens = self.lexer.is_left_parenthesis();
        let mut last_tok = t;
        if has_parens {
            self.opt(k::WHITESPACE)?;
            self.consume(k::LPAREN)?;
            let mut arg_pos = 0usize;
            loop {
                if !self.lookahead(2, Self::s_arg_prefix)? {
                    break;
                }
                self.opt(k::WHITESPACE)?;
                if self.opt(k::COMMA)? {
                    self.opt(k::WHITESPACE)?;
                }
                let arg = self.directive_arg()?;
                if arg.is_word {
                    if do_it_now && arg_pos == 0 {
                        // macro name
                    } else if known && (name != "foreach" || arg_pos != 1) {
                        let off = self.offset_of(t);
                        return Err(self.error_at(
                            off,
                            format!("Invalid arg #{arg_pos} in directive #{name}"),
                        ));
                    }
                } else if do_it_now && arg_pos == 0 {
                    let off = self.offset_of(t);
                    return Err(self.error_at(
                        off,
                        "Invalid first arg in #macro() directive - must be a word token (no ' or \" surrounding)",
                    ));
                }
                args.push(arg);
                arg_pos += 1;
            }
            self.opt(k::WHITESPACE)?;
            last_tok = self.consume(k::RPAREN)?;
        } else if do_it_now {
            let off = self.offset_of(t);
            return Err(self.error_at(off, "A macro declaration requires at least a name argument"));
        } else {
            self.lexer.state_stack_pop();
        }

        let mut block = None;
        if has_parens && is_block {
            let b = self.block()?;
            last_tok = self.consume(k::END)?;
            block = Some(std::sync::Arc::new(b));
        }

        let literal = self.raw_range(t, last_tok);
        let kind = if known {
            match name.as_str() {
                "foreach" => DirKind::Foreach,
                "include" => DirKind::Include,
                "parse" => DirKind::Parse,
                "macro" => DirKind::Macro,
                "literal" => DirKind::Literal,
                "evaluate" => DirKind::Evaluate,
                "break" => DirKind::Break,
                "define" => DirKind::Define,
                _ => DirKind::Stop,
            }
        } else if name.starts_with('@') {
            if has_parens {
                DirKind::BlockMacroCall
            } else {
                DirKind::Plain
            }
        } else {
            DirKind::MacroCall
        };

        let off = self.offset_of(t);
        let mut node = DirectiveNode {
            kind: kind.clone(),
            name: name.clone().into_boxed_str(),
            args,
            block,
            literal: literal.into_boxed_str(),
            body_literal: "".into(),
            line,
            col,
        };

        // init()-time checks and setup of the built-in directives
        match kind {
            DirKind::Macro => {
                if node.args.is_empty() {
                    return Err(self.error_at(off, "First argument to #macro() must be macro name"));
                }
                if !node.args.first().is_some_and(|a| a.is_word) {
                    return Err(self.error_at(
                        off,
                        "First argument to #macro() must be a token without surrounding ' or \"",
                    ));
                }
                let mname = node
                    .args
                    .first()
                    .map(|a| a.first_image.to_string())
                    .unwrap_or_default();
                self.macro_names.insert(mname.clone());
                let params = node
                    .args
                    .iter()
                    .skip(1)
                    .map(|a| {
                        let s: &str = &a.first_image;
                        s.strip_prefix('$')
                            .unwrap_or(s)
                            .to_string()
                            .into_boxed_str()
                    })
                    .collect();
                let body = node
                    .block
                    .take()
                    .map(|b| std::sync::Arc::try_unwrap(b).unwrap_or_else(|a| (*a).clone()))
                    .unwrap_or_default();
                self.macros.push(MacroDef {
                    name: mname.into_boxed_str(),
                    params,
                    body,
                });
                node.args.clear();
            }
            DirKind::Define if node.args.len() != 1 || node.block.is_none() => {
                return Err(self.error_at(off, "parameter missing: block name"));
            }
            DirKind::Break if node.args.len() > 1 => {
                return Err(self.error_at(
                    off,
                    "The #break directive only accepts a single scope object",
                ));
            }
            DirKind::Stop if node.args.len() > 1 => {
                return Err(self.error_at(
                    off,
                    "The #stop directive only accepts a single message parameter",
                ));
            }
            DirKind::Evaluate => {
                if node.args.len() != 1 {
                    return Err(self.error_at(off, "#evaluate() requires exactly one argument"));
                }
                let ok = node
                    .args
                    .first()
                    .is_some_and(|a| matches!(*a.expr, Expr::Str(_) | Expr::Ref(_)));
                if !ok {
                    return Err(self.error_at(
                        off,
                        "#evaluate() argument must be a string literal or reference",
                    ));
                }
            }
            DirKind::Literal => {
                // literal() of the first child: the block's tokens (or first arg)
                node.body_literal = "".into();
            }
            _ => {}
        }
        if kind == DirKind::Literal {
            // Velocity prints node.jjtGetChild(0).literal(); with no args that
            // is the block. Recompute from the source range of the block.
            node.body_literal = self
                .literal_of_literal_directive(t, last_tok, has_parens)
                .into_boxed_str();
        }
        Ok(Node::Directive(Box::new(node)))
    }

    fn literal_of_literal_directive(&self, first: usize, last: usize, has_parens: bool) -> String {
        if !has_parens {
            return String::new();
        }
        // find the RPAREN that closes the argument list, block runs to last-1
        let mut i = first;
        while i < last {
            if self.toks.get(i).is_some_and(|t| t.kind == k::RPAREN) {
                break;
            }
            i += 1;
        }
        if i + 1 >= last {
            return String::new();
        }
        self.literal_range(i + 1, last - 1)
    }

    fn directive_arg(&mut self) -> Result<Arg, ParseError> {
        let first = self.pos;
        let kind = self.peek()?;
        let (expr, constant, is_word) = match kind {
            k::IDENTIFIER | k::LCURLY => (Expr::Ref(Box::new(self.reference()?)), false, false),
            k::WORD => {
                self.consume(k::WORD)?;
                (Expr::Word, true, true)
            }
            k::STRING_LITERAL => (self.string_literal()?, false, false),
            k::INTEGER_LITERAL => (self.integer_literal()?, true, false),
            k::LBRACKET => {
                if self.lookahead(usize::MAX, Self::s_range_head)? {
                    (self.integer_range()?, false, false)
                } else {
                    (self.object_array()?, false, false)
                }
            }
            k::FLOATING_POINT_LITERAL => (self.float_literal()?, true, false),
            k::LEFT_CURLEY => (self.map()?, false, false),
            k::TRUE => {
                self.pos += 1;
                (Expr::Bool(true), true, false)
            }
            k::FALSE => {
                self.pos += 1;
                (Expr::Bool(false), true, false)
            }
            _ => return Err(self.unexpected()),
        };
        let last = self.pos.saturating_sub(1);
        Ok(Arg {
            expr: std::sync::Arc::new(expr),
            literal: self.literal_range(first, last).into_boxed_str(),
            constant,
            is_word,
            first_image: self.image(first).into(),
        })
    }

    // ----- references ------------------------------------------------------------

    fn reference(&mut self) -> Result<Reference, ParseError> {
        self.enter()?;
        let r = self.reference_inner();
        self.leave();
        r
    }

    fn reference_inner(&mut self) -> Result<Reference, ParseError> {
        let first = self.pos;
        let formal = self.peek()? == k::LCURLY;
        if formal {
            self.consume(k::LCURLY)?;
        }
        self.consume(k::IDENTIFIER)?;
        let mut parts = Vec::new();
        while self.peek()? == k::INDEX_LBRACKET {
            parts.push(self.index()?);
        }
        loop {
            let dot =
                self.kind_at(self.pos)? == k::DOT && self.kind_at(self.pos + 1)? == k::IDENTIFIER;
            if !dot {
                break;
            }
            self.consume(k::DOT)?;
            if self.lookahead(3, Self::s_method)? {
                parts.push(self.method()?);
            } else {
                let i = self.consume(k::IDENTIFIER)?;
                parts.push(RefPart::Prop(self.image(i).into()));
            }
            while self.peek()? == k::INDEX_LBRACKET {
                parts.push(self.index()?);
            }
        }
        if formal {
            self.consume(k::RCURLY)?;
        }
        let last = self.pos.saturating_sub(1);
        Ok(self.build_reference(first, last, parts))
    }

    /// Velocity's `ASTReference.getRoot()` and `init()`.
    fn build_reference(&mut self, first: usize, last: usize, parts: Vec<RefPart>) -> Reference {
        let (line, col) = self.line_col(self.offset_of(first));
        let image = self.image(first).to_string();
        let next_image = self.image(first + 1).to_string();
        let mut r = Reference {
            kind: RefKind::Unset,
            root: "".into(),
            escaped: false,
            esc_prefix: "".into(),
            more_prefix: "".into(),
            null_string: "".into(),
            computable: true,
            literal: "".into(),
            parts,
            line,
            col,
        };
        if image.contains("\\!") {
            let bytes = image.as_bytes();
            let Some(mut i) = image.find('$') else {
                r.computable = false;
                r.null_string = image.clone().into();
                r.root = image.into();
                r.literal = self.literal_range(first, last).into();
                return r;
            };
            while i < bytes.len() && bytes[i] != b'\\' {
                i += 1;
            }
            let start = i;
            let mut count: usize = 0;
            while i < bytes.len() && bytes[i] == b'\\' {
                count += 1;
                i += 1;
            }
            let mut ns = String::new();
            ns.push_str(image.get(..start).unwrap_or(""));
            ns.push_str(
                image
                    .get(start..start + count.saturating_sub(1))
                    .unwrap_or(""),
            );
            ns.push_str(image.get(start + count..).unwrap_or(""));
            r.computable = false;
            r.null_string = ns.clone().into();
            r.root = ns.into();
            r.literal = self.literal_range(first, last).into();
            return r;
        }
        let mut img = image.as_str();
        let lead = img.bytes().take_while(|&b| b == b'\\').count();
        if lead > 0 {
            if lead % 2 == 1 {
                r.escaped = true;
            }
            r.esc_prefix = "\\".repeat(lead / 2).into();
            img = img.get(lead..).unwrap_or("");
        }
        let mut more = String::new();
        if let Some(loc) = img.rfind('$')
            && loc > 0
        {
            more.push_str(img.get(..loc).unwrap_or(""));
            img = img.get(loc..).unwrap_or("");
        }
        r.more_prefix = more.into();
        let stripped = img.to_string();
        if let Some(o) = self.overrides.get_mut(first) {
            *o = Some(stripped.clone().into_boxed_str());
        }
        let literal = self.literal_range(first, last);
        r.literal = literal.clone().into();
        r.null_string = literal.into();
        if stripped.starts_with("$!") {
            r.kind = RefKind::Quiet;
            if !r.escaped {
                r.null_string = "".into();
            }
            r.root = if stripped.starts_with("$!{") {
                next_image.into()
            } else {
                stripped.get(2..).unwrap_or("").into()
            };
        } else if stripped == "${" {
            r.kind = RefKind::Formal;
            r.root = next_image.into();
        } else if let Some(rest) = stripped.strip_prefix('$') {
            r.kind = RefKind::Normal;
            r.root = rest.into();
        } else {
            r.kind = RefKind::Runt;
            r.root = stripped.into();
        }
        r
    }

    fn index(&mut self) -> Result<RefPart, ParseError> {
        self.consume(k::INDEX_LBRACKET)?;
        self.opt(k::WHITESPACE)?;
        let e = match self.peek()? {
            k::STRING_LITERAL => self.string_literal()?,
            k::INTEGER_LITERAL => self.integer_literal()?,
            k::TRUE => {
                self.pos += 1;
                Expr::Bool(true)
            }
            k::FALSE => {
                self.pos += 1;
                Expr::Bool(false)
            }
            k::IDENTIFIER | k::LCURLY => Expr::Ref(Box::new(self.reference()?)),
            _ => return Err(self.unexpected()),
        };
        self.opt(k::WHITESPACE)?;
        self.consume(k::INDEX_RBRACKET)?;
        Ok(RefPart::Index(e))
    }

    fn method(&mut self) -> Result<RefPart, ParseError> {
        let i = self.consume(k::IDENTIFIER)?;
        let name: Box<str> = self.image(i).into();
        self.consume(k::LPAREN)?;
        let mut args = Vec::new();
        if parameter_start(self.peek()?) {
            args.push(self.parameter()?);
            while self.peek()? == k::COMMA {
                self.consume(k::COMMA)?;
                args.push(self.parameter()?);
            }
        }
        self.consume(k::REFMOD2_RPAREN)?;
        Ok(RefPart::Method(name, args))
    }

    fn parameter(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = self.parameter_inner();
        self.leave();
        r
    }

    fn parameter_inner(&mut self) -> Result<Expr, ParseError> {
        self.opt(k::WHITESPACE)?;
        let e = match self.peek()? {
            k::STRING_LITERAL => self.string_literal()?,
            k::INTEGER_LITERAL => self.integer_literal()?,
            k::LBRACKET => {
                if self.lookahead(usize::MAX, Self::s_range_head)? {
                    self.integer_range()?
                } else {
                    self.object_array()?
                }
            }
            k::LEFT_CURLEY => self.map()?,
            k::TRUE => {
                self.pos += 1;
                Expr::Bool(true)
            }
            k::FALSE => {
                self.pos += 1;
                Expr::Bool(false)
            }
            k::IDENTIFIER | k::LCURLY => Expr::Ref(Box::new(self.reference()?)),
            k::FLOATING_POINT_LITERAL => self.float_literal()?,
            _ => return Err(self.unexpected()),
        };
        self.opt(k::WHITESPACE)?;
        Ok(e)
    }

    // ----- literals ----------------------------------------------------------------

    fn integer_literal(&mut self) -> Result<Expr, ParseError> {
        let i = self.consume(k::INTEGER_LITERAL)?;
        let img = self.image(i);
        Ok(match img.parse::<i64>() {
            Ok(v) => Expr::Int(v),
            Err(_) => Expr::BigNumber(img.into()),
        })
    }

    fn float_literal(&mut self) -> Result<Expr, ParseError> {
        let i = self.consume(k::FLOATING_POINT_LITERAL)?;
        let img = self.image(i);
        Ok(match img.parse::<f64>() {
            Ok(v) => Expr::Float(v),
            Err(_) => Expr::BigNumber(img.into()),
        })
    }

    fn string_literal(&mut self) -> Result<Expr, ParseError> {
        let i = self.consume(k::STRING_LITERAL)?;
        let img = self.image(i).to_string();
        let off = self.offset_of(i);
        let (line, col) = self.line_col(off);
        let quote = img.chars().next().unwrap_or('"');
        let interpolate = quote == '"' && (img.contains('$') || img.contains('#'));
        let inner = img.get(1..img.len().saturating_sub(1)).unwrap_or("");
        let mut text = if quote == '"' {
            match unescape_unicode(inner) {
                Some(t) => t,
                None => return Err(self.error_at(off, "Invalid \\u escape in string literal")),
            }
        } else {
            inner.to_string()
        };
        text = replace_quotes(&text, quote);
        let contains_comment = text.contains("##");
        let strip_last = !contains_comment;
        let tree = if interpolate {
            let mut src = text.clone();
            if !contains_comment {
                src.push(' ');
            }
            let parsed =
                parse_nested(&src, self.depth, Some((line, col))).map_err(|e| ParseError {
                    line: e.line,
                    column: e.column,
                    message: format!("Failed to parse String literal: {}", e.message),
                })?;
            self.macros.extend(parsed.macros);
            Some(parsed.root)
        } else {
            None
        };
        Ok(Expr::Str(Box::new(StrLit {
            text: text.into_boxed_str(),
            tree,
            strip_last,
        })))
    }

    fn integer_range(&mut self) -> Result<Expr, ParseError> {
        self.consume(k::LBRACKET)?;
        self.opt(k::WHITESPACE)?;
        let a = self.ref_or_int()?;
        self.opt(k::WHITESPACE)?;
        self.consume(k::DOUBLEDOT)?;
        self.opt(k::WHITESPACE)?;
        let b = self.ref_or_int()?;
        self.opt(k::WHITESPACE)?;
        self.consume(k::RBRACKET)?;
        Ok(Expr::Range(Box::new(a), Box::new(b)))
    }

    fn ref_or_int(&mut self) -> Result<Expr, ParseError> {
        match self.peek()? {
            k::IDENTIFIER | k::LCURLY => Ok(Expr::Ref(Box::new(self.reference()?))),
            k::INTEGER_LITERAL => self.integer_literal(),
            _ => Err(self.unexpected()),
        }
    }

    fn object_array(&mut self) -> Result<Expr, ParseError> {
        self.consume(k::LBRACKET)?;
        let mut items = Vec::new();
        if parameter_start(self.peek()?) {
            items.push(self.parameter()?);
            while self.peek()? == k::COMMA {
                self.consume(k::COMMA)?;
                items.push(self.parameter()?);
            }
        }
        self.consume(k::RBRACKET)?;
        Ok(Expr::List(items))
    }

    fn map(&mut self) -> Result<Expr, ParseError> {
        self.consume(k::LEFT_CURLEY)?;
        let mut entries = Vec::new();
        if self.lookahead(2, Self::s_parameter)? {
            let key = self.parameter()?;
            self.consume(k::COLON)?;
            let val = self.parameter()?;
            entries.push((key, val));
            while self.peek()? == k::COMMA {
                self.consume(k::COMMA)?;
                let key = self.parameter()?;
                self.consume(k::COLON)?;
                let val = self.parameter()?;
                entries.push((key, val));
            }
        } else {
            self.opt(k::WHITESPACE)?;
        }
        match self.peek()? {
            k::RIGHT_CURLEY | k::RCURLY => self.pos += 1,
            _ => return Err(self.unexpected()),
        }
        Ok(Expr::Map(entries))
    }

    // ----- expressions -----------------------------------------------------------------

    fn expression(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let saved = self.chain;
        self.chain = 0;
        let r = self.or_expr();
        self.chain = saved;
        self.leave();
        r
    }

    fn binary(
        &mut self,
        op: BinOp,
        l: Expr,
        r: Expr,
        span: [usize; 4],
    ) -> Result<Expr, ParseError> {
        // each operator nests the tree one level deeper (left-assoc chains)
        self.chain += 1;
        if self.depth + self.chain > MAX_PARSE_DEPTH {
            let off = self.offset_of(self.pos);
            return Err(self.error_at(off, "expression too long or nested too deeply"));
        }
        Ok(self.binary_node(op, l, r, span))
    }

    fn binary_node(&mut self, op: BinOp, l: Expr, r: Expr, span: [usize; 4]) -> Expr {
        let [lfirst, llast, rfirst, rlast] = span;
        // Velocity prints the operand's source text when it is null; keep
        // that for short operands only (long chains would make parsing
        // quadratic).
        let short = |a: usize, b: usize| b.saturating_sub(a) < 8;
        let (ll, rl) = if op == BinOp::Add && short(lfirst, llast) && short(rfirst, rlast) {
            (
                self.literal_range(lfirst, llast),
                self.literal_range(rfirst, rlast),
            )
        } else {
            (String::new(), String::new())
        };
        Expr::Binary(
            op,
            Box::new(l),
            Box::new(r),
            Box::new([ll.trim().into(), rl.trim().into()]),
        )
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.pos;
        let mut e = self.and_expr()?;
        while self.peek()? == k::LOGICAL_OR {
            let ll = self.pos.saturating_sub(1);
            self.pos += 1;
            let rf = self.pos;
            let r = self.and_expr()?;
            let rl = self.pos.saturating_sub(1);
            e = self.binary(BinOp::Or, e, r, [first, ll, rf, rl])?;
        }
        Ok(e)
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.pos;
        let mut e = self.eq_expr()?;
        while self.peek()? == k::LOGICAL_AND {
            let ll = self.pos.saturating_sub(1);
            self.pos += 1;
            let rf = self.pos;
            let r = self.eq_expr()?;
            let rl = self.pos.saturating_sub(1);
            e = self.binary(BinOp::And, e, r, [first, ll, rf, rl])?;
        }
        Ok(e)
    }

    fn eq_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.pos;
        let mut e = self.rel_expr()?;
        loop {
            let op = match self.peek()? {
                k::LOGICAL_EQUALS => BinOp::Eq,
                k::LOGICAL_NOT_EQUALS => BinOp::Ne,
                _ => break,
            };
            let ll = self.pos.saturating_sub(1);
            self.pos += 1;
            let rf = self.pos;
            let r = self.rel_expr()?;
            let rl = self.pos.saturating_sub(1);
            e = self.binary(op, e, r, [first, ll, rf, rl])?;
        }
        Ok(e)
    }

    fn rel_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.pos;
        let mut e = self.add_expr()?;
        loop {
            let op = match self.peek()? {
                k::LOGICAL_LT => BinOp::Lt,
                k::LOGICAL_GT => BinOp::Gt,
                k::LOGICAL_LE => BinOp::Le,
                k::LOGICAL_GE => BinOp::Ge,
                _ => break,
            };
            let ll = self.pos.saturating_sub(1);
            self.pos += 1;
            let rf = self.pos;
            let r = self.add_expr()?;
            let rl = self.pos.saturating_sub(1);
            e = self.binary(op, e, r, [first, ll, rf, rl])?;
        }
        Ok(e)
    }

    fn add_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.pos;
        let mut e = self.mul_expr()?;
        loop {
            let op = match self.peek()? {
                k::PLUS => BinOp::Add,
                k::MINUS => BinOp::Sub,
                _ => break,
            };
            let ll = self.pos.saturating_sub(1);
            self.pos += 1;
            let rf = self.pos;
            let r = self.mul_expr()?;
            let rl = self.pos.saturating_sub(1);
            e = self.binary(op, e, r, [first, ll, rf, rl])?;
        }
        Ok(e)
    }

    fn mul_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.pos;
        let mut e = self.unary_expr()?;
        loop {
            let op = match self.peek()? {
                k::MULTIPLY => BinOp::Mul,
                k::DIVIDE => BinOp::Div,
                k::MODULUS => BinOp::Mod,
                _ => break,
            };
            let ll = self.pos.saturating_sub(1);
            self.pos += 1;
            let rf = self.pos;
            let r = self.unary_expr()?;
            let rl = self.pos.saturating_sub(1);
            e = self.binary(op, e, r, [first, ll, rf, rl])?;
        }
        Ok(e)
    }

    fn unary_expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = if self.lookahead(2, Self::s_not_prefix)? {
            self.opt(k::WHITESPACE)?;
            self.consume(k::LOGICAL_NOT)?;
            let inner = self.unary_expr()?;
            Ok(Expr::Not(Box::new(inner)))
        } else {
            self.primary()
        };
        self.leave();
        r
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.opt(k::WHITESPACE)?;
        let e = match self.peek()? {
            k::STRING_LITERAL => self.string_literal()?,
            k::IDENTIFIER | k::LCURLY => Expr::Ref(Box::new(self.reference()?)),
            k::INTEGER_LITERAL => self.integer_literal()?,
            k::LBRACKET => {
                if self.lookahead(usize::MAX, Self::s_range_head)? {
                    self.integer_range()?
                } else {
                    self.object_array()?
                }
            }
            k::FLOATING_POINT_LITERAL => self.float_literal()?,
            k::LEFT_CURLEY => self.map()?,
            k::TRUE => {
                self.pos += 1;
                Expr::Bool(true)
            }
            k::FALSE => {
                self.pos += 1;
                Expr::Bool(false)
            }
            k::LPAREN => {
                self.pos += 1;
                let e = self.expression()?;
                self.consume(k::RPAREN)?;
                e
            }
            _ => return Err(self.unexpected()),
        };
        self.opt(k::WHITESPACE)?;
        Ok(e)
    }

    #[allow(dead_code)]
    pub(crate) fn base_depth(&self) -> usize {
        self.base_depth
    }
}

/// `ASTStringLiteral.unescape`: only `\uXXXX` sequences are processed.
fn unescape_unicode(s: &str) -> Option<String> {
    if !s.contains("\\u") {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(u) = rest.find("\\u") {
        out.push_str(rest.get(..u)?);
        let hex = rest.get(u + 2..u + 6)?;
        let v = i32::from_str_radix(hex, 16).ok()?;
        let c = char::from_u32((v & 0xFFFF) as u32).unwrap_or('?');
        out.push(c);
        rest = rest.get(u + 6..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// `ASTStringLiteral.replaceQuotes`: a doubled quote character stands for one.
fn replace_quotes(s: &str, q: char) -> String {
    let pair: String = [q, q].iter().collect();
    if !s.contains(q) {
        return s.to_string();
    }
    s.replace(&pair, &q.to_string())
}
