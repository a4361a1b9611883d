//! Percent-encoding rules of SigV4, shared by the signer and the verifier.
//!
//! Two directions meet here. The signer starts from *raw* text (an object key, a query value)
//! and encodes it. The verifier starts from the *wire* form a client sent, decodes it and encodes
//! it again the canonical way, so that `%7e`, `~` and `%7E` all canonicalize alike. Both produce
//! the same bytes through the same functions, so there is only one implementation of each rule.

use core::cmp::Ordering;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::sink::Sink;

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

    /// Whether the rule writes `b` literally. Arithmetic only (no branch, no table), so that
    /// the loops over it vectorize: `-./0-9` is the range 0x2D..=0x39, letters are found by
    /// folding case.
    #[inline(always)]
    pub(crate) const fn keeps(self, b: u8) -> bool {
        let slash_ok = matches!(self, Rule::Path) | (b != b'/');
        ((b.wrapping_sub(b'-') < 13) & slash_ok)
            | ((b | 0x20).wrapping_sub(b'a') < 26)
            | (b == b'_')
            | (b == b'~')
    }
}

/// A `[bool; 256]` table, built at compile time, of the bytes `b` for which `pred` holds: one
/// lookup per byte where a loop over a set does not vectorize.
macro_rules! byte_table {
    (|$b:ident| $pred:expr) => {{
        let mut table = [false; 256];
        let mut i = 0usize;
        #[allow(
            clippy::indexing_slicing,
            clippy::arithmetic_side_effects,
            reason = "evaluated at compile time: an index out of bounds or an overflow would not compile"
        )]
        while i < 256 {
            let $b = i as u8;
            table[i] = $pred;
            i += 1;
        }
        table
    }};
}
pub(crate) use byte_table;

/// Which bytes each rule keeps, for [`Rule::keeps_all`]: [`Rule::keeps`] tabulated.
static KEPT_QUERY: [bool; 256] = byte_table!(|b| Rule::Query.keeps(b));
static KEPT_PATH: [bool; 256] = byte_table!(|b| Rule::Path.keeps(b));

impl Rule {
    /// Whether the rule writes every byte of `bytes` literally, scanning to the end without a
    /// branch: whole 16-byte runs with the arithmetic of [`Rule::keeps`] (vector code), the
    /// rest with one table lookup per byte (which beats that arithmetic in scalar code).
    #[inline]
    pub(crate) fn keeps_all(self, bytes: &[u8]) -> bool {
        let table = match self {
            Rule::Query => &KEPT_QUERY,
            Rule::Path => &KEPT_PATH,
        };
        let looked_up = |bytes: &[u8]| {
            bytes.iter().fold(true, |ok, &b| {
                ok & table.get(usize::from(b)).copied().unwrap_or(false)
            })
        };
        if bytes.len() < 16 {
            return looked_up(bytes);
        }
        let (runs, rest) = bytes.split_at(bytes.len() & !15);
        // One loop per rule, so that the rule is a constant in the vector code.
        let runs_kept = match self {
            Rule::Query => runs.iter().fold(true, |ok, &b| ok & Rule::Query.keeps(b)),
            Rule::Path => runs.iter().fold(true, |ok, &b| ok & Rule::Path.keeps(b)),
        };
        runs_kept & looked_up(rest)
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
    // Most texts have no `%`: one branch-free pass, which vectorizes, says so.
    if !wire.iter().fold(false, |any, &b| any | (b == b'%')) {
        return Ok(());
    }
    let mut i = 0;
    while let Some(&b) = wire.get(i) {
        if b == b'%' {
            escape_at(wire, i).ok_or(BadEscape)?;
            i = i.saturating_add(3);
        } else {
            i = i.saturating_add(1);
        }
    }
    Ok(())
}

/// The byte that a `%XX` escape at `at` in `text` stands for (hex digits of either case), or
/// `None` when no complete escape starts there. The one spelling of the escape rule: the
/// checkers ([`validate_wire`], the query split, endpoint prefixes) and the decoders
/// ([`Decoded`], [`decode_into`]) all read escapes through it.
#[inline]
pub(crate) fn escape_at(text: &[u8], at: usize) -> Option<u8> {
    match text.get(at..)? {
        [b'%', high, low, ..] if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
            Some((hex_val(*high) << 4) | hex_val(*low))
        }
        _ => None,
    }
}

