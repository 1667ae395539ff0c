//! kubectl's JSONPath templates (`-o jsonpath=…`, `custom-columns`, `--sort-by`): literal
//! text with `{…}` actions — `.a.b`, `..name`, `[*]`, `[n]`, `[a:b]`, `['key']`, `[a,b]`,
//! `[?(@.x == "y")]`, `{range …}…{end}`, `{"\n"}` — printed as client-go's jsonpath prints:
//! several results joined by a space, maps and lists as compact JSON, missing keys as nothing.

use serde_json::Value;

use super::printers;

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Template(Vec<Node>);

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Root,
    Current,
    Field(String),
    Recursive(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Union(Vec<Step>),
    Filter(Box<Filter>),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    left: Vec<Step>,
    op: Option<(String, Rhs)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Rhs {
    Literal(Value),
    Path(Vec<Step>),
}

impl Template {
    /// Parses `text`; kubectl's `-o jsonpath=` also accepts a bare path without braces.
    pub(super) fn parse(text: &str) -> Result<Template, String> {
        let mut nodes = Vec::new();
        let mut stack: Vec<(Vec<Step>, Vec<Node>)> = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                nodes.push(Node::Text(rest.to_string()));
                break;
            };
            if open > 0 {
                nodes.push(Node::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let Some(close) = action_end(after) else {
                // Like client-go's lexer, a broken expression is reported before the brace.
                parse_path(after.trim())?;
                return Err("unclosed action".into());
            };
            let action = after[..close].trim();
            rest = &after[close + 1..];
            if let Some(expr) = action.strip_prefix("range ") {
                stack.push((parse_path(expr.trim())?, std::mem::take(&mut nodes)));
            } else if action == "end" {
                let Some((path, outer)) = stack.pop() else {
                    return Err("not in range, nothing to end".into());
                };
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(path, body));
            } else if let Some(quoted) = action.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
                nodes.push(Node::Text(unescape(quoted)));
            } else {
                nodes.push(Node::Path(parse_path(action)?));
            }
        }
        if !stack.is_empty() {
            return Err("unclosed range".into());
        }
        Ok(Template(nodes))
    }

    /// The template for a `--sort-by` or custom column: braces optional.
    pub(super) fn expression(text: &str) -> Result<Template, String> {
        let t = text.trim();
        if t.starts_with('{') {
            Template::parse(t)
        } else {
            Template::parse(&format!("{{{t}}}"))
        }
    }

    pub(super) fn execute(&self, data: &Value) -> String {
        let mut out = String::new();
        run(&self.0, data, data, &mut out);
        out
    }

    /// The values of a single-expression template (for columns and sorting).
    pub(super) fn values(&self, data: &Value) -> Vec<Value> {
        self.0
            .iter()
            .flat_map(|n| match n {
                Node::Path(steps) => eval(steps, data, data),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// The index of the `}` closing an action, skipping quoted text.
fn action_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    let ident = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && !matches!(chars[*i], '.' | '[' | ' ' | ')' | '=' | '!' | '<' | '>') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        match chars[i] {
            '$' => {
                steps.push(Step::Root);
                i += 1;
            }
            '@' => {
                steps.push(Step::Current);
                i += 1;
            }
            '.' if chars.get(i + 1) == Some(&'.') => {
                i += 2;
                steps.push(Step::Recursive(ident(&mut i)));
            }
            '.' => {
                i += 1;
                if chars.get(i) == Some(&'*') {
                    i += 1;
                    steps.push(Step::Wildcard);
                } else {
                    let name = ident(&mut i);
                    if !name.is_empty() {
                        steps.push(Step::Field(name));
                    }
                }
            }
            '[' => {
                let close = matching_bracket(&chars, i).ok_or_else(|| "unterminated array".to_string())?;
                let inner: String = chars[i + 1..close].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = close + 1;
            }
            ' ' => i += 1,
            c if i == 0 => {
                // A bare first field (`metadata.name` in custom columns' older form).
                let _ = c;
                steps.push(Step::Field(ident(&mut i)));
            }
            c => return Err(format!("unrecognized character in action: U+{:04X} '{c}'", c as u32)),
        }
    }
    Ok(steps)
}

fn matching_bracket(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (k, &c) in chars.iter().enumerate().skip(open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return Ok(Step::Filter(Box::new(parse_filter(f.trim())?)));
    }
    if inner.contains(',') {
        let parts: Result<Vec<Step>, String> = inner.split(',').map(|p| parse_bracket(p.trim())).collect();
        return Ok(Step::Union(parts?));
    }
    if let Some(q) =
        inner.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')).or_else(|| inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')))
    {
        return Ok(Step::Field(q.to_string()));
    }
    if inner.contains(':') {
        let mut parts = inner.split(':').map(|p| p.trim().parse::<i64>().ok());
        return Ok(Step::Slice(parts.next().flatten(), parts.next().flatten(), parts.next().flatten()));
    }
    inner.parse::<i64>().map(Step::Index).map_err(|_| format!("invalid array index {inner}"))
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = text.split_once(op) {
            let r = r.trim();
            let operand = if let Some(s) =
                r.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).or_else(|| r.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            {
                Rhs::Literal(Value::String(s.to_string()))
            } else if r.starts_with('@') || r.starts_with('$') {
                Rhs::Path(parse_path(r)?)
            } else {
                Rhs::Literal(serde_json::from_str(r).map_err(|_| format!("unrecognized filter value {r}"))?)
            };
            return Ok(Filter { left: parse_path(l.trim())?, op: Some((op.to_string(), operand)) });
        }
    }
    Ok(Filter { left: parse_path(text)?, op: None })
}

