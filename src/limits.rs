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
