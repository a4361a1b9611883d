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
