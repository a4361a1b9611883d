//! The S3-compatible endpoint: every request is authenticated by `presign::verify` (presigned
//! URL or `Authorization` header) on the raw request target as received, then routed by
//! method, path and query as S3 routes them.
//!
//! Verification is authentication only; this gateway then allows any verified key to do
//! anything, which is the policy of a single-tenant upload gateway. A multi-tenant one would
//! check `verified.access_key_id()` against the bucket here.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use presign::SigningTime;
use presign::chunked::ChecksumValue;
use presign::s3::{Bucket, validate_key};
use presign::verify::{IncomingRequest, VerifiedRequest};

use crate::body::{self, Sink};
use crate::checksum::{self, BodyDigests};
use crate::error::S3Error;
use crate::storage::{ObjectMeta, UploadMeta};
use crate::xml::{self, DECLARATION, NS, element};
use crate::{AppState, Shared, http_date, s3_timestamp};

/// S3's limit on user metadata (names and values of `x-amz-meta-*`).
const MAX_METADATA_BYTES: usize = 2 * 1024;
/// A `CompleteMultipartUpload` document for 10,000 parts fits well within this.
const MAX_COMPLETE_BODY: u64 = 2 * 1024 * 1024;
/// Bodies of requests that carry no data (bucket creation configuration and the like).
const MAX_SMALL_BODY: u64 = 64 * 1024;
/// Parts are numbered 1 to 10,000.
const MAX_PART_NUMBER: u32 = 10_000;

/// An `http::HeaderMap` as the verifier reads headers (names and raw value bytes, in order).
/// The library implements this itself behind its `http` feature; the example does it here so
/// that it builds with the default features.
pub struct HeaderView<'a>(pub &'a HeaderMap);

impl presign::Headers for HeaderView<'_> {
    /// Every header, in arrival order.
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))
    }
}

/// Verifies a request with the gateway's keys: the method, the request target exactly as
/// received (never re-encoded: the signature covers those bytes), the headers, now.
pub fn authenticate<'r>(
    state: &AppState,
    parts: &'r Parts,
    view: &'r HeaderView<'r>,
) -> Result<VerifiedRequest<'r>, S3Error> {
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut request = IncomingRequest::new(parts.method.as_str(), target, view);
    if let Some(authority) = parts.uri.authority() {
        request = request.with_authority(authority.as_str());
    }
    Ok(state.keys.verifier().verify(&request, SigningTime::now())?)
}

/// Bucket, key and decoded query of a request.
struct Target {
    bucket: Option<String>,
    key: Option<String>,
    query: Vec<(String, String)>,
}

impl Target {
    /// The first value of a query parameter.
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a query parameter is present (with any value).
    fn has(&self, name: &str) -> bool {
        self.param(name).is_some()
    }
}

/// Path style: `/{bucket}/{key}`, the key percent-decoded once (S3 keys are not paths: `//`
/// and `..` are kept). The query is decoded as the verifier decodes it (`+` is a space).
fn parse_target(uri: &Uri) -> Result<Target, S3Error> {
    let query = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    let path = uri.path().strip_prefix('/').unwrap_or(uri.path());
    if path.is_empty() {
        return Ok(Target {
            bucket: None,
            key: None,
            query,
        });
    }
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (path, None),
    };
    Bucket::new(bucket).map_err(|_| {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        )
        .with("BucketName", bucket)
    })?;
    let key = match key.filter(|k| !k.is_empty()) {
        None => None,
        Some(raw) => {
            let key = percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| S3Error::invalid_argument("The key is not valid UTF-8."))?
                .into_owned();
            validate_key(&key).map_err(|_| {
                S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "KeyTooLongError",
                    "Your key is too long",
                )
            })?;
            Some(key)
        }
    };
    Ok(Target {
        bucket: Some(bucket.to_owned()),
        key,
        query,
    })
}

/// The characters a key keeps unencoded in a URL path (S3's rule: unreserved and `/`).
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// A key as it appears in a URL path.
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_ENCODE).to_string()
}

