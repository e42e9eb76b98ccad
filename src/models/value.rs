//! Decoding of stored JSON values into the Rust types of their fields.

use super::{Fqid, Id, MAX_ID};

/// A stored value that does not have the shape its field needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("got {got}, expected {expected}")]
pub struct DecodeError {
    /// What the value is, such as `string` or `number -3`.
    pub got: String,
    pub expected: &'static str,
}

/// A type that a field's JSON value decodes to.
pub trait FieldValue: Sized {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError>;
}

fn describe(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(_) => "boolean".into(),
        serde_json::Value::Number(n) => format!("number {n}"),
        serde_json::Value::String(_) => "string".into(),
        serde_json::Value::Array(_) => "list".into(),
        serde_json::Value::Object(_) => "object".into(),
    }
}

fn parse(raw: &[u8], expected: &'static str) -> Result<serde_json::Value, DecodeError> {
    serde_json::from_slice(raw).map_err(|_| DecodeError {
        got: "invalid JSON".into(),
        expected,
    })
}

fn mismatch<T>(value: &serde_json::Value, expected: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError {
        got: describe(value),
        expected,
    })
}

impl FieldValue for String {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        match parse(raw, "string")? {
            serde_json::Value::String(s) => Ok(s),
            other => mismatch(&other, "string"),
        }
    }
}

impl FieldValue for i64 {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "integer")?;
        value
            .as_i64()
            .map_or_else(|| mismatch(&value, "integer"), Ok)
    }
}

impl FieldValue for f64 {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "number")?;
        value
            .as_f64()
            .map_or_else(|| mismatch(&value, "number"), Ok)
    }
}

impl FieldValue for bool {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "boolean")?;
        value
            .as_bool()
            .map_or_else(|| mismatch(&value, "boolean"), Ok)
    }
}

impl FieldValue for serde_json::Value {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        parse(raw, "JSON")
    }
}

impl FieldValue for Vec<i64> {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "list of integers")?;
        let Some(items) = value.as_array() else {
            return mismatch(&value, "list of integers");
        };
        items
            .iter()
            .map(|item| item.as_i64().map_or_else(|| mismatch(item, "integer"), Ok))
            .collect()
    }
}

impl FieldValue for Vec<String> {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "list of strings")?;
        let Some(items) = value.as_array() else {
            return mismatch(&value, "list of strings");
        };
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .map_or_else(|| mismatch(item, "string"), Ok)
            })
            .collect()
    }
}

impl FieldValue for Id {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "id")?;
        match value.as_u64() {
            Some(id) if id > 0 && id <= MAX_ID => Ok(id),
            _ => mismatch(&value, "positive id"),
        }
    }
}

impl FieldValue for Vec<Id> {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let value = parse(raw, "list of ids")?;
        let Some(items) = value.as_array() else {
            return mismatch(&value, "list of ids");
        };
        items
            .iter()
            .map(|item| match item.as_u64() {
                Some(id) if id > 0 && id <= MAX_ID => Ok(id),
                _ => mismatch(item, "positive id"),
            })
            .collect()
    }
}

impl FieldValue for Fqid {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        match parse(raw, "fqid")? {
            serde_json::Value::String(s) => Fqid::parse(&s).map_err(|_| DecodeError {
                got: format!("string {s:?}"),
                expected: "fqid",
            }),
            other => mismatch(&other, "fqid"),
        }
    }
}

impl FieldValue for Vec<Fqid> {
    fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let items = Vec::<String>::decode(raw).map_err(|err| DecodeError {
            expected: "list of fqids",
            ..err
        })?;
        items
            .iter()
            .map(|s| {
                Fqid::parse(s).map_err(|_| DecodeError {
                    got: format!("string {s:?}"),
                    expected: "fqid",
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Collection;

    #[test]
    fn decode_scalars() {
        assert_eq!(String::decode(br#""x""#).unwrap(), "x");
        assert_eq!(i64::decode(b"-3").unwrap(), -3);
        assert!(bool::decode(b"true").unwrap());
        assert!(String::decode(b"3").is_err());
    }

    #[test]
    fn decode_ids_rejects_non_positive() {
        assert_eq!(Id::decode(b"5").unwrap(), 5);
        assert!(Id::decode(b"0").is_err());
        assert!(Id::decode(b"\"5\"").is_err());
        assert_eq!(Vec::<Id>::decode(b"[1,2]").unwrap(), vec![1, 2]);
        assert!(Vec::<Id>::decode(b"[1,\"2\"]").is_err());
    }

    #[test]
    fn decode_fqids() {
        assert_eq!(
            Fqid::decode(br#""motion/3""#).unwrap(),
            Fqid::new(Collection::Motion, 3)
        );
        assert!(Fqid::decode(br#""motion""#).is_err());
        let list = Vec::<Fqid>::decode(br#"["topic/1","assignment/2"]"#).unwrap();
        assert_eq!(list.len(), 2);
    }
}
