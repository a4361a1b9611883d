//! aws-chunked streaming uploads: sign a body chunk by chunk, and verify each chunk before a
//! byte of it is released.
//!
//! S3 accepts a body framed as `aws-chunked` when `x-amz-content-sha256` names one of three
//! streaming modes:
//!
//! | `x-amz-content-sha256` | chunks | trailer |
//! | --- | --- | --- |
//! | `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` | signed, chained from the seed signature | none |
//! | `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` | signed | one checksum, signed |
//! | `STREAMING-UNSIGNED-PAYLOAD-TRAILER` | unsigned | one checksum, unsigned |
//!
//! On the wire each chunk is `<hex size>[;chunk-signature=<64 hex>]\r\n<data>\r\n`; a zero-size
//! chunk ends the data, then come the trailer lines (`name:value\r\n`, the signed mode adding
//! `x-amz-trailer-signature:<64 hex>\r\n`) and an empty line (`\r\n`). A chunk signature is the
//! HMAC, under the request's signing key, of
//!
//! ```text
//! AWS4-HMAC-SHA256-PAYLOAD\n<x-amz-date>\n<scope>\n<previous signature>\n<sha256("")>\n<sha256(chunk data)>
//! ```
//!
//! (the first "previous signature" is the seed: the request's own signature) and the trailer
//! signature the HMAC of
//!
//! ```text
//! AWS4-HMAC-SHA256-TRAILER\n<x-amz-date>\n<scope>\n<final chunk signature>\n<sha256(canonical trailers)>
//! ```
//!
//! where the canonical trailers are `lowercase-name:value\n` per trailer.
//!
//! Both sides are sans-IO: they take and give bytes, never read or write a socket.
//!
//! # Client: signing an upload
//!
//! [`ChunkedUpload`] describes the upload (decoded length, chunk size, trailing checksum);
//! [`ChunkedUpload::sign`] signs the seed request and returns the headers to send
//! ([`SeedHeaders`], including the framed `content-length`, known up front) and a
//! [`ChunkedEncoder`] that turns body bytes into framed bytes.
//!
//! ```
//! use presign::chunked::{ChecksumAlgorithm, ChunkedUpload};
//! use presign::{Credentials, Signer, SigningTime};
//!
//! let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
//! let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
//! let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
//! let body = b"hello, chunked world";
//!
//! let upload = ChunkedUpload::signed(body.len() as u64, 8)
//!     .unwrap()
//!     .with_trailing_checksum(ChecksumAlgorithm::Crc32c);
//! let headers = [("host", "examplebucket.s3.amazonaws.com")];
//! let (seed, mut encoder) = upload.sign(&signer, "PUT", "/hello.txt", &headers, time).unwrap();
//! assert_eq!(seed.get("x-amz-content-sha256"), Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"));
//!
//! let mut framed = Vec::new();
//! encoder.push(&body[..5], &mut framed).unwrap(); // any split
//! encoder.push(&body[5..], &mut framed).unwrap();
//! encoder.finish(&mut framed).unwrap();
//! assert_eq!(framed.len() as u64, upload.encoded_length());
//! assert_eq!(seed.get("content-length"), Some(framed.len().to_string().as_str()));
//! ```
//!
//! # Server: verifying an upload
//!
//! [`crate::verify::Verifier`] checks the seed signature of a streaming request like any
//! other; [`ChunkedDecoder::from_verified`] then binds a decoder to that request's signature,
//! scope and key. Feed it the body as it arrives, in slices of any size: it calls the
//! [`PayloadSink`] with payload bytes only once the chunk holding them has verified.
//!
//! ```
//! # use presign::chunked::{ChecksumAlgorithm, ChunkedUpload};
//! # use presign::{Credentials, Signer, SigningTime};
//! # let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
//! # let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
//! # let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
//! # let body = b"hello, chunked world";
//! # let upload = ChunkedUpload::signed(body.len() as u64, 8).unwrap().with_trailing_checksum(ChecksumAlgorithm::Crc32c);
//! # let (seed, mut encoder) = upload.sign(&signer, "PUT", "/hello.txt", &[("host", "examplebucket.s3.amazonaws.com")], time).unwrap();
//! # let mut framed = Vec::new();
//! # encoder.push(body, &mut framed).unwrap();
//! # encoder.finish(&mut framed).unwrap();
//! use presign::chunked::{ChunkedDecoder, DecoderConfig};
//! use presign::verify::{InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig};
//!
//! let store = InMemoryCredentials::new();
//! store.insert("AKIAIOSFODNN7EXAMPLE", StoredCredential::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap()).unwrap();
//! let verifier = Verifier::new(store, VerifierConfig::default());
//!
//! let mut headers = vec![("host", "examplebucket.s3.amazonaws.com")];
//! headers.extend(seed.iter());
//! let request = IncomingRequest::new("PUT", "/hello.txt", &headers[..]);
//! let verified = verifier.verify(&request, time).unwrap();
//!
//! let mut decoder = ChunkedDecoder::from_verified(&verified, DecoderConfig::default()).unwrap();
//! let mut payload = Vec::new();
//! for piece in framed.chunks(7) {
//!     decoder.feed(piece, &mut payload).unwrap();
//! }
//! let done = decoder.finish().unwrap(); // commit the object only now
//! assert_eq!(payload, body);
//! assert_eq!(done.checksum().map(|c| c.algorithm()), Some(ChecksumAlgorithm::Crc32c));
//! ```
//!
//! # What is released when
//!
//! - **Signed chunks**: a chunk's bytes reach the sink only after its signature verified, so
//!   every released byte is authentic. The upload as a whole is complete (every chunk, the
//!   signed final chunk, the exact decoded length, the trailers) only when
//!   [`ChunkedDecoder::finish`] returns `Ok`: make the object visible only then.
//! - **`STREAMING-UNSIGNED-PAYLOAD-TRAILER`**: chunks carry no signature, so bytes are released
//!   as they arrive, and their only check is the trailing checksum, verified when the trailer
//!   arrives. **Do not commit anything before `finish` returns `Ok`.** The seed signature still
//!   authenticates the request (who, when, which headers), but a checksum is no signature: in
//!   this mode the body is only protected against accidents, not against tampering in transit
//!   (use TLS).
//!
//! # Decisions
//!
//! Where S3 servers differ (see the verifier checklist, section E), this decoder:
//!
//! - allows optional spaces and tabs around `;` and `=` in a chunk header (the `BWS` of
//!   RFC 9112's chunk-ext grammar, which AWS accepts) and nowhere else; the only extension is
//!   `chunk-signature`, whose value is 64 lowercase hex digits; the size is 1 to 8 hex digits of
//!   either case, leading zeros allowed;
//! - requires CRLF line ends (a bare LF is malformed) and the chunk header line to fit in
//!   [`crate::limits::MAX_CHUNK_HEADER_LEN`];
//! - refuses a chunk larger than the configured cap ([`DecoderConfig::max_chunk_size`],
//!   default [`crate::limits::DEFAULT_MAX_CHUNK_SIZE`]) before reading its data, and a chunk
//!   that would pass `x-amz-decoded-content-length`;
//! - tolerates nothing after the end: the empty line after the final chunk (or after the
//!   trailers) ends the body, and any further byte, even a CRLF, is an error;
//! - reads trailer lines as `name:value` with the name matched case-insensitively and spaces or
//!   tabs around the value ignored; the canonical trailer that is signed is
//!   `lowercase-name:value\n`; the trailer signature must be the last trailer line;
//! - requires `x-amz-trailer` in the `-TRAILER` modes, naming exactly one supported checksum,
//!   and refuses it in `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`;
//! - reports a body whose framing contradicts its mode (a chunk without signature in a signed
//!   mode, or with one in the unsigned mode) as `XAmzContentSHA256Mismatch`;
//! - enforces S3's 8 KiB minimum for non-final chunks only when asked
//!   ([`DecoderConfig::strict_chunk_size`]): SDKs send 64 KiB or larger chunks, but other
//!   clients may not.