/// The most of an unread body drained before an error is answered.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;
/// How long draining may take.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The request body, shared with [`handle`] so that what a handler left unread can be drained
/// after it answered with an error.
struct SharedBody(Arc<Mutex<BodyDataStream>>);

impl Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    /// The next frame of the shared body.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.lock() {
            Ok(mut stream) => stream.poll_next_unpin(cx),
            Err(_) => Poll::Ready(None),
        }
    }
}

/// The fallback handler: every request that is not the page or the JSON API.
pub async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let shared = Arc::new(Mutex::new(body.into_data_stream()));
    let body = Body::from_stream(SharedBody(Arc::clone(&shared)));
    match dispatch(&state, &parts, body).await {
        Ok(response) => response,
        Err(e) => {
            if e.status().is_server_error() && e.code() != "NotImplemented" {
                crate::log!("gateway: {} {} -> {e}", parts.method, parts.uri.path());
            }
            drain(&parts, SharedBody(shared)).await;
            e.into_response()
        }
    }
}

/// Reads what is left of a refused request's body, when it is small. A client still sending
/// when the server closes gets a reset instead of the error (Node's fetch reports EPIPE, not
/// the 403); a client that asked `Expect: 100-continue` has sent nothing and waits, so its
/// body is left alone, and so is a large one (S3 closes on those too).
async fn drain(parts: &Parts, mut rest: SharedBody) {
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
    let small = declared.is_some_and(|n| n <= DRAIN_LIMIT) || (chunked && declared.is_none());
    if expects_continue || !small {
        return;
    }
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut seen = 0u64;
        while let Some(Ok(chunk)) = rest.next().await {
            seen += chunk.len() as u64;
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    })
    .await;
}

/// Routes by path (service, bucket, object), method and query, as S3 does.
async fn dispatch(state: &AppState, parts: &Parts, body: Body) -> Result<Response, S3Error> {
    let target = parse_target(&parts.uri)?;
    let method = &parts.method;
    let Some(bucket) = target.bucket.as_deref() else {
        return match *method {
            Method::GET => list_buckets(state, parts).await,
            _ => Err(method_not_allowed()),
        };
    };
    let Some(key) = target.key.as_deref() else {
        return match *method {
            Method::PUT => create_bucket(state, parts, body, bucket).await,
            Method::HEAD => head_bucket(state, parts),
            Method::DELETE => delete_bucket(state, parts, body, bucket).await,
            Method::GET if target.has("location") => get_bucket_location(state, parts),
            Method::GET if target.has("uploads") || target.has("versions") => Err(
                S3Error::not_implemented("listing uploads or versions is not supported"),
            ),
            Method::GET => list_objects(state, parts, &target, bucket).await,
            Method::POST if is_form(parts) => {
                crate::post_form::handle(state, bucket, parts, body).await
            }
            Method::POST => Err(S3Error::not_implemented(
                "this gateway supports POST on a bucket for form uploads only",
            )),
            _ => Err(method_not_allowed()),
        };
    };
    let upload_id = target.param("uploadId");
    match (method.clone(), upload_id) {
        (Method::PUT, Some(id)) => upload_part(state, parts, body, &target, bucket, key, id).await,
        (Method::PUT, None) => put_object(state, parts, body, bucket, key).await,
        (Method::GET, Some(id)) => list_parts(state, parts, &target, bucket, key, id).await,
        (Method::GET, None) => get_object(state, parts, &target, bucket, key, false).await,
        (Method::HEAD, None) => get_object(state, parts, &target, bucket, key, true).await,
        (Method::DELETE, Some(id)) => abort_upload(state, parts, body, bucket, key, id).await,
        (Method::DELETE, None) => delete_object(state, parts, body, bucket, key).await,
        (Method::POST, None) if target.has("uploads") => {
            create_upload(state, parts, body, bucket, key).await
        }
        (Method::POST, Some(id)) => complete_upload(state, parts, body, bucket, key, id).await,
        _ => Err(method_not_allowed()),
    }
}

