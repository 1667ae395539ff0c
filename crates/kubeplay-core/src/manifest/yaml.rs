//! The only module that touches YAML libraries. `serde_yaml` turns a document into a
//! `serde_json::Value` (and reports syntax errors with a location); `saphyr-parser`'s event
//! stream, which carries positions, gives every field path its line and column so that later
//! diagnostics (unknown field, required value…) can point into the file. If serde_yaml ever
//! has to go (it is deprecated upstream), this file is all that changes.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diag::Position;

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub type Path = Vec<Seg>;

/// A document cut out of a multi-document file, with the file line its text starts on.
#[derive(Debug)]
pub struct DocumentText {
    pub text: String,
    /// 1-based line (in the file) of the document's first line of text.
    pub first_line: u32,
}

/// Splits a file the way kubectl's `YAMLReader` does: a line that is `---` followed only by
/// white space separates documents. Documents holding nothing but comments are dropped.
pub fn split_documents(text: &str) -> Vec<DocumentText> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut first_line = 1u32;
    for (idx, line) in text.split('\n').enumerate() {
        let line_no = idx as u32 + 1;
        let is_separator = line.strip_prefix("---").is_some_and(|rest| rest.trim().is_empty());
        if is_separator {
            push_document(&mut docs, std::mem::take(&mut current), first_line);
            first_line = line_no + 1;
            continue;
        }
        current.push_str(line.strip_suffix('\r').unwrap_or(line));
        current.push('\n');
    }
    push_document(&mut docs, current, first_line);
    docs
}

fn push_document(docs: &mut Vec<DocumentText>, text: String, first_line: u32) {
    let has_content = text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "..."
    });
    if has_content {
        docs.push(DocumentText { text, first_line });
    }
}

/// A YAML syntax error, positioned within its document.
#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: Position,
    pub message: String,
}

/// Parses one document into JSON, the form the API server works on.
pub fn to_json(doc: &str) -> Result<serde_json::Value, SyntaxError> {
    let mut value: serde_yaml::Value = serde_yaml::from_str(doc).map_err(|e| {
        let position =
            e.location().map(|l| Position { line: l.line() as u32, column: l.column() as u32 }).unwrap_or(Position { line: 1, column: 1 });
        let text = e.to_string();
        // serde_yaml appends " at line L column C"; we carry the position separately and word
        // the message as the API machinery does ("yaml: line 5: mapping values are not…").
        let bare = text.split(" at line ").next().unwrap_or(&text).to_string();
        SyntaxError { message: format!("yaml: line {}: {bare}", position.line), position }
    })?;
    // `apply_merge` only fails on malformed `<<` values; keep the unmerged value then.
    let _ = value.apply_merge();
    Ok(yaml_to_json(value))
}

