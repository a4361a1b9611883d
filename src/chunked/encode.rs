//! The client side: sign the seed request, then frame and sign the body chunk by chunk.

use sha2::{Digest, Sha256};

use super::{
    CHUNK_SIGNATURE_EXT, Chain, Checksum, ChecksumAlgorithm, ChecksumValue, Mode, TRAILER_SIGNATURE,
};
use crate::signing_key::Signature;
use crate::{Error, PayloadHash, SignableRequest, Signer, SigningTime};

/// Headers [`ChunkedUpload::sign`] sets itself; a request that already has one is refused.
const RESERVED: [&str; 4] = [
    "content-encoding",
    "content-length",
    "x-amz-decoded-content-length",
    "x-amz-trailer",
];

/// The largest chunk size: 8 hex digits, the most a verifier reads
/// ([`crate::limits::MAX_CHUNK_SIZE_DIGITS`]).
const MAX_ENCODER_CHUNK: u64 = 0xFFFF_FFFF;

/// An aws-chunked upload to sign: how long the body is, how it is cut, and what trails it.
///
/// S3 refuses non-final chunks under 8 KiB ([`crate::limits::MIN_CHUNK_SIZE`]); the SDKs use
/// 64 KiB. Smaller sizes are accepted here for tests and other servers.
///
/// ```
/// use presign::chunked::{ChecksumAlgorithm, ChunkedUpload};
/// // The S3 documentation's example: 66560 bytes in 64 KiB chunks frame to 66824 bytes.
/// let upload = ChunkedUpload::signed(66560, 65536).unwrap();
/// assert_eq!(upload.payload_hash().as_str(), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
/// assert_eq!(upload.encoded_length(), 66824);
///
/// let unsigned = ChunkedUpload::unsigned(5, 65536, ChecksumAlgorithm::Crc32).unwrap();
/// // botocore's `5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n`.
/// assert_eq!(unsigned.encoded_length(), 46);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkedUpload {
    decoded_length: u64,
    chunk_size: usize,
    checksum: Option<ChecksumAlgorithm>,
    signed_chunks: bool,
    sign_content_length: bool,
}

impl ChunkedUpload {
    /// Signed chunks: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, or `…-PAYLOAD-TRAILER` once a
    /// trailing checksum is added. `decoded_length` is the body's length before framing.
    pub fn signed(decoded_length: u64, chunk_size: usize) -> Result<Self, Error> {
        Self::new(decoded_length, chunk_size, None, true)
    }

    /// Unsigned chunks with a trailing checksum: `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what
    /// the SDKs send over HTTPS by default. The seed request is signed, the body is not.
    pub fn unsigned(
        decoded_length: u64,
        chunk_size: usize,
        checksum: ChecksumAlgorithm,
    ) -> Result<Self, Error> {
        Self::new(decoded_length, chunk_size, Some(checksum), false)
    }

    fn new(
        decoded_length: u64,
        chunk_size: usize,
        checksum: Option<ChecksumAlgorithm>,
        signed_chunks: bool,
    ) -> Result<Self, Error> {
        let size = u64::try_from(chunk_size).unwrap_or(u64::MAX);
        if size == 0 || size > MAX_ENCODER_CHUNK {
            return Err(Error::InvalidChunkSize(size));
        }
        Ok(ChunkedUpload {
            decoded_length,
            chunk_size,
            checksum,
            signed_chunks,
            sign_content_length: true,
        })
    }

    /// Adds (or replaces) the trailing checksum. With signed chunks the mode becomes
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    pub fn with_trailing_checksum(mut self, algorithm: ChecksumAlgorithm) -> Self {
        self.checksum = Some(algorithm);
        self
    }

    /// Whether `content-length` is signed (default `true`: it binds the framed length). It is
    /// always returned among the headers to send; the S3 documentation's trailer example
    /// leaves it unsigned.
    pub fn with_content_length_signed(mut self, signed: bool) -> Self {
        self.sign_content_length = signed;
        self
    }

