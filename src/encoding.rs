//! Percent-encoding rules of SigV4, shared by the signer and the verifier.
//!
//! Two directions meet here. The signer starts from *raw* text (an object key, a query value)
//! and encodes it. The verifier starts from the *wire* form a client sent, decodes it and encodes
//! it again the canonical way, so that `%7e`, `~` and `%7E` all canonicalize alike. Both produce
//! the same bytes through the same functions, so there is only one implementation of each rule.

use core::cmp::Ordering;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::sink::{Buffered, Sink};

/// Everything outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`): the query rule.
pub(crate) const QUERY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The path rule: the query rule with `/` kept.
pub(crate) const PATH_SET: &AsciiSet = &QUERY_SET.remove(b'/');

/// Which characters a component keeps unencoded, and how its wire form is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// A query name or value: `/` encoded; on the wire `+` means a space.
    Query,
    /// A path: `/` kept; on the wire `+` is a literal plus.
    Path,
}

impl Rule {
    fn set(self) -> &'static AsciiSet {
        match self {
            Rule::Query => QUERY_SET,
            Rule::Path => PATH_SET,
        }
    }

    #[inline]
    fn keeps(self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && self == Rule::Path)
    }
}

/// Text in one of its two forms.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Text<'a> {
    /// Not yet encoded.
    Raw(&'a [u8]),
    /// Percent-encoded as received (validated with [`validate_wire`]).
    Wire(&'a [u8]),
}

/// A percent sign not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadEscape;

/// Checks that every `%` in `wire` starts a `%XX` escape.
pub(crate) fn validate_wire(wire: &[u8]) -> Result<(), BadEscape> {
    let mut i = 0;
    while let Some(&b) = wire.get(i) {
        if b == b'%' {
            match (wire.get(i + 1), wire.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return Err(BadEscape),
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

#[inline]
fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// The two uppercase hex digits of `b` (`%XX` without the `%`).
#[inline]
fn upper_hex(b: u8) -> [u8; 2] {
    let digit = |n: u8| if n < 10 { b'0' + n } else { b'A' + (n - 10) };
    [digit(b >> 4), digit(b & 0xf)]
}

/// Iterates over the decoded bytes of a validated wire component.
#[derive(Clone)]
pub(crate) struct Decoded<'a> {
    wire: &'a [u8],
    pos: usize,
    rule: Rule,
}

impl<'a> Decoded<'a> {
    pub(crate) fn new(wire: &'a [u8], rule: Rule) -> Self {
        Decoded { wire, pos: 0, rule }
    }
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = *self.wire.get(self.pos)?;
        match b {
            b'%' => match (self.wire.get(self.pos + 1), self.wire.get(self.pos + 2)) {
                (Some(&h), Some(&l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                    self.pos += 3;
                    Some(hex_val(h) << 4 | hex_val(l))
                }
                _ => {
                    self.pos += 1;
                    Some(b'%')
                }
            },
            b'+' if self.rule == Rule::Query => {
                self.pos += 1;
                Some(b' ')
            }
            _ => {
                self.pos += 1;
                Some(b)
            }
        }
    }
}

/// Whether a wire component is already in canonical form: every byte the rule keeps appears
/// literally, every other byte as an uppercase `%XX` escape. Then it can be hashed as it is.
pub(crate) fn wire_is_canonical(wire: &[u8], rule: Rule) -> bool {
    let mut i = 0;
    while let Some(&b) = wire.get(i) {
        if b == b'%' {
            match (wire.get(i + 1), wire.get(i + 2)) {
                (Some(&h), Some(&l))
                    if matches!(h, b'0'..=b'9' | b'A'..=b'F')
                        && matches!(l, b'0'..=b'9' | b'A'..=b'F')
                        && !rule.keeps(hex_val(h) << 4 | hex_val(l)) =>
                {
                    i += 3
                }
                _ => return false,
            }
        } else if rule.keeps(b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Writes the canonical encoding of raw bytes.
#[inline]
pub(crate) fn encode_raw<S: Sink>(raw: &[u8], rule: Rule, sink: &mut S) {
    for chunk in percent_encoding::percent_encode(raw, rule.set()) {
        sink.put(chunk.as_bytes());
    }
}

/// Writes the canonical encoding of raw bytes into a `String` (the URL being built).
#[inline]
pub(crate) fn encode_raw_into(raw: &[u8], rule: Rule, out: &mut String) {
    for chunk in percent_encoding::percent_encode(raw, rule.set()) {
        out.push_str(chunk);
    }
}

/// Writes the canonical form of `text`.
pub(crate) fn write_canonical<S: Sink>(text: Text<'_>, rule: Rule, sink: &mut S) {
    match text {
        Text::Raw(raw) => encode_raw(raw, rule, sink),
        Text::Wire(wire) if wire_is_canonical(wire, rule) => sink.put(wire),
        Text::Wire(wire) => {
            let mut out = Buffered::new(sink);
            for b in Decoded::new(wire, rule) {
                if rule.keeps(b) {
                    out.byte(b);
                } else {
                    let [hi, lo] = upper_hex(b);
                    out.bytes(&[b'%', hi, lo]);
                }
            }
        }
    }
}

/// The canonical bytes of a text, one at a time (for ordering without allocating).
struct CanonicalBytes<'a> {
    source: Source<'a>,
    rule: Rule,
    pending: [u8; 2],
    pending_len: usize,
}

enum Source<'a> {
    Raw(core::slice::Iter<'a, u8>),
    Decoded(Decoded<'a>),
}

impl Iterator for CanonicalBytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        if self.pending_len > 0 {
            let b = self.pending.get(2 - self.pending_len).copied();
            self.pending_len -= 1;
            return b;
        }
        let b = match &mut self.source {
            Source::Raw(it) => *it.next()?,
            Source::Decoded(it) => it.next()?,
        };
        if self.rule.keeps(b) {
            Some(b)
        } else {
            self.pending = upper_hex(b);
            self.pending_len = 2;
            Some(b'%')
        }
    }
}

fn canonical_bytes(text: Text<'_>, rule: Rule) -> CanonicalBytes<'_> {
    let source = match text {
        Text::Raw(raw) => Source::Raw(raw.iter()),
        Text::Wire(wire) => Source::Decoded(Decoded::new(wire, rule)),
    };
    CanonicalBytes {
        source,
        rule,
        pending: [0; 2],
        pending_len: 0,
    }
}

/// A text together with whether its bytes are already canonical (then they compare directly).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Component<'a> {
    pub(crate) text: Text<'a>,
    canonical: Option<&'a [u8]>,
}

impl<'a> Component<'a> {
    pub(crate) fn new(text: Text<'a>, rule: Rule) -> Self {
        let canonical = match text {
            Text::Raw(raw) if raw.iter().all(|&b| rule.keeps(b)) => Some(raw),
            Text::Wire(wire) if wire_is_canonical(wire, rule) => Some(wire),
            _ => None,
        };
        Component { text, canonical }
    }

    /// Orders two components by their canonical encodings, byte by byte.
    pub(crate) fn cmp_canonical(&self, other: &Self, rule: Rule) -> Ordering {
        match (self.canonical, other.canonical) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => canonical_bytes(self.text, rule).cmp(canonical_bytes(other.text, rule)),
        }
    }

    /// Writes the canonical encoding.
    pub(crate) fn write<S: Sink>(&self, rule: Rule, sink: &mut S) {
        match self.canonical {
            Some(bytes) => sink.put(bytes),
            None => write_canonical(self.text, rule, sink),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: Text<'_>, rule: Rule) -> String {
        let mut out = Vec::new();
        write_canonical(text, rule, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn raw_query_encoding_follows_the_unreserved_set() {
        assert_eq!(
            canon(Text::Raw(b"a b+c/d~e"), Rule::Query),
            "a%20b%2Bc%2Fd~e"
        );
        assert_eq!(canon(Text::Raw("é".as_bytes()), Rule::Query), "%C3%A9");
    }

    #[test]
    fn raw_path_keeps_slashes_and_encodes_percent() {
        assert_eq!(
            canon(Text::Raw(b"/a b/%20//"), Rule::Path),
            "/a%20b/%2520//"
        );
    }

    #[test]
    fn wire_forms_canonicalize_alike() {
        for wire in ["%7E", "~", "%7e"] {
            assert_eq!(canon(Text::Wire(wire.as_bytes()), Rule::Query), "~");
        }
        assert_eq!(canon(Text::Wire(b"a+b"), Rule::Query), "a%20b");
        assert_eq!(canon(Text::Wire(b"a+b"), Rule::Path), "a%2Bb");
        assert_eq!(canon(Text::Wire(b"%2f"), Rule::Query), "%2F");
    }

    #[test]
    fn ordering_uses_encoded_bytes() {
        // Raw `{` (0x7B) sorts after `a`, but its encoding `%7B` sorts before it.
        let a = Component::new(Text::Raw(b"a"), Rule::Query);
        let brace = Component::new(Text::Raw(b"{"), Rule::Query);
        assert_eq!(brace.cmp_canonical(&a, Rule::Query), Ordering::Less);
        let wire_brace = Component::new(Text::Wire(b"%7b"), Rule::Query);
        assert_eq!(
            wire_brace.cmp_canonical(&brace, Rule::Query),
            Ordering::Equal
        );
    }

    #[test]
    fn bad_escapes_are_found() {
        assert!(validate_wire(b"%4").is_err());
        assert!(validate_wire(b"%zz").is_err());
        assert!(validate_wire(b"%41%").is_err());
        assert!(validate_wire(b"%41a").is_ok());
    }
}