/// Whether the body is `multipart/form-data` (a browser POST form).
fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// 405 `MethodNotAllowed`.
fn method_not_allowed() -> S3Error {
    S3Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}

/// Reads and checks a small body (usually empty) against the signature, and returns it.
async fn small_body(
    verified: &VerifiedRequest<'_>,
    body: Body,
    limit: u64,
) -> Result<Vec<u8>, S3Error> {
    body::declared_length(verified, limit).or_else(|e| {
        // Bodiless requests may omit Content-Length; then the body must be empty.
        if e.code() == "MissingContentLength" {
            Ok(0)
        } else {
            Err(e)
        }
    })?;
    let mut buf = Vec::new();
    body::receive(
        verified,
        body,
        Sink::Memory {
            buf: &mut buf,
            limit,
        },
    )
    .await?;
    Ok(buf)
}

/// Authenticates a request that carries no data; its body (usually empty) is still read and
/// checked against the signature, before the request changes anything.
async fn authenticate_bodiless(state: &AppState, parts: &Parts, body: Body) -> Result<(), S3Error> {
    let view = HeaderView(&parts.headers);
    let verified = authenticate(state, parts, &view)?;
    small_body(&verified, body, MAX_SMALL_BODY).await?;
    Ok(())
}

/// A response with an XML document.
fn xml_response(status: StatusCode, doc: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], doc).into_response()
}

/// Sets a header, skipping a value that cannot be one.
fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// A verified checksum as its `x-amz-checksum-*` header.
fn insert_checksum(headers: &mut HeaderMap, checksum: &ChecksumValue) {
    insert(
        headers,
        checksum.algorithm().header_name(),
        &checksum.to_base64(),
    );
}

/// `x-amz-meta-*` headers: names without the prefix, ASCII values, within S3's 2 KB.
fn user_metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut metadata = Vec::new();
    for (name, value) in headers {
        if let Some(n) = name.as_str().strip_prefix("x-amz-meta-") {
            let v = value
                .to_str()
                .map_err(|_| S3Error::invalid_argument("x-amz-meta-* values must be ASCII"))?;
            metadata.push((n.to_owned(), v.to_owned()));
        }
    }
    check_metadata_size(&metadata)?;
    Ok(metadata)
}

/// `MetadataTooLarge` when user metadata (names without the prefix, and values) passes S3's
/// 2 KB.
pub fn check_metadata_size(metadata: &[(String, String)]) -> Result<(), S3Error> {
    let bytes: usize = metadata.iter().map(|(n, v)| n.len() + v.len()).sum();
    if bytes > MAX_METADATA_BYTES {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
        ));
    }
    Ok(())
}

/// A header as text, if it is.
fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `NotImplemented` for a copy (`x-amz-copy-source`): this gateway stores only bodies it
/// receives and verifies.
fn refuse_copy(parts: &Parts, operation: &str) -> Result<(), S3Error> {
    if parts.headers.contains_key("x-amz-copy-source") {
        return Err(S3Error::not_implemented(format!(
            "{operation} is not supported"
        )));
    }
    Ok(())
}

/// `200` with the ETag and the verified checksum of what was stored.
fn stored_response(meta: &ObjectMeta) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    insert(headers, "etag", &format!("\"{}\"", meta.etag));
    if let Some(checksum) = meta.checksum() {
        insert_checksum(headers, &checksum);
    }
    response
}

/// PutObject: verify, stream the body to a temporary file, check it, commit.
async fn put_object(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
    key: &str,
) -> Result<Response, S3Error> {
    refuse_copy(parts, "CopyObject")?;
    let view = HeaderView(&parts.headers);
    let verified = authenticate(state, parts, &view)?;
    body::declared_length(&verified, state.max_object_size)?;
    let meta = ObjectMeta {
        key: key.to_owned(),
        content_type: header_str(&parts.headers, header::CONTENT_TYPE).map(str::to_owned),
        metadata: user_metadata(&parts.headers)?,
        ..ObjectMeta::default()
    };
    let digests = BodyDigests::from_headers(&parts.headers)?;
    let mut tmp = state.store.temp(digests, state.max_object_size).await?;
    body::receive(&verified, body, Sink::File(&mut tmp)).await?;
    let meta = state.store.commit_object(tmp, bucket, meta).await?;
    Ok(stored_response(&meta))
}

