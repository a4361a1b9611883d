//! One typed builder per S3 operation, plus [`S3Request`] for anything else.
//!
//! Every builder borrows its inputs and ends in `.presign(&Signer, SigningTime, Expiry)`.
//! Presigning allocates only the returned URL: the query and header pairs are collected in
//! fixed-capacity lists on the stack, numbers are formatted into stack buffers, and the virtual
//! host (`bucket.endpoint`) is assembled in one.
//!
//! Parameters that S3 reads from headers (`Content-Type`, `Range`, `x-amz-meta-*`, …) become
//! *signed headers*: [`PresignedRequest::headers`] lists them, and the client must send each
//! one with exactly that value. Parameters S3 reads from the query (`versionId`,
//! `response-content-type`, `partNumber`, …) are signed into the URL.

mod abort_multipart_upload;
mod complete_multipart_upload;
mod create_multipart_upload;
mod delete_object;
mod get_object;
mod head_object;
mod list_objects_v2;
mod list_parts;
mod put_object;
mod upload_part;

pub use abort_multipart_upload::AbortMultipartUpload;
// One checksum type for the builders and aws-chunked trailers alike.
pub use crate::chunked::ChecksumAlgorithm;
pub use complete_multipart_upload::CompleteMultipartUpload;
pub use create_multipart_upload::CreateMultipartUpload;
pub use delete_object::DeleteObject;
pub use get_object::GetObject;
pub use head_object::HeadObject;
pub use list_objects_v2::ListObjectsV2;
pub use list_parts::ListParts;
pub use put_object::PutObject;
pub use upload_part::UploadPart;

use arrayvec::ArrayVec;

use crate::canonical::is_token;
use crate::chunked::decode_base64_exact;
use crate::limits::{MAX_QUERY_PAIRS, MAX_SIGNED_HEADERS};
use crate::s3::{AddressingStyle, Bucket, Endpoint, validate_key};
use crate::{Error, Expiry, PayloadHash, PresignRequest, PresignedRequest, Signer, SigningTime};

/// Most pairs one list holds: the larger of the two crate limits (each list is checked against
/// its own limit again by the presigner).
const MAX_PAIRS: usize = if MAX_QUERY_PAIRS > MAX_SIGNED_HEADERS {
    MAX_QUERY_PAIRS
} else {
    MAX_SIGNED_HEADERS
};

/// The most user-defined metadata S3 stores: 2 KB of names and values (UTF-8 bytes).
pub const MAX_METADATA_BYTES: usize = 2048;

/// A server-side encryption key provided by the customer (SSE-C): the base64 of a 256-bit
/// AES key and the base64 of its MD5. Signed as the three
/// `x-amz-server-side-encryption-customer-*` headers, which the client must send.
///
/// ```
/// use presign::s3::SseCustomerKey;
/// let key = SseCustomerKey::new(
///     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
///     "zZ5FnqcIqUjVwvWmyog4zw==",
/// );
/// assert!(key.is_ok());
/// assert!(SseCustomerKey::new("c2hvcnQ=", "zZ5FnqcIqUjVwvWmyog4zw==").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SseCustomerKey<'a> {
    key: &'a str,
    key_md5: &'a str,
}

impl<'a> SseCustomerKey<'a> {
    /// From the base64 key (32 bytes) and the base64 of its MD5 (16 bytes). Each is checked
    /// to decode, as padded standard base64, to exactly that many bytes; the MD5 is the
    /// caller's to compute.
    pub fn new(key_base64: &'a str, key_md5_base64: &'a str) -> Result<Self, Error> {
        if decode_base64_exact(key_base64, 32).is_none() {
            return Err(Error::InvalidParameter {
                name: "x-amz-server-side-encryption-customer-key".into(),
                reason: "expected the base64 of a 256-bit key",
            });
        }
        if decode_base64_exact(key_md5_base64, 16).is_none() {
            return Err(Error::InvalidParameter {
                name: "x-amz-server-side-encryption-customer-key-MD5".into(),
                reason: "expected the base64 of a 16-byte MD5 digest",
            });
        }
        Ok(SseCustomerKey {
            key: key_base64,
            key_md5: key_md5_base64,
        })
    }

    fn push_to(&self, headers: &mut Pairs<'a>) -> Result<(), Error> {
        headers.push("x-amz-server-side-encryption-customer-algorithm", "AES256")?;
        headers.push("x-amz-server-side-encryption-customer-key", self.key)?;
        headers.push(
            "x-amz-server-side-encryption-customer-key-md5",
            self.key_md5,
        )
    }
}

impl core::fmt::Debug for SseCustomerKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key is a secret: never print it.
        f.write_str("SseCustomerKey(<redacted>)")
    }
}