fn yaml_to_json(value: serde_yaml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    use serde_yaml::Value as Y;
    match value {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(J::Null, J::Number)
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(items) => J::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => J::Object(map.into_iter().map(|(k, v)| (key_string(k), yaml_to_json(v))).collect()),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn key_string(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        other => match yaml_to_json(other) {
            serde_json::Value::String(s) => s,
            v => v.to_string(),
        },
    }
}

/// Where each path of a document starts: the key's position for mapping entries, the item's
/// position for sequence entries.
#[derive(Debug, Default)]
pub struct SpanIndex {
    positions: BTreeMap<Path, Position>,
    /// Plain scalars that YAML 1.1 (go-yaml, which Kubernetes uses) reads as octal integers
    /// but YAML 1.2 reads as strings: `defaultMode: 0755` is 493 to the API server.
    pub octal_ints: Vec<(Path, i64)>,
}

enum Frame {
    Map {
        path: Path,
        key: Option<String>,
    },
    Seq {
        path: Path,
        next: usize,
    },
    /// A complex (non-scalar) mapping key: nothing inside is addressable.
    Ignored,
}

impl SpanIndex {
    /// Indexes a document. A document that does not scan yields what was indexed before the
    /// error (the syntax error itself is reported by [`to_json`]).
    pub fn build(doc: &str) -> SpanIndex {
        let mut index = SpanIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(doc) {
            let Ok((event, span)) = item else { break };
            let pos = Position { line: span.start.line() as u32, column: span.start.col() as u32 + 1 };
            match event {
                Event::Scalar(text, style, ..) => {
                    if style == ScalarStyle::Plain {
                        if let Some(n) = yaml11_octal(&text) {
                            if let Some(path) = index.value_path(&stack) {
                                index.octal_ints.push((path, n));
                            }
                        }
                    }
                    index.node(&mut stack, pos, Some(text.as_ref()));
                }
                Event::Alias(_) => index.node(&mut stack, pos, None),
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let frame = match index.container_path(&mut stack, pos) {
                        Some(path) if is_map => Frame::Map { path, key: None },
                        Some(path) => Frame::Seq { path, next: 0 },
                        None => Frame::Ignored,
                    };
                    stack.push(frame);
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        index
    }

    /// The path the next node takes if it is a value (not a mapping key).
    fn value_path(&self, stack: &[Frame]) -> Option<Path> {
        match stack.last()? {
            Frame::Map { path, key: Some(k) } => {
                let mut p = path.clone();
                p.push(Seg::Key(k.clone()));
                Some(p)
            }
            Frame::Seq { path, next } => {
                let mut p = path.clone();
                p.push(Seg::Index(*next));
                Some(p)
            }
            _ => None,
        }
    }

    /// A scalar or alias node: a key (remember it) or a value (record its path).
    fn node(&mut self, stack: &mut [Frame], pos: Position, scalar: Option<&str>) {
        match stack.last_mut() {
            None => {
                self.positions.entry(Vec::new()).or_insert(pos);
            }
            Some(Frame::Map { path, key }) => {
                // A value consumes the pending key; a key becomes the pending one.
                if key.take().is_none() {
                    let name = scalar.unwrap_or("*").to_string();
                    let mut p = path.clone();
                    p.push(Seg::Key(name.clone()));
                    self.positions.insert(p, pos);
                    *key = Some(name);
                }
            }
            Some(Frame::Seq { path, next }) => {
                let mut p = path.clone();
                p.push(Seg::Index(*next));
                self.positions.insert(p, pos);
                *next += 1;
            }
            Some(Frame::Ignored) => {}
        }
    }

    /// The path a new container node lives at, or None if it is a complex key.
    fn container_path(&mut self, stack: &mut [Frame], pos: Position) -> Option<Path> {
        match stack.last_mut() {
            None => {
                self.positions.entry(Vec::new()).or_insert(pos);
                Some(Vec::new())
            }
            Some(Frame::Map { path, key }) => match key.take() {
                None => None,
                Some(k) => {
                    let mut p = path.clone();
                    p.push(Seg::Key(k));
                    Some(p)
                }
            },
            Some(Frame::Seq { path, next }) => {
                let mut p = path.clone();
                p.push(Seg::Index(*next));
                self.positions.insert(p.clone(), pos);
                *next += 1;
                Some(p)
            }
            Some(Frame::Ignored) => None,
        }
    }

    /// The position of `path`, or of its longest prefix that has one.
    pub fn find(&self, path: &[Seg]) -> Position {
        (0..=path.len()).rev().find_map(|n| self.positions.get(&path[..n]).copied()).unwrap_or(Position { line: 1, column: 1 })
    }
}

/// `0755` → 493: YAML 1.1's octal integers (a leading 0 and octal digits only).
fn yaml11_octal(text: &str) -> Option<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let rest = digits.strip_prefix('0')?;
    if rest.is_empty() || !rest.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i64::from_str_radix(rest, 8).ok().map(|n| sign * n)
}

/// Rewrites the values YAML 1.1 reads differently (see [`SpanIndex::octal_ints`]).
pub fn apply_yaml11(value: &mut serde_json::Value, index: &SpanIndex) {
    for (path, n) in &index.octal_ints {
        let mut target = Some(&mut *value);
        for seg in path {
            target = match (target, seg) {
                (Some(serde_json::Value::Object(m)), Seg::Key(k)) => m.get_mut(k),
                (Some(serde_json::Value::Array(a)), Seg::Index(i)) => a.get_mut(*i),
                _ => None,
            };
        }
        if let Some(v @ serde_json::Value::String(_)) = target {
            *v = serde_json::Value::from(*n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }

    #[test]
    fn splits_like_kubectl() {
        let docs = split_documents("a: 1\n---\n# only a comment\n---   \nb: 2\n--- # not a separator\nc: 3\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[1].first_line, 5);
        assert!(docs[1].text.contains("--- # not a separator"));
    }

    #[test]
    fn locates_block_and_flow_paths() {
        let doc = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: web\n    image: nginx\n  - {name: b, image: busybox}\n";
        let idx = SpanIndex::build(doc);
        let p = |path: Vec<Seg>| idx.find(&path);
        assert_eq!(p(vec![key("kind")]), Position { line: 2, column: 1 });
        assert_eq!(p(vec![key("spec"), key("containers"), Seg::Index(0), key("image")]), Position { line: 6, column: 5 });
        assert_eq!(p(vec![key("spec"), key("containers"), Seg::Index(1), key("image")]), Position { line: 7, column: 15 });
        // A path that does not exist points at its deepest existing ancestor.
        assert_eq!(p(vec![key("spec"), key("nope")]), Position { line: 3, column: 1 });
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = to_json("a: 1\nb: c: d\n").expect_err("invalid yaml");
        assert_eq!(err.position.line, 2);
        assert!(err.message.starts_with("yaml: line 2: mapping values are not allowed"), "{}", err.message);
    }

    #[test]
    fn yaml11_octal_modes_become_numbers() {
        let doc = "mode: 0755\nquoted: \"0755\"\nlist: [0644, 0999, 08]\n";
        let mut v = to_json(doc).expect("valid");
        apply_yaml11(&mut v, &SpanIndex::build(doc));
        assert_eq!(v, serde_json::json!({"mode": 493, "quoted": "0755", "list": [420, "0999", "08"]}));
    }

    #[test]
    fn converts_to_json() {
        let v = to_json("a: 1\nb: [x, true, 1.5]\n3: null\n").expect("valid");
        assert_eq!(v, serde_json::json!({"a": 1, "b": ["x", true, 1.5], "3": null}));
    }
}
