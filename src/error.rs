//! Errors of the signing side. The verifier has its own error type, with S3 error codes
//! ([`crate::verify::VerifyError`]).

/// Why a signing or presigning input was refused.
///
/// Every variant is a problem with the input: nothing is half-applied when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The access key id is empty or has characters a credential scope cannot carry.
    #[error("invalid access key id: {0}")]
    InvalidAccessKeyId(&'static str),
    /// The secret access key is empty.
    #[error("the secret access key is empty")]
    EmptySecretKey,
    /// The session token is empty or contains control characters.
    #[error("invalid session token: {0}")]
    InvalidSessionToken(&'static str),
    /// A region name that is empty or not made of `a-z`, `0-9` and `-`.
    #[error("invalid region {0:?}: expected lowercase letters, digits and '-'")]
    InvalidRegion(String),
    /// A service name that is empty or not made of `a-z`, `0-9` and `-`.
    #[error("invalid service {0:?}: expected lowercase letters, digits and '-'")]
    InvalidService(String),
    /// An expiry outside 1..=604800 seconds, or one that could not be read.
    #[error("invalid expiry: {0}")]
    InvalidExpiry(String),
    /// A signing time that is not representable (before year 0 or after 9999, or malformed).
    #[error("invalid signing time: {0}")]
    InvalidSigningTime(String),
    /// An HTTP method that is empty or not an RFC 9110 token.
    #[error("invalid HTTP method {0:?}")]
    InvalidMethod(String),
    /// A header name that is empty or not an RFC 9110 token.
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// A header value with control characters other than tab, CR and LF, or longer than
    /// [`crate::limits::MAX_HEADER_VALUE_LEN`].
    #[error(
        "invalid value for header {0:?}: control characters, or longer than MAX_HEADER_VALUE_LEN bytes"
    )]
    InvalidHeaderValue(String),
    /// A header this crate sets itself (`host`, `authorization`, `x-amz-date`, …) was given.
    #[error("header {0:?} is set by the signer and cannot be given")]
    ReservedHeader(String),
    /// A query parameter this crate sets itself (`X-Amz-Signature`, …) was given.
    #[error("query parameter {0:?} is set by the signer and cannot be given")]
    ReservedQueryParameter(String),
    /// The request has no `host` header.
    #[error("the request has no host header")]
    MissingHost,
    /// A path that does not start with `/`, or a `%` not followed by two hex digits.
    #[error("invalid path: {0}")]
    InvalidPath(&'static str),
    /// A `%` not followed by two hex digits in a query string.
    #[error("invalid query string: '%' must be followed by two hex digits")]
    InvalidQuery,
    /// A payload hash that is neither 64 hex digits nor one of the SigV4 literals.
    #[error("invalid payload hash {0:?}")]
    InvalidPayloadHash(String),
    /// More headers or query parameters than [`crate::limits`] allows.
    #[error("too many {what}: at most {limit}")]
    TooMany {
        /// What there were too many of.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A bucket name that breaks the S3 naming rules.
    #[error("invalid bucket name {name:?}: {reason}")]
    InvalidBucketName {
        /// The name given.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// An object key that is empty or longer than 1024 bytes.
    #[error("invalid object key: {0}")]
    InvalidKey(&'static str),
    /// An endpoint URL that cannot serve as an S3 endpoint.
    #[error("invalid endpoint {url:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A bucket name that cannot be used with the requested addressing style.
    #[error("bucket {bucket:?} cannot be addressed virtual-hosted style: {reason}")]
    AddressingStyle {
        /// The bucket.
        bucket: String,
        /// Why virtual-hosted style cannot be used.
        reason: &'static str,
    },
    /// The presigned URL cannot be represented by `url::Url` without changing it (for example a
    /// key with `.` or `..` segments, which `url` would remove).
    #[error("the presigned URL cannot be represented as url::Url without altering it: {0}")]
    UrlNotRepresentable(String),
    /// An S3 operation parameter outside what S3 accepts (a part number outside 1..=10000, a
    /// checksum that is not the base64 of a digest, a metadata name given twice, …).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter (its query or header name).
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// An aws-chunked chunk size of zero, or one that needs more than 8 hex digits.
    #[error("invalid aws-chunked chunk size {0}: expected 1 to 4294967295 bytes")]
    InvalidChunkSize(u64),
    /// An aws-chunked body longer or shorter than its declared decoded length.
    #[error("the body has {provided} bytes, but {declared} were declared")]
    BodyLength {
        /// The decoded length declared up front (`x-amz-decoded-content-length`).
        declared: u64,
        /// The bytes given so far.
        provided: u64,
    },
}