    fn mode(&self) -> Mode {
        match (self.signed_chunks, self.checksum.is_some()) {
            (true, false) => Mode::Signed,
            (true, true) => Mode::SignedTrailer,
            (false, _) => Mode::UnsignedTrailer,
        }
    }

    /// The `x-amz-content-sha256` value.
    pub fn payload_hash(&self) -> PayloadHash {
        self.mode().payload_hash()
    }

    /// The body length before framing (`x-amz-decoded-content-length`).
    pub fn decoded_length(&self) -> u64 {
        self.decoded_length
    }

    /// The chunk size: every chunk but the last has exactly this many bytes.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The trailing checksum, if any.
    pub fn trailing_checksum(&self) -> Option<ChecksumAlgorithm> {
        self.checksum
    }

    /// The framed length (`content-length`): every size is known before the first byte, so
    /// is this. Saturates at `u64::MAX`, far past anything a server accepts.
    pub fn encoded_length(&self) -> u64 {
        const SIGNED_EXT: u64 = (CHUNK_SIGNATURE_EXT.len() + 64) as u64;
        const SIGNATURE_LINE: u64 = (TRAILER_SIGNATURE.len() + 1 + 64 + 2) as u64;
        let ext = if self.signed_chunks { SIGNED_EXT } else { 0 };
        // `<hex size><ext>\r\n<data>\r\n`
        let framed = |n: u64| saturating_sum(&[hex_len(n), ext, 2, n, 2]);
        let size = self.chunk_size as u64;
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "new() rejects a zero chunk size, so the divisor is non-zero"
        )]
        let (full, rest) = (self.decoded_length / size, self.decoded_length % size);
        let mut total = full.saturating_mul(framed(size));
        if rest > 0 {
            total = total.saturating_add(framed(rest));
        }
        // The final chunk's header, the trailer lines, the empty line.
        total = saturating_sum(&[total, 1, ext, 2]);
        if let Some(alg) = self.checksum {
            let name = alg.header_name().len() as u64;
            let value = alg.base64_len() as u64;
            total = saturating_sum(&[total, name, 1, value, 2]);
            if self.signed_chunks {
                total = total.saturating_add(SIGNATURE_LINE);
            }
        }
        total.saturating_add(2)
    }

    /// Signs the seed request and returns the headers to add to it and the body encoder.
    ///
    /// `headers` are the request's own headers (`host` among them); this adds and signs
    /// `content-encoding: aws-chunked`, `x-amz-decoded-content-length`, `x-amz-trailer` (with a
    /// checksum), `content-length` (signed unless
    /// [`with_content_length_signed(false)`](Self::with_content_length_signed)) and the
    /// signer's own headers (`x-amz-date`, `x-amz-content-sha256`, `authorization`, and
    /// `x-amz-security-token` with temporary credentials). The first four may not be given.
    /// The signer must add `x-amz-content-sha256` (S3 signers do).
    pub fn sign(
        &self,
        signer: &Signer,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        time: SigningTime,
    ) -> Result<(SeedHeaders, ChunkedEncoder), Error> {
        if let Some((name, _)) = headers
            .iter()
            .find(|(n, _)| RESERVED.iter().any(|r| r.eq_ignore_ascii_case(n)))
        {
            return Err(Error::ReservedHeader((*name).to_owned()));
        }
        let encoded = self.encoded_length().to_string();
        let mut added: Vec<(&'static str, String)> =
            vec![("content-encoding", "aws-chunked".into())];
        if self.sign_content_length {
            added.push(("content-length", encoded.clone()));
        }
        added.push((
            "x-amz-decoded-content-length",
            self.decoded_length.to_string(),
        ));
        if let Some(alg) = self.checksum {
            added.push(("x-amz-trailer", alg.header_name().to_owned()));
        }
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.extend(added.iter().map(|(n, v)| (*n, v.as_str())));
        let request = SignableRequest::new(method, target, &all, self.payload_hash())?;
        let auth = signer.sign_headers(&request, time)?;
        if auth.content_sha256().is_none() {
            // Without it the verifier cannot know the body is aws-chunked.
            return Err(Error::InvalidPayloadHash(
                "aws-chunked needs x-amz-content-sha256: the signer must add it".into(),
            ));
        }
        if !self.sign_content_length {
            added.push(("content-length", encoded));
        }
        added.extend(auth.iter().map(|(n, v)| (n, v.to_owned())));
        let signature = auth.signature();
        let chain = Chain {
            key: signer.signing_key(time),
            amz_date: time.amz_date(),
            scope: signer.scope(time).to_string(),
            previous: signature.0,
        };
        let encoder = ChunkedEncoder {
            chain: self.signed_chunks.then_some(chain),
            chunk_size: self.chunk_size,
            pending: Vec::new(),
            declared: self.decoded_length,
            accepted: 0,
            checksum: self.checksum.map(Checksum::new),
        };
        Ok((
            SeedHeaders {
                headers: added,
                signature,
            },
            encoder,
        ))
    }
}

