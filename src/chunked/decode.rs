//! The server side: unframe an aws-chunked body, verifying each chunk before releasing it.

use sha2::{Digest, Sha256};

use super::{
    Chain, Checksum, ChecksumAlgorithm, ChecksumValue, Mode, TRAILER_SIGNATURE, parse_signature_hex,
};
use crate::limits::{
    DEFAULT_MAX_CHUNK_SIZE, MAX_CHUNK_HEADER_LEN, MAX_CHUNK_SIZE_DIGITS,
    MAX_DECODED_CONTENT_LENGTH, MAX_TRAILER_LEN, MIN_CHUNK_SIZE,
};
use crate::signing_key::{SigningKey, constant_time_eq};
use crate::verify::{VerifiedRequest, VerifyError};
use crate::{PayloadHash, SigningTime};

/// SHA-256 of the empty string: the data hash of the final chunk.
const EMPTY_DIGEST: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Where verified payload bytes go.
///
/// Implemented for `Vec<u8>` (appends) and for any `FnMut(&[u8])`. The decoder hands over
/// slices of its own buffer or of the input, so a sink that writes them out directly copies
/// nothing. A sink cannot fail: one that does I/O keeps its error and the caller stops feeding.
pub trait PayloadSink {
    /// Takes the next verified payload bytes.
    fn write_payload(&mut self, bytes: &[u8]);
}

impl PayloadSink for Vec<u8> {
    fn write_payload(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl<F: FnMut(&[u8])> PayloadSink for F {
    fn write_payload(&mut self, bytes: &[u8]) {
        self(bytes);
    }
}

/// Decoder settings.
///
/// ```
/// use presign::chunked::DecoderConfig;
/// let config = DecoderConfig::default().max_chunk_size(1 << 20).strict_chunk_size(true);
/// assert_eq!(config.chunk_cap(), 1 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    max_chunk_size: usize,
    strict_chunk_size: bool,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_chunk_size: DEFAULT_MAX_CHUNK_SIZE,
            strict_chunk_size: false,
        }
    }
}

impl DecoderConfig {
    /// The largest chunk accepted, and so the most payload the decoder buffers (default
    /// [`DEFAULT_MAX_CHUNK_SIZE`], 16 MiB). A larger chunk is refused from its header, before
    /// any of its data is read.
    pub fn max_chunk_size(mut self, bytes: usize) -> Self {
        self.max_chunk_size = bytes;
        self
    }

    /// Whether non-final chunks under 8 KiB ([`MIN_CHUNK_SIZE`]) are refused with
    /// `InvalidChunkSizeError`, as S3 does (default `false`).
    pub fn strict_chunk_size(mut self, strict: bool) -> Self {
        self.strict_chunk_size = strict;
        self
    }

    /// The chunk cap.
    pub fn chunk_cap(&self) -> usize {
        self.max_chunk_size
    }

    /// Whether the 8 KiB minimum is enforced.
    pub fn is_strict_chunk_size(&self) -> bool {
        self.strict_chunk_size
    }
}

/// What a decoder is bound to: the verified seed request. [`ChunkedDecoder::from_verified`]
/// fills it from a [`VerifiedRequest`]; build it by hand only when the seed signature was
/// verified some other way.
#[derive(Clone, Copy, Debug)]
pub struct Seed<'a> {
    /// The `x-amz-content-sha256` mode (one of the three streaming modes).
    pub payload: PayloadHash,
    /// The key that verified the seed signature.
    pub signing_key: &'a SigningKey,
    /// The seed signature (the request's signature).
    pub signature: [u8; 32],
    /// The request's `x-amz-date`.
    pub signing_time: SigningTime,
    /// `yyyyMMdd/region/service/aws4_request`.
    pub credential_scope: &'a str,
    /// `x-amz-decoded-content-length`.
    pub decoded_content_length: Option<u64>,
    /// `content-length` (the framed length), when the request had one.
    pub content_length: Option<u64>,
    /// `x-amz-trailer`.
    pub trailer: Option<&'a str>,
}

/// How an upload ended, when [`ChunkedDecoder::finish`] accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeSummary {
    decoded_length: u64,
    checksum: Option<ChecksumValue>,
}

