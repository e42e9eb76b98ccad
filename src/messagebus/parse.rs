//! Parsing of Redis stream replies. Nothing in a reply can make the parser panic: every
//! unexpected shape is an error or a skipped pair.

use crate::datastore::{compact_json, validate_json, Value};
use crate::models::Key;

/// One stream entry: its id and its field-value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    pub id: String,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A reply that does not have the shape of XREAD or XRANGE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid stream reply: {0}")]
pub struct StreamParseError(String);

fn error(message: impl Into<String>) -> StreamParseError {
    StreamParseError(message.into())
}

fn items(value: &redis::Value) -> Option<&[redis::Value]> {
    match value {
        redis::Value::Array(items) | redis::Value::Set(items) => Some(items),
        _ => None,
    }
}

fn bytes(value: &redis::Value) -> Option<&[u8]> {
    match value {
        redis::Value::BulkString(data) => Some(data),
        redis::Value::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}

/// Parses an XREAD reply and returns the entries of the named stream. A nil reply (the
/// read timed out) has no entries.
pub fn parse_xread(
    reply: &redis::Value,
    stream: &str,
) -> Result<Vec<StreamEntry>, StreamParseError> {
    let streams: Vec<(&[u8], &redis::Value)> = match reply {
        redis::Value::Nil => return Ok(Vec::new()),
        redis::Value::Map(pairs) => pairs
            .iter()
            .map(|(name, entries)| Ok((bytes(name).ok_or_else(|| error("stream name"))?, entries)))
            .collect::<Result<_, StreamParseError>>()?,
        other => items(other)
            .ok_or_else(|| error("reply is not a list"))?
            .iter()
            .map(|pair| match items(pair) {
                Some([name, entries]) => {
                    Ok((bytes(name).ok_or_else(|| error("stream name"))?, entries))
                }
                _ => Err(error("stream is not a pair of name and entries")),
            })
            .collect::<Result<_, StreamParseError>>()?,
    };

    for (name, entries) in streams {
        if name == stream.as_bytes() {
            return parse_entries(entries);
        }
    }
    Ok(Vec::new())
}

/// Parses a list of stream entries, as XRANGE returns it.
pub fn parse_entries(value: &redis::Value) -> Result<Vec<StreamEntry>, StreamParseError> {
    let list = items(value).ok_or_else(|| error("entries are not a list"))?;
    list.iter()
        .map(|entry| {
            let Some([id, fields]) = items(entry) else {
                return Err(error("entry is not a pair of id and fields"));
            };
            let id = bytes(id)
                .and_then(|id| std::str::from_utf8(id).ok())
                .ok_or_else(|| error("entry id is not text"))?;
            let fields = match fields {
                redis::Value::Nil => &[][..],
                other => items(other).ok_or_else(|| error("entry fields are not a list"))?,
            };
            if fields.len() % 2 != 0 {
                return Err(error(format!("entry {id} has an odd number of fields")));
            }
            let pairs = fields
                .chunks_exact(2)
                .map(|pair| {
                    let field = bytes(&pair[0]).ok_or_else(|| error("field is not a string"))?;
                    let value = bytes(&pair[1]).ok_or_else(|| error("value is not a string"))?;
                    Ok((field.to_vec(), value.to_vec()))
                })
                .collect::<Result<_, StreamParseError>>()?;
            Ok(StreamEntry {
                id: id.to_string(),
                fields: pairs,
            })
        })
        .collect()
}

/// A pair of a `ModifiedFields` entry that is not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// The key is not UTF-8.
    KeyNotUtf8,
    /// The key is not a `collection/id/field` of models.yml, for the reason in the text.
    InvalidKey(String),
    /// The key is valid but its value is not JSON, so the key changed to an unknown value.
    InvalidValue(Key),
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::KeyNotUtf8 => write!(f, "a key is not UTF-8"),
            Skipped::InvalidKey(reason) => write!(f, "invalid key: {reason}"),
            Skipped::InvalidValue(key) => write!(f, "value of {key} is not JSON"),
        }
    }
}

