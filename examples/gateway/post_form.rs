//! Browser POST form uploads (`POST /{bucket}`, `multipart/form-data`) and the presign API's
//! `"action": "post"`, both on `presign::post`.
//!
//! - [`presign_post`] builds the form with [`PresignedPost::builder`]: the key (exact, or a
//!   prefix and `${filename}`), the content type (exact, or a prefix), the
//!   `content-length-range` and the expiry; the page gets the action URL and the fields, in
//!   order.
//! - [`handle`] parses the form as it streams: the fields before the file are collected
//!   (bounded), [`verify_form`] checks them with the verifier before a byte of the file is
//!   read, the file streams through the policy's length checker into a temporary file (an
//!   oversized file is refused as soon as it passes the maximum, and nothing of it is kept
//!   in memory), and only once the checker's `finish` accepts the size is the object renamed
//!   into place and S3's success answer sent (204, 200, 201 with XML, or a 303 redirect).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use presign::post::{FILENAME_VARIABLE, FileLengthChecker, IncomingPost, PostKey, PresignedPost};
use presign::s3::Bucket;
use presign::verify::VerifyError;
use presign::{Expiry, SigningTime};
use serde_json::{Value, json};

use crate::AppState;
use crate::api::PresignBody;
use crate::checksum::BodyDigests;
use crate::error::{ApiError, S3Error};
use crate::storage::ObjectMeta;

/// S3's limit on the form fields before the file.
const MAX_FIELDS_BYTES: usize = 20 * 1024;
/// More fields than any policy form needs.
const MAX_FIELDS: usize = 64;
/// The most body bytes read before the file part starts: the fields, their part headers and
/// boundaries, and the first frame of the file, which may arrive with them. Bounds what the
/// multipart parser can be made to buffer by part headers that never end.
const MAX_PRE_FILE_BYTES: u64 = 1024 * 1024;
/// The most read (and ignored) after the file, as S3 ignores it.
const MAX_AFTER_FILE_BYTES: usize = 64 * 1024;

/// The presign API's `"action": "post"`: `{"url", "method": "POST", "fields": [[name, value],
/// …], "expires", "expires_in"}`, the fields in the order the form must send them, before
/// the file.
///
/// `key` is exact, unless it ends with `${filename}`: then the key is that prefix and the
/// name of the file the user picks. `content_type` is exact, unless it ends with `/` or `/*`
/// (`image/`, `image/*`: any type starting `image/`) or is `*` (any). The file may have
/// `0..=max_size` bytes (default and upper bound: the gateway's largest object).
pub fn presign_post(
    state: &AppState,
    bucket: &Bucket<'_>,
    req: &PresignBody,
    now: SigningTime,
    expires: Expiry,
) -> Result<Value, ApiError> {
    if req.filename.is_some() {
        return Err(ApiError::bad_request(
            "filename is for downloads: a POST form takes the file's name with a key ending in ${filename}",
        ));
    }
    let max_size = req.max_size.unwrap_or(state.max_object_size);
    if max_size > state.max_object_size {
        return Err(ApiError::bad_request(format!(
            "max_size {max_size} is larger than this gateway's largest object ({} bytes)",
            state.max_object_size
        )));
    }
    let key = match req.key.strip_suffix(FILENAME_VARIABLE) {
        Some(prefix) => PostKey::with_filename(prefix),
        None => PostKey::exact(req.key.as_str()),
    };
    let mut builder = PresignedPost::builder(&state.endpoint, bucket, key)
        .expires_in(expires)
        .content_length_range(0, max_size);
    if let Some(content_type) = &req.content_type {
        builder = match content_type_prefix(content_type) {
            Some(prefix) => builder.content_type_starts_with(prefix),
            None => builder.content_type(content_type.as_str()),
        };
    }
    let form = builder
        .sign(&state.keys.signer(), now)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields: Vec<Value> = form.fields().map(|(n, v)| json!([n, v])).collect();
    Ok(json!({
        "url": form.url(),
        "method": "POST",
        "fields": fields,
        "expires": crate::rfc3339(form.expires_at()),
        "expires_in": expires.as_secs(),
    }))
}

/// The prefix a `content_type` of the presign API stands for (`image/*` and `image/` are
/// `image/`, `*` is any), or `None` for an exact type.
fn content_type_prefix(content_type: &str) -> Option<&str> {
    if content_type == "*" || content_type == "*/*" {
        return Some("");
    }
    if let Some(prefix) = content_type.strip_suffix('*') {
        return prefix.ends_with('/').then_some(prefix);
    }
    content_type.ends_with('/').then_some(content_type)
}

