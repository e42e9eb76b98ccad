//! Entry points for the fuzz targets in `fuzz/` and for the corpus replay in
//! `tests/fuzz_corpus.rs`. Each one feeds arbitrary bytes to a parser of untrusted input.
//! The parser must return a value or an error, so any panic is a bug.
//!
//! This module is not part of the service's interface.

use crate::http::transport::{split_multipart, HashState};
use crate::http::Query;
use crate::keysbuilder::{Follow, Limits, Request, RequestError};
use crate::messagebus::{
    parse_entries, parse_modified_fields, parse_stream_info, parse_xread, EntryId,
};
use crate::models::Collection;
use bytes::Bytes;
use std::collections::HashSet;

/// Limits far below the defaults, so that short inputs reach every limit check.
const SMALL_LIMITS: Limits = Limits {
    max_objects: 3,
    max_ids: 5,
    max_depth: 3,
    max_keys: 50,
    max_k_bytes: 40,
};

/// Parses `data` as a keysbuilder request body, with the default limits and with small ones.
pub fn request_body(data: &[u8]) {
    check_request(Request::parse(data, ""));
    check_request(Request::parse_with(data, "", &SMALL_LIMITS));
}

/// Reads `data` as the query string of an autoupdate request and parses its `k`
/// parameter. Text input is also parsed as the decoded `k` value itself.
pub fn query(data: &[u8]) {
    let query = Query::parse(Some(String::from_utf8_lossy(data).into_owned()));
    check_request(Request::parse(b"", query.get("k")));
    check_request(Request::parse_with(b"", query.get("k"), &SMALL_LIMITS));
    if let Ok(keys) = std::str::from_utf8(data) {
        check_request(Request::parse(b"", keys));
        check_request(Request::parse_with(b"[]", keys, &SMALL_LIMITS));
    }
}

