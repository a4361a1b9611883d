//! Canonical headers: lowercase names, values trimmed with whitespace runs collapsed (obs-folded
//! lines included), repeated headers joined with `,` in arrival order.

use crate::Error;
use crate::encoding::byte_table;
use crate::limits::MAX_HEADER_VALUE_LEN;
use crate::sink::Sink;

/// Whether two header names are the same, ignoring ASCII case: byte for byte first, since
/// names mostly arrive in the case they are looked up in.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && (crate::encoding::short_eq(a.as_bytes(), b.as_bytes()) || a.eq_ignore_ascii_case(b))
}

/// Request headers, in arrival order, names in any case.
///
/// Implemented for slices of `(&str, &str)` and `(String, String)` pairs, and for
/// `http::HeaderMap` / `http::Request` with the `http` feature.
pub trait Headers {
    /// Every header, in arrival order. Repeated names appear once per occurrence.
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])>;

    /// The values of header `name` (ASCII case-insensitive), in arrival order.
    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> {
        self.header_pairs()
            .filter(move |(n, _)| same_name(n, name))
            .map(|(_, v)| v)
    }
}

impl Headers for [(&str, &str)] {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().map(|(n, v)| (*n, v.as_bytes()))
    }
}

impl<const N: usize> Headers for [(&str, &str); N] {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().map(|(n, v)| (*n, v.as_bytes()))
    }
}

impl Headers for Vec<(&str, &str)> {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().map(|(n, v)| (*n, v.as_bytes()))
    }
}

impl Headers for [(String, String)] {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))
    }
}

impl Headers for Vec<(String, String)> {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        (**self).header_pairs()
    }
}

#[cfg(feature = "http")]
impl Headers for http::HeaderMap {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))
    }
}

#[cfg(feature = "http")]
impl<B> Headers for http::Request<B> {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers().header_pairs()
    }
}

/// Headers of a request plus the ones a signer adds, with the added names replacing any
/// occurrence in the request.
pub(crate) struct Overlay<'a, H: Headers + ?Sized> {
    pub(crate) base: &'a H,
    pub(crate) added: &'a [(&'a str, &'a str)],
}

impl<H: Headers + ?Sized> Headers for Overlay<'_, H> {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let added = self.added;
        self.base
            .header_pairs()
            .filter(move |(n, _)| !added.iter().any(|(a, _)| a.eq_ignore_ascii_case(n)))
            .chain(added.iter().map(|(n, v)| (*n, v.as_bytes())))
    }
}

/// Whether `b` is an RFC 9110 token character.
const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Token characters; the same without uppercase letters and `%`.
static TOKEN_BYTES: [bool; 256] = byte_table!(|b| is_token_byte(b));
static LOWERCASE_TOKEN_BYTES: [bool; 256] =
    byte_table!(|b| is_token_byte(b) && !b.is_ascii_uppercase() && b != b'%');

/// Whether every byte of the non-empty `name` is in `table`: one lookup per byte, no branch.
fn all_in(name: &str, table: &[bool; 256]) -> bool {
    !name.is_empty()
        && name.bytes().fold(true, |ok, b| {
            ok & table.get(usize::from(b)).copied().unwrap_or(false)
        })
}

/// Whether `name` is an RFC 9110 token (what a header name must be).
pub(crate) fn is_token(name: &str) -> bool {
    all_in(name, &TOKEN_BYTES)
}

/// Whether `name` is a token without uppercase letters or `%`: a name as `SignedHeaders` lists
/// it.
pub(crate) fn is_lowercase_token(name: &str) -> bool {
    all_in(name, &LOWERCASE_TOKEN_BYTES)
}

/// Where a field value starts and ends once its optional whitespace (RFC 9110 `OWS`: spaces
/// and horizontal tabs, nothing else) is cut from both ends.
#[inline]
fn ows_bounds(value: &[u8]) -> (usize, usize) {
    let is_ows = |b: &u8| matches!(b, b' ' | b'\t');
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i.saturating_add(1));
    (start, end)
}

/// `value` without its leading and trailing spaces and tabs (a field value as received, before
/// it is checked as UTF-8).
#[inline]
pub(crate) fn trim_ows(value: &[u8]) -> &[u8] {
    let (start, end) = ows_bounds(value);
    value.get(start..end).unwrap_or_default()
}

