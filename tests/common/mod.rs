//! Helpers shared by the integration tests: reading the official suite's HTTP request files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A request parsed from the suite's `request.txt` format.
pub struct RawRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `METHOD target HTTP/1.1`, header lines (continuation lines start with whitespace and
/// are joined with `\n`), a blank line, the body.
pub fn parse_request(text: &str) -> RawRequest {
    let text = &text.replace("\r\n", "\n");
    let (head, body) = match text.find("\n\n") {
        Some(i) => (&text[..i], text.as_bytes()[i + 2..].to_vec()),
        None => (text.trim_end_matches('\n'), Vec::new()),
    };
    let mut lines = head.split('\n');
    let first = lines.next().expect("request line");
    let (method, rest) = first.split_once(' ').expect("method");
    let target = rest.strip_suffix(" HTTP/1.1").expect("HTTP/1.1").to_owned();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push('\n');
            last.1.push_str(line);
        } else {
            let (n, v) = line.split_once(':').expect("header colon");
            headers.push((n.to_owned(), v.to_owned()));
        }
    }
    RawRequest {
        method: method.to_owned(),
        target,
        headers,
        body,
    }
}

pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Percent-decodes (no `+` handling): the suite's paths and query components.
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `2015-08-30T12:36:00Z` → `20150830T123600Z`.
pub fn iso_to_amz(s: &str) -> String {
    s.replace(['-', ':'], "")
}