fn run(nodes: &[Node], root: &Value, current: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let values = eval(steps, root, current);
                let texts: Vec<String> = values.iter().map(text).collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(steps, body) => {
                for v in eval(steps, root, current) {
                    run(body, root, &v, out);
                }
            }
        }
    }
}

/// How one result prints: strings bare, maps and lists as compact JSON.
pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => printers::json_compact(v),
        other => other.to_string(),
    }
}

fn eval(steps: &[Step], root: &Value, current: &Value) -> Vec<Value> {
    let mut values = vec![current.clone()];
    for step in steps {
        let mut next = Vec::new();
        for v in &values {
            apply(step, root, v, &mut next);
        }
        values = next;
    }
    values
}

fn apply(step: &Step, root: &Value, v: &Value, out: &mut Vec<Value>) {
    match step {
        Step::Root => out.push(root.clone()),
        Step::Current => out.push(v.clone()),
        Step::Field(name) => {
            if let Some(x) = v.get(name.as_str()) {
                out.push(x.clone());
            }
        }
        Step::Recursive(name) => recurse(name, v, out),
        Step::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter().cloned()),
            Value::Object(m) => out.extend(m.values().cloned()),
            _ => {}
        },
        Step::Index(i) => {
            if let Value::Array(a) = v {
                let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                if let Some(x) = usize::try_from(idx).ok().and_then(|k| a.get(k)) {
                    out.push(x.clone());
                }
            }
        }
        Step::Slice(start, end, stride) => {
            if let Value::Array(a) = v {
                let len = a.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let (s, e) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
                let step = stride.unwrap_or(1).max(1) as usize;
                if s < e {
                    out.extend(a[s as usize..e as usize].iter().step_by(step).cloned());
                }
            }
        }
        Step::Union(parts) => {
            for p in parts {
                apply(p, root, v, out);
            }
        }
        Step::Filter(f) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if filter_matches(f, root, item) {
                    out.push(item.clone());
                }
            }
        }
    }
}

fn recurse(name: &str, v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x.clone());
            }
            for child in m.values() {
                recurse(name, child, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                recurse(name, child, out);
            }
        }
        _ => {}
    }
}

fn filter_matches(f: &Filter, root: &Value, item: &Value) -> bool {
    let left = eval(&f.left, root, item);
    let Some((op, operand)) = &f.op else { return !left.is_empty() };
    let right = match operand {
        Rhs::Literal(v) => vec![v.clone()],
        Rhs::Path(p) => eval(p, root, item),
    };
    let (Some(l), Some(r)) = (left.first(), right.first()) else { return false };
    let ordering = match (l.as_f64(), r.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => Some(text(l).cmp(&text(r))),
    };
    match op.as_str() {
        "==" => l == r || (l.as_f64().is_some() && ordering == Some(std::cmp::Ordering::Equal)),
        "!=" => !(l == r || (l.as_f64().is_some() && ordering == Some(std::cmp::Ordering::Equal))),
        "<" => ordering == Some(std::cmp::Ordering::Less),
        ">" => ordering == Some(std::cmp::Ordering::Greater),
        "<=" => ordering.is_some_and(|o| o != std::cmp::Ordering::Greater),
        ">=" => ordering.is_some_and(|o| o != std::cmp::Ordering::Less),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(template: &str, data: &Value) -> String {
        Template::parse(template).expect("template").execute(data)
    }

    #[test]
    fn paths_ranges_filters_and_literals() {
        let list = json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "web"}}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}, "spec": {"replicas": 3}},
            {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}, "spec": {"replicas": 1}}
        ]});
        assert_eq!(run("{.items[*].metadata.name}", &list), "a b");
        assert_eq!(run("{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.replicas}{\"\\n\"}{end}", &list), "a\t3\nb\t1\n");
        assert_eq!(run("{.items[?(@.spec.replicas > 2)].metadata.name}", &list), "a");
        assert_eq!(run("{.items[*].status.conditions[?(@.type==\"Ready\")].status}", &list), "True False");
        assert_eq!(run("{.items[0].metadata.labels}", &list), "{\"app\":\"web\"}");
        assert_eq!(run("{.items[-1].metadata.name}", &list), "b");
        assert_eq!(run("{..name}", &list), "a b");
        assert_eq!(run("{.items[0].nothing}", &list), "", "missing keys print nothing");
        assert_eq!(run("names: {.items[0:1].metadata.name}", &list), "names: a");
        assert_eq!(run("{.items[*]['metadata']['name']}", &list), "a b");
    }

    #[test]
    fn bad_templates_are_errors_not_panics() {
        for t in ["{.items[", "{range .items[*]}", "{end}", "{.a[x]}", "{.a[?(@.b == )]}"] {
            assert!(Template::parse(t).is_err(), "{t}");
        }
    }
}
