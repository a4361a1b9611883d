//! Decode-and-verify throughput of aws-chunked bodies beside raw SHA-256 of the same payload.
//!
//! Every signed chunk costs one SHA-256 of its data plus an HMAC over a ~200-byte string to
//! sign; the goal is at least 90 % of raw SHA-256 throughput. `presign` feeds the framed body
//! in 64 KiB reads (chunks straddle reads, so they are buffered until verified);
//! `presign_one_feed` hands it over in one slice (whole chunks verify and release in place).
//!
//! ```sh
//! cargo bench --bench chunked -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use presign::chunked::{ChunkedDecoder, ChunkedUpload, DecoderConfig};
use presign::verify::{
    InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig,
};
use presign::{Credentials, Signer, SigningTime};
use sha2::{Digest, Sha256};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const PAYLOAD: usize = 8 * 1024 * 1024;
const READ: usize = 64 * 1024;

/// A framed body of `PAYLOAD` pseudo-random bytes and a decoder bound to its verified seed.
fn setup(chunk: usize) -> (Vec<u8>, Vec<u8>, ChunkedDecoder) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let payload: Vec<u8> = (0..PAYLOAD)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
    let signer = Signer::new(Credentials::new(AKID, SECRET).unwrap(), "us-east-1", "s3").unwrap();
    let upload = ChunkedUpload::signed(PAYLOAD as u64, chunk).unwrap();
    let host = [("host", "examplebucket.s3.amazonaws.com")];
    let (seed, mut encoder) = upload
        .sign(&signer, "PUT", "/bench.bin", &host, time)
        .unwrap();
    let mut framed = Vec::new();
    encoder.push(&payload, &mut framed).unwrap();
    encoder.finish(&mut framed).unwrap();

    let store = InMemoryCredentials::new();
    store
        .insert(AKID, StoredCredential::new(SECRET).unwrap())
        .unwrap();
    let verifier = Verifier::new(store, VerifierConfig::default());
    let mut headers = host.to_vec();
    headers.extend(seed.iter());
    let request = IncomingRequest::new("PUT", "/bench.bin", &headers[..]);
    let verified = verifier.verify(&request, time).unwrap();
    let decoder = ChunkedDecoder::from_verified(&verified, DecoderConfig::default()).unwrap();
    (payload, framed, decoder)
}

fn decode(template: &ChunkedDecoder, framed: &[u8], read: usize) -> u64 {
    let mut decoder = template.clone();
    let mut released = 0u64;
    let mut sink = |bytes: &[u8]| released += black_box(bytes).len() as u64;
    for piece in framed.chunks(read) {
        decoder.feed(piece, &mut sink).unwrap();
    }
    decoder.finish().unwrap();
    released
}

fn bench(c: &mut Criterion) {
    for (name, chunk) in [("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)] {
        let (payload, framed, template) = setup(chunk);
        assert_eq!(decode(&template, &framed, READ), PAYLOAD as u64);
        let mut group = c.benchmark_group(format!("chunked_decode/{name}"));
        group.throughput(Throughput::Bytes(PAYLOAD as u64));
        group.bench_function("presign", |b| {
            b.iter(|| decode(&template, black_box(&framed), READ))
        });
        group.bench_function("presign_one_feed", |b| {
            b.iter(|| decode(&template, black_box(&framed), framed.len()))
        });
        group.bench_function("sha256", |b| b.iter(|| Sha256::digest(black_box(&payload))));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