impl DecodeSummary {
    /// Payload bytes released (equal to `x-amz-decoded-content-length`).
    pub fn decoded_length(&self) -> u64 {
        self.decoded_length
    }

    /// The trailing checksum, verified against the payload (to store with the object).
    pub fn checksum(&self) -> Option<ChecksumValue> {
        self.checksum
    }
}

/// Where the decoder is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Reading chunk data.
    Data,
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// Reading trailer lines, up to the empty line.
    Trailer,
    /// The body is complete; nothing may follow.
    Done,
}

/// What the trailer section has brought so far.
#[derive(Clone, Default)]
struct Trailers {
    bytes: usize,
    checksum: Option<ChecksumValue>,
    /// The trailer signature as received (bounded by [`MAX_TRAILER_LEN`]).
    signature: Option<String>,
    canonical: Sha256,
}

/// Unframes an aws-chunked body and verifies it, releasing payload bytes only from chunks
/// whose signature verified. See the [module documentation](super) for the rules.
///
/// Feed it the body as received, in slices of any size, with [`feed`](Self::feed); call
/// [`finish`](Self::finish) at the end of the body. The first error is final: later calls
/// return it again.
#[derive(Clone)]
pub struct ChunkedDecoder {
    mode: Mode,
    chain: Option<Chain>,
    config: DecoderConfig,
    declared_trailer: Option<ChecksumAlgorithm>,
    checksum: Option<Checksum>,
    decoded_length: u64,
    content_length: Option<u64>,
    decoded_seen: u64,
    encoded_seen: u64,
    state: State,
    line: Vec<u8>,
    chunk_size: usize,
    chunk_remaining: usize,
    chunk_signature: [u8; 32],
    chunk_hash: Sha256,
    buffer: Vec<u8>,
    last_chunk_size: Option<usize>,
    trailers: Trailers,
    error: Option<VerifyError>,
}

impl ChunkedDecoder {
    /// A decoder for a request whose seed signature the [`crate::verify::Verifier`] verified.
    ///
    /// Errors: the payload is not a streaming mode (`InvalidArgument`), no
    /// `x-amz-decoded-content-length` (`MissingContentLength`) or one over 5 TiB
    /// (`EntityTooLarge`), a missing or malformed `x-amz-trailer` in a `-TRAILER` mode or one in
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (`MalformedTrailerError`), a trailer name other than
    /// one checksum (`InvalidRequest`).
    pub fn from_verified(
        request: &VerifiedRequest<'_>,
        config: DecoderConfig,
    ) -> Result<Self, VerifyError> {
        Self::new(
            Seed {
                payload: request.payload(),
                signing_key: request.signing_key(),
                signature: request.signature(),
                signing_time: request.signing_time(),
                credential_scope: request.credential_scope(),
                decoded_content_length: request.decoded_content_length(),
                content_length: request.content_length(),
                trailer: request.trailer(),
            },
            config,
        )
    }

    /// A decoder bound to a seed verified elsewhere. Same errors as
    /// [`from_verified`](Self::from_verified).
    pub fn new(seed: Seed<'_>, config: DecoderConfig) -> Result<Self, VerifyError> {
        let mode = Mode::of(seed.payload).ok_or_else(|| {
            VerifyError::InvalidArgument(format!(
                "x-amz-content-sha256 is {}, not an aws-chunked streaming mode",
                seed.payload
            ))
        })?;
        let decoded_length = seed
            .decoded_content_length
            .ok_or(VerifyError::MissingContentLength)?;
        if decoded_length > MAX_DECODED_CONTENT_LENGTH {
            return Err(VerifyError::EntityTooLarge {
                max_size_allowed: MAX_DECODED_CONTENT_LENGTH,
                proposed_size: decoded_length,
            });
        }
        let declared_trailer = parse_trailer_header(mode, seed.trailer)?;
        let chain = mode.signed_chunks().then(|| Chain {
            key: seed.signing_key.clone(),
            amz_date: seed.signing_time.amz_date(),
            scope: seed.credential_scope.to_owned(),
            previous: seed.signature,
        });
        Ok(ChunkedDecoder {
            mode,
            chain,
            config,
            declared_trailer,
            checksum: declared_trailer.map(Checksum::new),
            decoded_length,
            content_length: seed.content_length,
            decoded_seen: 0,
            encoded_seen: 0,
            state: State::Header,
            line: Vec::new(),
            chunk_size: 0,
            chunk_remaining: 0,
            chunk_signature: [0; 32],
            chunk_hash: Sha256::new(),
            buffer: Vec::new(),
            last_chunk_size: None,
            trailers: Trailers::default(),
            error: None,
        })
    }