/// A single `bytes=` range, resolved against `size`: `Ok(None)` for the whole object.
fn parse_range(value: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        // S3 serves the whole object for multiple ranges.
        return Ok(None);
    }
    let invalid = || {
        S3Error::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", format!("bytes={spec}"))
        .with("ActualObjectSize", size.to_string())
    };
    let (start, end) = spec.split_once('-').ok_or_else(invalid)?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| invalid())?;
            if n == 0 || size == 0 {
                return Err(invalid());
            }
            (size.saturating_sub(n), size - 1)
        }
        (s, e) => {
            let s: u64 = s.parse().map_err(|_| invalid())?;
            let e: u64 = if e.is_empty() {
                size.saturating_sub(1)
            } else {
                e.parse::<u64>()
                    .map_err(|_| invalid())?
                    .min(size.saturating_sub(1))
            };
            if s >= size || e < s {
                return Err(invalid());
            }
            (s, e)
        }
    };
    Ok(Some((start, end)))
}

/// Whether an `If-Match`/`If-None-Match` list names `etag` (or is `*`).
fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == etag)
}

/// GetObject and HeadObject: conditionals, one range, metadata, `response-*` overrides.
async fn get_object(
    state: &AppState,
    parts: &Parts,
    target: &Target,
    bucket: &str,
    key: &str,
    head: bool,
) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    authenticate(state, parts, &view)?;
    if target.has("partNumber") {
        return Err(S3Error::not_implemented(
            "GetObject by partNumber is not supported",
        ));
    }
    let object = state
        .store
        .open_object(bucket, key)
        .await?
        .ok_or_else(|| S3Error::no_such_key(key))?;
    let meta = object.meta.clone();
    if let Some(list) = header_str(&parts.headers, header::IF_MATCH) {
        if !etag_listed(list, &meta.etag) {
            return Err(S3Error::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    }
    let not_modified = header_str(&parts.headers, header::IF_NONE_MATCH)
        .is_some_and(|list| etag_listed(list, &meta.etag));

    let range = parse_range(header_str(&parts.headers, header::RANGE), meta.size)?;
    let (status, start, len) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        None => (StatusCode::OK, 0, meta.size),
    };
    let body = if head || not_modified {
        Body::empty()
    } else {
        object.body(start, len).await?
    };
    let mut response = (status, body).into_response();
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = response.headers_mut();
    insert(headers, "etag", &format!("\"{}\"", meta.etag));
    insert(headers, "last-modified", &http_date(meta.last_modified));
    insert(headers, "accept-ranges", "bytes");
    if !not_modified {
        insert(headers, "content-length", &len.to_string());
    }
    insert(
        headers,
        "content-type",
        meta.content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    );
    if let Some((s, e)) = range {
        insert(
            headers,
            "content-range",
            &format!("bytes {s}-{e}/{}", meta.size),
        );
    }
    for (name, value) in &meta.metadata {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    // A checksum verified at upload, for the whole object, when the client asks for it (the
    // SDKs then check the body against it).
    let wants_checksum = header_str(
        &parts.headers,
        header::HeaderName::from_static("x-amz-checksum-mode"),
    )
    .is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"));
    if wants_checksum && range.is_none() {
        if let Some(checksum) = meta.checksum() {
            insert_checksum(headers, &checksum);
        }
    }
    // The presigned URL's `response-*` overrides, as S3 applies them.
    for (param, name) in [
        ("response-content-type", "content-type"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-language", "content-language"),
        ("response-content-encoding", "content-encoding"),
        ("response-cache-control", "cache-control"),
        ("response-expires", "expires"),
    ] {
        if let Some(value) = target.param(param) {
            insert(headers, name, value);
        }
    }
    Ok(response)
}

/// DeleteObject (204 whether or not the key existed, as S3).
async fn delete_object(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
    key: &str,
) -> Result<Response, S3Error> {
    authenticate_bodiless(state, parts, body).await?;
    state.store.delete_object(bucket, key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// ListBuckets (`GET /`, signed).
async fn list_buckets(state: &AppState, parts: &Parts) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    authenticate(state, parts, &view)?;
    let mut doc = format!("{DECLARATION}<ListAllMyBucketsResult xmlns=\"{NS}\">");
    doc.push_str("<Owner><ID>gateway</ID><DisplayName>gateway</DisplayName></Owner><Buckets>");
    for name in state.store.buckets().await? {
        doc.push_str("<Bucket>");
        element(&mut doc, "Name", &name);
        element(&mut doc, "CreationDate", &s3_timestamp(0));
        doc.push_str("</Bucket>");
    }
    doc.push_str("</Buckets></ListAllMyBucketsResult>");
    Ok(xml_response(StatusCode::OK, doc))
}

/// CreateBucket: buckets exist implicitly, so this only makes the directory.
async fn create_bucket(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
) -> Result<Response, S3Error> {
    authenticate_bodiless(state, parts, body).await?;
    state.store.create_bucket(bucket).await?;
    let mut response = StatusCode::OK.into_response();
    insert(response.headers_mut(), "location", &format!("/{bucket}"));
    Ok(response)
}

/// HeadBucket: 200 for any valid name, with the region.
fn head_bucket(state: &AppState, parts: &Parts) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    let verified = authenticate(state, parts, &view)?;
    let mut response = StatusCode::OK.into_response();
    // Buckets exist implicitly: any valid name can be written to.
    insert(
        response.headers_mut(),
        "x-amz-bucket-region",
        verified.region(),
    );
    Ok(response)
}

/// GetBucketLocation: the region the request was signed for.
fn get_bucket_location(state: &AppState, parts: &Parts) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    let verified = authenticate(state, parts, &view)?;
    let mut doc = format!("{DECLARATION}<LocationConstraint xmlns=\"{NS}\">");
    // us-east-1 is the empty constraint, as in S3.
    if verified.region() != "us-east-1" {
        xml::escape_into(&mut doc, verified.region());
    }
    doc.push_str("</LocationConstraint>");
    Ok(xml_response(StatusCode::OK, doc))
}

/// DeleteBucket: only an empty one.
async fn delete_bucket(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
) -> Result<Response, S3Error> {
    authenticate_bodiless(state, parts, body).await?;
    state.store.delete_bucket(bucket).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// ListObjectsV2 (`list-type=2`) and ListObjects: prefix, delimiter, max-keys, pagination
/// and `encoding-type=url`.
async fn list_objects(
    state: &AppState,
    parts: &Parts,
    target: &Target,
    bucket: &str,
) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    authenticate(state, parts, &view)?;
    let v2 = target.param("list-type") == Some("2");
    let prefix = target.param("prefix").unwrap_or("");
    let delimiter = target.param("delimiter").filter(|d| !d.is_empty());
    let max_keys: usize = match target.param("max-keys") {
        None => 1000,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| S3Error::invalid_argument("max-keys must be a number"))?
            .min(1000),
    };
    let url_encoded = target.param("encoding-type") == Some("url");
    let start = if v2 {
        match target.param("continuation-token") {
            Some(token) => String::from_utf8(hex::decode(token).map_err(|_| {
                S3Error::invalid_argument("The continuation token provided is incorrect")
            })?)
            .map_err(|_| {
                S3Error::invalid_argument("The continuation token provided is incorrect")
            })?,
            None => target.param("start-after").unwrap_or("").to_owned(),
        }
    } else {
        target.param("marker").unwrap_or("").to_owned()
    };

    let mut contents: Vec<ObjectMeta> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last = String::new();
    let mut truncated = false;
    for object in state.store.list(bucket).await? {
        if !object.key.starts_with(prefix) || object.key.as_str() <= start.as_str() {
            continue;
        }
        // Resuming after a common prefix skips everything under it.
        if delimiter.is_some_and(|d| start.ends_with(d)) && object.key.starts_with(&start) {
            continue;
        }
        let common = delimiter.and_then(|d| {
            let rest = object.key.get(prefix.len()..)?;
            rest.find(d)
                .and_then(|i| object.key.get(..prefix.len() + i + d.len()))
        });
        if common.is_some_and(|c| prefixes.last().is_some_and(|p| p == c)) {
            continue;
        }
        if contents.len() + prefixes.len() == max_keys {
            truncated = true;
            break;
        }
        match common {
            Some(c) => {
                last = c.to_owned();
                prefixes.push(last.clone());
            }
            None => {
                last = object.key.clone();
                contents.push(object);
            }
        }
    }

    let enc = |s: &str| {
        if url_encoded {
            encode_key(s)
        } else {
            s.to_owned()
        }
    };
    let mut doc = format!("{DECLARATION}<ListBucketResult xmlns=\"{NS}\">");
    element(&mut doc, "Name", bucket);
    element(&mut doc, "Prefix", &enc(prefix));
    if let Some(d) = delimiter {
        element(&mut doc, "Delimiter", &enc(d));
    }
    element(&mut doc, "MaxKeys", &max_keys.to_string());
    element(
        &mut doc,
        "IsTruncated",
        if truncated { "true" } else { "false" },
    );
    if url_encoded {
        element(&mut doc, "EncodingType", "url");
    }
    if v2 {
        element(
            &mut doc,
            "KeyCount",
            &(contents.len() + prefixes.len()).to_string(),
        );
        if let Some(token) = target.param("continuation-token") {
            element(&mut doc, "ContinuationToken", token);
        }
        if let Some(after) = target.param("start-after") {
            element(&mut doc, "StartAfter", &enc(after));
        }
        if truncated {
            element(&mut doc, "NextContinuationToken", &hex::encode(&last));
        }
    } else {
        element(&mut doc, "Marker", &enc(&start));
        if truncated {
            element(&mut doc, "NextMarker", &enc(&last));
        }
    }
    for object in &contents {
        doc.push_str("<Contents>");
        element(&mut doc, "Key", &enc(&object.key));
        element(
            &mut doc,
            "LastModified",
            &s3_timestamp(object.last_modified),
        );
        element(&mut doc, "ETag", &format!("\"{}\"", object.etag));
        element(&mut doc, "Size", &object.size.to_string());
        element(&mut doc, "StorageClass", "STANDARD");
        doc.push_str("</Contents>");
    }
    for p in &prefixes {
        doc.push_str("<CommonPrefixes>");
        element(&mut doc, "Prefix", &enc(p));
        doc.push_str("</CommonPrefixes>");
    }
    doc.push_str("</ListBucketResult>");
    Ok(xml_response(StatusCode::OK, doc))
}

