//! kubectl's output encodings: the tab-aligned table writer, `-o yaml` (as sigs.k8s.io/yaml
//! and go-yaml write it) and `-o json` (Go's `json.MarshalIndent` with four spaces).

use serde_json::Value;

/// `printers.GetNewTabWriter`: minwidth 6, padding 3, columns padded with spaces; the last
/// cell of a row is not padded.
pub fn table(rows: &[Vec<String>]) -> String {
    let n_cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; n_cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                widths[i] = widths[i].max((cell.chars().count() + 3).max(6));
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// `-o json`: four-space indentation, keys sorted, `<`, `>` and `&` escaped as Go does.
pub fn json(value: &Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    if value.serialize(&mut ser).is_err() {
        return String::from("{}\n");
    }
    let text = String::from_utf8_lossy(&buf).replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    format!("{text}\n")
}

/// Go's `json.Marshal`: compact, keys sorted, `<`, `>` and `&` escaped.
pub fn json_compact(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    text.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// `-o yaml`.
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (k, v) in map {
        indent(out, level);
        out.push_str(&string(k, level));
        out.push(':');
        write_value_after_key(out, v, level);
    }
}

fn write_value_after_key(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        // go-yaml does not indent a sequence under its key.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, level);
        }
        other => write_scalar(out, other, level),
    }
}

/// A scalar after `key:` or `-`: a block literal when it spans lines, else one line.
fn write_scalar(out: &mut String, v: &Value, level: usize) {
    out.push(' ');
    match v {
        Value::String(s) if s.contains('\n') => out.push_str(&literal(s, level + 2)),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                // The first key shares the dash's line.
                let mut first = true;
                for (k, v) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&string(k, level + 2));
                    out.push(':');
                    write_value_after_key(out, v, level + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, level + 2);
            }
            other => write_scalar(out, other, level),
        }
    }
}

/// A block literal (`|`, `|-`, `|+`) holding a multi-line string.
fn literal(s: &str, level: usize) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let body = s.trim_end_matches('\n');
    let mut out = format!("|{chomp}\n");
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(&mut out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, 0),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// A string scalar: plain when go-yaml would leave it plain, double-quoted when it would read
/// back as another type, single-quoted when plain style cannot hold it.
fn string(s: &str, _level: usize) -> String {
    if s.is_empty() {
        return "\"\"".into();
    }
    if resolves_to_non_string(s) {
        return format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: [&str; 22] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON",
        "off", "Off", "OFF",
    ];
    if WORDS.contains(&s) || ["null", "Null", "NULL", "~", ".inf", ".Inf", "-.inf", ".nan", ".NaN"].contains(&s) {
        return true;
    }
    is_number(s) || is_timestamp(s)
}

fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    let body = body.replace('_', "");
    let (mantissa, exp) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_string(), Some(e.to_string())),
        None => (body.clone(), None),
    };
    let mantissa_ok = {
        let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
        let has_digit = int.chars().chain(frac.chars()).any(|c| c.is_ascii_digit());
        has_digit && int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(&e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    // Base-60 (`1:20`) also resolves to a number in YAML 1.1.
    let sexagesimal = body.contains(':') && body.split(':').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    (mantissa_ok && exp_ok) || sexagesimal
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

fn plain_allowed(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    let last = s.chars().last().unwrap_or(' ');
    if first.is_whitespace() || last.is_whitespace() {
        return false;
    }
    if "[]{},#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if (first == '-' || first == '?' || first == ':') && (s.len() == 1 || s[1..].starts_with(' ')) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains('\t') {
        return false;
    }
    s.chars().all(|c| !c.is_control())
}

/// What `kubectl get -o json|yaml|jsonpath` works on: the one object asked for by name, or a
/// `List` of them.
pub fn object_or_list<'a>(objects: impl IntoIterator<Item = &'a crate::api::Object>, single: bool) -> Value {
    let mut items: Vec<Value> = objects.into_iter().map(crate::api::Object::to_json).collect();
    if single && items.len() == 1 {
        return items.remove(0);
    }
    serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_pads_like_kubectl() {
        let rows = vec![
            vec!["NAME".into(), "READY".into(), "STATUS".into(), "RESTARTS".into(), "AGE".into()],
            vec!["web-7c5ddbdf54-8x9kq".into(), "1/1".into(), "Running".into(), "0".into(), "5s".into()],
        ];
        assert_eq!(
            table(&rows),
            "NAME                   READY   STATUS    RESTARTS   AGE\nweb-7c5ddbdf54-8x9kq   1/1     Running   0          5s\n"
        );
    }

    #[test]
    fn yaml_matches_go_yaml_style() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "web"}, "resourceVersion": "12",
                         "annotations": {"note": "a: b", "cfg": "{\"a\":1}\n"}},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}], "args": ["yes", "-c", "echo hi"]}],
                     "securityContext": {}, "tolerations": []},
        });
        let expect = r#"apiVersion: v1
kind: Pod
metadata:
  annotations:
    cfg: |
      {"a":1}
    note: 'a: b'
  creationTimestamp: "2026-01-01T00:00:00Z"
  labels:
    app: web
  resourceVersion: "12"
spec:
  containers:
  - args:
    - "yes"
    - -c
    - echo hi
    name: c
    ports:
    - containerPort: 80
  securityContext: {}
  tolerations: []
"#;
        assert_eq!(yaml(&v), expect);
    }

    #[test]
    fn json_is_four_space_indented_and_html_escaped() {
        assert_eq!(json(&json!({"b": [1], "a": "<x>"})), "{\n    \"a\": \"\\u003cx\\u003e\",\n    \"b\": [\n        1\n    ]\n}\n");
    }

    #[test]
    fn number_like_strings_are_quoted() {
        for s in ["80", "1.5", "1e3", "0x1f", "true", "no", "~", "2026-01-01"] {
            assert!(string(s, 0).starts_with('"'), "{s}");
        }
        for s in ["nginx", "app.kubernetes.io/name", "-c", "1.27-alpine", "v1"] {
            assert_eq!(string(s, 0), s);
        }
    }
}