/// A request on an S3 object or bucket with any method, query parameters and headers: the
/// escape hatch for operations or parameters the typed builders do not cover.
///
/// The bucket and key are addressed exactly as by the typed builders (validated, key used
/// verbatim); the query pairs and headers are signed as given (raw, not encoded).
///
/// ```
/// use presign::s3::{Bucket, Endpoint, S3Request};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let signer = Signer::new(
///     Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap(),
///     "us-east-1",
///     "s3",
/// ).unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let url = S3Request::object(&endpoint, &bucket, "photo.jpg", "PUT")
///     .query(&[("tagging", "")])
///     .headers(&[("x-amz-tagging", "a=b")])
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert!(url.url().starts_with("https://examplebucket.s3.amazonaws.com/photo.jpg?X-Amz-Algorithm="));
/// assert!(url.url().contains("&tagging=&"));
/// assert_eq!(url.headers().collect::<Vec<_>>(), [("x-amz-tagging", "a=b")]);
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct S3Request<'a> {
    target: Target<'a>,
    method: &'a str,
    query: &'a [(&'a str, &'a str)],
    headers: &'a [(&'a str, &'a str)],
    payload: PayloadHash,
}

impl<'a> S3Request<'a> {
    /// A request on object `key` of `bucket`.
    pub fn object(
        endpoint: &'a Endpoint,
        bucket: &Bucket<'a>,
        key: &'a str,
        method: &'a str,
    ) -> Self {
        S3Request {
            target: Target::object(endpoint, bucket, key),
            method,
            query: &[],
            headers: &[],
            payload: PayloadHash::Unsigned,
        }
    }

    /// A request on `bucket` itself (`/bucket` path style, `/` virtual-hosted).
    pub fn bucket(endpoint: &'a Endpoint, bucket: &Bucket<'a>, method: &'a str) -> Self {
        S3Request {
            target: Target::bucket(endpoint, bucket),
            method,
            query: &[],
            headers: &[],
            payload: PayloadHash::Unsigned,
        }
    }

    /// Query parameters to sign, raw (`("uploads", "")` gives `uploads=`).
    pub fn query(mut self, query: &'a [(&'a str, &'a str)]) -> Self {
        self.query = query;
        self
    }

    /// Headers to sign; the client must send them with these values.
    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The payload hash (default `UNSIGNED-PAYLOAD`). A SHA-256 is also signed as the
    /// `x-amz-content-sha256` header, which the client must send: S3 only checks the body
    /// of a presigned request against a hash it is given in that header.
    pub fn payload(mut self, payload: PayloadHash) -> Self {
        self.payload = payload;
        self
    }

    /// Presigns the request.
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let mut headers = Pairs::raw_headers();
        headers.extend(self.headers)?;
        push_payload_header(&mut headers, &self.payload)?;
        self.target.presign(
            &Parts {
                method: self.method,
                query: self.query,
                headers: headers.as_slice(),
                payload: self.payload,
            },
            signer,
            time,
            expires,
        )
    }
}

/// Where a request goes: endpoint, bucket and, for object operations, key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    endpoint: &'a Endpoint,
    bucket: Bucket<'a>,
    key: Option<&'a str>,
}

/// What an operation adds to its target.
pub(crate) struct Parts<'p> {
    pub(crate) method: &'p str,
    pub(crate) query: &'p [(&'p str, &'p str)],
    pub(crate) headers: &'p [(&'p str, &'p str)],
    pub(crate) payload: PayloadHash,
}

/// Room for `bucket.` in front of the longest endpoint authority (253-byte host and a port).
const AUTHORITY_CAP: usize = 384;

impl<'a> Target<'a> {
    pub(crate) fn object(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        Target {
            endpoint,
            bucket: *bucket,
            key: Some(key),
        }
    }

    pub(crate) fn bucket(endpoint: &'a Endpoint, bucket: &Bucket<'a>) -> Self {
        Target {
            endpoint,
            bucket: *bucket,
            key: None,
        }
    }