#[inline]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "each arm's range keeps the result within 0..16"
)]
pub(crate) fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
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
            b'%' => match escape_at(self.wire, self.pos) {
                Some(decoded) => {
                    self.pos = self.pos.saturating_add(3);
                    Some(decoded)
                }
                None => {
                    self.pos = self.pos.saturating_add(1);
                    Some(b'%')
                }
            },
            b'+' if self.rule == Rule::Query => {
                self.pos = self.pos.saturating_add(1);
                Some(b' ')
            }
            _ => {
                self.pos = self.pos.saturating_add(1);
                Some(b)
            }
        }
    }
}

/// Decodes `wire` into the start of `out` (escapes, and `+` as a space under the query rule)
/// a run of plain bytes at a time, or copies it as it is when it is not `encoded`. Returns the
/// decoded length, or `None` when `out` is too small. Like [`Decoded`], a `%` that starts no
/// complete escape stands for itself (callers validate escapes first).
pub(crate) fn decode_into(wire: &[u8], encoded: bool, out: &mut [u8]) -> Option<usize> {
    let mut len = 0usize;
    let mut rest = wire;
    loop {
        let run = if encoded {
            rest.iter()
                .position(|&b| b == b'%' || b == b'+')
                .unwrap_or(rest.len())
        } else {
            rest.len()
        };
        let (plain, tail) = rest.split_at(run);
        let end = len.checked_add(plain.len())?;
        out.get_mut(len..end)?.copy_from_slice(plain);
        len = end;
        let Some(&first) = tail.first() else {
            return Some(len);
        };
        let (byte, taken) = match (first, escape_at(tail, 0)) {
            (b'%', Some(decoded)) => (decoded, 3),
            (b'+', _) => (b' ', 1),
            _ => (first, 1),
        };
        *out.get_mut(len)? = byte;
        len = len.saturating_add(1);
        rest = tail.get(taken..).unwrap_or_default();
    }
}

/// Whether a wire component is already in canonical form: every byte the rule keeps appears
/// literally, every other byte as an uppercase `%XX` escape. Then it can be hashed as it is.
///
/// Two passes. The first is one run of independent per-byte checks (each byte looks at the two
/// before it), so that it compiles to vector code without branches (keys with many escapes,
/// non-ASCII text, would otherwise mispredict at every escape): every byte is kept or `%`,
/// every escape digit is uppercase hex. Whether an escape hides a byte the rule keeps is
/// settled there too, from its first digit, for all but `%2D`, `%2E` (`%2F` in a path) and
/// `%30`-`%7F`; only a text holding one of those pays the second pass, a loop over its escapes.
pub(crate) fn wire_is_canonical(wire: &[u8], rule: Rule) -> bool {
    // Short texts without escapes (most names and values): one cheap pass settles them. Long
    // ones go straight to the vector pass, which costs about the same.
    if wire.len() <= 64 && rule.keeps_all(wire) {
        return true;
    }
    // Compiled once per rule, so that the rule is a constant in the vector loop.
    match rule {
        Rule::Path => wire_is_canonical_as::<true>(wire),
        Rule::Query => wire_is_canonical_as::<false>(wire),
    }
}

/// [`wire_is_canonical`] for the path rule (`PATH`) or the query rule.
fn wire_is_canonical_as<const PATH: bool>(wire: &[u8]) -> bool {
    let rule = if PATH { Rule::Path } else { Rule::Query };
    // `(bad, unsure)` for byte `b` after `before2` and `before1`: bad when it cannot be there;
    // unsure when it ends an escape that may hide a kept byte. A kept byte `%XY` has `X` in
    // `2`..=`7`; with `X` = `2` only `-`, `.` (and `/` in a path) are kept, so other escapes
    // are settled here.
    #[inline(always)]
    fn check(rule: Rule, before2: u8, before1: u8, b: u8) -> (bool, bool) {
        let pct = |x: u8| x == b'%';
        let in_escape = pct(before1) | pct(before2);
        let upper_hex = (b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'A') < 6);
        // Uppercase hex digits are kept bytes: an escape digit passes the first test too.
        let bad = !(rule.keeps(b) | pct(b)) | (in_escape & !upper_hex);
        let kept_after_2 = if matches!(rule, Rule::Path) { 3 } else { 2 };
        let unsure = pct(before2)
            & ((before1.wrapping_sub(b'3') < 5)
                | ((before1 == b'2') & (b.wrapping_sub(b'D') < kept_after_2)));
        (bad, unsure)
    }
    // An escape must be complete.
    if wire.iter().rev().take(2).any(|&b| b == b'%') {
        return false;
    }
    let (mut bad, mut unsure) = (false, false);
    let mut fold = |(b_bad, b_unsure): (bool, bool)| {
        bad |= b_bad;
        unsure |= b_unsure;
    };
    let first = wire.first().copied();
    if let Some(b) = first {
        fold(check(rule, 0, 0, b));
    }
    if let (Some(b1), Some(&b)) = (first, wire.get(1)) {
        fold(check(rule, 0, b1, b));
    }
    let before1 = wire.get(1..).unwrap_or_default();
    let at = wire.get(2..).unwrap_or_default();
    for ((&b2, &b1), &b) in wire.iter().zip(before1).zip(at) {
        fold(check(rule, b2, b1, b));
    }
    if bad {
        return false;
    }
    // Every escape is complete and uppercase hex here: decode them.
    !unsure
        || wire.iter().enumerate().all(|(i, &b)| {
            b != b'%'
                || match (wire.get(i.wrapping_add(1)), wire.get(i.wrapping_add(2))) {
                    (Some(&hi), Some(&lo)) => !rule.keeps(hex_val(hi) << 4 | hex_val(lo)),
                    _ => false,
                }
        })
}