/// What a verified form allows.
pub struct FormGrant {
    /// The object key (`${filename}` already substituted).
    pub key: String,
    /// The `Content-Type` field, stored with the object.
    pub content_type: Option<String>,
    /// `x-amz-meta-*` fields, names lowercase without the prefix.
    pub metadata: Vec<(String, String)>,
    /// The status of the success answer: 200, 201 or 204 (S3's default, and its answer to
    /// any other value).
    pub success_action_status: u16,
    /// `success_action_redirect` (or `redirect`), as the form gave it.
    pub success_action_redirect: Option<String>,
    /// The policy's `content-length-range`, checked as the file streams.
    pub length: FileLengthChecker,
}

/// Verifies the policy form with the gateway's keys: `bucket` is the bucket of the request
/// target (never a form field), `fields` the fields before the file in order, `file_name` the
/// file part's `filename`. Signature, expiry and every condition of the policy are checked;
/// a failure is the library's S3 error (code, status and XML).
pub fn verify_form(
    state: &AppState,
    bucket: &str,
    fields: &[(String, String)],
    file_name: Option<&str>,
    now: SigningTime,
) -> Result<FormGrant, S3Error> {
    let mut post = IncomingPost::new(bucket, fields);
    if let Some(name) = file_name {
        post = post.with_file_name(name);
    }
    let verified = state.keys.verifier().verify_post(&post, now)?;
    let metadata: Vec<(String, String)> = verified
        .metadata()
        .map(|(name, value)| (name, value.to_owned()))
        .collect();
    crate::s3::check_metadata_size(&metadata)?;
    Ok(FormGrant {
        key: verified.key().to_owned(),
        content_type: verified.content_type().map(str::to_owned),
        metadata,
        success_action_status: verified.success_action_status(),
        success_action_redirect: verified.success_action_redirect().map(str::to_owned),
        length: verified.length_checker(),
    })
}

/// The body of a form, counted: past [`MAX_PRE_FILE_BYTES`] before the file part starts it
/// ends with an error (and `over` says why).
fn counted_body(
    body: Body,
    file_started: Arc<AtomicBool>,
    over: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let mut read = 0u64;
    body.into_data_stream().map(move |frame| {
        let frame = frame.map_err(std::io::Error::other)?;
        read = read.saturating_add(frame.len() as u64);
        if read > MAX_PRE_FILE_BYTES && !file_started.load(Ordering::Relaxed) {
            over.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("too much data before the file"));
        }
        Ok(frame)
    })
}

/// S3's answer to fields before the file that are too large.
fn pre_data_too_large() -> S3Error {
    S3Error::new(
        StatusCode::BAD_REQUEST,
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceding the upload file were too large.",
    )
}

/// `POST /{bucket}` with a `multipart/form-data` body: fields, verification, the file
/// streamed under the policy's size range, then the commit and S3's success answer.
pub async fn handle(
    state: &AppState,
    bucket: &str,
    parts: &Parts,
    body: Body,
) -> Result<Response, S3Error> {
    let malformed = || {
        S3Error::from(VerifyError::MalformedPostRequest(
            "The body of your POST request is not well-formed multipart/form-data.".to_owned(),
        ))
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
    let file_started = Arc::new(AtomicBool::new(false));
    let over = Arc::new(AtomicBool::new(false));
    let stream = counted_body(body, Arc::clone(&file_started), Arc::clone(&over));
    let mut form = multer::Multipart::new(stream, boundary);
    // What a parse error means: too much before the file, a body that could not be read, or
    // a malformed form.
    let form_error = |e: multer::Error| {
        if over.load(Ordering::Relaxed) {
            pre_data_too_large()
        } else if let multer::Error::StreamReadFailed(cause) = e {
            crate::body::read_error(cause)
        } else {
            malformed()
        }
    };

    // Fields, in order, up to the file; S3 ignores what follows the file.
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut fields_bytes = 0usize;
    let (mut file, file_name) = loop {
        let mut field = form
            .next_field()
            .await
            .map_err(form_error)?
            .ok_or_else(|| {
                S3Error::invalid_argument("POST requires exactly one file upload per request.")
            })?;
        let name = field.name().unwrap_or("").to_owned();
        if name.eq_ignore_ascii_case("file") {
            file_started.store(true, Ordering::Relaxed);
            let file_name = field.file_name().map(str::to_owned);
            break (field, file_name);
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(form_error)? {
            fields_bytes += chunk.len();
            if fields_bytes + name.len() > MAX_FIELDS_BYTES {
                return Err(pre_data_too_large());
            }
            value.extend_from_slice(&chunk);
        }
        fields_bytes += name.len();
        let value = String::from_utf8(value).map_err(|_| {
            S3Error::from(VerifyError::MalformedPostRequest(
                "A form field is not UTF-8.".to_owned(),
            ))
        })?;
        fields.push((name, value));
        if fields.len() > MAX_FIELDS {
            return Err(
                VerifyError::MalformedPostRequest("Too many form fields.".to_owned()).into(),
            );
        }
    };

    // The policy is checked before a byte of the file is read.
    let grant = verify_form(
        state,
        bucket,
        &fields,
        file_name.as_deref(),
        SigningTime::now(),
    )?;
    let mut length = grant.length.clone();
    // The gateway's own limit is the temporary file's; the policy's is the length checker's.
    let mut tmp = state
        .store
        .temp(
            BodyDigests::from_headers(&HeaderMap::new())?,
            state.max_object_size,
        )
        .await?;
    while let Some(chunk) = file.chunk().await.map_err(form_error)? {
        // Past the policy's maximum: EntityTooLarge now, with the rest of the file unread.
        length.update(&chunk)?;
        tmp.write(&chunk).await?;
    }
    // Below the policy's minimum: EntityTooSmall; the temporary file is removed on drop.
    length.finish()?;
    drop(file);
    let meta = ObjectMeta {
        key: grant.key.clone(),
        content_type: grant.content_type.clone(),
        metadata: grant.metadata.clone(),
        ..ObjectMeta::default()
    };
    let meta = state.store.commit_object(tmp, bucket, meta).await?;
    skip_after_file(&mut form).await;
    Ok(success_response(state, bucket, &grant, &meta))
}

/// Reads and ignores what follows the file part (S3 ignores it too), up to
/// [`MAX_AFTER_FILE_BYTES`], so that a well-formed form is read to its end.
async fn skip_after_file(form: &mut multer::Multipart<'_>) {
    let mut budget = MAX_AFTER_FILE_BYTES;
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            budget = budget.saturating_sub(chunk.len());
            if budget == 0 {
                return;
            }
        }
    }
}

