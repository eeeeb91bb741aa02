//! Token manager modelled on the JavaCC token manager that Velocity 1.7
//! generates from its grammar: the same lexical states, the same token
//! patterns (longest match, ties go to the earlier declared token), the same
//! MORE / SPECIAL_TOKEN / SKIP behaviour and the same lexical actions with
//! their state stack. Whitespace and newline handling of Velocity 1.7 falls
//! out of these token definitions (for example `RPAREN` swallows trailing
//! blanks and one newline, `SET_DIRECTIVE` swallows leading blanks).

/// Token kinds; the numbers are those of Velocity 1.7's `ParserConstants`,
/// so that "declared earlier wins" is "smaller number wins".
pub(crate) mod k {
    pub(crate) const EOF: u8 = 0;
    pub(crate) const INDEX_LBRACKET: u8 = 1;
    pub(crate) const INDEX_RBRACKET: u8 = 2;
    pub(crate) const LBRACKET: u8 = 3;
    pub(crate) const RBRACKET: u8 = 4;
    pub(crate) const COMMA: u8 = 5;
    pub(crate) const DOUBLEDOT: u8 = 6;
    pub(crate) const COLON: u8 = 7;
    pub(crate) const LEFT_CURLEY: u8 = 8;
    pub(crate) const RIGHT_CURLEY: u8 = 9;
    pub(crate) const LPAREN: u8 = 10;
    pub(crate) const RPAREN: u8 = 11;
    pub(crate) const REFMOD2_RPAREN: u8 = 12;
    pub(crate) const ESCAPE_DIRECTIVE: u8 = 13;
    pub(crate) const SET_DIRECTIVE: u8 = 14;
    pub(crate) const DOLLAR: u8 = 15;
    pub(crate) const DOLLARBANG: u8 = 16;
    pub(crate) const TEXTBLOCK_START: u8 = 17;
    pub(crate) const FORMAL_COMMENT_START: u8 = 18;
    pub(crate) const MULTI_COMMENT_START: u8 = 19;
    pub(crate) const HASH: u8 = 20;
    pub(crate) const SINGLE_LINE_COMMENT_START: u8 = 21;
    pub(crate) const DOUBLE_ESCAPE: u8 = 22;
    pub(crate) const ESCAPE: u8 = 23;
    pub(crate) const TEXT: u8 = 24;
    pub(crate) const SINGLE_LINE_COMMENT: u8 = 25;
    pub(crate) const FORMAL_COMMENT: u8 = 26;
    pub(crate) const MULTI_LINE_COMMENT: u8 = 27;
    pub(crate) const TEXTBLOCK: u8 = 28;
    pub(crate) const COMMENT_SKIP: u8 = 29;
    pub(crate) const TEXTBLOCK_MORE: u8 = 30;
    pub(crate) const WHITESPACE: u8 = 31;
    pub(crate) const STRING_LITERAL: u8 = 32;
    pub(crate) const TRUE: u8 = 33;
    pub(crate) const FALSE: u8 = 34;
    pub(crate) const NEWLINE: u8 = 35;
    pub(crate) const MINUS: u8 = 36;
    pub(crate) const PLUS: u8 = 37;
    pub(crate) const MULTIPLY: u8 = 38;
    pub(crate) const DIVIDE: u8 = 39;
    pub(crate) const MODULUS: u8 = 40;
    pub(crate) const LOGICAL_AND: u8 = 41;
    pub(crate) const LOGICAL_OR: u8 = 42;
    pub(crate) const LOGICAL_LT: u8 = 43;
    pub(crate) const LOGICAL_LE: u8 = 44;
    pub(crate) const LOGICAL_GT: u8 = 45;
    pub(crate) const LOGICAL_GE: u8 = 46;
    pub(crate) const LOGICAL_EQUALS: u8 = 47;
    pub(crate) const LOGICAL_NOT_EQUALS: u8 = 48;
    pub(crate) const LOGICAL_NOT: u8 = 49;
    pub(crate) const EQUALS: u8 = 50;
    pub(crate) const END: u8 = 51;
    pub(crate) const IF_DIRECTIVE: u8 = 52;
    pub(crate) const ELSEIF_DIRECTIVE: u8 = 53;
    pub(crate) const ELSE_DIRECTIVE: u8 = 54;
    pub(crate) const INTEGER_LITERAL: u8 = 56;
    pub(crate) const FLOATING_POINT_LITERAL: u8 = 57;
    pub(crate) const WORD: u8 = 61;
    pub(crate) const BRACKETED_WORD: u8 = 62;
    pub(crate) const IDENTIFIER: u8 = 66;
    pub(crate) const DOT: u8 = 67;
    pub(crate) const LCURLY: u8 = 68;
    pub(crate) const RCURLY: u8 = 69;
    pub(crate) const REFERENCE_TERMINATOR: u8 = 70;
    pub(crate) const DIRECTIVE_TERMINATOR: u8 = 71;
    pub(crate) const EMPTY_INDEX: u8 = 72;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum State {
    Reference,
    RefModifier,
    RefIndex,
    Directive,
    RefMod2,
    Default,
    InTextblock,
    InMultiLineComment,
    InFormalComment,
    InSingleLineComment,
    PreDirective,
}

const REFERENCE_KINDS: &[u8] = &[
    k::INDEX_LBRACKET,
    k::SET_DIRECTIVE,
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::SINGLE_LINE_COMMENT_START,
    k::TRUE,
    k::FALSE,
    k::IDENTIFIER,
    k::DOT,
    k::LCURLY,
    k::RCURLY,
    k::REFERENCE_TERMINATOR,
    k::EMPTY_INDEX,
];
const REFMODIFIER_KINDS: &[u8] = &[
    k::INDEX_LBRACKET,
    k::LPAREN,
    k::SET_DIRECTIVE,
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::TRUE,
    k::FALSE,
    k::IDENTIFIER,
    k::DOT,
    k::LCURLY,
    k::RCURLY,
    k::REFERENCE_TERMINATOR,
];
const REFINDEX_KINDS: &[u8] = &[
    k::INDEX_RBRACKET,
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::WHITESPACE,
    k::STRING_LITERAL,
    k::TRUE,
    k::FALSE,
    k::INTEGER_LITERAL,
    k::FLOATING_POINT_LITERAL,
];
const DIRECTIVE_KINDS: &[u8] = &[
    k::LBRACKET,
    k::RBRACKET,
    k::COMMA,
    k::DOUBLEDOT,
    k::COLON,
    k::LEFT_CURLEY,
    k::RIGHT_CURLEY,
    k::LPAREN,
    k::RPAREN,
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::SINGLE_LINE_COMMENT_START,
    k::WHITESPACE,
    k::STRING_LITERAL,
    k::TRUE,
    k::FALSE,
    k::NEWLINE,
    k::MINUS,
    k::PLUS,
    k::MULTIPLY,
    k::DIVIDE,
    k::MODULUS,
    k::LOGICAL_AND,
    k::LOGICAL_OR,
    k::LOGICAL_LT,
    k::LOGICAL_LE,
    k::LOGICAL_GT,
    k::LOGICAL_GE,
    k::LOGICAL_EQUALS,
    k::LOGICAL_NOT_EQUALS,
    k::LOGICAL_NOT,
    k::EQUALS,
    k::INTEGER_LITERAL,
    k::FLOATING_POINT_LITERAL,
    k::WORD,
    k::BRACKETED_WORD,
];
const REFMOD2_KINDS: &[u8] = &[
    k::LBRACKET,
    k::RBRACKET,
    k::COMMA,
    k::DOUBLEDOT,
    k::COLON,
    k::LEFT_CURLEY,
    k::RIGHT_CURLEY,
    k::REFMOD2_RPAREN,
    k::SET_DIRECTIVE,
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::WHITESPACE,
    k::STRING_LITERAL,
    k::TRUE,
    k::FALSE,
    k::INTEGER_LITERAL,
    k::FLOATING_POINT_LITERAL,
    k::IDENTIFIER,
    k::DOT,
];
const DEFAULT_KINDS: &[u8] = &[
    k::ESCAPE_DIRECTIVE,
    k::SET_DIRECTIVE,
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::SINGLE_LINE_COMMENT_START,
    k::DOUBLE_ESCAPE,
    k::ESCAPE,
    k::TEXT,
    k::EMPTY_INDEX,
];
const TEXTBLOCK_KINDS: &[u8] = &[
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::TEXTBLOCK,
    k::TEXTBLOCK_MORE,
];
const MULTI_COMMENT_KINDS: &[u8] = &[
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::MULTI_LINE_COMMENT,
    k::COMMENT_SKIP,
];
const FORMAL_COMMENT_KINDS: &[u8] = &[
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::FORMAL_COMMENT,
    k::COMMENT_SKIP,
];
const SINGLE_COMMENT_KINDS: &[u8] = &[
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::SINGLE_LINE_COMMENT,
    k::COMMENT_SKIP,
];
const PRE_DIRECTIVE_KINDS: &[u8] = &[
    k::DOLLAR,
    k::DOLLARBANG,
    k::TEXTBLOCK_START,
    k::FORMAL_COMMENT_START,
    k::MULTI_COMMENT_START,
    k::HASH,
    k::SINGLE_LINE_COMMENT_START,
    k::END,
    k::IF_DIRECTIVE,
    k::ELSEIF_DIRECTIVE,
    k::ELSE_DIRECTIVE,
    k::INTEGER_LITERAL,
    k::FLOATING_POINT_LITERAL,
    k::WORD,
    k::BRACKETED_WORD,
    k::DIRECTIVE_TERMINATOR,
];

fn kinds_of(state: State) -> &'static [u8] {
    match state {
        State::Reference => REFERENCE_KINDS,
        State::RefModifier => REFMODIFIER_KINDS,
        State::RefIndex => REFINDEX_KINDS,
        State::Directive => DIRECTIVE_KINDS,
        State::RefMod2 => REFMOD2_KINDS,
        State::Default => DEFAULT_KINDS,
        State::InTextblock => TEXTBLOCK_KINDS,
        State::InMultiLineComment => MULTI_COMMENT_KINDS,
        State::InFormalComment => FORMAL_COMMENT_KINDS,
        State::InSingleLineComment => SINGLE_COMMENT_KINDS,
        State::PreDirective => PRE_DIRECTIVE_KINDS,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Category {
    Token,
    More,
    Special,
    Skip,
}

fn category(kind: u8) -> Category {
    match kind {
        k::DOLLAR
        | k::DOLLARBANG
        | k::TEXTBLOCK_START
        | k::FORMAL_COMMENT_START
        | k::MULTI_COMMENT_START
        | k::HASH
        | k::TEXTBLOCK_MORE => Category::More,
        k::REFERENCE_TERMINATOR | k::DIRECTIVE_TERMINATOR => Category::Special,
        k::COMMENT_SKIP => Category::Skip,
        _ => Category::Token,
    }
}

/// A token. Its image is `src[start..end]`, except that the parser shows a
/// DOT as "." (Velocity's DOT action replaces the image, MORE prefix and
/// all).
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) kind: u8,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Special tokens (reference / directive terminators) lexed just before
    /// this token, oldest first, as spans of the source.
    pub(crate) specials: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

struct Saved {
    state: State,
    lparen: i32,
    rparen: i32,
}

pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    pub(crate) state: State,
    stack: Vec<Saved>,
    lparen: i32,
    rparen: i32,
    in_comment: bool,
    pub(crate) in_set: bool,
    /// Last scanned run of backslashes `[start, end)` (keeps lexing linear
    /// on long runs of backslashes).
    bs_run: std::cell::Cell<(usize, usize)>,
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphabetic()
}
fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src: src.as_bytes(),
            pos: 0,
            state: State::Default,
            stack: Vec::new(),
            lparen: 0,
            rparen: 0,
            in_comment: false,
            in_set: false,
            bs_run: std::cell::Cell::new((0, 0)),
        }
    }

    /// End of the run of backslashes starting at `i`.
    fn backslashes_end(&self, i: usize) -> usize {
        let (s, e) = self.bs_run.get();
        if s <= i && i < e {
            return e;
        }
        let mut j = i;
        while self.at(j) == Some(b'\\') {
            j += 1;
        }
        if j > i {
            self.bs_run.set((i, j));
        }
        j
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.src.get(i).copied()
    }

    fn starts(&self, i: usize, lit: &[u8]) -> bool {
        self.src.get(i..i + lit.len()) == Some(lit)
    }

    pub(crate) fn state_stack_push(&mut self) {
        self.stack.push(Saved {
            state: self.state,
            lparen: self.lparen,
            rparen: self.rparen,
        });
        self.lparen = 0;
    }

    pub(crate) fn state_stack_pop(&mut self) -> bool {
        match self.stack.pop() {
            Some(s) => {
                self.lparen = s.lparen;
                self.rparen = s.rparen;
                self.state = s.state;
                true
            }
            None => {
                self.lparen = 0;
                self.state = State::Default;
                false
            }
        }
    }

    pub(crate) fn switch_to(&mut self, s: State) {
        self.state = s;
    }

    fn rparen_handler(&mut self) {
        let mut closed = self.in_comment;
        while !closed {
            if self.lparen > 0 {
                if self.lparen == self.rparen + 1 {
                    self.state_stack_pop();
                } else {
                    self.rparen += 1;
                }
                closed = true;
            } else if !self.state_stack_pop() {
                break;
            }
        }
    }

    /// Semantic lookahead of the parser's `Directive()` production: is the
    /// next non-blank character a `(`?
    pub(crate) fn is_left_parenthesis(&self) -> bool {
        let mut i = self.pos;
        while let Some(c) = self.at(i) {
            match c {
                b'(' => return true,
                b' ' | b'\n' | b'\r' | b'\t' => i += 1,
                _ => return false,
            }
        }
        false
    }

    /// Length of an optional `[ \t]* (\n | \r | \r\n)` tail at `i`.
    fn newline_tail(&self, i: usize) -> usize {
        let mut j = i;
        while matches!(self.at(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match self.at(j) {
            Some(b'\n') => j + 1 - i,
            Some(b'\r') => {
                if self.at(j + 1) == Some(b'\n') {
                    j + 2 - i
                } else {
                    j + 1 - i
                }
            }
            _ => 0,
        }
    }

    fn word_len(&self, i: usize) -> usize {
        match self.at(i) {
            Some(c) if is_alpha(c) || c == b'_' || c == b'@' => {
                let mut j = i + 1;
                while let Some(c) = self.at(j) {
                    if c.is_ascii_alphanumeric() || c == b'_' || c == b'@' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                j - i
            }
            _ => 0,
        }
    }

    fn bracketed_word_len(&self, i: usize) -> usize {
        if self.at(i) != Some(b'{') {
            return 0;
        }
        match self.at(i + 1) {
            Some(c) if is_alpha(c) || c == b'_' => {}
            _ => return 0,
        }
        let mut j = i + 2;
        while let Some(c) = self.at(j) {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'@' {
                j += 1;
            } else {
                break;
            }
        }
        if self.at(j) == Some(b'}') {
            j + 1 - i
        } else {
            0
        }
    }

    fn digits(&self, mut i: usize) -> usize {
        let s = i;
        while matches!(self.at(i), Some(c) if is_digit(c)) {
            i += 1;
        }
        i - s
    }

    fn exponent_len(&self, i: usize) -> usize {
        if !matches!(self.at(i), Some(b'e' | b'E')) {
            return 0;
        }
        let mut j = i + 1;
        if matches!(self.at(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let d = self.digits(j);
        if d == 0 { 0 } else { j + d - i }
    }

    fn integer_len(&self, i: usize) -> usize {
        let mut j = i;
        if self.at(j) == Some(b'-') {
            j += 1;
        }
        let d = self.digits(j);
        if d == 0 {
            return 0;
        }
        j += d;
        if self.starts(j, b"..") {
            j += 2;
        }
        j - i
    }

    fn float_len(&self, i: usize) -> usize {
        let mut j = i;
        if self.at(j) == Some(b'-') {
            j += 1;
        }
        let d = self.digits(j);
        let mut best = 0;
        if d > 0 {
            // digits "." digits* exp?
            if self.at(j + d) == Some(b'.') {
                let mut e = j + d + 1;
                e += self.digits(e);
                e += self.exponent_len(e);
                best = best.max(e - i);
            }
            // digits exp
            let x = self.exponent_len(j + d);
            if x > 0 {
                best = best.max(j + d + x - i);
            }
        } else if self.at(j) == Some(b'.') {
            let d2 = self.digits(j + 1);
            if d2 > 0 {
                let mut e = j + 1 + d2;
                e += self.exponent_len(e);
                best = best.max(e - i);
            }
        }
        best
    }

    fn string_len(&self, i: usize) -> usize {
        let q = match self.at(i) {
            Some(c @ (b'"' | b'\'')) => c,
            _ => return 0,
        };
        let mut j = i + 1;
        let mut accept = 0;
        while let Some(c) = self.at(j) {
            if c == q {
                accept = j + 1 - i;
                if self.at(j + 1) == Some(q) {
                    j += 2;
                    continue;
                }
                break;
            }
            j += 1;
        }
        accept
    }

    fn identifier_len(&self, i: usize) -> usize {
        match self.at(i) {
            Some(c) if is_alpha(c) || c == b'_' => {
                let mut j = i + 1;
                while let Some(c) = self.at(j) {
                    if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                j - i
            }
            _ => 0,
        }
    }

    fn lit(&self, i: usize, lit: &[u8]) -> usize {
        if self.starts(i, lit) { lit.len() } else { 0 }
    }

    fn lit2(&self, i: usize, a: &[u8], b: &[u8]) -> usize {
        self.lit(i, a).max(self.lit(i, b))
    }

    /// Length of the longest match of token `kind` at `i` (0 = no match).
    fn match_len(&self, kind: u8, i: usize) -> usize {
        match kind {
            k::INDEX_LBRACKET | k::LBRACKET => self.lit(i, b"["),
            k::INDEX_RBRACKET | k::RBRACKET => self.lit(i, b"]"),
            k::COMMA => self.lit(i, b","),
            k::DOUBLEDOT => self.lit(i, b".."),
            k::COLON => self.lit(i, b":"),
            k::LEFT_CURLEY | k::LCURLY => self.lit(i, b"{"),
            k::RIGHT_CURLEY | k::RCURLY => self.lit(i, b"}"),
            k::LPAREN => self.lit(i, b"("),
            k::RPAREN if self.at(i) == Some(b')') => 1 + self.newline_tail(i + 1),
            k::REFMOD2_RPAREN => self.lit(i, b")"),
            k::ESCAPE_DIRECTIVE => {
                let j = self.backslashes_end(i);
                let n = j - i;
                if n % 2 == 1 && self.at(j) == Some(b'#') {
                    let w = self.word_len(j + 1).max(self.bracketed_word_len(j + 1));
                    if w > 0 { j + 1 + w - i } else { 0 }
                } else {
                    0
                }
            }
            k::SET_DIRECTIVE => {
                let mut j = i;
                while matches!(self.at(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                let l = self.lit2(j, b"#set", b"#{set}");
                if l == 0 {
                    return 0;
                }
                j += l;
                while self.at(j) == Some(b' ') {
                    j += 1;
                }
                if self.at(j) == Some(b'(') {
                    j + 1 - i
                } else {
                    0
                }
            }
            k::DOLLAR => {
                let j = self.backslashes_end(i);
                if self.at(j) == Some(b'$') {
                    j + 1 - i
                } else {
                    0
                }
            }
            k::DOLLARBANG => {
                let j = self.backslashes_end(i);
                if self.at(j) != Some(b'$') {
                    return 0;
                }
                let j = self.backslashes_end(j + 1);
                if self.at(j) == Some(b'!') {
                    j + 1 - i
                } else {
                    0
                }
            }
            k::TEXTBLOCK_START => self.lit(i, b"#[["),
            k::FORMAL_COMMENT_START
                if self.starts(i, b"#**") && matches!(self.at(i + 3), Some(c) if c != b'#') =>
            {
                4
            }
            k::MULTI_COMMENT_START => self.lit(i, b"#*"),
            k::HASH => self.lit(i, b"#"),
            k::SINGLE_LINE_COMMENT_START => self.lit(i, b"##"),
            k::DOUBLE_ESCAPE => self.lit(i, b"\\\\"),
            k::ESCAPE => self.lit(i, b"\\"),
            k::TEXT => {
                let mut j = i;
                while let Some(c) = self.at(j) {
                    if c == b'$' || c == b'#' || c == b'\\' {
                        break;
                    }
                    j += 1;
                }
                j - i
            }
            k::SINGLE_LINE_COMMENT | k::NEWLINE => match self.at(i) {
                Some(b'\n') => 1,
                Some(b'\r') => {
                    if self.at(i + 1) == Some(b'\n') {
                        2
                    } else {
                        1
                    }
                }
                _ => 0,
            },
            k::FORMAL_COMMENT | k::MULTI_LINE_COMMENT => self.lit(i, b"*#"),
            k::TEXTBLOCK => self.lit(i, b"]]#"),
            k::COMMENT_SKIP
            | k::TEXTBLOCK_MORE
            | k::REFERENCE_TERMINATOR
            | k::DIRECTIVE_TERMINATOR => {
                // one character (UTF-8 aware so spans stay on char boundaries)
                match self.at(i) {
                    None => 0,
                    Some(c) if c < 0x80 => 1,
                    Some(_) => {
                        let mut j = i + 1;
                        while matches!(self.at(j), Some(c) if (c & 0xC0) == 0x80) {
                            j += 1;
                        }
                        j - i
                    }
                }
            }
            k::WHITESPACE => {
                let mut j = i;
                while matches!(self.at(j), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    j += 1;
                }
                j - i
            }
            k::STRING_LITERAL => self.string_len(i),
            k::TRUE => self.lit(i, b"true"),
            k::FALSE => self.lit(i, b"false"),
            k::MINUS => self.lit(i, b"-"),
            k::PLUS => self.lit(i, b"+"),
            k::MULTIPLY => self.lit(i, b"*"),
            k::DIVIDE => self.lit(i, b"/"),
            k::MODULUS => self.lit(i, b"%"),
            k::LOGICAL_AND => self.lit2(i, b"&&", b"and"),
            k::LOGICAL_OR => self.lit2(i, b"||", b"or"),
            k::LOGICAL_LT => self.lit2(i, b"<", b"lt"),
            k::LOGICAL_LE => self.lit2(i, b"<=", b"le"),
            k::LOGICAL_GT => self.lit2(i, b">", b"gt"),
            k::LOGICAL_GE => self.lit2(i, b">=", b"ge"),
            k::LOGICAL_EQUALS => self.lit2(i, b"==", b"eq"),
            k::LOGICAL_NOT_EQUALS => self.lit2(i, b"!=", b"ne"),
            k::LOGICAL_NOT => self.lit2(i, b"!", b"not"),
            k::EQUALS => self.lit(i, b"="),
            k::END => {
                let l = self.lit2(i, b"end", b"{end}");
                if l == 0 {
                    0
                } else {
                    l + self.newline_tail(i + l)
                }
            }
            k::IF_DIRECTIVE => self.lit2(i, b"if", b"{if}"),
            k::ELSEIF_DIRECTIVE => self.lit2(i, b"elseif", b"{elseif}"),
            k::ELSE_DIRECTIVE => {
                let l = self.lit2(i, b"else", b"{else}");
                if l == 0 {
                    0
                } else {
                    l + self.newline_tail(i + l)
                }
            }
            k::INTEGER_LITERAL => self.integer_len(i),
            k::FLOATING_POINT_LITERAL => self.float_len(i),
            k::WORD => self.word_len(i),
            k::BRACKETED_WORD => self.bracketed_word_len(i),
            k::IDENTIFIER => self.identifier_len(i),
            k::DOT
                if self.at(i) == Some(b'.') && matches!(self.at(i + 1), Some(c) if is_alpha(c)) =>
            {
                2
            }
            k::EMPTY_INDEX => {
                if self.starts(i, b"$[") {
                    2
                } else if self.starts(i, b"$![") {
                    3
                } else if self.starts(i, b"$\\![") {
                    4
                } else if self.starts(i, b"$.") {
                    // Velocity 1.7 declares EMPTY_INDEX as
                    // "$[" | "$![" | "$\\![" | "$.": a `$` before a dot is
                    // text and, there being no action, the lexer stays in
                    // its state (so `$.a.b` is text, not `$.` + reference).
                    2
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    fn longest(&self, i: usize) -> Option<(u8, usize)> {
        let mut best: Option<(u8, usize)> = None;
        for &kind in kinds_of(self.state) {
            let l = self.match_len(kind, i);
            if l > 0 {
                match best {
                    Some((_, bl)) if bl >= l => {}
                    _ => best = Some((kind, l)),
                }
            }
        }
        best
    }

    fn lex_error(&self, offset: usize) -> LexError {
        let message = match self.src.get(offset) {
            None => "Lexical error, encountered <EOF>".to_string(),
            Some(_) => {
                let s = String::from_utf8_lossy(&self.src[offset..]);
                let c = s.chars().next().unwrap_or('?');
                format!("Lexical error, encountered {c:?}")
            }
        };
        LexError { offset, message }
    }

    /// Actions of MORE patterns (all guarded by `!inComment` in the grammar).
    fn more_action(&mut self, kind: u8) {
        if self.in_comment {
            return;
        }
        match kind {
            k::DOLLAR | k::DOLLARBANG => {
                if self.state == State::Reference {
                    self.state_stack_pop();
                }
                self.state_stack_push();
                self.switch_to(State::Reference);
            }
            k::TEXTBLOCK_START => {
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InTextblock);
            }
            k::FORMAL_COMMENT_START => {
                self.pos -= 1;
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InFormalComment);
            }
            k::MULTI_COMMENT_START => {
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InMultiLineComment);
            }
            k::HASH => {
                if self.state == State::Reference || self.state == State::RefModifier {
                    self.state_stack_pop();
                }
                self.state_stack_push();
                self.switch_to(State::PreDirective);
            }
            _ => {}
        }
    }

    /// Actions of TOKEN patterns. May shorten the token (`end`).
    fn token_action(&mut self, kind: u8, end: &mut usize) {
        match kind {
            k::INDEX_LBRACKET => {
                self.state_stack_push();
                self.switch_to(State::RefIndex);
            }
            k::INDEX_RBRACKET => {
                self.state_stack_pop();
            }
            k::LPAREN => {
                if !self.in_comment {
                    self.lparen += 1;
                }
                if self.state == State::RefModifier {
                    self.switch_to(State::RefMod2);
                }
            }
            k::RPAREN => self.rparen_handler(),
            k::REFMOD2_RPAREN => self.switch_to(State::Reference),
            k::SET_DIRECTIVE if !self.in_comment => {
                self.state_stack_push();
                self.in_set = true;
                self.switch_to(State::Directive);
                self.lparen += 1;
            }
            k::SINGLE_LINE_COMMENT_START if !self.in_comment => {
                if self.state == State::Reference {
                    self.state_stack_pop();
                }
                self.in_comment = true;
                self.state_stack_push();
                self.switch_to(State::InSingleLineComment);
            }
            k::SINGLE_LINE_COMMENT | k::FORMAL_COMMENT | k::MULTI_LINE_COMMENT | k::TEXTBLOCK => {
                self.in_comment = false;
                self.state_stack_pop();
            }
            k::STRING_LITERAL
                if self.state == State::Directive && !self.in_set && self.lparen == 0 =>
            {
                self.state_stack_pop();
            }
            k::NEWLINE => {
                self.state_stack_pop();
                self.in_set = false;
            }
            k::END | k::ELSE_DIRECTIVE => {
                self.state_stack_pop();
            }
            k::IF_DIRECTIVE | k::ELSEIF_DIRECTIVE => self.switch_to(State::Directive),
            k::INTEGER_LITERAL => {
                let start_state = self.state;
                if *end >= 2 && self.src.get(*end - 2..*end) == Some(b"..") {
                    *end -= 2;
                    self.pos -= 2;
                }
                if self.lparen == 0
                    && !self.in_set
                    && start_state != State::RefMod2
                    && start_state != State::RefIndex
                {
                    self.state_stack_pop();
                }
            }
            k::FLOATING_POINT_LITERAL
                if self.lparen == 0 && !self.in_set && self.state != State::RefMod2 =>
            {
                self.state_stack_pop();
            }
            k::DOT => {
                *end -= 1;
                self.pos -= 1;
                self.switch_to(State::RefModifier);
            }
            k::RCURLY => {
                self.state_stack_pop();
            }
            _ => {}
        }
    }

    pub(crate) fn next_token(&mut self) -> Result<Token, LexError> {
        let mut specials: Vec<(usize, usize)> = Vec::new();
        'outer: loop {
            if self.pos >= self.src.len() {
                return Ok(Token {
                    kind: k::EOF,
                    start: self.src.len(),
                    end: self.src.len(),
                    specials,
                });
            }
            let begin = self.pos;
            loop {
                let Some((kind, len)) = self.longest(self.pos) else {
                    return Err(self.lex_error(self.pos));
                };
                self.pos += len;
                match category(kind) {
                    Category::Token => {
                        let mut end = self.pos;
                        self.token_action(kind, &mut end);
                        return Ok(Token {
                            kind,
                            start: begin,
                            end,
                            specials,
                        });
                    }
                    Category::Special => {
                        specials.push((begin, self.pos));
                        // both terminators: backup(1) and pop
                        self.pos -= len;
                        self.state_stack_pop();
                        continue 'outer;
                    }
                    Category::Skip => continue 'outer,
                    Category::More => {
                        self.more_action(kind);
                        if self.pos >= self.src.len() {
                            return Err(self.lex_error(self.pos));
                        }
                    }
                }
            }
        }
    }
}
