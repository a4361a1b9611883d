//! The gateway example end to end over HTTP: the real binary on a free loopback port, driven
//! with reqwest, with URLs minted by its presign API or signed here with the library.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use presign::chunked::{Checksum, ChecksumAlgorithm, ChunkedUpload};
use presign::post::{PostKey, PresignedPost, PresignedPostBuilder};
use presign::s3::{Bucket, Endpoint, PutObject};
use presign::{Credentials, Expiry, PayloadHash, SignableRequest, Signer, SigningTime};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "GWTESTKEY00000000001";
const SECRET_KEY: &str = "gateway-test-secret-0123456789abcdefghij";
const TOKEN: &str = "test-token";

/// A gateway process; killed on drop.
struct Gateway {
    child: Child,
    base: String,
    data_dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Gateway {
    fn start() -> Self {
        Self::start_with(&[], TOKEN)
    }

    fn start_with(args: &[&str], tokens: &str) -> Self {
        static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
        let bin = BIN.get_or_init(|| common::example_binary("gateway"));
        let data_dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .args(args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env_remove("AWS_SESSION_TOKEN")
            .env("GATEWAY_TOKEN", tokens)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // Keep reading, so the gateway never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let base = first
            .trim()
            .strip_prefix("presign gateway listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Gateway {
            child,
            base,
            data_dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    /// `POST /api/storage/buckets/{bucket}/presign` with the test token.
    async fn presign(&self, bucket: &str, body: Value) -> reqwest::Response {
        self.presign_as(TOKEN, bucket, body).await
    }

    async fn presign_as(&self, token: &str, bucket: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/api/storage/buckets/{bucket}/presign",
                self.base
            ))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A successful presign: the JSON answer.
    async fn presigned(&self, bucket: &str, body: Value) -> Value {
        let response = self.presign(bucket, body).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    fn authority(&self) -> &str {
        self.base.strip_prefix("http://").unwrap()
    }

    fn signer(&self) -> Signer {
        Signer::new(
            Credentials::new(ACCESS_KEY, SECRET_KEY).unwrap(),
            "us-east-1",
            "s3",
        )
        .unwrap()
    }

    /// A header-signed request (path and query as sent, payload hash as given).
    fn signed(
        &self,
        method: Method,
        target: &str,
        extra: &[(&str, &str)],
        payload: PayloadHash,
    ) -> reqwest::RequestBuilder {
        let mut headers = vec![("host", self.authority())];
        headers.extend_from_slice(extra);
        let request = SignableRequest::new(method.as_str(), target, &headers, payload).unwrap();
        let auth = self
            .signer()
            .sign_headers(&request, SigningTime::now())
            .unwrap();
        let mut builder = self.http.request(method, format!("{}{target}", self.base));
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        for (name, value) in auth.iter() {
            builder = builder.header(name, value);
        }
        builder
    }

    /// A header-signed request without a body, sent.
    async fn send_signed(
        &self,
        method: Method,
        target: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        self.signed(method, target, extra, PayloadHash::empty())
            .send()
            .await
            .unwrap()
    }

    /// A header-signed request with `body`, its SHA-256 signed, sent.
    async fn send_signed_body(
        &self,
        method: Method,
        target: &str,
        extra: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> reqwest::Response {
        let body = body.into();
        let payload = PayloadHash::from_body(&body);
        self.signed(method, target, extra, payload)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A header-signed PUT that signs `payload` as the body's hash and sends `body`, which the
    /// hash need not describe (the gateway is what checks it).
    async fn put_with_payload_hash(
        &self,
        target: &str,
        extra: &[(&str, &str)],
        payload: PayloadHash,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.signed(Method::PUT, target, extra, payload)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A PUT of `body` to a presigned URL, sent.
    async fn put_presigned(&self, url: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http.put(url).body(body).send().await.unwrap()
    }

    /// A request to the JSON API at `path` with the test token, sent.
    async fn api(&self, method: Method, path: &str) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// The JSON answer of a request to the JSON API at `path` with the test token.
    async fn api_json(&self, method: Method, path: &str) -> Value {
        self.api(method, path).await.json().await.unwrap()
    }

    /// Files under `tmp/` (bodies being received): none once a request is answered.
    fn temp_files(&self) -> usize {
        std::fs::read_dir(self.data_dir.path().join("tmp"))
            .unwrap()
            .count()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The S3 error code of an XML error body.
async fn s3_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body = response.text().await.unwrap();
    let code = body
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_owned())
        .unwrap_or_else(|| panic!("no <Code> in {body:?}"));
    (status, code)
}

/// Asserts that `response` is the S3 error `code`, with `status`.
async fn assert_s3_error(response: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(s3_code(response).await, (status, code.to_owned()));
}

/// Asserts that the presign API refuses `body` for `bucket` with a 400 whose message names
/// `needle`.
async fn assert_presign_refused(gw: &Gateway, bucket: &str, body: Value, needle: &str) {
    let response = gw.presign(bucket, body.clone()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    let error: Value = response.json().await.unwrap();
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(needle), "{body}: {message}");
}

fn url_of(v: &Value) -> &str {
    v["url"].as_str().unwrap()
}

#[tokio::test]
async fn presigned_put_then_get_round_trip() {
    let gw = Gateway::start();
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let up = gw
        .presigned(
            "uploads",
            json!({"key": "dir/a file+name.bin", "action": "upload", "expires": "15m",
                   "content_type": "application/octet-stream"}),
        )
        .await;
    assert_eq!(up["method"], "PUT");
    assert_eq!(up["headers"]["content-type"], "application/octet-stream");
    assert_eq!(up["expires_in"], 900);
    let put = gw
        .http
        .put(url_of(&up))
        .header("content-type", "application/octet-stream")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let etag = put.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{:x}\"", md5_of(&body)));

    let down = gw
        .presigned(
            "uploads",
            json!({"key": "dir/a file+name.bin", "action": "download", "expires": 60}),
        )
        .await;
    let get = gw.http.get(url_of(&down)).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(get.bytes().await.unwrap(), body);

    // The listing API sees it.
    let list = gw
        .api_json(Method::GET, "/api/storage/buckets/uploads/objects")
        .await;
    assert_eq!(list["objects"][0]["key"], "dir/a file+name.bin");
    assert_eq!(list["objects"][0]["size"], 100_000);
}

fn md5_of(bytes: &[u8]) -> u128 {
    use md5::{Digest as _, Md5};
    u128::from_be_bytes(Md5::digest(bytes).into())
}

#[tokio::test]
async fn wrong_content_type_on_a_pinned_upload_is_403() {
    let gw = Gateway::start();
    let up = gw
        .presigned(
            "uploads",
            json!({"key": "avatar.png", "action": "upload", "content_type": "image/png"}),
        )
        .await;
    let put = gw
        .http
        .put(url_of(&up))
        .header("content-type", "text/html")
        // Large enough to be still sending when the gateway refuses: it must read the rest
        // and answer, not reset the connection.
        .body(vec![b'<'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_s3_error(put, StatusCode::FORBIDDEN, "SignatureDoesNotMatch").await;
    assert_eq!(gw.temp_files(), 0);
}

#[tokio::test]
async fn expired_url_is_403() {
    let gw = Gateway::start();
    let endpoint = Endpoint::parse(&gw.base).unwrap();
    let bucket = Bucket::new("uploads").unwrap();
    // Signed an hour ago, valid for a minute.
    let an_hour_ago = SigningTime::now().add_seconds(-3600);
    let put = PutObject::new(&endpoint, &bucket, "late.txt")
        .presign(&gw.signer(), an_hour_ago, Expiry::from_secs(60).unwrap())
        .unwrap();
    let response = gw.put_presigned(put.url(), "late").await;
    assert_s3_error(response, StatusCode::FORBIDDEN, "AccessDenied").await;
}

#[tokio::test]
async fn tampered_url_is_403() {
    let gw = Gateway::start();
    let up = gw
        .presigned("uploads", json!({"key": "mine.txt", "action": "upload"}))
        .await;
    let url = url_of(&up);
    // Another key, another expiry, another signature: each is refused.
    for tampered in [
        url.replace("/mine.txt?", "/theirs.txt?"),
        url.replace("X-Amz-Expires=900", "X-Amz-Expires=901"),
        {
            let (rest, sig) = url.rsplit_once('=').unwrap();
            let flipped = if sig.starts_with('0') { "1" } else { "0" };
            format!("{rest}={flipped}{}", &sig[1..])
        },
    ] {
        let response = gw.put_presigned(&tampered, "x").await;
        assert_eq!(
            s3_code(response).await,
            (StatusCode::FORBIDDEN, "SignatureDoesNotMatch".into()),
            "{tampered}"
        );
    }
    // The untouched URL works.
    let response = gw.put_presigned(url, "x").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn rotated_then_revoked_key_is_403_invalid_access_key_id() {
    let gw = Gateway::start();
    let old = gw
        .presigned("uploads", json!({"key": "k.txt", "action": "upload"}))
        .await;
    assert!(url_of(&old).contains(ACCESS_KEY));

    let rotated = gw.api_json(Method::POST, "/api/admin/keys/rotate").await;
    assert_eq!(rotated["previous"], ACCESS_KEY);
    let new_id = rotated["access_key_id"].as_str().unwrap().to_owned();

    // Until revoked, the old key's URL still works (a rotation does not break uploads in
    // flight); new URLs use the new key.
    let response = gw.put_presigned(url_of(&old), "1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let new = gw
        .presigned("uploads", json!({"key": "k.txt", "action": "upload"}))
        .await;
    assert!(url_of(&new).contains(&new_id));

    // The signing key cannot be revoked; the old one can.
    let conflict = gw
        .api(Method::DELETE, &format!("/api/admin/keys/{new_id}"))
        .await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    let revoked = gw
        .api(Method::DELETE, &format!("/api/admin/keys/{ACCESS_KEY}"))
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    let response = gw.put_presigned(url_of(&old), "2").await;
    assert_s3_error(response, StatusCode::FORBIDDEN, "InvalidAccessKeyId").await;
    let response = gw.put_presigned(url_of(&new), "3").await;
    assert_eq!(response.status(), StatusCode::OK);

    let keys = gw.api_json(Method::GET, "/api/admin/keys").await;
    assert_eq!(keys, json!({"active": new_id, "keys": [new_id]}));
}

#[tokio::test]
async fn presign_rate_limit_is_per_token_429() {
    let gw = Gateway::start_with(&["--rate-limit", "3"], "token-a,token-b");
    let body = json!({"key": "k", "action": "download"});
    for _ in 0..3 {
        let ok = gw.presign_as("token-a", "uploads", body.clone()).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
    let limited = gw.presign_as("token-a", "uploads", body.clone()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let error: Value = limited.json().await.unwrap();
    assert_eq!(error["error"], "rate_limited");
    // Another token has its own budget.
    let other = gw.presign_as("token-b", "uploads", body).await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn presign_api_refuses_bad_tokens_and_bad_input() {
    let gw = Gateway::start();
    let unauthorized = gw
        .presign_as("wrong", "uploads", json!({"key": "k", "action": "upload"}))
        .await;
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    let missing = gw
        .http
        .post(format!("{}/api/storage/buckets/uploads/presign", gw.base))
        .json(&json!({"key": "k", "action": "upload"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);

    for (bucket, body, needle) in [
        (
            "uploads",
            json!({"key": "k", "action": "upload", "expires": "8d"}),
            "7 days",
        ),
        (
            "uploads",
            json!({"key": "k", "action": "upload", "expires": 604801}),
            "7 days",
        ),
        (
            "uploads",
            json!({"key": "", "action": "upload"}),
            "invalid key",
        ),
        (
            "uploads",
            json!({"key": "k".repeat(1025), "action": "upload"}),
            "invalid key",
        ),
        (
            "uploads",
            json!({"key": "a\nb", "action": "upload"}),
            "control",
        ),
        (
            "uploads",
            json!({"key": "k", "action": "delete"}),
            "invalid action",
        ),
        (
            "uploads",
            json!({"key": "k", "action": "upload", "expire": "1h"}),
            "unknown field",
        ),
        (
            "Bad_Bucket",
            json!({"key": "k", "action": "upload"}),
            "bucket",
        ),
    ] {
        assert_presign_refused(&gw, bucket, body, needle).await;
    }
    // Seven days exactly is allowed.
    let week = gw
        .presigned(
            "uploads",
            json!({"key": "k", "action": "upload", "expires": "7d"}),
        )
        .await;
    assert_eq!(week["expires_in"], 604_800);
}

#[tokio::test]
async fn header_signed_put_with_signed_sha256_and_unsigned_payload() {
    let gw = Gateway::start();
    let content_type = [("content-type", "text/plain")];
    let response = gw
        .send_signed_body(
            Method::PUT,
            "/bucket/signed.txt",
            &content_type,
            "signed body",
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = gw
        .put_with_payload_hash(
            "/bucket/unsigned.txt",
            &[],
            PayloadHash::Unsigned,
            "anything",
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    // HEAD and GET with header auth.
    let head = gw
        .send_signed(Method::HEAD, "/bucket/signed.txt", &[])
        .await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], "11");
    assert_eq!(head.headers()["content-type"], "text/plain");
    let range = get_signed(&gw, "/bucket/signed.txt", &[("range", "bytes=7-")]).await;
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(range.text().await.unwrap(), "body");

    // DELETE, then GET is NoSuchKey.
    let delete = gw
        .send_signed(Method::DELETE, "/bucket/signed.txt", &[])
        .await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let get = get_signed(&gw, "/bucket/signed.txt", &[]).await;
    assert_s3_error(get, StatusCode::NOT_FOUND, "NoSuchKey").await;
}

#[tokio::test]
async fn nothing_is_stored_when_the_body_does_not_match_its_signature() {
    let gw = Gateway::start();
    // Signed for one body, sent with another of the same length.
    let good = PayloadHash::from_body(b"good body");
    let response = gw
        .put_with_payload_hash("/bucket/swapped.txt", &[], good, "evil body")
        .await;
    assert_s3_error(
        response,
        StatusCode::BAD_REQUEST,
        "XAmzContentSHA256Mismatch",
    )
    .await;
    // A wrong x-amz-checksum-crc32 (signed, so only the body can be at fault).
    let wrong_checksum = [("x-amz-checksum-crc32", "AAAAAA==")];
    let response = gw
        .put_with_payload_hash(
            "/bucket/swapped.txt",
            &wrong_checksum,
            PayloadHash::Unsigned,
            "good body",
        )
        .await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "BadDigest").await;
    let get = get_signed(&gw, "/bucket/swapped.txt", &[]).await;
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    assert_eq!(gw.temp_files(), 0);
}

#[tokio::test]
async fn object_larger_than_the_limit_is_entity_too_large() {
    let gw = Gateway::start_with(&["--max-object-size", "1000"], TOKEN);
    let up = gw
        .presigned("uploads", json!({"key": "big.bin", "action": "upload"}))
        .await;
    let response = gw.put_presigned(url_of(&up), vec![0u8; 1001]).await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "EntityTooLarge").await;
    assert_eq!(gw.temp_files(), 0);
}

/// The text between `<tag>` and `</tag>`.
fn xml_text<'a>(doc: &'a str, tag: &str) -> &'a str {
    doc.split_once(&format!("<{tag}>"))
        .and_then(|(_, rest)| rest.split_once(&format!("</{tag}>")))
        .map(|(text, _)| text)
        .unwrap_or_else(|| panic!("no <{tag}> in {doc}"))
}

#[tokio::test]
async fn multipart_upload_create_parts_list_complete_and_abort() {
    let gw = Gateway::start_with(&["--min-part-size", "1024"], TOKEN);
    let content_type = [("content-type", "video/mp4")];
    let create = gw
        .send_signed(Method::POST, "/videos/big.bin?uploads=", &content_type)
        .await;
    assert_eq!(create.status(), StatusCode::OK);
    let doc = create.text().await.unwrap();
    let upload_id = xml_text(&doc, "UploadId").to_owned();

    // Three parts, sent concurrently, the middle one presigned (as a browser would).
    let part = |n: u8| vec![n; if n == 3 { 100 } else { 2048 }];
    let endpoint = Endpoint::parse(&gw.base).unwrap();
    let bucket = Bucket::new("videos").unwrap();
    let presigned_part_2 =
        presign::s3::UploadPart::new(&endpoint, &bucket, "big.bin", &upload_id, 2)
            .presign(
                &gw.signer(),
                SigningTime::now(),
                Expiry::from_secs(60).unwrap(),
            )
            .unwrap();
    let t1 = format!("/videos/big.bin?partNumber=1&uploadId={upload_id}");
    let t3 = format!("/videos/big.bin?partNumber=3&uploadId={upload_id}");
    let (r1, r2, r3) = tokio::join!(
        gw.send_signed_body(Method::PUT, &t1, &[], part(1)),
        gw.put_presigned(presigned_part_2.url(), part(2)),
        gw.send_signed_body(Method::PUT, &t3, &[], part(3)),
    );
    let etags: Vec<String> = [r1, r2, r3]
        .into_iter()
        .map(|r| {
            assert_eq!(r.status(), StatusCode::OK);
            r.headers()["etag"].to_str().unwrap().to_owned()
        })
        .collect();

    let list_target = format!("/videos/big.bin?uploadId={upload_id}");
    let list = get_signed(&gw, &list_target, &[])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(list.matches("<Part>").count(), 3, "{list}");

    // Out of order is refused; in order completes.
    let complete_doc = |order: &[usize]| {
        let mut doc = String::from("<CompleteMultipartUpload>");
        for &i in order {
            doc.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                i + 1,
                etags[i]
            ));
        }
        doc + "</CompleteMultipartUpload>"
    };
    let bad = complete_doc(&[1, 0, 2]);
    let response = gw
        .send_signed_body(Method::POST, &list_target, &[], bad)
        .await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "InvalidPartOrder").await;
    let good = complete_doc(&[0, 1, 2]);
    let response = gw
        .send_signed_body(Method::POST, &list_target, &[], good)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc = response.text().await.unwrap();
    assert!(
        xml_text(&doc, "ETag").ends_with("-3&quot;") || xml_text(&doc, "ETag").ends_with("-3\"")
    );

    let get = get_signed(&gw, "/videos/big.bin", &[]).await;
    assert_eq!(get.headers()["content-type"], "video/mp4");
    let mut expected = part(1);
    expected.extend(part(2));
    expected.extend(part(3));
    assert_eq!(get.bytes().await.unwrap(), expected);

    // The upload is gone; a new one can be aborted.
    let again = get_signed(&gw, &list_target, &[]).await;
    assert_s3_error(again, StatusCode::NOT_FOUND, "NoSuchUpload").await;
    let create = gw
        .send_signed(Method::POST, "/videos/other.bin?uploads=", &[])
        .await
        .text()
        .await
        .unwrap();
    let abort_target = format!(
        "/videos/other.bin?uploadId={}",
        xml_text(&create, "UploadId")
    );
    let abort = gw.send_signed(Method::DELETE, &abort_target, &[]).await;
    assert_eq!(abort.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn cors_preflight_allows_a_page_on_another_origin() {
    let gw = Gateway::start();
    let response = gw
        .http
        .request(Method::OPTIONS, format!("{}/uploads/k.txt", gw.base))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PUT")
    );
    assert_eq!(headers["access-control-allow-headers"], "content-type");
}

#[tokio::test]
async fn the_page_is_served_at_the_root() {
    let gw = Gateway::start();
    let page = gw.http.get(&gw.base).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let text = page.text().await.unwrap();
    assert!(text.contains("presign upload gateway"));
    assert!(text.contains("/api/storage/buckets/"));

    // Authentication material in any form the verifier knows, even incomplete, makes it an
    // S3 request (ListBuckets), answered with an S3 error rather than the page.
    for query in [
        "?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
        "?x-amz-signature=00",
        "?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=x&Expires=1",
    ] {
        let response = gw
            .http
            .get(format!("{}/{query}", gw.base))
            .send()
            .await
            .unwrap();
        let (status, code) = s3_code(response).await;
        assert!(status.is_client_error(), "{query}: {status} {code}");
    }
}

/// Builds a POST policy form by hand (base64 policy signed with the signing key), without
/// `presign::post`'s builder: the gateway's form verifier is what this exercises.
fn post_form_body(signer: &Signer, key: &str, max: u64, file: &[u8]) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let now = SigningTime::now();
    let expiration = now.add_seconds(600).to_offset_date_time();
    let expiration = expiration
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let credential = format!("{ACCESS_KEY}/{}", signer.scope(now));
    let amz_date = now.amz_date();
    let policy = json!({
        "expiration": expiration,
        "conditions": [
            {"bucket": "uploads"},
            ["eq", "$key", key],
            ["content-length-range", 0, max],
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": credential},
            {"x-amz-date": amz_date.as_str()},
        ]
    });
    let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let signature = signer.sign_string(&policy, now).to_string();
    let fields = [
        ("key", key),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", &credential),
        ("x-amz-date", amz_date.as_str()),
        ("policy", &policy),
        ("x-amz-signature", &signature),
    ];
    multipart(fields, "f.bin", file)
}

#[tokio::test]
async fn post_form_upload_and_a_file_over_the_limit_is_entity_too_large() {
    let gw = Gateway::start();
    let url = format!("{}/uploads", gw.base);
    let (content_type, body) = post_form_body(&gw.signer(), "form.bin", 1000, &[7u8; 1000]);
    let response = post_form(&url, &content_type, body).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let (content_type, body) = post_form_body(&gw.signer(), "too-big.bin", 1000, &[7u8; 1001]);
    let response = post_form(&url, &content_type, body).await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "EntityTooLarge").await;
    assert_eq!(gw.temp_files(), 0);
}

/// An aws-chunked body with signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), built by
/// hand: each chunk's signature chains on the previous one, starting from the seed. Returns
/// the headers to send (besides `host`) and the framed body.
fn chunked_parts(
    gw: &Gateway,
    target: &str,
    data: &[u8],
    chunk: usize,
) -> (Vec<(String, String)>, Vec<u8>) {
    let time = SigningTime::now();
    let signer = gw.signer();
    let decoded = data.len().to_string();
    let chunks: Vec<&[u8]> = data.chunks(chunk).chain([&[][..]]).collect();
    // The encoded length, signed as content-length.
    let encoded_len: usize = chunks
        .iter()
        .map(|c| format!("{:x};chunk-signature=", c.len()).len() + 64 + 2 + c.len() + 2)
        .sum();
    let encoded_len = encoded_len.to_string();
    let headers = [
        ("host", gw.authority()),
        ("content-encoding", "aws-chunked"),
        ("content-length", encoded_len.as_str()),
        ("x-amz-decoded-content-length", decoded.as_str()),
    ];
    let request =
        SignableRequest::new("PUT", target, &headers, PayloadHash::StreamingSigned).unwrap();
    let auth = signer.sign_headers(&request, time).unwrap();
    let mut previous = auth.signature().to_string();
    let empty = hex::encode(Sha256::digest(b""));
    let mut body = Vec::new();
    for c in chunks {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{empty}\n{}",
            time.amz_date().as_str(),
            signer.scope(time),
            hex::encode(Sha256::digest(c))
        );
        let signature = signer.sign_string(&sts, time).to_string();
        body.extend_from_slice(format!("{:x};chunk-signature={signature}\r\n", c.len()).as_bytes());
        body.extend_from_slice(c);
        body.extend_from_slice(b"\r\n");
        previous = signature;
    }
    assert_eq!(body.len().to_string(), encoded_len);
    let mut sent: Vec<(String, String)> = headers
        .iter()
        .skip(1)
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    sent.extend(auth.iter().map(|(n, v)| (n.to_owned(), v.to_owned())));
    (sent, body)
}

/// A PUT of `body` to `target` with `headers`, sent.
async fn put_with(
    gw: &Gateway,
    target: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> reqwest::Response {
    let mut builder = gw.http.put(format!("{}{target}", gw.base));
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder.body(body).send().await.unwrap()
}

/// The signed-chunks upload of `data`, framed by hand, sent.
async fn put_chunked(gw: &Gateway, target: &str, data: &[u8], chunk: usize) -> reqwest::Response {
    let (headers, body) = chunked_parts(gw, target, data, chunk);
    put_with(gw, target, &headers, body).await
}

/// An aws-chunked upload framed and signed by `presign::chunked`'s encoder, with `tamper`
/// applied to the framed body before it is sent.
async fn put_encoded(
    gw: &Gateway,
    target: &str,
    upload: ChunkedUpload,
    data: &[u8],
    tamper: impl FnOnce(&mut Vec<u8>),
) -> reqwest::Response {
    let (seed, mut encoder) = upload
        .sign(
            &gw.signer(),
            "PUT",
            target,
            &[("host", gw.authority())],
            SigningTime::now(),
        )
        .unwrap();
    let mut body = Vec::new();
    encoder.push(data, &mut body).unwrap();
    encoder.finish(&mut body).unwrap();
    tamper(&mut body);
    let headers: Vec<(String, String)> = seed
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    put_with(gw, target, &headers, body).await
}

/// A signed GET of `target`, with `extra` headers.
async fn get_signed(gw: &Gateway, target: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    gw.send_signed(Method::GET, target, extra).await
}

/// The status of a signed GET of `target`.
async fn get_status(gw: &Gateway, target: &str) -> StatusCode {
    get_signed(gw, target, &[]).await.status()
}

/// The body of a signed GET of `target`.
async fn stored_bytes(gw: &Gateway, target: &str) -> Vec<u8> {
    let response = get_signed(gw, target, &[]).await;
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn aws_chunked_signed_upload() {
    let gw = Gateway::start();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 256) as u8).collect();
    let response = put_chunked(&gw, "/bucket/chunked.bin", &data, 8192).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(stored_bytes(&gw, "/bucket/chunked.bin").await, data);
}

#[tokio::test]
async fn aws_chunked_tampered_chunk_leaves_nothing_stored() {
    let gw = Gateway::start();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 256) as u8).collect();
    let (headers, mut body) = chunked_parts(&gw, "/bucket/tampered.bin", &data, 8192);
    // One byte of the third chunk: the first two verify (and reach the temporary file)
    // before the third fails.
    let at = body.len() - 400;
    body[at] ^= 1;
    let response = put_with(&gw, "/bucket/tampered.bin", &headers, body).await;
    assert_s3_error(response, StatusCode::FORBIDDEN, "SignatureDoesNotMatch").await;
    let get = get_signed(&gw, "/bucket/tampered.bin", &[]).await;
    assert_s3_error(get, StatusCode::NOT_FOUND, "NoSuchKey").await;
    assert_eq!(gw.temp_files(), 0);
}

#[tokio::test]
async fn aws_chunked_signed_trailer_checksum_is_stored_and_echoed() {
    let gw = Gateway::start();
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    // Every algorithm S3 accepts, SHA-1 and CRC-64/NVME included.
    for algorithm in ChecksumAlgorithm::ALL {
        let target = format!("/bucket/trailer-{}.bin", algorithm.name());
        let mut expected = Checksum::new(algorithm);
        expected.update(&data);
        let expected = expected.finalize().to_base64();
        let upload = ChunkedUpload::signed(data.len() as u64, 65536)
            .unwrap()
            .with_trailing_checksum(algorithm);
        let response = put_encoded(&gw, &target, upload, &data, |_| {}).await;
        assert_eq!(response.status(), StatusCode::OK, "{algorithm}");
        assert_eq!(
            response.headers()[algorithm.header_name()],
            expected.as_str()
        );
        let get = get_signed(&gw, &target, &[("x-amz-checksum-mode", "ENABLED")]).await;
        assert_eq!(get.headers()[algorithm.header_name()], expected.as_str());
        assert_eq!(get.bytes().await.unwrap(), data);
    }
}

#[tokio::test]
async fn aws_chunked_unsigned_trailer_commits_only_a_body_matching_its_checksum() {
    let gw = Gateway::start();
    let data: Vec<u8> = (0..30_000u32).map(|i| (i % 241) as u8).collect();
    let upload =
        ChunkedUpload::unsigned(data.len() as u64, 8192, ChecksumAlgorithm::Crc32).unwrap();
    let response = put_encoded(&gw, "/bucket/unsigned.bin", upload, &data, |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(stored_bytes(&gw, "/bucket/unsigned.bin").await, data);

    // A byte of the first chunk changed in transit: unsigned chunks are released as they
    // arrive, so most of the body reached the temporary file before the trailing checksum
    // refused it; nothing was committed, and the first object is unchanged.
    let response = put_encoded(&gw, "/bucket/unsigned.bin", upload, &data, |body| {
        body[10] ^= 0x80;
    })
    .await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "BadDigest").await;
    assert_eq!(stored_bytes(&gw, "/bucket/unsigned.bin").await, data);
    assert_eq!(gw.temp_files(), 0);
}

/// A `multipart/form-data` body: `fields` in order, then the file part.
fn multipart<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    file_name: &str,
    file: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----presign-gateway-form";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Owned fields as `(name, value)` pairs.
fn pairs(fields: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
}

/// POSTs a form to `url`; redirects are not followed.
async fn post_form(url: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// POSTs `fields` and the file part as a form to `url`; redirects are not followed.
async fn post_multipart<'a>(
    url: &str,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    file_name: &str,
    file: &[u8],
) -> reqwest::Response {
    let (content_type, body) = multipart(fields, file_name, file);
    post_form(url, &content_type, body).await
}

#[tokio::test]
async fn presign_api_post_form_with_filename_and_content_type_prefix() {
    let gw = Gateway::start();
    let form = gw
        .presigned(
            "uploads",
            json!({"key": "photos/${filename}", "action": "post", "content_type": "image/*",
                   "max_size": 100, "expires": "10m"}),
        )
        .await;
    assert_eq!(form["method"], "POST");
    assert_eq!(form["url"], format!("{}/uploads", gw.base));
    assert_eq!(form["expires_in"], 600);
    let mut fields: Vec<(String, String)> = form["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "key",
            "Content-Type",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "policy",
            "x-amz-signature"
        ]
    );
    assert_eq!(fields[0].1, "photos/${filename}");
    assert_eq!(fields[1].1, "image/");
    // The page sets the real type, within the prefix.
    fields[1].1 = "image/png".into();
    let url = url_of(&form);

    let response = post_multipart(url, pairs(&fields), "C:\\pictures\\cat.png", &[1u8; 100]).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()["location"],
        format!("{}/uploads/photos/cat.png", gw.base).as_str()
    );
    let get = get_signed(&gw, "/uploads/photos/cat.png", &[]).await;
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.headers()["content-type"], "image/png");
    assert_eq!(get.bytes().await.unwrap(), vec![1u8; 100]);

