//! The POSIX shell grammar the container examples use, read into a tree: words with quoting
//! and expansions, simple commands with assignments and redirections, pipelines, `&&`/`||`
//! lists, `;`/newline/`&` separators, `if`/`elif`/`else`, `while`, `until`, `for … in`,
//! `{ … }` and `( … )`. Errors are worded as BusyBox `sh` words them, because BusyBox is what
//! the examples' images run.

/// One piece of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text; `quoted` text is never split into fields.
    Lit { text: String, quoted: bool },
    /// `$name`, `${name}`, `${name:-word}`, `${#name}`, `$?`, `$1`, …
    Param { name: String, op: Option<(String, Word)>, quoted: bool },
    /// `$(…)` or `` `…` ``: the script's source, parsed when it is expanded.
    Command { source: String, quoted: bool },
    /// `$((…))`.
    Arith { source: String, quoted: bool },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Word(pub Vec<Part>);

impl Word {
    /// The word's text when it is a plain unquoted literal (reserved words, assignments).
    pub fn literal(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Part::Lit { text, quoted: false }] => Some(text),
            _ => None,
        }
    }

    pub fn plain(text: &str) -> Word {
        Word(vec![Part::Lit { text: text.to_string(), quoted: true }])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirOp {
    /// `>` (and `>|`)
    Out,
    /// `>>`
    Append,
    /// `<`
    In,
    /// `>&N`: a copy of descriptor N.
    Dup,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redir {
    pub fd: u8,
    pub op: RedirOp,
    pub target: Word,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Simple {
    pub assigns: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirs: Vec<Redir>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Simple(Simple),
    Pipeline {
        negate: bool,
        commands: Vec<Node>,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    List(Vec<Node>),
    Background(Box<Node>),
    If {
        cond: Box<Node>,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    Loop {
        until: bool,
        cond: Box<Node>,
        body: Box<Node>,
    },
    For {
        var: String,
        words: Option<Vec<Word>>,
        body: Box<Node>,
    },
    /// `{ … }` or `( … )` with the redirections that follow it.
    Group {
        body: Box<Node>,
        redirs: Vec<Redir>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(Word),
    /// `;`, `&&`, `||`, `|`, `&`, `(`, `)`, `;;`, newline.
    Op(&'static str),
    Redir(u8, RedirOp),
}

/// Deeper nesting than this is refused (a script is text a user typed: it must not overflow
/// the stack).
const MAX_DEPTH: usize = 64;

fn unexpected(what: &str) -> String {
    format!("sh: syntax error: unexpected {what}")
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    src: &'a str,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn tokens(mut self) -> Result<Vec<Tok>, String> {
        let _ = self.src;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\\' if self.peek_at(1) == Some('\n') => self.pos += 2,
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\n' => {
                    self.pos += 1;
                    out.push(Tok::Op("\n"));
                }
                ';' | '&' | '|' | '(' | ')' => {
                    let two: String = [c, self.peek_at(1).unwrap_or(' ')].iter().collect();
                    let op = match two.as_str() {
                        "&&" => "&&",
                        "||" => "||",
                        ";;" => ";;",
                        "&>" => {
                            // `&> file`: stdout and stderr to the file.
                            self.pos += 2;
                            out.push(Tok::Redir(1, RedirOp::Out));
                            let target = self.word()?;
                            out.push(Tok::Word(target));
                            out.push(Tok::Redir(2, RedirOp::Dup));
                            out.push(Tok::Word(Word::plain("1")));
                            continue;
                        }
                        _ => match c {
                            ';' => ";",
                            '&' => "&",
                            '|' => "|",
                            '(' => "(",
                            _ => ")",
                        },
                    };
                    self.pos += op.len();
                    out.push(Tok::Op(op));
                }
                '<' | '>' => out.push(self.redir(None)),
                d if d.is_ascii_digit() && matches!(self.peek_at(1), Some('<' | '>')) => {
                    self.pos += 1;
                    out.push(self.redir(d.to_digit(10).map(|n| n as u8)));
                }
                _ => out.push(Tok::Word(self.word()?)),
            }
        }
        Ok(out)
    }

    fn redir(&mut self, fd: Option<u8>) -> Tok {
        let c = self.peek().unwrap_or('>');
        self.pos += 1;
        let op = if c == '<' {
            if self.peek() == Some('<') {
                self.pos += 1; // A here-document is read as input redirection of nothing.
            }
            RedirOp::In
        } else {
            match self.peek() {
                Some('>') => {
                    self.pos += 1;
                    RedirOp::Append
                }
                Some('&') => {
                    self.pos += 1;
                    RedirOp::Dup
                }
                Some('|') => {
                    self.pos += 1;
                    RedirOp::Out
                }
                _ => RedirOp::Out,
            }
        };
        Tok::Redir(fd.unwrap_or(if c == '<' { 0 } else { 1 }), op)
    }

    /// Reads up to the matching close of `$(`/`$((`/`${`, honouring quotes inside.
    fn balanced(&mut self, open: char, close: char) -> Result<String, String> {
        let mut depth = 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                '\\' => self.pos += 1,
                '\'' => {
                    self.pos += 1;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                }
                '"' => {
                    self.pos += 1;
                    while let Some(c) = self.peek() {
                        if c == '\\' {
                            self.pos += 1;
                        } else if c == '"' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ if c == open => depth += 1,
                _ if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        let text: String = self.chars[start..self.pos].iter().collect();
                        self.pos += 1;
                        return Ok(text);
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(unexpected("end of file (expecting \")\")"))
    }

    /// A `$` expansion, the `$` already read.
    fn dollar(&mut self, quoted: bool) -> Result<Part, String> {
        match self.peek() {
            Some('(') if self.peek_at(1) == Some('(') => {
                self.pos += 2;
                let inner = self.balanced('(', ')')?;
                // `$((a))`: the inner text still ends with the first of the two `)`.
                if self.peek() == Some(')') {
                    self.pos += 1;
                }
                Ok(Part::Arith { source: inner, quoted })
            }
            Some('(') => {
                self.pos += 1;
                Ok(Part::Command { source: self.balanced('(', ')')?, quoted })
            }
            Some('{') => {
                self.pos += 1;
                let inner = self.balanced('{', '}')?;
                Ok(param_expansion(&inner, quoted))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                Ok(Part::Param { name: self.chars[start..self.pos].iter().collect(), op: None, quoted })
            }
            Some(c) if c.is_ascii_digit() || "?$#@*!-".contains(c) => {
                self.pos += 1;
                Ok(Part::Param { name: c.to_string(), op: None, quoted })
            }
            _ => Ok(Part::Lit { text: "$".into(), quoted }),
        }
    }

    fn word(&mut self) -> Result<Word, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<Part>, quoted: bool| {
            if !lit.is_empty() {
                parts.push(Part::Lit { text: std::mem::take(lit), quoted });
            }
        };
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                '\\' => {
                    self.pos += 1;
                    if let Some(next) = self.peek() {
                        self.pos += 1;
                        if next != '\n' {
                            flush(&mut lit, &mut parts, false);
                            parts.push(Part::Lit { text: next.to_string(), quoted: true });
                        }
                    }
                }
                '\'' => {
                    flush(&mut lit, &mut parts, false);
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    if self.peek().is_none() {
                        return Err(unexpected("end of file (expecting \"'\")"));
                    }
                    parts.push(Part::Lit { text: self.chars[start..self.pos].iter().collect(), quoted: true });
                    self.pos += 1;
                }
                '"' => {
                    flush(&mut lit, &mut parts, false);
                    self.pos += 1;
                    let mut text = String::new();
                    // `""` is still a word (an empty argument).
                    parts.push(Part::Lit { text: String::new(), quoted: true });
                    loop {
                        match self.peek() {
                            None => return Err(unexpected("end of file (expecting '\"')")),
                            Some('"') => {
                                self.pos += 1;
                                break;
                            }
                            Some('\\') => {
                                self.pos += 1;
                                match self.peek() {
                                    Some(e @ ('"' | '\\' | '$' | '`')) => text.push(e),
                                    Some('\n') => {}
                                    Some(other) => {
                                        text.push('\\');
                                        text.push(other);
                                    }
                                    None => text.push('\\'),
                                }
                                self.pos += 1;
                            }
                            Some('$') => {
                                self.pos += 1;
                                flush(&mut text, &mut parts, true);
                                parts.push(self.dollar(true)?);
                            }
                            Some('`') => {
                                self.pos += 1;
                                flush(&mut text, &mut parts, true);
                                parts.push(Part::Command { source: self.balanced('\u{0}', '`')?, quoted: true });
                            }
                            Some(other) => {
                                text.push(other);
                                self.pos += 1;
                            }
                        }
                    }
                    flush(&mut text, &mut parts, true);
                }
                '$' => {
                    flush(&mut lit, &mut parts, false);
                    self.pos += 1;
                    parts.push(self.dollar(false)?);
                }
                '`' => {
                    flush(&mut lit, &mut parts, false);
                    self.pos += 1;
                    parts.push(Part::Command { source: self.balanced('\u{0}', '`')?, quoted: false });
                }
                _ => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut lit, &mut parts, false);
        Ok(Word(parts))
    }
}

/// The inside of `${…}`: a name, maybe `#` before it, maybe an operator and word after it.
fn param_expansion(inner: &str, quoted: bool) -> Part {
    if let Some(name) = inner.strip_prefix('#').filter(|n| !n.is_empty()) {
        return Part::Param { name: format!("#{name}"), op: None, quoted };
    }
    let end = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
    let end = if end == 0 { inner.chars().next().map_or(0, char::len_utf8) } else { end };
    let (name, rest) = inner.split_at(end);
    let op_len = if rest.starts_with(':') { 2 } else { 1 };
    let op = (!rest.is_empty()).then(|| {
        let op: String = rest.chars().take(op_len).collect();
        let word_src: String = rest.chars().skip(op_len).collect();
        let word = Lexer { chars: word_src.chars().collect(), pos: 0, src: "" }.word().unwrap_or_default();
        (op, word)
    });
    Part::Param { name: name.to_string(), op, quoted }
}

/// Reads a script.
pub fn parse(src: &str) -> Result<Node, String> {
    let tokens = Lexer { chars: src.chars().collect(), pos: 0, src }.tokens()?;
    let mut p = Parser { tokens, pos: 0, depth: 0 };
    let node = p.list(&[])?;
    match p.tokens.get(p.pos) {
        None => Ok(node),
        Some(t) => Err(unexpected(&describe(t))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("\"{}\"", w.literal().unwrap_or("word")),
        Tok::Op("\n") => "newline".into(),
        Tok::Op(op) => format!("\"{op}\""),
        Tok::Redir(..) => "redirection".into(),
    }
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

const RESERVED_ENDS: [&str; 6] = ["then", "else", "elif", "fi", "do", "done"];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn peek_reserved(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) => w.literal(),
            _ => None,
        }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Op("\n"))) {
            self.pos += 1;
        }
    }

    fn expect_reserved(&mut self, word: &str) -> Result<(), String> {
        self.skip_newlines();
        if self.peek_reserved() == Some(word) {
            self.pos += 1;
            Ok(())
        } else {
            Err(unexpected(&self.peek().map_or("end of file".into(), describe)))
        }
    }

    fn at_list_end(&self, ends: &[&str]) -> bool {
        match self.peek() {
            None | Some(Tok::Op(")" | ";;")) => true,
            Some(Tok::Word(w)) => w.literal().is_some_and(|l| RESERVED_ENDS.contains(&l) || l == "}" || ends.contains(&l)),
            _ => false,
        }
    }

    /// Commands separated by `;`, `&` and newlines, up to a reserved word that ends the list.
    fn list(&mut self, ends: &[&str]) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("sh: script nested too deeply".into());
        }
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            if matches!(self.peek(), Some(Tok::Op(";"))) && items.is_empty() {
                return Err(unexpected("\";\""));
            }
            if self.at_list_end(ends) {
                break;
            }
            let item = self.and_or()?;
            match self.peek() {
                Some(Tok::Op("&")) => {
                    self.pos += 1;
                    items.push(Node::Background(Box::new(item)));
                }
                Some(Tok::Op(";" | "\n")) => {
                    self.pos += 1;
                    items.push(item);
                }
                _ => {
                    items.push(item);
                    if !self.at_list_end(ends) {
                        return Err(unexpected(&self.peek().map_or("end of file".into(), describe)));
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(if items.len() == 1 { items.remove(0) } else { Node::List(items) })
    }

    /// A list inside a compound command: it may not be empty.
    fn body(&mut self, ends: &[&str]) -> Result<Node, String> {
        let node = self.list(ends)?;
        if matches!(&node, Node::List(items) if items.is_empty()) {
            return Err(unexpected(&self.peek().map_or("end of file".into(), describe)));
        }
        Ok(node)
    }

    fn and_or(&mut self) -> Result<Node, String> {
        let mut left = self.pipeline()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("&&")) => "&&",
                Some(Tok::Op("||")) => "||",
                _ => return Ok(left),
            };
            self.pos += 1;
            self.skip_newlines();
            let right = self.pipeline()?;
            left = if op == "&&" { Node::And(Box::new(left), Box::new(right)) } else { Node::Or(Box::new(left), Box::new(right)) };
        }
    }

    fn pipeline(&mut self) -> Result<Node, String> {
        let negate = self.peek_reserved() == Some("!");
        if negate {
            self.pos += 1;
        }
        let mut commands = vec![self.command()?];
        while matches!(self.peek(), Some(Tok::Op("|"))) {
            self.pos += 1;
            self.skip_newlines();
            commands.push(self.command()?);
        }
        if commands.len() == 1 && !negate {
            return Ok(commands.remove(0));
        }
        Ok(Node::Pipeline { negate, commands })
    }

    fn command(&mut self) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("sh: script nested too deeply".into());
        }
        let node = match self.peek_reserved() {
            Some("if") => {
                self.pos += 1;
                self.if_rest()?
            }
            Some(w @ ("while" | "until")) => {
                let until = w == "until";
                self.pos += 1;
                let cond = self.body(&[])?;
                self.expect_reserved("do")?;
                let body = self.body(&[])?;
                self.expect_reserved("done")?;
                Node::Loop { until, cond: Box::new(cond), body: Box::new(body) }
            }
            Some("for") => {
                self.pos += 1;
                let var = match self.peek() {
                    Some(Tok::Word(w)) => w.literal().unwrap_or("").to_string(),
                    other => return Err(unexpected(&other.map_or("end of file".into(), describe))),
                };
                self.pos += 1;
                self.skip_newlines();
                let mut words = None;
                if self.peek_reserved() == Some("in") {
                    self.pos += 1;
                    let mut list = Vec::new();
                    while let Some(Tok::Word(w)) = self.peek() {
                        list.push(w.clone());
                        self.pos += 1;
                    }
                    words = Some(list);
                }
                if matches!(self.peek(), Some(Tok::Op(";" | "\n"))) {
                    self.pos += 1;
                }
                self.expect_reserved("do")?;
                let body = self.body(&[])?;
                self.expect_reserved("done")?;
                Node::For { var, words, body: Box::new(body) }
            }
            Some("{") => {
                self.pos += 1;
                let body = self.body(&["}"])?;
                self.expect_reserved("}")?;
                Node::Group { body: Box::new(body), redirs: self.redirs()? }
            }
            Some(w) if RESERVED_ENDS.contains(&w) || w == "}" => return Err(unexpected(&format!("\"{w}\""))),
            _ if matches!(self.peek(), Some(Tok::Op("("))) => {
                self.pos += 1;
                let body = self.body(&[])?;
                if !matches!(self.peek(), Some(Tok::Op(")"))) {
                    return Err(unexpected(&self.peek().map_or("end of file".into(), describe)));
                }
                self.pos += 1;
                Node::Group { body: Box::new(body), redirs: self.redirs()? }
            }
            _ => self.simple()?,
        };
        self.depth -= 1;
        Ok(node)
    }

    /// After `if`: the condition, `then` part, and any `elif`/`else` up to `fi`.
    fn if_rest(&mut self) -> Result<Node, String> {
        let cond = self.body(&[])?;
        self.expect_reserved("then")?;
        let then = self.body(&[])?;
        self.skip_newlines();
        let otherwise = match self.peek_reserved() {
            Some("elif") => {
                self.pos += 1;
                return Ok(Node::If { cond: Box::new(cond), then: Box::new(then), otherwise: Some(Box::new(self.if_rest()?)) });
            }
            Some("else") => {
                self.pos += 1;
                Some(Box::new(self.body(&[])?))
            }
            _ => None,
        };
        self.expect_reserved("fi")?;
        Ok(Node::If { cond: Box::new(cond), then: Box::new(then), otherwise })
    }

    fn redirs(&mut self) -> Result<Vec<Redir>, String> {
        let mut out = Vec::new();
        while let Some(Tok::Redir(fd, op)) = self.peek().cloned() {
            self.pos += 1;
            match self.peek() {
                Some(Tok::Word(target)) => out.push(Redir { fd, op, target: target.clone() }),
                other => return Err(unexpected(&other.map_or("end of file".into(), describe))),
            }
            self.pos += 1;
        }
        Ok(out)
    }

    fn simple(&mut self) -> Result<Node, String> {
        let mut simple = Simple::default();
        loop {
            match self.peek().cloned() {
                Some(Tok::Word(w)) => {
                    self.pos += 1;
                    if matches!(self.peek(), Some(Tok::Op("("))) && simple.words.is_empty() {
                        return Err("sh: shell functions are not simulated by kubeplay".into());
                    }
                    match assignment(&w).filter(|_| simple.words.is_empty()) {
                        Some(a) => simple.assigns.push(a),
                        None => simple.words.push(w),
                    }
                }
                Some(Tok::Redir(..)) => simple.redirs.extend(self.redirs()?),
                _ => break,
            }
        }
        if simple.words.is_empty() && simple.assigns.is_empty() && simple.redirs.is_empty() {
            return Err(unexpected(&self.peek().map_or("end of file".into(), describe)));
        }
        Ok(Node::Simple(simple))
    }
}

