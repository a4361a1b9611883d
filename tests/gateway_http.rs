//! The gateway example end to end over HTTP: the real binary on a free loopback port, driven
//! with reqwest, with URLs minted by its presign API or signed here with the library.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use presign::s3::{Bucket, Endpoint, PutObject};
use presign::{Credentials, Expiry, PayloadHash, SignableRequest, Signer, SigningTime};
use reqwest::StatusCode;
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
        method: reqwest::Method,
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
    let list: Value = gw
        .http
        .get(format!("{}/api/storage/buckets/uploads/objects", gw.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    assert_eq!(
        s3_code(put).await,
        (StatusCode::FORBIDDEN, "SignatureDoesNotMatch".into())
    );
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
    let response = gw.http.put(put.url()).body("late").send().await.unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::FORBIDDEN, "AccessDenied".into())
    );
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
        let response = gw.http.put(&tampered).body("x").send().await.unwrap();
        assert_eq!(
            s3_code(response).await,
            (StatusCode::FORBIDDEN, "SignatureDoesNotMatch".into()),
            "{tampered}"
        );
    }
    // The untouched URL works.
    let response = gw.http.put(url).body("x").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn rotated_then_revoked_key_is_403_invalid_access_key_id() {
    let gw = Gateway::start();
    let old = gw
        .presigned("uploads", json!({"key": "k.txt", "action": "upload"}))
        .await;
    assert!(url_of(&old).contains(ACCESS_KEY));

    let admin = |req: reqwest::RequestBuilder| req.bearer_auth(TOKEN).send();
    let rotated: Value = admin(gw.http.post(format!("{}/api/admin/keys/rotate", gw.base)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["previous"], ACCESS_KEY);
    let new_id = rotated["access_key_id"].as_str().unwrap().to_owned();

    // Until revoked, the old key's URL still works (a rotation does not break uploads in
    // flight); new URLs use the new key.
    let response = gw.http.put(url_of(&old)).body("1").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let new = gw
        .presigned("uploads", json!({"key": "k.txt", "action": "upload"}))
        .await;
    assert!(url_of(&new).contains(&new_id));

    // The signing key cannot be revoked; the old one can.
    let conflict = admin(
        gw.http
            .delete(format!("{}/api/admin/keys/{new_id}", gw.base)),
    )
    .await
    .unwrap();
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    let revoked = admin(
        gw.http
            .delete(format!("{}/api/admin/keys/{ACCESS_KEY}", gw.base)),
    )
    .await
    .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    let response = gw.http.put(url_of(&old)).body("2").send().await.unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::FORBIDDEN, "InvalidAccessKeyId".into())
    );
    let response = gw.http.put(url_of(&new)).body("3").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let keys: Value = admin(gw.http.get(format!("{}/api/admin/keys", gw.base)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
        let response = gw.presign(bucket, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
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
    let body = b"signed body".to_vec();
    let response = gw
        .signed(
            reqwest::Method::PUT,
            "/bucket/signed.txt",
            &[("content-type", "text/plain")],
            PayloadHash::from_body(&body),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let response = gw
        .signed(
            reqwest::Method::PUT,
            "/bucket/unsigned.txt",
            &[],
            PayloadHash::Unsigned,
        )
        .body("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // HEAD and GET with header auth.
    let head = gw
        .signed(
            reqwest::Method::HEAD,
            "/bucket/signed.txt",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], "11");
    assert_eq!(head.headers()["content-type"], "text/plain");
    let range = gw
        .signed(
            reqwest::Method::GET,
            "/bucket/signed.txt",
            &[("range", "bytes=7-")],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(range.text().await.unwrap(), "body");

    // DELETE, then GET is NoSuchKey.
    let delete = gw
        .signed(
            reqwest::Method::DELETE,
            "/bucket/signed.txt",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let get = gw
        .signed(
            reqwest::Method::GET,
            "/bucket/signed.txt",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(get).await,
        (StatusCode::NOT_FOUND, "NoSuchKey".into())
    );
}

#[tokio::test]
async fn nothing_is_stored_when_the_body_does_not_match_its_signature() {
    let gw = Gateway::start();
    // Signed for one body, sent with another of the same length.
    let response = gw
        .signed(
            reqwest::Method::PUT,
            "/bucket/swapped.txt",
            &[],
            PayloadHash::from_body(b"good body"),
        )
        .body("evil body")
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::BAD_REQUEST, "XAmzContentSHA256Mismatch".into())
    );
    // A wrong x-amz-checksum-crc32 (signed, so only the body can be at fault).
    let response = gw
        .signed(
            reqwest::Method::PUT,
            "/bucket/swapped.txt",
            &[("x-amz-checksum-crc32", "AAAAAA==")],
            PayloadHash::Unsigned,
        )
        .body("good body")
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::BAD_REQUEST, "BadDigest".into())
    );
    let get = gw
        .signed(
            reqwest::Method::GET,
            "/bucket/swapped.txt",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    assert_eq!(gw.temp_files(), 0);
}

#[tokio::test]
async fn object_larger_than_the_limit_is_entity_too_large() {
    let gw = Gateway::start_with(&["--max-object-size", "1000"], TOKEN);
    let up = gw
        .presigned("uploads", json!({"key": "big.bin", "action": "upload"}))
        .await;
    let response = gw
        .http
        .put(url_of(&up))
        .body(vec![0u8; 1001])
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::BAD_REQUEST, "EntityTooLarge".into())
    );
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
    let create = gw
        .signed(
            reqwest::Method::POST,
            "/videos/big.bin?uploads=",
            &[("content-type", "video/mp4")],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
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
        gw.signed(
            reqwest::Method::PUT,
            &t1,
            &[],
            PayloadHash::from_body(&part(1))
        )
        .body(part(1))
        .send(),
        gw.http.put(presigned_part_2.url()).body(part(2)).send(),
        gw.signed(
            reqwest::Method::PUT,
            &t3,
            &[],
            PayloadHash::from_body(&part(3))
        )
        .body(part(3))
        .send(),
    );
    let etags: Vec<String> = [r1, r2, r3]
        .into_iter()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.headers()["etag"].to_str().unwrap().to_owned()
        })
        .collect();

    let list_target = format!("/videos/big.bin?uploadId={upload_id}");
    let list = gw
        .signed(
            reqwest::Method::GET,
            &list_target,
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap()
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
        .signed(
            reqwest::Method::POST,
            &list_target,
            &[],
            PayloadHash::from_body(bad.as_bytes()),
        )
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::BAD_REQUEST, "InvalidPartOrder".into())
    );
    let good = complete_doc(&[0, 1, 2]);
    let response = gw
        .signed(
            reqwest::Method::POST,
            &list_target,
            &[],
            PayloadHash::from_body(good.as_bytes()),
        )
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc = response.text().await.unwrap();
    assert!(
        xml_text(&doc, "ETag").ends_with("-3&quot;") || xml_text(&doc, "ETag").ends_with("-3\"")
    );

    let get = gw
        .signed(
            reqwest::Method::GET,
            "/videos/big.bin",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get.headers()["content-type"], "video/mp4");
    let mut expected = part(1);
    expected.extend(part(2));
    expected.extend(part(3));
    assert_eq!(get.bytes().await.unwrap(), expected);

    // The upload is gone; a new one can be aborted.
    let again = gw
        .signed(
            reqwest::Method::GET,
            &list_target,
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(again).await,
        (StatusCode::NOT_FOUND, "NoSuchUpload".into())
    );
    let create = gw
        .signed(
            reqwest::Method::POST,
            "/videos/other.bin?uploads=",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let abort_target = format!(
        "/videos/other.bin?uploadId={}",
        xml_text(&create, "UploadId")
    );
    let abort = gw
        .signed(
            reqwest::Method::DELETE,
            &abort_target,
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(abort.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn cors_preflight_allows_a_page_on_another_origin() {
    let gw = Gateway::start();
    let response = gw
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/uploads/k.txt", gw.base),
        )
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
}

/// Builds a POST policy form by hand (base64 policy signed with the signing key), as
/// `presign::post` will: the gateway's form verifier is what this exercises.
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
    let boundary = "----presign-gateway-test";
    let mut body = Vec::new();
    for (name, value) in [
        ("key", key),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", &credential),
        ("x-amz-date", amz_date.as_str()),
        ("policy", &policy),
        ("x-amz-signature", &signature),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
#[ignore = "needs presign::post"]
async fn post_form_upload_and_a_file_over_the_limit_is_entity_too_large() {
    let gw = Gateway::start();
    let (content_type, body) = post_form_body(&gw.signer(), "form.bin", 1000, &[7u8; 1000]);
    let response = gw
        .http
        .post(format!("{}/uploads", gw.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let (content_type, body) = post_form_body(&gw.signer(), "too-big.bin", 1000, &[7u8; 1001]);
    let response = gw
        .http
        .post(format!("{}/uploads", gw.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::BAD_REQUEST, "EntityTooLarge".into())
    );
    assert_eq!(gw.temp_files(), 0);
}

#[tokio::test]
async fn post_form_answers_not_implemented_until_presign_post_lands() {
    // Remove this test when post_form::verify_form is wired to presign::post.
    let gw = Gateway::start();
    let (content_type, body) = post_form_body(&gw.signer(), "form.bin", 1000, b"x");
    let response = gw
        .http
        .post(format!("{}/uploads", gw.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::NOT_IMPLEMENTED, "NotImplemented".into())
    );
    let api = gw
        .presign("uploads", json!({"key": "k", "action": "post"}))
        .await;
    assert_eq!(api.status(), StatusCode::NOT_IMPLEMENTED);
}

/// An aws-chunked body with signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), built by
/// hand: each chunk's signature chains on the previous one, starting from the seed.
fn chunked_request(
    gw: &Gateway,
    target: &str,
    data: &[u8],
    chunk: usize,
) -> reqwest::RequestBuilder {
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
    let mut builder = gw.http.put(format!("{}{target}", gw.base));
    for (name, value) in headers.iter().skip(1) {
        builder = builder.header(*name, *value);
    }
    for (name, value) in auth.iter() {
        builder = builder.header(name, value);
    }
    builder.body(body)
}

#[tokio::test]
#[ignore = "needs presign::chunked"]
async fn aws_chunked_signed_upload() {
    let gw = Gateway::start();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 256) as u8).collect();
    let response = chunked_request(&gw, "/bucket/chunked.bin", &data, 8192)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let get = gw
        .signed(
            reqwest::Method::GET,
            "/bucket/chunked.bin",
            &[],
            PayloadHash::empty(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get.bytes().await.unwrap(), data);
}

#[tokio::test]
async fn aws_chunked_answers_not_implemented_until_presign_chunked_lands() {
    // Remove this test when chunked::receive is wired to presign::chunked.
    let gw = Gateway::start();
    let response = chunked_request(&gw, "/bucket/chunked.bin", b"hello", 8192)
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(response).await,
        (StatusCode::NOT_IMPLEMENTED, "NotImplemented".into())
    );
    assert_eq!(gw.temp_files(), 0);
}
