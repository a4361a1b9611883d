//! PutObject.

use crate::s3::actions::{
    ChecksumAlgorithm, MetadataNames, Num, ObjectAttributes, Operation, attribute_setters,
    body_setters, checksum, content_md5, extra_setters, str_setters,
};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PayloadHash, PresignedRequest, Signer, SigningTime};

/// Presigns [PutObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html):
/// upload an object in one request (`PUT /key`).
///
/// Everything set here is a signed header: the client must send the same `Content-Type`,
/// `Content-Length`, metadata, … or S3 answers `SignatureDoesNotMatch`. That is the point:
/// a presigned upload URL can pin the type, the size and the checksum of what is uploaded.
///
/// ```
/// use presign::s3::{Bucket, ChecksumAlgorithm, Endpoint, PutObject};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = PutObject::new(&endpoint, &bucket, "avatars/42.png")
///     .content_type("image/png")
///     .content_length(1024)
///     .metadata(&[("uploaded-by", "42")])
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(300).unwrap())
///     .unwrap();
/// assert_eq!(req.method(), "PUT");
/// assert_eq!(
///     req.headers().collect::<Vec<_>>(),
///     [("content-length", "1024"), ("content-type", "image/png"), ("x-amz-meta-uploaded-by", "42")]
/// );
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct PutObject<'a> {
    operation: Operation<'a>,
    attributes: ObjectAttributes<'a>,
    content_length: Option<u64>,
    content_md5: Option<&'a str>,
    checksum: Option<(ChecksumAlgorithm, &'a str)>,
    sdk_checksum_algorithm: Option<ChecksumAlgorithm>,
    if_match: Option<&'a str>,
    if_none_match: Option<&'a str>,
    payload: PayloadHash,
}

impl<'a> PutObject<'a> {
    /// PutObject of `key` (used verbatim) in `bucket`.
    pub fn new(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        PutObject {
            operation: Operation::object(endpoint, bucket, key),
            attributes: ObjectAttributes::default(),
            content_length: None,
            content_md5: None,
            checksum: None,
            sdk_checksum_algorithm: None,
            if_match: None,
            if_none_match: None,
            payload: PayloadHash::Unsigned,
        }
    }

    attribute_setters!();

    str_setters! {
        /// `If-None-Match` (signed header): `*` makes the upload fail if the key exists.
        if_none_match => if_none_match;
        /// `If-Match` (signed header): the upload only replaces an object with this ETag.
        if_match => if_match;
    }

    body_setters!();

    extra_setters!();

    /// Presigns the request (`PUT`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let length = self.content_length.map(Num::new);
        let md5 = self.content_md5.map(content_md5).transpose()?;
        let sum = self
            .checksum
            .map(|(algorithm, value)| checksum(algorithm, value))
            .transpose()?;
        let metadata = MetadataNames::build(self.attributes.metadata)?;

        let mut request = self.operation.request("PUT");
        request.set_payload(&self.payload);
        let (_, headers) = request.pairs();

        headers.opt("content-length", length.as_ref().map(Num::as_str))?;
        headers.opt("content-md5", md5)?;
        self.attributes.push_to(&metadata, headers)?;
        if let Some((name, value)) = sum {
            headers.push(name, value)?;
        }
        headers.opt(
            "x-amz-sdk-checksum-algorithm",
            self.sdk_checksum_algorithm.map(ChecksumAlgorithm::name),
        )?;
        headers.opt("if-match", self.if_match)?;
        headers.opt("if-none-match", self.if_none_match)?;

        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::SseCustomerKey;
    use crate::s3::actions::test_support::*;

    #[test]
    fn every_header_is_signed_and_returned() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let p = PutObject::new(&endpoint, &b, "docs/file name.txt")
            .acl("private")
            .content_length(11)
            .content_type("text/plain; charset=utf-8")
            .metadata(&[("a", "1"), ("B", "two words")])
            .storage_class("STANDARD")
            .server_side_encryption("aws:kms")
            .sse_kms_key_id("arn:aws:kms:us-east-1:111122223333:key/1234")
            .checksum(
                ChecksumAlgorithm::Sha256,
                "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
            )
            .sdk_checksum_algorithm(ChecksumAlgorithm::Sha256)
            .cache_control("no-cache")
            .content_disposition("attachment")
            .content_encoding("gzip")
            .content_language("en")
            .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
            .tagging("a=b&c=d")
            .if_none_match("*")
            .presign(&signer("us-east-1"), time(), expiry(3600))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://examplebucket.s3.amazonaws.com/docs/file%20name.txt"
        );
        assert!(params(&p).is_empty());
        assert_eq!(
            signed_headers(&p),
            "cache-control;content-disposition;content-encoding;content-language;\
             content-length;content-md5;content-type;host;if-none-match;x-amz-acl;\
             x-amz-checksum-sha256;x-amz-meta-a;x-amz-meta-b;x-amz-sdk-checksum-algorithm;\
             x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id;\
             x-amz-storage-class;x-amz-tagging"
        );
        let h = headers(&p);
        assert_eq!(h.len(), 17);
        assert!(h.contains(&("x-amz-meta-b".to_owned(), "two words".to_owned())));
        assert!(h.contains(&("content-length".to_owned(), "11".to_owned())));
    }

    #[test]
    fn sse_customer_and_payload() {
        let endpoint = custom("https://storage.example.com:8443");
        let b = bucket("examplebucket");
        let key = SseCustomerKey::new(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "zZ5FnqcIqUjVwvWmyog4zw==",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let body = PayloadHash::from_body(b"hello");
        let p = PutObject::new(&endpoint, &b, "k")
            .sse_customer_key(key)
            .payload(body)
            .presign(&signer("us-east-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "https://storage.example.com:8443/examplebucket/k");
        assert!(signed_headers(&p).ends_with("x-amz-server-side-encryption-customer-key-md5"));
        assert!(
            headers(&p).contains(&("x-amz-content-sha256".to_owned(), body.as_str().to_owned()))
        );
    }

    #[test]
    fn bad_values_are_refused() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let s = signer("us-east-1");
        let put = PutObject::new(&endpoint, &b, "k");
        let err = |p: PutObject<'_>| p.presign(&s, time(), expiry(60)).err();
        let invalid_parameter = |p| matches!(err(p), Some(Error::InvalidParameter { .. }));
        assert!(invalid_parameter(put.content_md5("abc")));
        assert!(invalid_parameter(
            put.checksum(ChecksumAlgorithm::Crc32, "AAAAAAAAAAA=")
        ));
        assert!(err(put.checksum(ChecksumAlgorithm::Crc32, "AAAAAA==")).is_none());
        // The right length and alphabet, but not the base64 of any 16 or 4 bytes: stray bits
        // after the last byte.
        assert!(err(put.content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")).is_none());
        assert!(invalid_parameter(
            put.content_md5("1B2M2Y8AsgTpgAmY7PhCfh==")
        ));
        assert!(invalid_parameter(
            put.checksum(ChecksumAlgorithm::Crc32, "AAAAAB==")
        ));
        assert!(err(put.checksum(ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=")).is_none());
        assert!(matches!(
            err(put.metadata(&[("bad name", "x")])),
            Some(Error::InvalidHeaderName(_))
        ));
        assert!(invalid_parameter(
            put.content_type("a")
                .extra_headers(&[("Content-Type", "b")])
        ));
        assert!(matches!(
            err(put.payload(PayloadHash::StreamingUnsignedTrailer)),
            Some(Error::InvalidPayloadHash(_))
        ));
    }
}
