//! Where canonical bytes go: straight into a hasher on the hot path, into a buffer when a caller
//! asks to see them. One writer serves both, so what is hashed is exactly what is shown.

use arrayvec::ArrayVec;
use sha2::{Digest, Sha256};

/// A destination for canonical bytes.
///
/// Writers put pieces as they come, single bytes included, and never wrap their sink in a
/// buffer of their own: the caller picks the sink. The verifier streams the canonical request
/// straight into the hasher (SHA-256's own block buffer); the signer of headers and the
/// presigner's path hand them a [`Buffered`] sink, one copy into a stack buffer per piece.
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Appends one byte.
    #[inline]
    fn byte(&mut self, b: u8) {
        self.put(&[b]);
    }
}

impl Sink for Sha256 {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// Text: for writers that put UTF-8 text, such as pieces of a `&str` cut at ASCII bytes (the
/// lines a presigned request returns). Each piece is checked; one that is not UTF-8 (which such
/// writers never put) is written with replacement characters rather than trusted.
impl Sink for String {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        match core::str::from_utf8(bytes) {
            Ok(text) => self.push_str(text),
            Err(_) => self.push_str(&String::from_utf8_lossy(bytes)),
        }
    }
}

/// Stack buffer in front of a sink, so byte-at-a-time producers (lowercasing, whitespace
/// folding, re-encoding) do not pay a hasher call per byte. With a larger `N` in front of a
/// hasher it gathers a whole canonical request, which is then hashed in one call.
///
/// Which is faster depends on the processor. On the AMD EPYC (Zen 4) the benchmarks run on,
/// the verifier's canonical request streamed straight into the hasher verified 1.5 % (URL)
/// and 4 % (header-signed) faster than gathered first, and a 128-byte buffer in front was
/// slower than either: bytes hashed right after they are stored wait for the stores to land,
/// and the hasher's own block buffer keeps that wait to one block at a time.
pub(crate) struct Buffered<'s, S: Sink, const N: usize> {
    sink: &'s mut S,
    /// Not zero-filled: only the bytes written so far exist (a 1 KiB fill per request was
    /// measurable).
    buf: ArrayVec<u8, N>,
}

impl<S: Sink, const N: usize> Sink for Buffered<'_, S, N> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.push_byte(b);
    }
}

impl<'s, S: Sink, const N: usize> Buffered<'s, S, N> {
    /// A buffer of `N` bytes in front of `sink`.
    pub(crate) fn sized(sink: &'s mut S) -> Self {
        Buffered {
            sink,
            buf: ArrayVec::new(),
        }
    }

    #[inline]
    pub(crate) fn push_byte(&mut self, b: u8) {
        if self.buf.is_full() {
            self.flush();
        }
        if let Err(full) = self.buf.try_push(b) {
            // A buffer of no bytes at all: straight through.
            self.sink.put(&[full.element()]);
        }
    }

    #[inline(always)]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        if bytes.len() > self.buf.remaining_capacity() {
            self.flush();
        }
        if self.buf.try_extend_from_slice(bytes).is_err() {
            // Longer than the whole (just emptied) buffer: straight through.
            self.sink.put(bytes);
        }
    }

    pub(crate) fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.sink.put(&self.buf);
        }
        self.buf.clear();
    }
}

/// How much of a canonical request is gathered before it is hashed: all of it, for requests of
/// ordinary size.
pub(crate) const GATHER: usize = 1024;

/// A gathering buffer in front of a hasher (see [`Buffered`]).
pub(crate) fn gathering(hasher: &mut Sha256) -> Buffered<'_, Sha256, GATHER> {
    Buffered::sized(hasher)
}

impl<S: Sink, const N: usize> Drop for Buffered<'_, S, N> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Lowercase hex of a 32-byte digest, on the stack. Arithmetic rather than a table lookup,
/// over fixed sizes, so that it compiles to a few sixteen-byte vector operations: it is on the
/// critical path twice per signature (the canonical request's hash into the string to sign,
/// the signature into the URL).
#[inline]
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    #[inline(always)]
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "nibble < 16: at most 15 + 48 + 39 = 102, below u8::MAX"
    )]
    fn digit(nibble: u8) -> u8 {
        // `0`-`9`, then `a`-`f`: 39 further on than the bytes after `9`. A compare and a mask,
        // not a multiply, once vectorized.
        nibble + b'0' + if nibble > 9 { 39 } else { 0 }
    }
    let mut out = [0u8; 64];
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        if let [hi, lo] = pair {
            *hi = digit(b >> 4);
            *lo = digit(b & 0x0f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Buffered, Sink, hex32};

    /// `pieces` through a buffer of `N` bytes into a `Vec` (one-byte pieces through `byte`).
    fn through<const N: usize>(pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buffered = Buffered::<_, N>::sized(&mut out);
        for piece in pieces {
            match piece {
                [b] => buffered.byte(*b),
                _ => buffered.put(piece),
            }
        }
        drop(buffered);
        out
    }

    #[test]
    fn a_buffer_passes_every_byte_on_in_order() {
        let text: Vec<u8> = (0..=255).collect();
        let mut state = 1usize;
        for _ in 0..200 {
            // Pieces of 0 to 20 bytes, cut one after the other from `text`.
            let mut pieces: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            while at < text.len() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let end = (at + (state >> 33) % 21).min(text.len());
                pieces.push(&text[at..end]);
                at = end;
            }
            assert_eq!(through::<0>(&pieces), text);
            assert_eq!(through::<1>(&pieces), text);
            assert_eq!(through::<3>(&pieces), text);
            assert_eq!(through::<16>(&pieces), text);
            assert_eq!(through::<1024>(&pieces), text);
        }
    }

    #[test]
    fn hex_is_what_the_hex_crate_writes_for_every_byte_value() {
        // Eight inputs of 32 bytes hold every byte value once, eight values at each position.
        for start in 0..8u8 {
            let bytes: [u8; 32] =
                core::array::from_fn(|i| start.wrapping_mul(32).wrapping_add(i as u8));
            assert_eq!(
                hex32(&bytes).as_slice(),
                hex::encode(bytes).as_bytes(),
                "{start}"
            );
        }
        let mixed: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        assert_eq!(hex32(&mixed).as_slice(), hex::encode(mixed).as_bytes());
    }

    #[test]
    fn a_string_takes_text_as_it_is_and_never_trusts_other_bytes() {
        let mut out = String::from("a");
        out.put("é/b".as_bytes());
        out.byte(b'c');
        assert_eq!(out, "aé/bc");
        out.put(&[0xff, b'd']);
        out.byte(0xc3);
        assert_eq!(out, "aé/bc\u{fffd}d\u{fffd}");
    }
}