/// `a == b` without a library call for up to 24 bytes (header and parameter names): a byte
/// loop below 8, three overlapping word comparisons from 8 to 24; longer ones the usual way.
#[inline]
pub(crate) fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0;
    }
    if len > 24 {
        return a == b;
    }
    // Bytes 0..8, 8..16 (capped at the end) and the last eight: every byte of up to 24, each
    // word whole (no padding used).
    let word = |s: &[u8], at: usize| word_at(s, at, 0);
    let middle = 8.min(len.saturating_sub(8));
    let last = len.saturating_sub(8);
    word(a, 0) == word(b, 0) && word(a, middle) == word(b, middle) && word(a, last) == word(b, last)
}

/// The eight bytes of `bytes` from `at` as a little-endian word, `pad` standing in for those
/// past the end.
#[inline(always)]
pub(crate) fn word_at(bytes: &[u8], at: usize, pad: u8) -> u64 {
    u64::from_le_bytes(chunk_at(bytes, at, pad))
}

/// The `N` bytes of `bytes` from `at`, `pad` standing in for those past the end.
#[inline(always)]
pub(crate) fn chunk_at<const N: usize>(bytes: &[u8], at: usize, pad: u8) -> [u8; N] {
    match bytes
        .get(at..at.saturating_add(N))
        .and_then(|full| <&[u8; N]>::try_from(full).ok())
    {
        Some(full) => *full,
        None => {
            let mut chunk = [pad; N];
            let rest = bytes.get(at..).unwrap_or_default();
            if let Some(dst) = chunk.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            chunk
        }
    }
}

/// One in every byte of a word.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word: where the byte-wise tests below answer.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of the little-endian `word` equal to `c`: the high bit of each such byte set,
/// every other bit clear (eight bytes at a time, without branches or false positives).
#[inline(always)]
pub(crate) fn bytes_equal(word: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ ONES.wrapping_mul(u64::from(c));
    // A byte of `x` is zero exactly when its high bit ends up set (no carries between bytes).
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// The bytes of `word` that are at least `m` (at most 0x80): the high bit of each set. Exact
/// when every byte is below 0x80; callers refuse a word with any other byte (`word & HIGH`),
/// whose carries may spill into the next byte.
#[inline(always)]
pub(crate) fn bytes_at_least(word: u64, m: u8) -> u64 {
    word.wrapping_add(ONES.wrapping_mul(0x80u64.wrapping_sub(u64::from(m)))) & HIGH
}

/// The bytes of `word` that are at most `n` (below 0x80): the high bit of each set. Exact on
/// the same terms as [`bytes_at_least`].
#[inline(always)]
pub(crate) fn bytes_at_most(word: u64, n: u8) -> u64 {
    ONES.wrapping_mul(0x80u64.wrapping_add(u64::from(n)))
        .wrapping_sub(word)
        & HIGH
}

/// Writes the canonical encoding of raw bytes: the text itself when the rule keeps every byte
/// (most names and values: one branch-free pass says so), else the runs of kept bytes and the
/// `%XX` escapes `percent-encoding` yields.
#[inline]
pub(crate) fn encode_raw<S: Sink>(raw: &[u8], rule: Rule, sink: &mut S) {
    if rule.keeps_all(raw) {
        sink.put(raw);
        return;
    }
    for chunk in percent_encoding::percent_encode(raw, rule.set()) {
        sink.put(chunk.as_bytes());
    }
}

/// The canonical encoding of raw bytes as a `String` (for texts encoded once per signer and
/// day).
pub(crate) fn encoded(raw: &[u8], rule: Rule) -> String {
    // The encoding is ASCII: the `String` sink takes it as it is.
    let mut out = String::new();
    encode_raw(raw, rule, &mut out);
    out
}

#[inline(always)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "callers pass a nibble (< 16), so the digit stays within '0'..='F'"
)]
fn upper_hex_digit(nibble: u8) -> u8 {
    if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + nibble - 10
    }
}

