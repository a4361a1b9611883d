//! The aws-chunked decoder, fed any bytes split anywhere, in each streaming mode. Must never
//! panic, never release more than the declared length, and never buffer past its chunk cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign::chunked::{ChunkedDecoder, DecoderConfig, Seed};
use presign::{PayloadHash, Scope, SigningKey, SigningTime};

fuzz_target!(|data: &[u8]| {
    let [mode, split, l0, l1, l2, rest @ ..] = data else { return };
    let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
    let scope = Scope::new(time.date(), "us-east-1", "s3").unwrap();
    let key = SigningKey::derive("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &scope);
    let (payload, trailer) = match mode % 4 {
        0 => (PayloadHash::StreamingSigned, None),
        1 => (PayloadHash::StreamingSignedTrailer, Some("x-amz-checksum-crc32c")),
        2 => (PayloadHash::StreamingUnsignedTrailer, Some("x-amz-checksum-crc32")),
        _ => (PayloadHash::StreamingUnsignedTrailer, Some("x-amz-checksum-sha256")),
    };
    let declared = u64::from(u32::from_le_bytes([*l0, *l1, *l2, 0]));
    let mut seed = [0u8; 32];
    // The S3 documentation example's seed signature, so the corpus can hold valid chunks.
    hex::decode_to_slice("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", &mut seed).unwrap();
    let config = DecoderConfig::default().max_chunk_size(1 << 20).strict_chunk_size(mode & 4 != 0);
    let Ok(mut decoder) = ChunkedDecoder::new(
        Seed {
            payload,
            signing_key: &key,
            signature: seed,
            signing_time: time,
            credential_scope: "20130524/us-east-1/s3/aws4_request",
            decoded_content_length: Some(declared),
            content_length: None,
            trailer,
        },
        config,
    ) else {
        return;
    };
    let mut released = 0u64;
    let mut sink = |bytes: &[u8]| released += bytes.len() as u64;
    let step = usize::from(*split).max(1);
    for piece in rest.chunks(step) {
        if decoder.feed(piece, &mut sink).is_err() {
            break;
        }
        assert!(decoder.buffer_capacity() <= 1 << 20);
    }
    assert!(released <= declared);
    if let Ok(summary) = decoder.finish() {
        assert_eq!(summary.decoded_length(), declared);
    }
});