/// Reads `data` as a long polling request: the first line is the content type, the rest
/// the multipart body. The parts found go to the hash state and request parsers.
pub fn multipart(data: &[u8]) {
    let (content_type, body) = match data.iter().position(|&byte| byte == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (&data[..0], data),
    };
    let content_type = String::from_utf8_lossy(content_type);
    let parts = futures::executor::block_on(split_multipart(
        content_type.trim_end_matches('\r'),
        Bytes::copy_from_slice(body),
    ));
    let (request, hash) = match parts {
        Ok(parts) => parts,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    match HashState::decode(&hash) {
        Ok(state) => assert_eq!(
            HashState::decode(&state.encode()).ok(),
            Some(state),
            "an encoded hash state does not decode to itself"
        ),
        Err(error) => {
            let _ = error.to_string();
        }
    }
    check_request(Request::parse(&request, ""));
}

/// Decodes `data` with `redis_value` and gives the value to every Redis reply parser.
/// Each changed value is also read as every kind of relation, as a view follows it.
pub fn redis(data: &[u8]) {
    let value = redis_value(data);
    let mut entries = Vec::new();
    match parse_xread(&value, "ModifiedFields") {
        Ok(found) => entries.extend(found),
        Err(error) => {
            let _ = error.to_string();
        }
    }
    match parse_entries(&value) {
        Ok(found) => entries.extend(found),
        Err(error) => {
            let _ = error.to_string();
        }
    }
    if let Err(error) = parse_stream_info(&value) {
        let _ = error.to_string();
    }
    for entry in &entries {
        let _ = EntryId::parse(&entry.id);
        let mut skipped = 0;
        let changes = parse_modified_fields(entry, |_| skipped += 1);
        assert_eq!(
            changes.len() + skipped,
            entry.fields.len(),
            "every field pair is a change or skipped"
        );
        for (_, value) in &changes {
            let Some(value) = value else { continue };
            for follow in [
                Follow::Relation(Collection::ALL[0]),
                Follow::RelationList(Collection::ALL[0]),
                Follow::GenericRelation,
                Follow::GenericRelationList,
            ] {
                if let Err(error) = Request::targets(follow, value) {
                    let _ = error.to_string();
                }
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = EntryId::parse(text);
    }
}

fn check_request(result: Result<Request, RequestError>) {
    match result {
        Ok(request) => walk(&request),
        Err(error) => {
            assert!(!error.to_string().is_empty(), "an error without a message");
            let _ = error.error_type();
        }
    }
}

/// Visits every field set a request can reach, as a view of it would.
fn walk(request: &Request) {
    let _ = request.canonical();
    let mut seen = HashSet::new();
    let mut pending: Vec<_> = request
        .roots()
        .iter()
        .map(|root| (root.field_set, root.collection))
        .collect();
    while let Some((id, collection)) = pending.pop() {
        if !seen.insert((id, collection)) {
            continue;
        }
        for field in request.field_set(id).fields_for(collection) {
            let Some(next) = field.follow else { continue };
            let targets = match request.field_set(next).follow {
                Some(Follow::Relation(to)) | Some(Follow::RelationList(to)) => vec![to],
                _ => Collection::ALL.to_vec(),
            };
            pending.extend(targets.into_iter().map(|to| (next, to)));
        }
    }
}

/// Containers nested deeper than this decode as nil.
const MAX_DEPTH: usize = 16;

/// Decodes bytes into a Redis value with a lenient form of RESP3. Every input decodes to
/// some value, and the seed files stay readable:
///
/// - `*n`, `~n`, `%n` start an array, set or map of `n` items (`n` pairs for a map).
///   The input may end before all of them.
/// - `$n` is a bulk string of the next `n` bytes (or fewer, at the end) and an optional
///   line break.
/// - `+text`, `:int`, `,double`, `#t` or `#f`, and `_` are simple strings (`+OK` is the
///   `Okay` value), integers, doubles, booleans and nil.
/// - Any other line is a bulk string of the whole line.
///
/// Lines end with `\r\n` or `\n`.
pub fn redis_value(data: &[u8]) -> redis::Value {
    let mut input = data;
    decode(&mut input, 0)
}

fn decode(input: &mut &[u8], depth: usize) -> redis::Value {
    use redis::Value;
    let Some(&tag) = input.first() else {
        return Value::Nil;
    };
    match tag {
        b'*' | b'~' | b'%' => {
            *input = &input[1..];
            let count = number(line(input)).unwrap_or(0);
            if depth >= MAX_DEPTH {
                return Value::Nil;
            }
            let count = usize::try_from(count).unwrap_or(0);
            let mut items = Vec::new();
            let expected = if tag == b'%' {
                count.saturating_mul(2)
            } else {
                count
            };
            while items.len() < expected && !input.is_empty() {
                items.push(decode(input, depth + 1));
            }
            match tag {
                b'*' => Value::Array(items),
                b'~' => Value::Set(items),
                _ => {
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    let mut items = items.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        pairs.push((key, value));
                    }
                    Value::Map(pairs)
                }
            }
        }
        b'$' => {
            *input = &input[1..];
            let Some(length) = number(line(input)).and_then(|n| usize::try_from(n).ok()) else {
                return Value::Nil;
            };
            let (data, rest) = input.split_at(length.min(input.len()));
            *input = rest;
            if input.starts_with(b"\r\n") {
                *input = &input[2..];
            } else if input.starts_with(b"\n") {
                *input = &input[1..];
            }
            Value::BulkString(data.to_vec())
        }
        b'+' => {
            *input = &input[1..];
            match line(input) {
                b"OK" => Value::Okay,
                text => Value::SimpleString(String::from_utf8_lossy(text).into_owned()),
            }
        }
        b':' => {
            *input = &input[1..];
            Value::Int(number(line(input)).unwrap_or(0))
        }
        b',' => {
            *input = &input[1..];
            let text = String::from_utf8_lossy(line(input)).into_owned();
            Value::Double(text.parse().unwrap_or(0.0))
        }
        b'#' => {
            *input = &input[1..];
            Value::Boolean(line(input) == b"t")
        }
        b'_' => {
            *input = &input[1..];
            line(input);
            Value::Nil
        }
        _ => Value::BulkString(line(input).to_vec()),
    }
}

/// Takes the text up to the next line break and the line break itself.
fn line<'a>(input: &mut &'a [u8]) -> &'a [u8] {
    let end = input
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(input.len());
    let text = &input[..end];
    *input = input.get(end + 1..).unwrap_or_default();
    text.strip_suffix(b"\r").unwrap_or(text)
}

fn number(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.trim().parse().ok()
}