/// Hex digits of `n` (`0` has one).
fn hex_len(n: u64) -> u64 {
    hex_digits(n, &mut [0; 16]).len() as u64
}

/// The sum of `parts`, saturating at `u64::MAX`.
fn saturating_sum(parts: &[u64]) -> u64 {
    parts.iter().fold(0, |sum, &part| sum.saturating_add(part))
}

/// The headers to add to the seed request, as `(lowercase name, value)`.
#[derive(Clone, Debug)]
pub struct SeedHeaders {
    headers: Vec<(&'static str, String)>,
    signature: Signature,
}

impl SeedHeaders {
    /// Every header to add: `content-encoding`, `content-length`,
    /// `x-amz-decoded-content-length`, `x-amz-trailer` (with a checksum), `authorization`,
    /// `x-amz-date`, `x-amz-content-sha256` and `x-amz-security-token` (temporary
    /// credentials).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.headers.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// The value of one of them (lowercase name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The seed signature: the request's signature, first link of the chunk chain.
    pub fn seed_signature(&self) -> Signature {
        self.signature
    }
}

/// Frames a body as aws-chunked, signing each chunk (and the trailer) in the chain.
///
/// Push the body in pieces of any size; each full chunk is written out as soon as it is
/// complete, the last (shorter) one as soon as the declared length is reached, so at most one
/// chunk of body is held. [`finish`](Self::finish) writes the final zero-length chunk and the
/// trailers.
pub struct ChunkedEncoder {
    chain: Option<Chain>,
    chunk_size: usize,
    pending: Vec<u8>,
    declared: u64,
    accepted: u64,
    checksum: Option<Checksum>,
}

impl ChunkedEncoder {
    /// Takes the next body bytes and appends the chunks they complete to `out`. More bytes in
    /// total than the declared length is [`Error::BodyLength`] (nothing is taken then).
    pub fn push(&mut self, mut body: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let provided = self.accepted.saturating_add(body.len() as u64);
        if provided > self.declared {
            return Err(Error::BodyLength {
                declared: self.declared,
                provided,
            });
        }
        self.accepted = provided;
        if let Some(c) = &mut self.checksum {
            c.update(body);
        }
        while !body.is_empty() {
            // A whole chunk in the input is signed in place; pieces are gathered first.
            if self.pending.is_empty() && body.len() >= self.chunk_size {
                let (chunk, rest) = body.split_at(self.chunk_size);
                self.write_chunk(chunk, out);
                body = rest;
                continue;
            }
            #[allow(
                clippy::arithmetic_side_effects,
                reason = "pending is flushed as soon as it reaches chunk_size, so pending.len() < chunk_size"
            )]
            let room = self.chunk_size - self.pending.len();
            let take = room.min(body.len());
            let (piece, rest) = body.split_at(take);
            self.pending.extend_from_slice(piece);
            body = rest;
            if self.pending.len() == self.chunk_size {
                self.flush_pending(out);
            }
        }
        if self.accepted == self.declared {
            self.flush_pending(out);
        }
        Ok(())
    }

    /// Body bytes taken so far.
    pub fn bytes_accepted(&self) -> u64 {
        self.accepted
    }

    /// Appends the final zero-length chunk, the trailers and the end of the body to `out`, and
    /// returns the trailing checksum. A body shorter than declared is [`Error::BodyLength`].
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<Option<ChecksumValue>, Error> {
        if self.accepted != self.declared {
            return Err(Error::BodyLength {
                declared: self.declared,
                provided: self.accepted,
            });
        }
        self.flush_pending(out);
        self.write_chunk(&[], out);
        let value = self.checksum.take().map(Checksum::finalize);
        if let Some(value) = value {
            let name = value.algorithm().header_name();
            let b64 = value.to_base64();
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(b64.as_bytes());
            out.extend_from_slice(b"\r\n");
            if let Some(chain) = &self.chain {
                // The canonical trailer: `name:value\n`.
                let mut canonical = Sha256::new();
                canonical.update(name.as_bytes());
                canonical.update(b":");
                canonical.update(b64.as_bytes());
                canonical.update(b"\n");
                let signature = chain.sign_trailer(&canonical.finalize().into());
                out.extend_from_slice(TRAILER_SIGNATURE.as_bytes());
                out.push(b':');
                out.extend_from_slice(signature.to_hex().as_str().as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(value)
    }

    fn flush_pending(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            let pending = core::mem::take(&mut self.pending);
            self.write_chunk(&pending, out);
            // Keep the allocation for the next chunk.
            self.pending = pending;
            self.pending.clear();
        }
    }

    /// `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` (no data and no final CRLF for the
    /// zero-length chunk, whose CRLF ends the trailer section instead).
    fn write_chunk(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.reserve(data.len().saturating_add(96));
        let mut size = [0u8; 16];
        let digits = hex_digits(data.len() as u64, &mut size);
        out.extend_from_slice(digits);
        if let Some(chain) = &mut self.chain {
            let hash: [u8; 32] = Sha256::digest(data).into();
            let signature = chain.sign_chunk(&hash);
            out.extend_from_slice(CHUNK_SIGNATURE_EXT.as_bytes());
            out.extend_from_slice(signature.to_hex().as_str().as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if !data.is_empty() {
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
    }
}

impl core::fmt::Debug for ChunkedEncoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkedEncoder")
            .field("signed_chunks", &self.chain.is_some())
            .field("chunk_size", &self.chunk_size)
            .field("declared", &self.declared)
            .field("accepted", &self.accepted)
            .finish_non_exhaustive()
    }
}

/// Lowercase hex of `n` without leading zeros, in `buf`.
fn hex_digits(n: u64, buf: &mut [u8; 16]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = buf.len();
    let mut n = n;
    while let Some(prev) = i.checked_sub(1) {
        i = prev;
        if let (Some(slot), Some(digit)) = (buf.get_mut(i), HEX.get((n & 0xf) as usize)) {
            *slot = *digit;
        }
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers() {
        let mut buf = [0u8; 16];
        assert_eq!(hex_digits(0, &mut buf), b"0");
        assert_eq!(hex_digits(0x10000, &mut buf), b"10000");
        assert_eq!(hex_digits(u64::MAX, &mut buf), b"ffffffffffffffff");
        assert_eq!(hex_len(0), 1);
        assert_eq!(hex_len(0x400), 3);
        assert_eq!(hex_len(0x10000), 5);
        assert_eq!(hex_len(u64::MAX), 16);
    }

    #[test]
    fn chunk_size_bounds() {
        assert_eq!(ChunkedUpload::signed(1, 0), Err(Error::InvalidChunkSize(0)));
        assert!(ChunkedUpload::signed(1, 0xFFFF_FFFF).is_ok());
        #[cfg(target_pointer_width = "64")]
        assert_eq!(
            ChunkedUpload::signed(1, 0x1_0000_0000),
            Err(Error::InvalidChunkSize(0x1_0000_0000))
        );
    }
}
