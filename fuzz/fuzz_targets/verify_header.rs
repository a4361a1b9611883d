//! Authorization-header verification: any headers. Must never panic or accept, and must give
//! the same verdict twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign::SigningTime;
use presign::verify::{InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let target = lines.next().unwrap_or("/");
    let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(':')).collect();
    let store = InMemoryCredentials::new();
    let _ = store.insert("AKIAIOSFODNN7EXAMPLE", StoredCredential::new("fuzz-secret-unknown-to-the-input").unwrap());
    let verifier = Verifier::new(store, VerifierConfig::default());
    let request = IncomingRequest::new("PUT", target, &headers[..]);
    let now = SigningTime::from_unix_timestamp(1_369_353_600).unwrap();
    let first = verifier.verify(&request, now);
    assert!(first.is_err());
    // Again, through the thread's memo of the credential's key when the first one filled it:
    // the same verdict.
    assert_eq!(verifier.verify(&request, now).err(), first.err());
});
