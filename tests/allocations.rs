//! Allocation counts, asserted with a counting global allocator (this file is its own binary,
//! and counts are per thread, so parallel tests do not disturb each other).
//!
//! - presign with a warm signer: exactly one allocation, the returned buffer (URL, method and
//!   the headers to send all live in it), with or without extra signed headers, query
//!   parameters or a session token;
//! - verification of a presigned URL or a header-signed request within the documented limits:
//!   no allocation once the derived key is cached.

#[path = "../benches/common/mod.rs"]
mod common;
#[path = "../benches/common/counting.rs"]
mod counting;

use common::*;
use presign::{Expiry, PresignRequest};

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[test]
fn presign_allocates_once_per_url() {
    let time = signing_time();
    for case in cases() {
        let signer = presign_signer(&case);
        presign_url(&signer, &case, time); // warms the day key
        let n = counting::count(|| presign_url(&signer, &case, time));
        assert_eq!(n, 1, "{}", case.name);
        // The signature is right (the benchmark checks it against the peers).
        if case.name == "get_doc" {
            assert_eq!(
                signature_of(&presign_url(&signer, &case, time)),
                DOC_GET_SIGNATURE
            );
        }
    }
}

#[test]
fn presign_with_many_signed_headers_still_allocates_once() {
    let time = signing_time();
    let case = cases()[1]; // a session token
    let signer = presign_signer(&case);
    let headers = [
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-caption", "  a   cat\t on a mat "),
        ("x-amz-acl", "private"),
        ("x-amz-meta-caption", "second value"),
        ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
    ];
    let query = [("x-id", "PutObject"), ("versionId", "é/ä b")];
    let request = PresignRequest::new("PUT", "https", HOST, "/photos/2024/%C3%A9t%C3%A9.jpg")
        .query(&query)
        .headers(&headers)
        .expires(Expiry::from_secs(900).expect("expiry"));
    signer.presign(&request, time).expect("presign");
    let n = counting::count(|| signer.presign(&request, time).expect("presign"));
    assert_eq!(n, 1);
    let presigned = signer.presign(&request, time).expect("presign");
    assert_eq!(presigned.headers().count(), 5);
    // `into_url` hands the same buffer over.
    let n = counting::count(|| presigned.clone().into_url());
    assert_eq!(n, 1, "the clone only");
}

#[test]
fn verifying_allocates_nothing_once_the_key_is_cached() {
    let now = verify_time();
    let verifier = verifier();

    let query = verify_query_request();
    verify_query(&verifier, &query, now);
    let n = counting::count(|| verify_query(&verifier, &query, now).signature());
    assert_eq!(n, 0, "verify_query");

    let header = verify_header_request();
    verify_header(&verifier, &header, now);
    let n = counting::count(|| verify_header(&verifier, &header, now).signature());
    assert_eq!(n, 0, "verify_header");
}