/// Turns a `ModifiedFields` entry into changed keys with their values (`None` for JSON
/// null). A pair with an invalid key or a value that is not JSON is skipped and reported
/// to `skipped`, so one bad pair never stores a broken value.
pub fn parse_modified_fields(
    entry: &StreamEntry,
    mut skipped: impl FnMut(Skipped),
) -> Vec<(Key, Value)> {
    let mut changes = Vec::with_capacity(entry.fields.len());
    for (field, value) in &entry.fields {
        let Ok(text) = std::str::from_utf8(field) else {
            skipped(Skipped::KeyNotUtf8);
            continue;
        };
        let key = match Key::parse(text) {
            Ok(key) => key,
            Err(err) => {
                skipped(Skipped::InvalidKey(err.to_string()));
                continue;
            }
        };
        if !validate_json(value) {
            skipped(Skipped::InvalidValue(key));
            continue;
        }
        let value = compact_json(value);
        if &value[..] == b"null" {
            changes.push((key, None));
        } else {
            changes.push((key, Some(value)));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::Value as R;

    fn bulk(text: &str) -> R {
        R::BulkString(text.as_bytes().to_vec())
    }

    fn entry(id: &str, fields: &[&str]) -> R {
        R::Array(vec![
            bulk(id),
            R::Array(fields.iter().map(|f| bulk(f)).collect()),
        ])
    }

    #[test]
    fn parse_xread_returns_entries_of_the_stream() {
        let reply = R::Array(vec![
            R::Array(vec![
                bulk("other"),
                R::Array(vec![entry("1-0", &["a", "b"])]),
            ]),
            R::Array(vec![
                bulk("ModifiedFields"),
                R::Array(vec![
                    entry("2-0", &["motion/1/title", "\"A\""]),
                    entry("3-0", &["motion/1/title", "null"]),
                ]),
            ]),
        ]);

        let entries = parse_xread(&reply, "ModifiedFields").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "2-0");
        assert_eq!(entries[1].fields[0].1, b"null");
    }

    #[test]
    fn parse_xread_accepts_nil_and_resp3_maps() {
        assert!(parse_xread(&R::Nil, "ModifiedFields").unwrap().is_empty());
        let reply = R::Map(vec![(
            bulk("ModifiedFields"),
            R::Array(vec![entry("1-0", &[])]),
        )]);
        assert_eq!(parse_xread(&reply, "ModifiedFields").unwrap().len(), 1);
    }

    #[test]
    fn parse_xread_rejects_broken_shapes() {
        assert!(parse_xread(&R::Int(3), "s").is_err());
        assert!(parse_xread(&R::Array(vec![R::Int(1)]), "s").is_err());
        let odd = R::Array(vec![R::Array(vec![
            bulk("s"),
            R::Array(vec![R::Array(vec![bulk("1-0"), R::Array(vec![bulk("k")])])]),
        ])]);
        assert!(parse_xread(&odd, "s").is_err());
        let no_id = R::Array(vec![R::Array(vec![
            bulk("s"),
            R::Array(vec![R::Array(vec![R::Int(1)])]),
        ])]);
        assert!(parse_xread(&no_id, "s").is_err());
    }

    #[test]
    fn modified_fields_skip_invalid_pairs() {
        let entry = StreamEntry {
            id: "1-0".into(),
            fields: vec![
                (b"motion/1/title".to_vec(), b"\"A\"".to_vec()),
                (b"motion/1/nope".to_vec(), b"1".to_vec()),
                (b"motion/x/title".to_vec(), b"1".to_vec()),
                (b"motion/2/title".to_vec(), b"not json".to_vec()),
                (b"motion/3/title".to_vec(), b"null".to_vec()),
                (b"motion/4/title".to_vec(), b"{\"a\": [1, 2]}".to_vec()),
                (vec![0xff, 0xfe], b"1".to_vec()),
            ],
        };
        let mut problems = Vec::new();
        let changes = parse_modified_fields(&entry, |problem| problems.push(problem));

        let rendered: Vec<(String, Option<String>)> = changes
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.as_ref().map(|v| String::from_utf8(v.to_vec()).unwrap()),
                )
            })
            .collect();
        assert_eq!(
            rendered,
            vec![
                ("motion/1/title".into(), Some("\"A\"".into())),
                ("motion/3/title".into(), None),
                ("motion/4/title".into(), Some("{\"a\":[1,2]}".into())),
            ]
        );
        assert_eq!(problems.len(), 4);
        assert!(problems.contains(&Skipped::InvalidValue(
            Key::parse("motion/2/title").unwrap()
        )));
        assert!(problems.contains(&Skipped::KeyNotUtf8));
    }
}

/// An entry id of a Redis stream, `milliseconds-sequence`, in the order Redis gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryId(pub u64, pub u64);

impl EntryId {
    pub fn parse(text: &str) -> Option<EntryId> {
        let (millis, sequence) = text.split_once('-').unwrap_or((text, "0"));
        Some(EntryId(millis.parse().ok()?, sequence.parse().ok()?))
    }
}

/// The parts of an `XINFO STREAM` reply that show whether a reader missed entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    /// The id of the newest entry ever added.
    pub last_generated: EntryId,
    /// The newest id that XDEL deleted; `0-0` when none was. Trimming does not set it.
    pub max_deleted: EntryId,
    /// The id of the oldest entry still in the stream; `0-0` when it is empty.
    pub first: EntryId,
    /// The number of entries in the stream.
    pub length: u64,
}

/// Parses an `XINFO STREAM` reply (a flat list or a map of names and values).
pub fn parse_stream_info(value: &redis::Value) -> Result<StreamInfo, StreamParseError> {
    let pairs: Vec<(&redis::Value, &redis::Value)> = match value {
        redis::Value::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        other => {
            let items = items(other).ok_or_else(|| error("XINFO reply is not a list"))?;
            items
                .chunks_exact(2)
                .map(|pair| (&pair[0], &pair[1]))
                .collect()
        }
    };
    let id_of = |name: &str| -> Option<EntryId> {
        pairs
            .iter()
            .find(|(key, _)| bytes(key) == Some(name.as_bytes()))
            .and_then(|(_, value)| bytes(value))
            .and_then(|raw| std::str::from_utf8(raw).ok())
            .and_then(EntryId::parse)
    };
    Ok(StreamInfo {
        last_generated: id_of("last-generated-id")
            .ok_or_else(|| error("XINFO reply has no last-generated-id"))?,
        max_deleted: id_of("max-deleted-entry-id").unwrap_or(EntryId(0, 0)),
        first: id_of("recorded-first-entry-id").unwrap_or(EntryId(0, 0)),
        length: pairs
            .iter()
            .find(|(key, _)| bytes(key) == Some(b"length".as_slice()))
            .and_then(|(_, value)| match value {
                redis::Value::Int(length) => u64::try_from(*length).ok(),
                _ => None,
            })
            .ok_or_else(|| error("XINFO reply has no length"))?,
    })
}