/// `NAME=value` at the start of a simple command.
fn assignment(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit { text, quoted: false }) = w.0.first() else { return None };
    let (name, value) = text.split_once('=')?;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    let mut parts = Vec::new();
    if !value.is_empty() {
        parts.push(Part::Lit { text: value.to_string(), quoted: true });
    }
    parts.extend(w.0[1..].iter().cloned().map(|p| match p {
        // The value of an assignment is not split into fields.
        Part::Lit { text, .. } => Part::Lit { text, quoted: true },
        Part::Param { name, op, .. } => Part::Param { name, op, quoted: true },
        Part::Command { source, .. } => Part::Command { source, quoted: true },
        Part::Arith { source, .. } => Part::Arith { source, quoted: true },
    }));
    Some((name.to_string(), Word(parts)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Node {
        match parse(src) {
            Ok(node) => node,
            Err(e) => panic!("{src:?}: {e}"),
        }
    }

    fn words(node: &Node) -> Vec<String> {
        match node {
            Node::Simple(s) => s.words.iter().map(|w| format!("{:?}", w.0)).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn reads_the_constructs_examples_use() {
        assert!(matches!(ok("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"), Node::List(v) if v.len() == 4));
        assert!(matches!(ok("while true; do echo hi; sleep 5; done"), Node::Loop { until: false, .. }));
        assert!(matches!(ok("if [ -f /x ]; then echo y; elif true; then :; else echo n; fi"), Node::If { .. }));
        assert!(matches!(ok("for i in 1 2 3; do echo $i; done"), Node::For { .. }));
        assert!(matches!(ok("a && b || c"), Node::Or(..)));
        assert!(matches!(ok("sleep 3600 & wait"), Node::List(v) if matches!(v[0], Node::Background(_))));
        assert!(matches!(ok("echo a | wc -l"), Node::Pipeline { .. }));
        let Node::Simple(s) = ok("i=0 echo \"$i: $(date)\" > /tmp/out 2>&1") else { panic!() };
        assert_eq!(s.assigns.len(), 1);
        assert_eq!(s.redirs.len(), 2);
        assert_eq!(words(&ok("echo 'a b' \"c $X\"")).len(), 3);
        assert!(matches!(ok("{ echo a; echo b; } > /f"), Node::Group { redirs, .. } if redirs.len() == 1));
    }

    #[test]
    fn errors_are_busybox_worded() {
        assert_eq!(parse("if true; then echo"), Err("sh: syntax error: unexpected end of file".into()));
        assert_eq!(parse("echo 'open"), Err("sh: syntax error: unexpected end of file (expecting \"'\")".into()));
        assert_eq!(parse("done"), Err("sh: syntax error: unexpected \"done\"".into()));
        assert_eq!(parse("; ls"), Err("sh: syntax error: unexpected \";\"".into()));
        assert!(parse(&"(".repeat(500)).is_err(), "deep nesting is refused, not a stack overflow");
    }
}