    /// Feeds the next bytes of the body. Payload bytes go to `sink` once the chunk holding
    /// them has verified (in the unsigned mode, as they arrive). An error is final.
    pub fn feed<S: PayloadSink + ?Sized>(
        &mut self,
        input: &[u8],
        sink: &mut S,
    ) -> Result<(), VerifyError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.feed_inner(input, sink);
        if let Err(e) = &result {
            self.error = Some(e.clone());
            // Nothing buffered may ever be released now.
            self.buffer.clear();
        }
        result
    }

    /// Ends the body: the final chunk, the decoded length, the trailers and (when the request
    /// had one) `content-length` must all be complete. Commit the upload only when this
    /// returns `Ok`.
    pub fn finish(self) -> Result<DecodeSummary, VerifyError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        match self.state {
            State::Done => {}
            _ if self.decoded_seen < self.decoded_length => {
                return Err(VerifyError::IncompleteBody {
                    expected: self.decoded_length,
                    provided: self.decoded_seen,
                });
            }
            State::Trailer => {
                return Err(VerifyError::MalformedChunkedBody(
                    "the body ended inside the trailer section".into(),
                ));
            }
            _ => {
                return Err(VerifyError::MalformedChunkedBody(
                    "the body ended before the final zero-length chunk".into(),
                ));
            }
        }
        if let Some(expected) = self.content_length {
            if expected != self.encoded_seen {
                return Err(VerifyError::IncompleteBody {
                    expected,
                    provided: self.encoded_seen,
                });
            }
        }
        Ok(DecodeSummary {
            decoded_length: self.decoded_seen,
            checksum: self.trailers.checksum,
        })
    }

    /// The checksum `x-amz-trailer` declares, if any: known before any byte of the body, so
    /// that a server can compute its own copy as the payload streams (the decoder verifies
    /// the trailer's value against the payload itself; [`DecodeSummary::checksum`] returns it).
    pub fn declared_trailer(&self) -> Option<ChecksumAlgorithm> {
        self.declared_trailer
    }

    /// Payload bytes of the chunks read so far (released or, in a chunk still being read,
    /// buffered).
    pub fn decoded_bytes(&self) -> u64 {
        self.decoded_seen
    }

    /// Body bytes fed so far.
    pub fn encoded_bytes(&self) -> u64 {
        self.encoded_seen
    }

    /// Whether the whole body has been read (`finish` still checks `content-length`).
    pub fn is_done(&self) -> bool {
        self.state == State::Done && self.error.is_none()
    }

    /// Capacity of the chunk buffer: never more than the largest chunk buffered (so never
    /// more than the chunk cap), and nothing while chunks arrive whole in one `feed`.
    pub fn buffer_capacity(&self) -> usize {
        self.buffer.capacity()
    }

    fn feed_inner<S: PayloadSink + ?Sized>(
        &mut self,
        mut input: &[u8],
        sink: &mut S,
    ) -> Result<(), VerifyError> {
        self.encoded_seen = self.encoded_seen.saturating_add(input.len() as u64);
        if let Some(expected) = self.content_length {
            if self.encoded_seen > expected {
                return Err(VerifyError::IncompleteBody {
                    expected,
                    provided: self.encoded_seen,
                });
            }
        }
        while !input.is_empty() {
            input = match self.state {
                State::Header => self.read_line(input, MAX_CHUNK_HEADER_LEN, Self::on_header)?,
                State::Data => self.read_data(input, sink)?,
                State::DataCr | State::DataLf => {
                    let (expected, next) = if self.state == State::DataCr {
                        (b'\r', State::DataLf)
                    } else {
                        (b'\n', State::Header)
                    };
                    match input.split_first() {
                        Some((&b, rest)) if b == expected => {
                            self.state = next;
                            rest
                        }
                        _ => {
                            return Err(malformed("chunk data must be followed by CRLF"));
                        }
                    }
                }
                State::Trailer => {
                    let room = MAX_TRAILER_LEN.saturating_sub(self.trailers.bytes);
                    self.read_line(input, room, Self::on_trailer_line)?
                }
                State::Done => {
                    return Err(malformed("data after the end of the aws-chunked body"));
                }
            };
        }
        Ok(())
    }

    /// Gathers one line (bounded by `cap`, its LF included) and hands it to `on_line`;
    /// returns the input after it.
    fn read_line<'i>(
        &mut self,
        input: &'i [u8],
        cap: usize,
        on_line: fn(&mut Self, &[u8]) -> Result<(), VerifyError>,
    ) -> Result<&'i [u8], VerifyError> {
        let too_long = |this: &Self| {
            if this.state == State::Header {
                malformed(&format!(
                    "a chunk header is longer than {MAX_CHUNK_HEADER_LEN} bytes"
                ))
            } else {
                VerifyError::MalformedTrailer(format!(
                    "the trailer section is longer than {MAX_TRAILER_LEN} bytes"
                ))
            }
        };
        match input.iter().position(|&b| b == b'\n') {
            Some(end) => {
                #[allow(
                    clippy::arithmetic_side_effects,
                    reason = "end < input.len(), so end + 1 <= input.len() cannot overflow"
                )]
                let line_len = end + 1;
                if self.line.len().saturating_add(line_len) > cap {
                    return Err(too_long(self));
                }
                let (line, rest) = input.split_at(line_len);
                if self.line.is_empty() {
                    on_line(self, line)?;
                } else {
                    let mut gathered = core::mem::take(&mut self.line);
                    gathered.extend_from_slice(line);
                    on_line(self, &gathered)?;
                    gathered.clear();
                    self.line = gathered;
                }
                Ok(rest)
            }
            None => {
                if self.line.len().saturating_add(input.len()) > cap {
                    return Err(too_long(self));
                }
                self.line.extend_from_slice(input);
                Ok(&[])
            }
        }
    }

    /// Takes chunk data; releases the chunk once it is complete and verified.
    fn read_data<'i, S: PayloadSink + ?Sized>(
        &mut self,
        input: &'i [u8],
        sink: &mut S,
    ) -> Result<&'i [u8], VerifyError> {
        let n = self.chunk_remaining.min(input.len());
        let (data, rest) = input.split_at(n);
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "n = min(chunk_remaining, input.len()) <= chunk_remaining, so this cannot underflow"
        )]
        let remaining = self.chunk_remaining - n;
        self.chunk_remaining = remaining;
        // Never saturates: on_header keeps decoded_seen + the chunk's size <= decoded_length.
        self.decoded_seen = self.decoded_seen.saturating_add(n as u64);
        if let Some(c) = &mut self.checksum {
            c.update(data);
        }
        if self.chain.is_none() {
            // Unsigned chunks: nothing to wait for (the checksum is checked at the end).
            sink.write_payload(data);
        } else {
            // Hashed once, as it arrives.
            self.chunk_hash.update(data);
            if self.chunk_remaining == 0 && self.buffer.is_empty() {
                // The whole chunk is in this input: verify, then release it in place.
                self.verify_chunk()?;
                sink.write_payload(data);
            } else {
                self.grow_buffer(n);
                self.buffer.extend_from_slice(data);
                if self.chunk_remaining == 0 {
                    self.verify_chunk()?;
                    sink.write_payload(&self.buffer);
                    self.buffer.clear();
                }
            }
        }
        if self.chunk_remaining == 0 {
            self.state = State::DataCr;
        }
        Ok(rest)
    }

    /// Makes room for `n` more bytes of the current chunk. Doubles like `Vec` would, but
    /// never past the chunk's size: the buffer holds at most one chunk (within the cap), and
    /// a peer that announces a large chunk but sends little of it costs at most twice what
    /// it sent.
    fn grow_buffer(&mut self, n: usize) {
        let len = self.buffer.len();
        if self.buffer.capacity().saturating_sub(len) < n {
            // Saturating is exact here: the target is clamped to the chunk size anyway.
            let target = len
                .saturating_mul(2)
                .max(len.saturating_add(n))
                .min(self.chunk_size);
            self.buffer.reserve_exact(target.saturating_sub(len));
        }
    }

    fn verify_chunk(&mut self) -> Result<(), VerifyError> {
        let hash: [u8; 32] = core::mem::take(&mut self.chunk_hash).finalize().into();
        match &mut self.chain {
            Some(chain) => chain.verify_chunk(&hash, &self.chunk_signature),
            None => Ok(()),
        }
    }

    fn on_header(&mut self, line: &[u8]) -> Result<(), VerifyError> {
        let line = line
            .strip_suffix(b"\r\n")
            .ok_or_else(|| malformed("a chunk header must end with CRLF"))?;
        let (size, signature) = parse_chunk_header(line)?;
        match (self.chain.is_some(), signature) {
            (true, Some(sig)) => self.chunk_signature = sig,
            (false, None) => {}
            (true, None) => {
                return Err(self.mode_mismatch(Mode::UnsignedTrailer));
            }
            (false, Some(_)) => {
                return Err(self.mode_mismatch(Mode::Signed));
            }
        }
        if size > self.config.max_chunk_size as u64 {
            return Err(malformed(&format!(
                "a chunk of {size} bytes is larger than the {}-byte limit",
                self.config.max_chunk_size
            )));
        }
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "decoded_seen <= decoded_length <= MAX_DECODED_CONTENT_LENGTH (5 TiB) and size < 2^32 (at most 8 hex digits), so the sum fits in a u64"
        )]
        let provided = self.decoded_seen + size;
        if provided > self.decoded_length {
            return Err(VerifyError::IncompleteBody {
                expected: self.decoded_length,
                provided,
            });
        }
        if size == 0 {
            if self.decoded_seen < self.decoded_length {
                return Err(VerifyError::IncompleteBody {
                    expected: self.decoded_length,
                    provided: self.decoded_seen,
                });
            }
            // The final chunk is signed too: over no data.
            if let Some(chain) = &mut self.chain {
                chain.verify_chunk(&EMPTY_DIGEST, &self.chunk_signature)?;
            }
            self.state = State::Trailer;
            return Ok(());
        }
        if self.config.strict_chunk_size && self.last_chunk_size.is_some_and(|s| s < MIN_CHUNK_SIZE)
        {
            // The previous chunk turned out not to be the last one.
            return Err(VerifyError::InvalidChunkSize);
        }
        // Bounded by the cap checked above.
        let size = size as usize;
        self.last_chunk_size = Some(size);
        self.chunk_size = size;
        self.chunk_remaining = size;
        self.state = State::Data;
        Ok(())
    }

    fn mode_mismatch(&self, seen: Mode) -> VerifyError {
        VerifyError::ContentSha256Mismatch {
            client_computed: self.mode.payload_hash().as_str().to_owned(),
            server_computed: seen.payload_hash().as_str().to_owned(),
        }
    }

    fn on_trailer_line(&mut self, line: &[u8]) -> Result<(), VerifyError> {
        // Never saturates: read_line caps each line at MAX_TRAILER_LEN minus the bytes so far.
        self.trailers.bytes = self.trailers.bytes.saturating_add(line.len());
        let Some(line) = line.strip_suffix(b"\r\n") else {
            return Err(if self.mode.has_trailer() {
                VerifyError::MalformedTrailer("trailer lines end with CRLF".into())
            } else {
                malformed("the final chunk must be followed by CRLF")
            });
        };
        if line.is_empty() {
            return self.end_of_trailers();
        }
        if !self.mode.has_trailer() {
            return Err(malformed(
                "the final chunk must be followed by CRLF: STREAMING-AWS4-HMAC-SHA256-PAYLOAD has no trailers",
            ));
        }
        if self.trailers.signature.is_some() {
            return Err(VerifyError::MalformedTrailer(format!(
                "{TRAILER_SIGNATURE} must be the last trailer"
            )));
        }
        let text = core::str::from_utf8(line)
            .map_err(|_| VerifyError::MalformedTrailer("a trailer line is not UTF-8".into()))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| VerifyError::MalformedTrailer("a trailer line has no ':'".into()))?;
        let value = crate::canonical::trim_ows_str(value);
        if name.eq_ignore_ascii_case(TRAILER_SIGNATURE) {
            if self.mode != Mode::SignedTrailer {
                return Err(VerifyError::MalformedTrailer(format!(
                    "{TRAILER_SIGNATURE} is only sent with STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
                )));
            }
            self.trailers.signature = Some(value.to_owned());
            return Ok(());
        }
        let Some(alg) = self
            .declared_trailer
            .filter(|a| a.header_name().eq_ignore_ascii_case(name))
        else {
            return Err(VerifyError::MalformedTrailer(format!(
                "the trailer {name:?} was not declared in x-amz-trailer"
            )));
        };
        if self.trailers.checksum.is_some() {
            return Err(VerifyError::MalformedTrailer(format!(
                "the trailer {} appears twice",
                alg.header_name()
            )));
        }
        let received = ChecksumValue::from_base64(alg, value).ok_or_else(|| {
            VerifyError::MalformedTrailer(format!(
                "{} must be the base64 of a {}-byte digest",
                alg.header_name(),
                alg.digest_len()
            ))
        })?;
        let canonical = &mut self.trailers.canonical;
        canonical.update(alg.header_name().as_bytes());
        canonical.update(b":");
        canonical.update(value.as_bytes());
        canonical.update(b"\n");
        self.trailers.checksum = Some(received);
        Ok(())
    }

    fn end_of_trailers(&mut self) -> Result<(), VerifyError> {
        if let (Some(alg), None) = (self.declared_trailer, self.trailers.checksum) {
            return Err(VerifyError::MalformedTrailer(format!(
                "the declared trailer {} is missing",
                alg.header_name()
            )));
        }
        if self.mode == Mode::SignedTrailer {
            let provided = self.trailers.signature.take().ok_or_else(|| {
                malformed(&format!(
                    "the trailer signature ({TRAILER_SIGNATURE}) is missing"
                ))
            })?;
            let hash: [u8; 32] = core::mem::take(&mut self.trailers.canonical)
                .finalize()
                .into();
            if let Some(chain) = &self.chain {
                let parsed = parse_signature_hex(provided.as_bytes());
                chain.verify_trailer(&hash, parsed.as_ref(), &provided)?;
            }
        }
        if let (Some(running), Some(received)) = (self.checksum.take(), self.trailers.checksum) {
            let computed = running.finalize();
            if !constant_time_eq(computed.as_bytes(), received.as_bytes()) {
                return Err(VerifyError::BadDigest {
                    algorithm: received.algorithm().header_name().to_owned(),
                });
            }
        }
        self.state = State::Done;
        Ok(())
    }
}

