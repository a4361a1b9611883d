//! `http::Request` / `http::HeaderMap` as verifier input (the `http` feature).
#![cfg(feature = "http")]

use presign::verify::{InMemoryCredentials, StoredCredential, Verifier, VerifierConfig};
use presign::{Credentials, PayloadHash, SignableRequest, Signer, SigningTime};

const TARGET: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fn verifier() -> Verifier<InMemoryCredentials> {
    let store = InMemoryCredentials::new();
    store
        .insert(
            "AKIAIOSFODNN7EXAMPLE",
            StoredCredential::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap(),
        )
        .unwrap();
    Verifier::new(store, VerifierConfig::default())
}

fn now() -> SigningTime {
    SigningTime::parse_amz_date("20130524T000000Z").unwrap()
}

#[test]
fn http1_request_with_host_header() {
    let req = http::Request::get(TARGET)
        .header("host", "examplebucket.s3.amazonaws.com")
        .body(())
        .unwrap();
    let v = verifier().verify_http(&req, now()).unwrap();
    assert_eq!(v.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
    let wrong = http::Request::get(TARGET)
        .header("host", "other.s3.amazonaws.com")
        .body(())
        .unwrap();
    assert_eq!(
        verifier().verify_http(&wrong, now()).unwrap_err().code(),
        "SignatureDoesNotMatch"
    );
}

#[test]
fn http2_authority_stands_in_for_host() {
    let uri = format!("https://examplebucket.s3.amazonaws.com{TARGET}");
    let req = http::Request::get(uri.as_str()).body(()).unwrap();
    assert!(req.headers().get("host").is_none());
    assert!(verifier().verify_http(&req, now()).is_ok());
    // A host header, when present, wins over the authority.
    let req = http::Request::get(uri.as_str())
        .header("host", "evil.example")
        .body(())
        .unwrap();
    assert!(verifier().verify_http(&req, now()).is_err());
}

#[test]
fn header_map_is_a_header_source() {
    let signer = Signer::new(
        Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .unwrap(),
        "us-east-1",
        "s3",
    )
    .unwrap();
    let headers = [
        ("host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-meta-a", "1"),
    ];
    let req = SignableRequest::new("PUT", "/k", &headers, PayloadHash::Unsigned).unwrap();
    let auth = signer.sign_headers(&req, now()).unwrap();
    let mut builder = http::Request::put("/k");
    for (n, v) in headers.iter().copied().chain(auth.iter()) {
        builder = builder.header(n, v);
    }
    let req = builder.body(()).unwrap();
    let v = verifier().verify_http(&req, now()).unwrap();
    assert_eq!(
        v.signed_headers().collect::<Vec<_>>(),
        ["host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-a"]
    );
}
