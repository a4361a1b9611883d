//! Where canonical bytes go: straight into a hasher on the hot path, into a buffer when a caller
//! asks to see them. One writer serves both, so what is hashed is exactly what is shown.

use sha2::{Digest, Sha256};

/// A destination for canonical bytes.
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
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
}

/// Small stack buffer in front of a sink, so byte-at-a-time producers (lowercasing, whitespace
/// folding, re-encoding) do not pay a hasher call per byte.
pub(crate) struct Buffered<'s, S: Sink> {
    sink: &'s mut S,
    buf: [u8; 128],
    len: usize,
}

impl<'s, S: Sink> Buffered<'s, S> {
    pub(crate) fn new(sink: &'s mut S) -> Self {
        Buffered {
            sink,
            buf: [0; 128],
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        if self.len == self.buf.len() {
            self.flush();
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    #[inline]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        if bytes.len() > self.buf.len() - self.len {
            self.flush();
            if bytes.len() > self.buf.len() {
                self.sink.put(bytes);
                return;
            }
        }
        if let Some(dst) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    pub(crate) fn flush(&mut self) {
        if let Some(pending) = self.buf.get(..self.len) {
            if !pending.is_empty() {
                self.sink.put(pending);
            }
        }
        self.len = 0;
    }
}

impl<S: Sink> Drop for Buffered<'_, S> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Lowercase hex of `bytes` into `out` (which must be twice as long). Arithmetic rather than a
/// table lookup, so that it vectorizes.
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    #[inline(always)]
    fn digit(nibble: u8) -> u8 {
        // `0`-`9`, then 39 more for `a`-`f`: (nibble + 6) has bit 4 set from 10 on.
        nibble + b'0' + ((nibble + 6) >> 4) * 39
    }
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        if let [hi, lo] = pair {
            *hi = digit(b >> 4);
            *lo = digit(b & 0x0f);
        }
    }
}

/// Lowercase hex of a 32-byte digest, on the stack.
#[inline]
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    hex_into(bytes, &mut out);
    out
}
