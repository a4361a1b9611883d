//! GetObject.

use crate::s3::actions::{
    Num, Operation, SseCustomerKey, extra_setters, part_number, setters, str_setters,
};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [GetObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html):
/// download an object (`GET /key`).
///
/// The `response_*` overrides are query parameters: they set the headers of S3's response
/// (a download file name, a content type) and need nothing from the client. `range`, the
/// conditional headers and `checksum_mode` are signed headers the client must send.
///
/// ```
/// use presign::s3::{Bucket, Endpoint, GetObject};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// // The S3 documentation's presigned URL example.
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let url = GetObject::new(&endpoint, &bucket, "test.txt")
///     .presign(
///         &signer,
///         SigningTime::parse_amz_date("20130524T000000Z").unwrap(),
///         Expiry::from_secs(86400).unwrap(),
///     )
///     .unwrap();
/// assert_eq!(
///     url.url(),
///     "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
///      &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
///      &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
///      &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
/// );
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct GetObject<'a> {
    operation: Operation<'a>,
    version_id: Option<&'a str>,
    part_number: Option<u32>,
    response_content_type: Option<&'a str>,
    response_content_disposition: Option<&'a str>,
    response_cache_control: Option<&'a str>,
    response_expires: Option<&'a str>,
    response_content_language: Option<&'a str>,
    response_content_encoding: Option<&'a str>,
    range: Option<&'a str>,
    if_match: Option<&'a str>,
    if_none_match: Option<&'a str>,
    if_modified_since: Option<&'a str>,
    if_unmodified_since: Option<&'a str>,
    checksum_mode: bool,
    sse_customer: Option<SseCustomerKey<'a>>,
}

impl<'a> GetObject<'a> {
    /// GetObject of `key` (used verbatim) in `bucket`.
    pub fn new(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        GetObject {
            operation: Operation::object(endpoint, bucket, key),
            version_id: None,
            part_number: None,
            response_content_type: None,
            response_content_disposition: None,
            response_cache_control: None,
            response_expires: None,
            response_content_language: None,
            response_content_encoding: None,
            range: None,
            if_match: None,
            if_none_match: None,
            if_modified_since: None,
            if_unmodified_since: None,
            checksum_mode: false,
            sse_customer: None,
        }
    }

    str_setters! {
        /// `versionId` (query): a specific version of the object.
        version_id => version_id;
        /// `response-content-type` (query): the `Content-Type` S3 answers with.
        response_content_type => response_content_type;
        /// `response-content-disposition` (query): the `Content-Disposition` S3 answers with
        /// (`attachment; filename="report.pdf"` makes browsers download).
        response_content_disposition => response_content_disposition;
        /// `response-cache-control` (query): the `Cache-Control` S3 answers with.
        response_cache_control => response_cache_control;
        /// `response-expires` (query): the `Expires` S3 answers with, an HTTP date.
        response_expires => response_expires;
        /// `response-content-language` (query): the `Content-Language` S3 answers with.
        response_content_language => response_content_language;
        /// `response-content-encoding` (query): the `Content-Encoding` S3 answers with.
        response_content_encoding => response_content_encoding;
        /// `Range` (signed header), e.g. `bytes=0-1023`.
        range => range;
        /// `If-Match` (signed header): an ETag, quotes included.
        if_match => if_match;
        /// `If-None-Match` (signed header): an ETag, quotes included.
        if_none_match => if_none_match;
        /// `If-Modified-Since` (signed header): an HTTP date.
        if_modified_since => if_modified_since;
        /// `If-Unmodified-Since` (signed header): an HTTP date.
        if_unmodified_since => if_unmodified_since;
    }

