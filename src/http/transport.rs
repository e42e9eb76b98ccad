//! Message transports besides plain lines: zstd compression, and the long polling
//! fallback with its multipart bodies and the hash state that makes the next poll send
//! only what changed.

use crate::datastore::Value;
use crate::models::Key;
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use hashbrown::HashMap;

/// The zstd level of compressed messages; low levels are fast and compress JSON well.
const ZSTD_LEVEL: i32 = 3;

/// The encoding of message lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct Format {
    /// Each line is zstd-compressed and written as unpadded standard base64.
    pub compress: bool,
}

impl Format {
    /// Encodes a message (JSON and a newline) for the wire.
    pub fn encode(&self, message: Bytes) -> Bytes {
        if !self.compress {
            return message;
        }
        // zstd fails only on invalid parameters, and the level is a valid constant.
        let compressed = zstd::bulk::compress(&message, ZSTD_LEVEL).unwrap_or_default();
        let mut line = base64::engine::general_purpose::STANDARD_NO_PAD.encode(compressed);
        line.push('\n');
        Bytes::from(line)
    }
}

/// The values a long polling client already has: a hash of the value of each key, 0
/// for keys without a value.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct HashState {
    hashes: HashMap<Key, u64>,
}

/// The hash state a client sent back cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid long polling hash: {0}")]
pub struct HashStateError(String);

impl HashState {
    /// Reads the state from its text: standard base64 of little-endian pairs of key and
    /// hash. An empty text is an empty state; only text that is not base64 is an error.
    pub fn decode(text: &str) -> Result<HashState, HashStateError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|error| HashStateError(error.to_string()))?;
        // As in the Go service, bytes that do not make a whole pair and keys that name no
        // field are ignored: the client then gets those values again.
        let mut hashes = HashMap::with_capacity(raw.len() / 16);
        for pair in raw.chunks_exact(16) {
            let (key, hash) = pair.split_at(8);
            let key = u64::from_le_bytes(key.try_into().unwrap_or_default());
            let hash = u64::from_le_bytes(hash.try_into().unwrap_or_default());
            if let Some(key) = Key::from_u64(key) {
                hashes.insert(key, hash);
            }
        }
        Ok(HashState { hashes })
    }

    /// Writes the state as text for the client.
    pub fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(self.hashes.len() * 16);
        let mut pairs: Vec<(&Key, &u64)> = self.hashes.iter().collect();
        pairs.sort_unstable();
        for (key, hash) in pairs {
            raw.extend_from_slice(&key.to_u64().to_le_bytes());
            raw.extend_from_slice(&hash.to_le_bytes());
        }
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// Compares every key of a request with the state: returns the keys whose value the
    /// client does not have (a key that lost its value as `None`) and records them.
    /// Keys that are no longer requested leave the state.
    pub fn filter_all(&mut self, entries: &[(Key, Value)]) -> Vec<(Key, Value)> {
        let requested: hashbrown::HashSet<Key> = entries.iter().map(|(key, _)| *key).collect();
        self.hashes.retain(|key, _| requested.contains(key));
        self.filter_changes(entries)
    }

    /// Like `filter_all` for changed keys only; other keys stay as they are.
    pub fn filter_changes(&mut self, changes: &[(Key, Value)]) -> Vec<(Key, Value)> {
        let mut out = Vec::new();
        for (key, value) in changes {
            match value {
                None => {
                    if self.hashes.insert(*key, 0).is_some_and(|old| old != 0) {
                        out.push((*key, None));
                    }
                }
                Some(bytes) => {
                    let hash = value_hash(bytes);
                    if self.hashes.insert(*key, hash) != Some(hash) {
                        out.push((*key, value.clone()));
                    }
                }
            }
        }
        out
    }
}

/// Hashes a value. The result is never 0, which stands for no value.
fn value_hash(value: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value).max(1)
}

/// A `multipart/form-data` body with text fields.
pub struct MultipartBody {
    pub content_type: String,
    pub body: Bytes,
}

/// Builds a multipart body of named parts, in order.
pub fn multipart_body(parts: &[(&str, &[u8])]) -> MultipartBody {
    let boundary = random_boundary();
    let mut body = BytesMut::new();
    for (name, content) in parts {
        body.put_slice(format!("--{boundary}\r\n").as_bytes());
        body.put_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.put_slice(content);
        body.put_slice(b"\r\n");
    }
    body.put_slice(format!("--{boundary}--\r\n").as_bytes());
    MultipartBody {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body: body.freeze(),
    }
}