    // Over max_size, another type, another bucket in the target: refused, nothing stored.
    let response = post_multipart(url, pairs(&fields), "big.png", &[1u8; 101]).await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "EntityTooLarge").await;
    fields[1].1 = "text/html".into();
    let response = post_multipart(url, pairs(&fields), "page.png", b"<html>").await;
    assert_s3_error(response, StatusCode::FORBIDDEN, "AccessDenied").await;
    fields[1].1 = "image/png".into();
    let other = format!("{}/other-bucket", gw.base);
    let response = post_multipart(&other, pairs(&fields), "elsewhere.png", b"x").await;
    assert_s3_error(response, StatusCode::FORBIDDEN, "AccessDenied").await;
    for key in ["photos/big.png", "photos/page.png"] {
        let target = format!("/uploads/{key}");
        assert_eq!(get_status(&gw, &target).await, StatusCode::NOT_FOUND);
    }
    let elsewhere = "/other-bucket/photos/elsewhere.png";
    assert_eq!(get_status(&gw, elsewhere).await, StatusCode::NOT_FOUND);
    assert_eq!(gw.temp_files(), 0);

    // Bad requests to the API.
    for (body, needle) in [
        (
            json!({"key": "a/${filename}/b", "action": "post"}),
            "filename",
        ),
        (
            json!({"key": "k", "action": "post", "filename": "x.txt"}),
            "filename",
        ),
        (
            json!({"key": "k", "action": "post", "max_size": 6u64 << 30}),
            "max_size",
        ),
    ] {
        assert_presign_refused(&gw, "uploads", body, needle).await;
    }
}

