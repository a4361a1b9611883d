//! The little XML S3 needs: writing response documents, and reading a
//! `CompleteMultipartUpload` body (a flat list of parts, so a tag scanner is enough).

use std::fmt::Write as _;

/// Appends `<name>escaped text</name>`.
pub fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>");
    escape_into(out, text);
    let _ = write!(out, "</{name}>");
}

/// Appends `text` with the five XML special characters escaped; other control characters
/// (which S3 keys may contain) as character references.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// The start of every response document.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The S3 namespace of response documents.
pub const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Decodes the predefined entities and numeric character references; `None` for anything
/// else (an unknown entity means we would not read what the client meant).
pub fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i)?);
        let after = rest.get(i + 1..)?;
        let end = after.find(';')?;
        let entity = after.get(..end)?;
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    entity.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = after.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// The text of each `<tag>…</tag>` in `doc`, in order (no nesting of the same tag).
fn elements<'d>(doc: &'d str, tag: &str) -> Vec<&'d str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find(&open) {
        let Some(after) = rest.get(start + open.len()..) else {
            break;
        };
        let Some(end) = after.find(&close) else {
            break;
        };
        if let Some(inner) = after.get(..end) {
            found.push(inner);
        }
        rest = after.get(end + close.len()..).unwrap_or("");
    }
    found
}

/// One `<Part>` of a `CompleteMultipartUpload` request.
#[derive(Debug, PartialEq, Eq)]
pub struct CompletedPart {
    /// `PartNumber`.
    pub number: u32,
    /// `ETag`, without quotes.
    pub etag: String,
}

/// Reads the parts of a `CompleteMultipartUpload` body, in document order.
pub fn parse_complete(doc: &str) -> Result<Vec<CompletedPart>, String> {
    if !doc.contains("CompleteMultipartUpload") {
        return Err("the body is not a CompleteMultipartUpload document".into());
    }
    let mut parts = Vec::new();
    for part in elements(doc, "Part") {
        let number = elements(part, "PartNumber")
            .first()
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or("a Part has no valid PartNumber")?;
        let etag = elements(part, "ETag")
            .first()
            .and_then(|e| unescape(e.trim()))
            .ok_or("a Part has no valid ETag")?;
        parts.push(CompletedPart {
            number,
            etag: etag.trim_matches('"').to_owned(),
        });
    }
    if parts.is_empty() {
        return Err("the CompleteMultipartUpload document lists no parts".into());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_botocore_and_js_sdk_bodies() {
        let boto = r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a1"</ETag><PartNumber>1</PartNumber></Part><Part><ETag>"b2"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
        let js = r#"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;a1&quot;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"#;
        let parts = parse_complete(boto).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[1],
            CompletedPart {
                number: 2,
                etag: "b2".into()
            }
        );
        assert_eq!(parse_complete(js).unwrap()[0].etag, "a1");
        assert!(parse_complete("<CompleteMultipartUpload/>").is_err());
    }

    #[test]
    fn escapes_round_trip() {
        let mut out = String::new();
        escape_into(&mut out, "a<&>\"'\u{1}");
        assert_eq!(out, "a&lt;&amp;&gt;&quot;&apos;&#x1;");
        assert_eq!(unescape(&out).unwrap(), "a<&>\"'\u{1}");
        assert!(unescape("&nope;").is_none());
    }
}
