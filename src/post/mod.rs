//! Browser uploads with HTTP POST: signed policy forms, built and verified (feature `post`,
//! on by default).
//!
//! A presigned `PUT` cannot limit the size of an upload; an HTML form with a signed POST
//! policy can: the policy lists what every form field may hold (`key` prefixes, content-type
//! prefixes, …) and the size range of the file, and its SigV4 signature proves that the holder
//! of the secret wrote it.
//!
//! * [`PresignedPost::builder`] makes a form: the action URL (the bucket's URL, with the same
//!   [`Endpoint`](crate::s3::Endpoint) and addressing rules as presigned URLs) and the fields,
//!   as boto3's `generate_presigned_post` returns them; [`PresignedPost::to_html`] renders a
//!   minimal form.
//! * [`Verifier::verify_post`](crate::verify::Verifier::verify_post) checks a received form
//!   with the verifier's credential store, before the file is read; the returned
//!   [`VerifiedPost`] checks the file's size as it streams.
//!
//! ```
//! use presign::post::{IncomingPost, PostKey, PresignedPost};
//! use presign::s3::{Bucket, Endpoint};
//! use presign::verify::{InMemoryCredentials, StoredCredential, Verifier, VerifierConfig};
//! use presign::{Credentials, Signer, SigningTime};
//!
//! let (id, secret) = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
//! let signer = Signer::new(Credentials::new(id, secret)?, "us-east-1", "s3")?;
//! let endpoint = Endpoint::aws("us-east-1")?;
//! let bucket = Bucket::new("examplebucket")?;
//! let signed_at = SigningTime::parse_amz_date("20260101T120000Z")?;
//!
//! // The server hands this form to the browser...
//! let form = PresignedPost::builder(&endpoint, &bucket, PostKey::with_filename("uploads/"))
//!     .content_length_range(1, 10 * 1024 * 1024)
//!     .content_type_starts_with("image/")
//!     .sign(&signer, signed_at)?;
//! assert_eq!(form.url(), "https://examplebucket.s3.amazonaws.com/");
//!
//! // ...which posts it back with a file, and a Content-Type set by the page.
//! let mut fields: Vec<(&str, &str)> = form.fields().collect();
//! fields[1] = ("Content-Type", "image/png");
//!
//! let store = InMemoryCredentials::new();
//! store.insert(id, StoredCredential::new(secret)?)?;
//! let verifier = Verifier::new(store, VerifierConfig::default());
//! let now = signed_at.add_seconds(60);
//! let post = IncomingPost::new("examplebucket", &fields[..]).with_file_name("C:\\photos\\cat.png");
//! let verified = verifier.verify_post(&post, now).map_err(|e| e.to_string())?;
//! assert_eq!(verified.access_key_id(), id);
//! assert_eq!(verified.key(), "uploads/cat.png");
//! assert_eq!(verified.content_type(), Some("image/png"));
//!
//! // The file is checked as it streams: 11 MiB is too large.
//! let mut checker = verified.length_checker();
//! checker.update(&[0u8; 1024])?;
//! assert_eq!(checker.add(11 * 1024 * 1024).unwrap_err().code(), "EntityTooLarge");
//!
//! // A Content-Type list sneaking in a type the policy does not allow is refused.
//! fields[1] = ("Content-Type", "image/png,text/html");
//! let post = IncomingPost::new("examplebucket", &fields[..]).with_file_name("cat.png");
//! assert_eq!(verifier.verify_post(&post, now).unwrap_err().code(), "AccessDenied");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is verified, in order
//!
//! 1. Bounds: at most [`MAX_POST_FIELDS`](crate::limits::MAX_POST_FIELDS) fields and
//!    [`MAX_POST_FORM_BYTES`](crate::limits::MAX_POST_FORM_BYTES) (S3's 20 KB) of names and
//!    values; no field named `file` (the file is the part after the fields); no field twice,
//!    names compared ignoring case (`MalformedPOSTRequest`).
//! 2. Auth material: no field at all is an anonymous request (`MissingAuthentication`);
//!    SigV2 fields are refused; otherwise `x-amz-algorithm` (exactly `AWS4-HMAC-SHA256`),
//!    `x-amz-credential`, `x-amz-date`, `x-amz-signature`, `policy` and `key` must all be
//!    there (`InvalidArgument`, with S3's message).
//! 3. `x-amz-date`: strict `yyyyMMdd'T'HHmmss'Z'`, not more than 15 minutes ahead of `now`,
//!    not older than the signature's 7-day life (the verifier's `max_expires_secs`).
//! 4. The credential: its scope (date equal to `x-amz-date`'s, accepted region and service,
//!    `aws4_request`) and the store (known key, matching session token, credentials not
//!    expired), as for presigned URLs.
//! 5. The signature: HMAC-SHA256 with the scope's signing key over the `policy` field exactly
//!    as sent (the base64 text), compared in constant time (`SignatureDoesNotMatch`, with the
//!    policy as string to sign).
//! 6. The policy: strict base64 and strict JSON ([`PolicyDocument::from_base64`],
//!    `InvalidPolicyDocument`), and `now` before its `expiration` (`AccessDenied`
//!    "Invalid according to Policy: Policy expired.").
//! 7. Bindings: exact-match conditions on `bucket`, `x-amz-algorithm`, `x-amz-credential` and
//!    `x-amz-date`; no `starts-with` on fields S3 matches exactly.
//! 8. `${filename}` expanded, then every condition held against the form (and `bucket`
//!    against the request's bucket), then every field covered by a condition (`AccessDenied`
//!    "Invalid according to Policy: Policy Condition failed: …" / "Extra input fields: …").
//! 9. The file, afterwards: [`VerifiedPost::length_checker`] (`EntityTooLarge`,
//!    `EntityTooSmall`).
//!
//! # Decisions
//!
//! Where AWS leaves a choice open (see the verifier checklist, section F):
//!
//! - **Field names are case-insensitive** ("The post parameters are case insensitive"), in
//!   the form and in conditions: `Policy`, `X-Amz-Signature` and `$content-type` all match.
//!   Operator names too (`StArTs-WiTh`). Values, and the top-level `expiration` and
//!   `conditions` names, are case-sensitive.
//! - **Exempt from coverage: only what AWS lists**, `x-amz-signature`, `policy`, `file` and
//!   `x-ignore-*`. A `submit` field before the file must be covered (or named
//!   `x-ignore-submit`); [`PresignedPost::to_html`] gives its button no name, so browsers send
//!   no field for it.
//! - **Duplicate fields are refused**, not joined with commas: the value checked must be the
//!   value used.
//! - **Fields after the file are ignored** by S3: the caller stops collecting at the file part,
//!   and must not use anything after it, which nothing has verified.
//! - **Comma-separated `Content-Type`**: for `starts-with` on `Content-Type`, each item of a
//!   comma-separated value (spaces around items ignored) must start with the prefix, as AWS
//!   documents; `eq` compares the whole value. Other fields are plain strings.
//! - **No clock-skew rule on `x-amz-date`** (checklist rule 18): a form lives until its
//!   policy expires, bounded by the 7 days a signature lives, and is refused more than 15
//!   minutes before its `x-amz-date`.
//! - **A condition on a field the form lacks fails**, even `starts-with ""` (as S3 answers);
//!   no field name is known or unknown: every condition is evaluated the same way.
//! - **`bucket`** is always the request's bucket; a `bucket` form field (the JS SDK sends one)
//!   must equal it, and must be covered like any field.
//! - **`${filename}`** is replaced, in every field but the auth fields, by the text after the
//!   last `/` or `\` of the file part's `filename`, before any matching; with no `filename`
//!   it stays as it is (S3's behaviour). A key whose `${filename}` would become empty, `.` or
//!   `..` is refused (`InvalidArgument`).
//! - **Policy strictness**: a member given twice at any level, a member the language does not
//!   have, a missing `expiration` or `conditions`, a non-string value, an array condition
//!   whose field lacks its `$`, an unknown operator, a wrong operand count, a negative or
//!   fractional or inverted `content-length-range` are all `InvalidPolicyDocument`. Bounds
//!   given as decimal strings (`"10"`) are read, as S3 reads them.
//! - **Errors** use S3's codes and messages where S3's answer is known (from captures of S3
//!   itself); `MaxPostPreDataLengthExceeded` is reported as `MalformedPOSTRequest`.

mod builder;
mod policy;
mod verify;

pub use builder::{PostKey, PresignedPost, PresignedPostBuilder};
pub use policy::{Condition, PolicyDocument};
pub use verify::{FileLengthChecker, IncomingPost, VerifiedPost};

/// The variable S3 replaces with the uploaded file's name.
pub const FILENAME_VARIABLE: &str = "${filename}";