    /// Resolves the addressing style and presigns.
    pub(crate) fn presign(
        &self,
        parts: &Parts<'_>,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        if let Some(key) = self.key {
            validate_key(key)?;
        }
        if parts.payload.is_streaming() {
            return Err(Error::InvalidPayloadHash(format!(
                "{}: aws-chunked payloads cannot be presigned",
                parts.payload
            )));
        }
        // S3 checks a presigned request's body against `x-amz-content-sha256` when the
        // client sends it, and takes that value as the canonical payload hash: a signed value
        // that differs from the payload hash could never verify.
        if parts.headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("x-amz-content-sha256") && *v != parts.payload.as_str()
        }) {
            return Err(Error::InvalidParameter {
                name: "x-amz-content-sha256".into(),
                reason: "must equal the payload hash: set the hash with .payload() instead",
            });
        }
        self.endpoint.check_region(signer.region())?;
        let style = self.endpoint.effective_style(&self.bucket)?;
        let mut virtual_host = StackStr::<AUTHORITY_CAP>::new();
        let bucket = self.bucket.as_str();
        // Segments after the endpoint's prefix: `/bucket/key` or `/bucket` path style,
        // `/key` or `/` virtual-hosted (botocore's shapes).
        let segments: [&str; 2];
        let n_segments;
        let authority = if style == AddressingStyle::Virtual {
            let fits = virtual_host.push(bucket)
                && virtual_host.push(".")
                && virtual_host.push(self.endpoint.authority());
            if !fits {
                return Err(Error::TooMany {
                    what: "bytes in the virtual host name",
                    limit: AUTHORITY_CAP,
                });
            }
            segments = [self.key.unwrap_or(""), ""];
            n_segments = 1;
            virtual_host.as_str()
        } else {
            match self.key {
                Some(key) => {
                    segments = [bucket, key];
                    n_segments = 2;
                }
                None => {
                    segments = [bucket, ""];
                    n_segments = 1;
                }
            }
            self.endpoint.authority()
        };
        let segments = segments.get(..n_segments).unwrap_or_default();
        let request = PresignRequest::with_raw_path(
            parts.method,
            self.endpoint.scheme(),
            authority,
            self.endpoint.path_prefix(),
            segments,
        )
        .query(parts.query)
        .headers(parts.headers)
        .payload(parts.payload)
        .expires(expires);
        signer.presign(&request, time)
    }
}

/// What every typed builder holds besides its own parameters: where the request goes and the
/// caller's extra pairs ([`extra_setters`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operation<'a> {
    target: Target<'a>,
    extra_query: &'a [(&'a str, &'a str)],
    extra_headers: &'a [(&'a str, &'a str)],
}

impl<'a> Operation<'a> {
    pub(crate) fn object(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        Operation::on(Target::object(endpoint, bucket, key))
    }

    pub(crate) fn bucket(endpoint: &'a Endpoint, bucket: &Bucket<'a>) -> Self {
        Operation::on(Target::bucket(endpoint, bucket))
    }

    fn on(target: Target<'a>) -> Self {
        Operation {
            target,
            extra_query: &[],
            extra_headers: &[],
        }
    }

    /// A `method` request with no pairs yet and an unsigned payload: the builder pushes its
    /// own parameters, then [`OperationRequest::presign`] adds the extras and signs.
    pub(crate) fn request<'p>(&self, method: &'p str) -> OperationRequest<'p>
    where
        'a: 'p,
    {
        OperationRequest {
            operation: *self,
            method,
            payload: &PayloadHash::Unsigned,
            query: Pairs::query(),
            headers: Pairs::headers(),
        }
    }
}

/// A typed operation's request while its builder fills it in.
pub(crate) struct OperationRequest<'p> {
    operation: Operation<'p>,
    method: &'p str,
    payload: &'p PayloadHash,
    query: Pairs<'p>,
    headers: Pairs<'p>,
}

impl<'p> OperationRequest<'p> {
    /// The payload hash (default `UNSIGNED-PAYLOAD`). Set in place, as the request is filled
    /// in and presigned: its lists are 4 KiB, too much to move at each step.
    pub(crate) fn set_payload(&mut self, payload: &'p PayloadHash) {
        self.payload = payload;
    }

    /// The query and header lists, for the builder's own parameters.
    pub(crate) fn pairs(&mut self) -> (&mut Pairs<'p>, &mut Pairs<'p>) {
        (&mut self.query, &mut self.headers)
    }

    /// Appends the caller's extra pairs after the builder's own (so a name given by both is
    /// refused as the extra one), signs a SHA-256 payload hash as `x-amz-content-sha256`, and
    /// presigns.
    pub(crate) fn presign(
        &mut self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        self.query.extend(self.operation.extra_query)?;
        self.headers.extend(self.operation.extra_headers)?;
        push_payload_header(&mut self.headers, self.payload)?;
        self.operation.target.presign(
            &Parts {
                method: self.method,
                query: self.query.as_slice(),
                headers: self.headers.as_slice(),
                payload: *self.payload,
            },
            signer,
            time,
            expires,
        )
    }
}

/// Signs a SHA-256 payload hash as `x-amz-content-sha256`, so the client is told to send it.
fn push_payload_header<'a>(headers: &mut Pairs<'a>, payload: &'a PayloadHash) -> Result<(), Error> {
    if let PayloadHash::Sha256(hex) = payload {
        if !headers.contains("x-amz-content-sha256") {
            headers.push("x-amz-content-sha256", hex.as_str())?;
        }
    }
    Ok(())
}

