//! Authorization-header verification: any headers. Must never panic or accept.
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
    assert!(verifier.verify(&request, now).is_err());
});
