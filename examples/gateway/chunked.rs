//! aws-chunked uploads (`x-amz-content-sha256: STREAMING-…`): what the JS SDK v3 sends for
//! stream bodies and what botocore sends over https.
//!
//! PENDING `presign::chunked` (being built on another branch). Until it is merged,
//! [`receive`] answers `501 NotImplemented`; everything around it (verification of the seed
//! request, `x-amz-decoded-content-length` against the size limit, the temporary file, the
//! commit) is already in place in `s3.rs` and `body.rs`.
//!
//! Wiring, once the decoder exists (the decoder emits payload bytes only after each chunk's
//! signature verified, so nothing unverified reaches the sink):
//!
//! ```text
//! let mut decoder = presign::chunked::Decoder::new(verified)?;   // from the VerifiedRequest
//! let mut stream = body.into_data_stream();
//! while let Some(frame) = stream.next().await {
//!     let frame = frame.map_err(crate::body::read_error)?;
//!     for payload in decoder.feed(&frame)? { sink.write(payload).await?; }
//! }
//! decoder.finish()?;   // final chunk, trailer signature, declared decoded length
//! ```
//!
//! A trailing checksum (`x-amz-trailer: x-amz-checksum-crc32`) is then the decoder's trailer
//! value; compare it with `crate::checksum` as the header checksums are compared.

use axum::body::Body;
use presign::verify::VerifiedRequest;

use crate::body::Sink;
use crate::error::S3Error;

/// Receives an aws-chunked body into `sink`, verifying every chunk signature (and the
/// trailer) before its bytes are written. NOT IMPLEMENTED until `presign::chunked` lands.
pub async fn receive(
    verified: &VerifiedRequest<'_>,
    body: Body,
    sink: Sink<'_>,
) -> Result<(), S3Error> {
    // The body is dropped unread: hyper closes the connection rather than drain it.
    let _ = (verified.payload(), body, sink);
    Err(S3Error::not_implemented(
        "aws-chunked (STREAMING-*) payloads need presign::chunked, which this build does not \
         have yet; sign the payload with its SHA-256 or UNSIGNED-PAYLOAD",
    ))
}
