//! Label selectors: the `-l` string form kubectl takes and the `LabelSelector` objects in specs.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed selector: all requirements must hold. Empty selects everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector(pub Vec<Requirement>);

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

impl Selector {
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let empty = BTreeMap::new();
        let labels = labels.unwrap_or(&empty);
        self.0.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses kubectl's `-l` syntax: `app=web,tier!=db,env in (a,b),!legacy,release`.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part)?);
        }
        Ok(Selector(reqs))
    }

    /// A `LabelSelector` from a spec. Unknown operators yield an error message.
    pub fn from_label_selector(sel: &LabelSelector) -> Result<Selector, String> {
        let mut reqs: Vec<Requirement> =
            sel.match_labels.iter().flatten().map(|(k, v)| Requirement::Equals(k.clone(), v.clone())).collect();
        for expr in sel.match_expressions.iter().flatten() {
            let values = expr.values.clone().unwrap_or_default();
            let key = expr.key.clone();
            reqs.push(match expr.operator.as_str() {
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                other => return Err(format!("{other:?} is not a valid label selector operator")),
            });
        }
        Ok(Selector(reqs))
    }
}

/// Splits on commas that are not inside `( … )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    // The selector lexer's complaint about the token after the key.
    let bad = || {
        let found = part.split_whitespace().nth(1).unwrap_or(part);
        format!("unable to parse requirement: found '{found}', expected: in, notin, =, ==, !=, gt, lt")
    };
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key.trim().to_string()));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(k.trim().to_string(), v.trim().to_string()));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(Requirement::Equals(k.trim().to_string(), v.trim().to_string()));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(Requirement::Equals(k.trim().to_string(), v.trim().to_string()));
    }
    let words: Vec<&str> = part.splitn(3, char::is_whitespace).collect();
    if words.len() == 3 && (words[1] == "in" || words[1] == "notin") {
        let list = words[2].trim();
        let inner = list.strip_prefix('(').and_then(|l| l.strip_suffix(')')).ok_or_else(bad)?;
        let values = inner.split(',').map(|v| v.trim().to_string()).collect();
        let key = words[0].to_string();
        return Ok(if words[1] == "in" { Requirement::In(key, values) } else { Requirement::NotIn(key, values) });
    }
    if part.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(Requirement::Exists(part.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_and_matches_kubectl_selectors() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let sel = |s: &str| Selector::parse(s).expect(s).matches(Some(&l));
        assert!(sel("app=web"));
        assert!(sel("app==web,tier"));
        assert!(!sel("app!=web"));
        assert!(sel("tier in (front, back)"));
        assert!(!sel("tier notin (front)"));
        assert!(sel("!legacy"));
        assert!(!sel("legacy"));
        assert!(sel(""));
        assert_eq!(
            Selector::parse("app web"),
            Err("unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt".to_string())
        );
    }
}
