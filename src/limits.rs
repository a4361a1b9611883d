//! Every resource bound of the crate, in one place.
//!
//! The signer and the verifier do bounded work for any input: each structure they walk has a
//! limit below, and going past it is a typed error, never a larger allocation. The values are
//! far above what S3 clients send (an SDK request carries well under 20 query parameters and 30
//! headers) and low enough that the worst case stays a few microseconds.

/// Query parameters in one request (auth parameters included).
pub const MAX_QUERY_PAIRS: usize = 64;

/// Bytes of the raw request target (path and query) the verifier reads.
pub const MAX_REQUEST_TARGET_LEN: usize = 16 * 1024;

/// Headers the verifier looks at in one request.
pub const MAX_HEADERS: usize = 128;

/// Bytes of one header value the verifier canonicalizes.
pub const MAX_HEADER_VALUE_LEN: usize = 16 * 1024;

/// Names in `SignedHeaders` (and headers the signer signs).
pub const MAX_SIGNED_HEADERS: usize = 64;

/// Bytes of the `Authorization` header.
pub const MAX_AUTHORIZATION_LEN: usize = 4 * 1024;

/// Bytes of a session token.
pub const MAX_SESSION_TOKEN_LEN: usize = 4 * 1024;

/// Bytes of one aws-chunked chunk header line (`<hex size>;chunk-signature=<64 hex>`), its CRLF
/// included. A signed header is 84 bytes at most; the cap leaves room for whitespace around `;`
/// and `=` and still stops a peer that never sends a line end.
pub const MAX_CHUNK_HEADER_LEN: usize = 4 * 1024;

/// Hex digits of an aws-chunked chunk size (leading zeros included): 8 digits reach 4 GiB - 1,
/// far past any chunk cap, and a longer size is refused before it is parsed.
pub const MAX_CHUNK_SIZE_DIGITS: usize = 8;

/// The default largest aws-chunked chunk the decoder accepts, and so buffers (MinIO's cap).
/// SDKs send 64 KiB (JS, Java) to 1 MiB (botocore) chunks.
pub const DEFAULT_MAX_CHUNK_SIZE: usize = 16 * 1024 * 1024;

/// Bytes of the aws-chunked trailer section (every trailer line and the trailer signature,
/// CRLFs included). One checksum and the signature take under 200 bytes.
pub const MAX_TRAILER_LEN: usize = 16 * 1024;

/// The smallest non-final aws-chunked chunk S3 accepts; enforced in the decoder's strict mode.
pub const MIN_CHUNK_SIZE: usize = 8 * 1024;

/// The largest `x-amz-decoded-content-length` the decoder accepts: S3's maximum object size
/// (5 TiB).
pub const MAX_DECODED_CONTENT_LENGTH: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// Bytes of a browser POST form before the file: every field's name and value, added up. S3
/// refuses more than 20 KB of form data excluding the file (`MaxPostPreDataLengthExceeded`,
/// 20480 bytes); the builder refuses to make a larger form.
pub const MAX_POST_FORM_BYTES: usize = 20 * 1024;

/// Fields of a browser POST form before the file. An SDK form has 6 to 15.
pub const MAX_POST_FIELDS: usize = 128;

/// Bytes of one POST form field name (`x-amz-meta-…` names included).
pub const MAX_POST_FIELD_NAME_LEN: usize = 1024;

/// Bytes of the base64 `policy` field of a POST form (also counted in
/// [`MAX_POST_FORM_BYTES`]). SDK policies are well under 4 KiB.
pub const MAX_POST_POLICY_LEN: usize = 16 * 1024;

/// Conditions in one POST policy document.
pub const MAX_POST_POLICY_CONDITIONS: usize = 256;
