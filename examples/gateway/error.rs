//! Errors the gateway answers with: S3 XML errors on the object endpoint, JSON on the API.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use presign::verify::VerifyError;
use serde_json::json;

/// An S3 error: status, code and message, rendered as the S3 XML error body.
///
/// Verification failures keep the library's [`VerifyError`] so that its own XML (with the
/// codes and details S3 clients parse) is what goes out.
///
/// Boxed: it travels in every `Result` of the request path, which should stay small.
#[derive(Debug)]
pub struct S3Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    code: &'static str,
    message: String,
    verify: Option<VerifyError>,
    /// Extra elements after `<Message>` (`<Key>`, `<UploadId>`, …).
    extra: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with its status, S3 code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        S3Error(Box::new(Inner {
            status,
            code,
            message: message.into(),
            verify: None,
            extra: Vec::new(),
        }))
    }

    /// Adds an element to the XML body.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.extra.push((name, value.into()));
        self
    }

    /// 501 `NotImplemented`: a feature this gateway does not have (yet).
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", message)
    }

    /// 500 `InternalError`; the cause goes to stderr, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        crate::log!("gateway: internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// 400 `InvalidArgument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    /// 400 `EntityTooLarge`, as S3 reports it.
    pub fn too_large(max: u64, proposed: u64) -> Self {
        VerifyError::EntityTooLarge {
            max_size_allowed: max,
            proposed_size: proposed,
        }
        .into()
    }

    /// 404 `NoSuchKey`.
    pub fn no_such_key(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .with("Key", key)
    }

    /// 404 `NoSuchUpload`.
    pub fn no_such_upload(upload_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    /// The S3 code.
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The S3 XML error body.
    fn to_xml(&self, request_id: &str) -> String {
        let inner = &self.0;
        if let Some(e) = &inner.verify {
            // The diagnostics (canonical request, string to sign) are what AWS returns on a
            // signature mismatch; they go only to the client that sent the request, and this
            // gateway issues no session tokens that they could leak.
            return e.to_xml_with_diagnostics(request_id);
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        crate::xml::element(&mut out, "Code", inner.code);
        crate::xml::element(&mut out, "Message", &inner.message);
        for (name, value) in &inner.extra {
            crate::xml::element(&mut out, name, value);
        }
        crate::xml::element(&mut out, "RequestId", request_id);
        out.push_str("</Error>");
        out
    }
}

impl From<VerifyError> for S3Error {
    /// Keeps the library's error, its status and code.
    fn from(e: VerifyError) -> Self {
        S3Error(Box::new(Inner {
            status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN),
            code: e.code(),
            message: e.message(),
            verify: Some(e),
            extra: Vec::new(),
        }))
    }
}

impl std::fmt::Display for S3Error {
    /// `status code: message`, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.0;
        write!(
            f,
            "{} {}: {}",
            inner.status.as_u16(),
            inner.code,
            inner.message
        )
    }
}

impl IntoResponse for S3Error {
    /// XML body, `application/xml`, and an `x-amz-request-id` header.
    fn into_response(self) -> Response {
        let request_id = crate::random_hex(8);
        let body = self.to_xml(&request_id);
        let mut response = (self.0.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-amz-request-id", v);
        }
        response
    }
}

/// An error of the JSON API: `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// 400 with a message saying what is wrong with the input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// An error with its status, a short machine-readable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many presign requests for this token; retry later",
            )
        }
    }
}

impl From<S3Error> for ApiError {
    /// The same status and code, as JSON.
    fn from(e: S3Error) -> Self {
        let inner = *e.0;
        ApiError::new(inner.status, inner.code, inner.message)
    }
}

impl IntoResponse for ApiError {
    /// `{"error", "message"}`, with `WWW-Authenticate` on 401 and `Retry-After` on 429.
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"presign-gateway\""),
            );
        }
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