impl core::fmt::Debug for ChunkedDecoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkedDecoder")
            .field("mode", &self.mode.payload_hash())
            .field("declared_trailer", &self.declared_trailer)
            .field("decoded_length", &self.decoded_length)
            .field("decoded_seen", &self.decoded_seen)
            .field("encoded_seen", &self.encoded_seen)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn malformed(message: &str) -> VerifyError {
    VerifyError::MalformedChunkedBody(message.to_owned())
}

/// `x-amz-trailer` against the mode: the `-TRAILER` modes need exactly one supported checksum;
/// the other streaming mode takes none.
fn parse_trailer_header(
    mode: Mode,
    header: Option<&str>,
) -> Result<Option<ChecksumAlgorithm>, VerifyError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    match (mode.has_trailer(), header) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(VerifyError::MalformedTrailer(
            "x-amz-trailer needs a STREAMING-…-TRAILER x-amz-content-sha256".into(),
        )),
        (true, None) => Err(VerifyError::MalformedTrailer(format!(
            "{} needs an x-amz-trailer header",
            mode.payload_hash()
        ))),
        (true, Some(text)) => {
            let mut names = text.split(',').map(str::trim);
            let first = names.next().and_then(ChecksumAlgorithm::from_header_name);
            match (first, names.next()) {
                (Some(alg), None) => Ok(Some(alg)),
                // Another name, or a second one: only one checksum is supported.
                _ => Err(VerifyError::UnsupportedTrailer),
            }
        }
    }
}

