//! POST form verification: any fields (one `name=value` per line, first line the bucket and
//! file name) against a store holding the documentation example key. Must never panic; the
//! key of an accepted form starts with the policy's prefix rules, so only check it is sane.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presign::SigningTime;
use presign::post::IncomingPost;
use presign::verify::{InMemoryCredentials, StoredCredential, Verifier, VerifierConfig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("");
    let (bucket, file_name) = first.split_once('\t').unwrap_or((first, ""));
    let fields: Vec<(&str, &str)> = lines.map(|l| l.split_once('=').unwrap_or((l, ""))).collect();
    let store = InMemoryCredentials::new();
    let _ = store.insert("AKIAIOSFODNN7EXAMPLE", StoredCredential::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap());
    let verifier = Verifier::new(store, VerifierConfig::default());
    let mut post = IncomingPost::new(bucket, &fields[..]);
    if !file_name.is_empty() {
        post = post.with_file_name(file_name);
    }
    let now = SigningTime::parse_amz_date("20151229T120000Z").unwrap();
    if let Ok(verified) = verifier.verify_post(&post, now) {
        assert!(!verified.key().is_empty());
        let mut checker = verified.length_checker();
        let _ = checker.update(data);
        let _ = checker.finish();
    }
});
