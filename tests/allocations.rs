//! Allocation counts, asserted with a counting global allocator (this file is its own binary,
//! and counts are per thread, so parallel tests do not disturb each other).
//!
//! - presign with a warm signer: exactly one allocation, the returned buffer (URL, method and
//!   the headers to send all live in it), with or without extra signed headers, query
//!   parameters or a session token;
//! - presign through the typed S3 builders: one allocation too (their query and header lists,
//!   numbers, metadata header names and the virtual host live on the stack);
//! - verification of a presigned URL or a header-signed request within the documented limits:
//!   no allocation once the derived key is cached, nor when it is refused for its time
//!   (expired, or too far from the server's clock).

#[path = "../benches/common/mod.rs"]
mod common;
#[path = "../benches/common/counting.rs"]
mod counting;

use common::*;
use presign::s3::{
    AddressingStyle, Bucket, ChecksumAlgorithm, CreateMultipartUpload, Endpoint, GetObject,
    ListObjectsV2, PutObject, UploadPart,
};
use presign::verify::VerifyError;
use presign::{Credentials, Error, Expiry, PresignRequest, PresignedRequest, Signer, SigningTime};

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
fn s3_builders_allocate_once_per_url() {
    let creds = Credentials::new(ACCESS_KEY_ID, SECRET)
        .and_then(|c| c.with_session_token("session/token+=="))
        .expect("credentials");
    let signer = Signer::new(creds, "eu-west-1", "s3").expect("signer");
    let aws = Endpoint::aws("eu-west-1").expect("endpoint");
    // A port, a path prefix and a virtual host assembled on the stack.
    let custom = Endpoint::parse("https://storage.example.com:8443/s3-prefix")
        .map(|e| e.with_addressing_style(AddressingStyle::Virtual))
        .expect("endpoint");
    let bucket = Bucket::new("examplebucket").expect("bucket");
    let time = SigningTime::parse_amz_date("20240101T000000Z").expect("time");
    let expires = Expiry::from_secs(900).expect("expiry");
    let key = "photos/2024/summer holiday/IMG 0001 (copy) %20.jpg";
    let long_key = "日本語/".repeat(100);

    // Each call presigns three times: to warm the day key, counted, and checked.
    let allocates_once = |name: &str, presign: &dyn Fn() -> Result<PresignedRequest, Error>| {
        presign().expect(name);
        let n = counting::count(|| presign().expect(name));
        assert_eq!(n, 1, "{name}");
        assert!(
            presign().expect(name).url().starts_with("https://"),
            "{name}"
        );
    };
    allocates_once("GetObject", &|| {
        GetObject::new(&aws, &bucket, key)
            .version_id("3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd")
            .part_number(7)
            .response_content_disposition("attachment; filename=\"a b.jpg\"")
            .response_content_type("image/jpeg")
            .range("bytes=0-1023")
            .extra_query(&[("x-custom", "1")])
            .presign(&signer, time, expires)
    });
    allocates_once("GetObject long key", &|| {
        GetObject::new(&aws, &bucket, &long_key).presign(&signer, time, expires)
    });
    allocates_once("PutObject", &|| {
        PutObject::new(&custom, &bucket, key)
            .content_type("image/jpeg")
            .content_length(123_456_789)
            .metadata(&[("author", "Jane Doe"), ("Project-Id", "42")])
            .checksum(
                ChecksumAlgorithm::Sha256,
                "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
            )
            .storage_class("STANDARD_IA")
            .presign(&signer, time, expires)
    });
    allocates_once("ListObjectsV2", &|| {
        ListObjectsV2::new(&aws, &bucket)
            .prefix("photos/2024/")
            .delimiter("/")
            .max_keys(1000)
            .presign(&signer, time, expires)
    });
    allocates_once("CreateMultipartUpload", &|| {
        CreateMultipartUpload::new(&custom, &bucket, key)
            .content_type("video/mp4")
            .metadata(&[("origin", "camera 1")])
            .presign(&signer, time, expires)
    });
    allocates_once("UploadPart", &|| {
        UploadPart::new(&aws, &bucket, key, "2~Kx.y_z-AB+/cd==", 10_000)
            .content_length(5 * 1024 * 1024)
            .presign(&signer, time, expires)
    });
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

    // Refused at the time window (the cases `benches/vs_peers.rs` times): nothing allocated
    // either, the error included.
    let expired = expired_query_time();
    let refuse = || verify_refused(&verifier, &query.target, &query.headers[..], expired);
    assert!(matches!(refuse(), VerifyError::Expired { .. }));
    assert_eq!(counting::count(refuse), 0, "verify_query refused");
    let skewed = skewed_header_time();
    let refuse = || verify_refused(&verifier, header.target, &header.headers[..], skewed);
    assert!(matches!(refuse(), VerifyError::RequestTimeTooSkewed { .. }));
    assert_eq!(counting::count(refuse), 0, "verify_header refused");
}
