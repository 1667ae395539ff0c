//! Strict decoding of a JSON document into a k8s-openapi type, the way the API server decodes
//! with `fieldValidation=Strict`: every key the type does not know is reported with its full
//! path (`spec.replica`), and a type error names the field it happened at.
//!
//! k8s-openapi's generated `Deserialize` impls ignore unknown keys, but they hand the list of
//! known field names to `deserialize_struct`. `Probe` is a `Deserializer` over a
//! `serde_json::Value` that records that list per path, so it can both spot unknown keys and
//! suggest the nearest known one.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::yaml::{Path, Seg};

/// A key that the target type does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    pub path: Path,
    /// The known field names at that level, for a did-you-mean.
    pub known: &'static [&'static str],
}

#[derive(Debug)]
pub struct DecodeError {
    pub path: Option<Path>,
    pub message: String,
    /// The Go struct that holds the field the error happened at (`DeploymentSpec`), as
    /// encoding/json names it.
    pub go_struct: Option<&'static str>,
    /// encoding/json's field path: struct fields only, no indices or map keys.
    pub go_field: Vec<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError { path: None, message: msg.to_string(), go_struct: None, go_field: Vec::new() }
    }
}

/// Decodes `value` into `T`, returning the unknown fields met on the way.
pub fn decode_strict<T: DeserializeOwned>(value: &Value) -> Result<(T, Vec<UnknownField>), DecodeError> {
    let unknown = RefCell::new(Vec::new());
    let probe = Probe { value, path: Vec::new(), unknown: &unknown, parent_struct: None, go_field: Vec::new() };
    let decoded = T::deserialize(probe)?;
    Ok((decoded, unknown.into_inner()))
}

/// `spec.template.spec.containers[0].image`, as the API server prints field paths.
pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            // A map key that is not a field name prints as `field.Path.Key` does: `data[tls.key]`.
            Seg::Key(k) if k.contains(['.', '/']) => out.push_str(&format!("[{k}]")),
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The known name closest to `field`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(field: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = field.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= (k.len().max(field.len()) / 3).max(1) + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Probe<'a> {
    value: &'a Value,
    path: Path,
    unknown: &'a RefCell<Vec<UnknownField>>,
    /// The struct whose field this value is.
    parent_struct: Option<&'static str>,
    go_field: Vec<String>,
}

impl<'a> Probe<'a> {
    fn child(&self, value: &'a Value, seg: Seg, parent_struct: Option<&'static str>, field: Option<&str>) -> Probe<'a> {
        let mut path = self.path.clone();
        path.push(seg);
        let mut go_field = self.go_field.clone();
        go_field.extend(field.map(str::to_string));
        Probe { value, path, unknown: self.unknown, parent_struct, go_field }
    }

    /// Pins an error to the innermost path it came from.
    fn at<T>(&self, result: Result<T, DecodeError>) -> Result<T, DecodeError> {
        result.map_err(|mut e| {
            if e.path.is_none() {
                e.path = Some(self.path.clone());
                e.go_struct = self.parent_struct;
                e.go_field = self.go_field.clone();
            }
            e
        })
    }

    fn visit_map<V: Visitor<'a>>(
        self,
        map: &'a serde_json::Map<String, Value>,
        known: Option<(&'static str, &'static [&'static str])>,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let access = MapProbe { parent: &self, iter: map.iter(), pending: None, known };
        let result = visitor.visit_map(access);
        self.at(result)
    }
}

impl<'de> de::Deserializer<'de> for Probe<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let access = SeqProbe { parent: &self, iter: items.iter().enumerate() };
                visitor.visit_seq(access)
            }
            Value::Object(map) => return self.visit_map(map, None, visitor),
        };
        self.at(result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Object(map) => self.visit_map(map, Some((name, fields)), visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::String(s) => {
                let result = visitor.visit_enum(s.as_str().into_deserializer());
                self.at(result)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct SeqProbe<'p, 'a> {
    parent: &'p Probe<'a>,
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
}

impl<'a> SeqAccess<'a> for SeqProbe<'_, 'a> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, v)) => seed.deserialize(self.parent.child(v, Seg::Index(i), self.parent.parent_struct, None)).map(Some),
        }
    }
}

struct MapProbe<'p, 'a> {
    parent: &'p Probe<'a>,
    iter: serde_json::map::Iter<'a>,
    pending: Option<(&'a String, &'a Value)>,
    known: Option<(&'static str, &'static [&'static str])>,
}

impl<'a> MapAccess<'a> for MapProbe<'_, 'a> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        if let Some((_, known)) = self.known {
            if !known.contains(&key.as_str()) {
                let mut path = self.parent.path.clone();
                path.push(Seg::Key(key.clone()));
                self.parent.unknown.borrow_mut().push(UnknownField { path, known });
            }
        }
        self.pending = Some((key, value));
        let key_de: de::value::BorrowedStrDeserializer<'a, DecodeError> = de::value::BorrowedStrDeserializer::new(key.as_str());
        seed.deserialize(key_de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        match self.pending.take() {
            Some((key, value)) => {
                // A struct's fields name it; a map's values keep the struct the map is in.
                let holder = self.known.map(|(name, _)| name).or(self.parent.parent_struct);
                let field = self.known.is_some().then_some(key.as_str());
                seed.deserialize(self.parent.child(value, Seg::Key(key.clone()), holder, field))
            }
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    #[test]
    fn reports_unknown_fields_with_paths_and_candidates() {
        let v = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replica": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "c", "image": "nginx", "imagePullPolice": "Always"}]}}}
        });
        let (d, unknown) = decode_strict::<Deployment>(&v).expect("decodes");
        assert_eq!(d.metadata.name.as_deref(), Some("web"));
        let paths: Vec<String> = unknown.iter().map(|u| display_path(&u.path)).collect();
        assert_eq!(paths, vec!["spec.replica", "spec.template.spec.containers[0].imagePullPolice"]);
        assert_eq!(did_you_mean("replica", unknown[0].known), Some("replicas"));
        assert_eq!(did_you_mean("imagePullPolice", unknown[1].known), Some("imagePullPolicy"));
        assert_eq!(did_you_mean("zzzzzz", unknown[0].known), None);
    }

    #[test]
    fn type_errors_carry_their_path() {
        let v = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "three"}});
        let err = decode_strict::<Deployment>(&v).expect_err("bad type");
        assert_eq!(display_path(&err.path.expect("path")), "spec.replicas");
        assert!(err.message.contains("invalid type: string \"three\""), "{}", err.message);
        assert_eq!(err.go_struct, Some("DeploymentSpec"));
    }

    #[test]
    fn accepts_int_or_string_and_quantities() {
        let v = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
            "template": {"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": 1, "memory": "64Mi"}}}]}}}});
        let (_, unknown) = decode_strict::<Deployment>(&v).expect("decodes");
        assert!(unknown.is_empty(), "{unknown:?}");
    }
}
