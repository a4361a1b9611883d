//! The canonical URI, in its two modes.

use crate::Error;
use crate::encoding::{self, Rule, Text};
use crate::sink::Sink;

/// How the path becomes the canonical URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum UriEncoding {
    /// Amazon S3: the decoded path encoded once (unreserved set and `/` kept, uppercase `%XX`),
    /// with no dot-segment removal and no `//` collapse. A literal `%` in a key becomes `%25`.
    #[default]
    S3,
    /// Every other service: remove dot segments and empty segments, then encode the path as
    /// sent once more (so `%20` on the wire becomes `%2520`).
    Double,
}

impl UriEncoding {
    /// The mode a service uses: [`UriEncoding::S3`] for `s3`, [`UriEncoding::Double`] otherwise.
    pub fn for_service(service: &str) -> Self {
        if service == "s3" {
            UriEncoding::S3
        } else {
            UriEncoding::Double
        }
    }
}

/// A request path, in one of the two forms callers have.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PathInput<'a> {
    /// A percent-encoded path as sent on the wire (empty means `/`).
    Wire(&'a str),
    /// An encoded prefix (an endpoint's base path, possibly empty) followed by raw segments,
    /// each written as `/` plus the segment encoded once (`/` inside a segment kept).
    Raw {
        prefix: &'a str,
        segments: &'a [&'a str],
    },
}

/// Checks a wire path: empty or starting with `/`, valid escapes.
pub(crate) fn validate_wire_path(path: &str) -> Result<(), Error> {
    if !path.is_empty() && !path.starts_with('/') {
        return Err(Error::InvalidPath("the path must start with '/'"));
    }
    encoding::validate_wire(path.as_bytes())
        .map_err(|_| Error::InvalidPath("'%' must be followed by two hex digits"))
}

impl PathInput<'_> {
    /// Writes the path as it goes on the wire.
    pub(crate) fn write_wire<S: Sink>(&self, out: &mut S) {
        match *self {
            PathInput::Wire("") => out.byte(b'/'),
            PathInput::Wire(p) => out.put(p.as_bytes()),
            PathInput::Raw { prefix, segments } => {
                out.put(prefix.as_bytes());
                for seg in segments {
                    out.byte(b'/');
                    encoding::encode_raw(seg.as_bytes(), Rule::Path, out);
                }
                if prefix.is_empty() && segments.is_empty() {
                    out.byte(b'/');
                }
            }
        }
    }
}

/// Writes the canonical URI of `path`.
pub(crate) fn write_canonical_uri<S: Sink>(
    path: &PathInput<'_>,
    mode: UriEncoding,
    sink: &mut S,
) -> Result<(), Error> {
    match mode {
        UriEncoding::S3 => match *path {
            PathInput::Wire(p) => {
                validate_wire_path(p)?;
                if p.is_empty() {
                    sink.put(b"/");
                } else {
                    encoding::write_canonical(Text::Wire(p.as_bytes()), Rule::Path, sink);
                }
            }
            PathInput::Raw { prefix, segments } => {
                validate_wire_path(prefix)?;
                encoding::write_canonical(Text::Wire(prefix.as_bytes()), Rule::Path, sink);
                for seg in segments {
                    sink.put(b"/");
                    encoding::encode_raw(seg.as_bytes(), Rule::Path, sink);
                }
                if prefix.is_empty() && segments.is_empty() {
                    sink.put(b"/");
                }
            }
        },
        UriEncoding::Double => {
            // Not the S3 hot path: the normalised path is built in a buffer.
            let mut wire = String::new();
            path.write_wire(&mut wire);
            validate_wire_path(&wire)?;
            let normalized = normalize(&wire);
            encoding::encode_raw(normalized.as_bytes(), Rule::Path, sink);
        }
    }
    Ok(())
}

/// RFC 3986 dot-segment removal plus empty-segment removal, as the generic SigV4 signers do.
fn normalize(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut trailing_slash = path.ends_with('/');
    for seg in path.split('/') {
        match seg {
            "" => {}
            "." => trailing_slash = true,
            ".." => {
                segments.pop();
                trailing_slash = true;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    if path.ends_with('/') {
        trailing_slash = true;
    }
    let mut out = String::with_capacity(path.len().saturating_add(1));
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(path: PathInput<'_>, mode: UriEncoding) -> String {
        let mut out = Vec::new();
        let _ = write_canonical_uri(&path, mode, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn normalization_follows_the_vectors() {
        assert_eq!(normalize("//example//"), "/example/");
        assert_eq!(normalize("/example1/example2/../.."), "/");
        assert_eq!(normalize("/./"), "/");
        assert_eq!(normalize("/./example"), "/example");
        assert_eq!(normalize("/example/.."), "/");
        assert_eq!(normalize("/a/b/.."), "/a/");
        assert_eq!(normalize(""), "/");
    }

    #[test]
    fn s3_mode_keeps_dots_and_slashes() {
        assert_eq!(
            canon(PathInput::Wire("//a/./../b"), UriEncoding::S3),
            "//a/./../b"
        );
        assert_eq!(
            canon(
                PathInput::Raw {
                    prefix: "",
                    segments: &["a%20b c"]
                },
                UriEncoding::S3
            ),
            "/a%2520b%20c"
        );
        assert_eq!(
            canon(PathInput::Wire("/test$file.text"), UriEncoding::S3),
            "/test%24file.text"
        );
    }

    #[test]
    fn double_mode_encodes_again() {
        assert_eq!(
            canon(PathInput::Wire("/functions/arn%3Aaws"), UriEncoding::Double),
            "/functions/arn%253Aaws"
        );
    }
}
