//! aws-chunked uploads (`x-amz-content-sha256: STREAMING-…`): what the JS SDK v3 sends for
//! stream bodies and what botocore sends over https.
//!
//! The seed request was verified in `s3.rs` and its `x-amz-decoded-content-length` checked
//! against the size limit in `body.rs`; [`receive`] binds a `presign::chunked` decoder to that
//! verified request and feeds it the body as it arrives. The decoder releases payload bytes
//! only once the chunk holding them verified (in `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, where
//! chunks carry no signature, as they arrive): only those reach the temporary file. The upload
//! is complete only when the decoder's `finish` accepts it (final chunk, declared length,
//! trailer and its signature, trailing checksum); the caller commits only after [`receive`]
//! returned `Ok`, so in every mode a body that fails anywhere leaves nothing stored.
//!
//! A trailing checksum (`x-amz-trailer: x-amz-checksum-crc32`) is checked twice: by the
//! decoder, and by the gateway's own digests (`crate::checksum`), which compute it as the
//! body streams and store it with the object, as for a checksum sent in a header, so that it
//! is echoed in the response and in `GetObject` with `x-amz-checksum-mode`.

use axum::body::Body;
use futures_util::StreamExt;
use presign::chunked::{ChunkedDecoder, DecoderConfig};
use presign::verify::VerifiedRequest;

use crate::body::Sink;
use crate::error::S3Error;

/// Receives an aws-chunked body into `sink`, verifying every chunk signature (and the
/// trailer) before its bytes are written, and the whole upload before returning `Ok`.
pub async fn receive(
    verified: &VerifiedRequest<'_>,
    body: Body,
    mut sink: Sink<'_>,
) -> Result<(), S3Error> {
    let mut decoder = ChunkedDecoder::from_verified(verified, DecoderConfig::default())?;
    if let Some(algorithm) = decoder.declared_trailer() {
        if let Sink::File(tmp) = &mut sink {
            if let Some(digests) = tmp.digests() {
                digests.expect_trailer(algorithm)?;
            }
        }
    }

    // Verified payload of one body frame (at most one frame plus one buffered chunk).
    let mut released: Vec<u8> = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(crate::body::read_error)?;
        decoder.feed(&frame, &mut released)?;
        if !released.is_empty() {
            sink.write(&released).await?;
            released.clear();
        }
    }
    // The final chunk, the decoded length, the trailer signature, the trailing checksum.
    let summary = decoder.finish()?;
    if let (Some(checksum), Sink::File(tmp)) = (summary.checksum(), &mut sink) {
        if let Some(digests) = tmp.digests() {
            digests.trailer_received(checksum);
        }
    }
    Ok(())
}