/// `(name, value)` pairs in a fixed-capacity list on the stack: the presign path's query and
/// header lists.
pub(crate) struct Pairs<'a> {
    /// Not filled up front: only the pairs pushed exist (two lists of 2 KiB filled per
    /// presign cost more than the signature's own work outside SHA-256).
    items: ArrayVec<(&'a str, &'a str), MAX_PAIRS>,
    limit: usize,
    what: &'static str,
    /// Refuse a name given twice.
    unique: bool,
    /// Names compare case-insensitively (header names).
    ignore_case: bool,
}

impl<'a> Pairs<'a> {
    fn new(what: &'static str, limit: usize, unique: bool, ignore_case: bool) -> Self {
        Pairs {
            items: ArrayVec::new_const(),
            limit: limit.min(MAX_PAIRS),
            what,
            unique,
            ignore_case,
        }
    }

    /// A query list for a typed operation: names must be distinct.
    pub(crate) fn query() -> Self {
        Pairs::new("query parameters", MAX_QUERY_PAIRS, true, false)
    }

    /// A header list for a typed operation: names must be distinct (case-insensitively).
    pub(crate) fn headers() -> Self {
        Pairs::new("signed headers", MAX_SIGNED_HEADERS, true, true)
    }

    /// A header list that takes the caller's headers as they are ([`S3Request`]).
    pub(crate) fn raw_headers() -> Self {
        Pairs::new("signed headers", MAX_SIGNED_HEADERS, false, true)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.as_slice()
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    pub(crate) fn push(&mut self, name: &'a str, value: &'a str) -> Result<(), Error> {
        if self.unique {
            let ignore_case = self.ignore_case;
            if self
                .as_slice()
                .iter()
                .any(|(n, _)| *n == name || (ignore_case && n.eq_ignore_ascii_case(name)))
            {
                return Err(Error::InvalidParameter {
                    name: name.to_owned(),
                    reason: "given twice (by a setter and an extra pair, or in two extra pairs)",
                });
            }
        }
        // `limit` is at most the capacity: a push it allows always fits.
        if self.items.len() < self.limit && self.items.try_push((name, value)).is_ok() {
            return Ok(());
        }
        Err(Error::TooMany {
            what: self.what,
            limit: self.limit,
        })
    }

    pub(crate) fn opt(&mut self, name: &'a str, value: Option<&'a str>) -> Result<(), Error> {
        match value {
            Some(v) => self.push(name, v),
            None => Ok(()),
        }
    }

    pub(crate) fn extend(&mut self, pairs: &'a [(&'a str, &'a str)]) -> Result<(), Error> {
        pairs.iter().try_for_each(|(n, v)| self.push(n, v))
    }

    pub(crate) fn as_slice(&self) -> &[(&'a str, &'a str)] {
        &self.items
    }
}

/// A string built in a fixed-size stack buffer from whole `&str` pieces.
pub(crate) struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    pub(crate) fn new() -> Self {
        StackStr {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends `s`; `false` (and nothing appended) if it does not fit.
    pub(crate) fn push(&mut self, s: &str) -> bool {
        let Some(end) = self.len.checked_add(s.len()) else {
            return false;
        };
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                true
            }
            None => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are appended, so the bytes are UTF-8.
        self.get(0, self.len)
    }

    pub(crate) fn get(&self, start: usize, end: usize) -> &str {
        self.buf
            .get(start..end)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// A decimal number formatted on the stack.
pub(crate) struct Num(StackStr<20>);

impl Num {
    pub(crate) fn new(mut v: u64) -> Self {
        const DIGITS: &[u8; 10] = b"0123456789";
        let mut digits = [b'0'; 20];
        let mut i = digits.len();
        while let Some(prev) = i.checked_sub(1) {
            i = prev;
            if let (Some(d), Some(digit)) = (digits.get_mut(i), DIGITS.get((v % 10) as usize)) {
                *d = *digit;
            }
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let mut out = StackStr::new();
        out.push(core::str::from_utf8(digits.get(i..).unwrap_or_default()).unwrap_or("0"));
        Num(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Checks a part number (1..=10000) and formats it.
pub(crate) fn part_number(n: u32) -> Result<Num, Error> {
    if (1..=10_000).contains(&n) {
        Ok(Num::new(u64::from(n)))
    } else {
        Err(Error::InvalidParameter {
            name: "partNumber".into(),
            reason: "a part number must be from 1 to 10000",
        })
    }
}

/// Checks an upload id: S3 ids are opaque, but never empty.
pub(crate) fn upload_id(id: &str) -> Result<&str, Error> {
    if id.is_empty() {
        Err(Error::InvalidParameter {
            name: "uploadId".into(),
            reason: "the upload id is empty",
        })
    } else {
        Ok(id)
    }
}

/// Checks a `Content-MD5` value (base64 of 16 bytes).
pub(crate) fn content_md5(value: &str) -> Result<&str, Error> {
    if decode_base64_exact(value, 16).is_some() {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name: "content-md5".into(),
            reason: "expected the base64 of a 16-byte MD5 digest",
        })
    }
}

/// Checks an `x-amz-checksum-*` value against its algorithm's digest length.
pub(crate) fn checksum(
    algorithm: ChecksumAlgorithm,
    value: &str,
) -> Result<(&'static str, &str), Error> {
    if decode_base64_exact(value, algorithm.digest_len()).is_some() {
        Ok((algorithm.header_name(), value))
    } else {
        Err(Error::InvalidParameter {
            name: algorithm.header_name().into(),
            reason: "expected the base64 of a digest of this algorithm's length",
        })
    }
}

/// `x-amz-meta-<name>` header names for user-defined metadata, built on the stack.
pub(crate) struct MetadataNames {
    buf: StackStr<{ MAX_METADATA_BYTES + MAX_PAIRS * META_PREFIX.len() }>,
    ends: [u16; MAX_PAIRS],
    len: usize,
}

const META_PREFIX: &str = "x-amz-meta-";

impl MetadataNames {
    /// Checks the metadata (token names, distinct case-insensitively, ASCII values, at most
    /// [`MAX_METADATA_BYTES`]) and builds the header names.
    pub(crate) fn build(metadata: &[(&str, &str)]) -> Result<Self, Error> {
        let mut names = MetadataNames {
            buf: StackStr::new(),
            ends: [0; MAX_PAIRS],
            len: 0,
        };
        if metadata.len() > MAX_PAIRS {
            return Err(Error::TooMany {
                what: "metadata entries",
                limit: MAX_PAIRS,
            });
        }
        let size = metadata
            .iter()
            .map(|(n, v)| n.len().saturating_add(v.len()))
            .fold(0, usize::saturating_add);
        if size > MAX_METADATA_BYTES {
            return Err(Error::TooMany {
                what: "bytes of user-defined metadata (names and values)",
                limit: MAX_METADATA_BYTES,
            });
        }
        for (i, (name, value)) in metadata.iter().enumerate() {
            if !is_token(name) {
                return Err(Error::InvalidHeaderName(format!("{META_PREFIX}{name}")));
            }
            if metadata
                .get(..i)
                .unwrap_or_default()
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                return Err(Error::InvalidParameter {
                    name: format!("{META_PREFIX}{name}"),
                    reason: "given twice (metadata names are case-insensitive)",
                });
            }
            if !value.is_ascii() {
                return Err(Error::InvalidParameter {
                    name: format!("{META_PREFIX}{name}"),
                    reason: "metadata values must be ASCII (they travel as HTTP header values); \
                             encode other text first, e.g. as RFC 2047",
                });
            }
            // Sizes were bounded above, so both pushes fit and the offset fits in u16.
            let fits = names.buf.push(META_PREFIX) && names.buf.push(name);
            let (Some(end), true) = (names.ends.get_mut(i), fits) else {
                return Err(Error::TooMany {
                    what: "bytes of user-defined metadata (names and values)",
                    limit: MAX_METADATA_BYTES,
                });
            };
            *end = u16::try_from(names.buf.len()).unwrap_or(u16::MAX);
            names.len = names.len.saturating_add(1);
        }
        Ok(names)
    }

    /// The header name of entry `i`.
    pub(crate) fn name(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(0);
        self.buf.get(usize::from(start), usize::from(end))
    }

    /// Pushes every metadata header.
    pub(crate) fn push_to<'a>(
        &'a self,
        metadata: &'a [(&'a str, &'a str)],
        headers: &mut Pairs<'a>,
    ) -> Result<(), Error> {
        for (i, (_, value)) in metadata.iter().enumerate().take(self.len) {
            headers.push(self.name(i), value)?;
        }
        Ok(())
    }
}

/// Headers shared by the operations that create an object (PutObject and
/// CreateMultipartUpload).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ObjectAttributes<'a> {
    pub(crate) content_type: Option<&'a str>,
    pub(crate) cache_control: Option<&'a str>,
    pub(crate) content_disposition: Option<&'a str>,
    pub(crate) content_encoding: Option<&'a str>,
    pub(crate) content_language: Option<&'a str>,
    pub(crate) metadata: &'a [(&'a str, &'a str)],
    pub(crate) acl: Option<&'a str>,
    pub(crate) storage_class: Option<&'a str>,
    pub(crate) server_side_encryption: Option<&'a str>,
    pub(crate) sse_kms_key_id: Option<&'a str>,
    pub(crate) sse_customer: Option<SseCustomerKey<'a>>,
    pub(crate) tagging: Option<&'a str>,
}

impl<'a> ObjectAttributes<'a> {
    pub(crate) fn push_to(
        &self,
        metadata: &'a MetadataNames,
        headers: &mut Pairs<'a>,
    ) -> Result<(), Error> {
        headers.opt("content-type", self.content_type)?;
        headers.opt("cache-control", self.cache_control)?;
        headers.opt("content-disposition", self.content_disposition)?;
        headers.opt("content-encoding", self.content_encoding)?;
        headers.opt("content-language", self.content_language)?;
        metadata.push_to(self.metadata, headers)?;
        headers.opt("x-amz-acl", self.acl)?;
        headers.opt("x-amz-storage-class", self.storage_class)?;
        headers.opt("x-amz-server-side-encryption", self.server_side_encryption)?;
        headers.opt(
            "x-amz-server-side-encryption-aws-kms-key-id",
            self.sse_kms_key_id,
        )?;
        if let Some(key) = &self.sse_customer {
            key.push_to(headers)?;
        }
        headers.opt("x-amz-tagging", self.tagging)
    }
}

/// Setters for the `Option<&str>` fields of a builder, each with its documentation.
macro_rules! str_setters {
    ($( $(#[$doc:meta])* $name:ident => $($field:ident).+ ;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: &'a str) -> Self {
                self.$($field).+ = Some(value);
                self
            }
        )*
    };
}
pub(crate) use str_setters;

/// Setters that store their arguments in a field of a builder, each with its documentation:
/// `name(arg: Type, …) => field = value;`.
macro_rules! setters {
    ($(
        $(#[$doc:meta])*
        $name:ident($($arg:ident: $ty:ty),+) => $($field:ident).+ = $value:expr;
    )*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $($arg: $ty),+) -> Self {
                self.$($field).+ = $value;
                self
            }
        )*
    };
}
pub(crate) use setters;

/// The setters of [`ObjectAttributes`], for builders with an `attributes` field.
macro_rules! attribute_setters {
    () => {
        $crate::s3::actions::str_setters! {
            /// `Content-Type` (signed header): the client must send exactly this type.
            content_type => attributes.content_type;
            /// `Cache-Control` (signed header), stored with the object.
            cache_control => attributes.cache_control;
            /// `Content-Disposition` (signed header), stored with the object.
            content_disposition => attributes.content_disposition;
            /// `Content-Encoding` (signed header), stored with the object.
            content_encoding => attributes.content_encoding;
            /// `Content-Language` (signed header), stored with the object.
            content_language => attributes.content_language;
            /// `x-amz-acl` (signed header): a canned ACL such as `private` or
            /// `bucket-owner-full-control`.
            acl => attributes.acl;
            /// `x-amz-storage-class` (signed header): `STANDARD`, `STANDARD_IA`,
            /// `INTELLIGENT_TIERING`, `GLACIER_IR`, ….
            storage_class => attributes.storage_class;
            /// `x-amz-server-side-encryption` (signed header): `AES256`, `aws:kms` or
            /// `aws:kms:dsse`.
            server_side_encryption => attributes.server_side_encryption;
            /// `x-amz-server-side-encryption-aws-kms-key-id` (signed header): the KMS key for
            /// `aws:kms`.
            sse_kms_key_id => attributes.sse_kms_key_id;
            /// `x-amz-tagging` (signed header): URL-query-encoded tags (`k1=v1&k2=v2`), used
            /// as given.
            tagging => attributes.tagging;
        }

        /// User-defined metadata: `(name, value)` pairs signed as `x-amz-meta-<name>`
        /// headers. Names must be header tokens, distinct case-insensitively (S3 stores them
        /// lowercase); values must be ASCII; names and values together at most
        /// [`crate::s3::MAX_METADATA_BYTES`] bytes.
        pub fn metadata(mut self, metadata: &'a [(&'a str, &'a str)]) -> Self {
            self.attributes.metadata = metadata;
            self
        }

        /// SSE-C: the customer-provided key headers (signed).
        pub fn sse_customer_key(mut self, key: $crate::s3::SseCustomerKey<'a>) -> Self {
            self.attributes.sse_customer = Some(key);
            self
        }
    };
}
pub(crate) use attribute_setters;

/// The setters of the operations that upload a body (PutObject, UploadPart): its MD5, length
/// and checksum, and the payload hash.
macro_rules! body_setters {
    () => {
        $crate::s3::actions::str_setters! {
            /// `Content-MD5` (signed header): base64 of the body's MD5 (checked at presign).
            content_md5 => content_md5;
        }

        $crate::s3::actions::setters! {
            /// `Content-Length` (signed header): the exact size of the body.
            content_length(len: u64) => content_length = Some(len);
            /// `x-amz-checksum-<algorithm>` (signed header): base64 of the body's digest
            /// (length checked at presign). S3 refuses a body that does not match.
            checksum(algorithm: $crate::s3::ChecksumAlgorithm, value_base64: &'a str) =>
                checksum = Some((algorithm, value_base64));
            /// `x-amz-sdk-checksum-algorithm` (signed header): the algorithm of a checksum the
            /// client sends (in a header or an aws-chunked trailer).
            sdk_checksum_algorithm(algorithm: $crate::s3::ChecksumAlgorithm) =>
                sdk_checksum_algorithm = Some(algorithm);
            /// The payload hash (default `UNSIGNED-PAYLOAD`). A SHA-256 binds the URL to one
            /// body; it is also signed as the `x-amz-content-sha256` header, which the client
            /// must send. Streaming (aws-chunked) modes are refused.
            payload(payload: $crate::PayloadHash) => payload = payload;
        }
    };
}
pub(crate) use body_setters;

/// The escape hatch of the typed builders: extra query pairs and headers, signed as given.
macro_rules! extra_setters {
    () => {
        /// Extra query parameters to sign (raw). A name the builder already sets is refused
        /// with [`crate::Error::InvalidParameter`].
        pub fn extra_query(mut self, query: &'a [(&'a str, &'a str)]) -> Self {
            self.operation.extra_query = query;
            self
        }

        /// Extra headers to sign; the client must send them. A name the builder already sets
        /// is refused with [`crate::Error::InvalidParameter`].
        pub fn extra_headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
            self.operation.extra_headers = headers;
            self
        }
    };
}
pub(crate) use extra_setters;

#[cfg(test)]
pub(crate) mod test_support {
    //! The AWS documentation example's credentials and time, shared by the operation tests.