/// `<1-8 hex digits>[BWS ";" BWS "chunk-signature" BWS "=" BWS <64 lowercase hex>]`, the line
/// without its CRLF.
fn parse_chunk_header(line: &[u8]) -> Result<(u64, Option<[u8; 32]>), VerifyError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(malformed("a chunk size must be hexadecimal"));
    }
    if digits > MAX_CHUNK_SIZE_DIGITS {
        return Err(malformed(&format!(
            "a chunk size has more than {MAX_CHUNK_SIZE_DIGITS} hex digits"
        )));
    }
    let (hex_size, rest) = line.split_at(digits);
    let size = hex_size.iter().fold(0u64, |acc, &b| {
        // Each byte is a hex digit; at most 8 of them fit in a u64.
        (acc << 4) | hex_value(b)
    });
    if rest.is_empty() {
        return Ok((size, None));
    }
    let unexpected = || malformed("a chunk header has unexpected bytes after the size");
    let rest = skip_bws(rest).strip_prefix(b";").ok_or_else(unexpected)?;
    let rest = skip_bws(rest)
        .strip_prefix(b"chunk-signature")
        .ok_or_else(|| malformed("the only chunk extension allowed is chunk-signature"))?;
    let rest = skip_bws(rest).strip_prefix(b"=").ok_or_else(unexpected)?;
    let signature = parse_signature_hex(skip_bws(rest))
        .ok_or_else(|| malformed("a chunk-signature must be 64 lowercase hex digits"))?;
    Ok((size, Some(signature)))
}

