//! Presigned-query verification: any request target, any host, any time. Must never panic,
//! and must never accept a request the fuzzer did not sign (it has no secret to sign with);
//! the same verdict twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign::SigningTime;
use presign::verify::{InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (target, host) = text.split_once('\n').unwrap_or((&text, "examplebucket.s3.amazonaws.com"));
    let store = InMemoryCredentials::new();
    let _ = store.insert("AKIAIOSFODNN7EXAMPLE", StoredCredential::new("fuzz-secret-unknown-to-the-input").unwrap());
    let verifier = Verifier::new(store, VerifierConfig::default());
    let headers = [("host", host)];
    let request = IncomingRequest::new("GET", target, &headers[..]);
    let now = SigningTime::from_unix_timestamp(1_369_353_600).unwrap();
    let first = verifier.verify(&request, now);
    assert!(first.is_err());
    // Again, through the thread's memo of the credential's key when the first one filled it:
    // the same verdict.
    assert_eq!(verifier.verify(&request, now).err(), first.err());
});