    use crate::s3::{Bucket, Endpoint};
    use crate::{Credentials, Expiry, PresignedRequest, Signer, SigningTime};

    pub(crate) fn signer(region: &str) -> Signer {
        Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .and_then(|c| Signer::new(c, region, "s3"))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn time() -> SigningTime {
        SigningTime::parse_amz_date("20130524T000000Z").unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn expiry(secs: u64) -> Expiry {
        Expiry::from_secs(secs).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn aws(region: &str) -> Endpoint {
        Endpoint::aws(region).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn custom(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn bucket(name: &str) -> Bucket<'_> {
        Bucket::new(name).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The URL up to the `?`.
    pub(crate) fn base(p: &PresignedRequest) -> &str {
        p.url().split_once('?').map_or(p.url(), |(b, _)| b)
    }

    /// The query pairs other than the auth parameters, as they appear in the URL.
    pub(crate) fn params(p: &PresignedRequest) -> Vec<String> {
        p.url()
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.starts_with("X-Amz-"))
            .map(str::to_owned)
            .collect()
    }

    /// The `X-Amz-SignedHeaders` value, decoded.
    pub(crate) fn signed_headers(p: &PresignedRequest) -> String {
        p.url()
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
            .unwrap_or("")
            .replace("%3B", ";")
    }

    pub(crate) fn headers(p: &PresignedRequest) -> Vec<(String, String)> {
        p.headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn numbers_format_on_the_stack() {
        assert_eq!(Num::new(0).as_str(), "0");
        assert_eq!(Num::new(7).as_str(), "7");
        assert_eq!(Num::new(10_000).as_str(), "10000");
        assert_eq!(Num::new(u64::MAX).as_str(), "18446744073709551615");
    }

    #[test]
    fn pairs_refuse_duplicates_and_overflow() {
        let mut h = Pairs::headers();
        assert!(h.push("content-type", "a").is_ok());
        assert!(matches!(
            h.push("Content-Type", "b"),
            Err(Error::InvalidParameter { .. })
        ));
        let mut q = Pairs::query();
        assert!(q.push("a", "1").is_ok());
        assert!(q.push("A", "1").is_ok());
        assert!(q.push("a", "2").is_err());
        let mut lenient = Pairs::new("query parameters", 2, false, false);
        assert!(lenient.push("a", "1").is_ok());
        assert!(lenient.push("a", "2").is_ok());
        assert!(matches!(
            lenient.push("a", "3"),
            Err(Error::TooMany { limit: 2, .. })
        ));
    }

    #[test]
    fn metadata_rules() {
        let ok = MetadataNames::build(&[("author", "Jane"), ("Project-Id", "42")]);
        assert!(ok.is_ok_and(
            |m| m.name(0) == "x-amz-meta-author" && m.name(1) == "x-amz-meta-Project-Id"
        ));
        assert!(matches!(
            MetadataNames::build(&[("a b", "x")]),
            Err(Error::InvalidHeaderName(n)) if n == "x-amz-meta-a b"
        ));
        assert!(matches!(
            MetadataNames::build(&[("", "x")]),
            Err(Error::InvalidHeaderName(_))
        ));
        assert!(matches!(
            MetadataNames::build(&[("a", "1"), ("A", "2")]),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            MetadataNames::build(&[("a", "é")]),
            Err(Error::InvalidParameter { .. })
        ));
        let big = "v".repeat(2048);
        assert!(matches!(
            MetadataNames::build(&[("a", &big)]),
            Err(Error::TooMany { limit: 2048, .. })
        ));
        let names: Vec<String> = (0..65).map(|i| format!("m{i}")).collect();
        let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
        assert!(matches!(
            MetadataNames::build(&many),
            Err(Error::TooMany { .. })
        ));
        let longest = "n".repeat(2048);
        let one = MetadataNames::build(&[(longest.as_str(), "")]);
        assert!(one.is_ok_and(|m| m.name(0).len() == 2048 + META_PREFIX.len()));
    }

    #[test]
    fn generic_request_object_and_bucket() {
        let signer = signer("us-east-1");
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let p = S3Request::object(&endpoint, &b, "a b/c", "PUT")
            .query(&[("uploads", "")])
            .presign(&signer, time(), expiry(60));
        let p = p.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "https://examplebucket.s3.amazonaws.com/a%20b/c");
        assert_eq!(params(&p), ["uploads="]);
        assert_eq!(p.method(), "PUT");

        let path = endpoint
            .clone()
            .with_addressing_style(AddressingStyle::Path);
        let p = S3Request::bucket(&path, &b, "GET")
            .query(&[("list-type", "2")])
            .presign(&signer, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "https://s3.amazonaws.com/examplebucket");
        let p = S3Request::bucket(&endpoint, &b, "GET")
            .presign(&signer, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "https://examplebucket.s3.amazonaws.com/");
    }

    #[test]
    fn prefixes_and_ports() {
        let signer = signer("us-east-1");
        let b = bucket("examplebucket");
        let prefixed = custom("https://storage.example.com:443/s3-prefix/");
        let p = S3Request::object(&prefixed, &b, "k", "GET")
            .presign(&signer, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://storage.example.com/s3-prefix/examplebucket/k"
        );
        let virt = prefixed.with_addressing_style(AddressingStyle::Virtual);
        let p = S3Request::bucket(&virt, &b, "GET")
            .presign(&signer, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://examplebucket.storage.example.com/s3-prefix/"
        );
        let v6 = custom("http://[::1]:9000");
        let p = S3Request::object(&v6, &b, "k", "GET")
            .presign(&signer, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "http://[::1]:9000/examplebucket/k");
    }

    #[test]
    fn payload_hash_is_signed_as_a_header() {
        let signer = signer("us-east-1");
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let payload = PayloadHash::from_body(b"hello");
        let p = S3Request::object(&endpoint, &b, "k", "PUT")
            .payload(payload)
            .presign(&signer, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signed_headers(&p), "host;x-amz-content-sha256");
        assert_eq!(
            headers(&p),
            [(
                "x-amz-content-sha256".to_owned(),
                payload.as_str().to_owned()
            )]
        );
        let mismatch = S3Request::object(&endpoint, &b, "k", "PUT")
            .headers(&[("x-amz-content-sha256", payload.as_str())])
            .presign(&signer, time(), expiry(60));
        assert!(matches!(mismatch, Err(Error::InvalidParameter { .. })));
        let same = S3Request::object(&endpoint, &b, "k", "PUT")
            .headers(&[("X-Amz-Content-Sha256", payload.as_str())])
            .payload(payload)
            .presign(&signer, time(), expiry(60));
        assert!(same.is_ok_and(|p| signed_headers(&p) == "host;x-amz-content-sha256"));
        let streaming = S3Request::object(&endpoint, &b, "k", "PUT")
            .payload(PayloadHash::StreamingSigned)
            .presign(&signer, time(), expiry(60));
        assert!(matches!(streaming, Err(Error::InvalidPayloadHash(_))));
    }

    #[test]
    fn region_mismatch_is_refused() {
        let endpoint = aws("eu-west-1");
        let b = bucket("examplebucket");
        let r = S3Request::object(&endpoint, &b, "k", "GET").presign(
            &signer("us-east-1"),
            time(),
            expiry(60),
        );
        assert!(matches!(r, Err(Error::InvalidEndpoint { .. })));
    }

    #[test]
    fn keys_are_validated() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let s = signer("us-east-1");
        let long = "k".repeat(1025);
        for key in ["", long.as_str()] {
            let r = S3Request::object(&endpoint, &b, key, "GET").presign(&s, time(), expiry(60));
            assert!(matches!(r, Err(Error::InvalidKey(_))), "{key}");
        }
    }
}
