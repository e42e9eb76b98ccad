//! `multipart/form-data` bodies of long polling: building the request and reading the
//! parts of the response.

use anyhow::{anyhow, bail};
use bytes::Bytes;

/// The boundary of the bodies this tool sends. The parts are JSON and base64, which
/// never contain it.
const BOUNDARY: &str = "autoupdate-load-boundary";

/// Builds a body of named parts in order and returns its content type and bytes.
pub fn body(parts: &[(&str, &[u8])]) -> (String, Bytes) {
    let mut body = Vec::new();
    for (name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={BOUNDARY}"),
        Bytes::from(body),
    )
}

/// Returns the content of the part named `name` of a multipart body.
pub fn part<'a>(content_type: &str, body: &'a [u8], name: &str) -> anyhow::Result<&'a [u8]> {
    let boundary = content_type
        .split(';')
        .find_map(|parameter| parameter.trim().strip_prefix("boundary="))
        .map(|boundary| boundary.trim_matches('"'))
        .ok_or_else(|| anyhow!("content type {content_type:?} has no boundary"))?;
    let delimiter = format!("--{boundary}");
    let disposition = format!("name=\"{name}\"");
    for section in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        let Some(header_end) = find(section, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&section[..header_end]);
        if !headers.contains(&disposition) {
            continue;
        }
        let content = &section[header_end + 4..];
        return Ok(content.strip_suffix(b"\r\n").unwrap_or(content));
    }
    bail!("the multipart body has no part {name:?}")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut sections = Vec::new();
    while let Some(position) = find(body, delimiter) {
        sections.push(&body[..position]);
        body = &body[position + delimiter.len()..];
    }
    sections.push(body);
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_built_body() {
        let (content_type, bytes) = body(&[("data", b"{\"a/1/b\":1}\n"), ("hash", b"xyz")]);
        assert_eq!(
            part(&content_type, &bytes, "data").unwrap(),
            b"{\"a/1/b\":1}\n"
        );
        assert_eq!(part(&content_type, &bytes, "hash").unwrap(), b"xyz");
        assert!(part(&content_type, &bytes, "other").is_err());
    }

    #[test]
    fn content_type_without_boundary_is_an_error() {
        assert!(part("multipart/form-data", b"", "data").is_err());
    }
}