fn skip_bws(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    bytes.get(n..).unwrap_or_default()
}

fn hex_value(b: u8) -> u64 {
    char::from(b).to_digit(16).map_or(0, u64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_digest_is_sha256_of_nothing() {
        assert_eq!(hex::encode(EMPTY_DIGEST), crate::canonical::EMPTY_SHA256);
    }

    #[test]
    fn chunk_header_grammar() {
        let sig = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let ok = |l: &str| parse_chunk_header(l.as_bytes()).map(|(s, g)| (s, g.is_some()));
        assert_eq!(ok("10000"), Ok((0x10000, false)));
        assert_eq!(ok("0000"), Ok((0, false)));
        assert_eq!(ok("FfFfFfFf"), Ok((0xffff_ffff, false)));
        assert_eq!(ok(&format!("400;chunk-signature={sig}")), Ok((0x400, true)));
        assert_eq!(
            ok(&format!("10 ;\tchunk-signature = {sig}")),
            Ok((0x10, true))
        );
        for bad in [
            String::new(),
            "-10".into(),
            "400zz".into(),
            "1 0".into(),
            "123456789".into(),
            " 10".into(),
            "10 ".into(),
            format!("10;chunk-signature={sig} "),
            format!("10;chunk-signature={}", sig.to_uppercase()),
            format!("10;chunk-signature={}", &sig[1..]),
            format!("10;chunk-signatures={sig}"),
            format!("10;foo=bar;chunk-signature={sig}"),
            format!("10;chunk-signature={sig};foo"),
            format!("10,chunk-signature={sig}"),
        ] {
            assert!(parse_chunk_header(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn trailer_header_rules() {
        use Mode::*;
        assert_eq!(parse_trailer_header(Signed, None), Ok(None));
        assert_eq!(parse_trailer_header(Signed, Some(" ")), Ok(None));
        assert_eq!(
            parse_trailer_header(Signed, Some("x-amz-checksum-crc32")).map_err(|e| e.code()),
            Err("MalformedTrailerError")
        );
        assert_eq!(
            parse_trailer_header(SignedTrailer, None).map_err(|e| e.code()),
            Err("MalformedTrailerError")
        );
        assert_eq!(
            parse_trailer_header(UnsignedTrailer, Some("X-Amz-Checksum-SHA1")),
            Ok(Some(ChecksumAlgorithm::Sha1))
        );
        for bad in [
            "x-amz-content-sha256",
            "bonus",
            "x-amz-checksum-crc32,x-amz-checksum-crc32c",
            "x-amz-checksum-md5",
        ] {
            assert_eq!(
                parse_trailer_header(UnsignedTrailer, Some(bad)),
                Err(VerifyError::UnsupportedTrailer),
                "{bad}"
            );
        }
    }
}
