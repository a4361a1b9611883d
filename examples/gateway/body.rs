//! Receiving the body of a verified request: the payload rule the signature carries decides
//! how. A plain body (signed SHA-256 or `UNSIGNED-PAYLOAD`) goes through the library's
//! `BodyChecker`; an aws-chunked body through [`crate::chunked`]. Either way the bytes go to a
//! [`Sink`] that holds them aside, and the caller commits only after this returns `Ok`.

use axum::body::Body;
use axum::http::StatusCode;
use futures_util::StreamExt;
use presign::verify::{VerifiedRequest, VerifyError};

use crate::error::S3Error;
use crate::storage::TempObject;

/// Where a received body goes.
pub enum Sink<'a> {
    /// A temporary file (objects and parts).
    File(&'a mut TempObject),
    /// Memory, for small documents (a `CompleteMultipartUpload` body), at most `limit` bytes.
    Memory {
        /// The bytes so far.
        buf: &'a mut Vec<u8>,
        /// The most accepted.
        limit: u64,
    },
}

impl Sink<'_> {
    /// Appends verified (or, for plain bodies, not yet verified) payload bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), S3Error> {
        match self {
            Sink::File(tmp) => tmp.write(bytes).await,
            Sink::Memory { buf, limit } => {
                let total = (buf.len() + bytes.len()) as u64;
                if total > *limit {
                    return Err(S3Error::too_large(*limit, total));
                }
                buf.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

/// The length of the payload the request declares: `x-amz-decoded-content-length` for
/// aws-chunked bodies, `Content-Length` otherwise (required, as S3 requires it). Checked
/// against `limit` before a byte is read.
pub fn declared_length(verified: &VerifiedRequest<'_>, limit: u64) -> Result<u64, S3Error> {
    let length = if verified.payload().is_streaming() {
        verified.decoded_content_length()
    } else {
        verified.content_length()
    }
    .ok_or_else(|| S3Error::from(VerifyError::MissingContentLength))?;
    if length > limit {
        return Err(S3Error::too_large(limit, length));
    }
    Ok(length)
}

/// Reads the whole body into `sink`, checking it against the signature's payload rule.
pub async fn receive(
    verified: &VerifiedRequest<'_>,
    body: Body,
    mut sink: Sink<'_>,
) -> Result<(), S3Error> {
    if verified.payload().is_streaming() {
        return crate::chunked::receive(verified, body, sink).await;
    }
    let mut checker = verified
        .body_checker()
        .ok_or_else(|| S3Error::internal("no body checker for a plain payload"))?;
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let bytes = frame.map_err(read_error)?;
        checker.update(&bytes);
        // A body longer than declared is refused as soon as it is (not at the end).
        if let Some(declared) = verified.content_length() {
            if checker.bytes_seen() > declared {
                return Err(VerifyError::IncompleteBody {
                    expected: declared,
                    provided: checker.bytes_seen(),
                }
                .into());
            }
        }
        sink.write(&bytes).await?;
    }
    checker.finish()?;
    Ok(())
}

/// A body that could not be read (the client went away, or sent a broken framing).
pub fn read_error(e: impl std::fmt::Display) -> S3Error {
    S3Error::new(
        StatusCode::BAD_REQUEST,
        "IncompleteBody",
        format!("The request body could not be read: {e}"),
    )
}