    setters! {
        /// `partNumber` (query): one part of a multipart object, 1..=10000 (checked at presign).
        part_number(part: u32) => part_number = Some(part);
        /// `x-amz-checksum-mode: ENABLED` (signed header): S3 returns the object's checksum.
        checksum_mode(enabled: bool) => checksum_mode = enabled;
        /// SSE-C: the key the object was encrypted with (signed headers).
        sse_customer_key(key: SseCustomerKey<'a>) => sse_customer = Some(key);
    }

    extra_setters!();

    /// Presigns the request (`GET`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let part: Option<Num> = self.part_number.map(part_number).transpose()?;
        let mut request = self.operation.request("GET");
        let (query, headers) = request.pairs();
        query.opt("versionId", self.version_id)?;
        query.opt("partNumber", part.as_ref().map(Num::as_str))?;
        query.opt("response-content-type", self.response_content_type)?;
        query.opt(
            "response-content-disposition",
            self.response_content_disposition,
        )?;
        query.opt("response-cache-control", self.response_cache_control)?;
        query.opt("response-expires", self.response_expires)?;
        query.opt("response-content-language", self.response_content_language)?;
        query.opt("response-content-encoding", self.response_content_encoding)?;

        headers.opt("range", self.range)?;
        headers.opt("if-match", self.if_match)?;
        headers.opt("if-none-match", self.if_none_match)?;
        headers.opt("if-modified-since", self.if_modified_since)?;
        headers.opt("if-unmodified-since", self.if_unmodified_since)?;
        if self.checksum_mode {
            headers.push("x-amz-checksum-mode", "ENABLED")?;
        }
        if let Some(key) = &self.sse_customer {
            key.push_to(headers)?;
        }

        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::AddressingStyle;
    use crate::s3::actions::test_support::*;

    const DOC_URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    #[test]
    fn aws_documentation_example() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let p = GetObject::new(&endpoint, &b, "test.txt").presign(
            &signer("us-east-1"),
            time(),
            expiry(86400),
        );
        let p = p.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.url(), DOC_URL);
        assert_eq!(p.method(), "GET");
        assert_eq!(p.headers().count(), 0);
        assert_eq!(p.expires_at().amz_date().as_str(), "20130525T000000Z");
    }

    #[test]
    fn query_overrides_and_signed_headers() {
        let endpoint = aws("eu-west-1").with_addressing_style(AddressingStyle::Path);
        let b = bucket("examplebucket");
        let p = GetObject::new(&endpoint, &b, "docs/file name.txt")
            .version_id("3/L4kq+x")
            .part_number(2)
            .response_content_type("text/plain; charset=utf-8")
            .response_content_disposition("attachment; filename=\"a b.txt\"")
            .range("bytes=0-9")
            .if_match("\"etag\"")
            .checksum_mode(true)
            .extra_query(&[("x-custom", "1")])
            .extra_headers(&[("X-Amz-Request-Payer", "requester")])
            .presign(&signer("eu-west-1"), time(), expiry(900))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://s3.eu-west-1.amazonaws.com/examplebucket/docs/file%20name.txt"
        );
        assert_eq!(
            params(&p),
            [
                "partNumber=2",
                "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22",
                "response-content-type=text%2Fplain%3B%20charset%3Dutf-8",
                "versionId=3%2FL4kq%2Bx",
                "x-custom=1",
            ]
        );
        assert_eq!(
            signed_headers(&p),
            "host;if-match;range;x-amz-checksum-mode;x-amz-request-payer"
        );
        assert_eq!(
            headers(&p),
            [
                ("if-match".to_owned(), "\"etag\"".to_owned()),
                ("range".to_owned(), "bytes=0-9".to_owned()),
                ("x-amz-checksum-mode".to_owned(), "ENABLED".to_owned()),
                ("x-amz-request-payer".to_owned(), "requester".to_owned()),
            ]
        );
    }

    #[test]
    fn bad_input_is_refused() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let s = signer("us-east-1");
        let get = GetObject::new(&endpoint, &b, "k");
        assert!(matches!(
            get.part_number(0).presign(&s, time(), expiry(60)),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            get.part_number(10_001).presign(&s, time(), expiry(60)),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            get.version_id("a")
                .extra_query(&[("versionId", "b")])
                .presign(&s, time(), expiry(60)),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            get.extra_query(&[("X-Amz-Signature", "x")])
                .presign(&s, time(), expiry(60)),
            Err(Error::ReservedQueryParameter(_))
        ));
        assert!(matches!(
            get.extra_headers(&[("Host", "evil.example")])
                .presign(&s, time(), expiry(60)),
            Err(Error::ReservedHeader(_))
        ));
        assert!(matches!(
            get.range("bytes=0-1\u{0}").presign(&s, time(), expiry(60)),
            Err(Error::InvalidHeaderValue(_))
        ));
        assert!(matches!(
            GetObject::new(&endpoint, &b, "").presign(&s, time(), expiry(60)),
            Err(Error::InvalidKey(_))
        ));
    }
}
