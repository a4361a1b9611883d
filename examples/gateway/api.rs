//! The presign API, as storage providers offer it: an application holding a bearer token asks
//! for a URL, and hands the URL to a browser that uploads or downloads without credentials.
//!
//! `POST /api/storage/buckets/{bucket}/presign` with
//! `{"key", "action": "upload" | "download" | "post", "expires": "15m" | 900, "content_type"}`
//! answers `{"url", "method", "headers", "expires", "expires_in"}`; for `"post"` (a browser
//! form, see [`crate::post_form::presign_post`]: `max_size`, a key ending in `${filename}`, a
//! content-type prefix) `{"url", "method": "POST", "fields": [[name, value], …], "expires",
//! "expires_in"}`.

use std::num::NonZeroU32;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use presign::s3::{Bucket, GetObject, PutObject, validate_key};
use presign::{Expiry, SigningTime};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::{Shared, rfc3339};

/// Bearer tokens and their rate limiter.
pub struct ApiAuth {
    /// SHA-256 of each token: compared digest to digest, so the comparison's timing says
    /// nothing about the token.
    token_digests: Vec<[u8; 32]>,
    /// Presigns per minute, per token.
    limiter: DefaultKeyedRateLimiter<usize>,
}

impl ApiAuth {
    /// Accepts `tokens`, each allowed `per_minute` presigns a minute (bursts up to that many).
    pub fn new(tokens: &[String], per_minute: NonZeroU32) -> Self {
        ApiAuth {
            token_digests: tokens
                .iter()
                .map(|t| Sha256::digest(t.as_bytes()).into())
                .collect(),
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// The index of the token the request carries, or 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<usize, ApiError> {
        let unauthorized = |msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg);
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <token>"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("expected Authorization: Bearer <token>"))?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.token_digests
            .iter()
            .position(|d| *d == digest)
            .ok_or_else(|| unauthorized("invalid token"))
    }

    /// Counts one presign against the token's quota; 429 with `Retry-After` when spent.
    pub fn charge(&self, token: usize) -> Result<(), ApiError> {
        self.limiter.check_key(&token).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }
}

/// `expires`: seconds, or a duration string (`15m`, `1h`, `7d`).
#[derive(Deserialize)]
#[serde(untagged)]
pub enum ExpiresIn {
    /// Seconds.
    Secs(u64),
    /// `900`, `15m`, `1h30m`, `7d`.
    Text(String),
}

/// The body of a presign request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresignBody {
    /// The object key, used verbatim (for a POST form it may end in `${filename}`).
    pub key: String,
    /// `upload`, `download` or `post`.
    pub action: String,
    /// How long the URL is valid (default 15 minutes, at most 7 days).
    pub expires: Option<ExpiresIn>,
    /// For uploads: the `Content-Type` the client must send (it is signed); for POST forms
    /// the `Content-Type` field's value or prefix (`image/*`).
    pub content_type: Option<String>,
    /// For downloads: a file name for `Content-Disposition: attachment`.
    pub filename: Option<String>,
    /// For POST forms: the largest file accepted, in bytes.
    pub max_size: Option<u64>,
}

/// `POST /api/storage/buckets/{bucket}/presign`.
pub async fn presign(
    State(state): State<Shared>,
    Path(bucket): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let token = state.api.authenticate(&headers)?;
    let req: PresignBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let bucket_name = Bucket::new(&bucket)
        .map_err(|e| ApiError::bad_request(format!("invalid bucket name: {e}")))?;
    validate_key(&req.key).map_err(|e| ApiError::bad_request(format!("invalid key: {e}")))?;
    if req.key.chars().any(char::is_control) {
        // S3 accepts them, but they are never what a web client meant and they break
        // headers and logs downstream.
        return Err(ApiError::bad_request(
            "invalid key: control characters are not allowed",
        ));
    }
    let expires = match &req.expires {
        None => Expiry::from_secs(900),
        Some(ExpiresIn::Secs(s)) => Expiry::from_secs(*s),
        Some(ExpiresIn::Text(t)) => t.parse(),
    }
    .map_err(|e| ApiError::bad_request(format!("invalid expires: {e}")))?;
    // Input errors are not charged: only URLs actually minted count.
    state.api.charge(token)?;

    let signer = state.keys.signer();
    let now = SigningTime::now();
    let disposition = req
        .filename
        .as_deref()
        .map(|f| format!("attachment; filename=\"{}\"", f.replace(['"', '\\'], "_")));
    let presigned = match req.action.as_str() {
        "upload" => {
            let mut put = PutObject::new(&state.endpoint, &bucket_name, &req.key);
            if let Some(ct) = &req.content_type {
                put = put.content_type(ct);
            }
            put.presign(&signer, now, expires)
        }
        "download" => {
            let mut get = GetObject::new(&state.endpoint, &bucket_name, &req.key);
            if let Some(d) = &disposition {
                get = get.response_content_disposition(d);
            }
            get.presign(&signer, now, expires)
        }
        "post" => {
            return crate::post_form::presign_post(&state, &bucket_name, &req, now, expires)
                .map(|v| Json(v).into_response());
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid action {other:?}: expected \"upload\", \"download\" or \"post\""
            )));
        }
    }
    .map_err(|e| ApiError::bad_request(e.to_string()))?;

    let headers: Map<String, Value> = presigned
        .headers()
        .map(|(n, v)| (n.to_owned(), Value::from(v)))
        .collect();
    Ok(Json(json!({
        "url": presigned.url(),
        "method": presigned.method(),
        "headers": headers,
        "expires": rfc3339(presigned.expires_at()),
        "expires_in": expires.as_secs(),
    }))
    .into_response())
}

/// `GET /api/storage/buckets/{bucket}/objects`: what the bucket holds (for the web page).
pub async fn list_objects(
    State(state): State<Shared>,
    Path(bucket): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.api.authenticate(&headers)?;
    Bucket::new(&bucket).map_err(|e| ApiError::bad_request(format!("invalid bucket name: {e}")))?;
    let objects: Vec<Value> = state
        .store
        .list(&bucket)
        .await?
        .into_iter()
        .map(|o| {
            json!({
                "key": o.key,
                "size": o.size,
                "etag": o.etag,
                "content_type": o.content_type,
                "last_modified": crate::unix_rfc3339(o.last_modified),
            })
        })
        .collect();
    Ok(Json(json!({ "bucket": bucket, "objects": objects })).into_response())
}