/// `success_action_redirect` as S3 uses it: an absolute http(s) URL, else ignored ("if Amazon
/// S3 cannot interpret the URL, it acts as if the field is not present"), with `bucket`, `key`
/// and `etag` appended to its query.
fn redirect_url(redirect: &str, bucket: &str, key: &str, etag: &str) -> Option<HeaderValue> {
    let mut url = url::Url::parse(redirect).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.query_pairs_mut()
        .append_pair("bucket", bucket)
        .append_pair("key", key)
        .append_pair("etag", etag);
    HeaderValue::from_str(url.as_str()).ok()
}

/// S3's answer to a successful POST: a 303 redirect, 200 (empty), 201 (the `PostResponse`
/// document) or 204, with the object's `ETag` and `Location`.
fn success_response(
    state: &AppState,
    bucket: &str,
    grant: &FormGrant,
    meta: &ObjectMeta,
) -> Response {
    let etag = format!("\"{}\"", meta.etag);
    let location = format!(
        "{}/{}/{}",
        state.endpoint,
        bucket,
        crate::s3::encode_key(&meta.key)
    );
    if let Some(to) = grant
        .success_action_redirect
        .as_deref()
        .and_then(|r| redirect_url(r, bucket, &meta.key, &etag))
    {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    }
    let mut response = match grant.success_action_status {
        201 => {
            let mut doc = String::from(crate::xml::DECLARATION);
            doc.push_str("<PostResponse>");
            crate::xml::element(&mut doc, "Location", &location);
            crate::xml::element(&mut doc, "Bucket", bucket);
            crate::xml::element(&mut doc, "Key", &meta.key);
            crate::xml::element(&mut doc, "ETag", &etag);
            doc.push_str("</PostResponse>");
            (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/xml")],
                doc,
            )
                .into_response()
        }
        200 => StatusCode::OK.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_prefixes() {
        assert_eq!(content_type_prefix("image/*"), Some("image/"));
        assert_eq!(content_type_prefix("image/"), Some("image/"));
        assert_eq!(content_type_prefix("*"), Some(""));
        assert_eq!(content_type_prefix("*/*"), Some(""));
        assert_eq!(content_type_prefix("image/png"), None);
        assert_eq!(content_type_prefix("text*"), None);
    }

    #[test]
    fn redirects_are_absolute_http_urls_with_the_object_appended() {
        let to = redirect_url("https://app.example/done?x=1", "b", "a b.txt", "\"e\"").unwrap();
        assert_eq!(
            to.to_str().unwrap(),
            "https://app.example/done?x=1&bucket=b&key=a+b.txt&etag=%22e%22"
        );
        assert!(redirect_url("/relative", "b", "k", "e").is_none());
        assert!(redirect_url("javascript:alert(1)", "b", "k", "e").is_none());
    }
}