/// CreateMultipartUpload: a new upload id, with the content type and metadata to apply at completion.
async fn create_upload(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
    key: &str,
) -> Result<Response, S3Error> {
    authenticate_bodiless(state, parts, body).await?;
    let algorithm = header_str(
        &parts.headers,
        header::HeaderName::from_static("x-amz-checksum-algorithm"),
    )
    .map(checksum::parse_algorithm)
    .transpose()?;
    let meta = UploadMeta {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        content_type: header_str(&parts.headers, header::CONTENT_TYPE).map(str::to_owned),
        metadata: user_metadata(&parts.headers)?,
        initiated: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let upload_id = state.store.create_upload(&meta).await?;
    let mut doc = format!("{DECLARATION}<InitiateMultipartUploadResult xmlns=\"{NS}\">");
    element(&mut doc, "Bucket", bucket);
    element(&mut doc, "Key", key);
    element(&mut doc, "UploadId", &upload_id);
    doc.push_str("</InitiateMultipartUploadResult>");
    let mut response = xml_response(StatusCode::OK, doc);
    if let Some(a) = algorithm {
        insert(response.headers_mut(), "x-amz-checksum-algorithm", a.name());
    }
    Ok(response)
}

/// The `partNumber` parameter, 1 to 10,000.
fn part_number(target: &Target) -> Result<u32, S3Error> {
    target
        .param("partNumber")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

/// UploadPart: verified and stored like an object, under the upload.
async fn upload_part(
    state: &AppState,
    parts: &Parts,
    body: Body,
    target: &Target,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Response, S3Error> {
    refuse_copy(parts, "UploadPartCopy")?;
    let view = HeaderView(&parts.headers);
    let verified = authenticate(state, parts, &view)?;
    let number = part_number(target)?;
    state.store.upload(upload_id, bucket, key).await?;
    body::declared_length(&verified, state.max_object_size)?;
    let digests = BodyDigests::from_headers(&parts.headers)?;
    let mut tmp = state.store.temp(digests, state.max_object_size).await?;
    body::receive(&verified, body, Sink::File(&mut tmp)).await?;
    let meta = state.store.commit_part(tmp, upload_id, number).await?;
    Ok(stored_response(&meta))
}

/// ListParts, with `part-number-marker` and `max-parts`.
async fn list_parts(
    state: &AppState,
    parts: &Parts,
    target: &Target,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    authenticate(state, parts, &view)?;
    state.store.upload(upload_id, bucket, key).await?;
    let marker: u32 = target
        .param("part-number-marker")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let max: usize = target
        .param("max-parts")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1000)
        .min(1000);
    let all: Vec<_> = state
        .store
        .parts(upload_id)
        .await?
        .into_iter()
        .filter(|(n, _)| *n > marker)
        .collect();
    let truncated = all.len() > max;
    let mut doc = format!("{DECLARATION}<ListPartsResult xmlns=\"{NS}\">");
    element(&mut doc, "Bucket", bucket);
    element(&mut doc, "Key", key);
    element(&mut doc, "UploadId", upload_id);
    element(&mut doc, "PartNumberMarker", &marker.to_string());
    let mut next = marker;
    let mut listed = String::new();
    for (number, part) in all.iter().take(max) {
        next = *number;
        listed.push_str("<Part>");
        element(&mut listed, "PartNumber", &number.to_string());
        element(
            &mut listed,
            "LastModified",
            &s3_timestamp(part.meta.last_modified),
        );
        element(&mut listed, "ETag", &format!("\"{}\"", part.meta.etag));
        element(&mut listed, "Size", &part.meta.size.to_string());
        if let Some(checksum) = part.meta.checksum() {
            let tag = format!("Checksum{}", checksum.algorithm().name());
            element(&mut listed, &tag, &checksum.to_base64());
        }
        listed.push_str("</Part>");
    }
    element(&mut doc, "NextPartNumberMarker", &next.to_string());
    element(&mut doc, "MaxParts", &max.to_string());
    element(
        &mut doc,
        "IsTruncated",
        if truncated { "true" } else { "false" },
    );
    doc.push_str(&listed);
    doc.push_str("</ListPartsResult>");
    Ok(xml_response(StatusCode::OK, doc))
}

/// CompleteMultipartUpload: checks the list (order, ETags, part sizes), assembles the parts into a temporary file and commits it.
async fn complete_upload(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Response, S3Error> {
    let view = HeaderView(&parts.headers);
    let verified = authenticate(state, parts, &view)?;
    let upload = state.store.upload(upload_id, bucket, key).await?;
    let doc = small_body(&verified, body, MAX_COMPLETE_BODY).await?;
    let malformed = |msg: String| {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            format!(
                "The XML you provided was not well-formed or did not validate against our published schema: {msg}"
            ),
        )
    };
    let doc = String::from_utf8(doc).map_err(|_| malformed("not UTF-8".into()))?;
    let requested = xml::parse_complete(&doc).map_err(malformed)?;
    if requested.windows(2).any(|w| match w {
        [a, b] => a.number >= b.number,
        _ => false,
    }) {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        ));
    }

    let mut stored = state.store.parts(upload_id).await?;
    let invalid_part = |n: u32| {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidPart",
            "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
        )
        .with("PartNumber", n.to_string())
    };
    let mut chosen = Vec::with_capacity(requested.len());
    for (i, want) in requested.iter().enumerate() {
        let index = stored
            .iter()
            .position(|(n, _)| *n == want.number)
            .ok_or_else(|| invalid_part(want.number))?;
        let (_, part) = stored.swap_remove(index);
        if part.meta.etag != want.etag {
            return Err(invalid_part(want.number));
        }
        let last = i + 1 == requested.len();
        if !last && part.meta.size < state.min_part_size {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
            )
            .with("PartNumber", want.number.to_string())
            .with("MinSizeAllowed", state.min_part_size.to_string())
            .with("ProposedSize", part.meta.size.to_string()));
        }
        chosen.push(part);
    }

    // Assemble into a temporary file; the parts were verified when they were uploaded.
    let digests = BodyDigests::from_headers(&HeaderMap::new())?;
    let mut tmp = state
        .store
        .temp(digests, state.max_object_size)
        .await?
        .without_digests();
    let mut md5s = Vec::with_capacity(chosen.len());
    for part in chosen {
        let md5 = part
            .meta
            .md5
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or_else(|| S3Error::internal("a part has no MD5"))?;
        md5s.push(md5);
        part.copy_into(&mut tmp).await?;
    }
    let meta = ObjectMeta {
        key: key.to_owned(),
        etag: checksum::multipart_etag(&md5s),
        content_type: upload.content_type.clone(),
        metadata: upload.metadata.clone(),
        ..ObjectMeta::default()
    };
    let meta = tmp.commit_assembled(&state.store, bucket, meta).await?;
    state.store.remove_upload(upload_id).await?;

    let mut doc = format!("{DECLARATION}<CompleteMultipartUploadResult xmlns=\"{NS}\">");
    element(
        &mut doc,
        "Location",
        &format!("{}/{bucket}/{}", state.endpoint, encode_key(key)),
    );
    element(&mut doc, "Bucket", bucket);
    element(&mut doc, "Key", key);
    element(&mut doc, "ETag", &format!("\"{}\"", meta.etag));
    doc.push_str("</CompleteMultipartUploadResult>");
    Ok(xml_response(StatusCode::OK, doc))
}

