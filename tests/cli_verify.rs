//! The `verify` example CLI, run as a process with the `AWS_*` environment cleared.

mod common;

use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const DOC_URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fn verify(args: &[&str]) -> Output {
    static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
    let bin = BIN.get_or_init(|| common::example_binary("verify"));
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn documentation_url_verifies() {
    let out = verify(&["--now", "20130524T120000Z", DOC_URL]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["access_key_id"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(v["expires"], "2013-05-25T00:00:00Z");
    assert_eq!(v["signed_headers"], serde_json::json!(["host"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("documentation example keys"));
}

#[test]
fn expired_and_tampered_urls_exit_1_with_the_s3_code() {
    let out = verify(&["--now", "20130525T000001Z", DOC_URL]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(
        (v["ok"].clone(), v["code"].clone()),
        (Value::Bool(false), Value::from("AccessDenied"))
    );
    assert_eq!(v["message"], "Request has expired");

    let tampered = DOC_URL.replace("/test.txt", "/test2.txt");
    let out = verify(&["--now", "20130524T000000Z", &tampered]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["code"], "SignatureDoesNotMatch");
    assert!(
        v["canonical_request"]
            .as_str()
            .unwrap()
            .starts_with("GET\n/test2.txt\n")
    );
    assert!(
        v["string_to_sign"]
            .as_str()
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256\n20130524T000000Z\n")
    );
}

#[test]
fn header_signed_request_with_body() {
    // The S3 documentation's PUT Object example, its body in a file.
    let dir = std::env::temp_dir().join(format!("presign-cli-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good");
    let bad = dir.join("bad");
    std::fs::write(&good, "Welcome to Amazon S3.").unwrap();
    std::fs::write(&bad, "Welcome to Amazon S3!").unwrap();
    let args = |body: &std::path::Path| {
        vec![
            "--method".to_owned(), "PUT".to_owned(),
            "--now".to_owned(), "20130524T000000Z".to_owned(),
            "--header".to_owned(), "Date: Fri, 24 May 2013 00:00:00 GMT".to_owned(),
            "--header".to_owned(), "x-amz-date: 20130524T000000Z".to_owned(),
            "--header".to_owned(), "x-amz-storage-class: REDUCED_REDUNDANCY".to_owned(),
            "--header".to_owned(), "x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072".to_owned(),
            "--header".to_owned(), "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd".to_owned(),
            "--body".to_owned(), body.display().to_string(),
            "https://examplebucket.s3.amazonaws.com/test$file.text".to_owned(),
        ]
    };
    let good_args = args(&good);
    let out = verify(&good_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["mechanism"], "AuthorizationHeader");
    let bad_args = args(&bad);
    let out = verify(&bad_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["code"], "XAmzContentSHA256Mismatch");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_region_and_unusable_arguments() {
    let out = verify(&[
        "--now",
        "20130524T000000Z",
        "--region",
        "eu-west-1",
        DOC_URL,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["code"], "AuthorizationQueryParametersError");

    for bad in [
        vec!["--now", "2013-05-24", DOC_URL],
        vec!["ftp://example.com/x"],
        vec!["--header", "no-colon", DOC_URL],
    ] {
        let out = verify(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{stderr}"
        );
    }
}

/// The S3 documentation's aws-chunked upload (65 KiB of `a` in chunks of 64 KiB and 1 KiB),
/// framed from its published chunk signatures.
fn doc_chunked_body() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    body.extend(std::iter::repeat_n(b'a', 65536));
    body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    body.extend(std::iter::repeat_n(b'a', 1024));
    body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    assert_eq!(body.len(), 66824);
    body
}

fn chunked_args(body: &std::path::Path, out: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = ["--method", "PUT", "--now", "20130524T000000Z"]
        .map(String::from)
        .to_vec();
    for h in [
        "x-amz-date: 20130524T000000Z",
        "x-amz-storage-class: REDUCED_REDUNDANCY",
        "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding: aws-chunked",
        "x-amz-decoded-content-length: 66560",
        "Content-Length: 66824",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    ] {
        args.push("--header".into());
        args.push(h.into());
    }
    args.extend([
        "--body".into(),
        body.display().to_string(),
        "--decoded-out".into(),
        out.display().to_string(),
    ]);
    args.push("https://s3.amazonaws.com/examplebucket/chunkObject.txt".into());
    args
}

#[test]
fn aws_chunked_body_is_decoded_and_a_tampered_one_stops_at_the_last_verified_chunk() {
    let dir = std::env::temp_dir().join(format!("presign-cli-chunked-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (body, out) = (dir.join("body"), dir.join("out"));
    std::fs::write(&body, doc_chunked_body()).unwrap();
    let args = chunked_args(&body, &out);
    let run = verify(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert_eq!(json(&run)["decoded_length"], 66560);
    assert_eq!(std::fs::read(&out).unwrap(), vec![b'a'; 66560]);

    // One byte of chunk 2 changed: exit 1, and OUT holds chunk 1 only.
    let mut tampered = doc_chunked_body();
    // chunk 1 header (88 bytes) + data + CRLF + chunk 2 header (86 bytes)
    let chunk2_data = 88 + 65536 + 2 + 86;
    tampered[chunk2_data + 10] = b'b';
    std::fs::write(&body, &tampered).unwrap();
    let run = verify(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(json(&run)["code"], "SignatureDoesNotMatch");
    assert_eq!(std::fs::read(&out).unwrap(), vec![b'a'; 65536]);
    let _ = std::fs::remove_dir_all(&dir);
}
