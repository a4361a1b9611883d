//! Structured round trip: arbitrary requests are presigned and must verify; the same request
//! with one signed part changed must not.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use presign::verify::{InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig};
use presign::{Credentials, Expiry, PresignRequest, Signer, SigningTime};

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    path: String,
    query: Vec<(String, String)>,
    header_values: Vec<String>,
    token: Option<String>,
    expires: u32,
    time: u32,
    mutation: u8,
    position: u16,
}

const HEADER_NAMES: [&str; 4] = ["content-type", "x-amz-meta-a", "range", "x-amz-acl"];
const HOST: &str = "bucket.s3.amazonaws.com";

fuzz_target!(|input: Input| {
    let method = ["GET", "PUT", "HEAD", "DELETE", "POST"][usize::from(input.method % 5)];
    let Ok(expires) = Expiry::from_secs(u64::from(input.expires % 604_800) + 1) else { return };
    let Ok(time) = SigningTime::from_unix_timestamp(1_000_000_000 + i64::from(input.time)) else { return };
    let mut creds = Credentials::new("AKIDFUZZ", "fuzz/secret").unwrap();
    if let Some(token) = &input.token {
        match creds.clone().with_session_token(token.as_str()) {
            Ok(c) => creds = c,
            Err(_) => return,
        }
    }
    let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
    let path = format!("/{}", input.path.replace(['?', '#'], "_"));
    let query: Vec<(&str, &str)> = input.query.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let headers: Vec<(&str, &str)> = input
        .header_values
        .iter()
        .zip(HEADER_NAMES)
        .map(|(v, n)| (n, v.as_str()))
        .collect();
    let request = PresignRequest::new(method, "https", HOST, &path).query(&query).headers(&headers).expires(expires);
    let Ok(presigned) = signer.presign(&request, time) else { return };

    let store = InMemoryCredentials::new();
    let stored = match &input.token {
        Some(t) => StoredCredential::temporary("fuzz/secret", t.as_str(), None).unwrap(),
        None => StoredCredential::new("fuzz/secret").unwrap(),
    };
    store.insert("AKIDFUZZ", stored).unwrap();
    let verifier = Verifier::new(store, VerifierConfig::default());
    let target = presigned.url().strip_prefix("https://bucket.s3.amazonaws.com").unwrap().to_owned();
    let mut sent: Vec<(String, String)> = vec![("host".into(), HOST.into())];
    sent.extend(presigned.headers().map(|(n, v)| (n.to_owned(), v.to_owned())));
    let refs = |h: &[(String, String)]| h.iter().map(|(n, v)| (n.clone(), v.clone())).collect::<Vec<_>>();
    let check = |method: &str, target: &str, headers: &[(String, String)]| {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        verifier.verify(&IncomingRequest::new(method, target, &hs[..]), time).is_ok()
    };
    if !check(method, &target, &sent) {
        // The only legitimate refusal: a request past the verifier's documented limits.
        let hs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let err = verifier.verify(&IncomingRequest::new(method, &target, &hs[..]), time).unwrap_err();
        assert_eq!(err.code(), "RequestHeaderSectionTooLarge", "{err:?} for {target}");
        return;
    }
    let (mut target2, mut headers2, mut method2) = (target.clone(), refs(&sent), method.to_owned());
    match input.mutation % 5 {
        0 => method2 = if method == "GET" { "PUT".into() } else { "GET".into() },
        1 => {
            // Change one byte of the path to a character it cannot canonicalize to.
            let path_len = target.find('?').unwrap_or(target.len());
            let i = 1 + usize::from(input.position) % path_len.max(2).saturating_sub(1);
            let mut bytes = target2.into_bytes();
            if let Some(b) = bytes.get_mut(i.min(path_len.saturating_sub(1))) {
                *b = if *b == b'Z' { b'Y' } else { b'Z' };
            }
            target2 = String::from_utf8_lossy(&bytes).into_owned();
        }
        2 => target2.push_str("&extra=1"),
        3 => headers2[0].1 = "other.s3.amazonaws.com".into(),
        _ => {
            let last = target2.pop().unwrap();
            target2.push(if last == '0' { '1' } else { '0' });
        }
    }
    assert!(!check(&method2, &target2, &headers2), "mutation {} accepted: {target2}", input.mutation % 5);
});