/// A form signed here with `presign::post`'s builder, for the gateway's bucket `uploads`.
fn library_form(
    gw: &Gateway,
    key: PostKey,
    build: impl FnOnce(PresignedPostBuilder<'_>) -> PresignedPostBuilder<'_>,
) -> PresignedPost {
    let endpoint = Endpoint::parse(&gw.base).unwrap();
    let bucket = Bucket::new("uploads").unwrap();
    build(PresignedPost::builder(&endpoint, &bucket, key))
        .sign(&gw.signer(), SigningTime::now())
        .unwrap()
}

#[tokio::test]
async fn post_form_success_status_redirect_metadata_and_minimum_size() {
    let gw = Gateway::start();

    // 201: the PostResponse document.
    let form = library_form(&gw, PostKey::exact("created.txt"), |b| {
        b.success_action_status(201).metadata("origin", "form")
    });
    let response = post_multipart(form.url(), form.fields(), "created.txt", b"created").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{:x}\"", md5_of(b"created")));
    let doc = response.text().await.unwrap();
    assert_eq!(xml_text(&doc, "Key"), "created.txt");
    assert_eq!(xml_text(&doc, "Bucket"), "uploads");
    let head = gw
        .send_signed(Method::HEAD, "/uploads/created.txt", &[])
        .await;
    assert_eq!(head.headers()["x-amz-meta-origin"], "form");

    // 200: empty.
    let form = library_form(&gw, PostKey::exact("ok.txt"), |b| {
        b.success_action_status(200)
    });
    let response = post_multipart(form.url(), form.fields(), "ok.txt", b"ok").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.unwrap().is_empty());

    // A redirect: 303 to the URL with bucket, key and etag.
    let form = library_form(&gw, PostKey::starts_with("in/"), |b| {
        b.success_action_redirect("https://app.example/done?from=form")
    });
    let mut fields: Vec<(&str, &str)> = form.fields().collect();
    fields[0].1 = "in/redirected.txt";
    let response = post_multipart(form.url(), fields, "r.txt", b"redirected").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!(
            "https://app.example/done?from=form&bucket=uploads&key=in%2Fredirected.txt&etag=%22{:x}%22",
            md5_of(b"redirected")
        )
        .as_str()
    );

    // Below the minimum: EntityTooSmall, nothing stored.
    let form = library_form(&gw, PostKey::exact("small.txt"), |b| {
        b.content_length_range(10, 20)
    });
    let response = post_multipart(form.url(), form.fields(), "small.txt", b"tiny").await;
    assert_s3_error(response, StatusCode::BAD_REQUEST, "EntityTooSmall").await;
    assert_eq!(
        get_status(&gw, "/uploads/small.txt").await,
        StatusCode::NOT_FOUND
    );

    // A field the policy does not cover, and a tampered policy.
    let form = library_form(&gw, PostKey::exact("extra.txt"), |b| b);
    let mut fields: Vec<(&str, &str)> = form.fields().collect();
    fields.insert(1, ("x-amz-meta-sneaky", "1"));
    let response = post_multipart(form.url(), fields, "extra.txt", b"x").await;
    assert_s3_error(response, StatusCode::FORBIDDEN, "AccessDenied").await;
    let mut fields: Vec<(&str, &str)> = form.fields().collect();
    let policy = fields.iter().position(|(n, _)| *n == "policy").unwrap();
    let tampered = format!("{}=", fields[policy].1.trim_end_matches('='));
    fields[policy].1 = &tampered;
    let response = post_multipart(form.url(), fields, "extra.txt", b"x").await;
    let (status, _) = s3_code(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(gw.temp_files(), 0);
}

