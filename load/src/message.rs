//! Splitting a stream body into message lines, and reading the keys of a message.

use std::collections::HashMap;

/// One complete message line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Bytes of the line including its newline.
    pub len: usize,
    /// The line without its newline, if lines are kept.
    pub text: Option<Vec<u8>>,
}

/// Cuts body chunks into lines. The first line is only counted, so that the large first
/// messages of many streams are not held in memory; later lines are kept.
#[derive(Debug, Default)]
pub struct LineReader {
    buffer: Vec<u8>,
    /// Length of the first line so far.
    pending: usize,
    keep: bool,
}

impl LineReader {
    /// Returns a reader that keeps every line, the first included.
    pub fn keeping_all() -> LineReader {
        LineReader {
            keep: true,
            ..LineReader::default()
        }
    }

    /// Adds a chunk and returns the lines it completes.
    pub fn push(&mut self, mut chunk: &[u8]) -> Vec<Line> {
        let mut lines = Vec::new();
        while let Some(end) = chunk.iter().position(|byte| *byte == b'\n') {
            let (head, rest) = chunk.split_at(end);
            if self.keep {
                self.buffer.extend_from_slice(head);
                let text = std::mem::take(&mut self.buffer);
                lines.push(Line {
                    len: text.len() + 1,
                    text: Some(text),
                });
            } else {
                lines.push(Line {
                    len: self.pending + head.len() + 1,
                    text: None,
                });
                self.pending = 0;
                self.keep = true;
            }
            chunk = &rest[1..];
        }
        if self.keep {
            self.buffer.extend_from_slice(chunk);
        } else {
            self.pending += chunk.len();
        }
        lines
    }
}

/// Returns the sorted keys of a message, a JSON object of `collection/id/field` to value.
pub fn message_keys(line: &[u8]) -> Result<Vec<String>, serde_json::Error> {
    let object: HashMap<String, &serde_json::value::RawValue> = serde_json::from_slice(line)?;
    let mut keys: Vec<String> = object.into_keys().collect();
    keys.sort_unstable();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_chunks() {
        let mut reader = LineReader::default();
        assert_eq!(reader.push(b"{}\n")[0].text, None);
        assert!(reader.push(b"{\"a/1/b\":").is_empty());
        let lines = reader.push(b"1}\n{}\n{\"c");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text.as_deref(), Some(&b"{\"a/1/b\":1}"[..]));
        assert_eq!(lines[0].len, 12);
        assert_eq!(lines[1].text.as_deref(), Some(&b"{}"[..]));
        let lines = reader.push(b"\":2}\n");
        assert_eq!(lines[0].text.as_deref(), Some(&b"{\"c\":2}"[..]));
    }

    #[test]
    fn first_line_counted_only() {
        let mut reader = LineReader::default();
        assert!(reader.push(b"0123").is_empty());
        let lines = reader.push(b"45\n6\n7");
        assert_eq!(
            lines,
            vec![
                Line { len: 7, text: None },
                Line {
                    len: 2,
                    text: Some(b"6".to_vec())
                }
            ]
        );
        assert_eq!(reader.push(b"8\n")[0].text.as_deref(), Some(&b"78"[..]));
    }

    #[test]
    fn reader_keeping_all_returns_the_first_line() {
        let mut reader = LineReader::keeping_all();
        let lines = reader.push(b"{}\n{\"a\":1}\n");
        assert_eq!(lines[0].text.as_deref(), Some(&b"{}"[..]));
        assert_eq!(lines[1].text.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn keys_of_a_message() {
        let keys = message_keys(br#"{"motion/1/title":"A","motion/1/state_id":null}"#).unwrap();
        assert_eq!(keys, vec!["motion/1/state_id", "motion/1/title"]);
        assert!(message_keys(b"{}").unwrap().is_empty());
        assert!(message_keys(b"[1]").is_err());
        assert!(message_keys(b"{\"a\":").is_err());
    }
}