/// [`trim_ows`] of text: the cuts fall next to ASCII bytes, so it is still text.
#[inline]
pub(crate) fn trim_ows_str(value: &str) -> &str {
    let (start, end) = ows_bounds(value.as_bytes());
    value.get(start..end).unwrap_or_default()
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A header value with a control character other than tab, CR or LF, or over the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadValue;

/// Checks a header value.
pub(crate) fn validate_value(value: &[u8]) -> Result<(), BadValue> {
    if value.len() > MAX_HEADER_VALUE_LEN
        || value
            .iter()
            .any(|&b| (b.is_ascii_control() && !is_space(b)) || b == 0x7f)
    {
        Err(BadValue)
    } else {
        Ok(())
    }
}

/// Whether `value` is valid and already canonical (most are): visible characters and single
/// spaces between them, within the length limit. One branch-free pass; the others are checked
/// and folded byte by byte.
#[inline]
fn is_plain_value(value: &[u8]) -> bool {
    use crate::encoding::{HIGH, bytes_at_least, bytes_at_most, bytes_equal, word_at};
    // Eight bytes at a time (the last word padded with a visible byte): any byte outside
    // space..=`~` (non-ASCII first: the range test is exact only without it); any space
    // followed by a space, within a word or across two.
    let mut bad = 0u64;
    let mut previous_spaces = 0u64;
    let mut at = 0usize;
    while at < value.len() {
        let word = word_at(value, at, b'a');
        let spaces = bytes_equal(word, b' ');
        let printable = bytes_at_least(word, b' ') & bytes_at_most(word, b'~');
        bad |= (word & HIGH)
            | (printable ^ HIGH)
            | (spaces & (spaces >> 8))
            | ((previous_spaces >> 56) & spaces);
        previous_spaces = spaces;
        at = at.saturating_add(8);
    }
    let trimmed = value.first() != Some(&b' ') && value.last() != Some(&b' ');
    bad == 0 && trimmed && value.len() <= MAX_HEADER_VALUE_LEN
}

/// Writes a value trimmed, with every run of SP/HT/CR/LF folded to one space: in one piece
/// when it is plain already (most are).
pub(crate) fn write_value<S: Sink>(value: &[u8], out: &mut S) {
    if is_plain_value(value) {
        out.put(value);
    } else {
        write_folded(value, out);
    }
}

/// Folding by its definition: the words between runs of SP/HT/CR/LF, joined by one space.
fn write_folded<S: Sink>(value: &[u8], out: &mut S) {
    let mut words = value.split(|&b| is_space(b)).filter(|w| !w.is_empty());
    if let Some(first) = words.next() {
        out.put(first);
        for word in words {
            out.byte(b' ');
            out.put(word);
        }
    }
}

/// Writes `name` in lowercase.
pub(crate) fn write_lower<S: Sink>(name: &str, out: &mut S) {
    if name
        .bytes()
        .fold(false, |upper, b| upper | b.is_ascii_uppercase())
    {
        for b in name.bytes() {
            out.byte(b.to_ascii_lowercase());
        }
    } else {
        out.put(name.as_bytes());
    }
}

/// Writes a signed header name: as it is when `lowercase` says it is lowercase already (a
/// verifier's names, checked by [`is_lowercase_token`]), else lowercased (a signer's, in the
/// caller's case).
#[inline]
pub(crate) fn write_name<S: Sink>(name: &str, lowercase: bool, out: &mut S) {
    if lowercase {
        out.put(name.as_bytes());
    } else {
        write_lower(name, out);
    }
}

/// Writes the canonical header lines for `names` (sorted, lowercase once written, distinct;
/// `lowercase` as for [`write_name`]), each `name:value[,value…]\n`. Returns the first listed
/// name that has no header, if any (its line is written with an empty value; the verifier
/// refuses the request all the same, since an absent header is not an empty one).
pub(crate) fn write_canonical_headers<'n, H, S>(
    names: impl Iterator<Item = &'n str>,
    lowercase: bool,
    headers: &H,
    sink: &mut S,
) -> Result<Option<&'n str>, Error>
where
    H: Headers + ?Sized,
    S: Sink,
{
    let mut missing = None;
    let out = sink;
    for name in names {
        write_name(name, lowercase, out);
        out.byte(b':');
        let mut first = true;
        for value in headers.values(name) {
            if !first {
                out.byte(b',');
            }
            first = false;
            if is_plain_value(value) {
                out.put(value);
                continue;
            }
            validate_value(value).map_err(|_| Error::InvalidHeaderValue(name.to_owned()))?;
            write_folded(value, out);
        }
        if first && missing.is_none() {
            missing = Some(name);
        }
        out.byte(b'\n');
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(v: &str) -> String {
        let mut buf = Vec::new();
        write_value(v.as_bytes(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    proptest::proptest! {
        // A plain value is exactly one that folding leaves as it is; `write_value` folds.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn plain_values_are_the_ones_folding_keeps(
            value in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(vec![b' ', b'a', b'~', b'!']),
                    1 => proptest::sample::select(vec![b'\t', b'\n', 0u8, 0x7f, 0x80, 0xff]),
                ],
                0..20,
            ),
        ) {
            let valid = validate_value(&value).is_ok();
            let visible_or_space = value.iter().all(|&b| (0x21..0x7f).contains(&b) || b == b' ');
            let mut folded = Vec::new();
            write_folded(&value, &mut folded);
            proptest::prop_assert_eq!(
                is_plain_value(&value),
                valid && visible_or_space && folded == value,
                "{:?}", value
            );
            // `write_value` writes plain values in one piece: the same bytes.
            let mut written = Vec::new();
            write_value(&value, &mut written);
            proptest::prop_assert_eq!(written, folded, "{:?}", value);
        }
    }

    #[test]
    fn plain_values_are_told_at_every_position_of_every_word() {
        // Eight bytes are looked at together: a double space, a control byte, DEL or a
        // non-ASCII byte must be seen in any lane, and a double space across two words.
        for len in 3..=26 {
            for at in 1..len - 2 {
                let mut value = vec![b'a'; len];
                value[at] = b' ';
                assert!(is_plain_value(&value), "{len} {at}");
                value[at + 1] = b' ';
                assert!(!is_plain_value(&value), "double space {len} {at}");
                for bad in [0u8, b'\t', 0x1f, 0x7f, 0x80, 0xff] {
                    let mut value = vec![b'a'; len];
                    value[at] = bad;
                    assert!(!is_plain_value(&value), "{bad:#x} {len} {at}");
                }
            }
        }
        assert!(!is_plain_value(b" a") && !is_plain_value(b"a ") && is_plain_value(b""));
    }

    #[test]
    fn token_tables_follow_rfc_9110() {
        let specials = b"!#$%&'*+-.^_`|~";
        for b in 0..=255u8 {
            let token = b.is_ascii_alphanumeric() || specials.contains(&b);
            let name = [b'a', b, b'z'];
            let name = core::str::from_utf8(&name).unwrap_or("\u{0}");
            assert_eq!(is_token(name), token, "{b}");
            let lowercase = token && !b.is_ascii_uppercase() && b != b'%';
            assert_eq!(is_lowercase_token(name), lowercase, "{b}");
        }
        assert!(!is_token("") && !is_lowercase_token(""));
    }

    #[test]
    fn values_are_trimmed_and_folded() {
        assert_eq!(folded("  a   b  "), "a b");
        assert_eq!(
            folded("value1\n  value2\n     value3"),
            "value1 value2 value3"
        );
        assert_eq!(folded("\t"), "");
        assert_eq!(folded("\"a   b\""), "\"a b\"");
        assert!(validate_value(b"a\x00b").is_err());
        assert!(validate_value(b"a\tb").is_ok());
    }

    #[test]
    fn a_lowercase_token_is_written_as_it_is_either_way() {
        for b in 0..=u8::MAX {
            let name = [b'x', b, b'-', b'a'];
            let Ok(name) = core::str::from_utf8(&name) else {
                continue;
            };
            let (mut lowered, mut as_is) = (Vec::new(), Vec::new());
            write_name(name, false, &mut lowered);
            write_name(name, true, &mut as_is);
            assert_eq!(as_is, name.as_bytes());
            assert_eq!(lowered, name.to_ascii_lowercase().as_bytes());
            if is_lowercase_token(name) {
                assert_eq!(lowered, as_is, "{name:?}");
            }
        }
        assert!(!is_lowercase_token("X-a"));
        assert!(is_lowercase_token("x-a"));
    }

    #[test]
    fn repeated_headers_join_in_arrival_order() {
        let headers: &[(&str, &str)] = &[
            ("My-Header1", "value2"),
            ("my-header1", "value1"),
            ("Host", "h"),
        ];
        let mut out = Vec::new();
        let missing = write_canonical_headers(
            ["host", "my-header1", "x-absent"].into_iter(),
            true,
            headers,
            &mut out,
        );
        assert_eq!(missing, Ok(Some("x-absent")));
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "host:h\nmy-header1:value2,value1\nx-absent:\n"
        );
    }
}
