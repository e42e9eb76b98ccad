//! Compact JSON text: values are stored and sent without insignificant whitespace.

use bytes::Bytes;

/// Removes the whitespace outside of strings from valid JSON text. Tokens stay as they are,
/// so numbers keep their exact spelling.
pub fn compact_json(text: &[u8]) -> Bytes {
    if !text.iter().any(u8::is_ascii_whitespace) {
        return Bytes::copy_from_slice(text);
    }

    let mut out = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
            out.push(byte);
        } else if !byte.is_ascii_whitespace() {
            out.push(byte);
        }
    }
    Bytes::from(out)
}

/// Checks that `text` is one JSON value.
pub fn validate_json(text: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_removes_whitespace_outside_strings() {
        let text = br#"{"a": [1, 2], "b": "x y", "c": "q\" z"}"#;
        assert_eq!(
            &compact_json(text)[..],
            br#"{"a":[1,2],"b":"x y","c":"q\" z"}"#
        );
    }

    #[test]
    fn compact_keeps_number_spelling() {
        assert_eq!(&compact_json(b" 1.50 ")[..], b"1.50");
        assert_eq!(&compact_json(b"1e3")[..], b"1e3");
    }

    #[test]
    fn compact_handles_escaped_backslash_before_quote() {
        let text = br#"["a\\", "b c"]"#;
        assert_eq!(&compact_json(text)[..], br#"["a\\","b c"]"#);
    }

    #[test]
    fn validate_accepts_only_one_value() {
        assert!(validate_json(b"{\"a\": 1}"));
        assert!(validate_json(b"null"));
        assert!(!validate_json(b"{"));
        assert!(!validate_json(b"not json"));
        assert!(!validate_json(b"1 2"));
    }
}