mod checksum;
mod decode;
mod encode;

pub(crate) use checksum::decode_base64_exact;
pub use checksum::{Checksum, ChecksumAlgorithm, ChecksumValue};
pub use decode::{ChunkedDecoder, DecodeSummary, DecoderConfig, PayloadSink, Seed};
pub use encode::{ChunkedEncoder, ChunkedUpload, SeedHeaders};

use hmac::Mac;

use crate::canonical::EMPTY_SHA256;
use crate::signing_key::{Signature, SigningKey};
use crate::sink::{Sink, hex32};
use crate::time::AmzDate;
use crate::verify::VerifyError;

/// The first line of a chunk's string to sign.
pub const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";

/// The first line of the trailer's string to sign.
pub const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";

/// The trailer line that carries the trailer signature.
pub const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// `;chunk-signature=`, as the encoder writes it.
const CHUNK_SIGNATURE_EXT: &str = ";chunk-signature=";

/// The streaming mode of an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    SignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    UnsignedTrailer,
}

impl Mode {
    fn of(payload: crate::PayloadHash) -> Option<Mode> {
        match payload {
            crate::PayloadHash::StreamingSigned => Some(Mode::Signed),
            crate::PayloadHash::StreamingSignedTrailer => Some(Mode::SignedTrailer),
            crate::PayloadHash::StreamingUnsignedTrailer => Some(Mode::UnsignedTrailer),
            _ => None,
        }
    }