/// Writes the canonical form of `text`.
pub(crate) fn write_canonical<S: Sink>(text: Text<'_>, rule: Rule, sink: &mut S) {
    match text {
        Text::Raw(raw) => encode_raw(raw, rule, sink),
        Text::Wire(wire) if wire_is_canonical(wire, rule) => sink.put(wire),
        Text::Wire(wire) => {
            for b in Decoded::new(wire, rule) {
                if rule.keeps(b) {
                    sink.byte(b);
                } else {
                    sink.put(&[b'%', upper_hex_digit(b >> 4), upper_hex_digit(b & 0x0f)]);
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
            let b = self
                .pending
                .get(2usize.saturating_sub(self.pending_len))
                .copied();
            self.pending_len = self.pending_len.saturating_sub(1);
            return b;
        }
        let b = match &mut self.source {
            Source::Raw(it) => *it.next()?,
            Source::Decoded(it) => it.next()?,
        };
        if self.rule.keeps(b) {
            Some(b)
        } else {
            self.pending = [upper_hex_digit(b >> 4), upper_hex_digit(b & 0x0f)];
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
    /// A wire component whose canonical-ness the caller already knows.
    pub(crate) fn wire(wire: &'a [u8], canonical: bool) -> Self {
        Component {
            text: Text::Wire(wire),
            canonical: canonical.then_some(wire),
        }
    }

    /// Raw text the caller knows to be canonical already (only bytes the rule keeps).
    pub(crate) const fn canonical(raw: &'a [u8]) -> Self {
        Component {
            text: Text::Raw(raw),
            canonical: Some(raw),
        }
    }

    #[inline]
    pub(crate) fn new(text: Text<'a>, rule: Rule) -> Self {
        let canonical = match text {
            Text::Raw(raw) if rule.keeps_all(raw) => Some(raw),
            Text::Wire(wire) if wire_is_canonical(wire, rule) => Some(wire),
            _ => None,
        };
        Component { text, canonical }
    }

    /// Orders two components by their canonical encodings, byte by byte.
    #[inline]
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

    #[test]
    fn chunks_are_the_bytes_there_then_padding() {
        let bytes: Vec<u8> = (1..=40).collect();
        for at in 0..=45 {
            let expected: Vec<u8> = (0..16)
                .map(|k| bytes.get(at + k).copied().unwrap_or(b'a'))
                .collect();
            assert_eq!(chunk_at::<16>(&bytes, at, b'a').to_vec(), expected, "{at}");
            let word = expected
                .get(..8)
                .map(|w| w.iter().rev().fold(0u64, |acc, &b| acc << 8 | u64::from(b)));
            assert_eq!(Some(word_at(&bytes, at, b'a')), word, "{at}");
        }
        assert_eq!(chunk_at::<8>(&[], usize::MAX, 7), [7; 8]);
    }

    fn canon(text: Text<'_>, rule: Rule) -> String {
        let mut out = Vec::new();
        write_canonical(text, rule, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn byte_range_tests_answer_for_every_ascii_byte_in_every_lane() {
        for lane in 0..8 {
            for b in 0..0x80u8 {
                // The other lanes hold bytes on either side of every bound tried.
                let mut bytes = [0x00, 0x7f, b'0', b'a', b'~', b' ', b'9', b'f'];
                bytes[lane] = b;
                let word = u64::from_le_bytes(bytes);
                for bound in [0x20, 0x30, 0x39, 0x61, 0x66, 0x7e] {
                    let at_least = bytes_at_least(word, bound);
                    let at_most = bytes_at_most(word, bound);
                    for (k, &other) in bytes.iter().enumerate() {
                        let bit = 0x80u64 << (8 * k);
                        assert_eq!(
                            at_least & bit != 0,
                            other >= bound,
                            "{lane} {b} {bound} {k}"
                        );
                        assert_eq!(at_most & bit != 0, other <= bound, "{lane} {b} {bound} {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_escape_is_a_percent_and_two_hex_digits_of_either_case() {
        for (text, at, expected) in [
            (&b"%41"[..], 0, Some(0x41)),
            (b"a%2fb", 1, Some(0x2f)),
            (b"a%2Fb", 1, Some(0x2f)),
            (b"%ff", 0, Some(0xff)),
            (b"%4", 0, None),
            (b"%", 0, None),
            (b"%g1", 0, None),
            (b"%1g", 0, None),
            (b"x41", 0, None),
            (b"%41", 3, None),
            (b"%41", 9, None),
        ] {
            assert_eq!(escape_at(text, at), expected, "{text:?} {at}");
        }
    }

    #[test]
    fn short_eq_is_equality() {
        let text: Vec<u8> = (b'a'..=b'z').chain(b'A'..=b'Z').collect();
        for len in 0..=30 {
            let a = &text[..len];
            assert!(short_eq(a, a));
            assert!(!short_eq(a, &text[..len + 1]) && !short_eq(&text[..len + 1], a));
            // A difference at each position, in each direction.
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!short_eq(a, &b) && !short_eq(&b, a), "{len} {at}");
            }
        }
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
    fn decode_into_matches_the_decoding_iterator() {
        for wire in [
            "",
            "abc",
            "a%2Fb+c",
            "%41%42",
            "50%",
            "%4",
            "%zz+",
            "AKID%2F20130524%2Fus",
        ] {
            let expected: Vec<u8> = Decoded::new(wire.as_bytes(), Rule::Query).collect();
            let mut out = [0u8; 32];
            let n = decode_into(wire.as_bytes(), true, &mut out);
            assert_eq!(n.and_then(|n| out.get(..n)), Some(&expected[..]), "{wire}");
            let n = decode_into(wire.as_bytes(), false, &mut out);
            assert_eq!(
                n.and_then(|n| out.get(..n)),
                Some(wire.as_bytes()),
                "{wire}"
            );
        }
        assert_eq!(decode_into(b"abcd", true, &mut [0u8; 3]), None);
        assert_eq!(decode_into(b"ab%41", true, &mut [0u8; 2]), None);
    }

    proptest::proptest! {
        // Every mix of plain bytes, escapes, broken escapes and `+`, across the eight-byte
        // steps, into buffers of every size around the decoded length.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn decode_into_matches_the_decoding_iterator_everywhere(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["a", "bcdefgh", "%2F", "%2f", "%", "%4", "+", "%zz", "Z"]),
                0..16,
            ),
            slack in 0usize..10,
        ) {
            let wire = parts.concat();
            let expected: Vec<u8> = Decoded::new(wire.as_bytes(), Rule::Query).collect();
            for size in expected.len().saturating_sub(2)..=expected.len() + slack {
                let mut out = vec![0u8; size];
                let n = decode_into(wire.as_bytes(), true, &mut out);
                if size >= expected.len() {
                    proptest::prop_assert_eq!(n.and_then(|n| out.get(..n)), Some(&expected[..]), "{}", wire);
                } else {
                    proptest::prop_assert_eq!(n, None, "{}", wire);
                }
            }
        }
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

    /// The straightforward definition `wire_is_canonical` is an optimisation of.
    fn canonical_reference(wire: &[u8], rule: Rule) -> bool {
        let keeps = |b: u8| {
            b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (b == b'/' && rule == Rule::Path)
        };
        let upper_hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
        let mut i = 0;
        while let Some(&b) = wire.get(i) {
            if b == b'%' {
                match (wire.get(i + 1), wire.get(i + 2)) {
                    (Some(&h), Some(&l))
                        if upper_hex(h) && upper_hex(l) && !keeps(hex_val(h) << 4 | hex_val(l)) =>
                    {
                        i += 3
                    }
                    _ => return false,
                }
            } else if keeps(b) {
                i += 1;
            } else {
                return false;
            }
        }
        true
    }

    proptest::proptest! {
        // proptest needs the file system (failure persistence) and is slow under an
        // interpreter: native runs cover it; miri runs the deterministic tests.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn wire_is_canonical_matches_its_definition(
            wire in proptest::collection::vec(
                proptest::sample::select(b"aZ09-._~/%%%%2F7eE+ \xc3\x80345DACf".to_vec()), 0..80),
        ) {
            for rule in [Rule::Path, Rule::Query] {
                proptest::prop_assert_eq!(
                    wire_is_canonical(&wire, rule),
                    canonical_reference(&wire, rule),
                    "{:?} {:?}", String::from_utf8_lossy(&wire), rule
                );
            }
        }

        // proptest needs the file system (failure persistence) and is slow under an
        // interpreter: native runs cover it; miri runs the deterministic tests.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn encoding_matches_its_definition(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            for rule in [Rule::Path, Rule::Query] {
                // Unreserved bytes (and `/` in a path) as they are, every other one `%XX`.
                let reference: String = raw
                    .iter()
                    .map(|&b| {
                        let kept = b.is_ascii_alphanumeric()
                            || b"-._~".contains(&b)
                            || (rule == Rule::Path && b == b'/');
                        if kept { char::from(b).to_string() } else { format!("%{b:02X}") }
                    })
                    .collect();
                let mut bytes = Vec::new();
                encode_raw(&raw, rule, &mut bytes);
                let string = encoded(&raw, rule);
                proptest::prop_assert_eq!(&bytes, reference.as_bytes());
                proptest::prop_assert_eq!(&string, &reference);
                proptest::prop_assert_eq!(wire_is_canonical(reference.as_bytes(), rule), true);
            }
        }
    }

    #[test]
    fn every_byte_is_classified_as_the_rules_say() {
        for b in 0..=255u8 {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            assert_eq!(Rule::Query.keeps(b), unreserved, "{b}");
            assert_eq!(Rule::Path.keeps(b), unreserved || b == b'/', "{b}");
            for rule in [Rule::Query, Rule::Path] {
                assert_eq!(rule.keeps_all(&[b]), rule.keeps(b), "{b}");
                assert_eq!(rule.keeps_all(&[b'a', b, b'z']), rule.keeps(b), "{b}");
            }
        }
    }

    /// Every escape `%XY` (all 65 536 byte pairs), at the start, the end and inside both the
    /// 16-byte runs and the rest of short and long texts, is judged as the definition says.
    #[test]
    #[cfg_attr(miri, ignore = "65 536 pairs: too slow under an interpreter")]
    fn every_escape_anywhere_is_judged_as_defined() {
        let filler =
            b"abcdefghijklmnopqrstuvwxyz0123456789-._~ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (before, after) in [
            (0, 0),
            (0, 20),
            (1, 0),
            (14, 3),
            (16, 16),
            (30, 1),
            (61, 0),
            (70, 9),
        ] {
            for x in 0..=255u8 {
                for y in 0..=255u8 {
                    let mut wire = filler[..before].to_vec();
                    wire.extend_from_slice(&[b'%', x, y]);
                    wire.extend_from_slice(&filler[..after]);
                    for rule in [Rule::Path, Rule::Query] {
                        assert_eq!(
                            wire_is_canonical(&wire, rule),
                            canonical_reference(&wire, rule),
                            "{:?} {rule:?}",
                            String::from_utf8_lossy(&wire)
                        );
                    }
                }
            }
        }
    }

    /// Every byte at every place of texts shorter than, as long as and longer than the 16-byte
    /// runs `keeps_all` checks with arithmetic.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "every byte at every place: too slow under an interpreter"
    )]
    fn keeps_all_finds_any_byte_anywhere() {
        for len in [1, 2, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = b;
                    for rule in [Rule::Path, Rule::Query] {
                        assert_eq!(rule.keeps_all(&text), rule.keeps(b), "{len} {at} {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn bad_escapes_are_found() {
        assert!(validate_wire(b"%4").is_err());
        assert!(validate_wire(b"%zz").is_err());
        assert!(validate_wire(b"%41%").is_err());
        assert!(validate_wire(b"%41a").is_ok());
        // At every position of a text long enough to be searched sixteen bytes at a time.
        for at in 0..40 {
            let mut text = vec![b'a'; 40];
            assert!(validate_wire(&text).is_ok());
            text[at] = b'%';
            assert_eq!(validate_wire(&text).is_ok(), at < 38, "{at}");
            text.truncate(at + 1);
            text.extend_from_slice(b"4F");
            assert!(validate_wire(&text).is_ok(), "{at}");
            text.push(b'%');
            assert!(validate_wire(&text).is_err(), "{at}");
        }
    }
}