fn random_boundary() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..30)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}

/// A long polling request body that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid multipart body: {0}")]
pub struct MultipartError(String);

/// Splits a multipart request body into its first part (the request) and its second
/// part (the hash state).
pub async fn split_multipart(
    content_type: &str,
    body: Bytes,
) -> Result<(Bytes, String), MultipartError> {
    let boundary =
        multer::parse_boundary(content_type).map_err(|error| MultipartError(error.to_string()))?;
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let request = next_part(&mut multipart).await?;
    let hash = next_part(&mut multipart).await?;
    let hash = String::from_utf8(hash.to_vec())
        .map_err(|_| MultipartError("the hash part is not text".into()))?;
    Ok((request, hash))
}

async fn next_part(multipart: &mut multer::Multipart<'_>) -> Result<Bytes, MultipartError> {
    match multipart.next_field().await {
        Ok(Some(field)) => field
            .bytes()
            .await
            .map_err(|error| MultipartError(error.to_string())),
        Ok(None) => Err(MultipartError("a part is missing".into())),
        Err(error) => Err(MultipartError(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).unwrap()
    }

    fn value(text: &str) -> Value {
        Some(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn compressed_line_decodes_to_the_message() {
        let message = Bytes::from_static(b"{\"user/1/username\":\"admin\"}\n");
        let line = Format { compress: true }.encode(message.clone());
        assert!(line.ends_with(b"\n"));
        assert!(!line[..line.len() - 1].contains(&b'='));
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&line[..line.len() - 1])
            .unwrap();
        assert_eq!(zstd::decode_all(&raw[..]).unwrap(), message.to_vec());
        assert_eq!(Format { compress: false }.encode(message.clone()), message);
    }

    #[test]
    fn first_filter_sends_values_and_no_nulls() {
        let mut state = HashState::default();
        let out = state.filter_all(&[
            (key("user/1/username"), value("\"a\"")),
            (key("user/1/email"), None),
        ]);
        assert_eq!(out, vec![(key("user/1/username"), value("\"a\""))]);
    }

    #[test]
    fn state_round_trip_sends_only_changes() {
        let mut state = HashState::default();
        let entries = [
            (key("user/1/username"), value("\"a\"")),
            (key("user/1/email"), value("\"e\"")),
        ];
        state.filter_all(&entries);
        let mut state = HashState::decode(&state.encode()).unwrap();

        assert!(state.clone().filter_all(&entries).is_empty());
        let changed = [
            (key("user/1/username"), value("\"b\"")),
            (key("user/1/email"), None),
        ];
        assert_eq!(
            state.filter_all(&changed),
            vec![
                (key("user/1/username"), value("\"b\"")),
                (key("user/1/email"), None)
            ]
        );
        // A value that is gone is sent as null once.
        assert!(state
            .filter_changes(&[(key("user/1/email"), None)])
            .is_empty());
    }

    #[test]
    fn keys_no_longer_requested_leave_the_state() {
        let mut state = HashState::default();
        state.filter_all(&[(key("user/1/username"), value("\"a\""))]);
        state.filter_all(&[(key("user/1/email"), value("\"e\""))]);
        let decoded = HashState::decode(&state.encode()).unwrap();
        assert_eq!(decoded.hashes.len(), 1);
        assert!(decoded.hashes.contains_key(&key("user/1/email")));
    }

    #[test]
    fn invalid_hash_states_are_errors() {
        assert!(HashState::decode("not base64!").is_err());
        assert_eq!(HashState::decode("AAAA").unwrap(), HashState::default());
        assert_eq!(HashState::decode("").unwrap(), HashState::default());
    }

    #[tokio::test]
    async fn multipart_round_trip() {
        let built = multipart_body(&[("request", b"[1]"), ("hash", b"abc")]);
        let (request, hash) = split_multipart(&built.content_type, built.body)
            .await
            .unwrap();
        assert_eq!(&request[..], b"[1]");
        assert_eq!(hash, "abc");
    }

    #[tokio::test]
    async fn multipart_without_hash_part_is_an_error() {
        let built = multipart_body(&[("request", b"[1]")]);
        assert!(split_multipart(&built.content_type, built.body)
            .await
            .is_err());
        assert!(split_multipart("multipart/form-data", Bytes::new())
            .await
            .is_err());
    }
}