    fn payload_hash(self) -> crate::PayloadHash {
        match self {
            Mode::Signed => crate::PayloadHash::StreamingSigned,
            Mode::SignedTrailer => crate::PayloadHash::StreamingSignedTrailer,
            Mode::UnsignedTrailer => crate::PayloadHash::StreamingUnsignedTrailer,
        }
    }

    fn signed_chunks(self) -> bool {
        self != Mode::UnsignedTrailer
    }

    fn has_trailer(self) -> bool {
        self != Mode::Signed
    }
}

/// The signature chain of one upload: key, date and scope of the seed request, and the
/// signature the next string to sign refers to.
#[derive(Clone)]
struct Chain {
    key: SigningKey,
    amz_date: AmzDate,
    scope: String,
    previous: [u8; 32],
}

impl Chain {
    /// `AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<prev>\n<sha256("")>\n<chunk hash>`.
    fn write_chunk_string<S: Sink>(&self, chunk_hash: &[u8; 32], sink: &mut S) {
        self.write_head(CHUNK_ALGORITHM, sink);
        sink.put(EMPTY_SHA256.as_bytes());
        sink.put(b"\n");
        sink.put(&hex32(chunk_hash));
    }

    /// `AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n<prev>\n<canonical trailers hash>`.
    fn write_trailer_string<S: Sink>(&self, trailers_hash: &[u8; 32], sink: &mut S) {
        self.write_head(TRAILER_ALGORITHM, sink);
        sink.put(&hex32(trailers_hash));
    }

    fn write_head<S: Sink>(&self, algorithm: &str, sink: &mut S) {
        sink.put(algorithm.as_bytes());
        sink.put(b"\n");
        sink.put(self.amz_date.as_str().as_bytes());
        sink.put(b"\n");
        sink.put(self.scope.as_bytes());
        sink.put(b"\n");
        sink.put(&hex32(&self.previous));
        sink.put(b"\n");
    }

    /// Signs the next chunk and moves the chain on.
    fn sign_chunk(&mut self, chunk_hash: &[u8; 32]) -> Signature {
        let mut mac = self.key.mac();
        self.write_chunk_string(chunk_hash, &mut mac);
        let signature = Signature(mac.finalize().into_bytes().into());
        self.previous = signature.0;
        signature
    }

    /// Signs the trailer (the chain ends there).
    fn sign_trailer(&self, trailers_hash: &[u8; 32]) -> Signature {
        let mut mac = self.key.mac();
        self.write_trailer_string(trailers_hash, &mut mac);
        Signature(mac.finalize().into_bytes().into())
    }

    /// Checks a received chunk signature in constant time and moves the chain on.
    fn verify_chunk(
        &mut self,
        chunk_hash: &[u8; 32],
        provided: &[u8; 32],
    ) -> Result<(), VerifyError> {
        let mut mac = self.key.mac();
        self.write_chunk_string(chunk_hash, &mut mac);
        if mac.verify_slice(provided).is_err() {
            let mut text = Vec::new();
            self.write_chunk_string(chunk_hash, &mut text);
            return Err(VerifyError::ChunkSignatureDoesNotMatch {
                string_to_sign: String::from_utf8_lossy(&text).into_owned(),
                signature_provided: hex::encode(provided),
            });
        }
        self.previous = *provided;
        Ok(())
    }

    /// Checks the trailer signature as received (`None` when it is not 64 lowercase hex
    /// digits, which cannot match).
    fn verify_trailer(
        &self,
        trailers_hash: &[u8; 32],
        provided: Option<&[u8; 32]>,
        provided_text: &str,
    ) -> Result<(), VerifyError> {
        let mut mac = self.key.mac();
        self.write_trailer_string(trailers_hash, &mut mac);
        let ok = provided.is_some_and(|p| mac.verify_slice(p).is_ok());
        if !ok {
            let mut text = Vec::new();
            self.write_trailer_string(trailers_hash, &mut text);
            return Err(VerifyError::ChunkSignatureDoesNotMatch {
                string_to_sign: String::from_utf8_lossy(&text).into_owned(),
                signature_provided: provided_text.to_owned(),
            });
        }
        Ok(())
    }
}

/// 64 lowercase hex digits as 32 bytes; anything else is `None` (signatures are compared
/// only once well formed, as the seed signature is).
fn parse_signature_hex(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64
        || !text
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