#[tokio::test]
async fn post_form_over_the_limit_is_refused_while_the_file_streams() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let gw = Gateway::start();
    let form = library_form(&gw, PostKey::exact("huge.bin"), |b| {
        b.content_length_range(0, 1000)
    });
    let (ct, mut head) = multipart(form.fields(), "huge.bin", b"");
    // Keep the fields and the file part's headers; the file is what follows.
    let closing = b"\r\n------presign-gateway-form--\r\n".len();
    head.truncate(head.len() - closing);
    // The request announces 100 MiB of file, sends 64 KiB of it and waits: the answer must
    // come without the rest.
    let declared = head.len() + (100 << 20) + closing;
    let mut tcp = tokio::net::TcpStream::connect(gw.authority())
        .await
        .unwrap();
    let request_head = format!(
        "POST /uploads HTTP/1.1\r\nhost: {}\r\ncontent-type: {ct}\r\ncontent-length: {declared}\r\n\r\n",
        gw.authority()
    );
    tcp.write_all(request_head.as_bytes()).await.unwrap();
    tcp.write_all(&head).await.unwrap();
    tcp.write_all(&[0u8; 64 * 1024]).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("</Error>") {
            let n = tcp.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer while the file was still streaming");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>EntityTooLarge</Code>"), "{answer}");
    assert!(
        answer.contains("<MaxSizeAllowed>1000</MaxSizeAllowed>"),
        "{answer}"
    );
    assert_eq!(gw.temp_files(), 0);
}
