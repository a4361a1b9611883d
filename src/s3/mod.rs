//! Amazon S3 (and S3-compatible servers): presigned URLs for the object operations.
//!
//! # Presigning a request
//!
//! Four values go into every URL, each built once and reused:
//!
//! 1. a [`Signer`](crate::Signer) for the region and service `s3`;
//! 2. an [`Endpoint`]: [`Endpoint::aws`] for a region, or [`Endpoint::parse`] for an
//!    S3-compatible server (`http://127.0.0.1:9000`, `https://storage.example.com/prefix`);
//! 3. a [`Bucket`], whose name is checked against the S3 naming rules;
//! 4. an operation ([`GetObject`], [`PutObject`], …) with its key and parameters.
//!
//! The operation's `presign(&signer, time, expiry)` returns a
//! [`PresignedRequest`](crate::PresignedRequest): the URL, the method, and the headers the
//! client must send with exactly those values (every header the URL signs, besides `host`).
//!
//! ```
//! use presign::s3::{Bucket, Endpoint, PutObject};
//! use presign::{Credentials, Expiry, Signer, SigningTime};
//!
//! let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")?;
//! let signer = Signer::new(creds, "eu-west-1", "s3")?;
//! let endpoint = Endpoint::aws("eu-west-1")?;
//! let bucket = Bucket::new("examplebucket")?;
//!
//! let upload = PutObject::new(&endpoint, &bucket, "uploads/report 2024.pdf")
//!     .content_type("application/pdf")
//!     .presign(&signer, SigningTime::parse_amz_date("20240101T000000Z")?, "15m".parse::<Expiry>()?)?;
//!
//! assert!(upload.url().starts_with(
//!     "https://examplebucket.s3.eu-west-1.amazonaws.com/uploads/report%202024.pdf?"));
//! assert_eq!(upload.method(), "PUT");
//! assert_eq!(upload.headers().collect::<Vec<_>>(), [("content-type", "application/pdf")]);
//! # Ok::<(), presign::Error>(())
//! ```
//!
//! Nothing reads the clock or the network: the time is a parameter (use
//! [`SigningTime::now`](crate::SigningTime::now) in a service).
//!
//! # Addressing
//!
//! | endpoint | default style | object URL |
//! | --- | --- | --- |
//! | `Endpoint::aws("us-east-1")` | [`AddressingStyle::Auto`] | `https://bucket.s3.amazonaws.com/key` |
//! | `Endpoint::aws("eu-west-1")` | `Auto` | `https://bucket.s3.eu-west-1.amazonaws.com/key` |
//! | `Endpoint::aws("cn-north-1")` | `Auto` | `https://bucket.s3.cn-north-1.amazonaws.com.cn/key` |
//! | `Endpoint::parse("http://127.0.0.1:9000")` | [`AddressingStyle::Path`] | `http://127.0.0.1:9000/bucket/key` |
//! | `Endpoint::parse("https://s.example.com/p")` | `Path` | `https://s.example.com/p/bucket/key` |
//!
//! * `Auto` is virtual-hosted style unless the bucket cannot be a host name there: a
//!   dotted bucket over https (it would not match the `*.s3…` wildcard certificate), a legacy
//!   name with uppercase letters or `_` ([`Bucket::new_legacy`]), or an endpoint whose host is
//!   an IP address. Then it is path style.
//! * [`Endpoint::with_addressing_style`] asks for a style. Virtual-hosted style on a custom
//!   endpoint gives `bucket.storage.example.com`; it is refused
//!   ([`Error::AddressingStyle`](crate::Error::AddressingStyle)) for IP-address hosts and
//!   legacy names.
//! * Bucket-level requests ([`ListObjectsV2`], [`S3Request::bucket`]) go to `/bucket` path
//!   style and `/` virtual-hosted, as the AWS SDKs send them.
//! * The signed `host` is the URL's authority, lowercase, with a non-default port and without
//!   a default one (`:443` with https, `:80` with http): what HTTP clients send.
//!
//! # Keys
//!
//! A key is used exactly as given, encoded once: `a b` is sent as `a%20b`, the three
//! characters `%20` as `%2520`, and `a//b`, `./x` or a leading `/` are kept (S3 keys are not
//! paths). Keys must be 1 to 1024 bytes ([`validate_key`]). To turn an uploaded file's name
//! into a key, call [`safe_key_from_filename`] explicitly; no operation changes a key.

mod actions;
mod bucket;
mod endpoint;
mod key;

pub use actions::{
    AbortMultipartUpload, ChecksumAlgorithm, CompleteMultipartUpload, CreateMultipartUpload,
    DeleteObject, GetObject, HeadObject, ListObjectsV2, ListParts, MAX_METADATA_BYTES, PutObject,
    S3Request, SseCustomerKey, UploadPart,
};
pub use bucket::{Bucket, MAX_BUCKET_NAME_LEN, MAX_LEGACY_BUCKET_NAME_LEN};
pub use endpoint::{AddressingStyle, Endpoint};
pub use key::{MAX_KEY_LEN, safe_key_from_filename, validate_key};
