#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Non-test code cannot panic on input: each remaining `allow` of these says why it cannot fire.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

// The SigV4 pipeline, in order: credentials and scope → canonical request → string to sign →
// signing key → presign / sign → verify. S3 specifics live in `s3`.
pub mod canonical;
pub mod chunked;
pub mod credentials;
#[cfg(feature = "post")]
pub mod post;
pub mod presign;
pub mod s3;
pub mod scope;
pub mod signer;
pub mod signing_key;
pub mod string_to_sign;
mod time;
pub mod verify;

mod encoding;
mod error;
pub mod limits;
mod sink;

pub use crate::canonical::{
    CanonicalRequest, Headers, PayloadHash, SignableRequest, UNSIGNED_HEADERS, UriEncoding,
    canonical_request,
};
pub use crate::credentials::Credentials;
pub use crate::error::Error;
pub use crate::presign::{PresignRequest, PresignedRequest};
pub use crate::scope::Scope;
pub use crate::signer::{AuthHeaders, Signer};
pub use crate::signing_key::{Signature, SignatureHex, SigningKey};
pub use crate::string_to_sign::{ALGORITHM, string_to_sign};
pub use crate::time::{AmzDate, Expiry, MAX_EXPIRY_SECS, SigningTime};
