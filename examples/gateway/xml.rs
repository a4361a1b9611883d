//! The little XML S3 needs: writing response documents (escaped by hand: S3 writes control
//! characters in keys as character references), and reading a `CompleteMultipartUpload` body
//! with `quick-xml` (comments, CDATA, references and attributes included).

use std::fmt::Write as _;

use serde::Deserialize;

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

/// One `<Part>` of a `CompleteMultipartUpload` request.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct CompletedPart {
    /// `PartNumber`.
    #[serde(rename = "PartNumber")]
    pub number: u32,
    /// `ETag`, without quotes.
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// A request body the gateway reads. The root element names the variant, so any other
/// document is refused; unknown elements (`ChecksumCRC32`, …) are skipped.
#[derive(Deserialize)]
enum RequestDocument {
    CompleteMultipartUpload {
        #[serde(rename = "Part", default)]
        parts: Vec<CompletedPart>,
    },
}

/// Reads the parts of a `CompleteMultipartUpload` body, in document order, `ETag` quotes
/// removed.
pub fn parse_complete(doc: &str) -> Result<Vec<CompletedPart>, String> {
    let RequestDocument::CompleteMultipartUpload { mut parts } = quick_xml::de::from_str(doc)
        .map_err(|e| format!("the body is not a CompleteMultipartUpload document: {e}"))?;
    if parts.is_empty() {
        return Err("the CompleteMultipartUpload document lists no parts".into());
    }
    for part in &mut parts {
        part.etag = part.etag.trim().trim_matches('"').to_owned();
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
    fn reads_what_a_tag_scanner_would_get_wrong() {
        // Whitespace and attributes in tags, a comment holding a part, CDATA, extra
        // elements S3 allows (`ChecksumCRC32`), numeric character references.
        let doc = r#"<?xml version="1.0"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <!-- <Part><ETag>"x"</ETag><PartNumber>9</PartNumber></Part> -->
              <Part >
                <PartNumber> 1 </PartNumber>
                <ETag><![CDATA["a1"]]></ETag>
                <ChecksumCRC32>AAAAAA==</ChecksumCRC32>
              </Part>
              <Part><ETag>&#34;b2&#x22;</ETag><PartNumber>2</PartNumber></Part>
            </CompleteMultipartUpload>"#;
        let parts = parse_complete(doc).unwrap();
        assert_eq!(
            parts,
            [
                CompletedPart {
                    number: 1,
                    etag: "a1".into()
                },
                CompletedPart {
                    number: 2,
                    etag: "b2".into()
                },
            ]
        );
        for bad in [
            "<CompleteMultipartUpload></CompleteMultipartUpload>",
            "<Other><Part><ETag>a</ETag><PartNumber>1</PartNumber></Part></Other>",
            "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><ETag>a</ETag><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><ETag>a</ETag><PartNumber>1</PartNumber>",
            "not xml",
        ] {
            assert!(parse_complete(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escapes_round_trip() {
        let mut out = String::new();
        escape_into(&mut out, "a<&>\"'\u{1}");
        assert_eq!(out, "a&lt;&amp;&gt;&quot;&apos;&#x1;");
        // What a reader decodes it to: the text itself.
        assert_eq!(quick_xml::escape::unescape(&out).unwrap(), "a<&>\"'\u{1}");
    }
}
