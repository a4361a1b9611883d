//! The last line of the canonical request: what the body is bound by.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::Error;

/// The payload hash of a request.
///
/// ```
/// use presign::PayloadHash;
/// assert_eq!(PayloadHash::Unsigned.as_str(), "UNSIGNED-PAYLOAD");
/// assert_eq!(
///     PayloadHash::from_body(b"").as_str(),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadHash {
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (the presigned default).
    Unsigned,
    /// The SHA-256 of the body, as 64 hex digits (kept in the case received).
    Sha256(Sha256Hex),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, each chunk signed.
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and signed trailers.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks with a trailing checksum.
    StreamingUnsignedTrailer,
}

/// 64 hex digits of a SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Hex([u8; 64]);

impl Sha256Hex {
    /// The hex text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The 64 ASCII hex digits, without the UTF-8 check of [`Sha256Hex::as_str`] (the
    /// canonical request writer wants bytes).
    pub(crate) fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The digest bytes.
    pub fn digest(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // Validated at construction: always 64 hex digits.
        let _ = hex::decode_to_slice(self.0, &mut out);
        out
    }
}

impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SHA-256 of the empty string, in hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl PayloadHash {
    /// The hash of a complete body.
    pub fn from_body(body: &[u8]) -> Self {
        Self::from_digest(Sha256::digest(body).into())
    }

    /// From a SHA-256 digest computed elsewhere.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        PayloadHash::Sha256(Sha256Hex(crate::sink::hex32(&digest)))
    }

    /// The hash of the empty body.
    pub fn empty() -> Self {
        Self::from_digest(Sha256::digest(b"").into())
    }

    /// Parses an `x-amz-content-sha256` value: 64 hex digits (either case, kept as given) or one
    /// of the literals. The ECDSA (SigV4a) streaming literals are refused.
    pub fn parse(value: &str) -> Result<Self, Error> {
        Ok(match value {
            "UNSIGNED-PAYLOAD" => PayloadHash::Unsigned,
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => PayloadHash::StreamingSigned,
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => PayloadHash::StreamingSignedTrailer,
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => PayloadHash::StreamingUnsignedTrailer,
            // One branch-free pass over the digits.
            hex if hex.len() == 64
                && hex.bytes().fold(true, |ok, b| ok & b.is_ascii_hexdigit()) =>
            {
                let mut bytes = [0u8; 64];
                bytes.copy_from_slice(hex.as_bytes());
                PayloadHash::Sha256(Sha256Hex(bytes))
            }
            other => return Err(Error::InvalidPayloadHash(other.chars().take(80).collect())),
        })
    }

    /// The text of the canonical request's last line.
    pub fn as_str(&self) -> &str {
        match self {
            PayloadHash::Unsigned => "UNSIGNED-PAYLOAD",
            PayloadHash::Sha256(hex) => hex.as_str(),
            PayloadHash::StreamingSigned => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            PayloadHash::StreamingSignedTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            PayloadHash::StreamingUnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
    }

    /// [`PayloadHash::as_str`] as bytes, without a UTF-8 check.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            PayloadHash::Sha256(hex) => hex.as_bytes(),
            _ => self.as_str().as_bytes(),
        }
    }

    /// Whether this is one of the aws-chunked streaming modes.
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            PayloadHash::StreamingSigned
                | PayloadHash::StreamingSignedTrailer
                | PayloadHash::StreamingUnsignedTrailer
        )
    }
}

impl fmt::Debug for PayloadHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PayloadHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
