//! HeadObject.

use crate::s3::actions::{
    Num, Operation, SseCustomerKey, extra_setters, part_number, setters, str_setters,
};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [HeadObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html):
/// an object's metadata without its body (`HEAD /key`).
///
/// ```
/// use presign::s3::{Bucket, Endpoint, HeadObject};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = HeadObject::new(&endpoint, &bucket, "test.txt")
///     .range("bytes=0-0")
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert_eq!(req.method(), "HEAD");
/// assert_eq!(req.headers().collect::<Vec<_>>(), [("range", "bytes=0-0")]);
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct HeadObject<'a> {
    operation: Operation<'a>,
    version_id: Option<&'a str>,
    part_number: Option<u32>,
    range: Option<&'a str>,
    if_match: Option<&'a str>,
    if_none_match: Option<&'a str>,
    checksum_mode: bool,
    sse_customer: Option<SseCustomerKey<'a>>,
}

impl<'a> HeadObject<'a> {
    /// HeadObject of `key` (used verbatim) in `bucket`.
    pub fn new(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        HeadObject {
            operation: Operation::object(endpoint, bucket, key),
            version_id: None,
            part_number: None,
            range: None,
            if_match: None,
            if_none_match: None,
            checksum_mode: false,
            sse_customer: None,
        }
    }

    str_setters! {
        /// `versionId` (query): a specific version of the object.
        version_id => version_id;
        /// `Range` (signed header), e.g. `bytes=0-0`.
        range => range;
        /// `If-Match` (signed header): an ETag, quotes included.
        if_match => if_match;
        /// `If-None-Match` (signed header): an ETag, quotes included.
        if_none_match => if_none_match;
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

    /// Presigns the request (`HEAD`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let part: Option<Num> = self.part_number.map(part_number).transpose()?;
        let mut request = self.operation.request("HEAD");
        let (query, headers) = request.pairs();
        query.opt("versionId", self.version_id)?;
        query.opt("partNumber", part.as_ref().map(Num::as_str))?;

        headers.opt("range", self.range)?;
        headers.opt("if-match", self.if_match)?;
        headers.opt("if-none-match", self.if_none_match)?;
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
    use crate::s3::actions::test_support::*;

    #[test]
    fn custom_endpoint_path_style() {
        let endpoint = custom("http://127.0.0.1:9000");
        let b = bucket("examplebucket");
        let p = HeadObject::new(&endpoint, &b, "a+b c+d.txt")
            .version_id("null")
            .part_number(1)
            .presign(&signer("us-east-1"), time(), expiry(3600))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "http://127.0.0.1:9000/examplebucket/a%2Bb%20c%2Bd.txt"
        );
        assert_eq!(params(&p), ["partNumber=1", "versionId=null"]);
        assert_eq!(signed_headers(&p), "host");
        assert_eq!(p.method(), "HEAD");
    }

    #[test]
    fn sse_customer_headers_are_signed() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let key = SseCustomerKey::new(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "zZ5FnqcIqUjVwvWmyog4zw==",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let p = HeadObject::new(&endpoint, &b, "k")
            .sse_customer_key(key)
            .presign(&signer("us-east-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            signed_headers(&p),
            "host;x-amz-server-side-encryption-customer-algorithm;\
             x-amz-server-side-encryption-customer-key;\
             x-amz-server-side-encryption-customer-key-md5"
        );
        assert!(!format!("{key:?}").contains("MDEy"));
    }

    #[test]
    fn part_number_is_checked() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let r = HeadObject::new(&endpoint, &b, "k").part_number(0).presign(
            &signer("us-east-1"),
            time(),
            expiry(60),
        );
        assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    }
}
