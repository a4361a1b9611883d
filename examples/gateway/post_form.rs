//! Browser POST form uploads (`POST /{bucket}`, `multipart/form-data`) and the presign API's
//! `"action": "post"`.
//!
//! PENDING `presign::post` (being built on another branch). Two functions wait for it, and
//! answer `501 NotImplemented` until then:
//!
//! - [`presign_post`]: build the policy (bucket, key, content type, `content-length-range`,
//!   expiry) with the `presign::post` builder and return its action URL and ordered fields.
//! - [`verify_form`]: hand the bucket (from the request target), the fields in order, the
//!   file name and `now` to the form verifier, and turn what it grants into a [`FormGrant`].
//!
//! Everything else is here and runs: the form is parsed as it streams, fields before the file
//! are collected (bounded), the form is verified before a byte of the file is read, the file
//! streams into a temporary file under the policy's size limits, and only then is the object
//! committed and the S3 success response (204, 201 with XML, or a 303 redirect) sent.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use presign::s3::Bucket;
use presign::verify::VerifyError;
use presign::{Expiry, SigningTime};
use serde_json::Value;

use crate::AppState;
use crate::api::PresignBody;
use crate::checksum::BodyDigests;
use crate::error::{ApiError, S3Error};
use crate::storage::ObjectMeta;

/// S3's limit on the form fields before the file.
const MAX_FIELDS_BYTES: usize = 20 * 1024;
/// More fields than any policy form needs.
const MAX_FIELDS: usize = 64;

/// The presign API's `"action": "post"`: the form's action URL and fields, in order.
/// NOT IMPLEMENTED until `presign::post` lands.
pub fn presign_post(
    state: &AppState,
    bucket: &Bucket<'_>,
    req: &PresignBody,
    now: SigningTime,
    expires: Expiry,
) -> Result<Value, ApiError> {
    // To be: presign::post::… for (state.endpoint, bucket, req.key with an optional
    // `${filename}`, req.content_type, 0..=req.max_size.unwrap_or(state.max_object_size))
    // signed by state.keys.signer() at `now` for `expires`; answer
    // {"url", "method": "POST", "fields": [[name, value], …], "expires"}.
    let max_size = req.max_size.unwrap_or(state.max_object_size);
    let _ = (bucket, now, expires, max_size);
    Err(S3Error::not_implemented(
        "POST policy forms need presign::post, which this build does not have yet",
    )
    .into())
}

/// What a verified form allows.
pub struct FormGrant {
    /// The object key (`${filename}` already substituted).
    pub key: String,
    /// The `Content-Type` field, stored with the object.
    pub content_type: Option<String>,
    /// The policy's `content-length-range`.
    pub min_size: u64,
    /// The policy's `content-length-range` upper bound.
    pub max_size: u64,
    /// `x-amz-meta-*` fields.
    pub metadata: Vec<(String, String)>,
    /// `success_action_status` (200, 201 or 204).
    pub success_action_status: Option<u16>,
    /// `success_action_redirect` (or `redirect`).
    pub success_action_redirect: Option<String>,
}

/// Verifies the policy form: signature, expiry, every condition of the policy against the
/// fields. NOT IMPLEMENTED until `presign::post` lands.
pub fn verify_form(
    state: &AppState,
    bucket: &str,
    fields: &[(String, String)],
    file_name: &str,
    now: SigningTime,
) -> Result<FormGrant, S3Error> {
    // To be: state.keys.verifier() with presign::post's form verifier (bucket from the
    // request target, fields in order, file name, now) → FormGrant from what it returns.
    let _ = (state, bucket, fields, file_name, now);
    Err(S3Error::not_implemented(
        "POST policy forms need presign::post, which this build does not have yet",
    ))
}

/// `POST /{bucket}` with a `multipart/form-data` body.
pub async fn handle(
    state: &AppState,
    bucket: &str,
    parts: &Parts,
    body: Body,
) -> Result<Response, S3Error> {
    let malformed = |msg: &str| S3Error::from(VerifyError::MalformedPostRequest(msg.to_owned()));
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        malformed("The body of your POST request is not well-formed multipart/form-data.")
    })?;
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);

    // Fields, in order, up to the file; S3 ignores what follows the file.
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut fields_bytes = 0usize;
    let (mut file, file_name) = loop {
        let mut field = form
            .next_field()
            .await
            .map_err(|_| {
                malformed("The body of your POST request is not well-formed multipart/form-data.")
            })?
            .ok_or_else(|| {
                S3Error::invalid_argument("POST requires exactly one file upload per request.")
            })?;
        let name = field.name().unwrap_or("").to_owned();
        if name.eq_ignore_ascii_case("file") {
            let file_name = field.file_name().unwrap_or("").to_owned();
            break (field, file_name);
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(crate::body::read_error)? {
            fields_bytes += chunk.len();
            if fields_bytes + name.len() > MAX_FIELDS_BYTES {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceding the upload file were too large.",
                ));
            }
            value.extend_from_slice(&chunk);
        }
        fields_bytes += name.len();
        let value =
            String::from_utf8(value).map_err(|_| malformed("A form field is not UTF-8."))?;
        fields.push((name, value));
        if fields.len() > MAX_FIELDS {
            return Err(malformed("Too many form fields."));
        }
    };

    // The policy is checked before a byte of the file is read.
    let grant = verify_form(state, bucket, &fields, &file_name, SigningTime::now())?;

    let limit = grant.max_size.min(state.max_object_size);
    let mut tmp = state
        .store
        .temp(BodyDigests::from_headers(&Default::default())?, limit)
        .await?;
    // Past the policy's maximum, `write` refuses with EntityTooLarge before storing more.
    while let Some(chunk) = file.chunk().await.map_err(crate::body::read_error)? {
        tmp.write(&chunk).await?;
    }
    if tmp.written() < grant.min_size {
        return Err(VerifyError::EntityTooSmall {
            min_size_allowed: grant.min_size,
            proposed_size: tmp.written(),
        }
        .into());
    }
    let meta = ObjectMeta {
        key: grant.key.clone(),
        content_type: grant.content_type.clone(),
        metadata: grant.metadata.clone(),
        ..ObjectMeta::default()
    };
    let meta = state.store.commit_object(tmp, bucket, meta).await?;
    Ok(success_response(state, bucket, &grant, &meta))
}

/// S3's answer to a successful POST: a redirect, 200/201 (with the XML document) or 204.
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
    if let Some(redirect) = &grant.success_action_redirect {
        let mut url = redirect.clone();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("bucket", bucket)
                .append_pair("key", &meta.key)
                .append_pair("etag", &etag)
                .finish(),
        );
        if let Ok(v) = HeaderValue::from_str(&url) {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response();
        }
    }
    let mut response = match grant.success_action_status {
        Some(201) => {
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
        Some(200) => StatusCode::OK.into_response(),
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
