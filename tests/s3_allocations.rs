//! The S3 presign path allocates once: the returned URL buffer. Query and header lists,
//! numbers, metadata header names and the virtual host live on the stack.
//!
//! Checked with a counting allocator. It counts per thread, so tests running in parallel
//! do not disturb each other. This harness is the only `unsafe` in the project's tests: a
//! `GlobalAlloc` cannot be written without it, and it only forwards to `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use presign::s3::{
    AddressingStyle, Bucket, ChecksumAlgorithm, CreateMultipartUpload, Endpoint, GetObject,
    ListObjectsV2, PutObject, UploadPart,
};
use presign::{Credentials, Expiry, PresignedRequest, Signer, SigningTime};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` with a const initializer, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A named presign call.
type Case<'a> = (&'static str, Box<dyn Fn() -> PresignedRequest + 'a>);

fn allocations_of(f: impl FnOnce() -> PresignedRequest) -> (usize, PresignedRequest) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get) - before, result)
}

#[test]
fn presigning_allocates_only_the_url() {
    let creds = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    .and_then(|c| c.with_session_token("session/token+=="))
    .unwrap_or_else(|e| panic!("{e}"));
    let signer = Signer::new(creds, "eu-west-1", "s3").unwrap_or_else(|e| panic!("{e}"));
    let aws = Endpoint::aws("eu-west-1").unwrap_or_else(|e| panic!("{e}"));
    let custom = Endpoint::parse("https://storage.example.com:8443/s3-prefix")
        .map(|e| e.with_addressing_style(AddressingStyle::Virtual))
        .unwrap_or_else(|e| panic!("{e}"));
    let bucket = Bucket::new("examplebucket").unwrap_or_else(|e| panic!("{e}"));
    let time = SigningTime::parse_amz_date("20240101T000000Z").unwrap_or_else(|e| panic!("{e}"));
    let expires = Expiry::from_secs(900).unwrap_or_else(|e| panic!("{e}"));
    let key = "photos/2024/summer holiday/IMG 0001 (copy) %20.jpg";
    let long_key = "日本語/".repeat(100);

    // The signer derives and caches the day's key on first use: warm it up.
    let _ = GetObject::new(&aws, &bucket, key).presign(&signer, time, expires);

    let cases: [Case<'_>; 6] = [
        (
            "GetObject",
            Box::new(|| {
                GetObject::new(&aws, &bucket, key)
                    .version_id("3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd")
                    .part_number(7)
                    .response_content_disposition("attachment; filename=\"a b.jpg\"")
                    .response_content_type("image/jpeg")
                    .range("bytes=0-1023")
                    .extra_query(&[("x-custom", "1")])
                    .presign(&signer, time, expires)
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        ),
        (
            "GetObject long key",
            Box::new(|| {
                GetObject::new(&aws, &bucket, &long_key)
                    .presign(&signer, time, expires)
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        ),
        (
            "PutObject",
            Box::new(|| {
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
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        ),
        (
            "ListObjectsV2",
            Box::new(|| {
                ListObjectsV2::new(&aws, &bucket)
                    .prefix("photos/2024/")
                    .delimiter("/")
                    .max_keys(1000)
                    .presign(&signer, time, expires)
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        ),
        (
            "CreateMultipartUpload",
            Box::new(|| {
                CreateMultipartUpload::new(&custom, &bucket, key)
                    .content_type("video/mp4")
                    .metadata(&[("origin", "camera 1")])
                    .presign(&signer, time, expires)
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        ),
        (
            "UploadPart",
            Box::new(|| {
                UploadPart::new(&aws, &bucket, key, "2~Kx.y_z-AB+/cd==", 10_000)
                    .content_length(5 * 1024 * 1024)
                    .presign(&signer, time, expires)
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        ),
    ];
    for (name, presign) in &cases {
        let (count, presigned) = allocations_of(presign);
        assert_eq!(count, 1, "{name} allocated {count} times");
        assert!(presigned.url().starts_with("https://"));
    }
}