/// AbortMultipartUpload: removes the upload and its parts.
async fn abort_upload(
    state: &AppState,
    parts: &Parts,
    body: Body,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Response, S3Error> {
    authenticate_bodiless(state, parts, body).await?;
    state.store.upload(upload_id, bucket, key).await?;
    state.store.remove_upload(upload_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_keys_verbatim() {
        let uri: Uri = "/bucket/a%20b//..%2Fc?uploadId=x&partNumber=2"
            .parse()
            .unwrap();
        let t = parse_target(&uri).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bucket"));
        assert_eq!(t.key.as_deref(), Some("a b//../c"));
        assert_eq!(t.param("partNumber"), Some("2"));
        let t = parse_target(&"/bucket/".parse().unwrap()).unwrap();
        assert!(t.key.is_none());
        assert!(parse_target(&"/Not_A_Bucket/k".parse().unwrap()).is_err());
        assert_eq!(encode_key("a b/c+d"), "a%20b/c%2Bd");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(Some("bytes=0-9"), 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range(Some("bytes=90-"), 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range(Some("bytes=-10"), 100).unwrap(), Some((90, 99)));
        assert_eq!(
            parse_range(Some("bytes=0-1000"), 100).unwrap(),
            Some((0, 99))
        );
        assert_eq!(parse_range(None, 100).unwrap(), None);
        assert_eq!(
            parse_range(Some("bytes=100-"), 100).unwrap_err().code(),
            "InvalidRange"
        );
    }
}
