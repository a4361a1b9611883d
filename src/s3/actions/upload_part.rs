//! UploadPart.

use crate::s3::actions::{
    ChecksumAlgorithm, Num, Operation, SseCustomerKey, body_setters, checksum, content_md5,
    extra_setters, part_number, setters, upload_id,
};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PayloadHash, PresignedRequest, Signer, SigningTime};

/// Presigns [UploadPart](https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html):
/// upload one part of a multipart upload (`PUT /key?partNumber=N&uploadId=ID`).
///
/// Presigning one URL per part lets a browser upload a large file in parallel without
/// credentials; the client keeps each response's `ETag` for
/// [`crate::s3::CompleteMultipartUpload`]. A checksum's algorithm must be the one given to
/// [`crate::s3::CreateMultipartUpload`].
///
/// ```
/// use presign::s3::{Bucket, Endpoint, UploadPart};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = UploadPart::new(&endpoint, &bucket, "video.mp4", "upload-id", 3)
///     .content_length(5 * 1024 * 1024)
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(3600).unwrap())
///     .unwrap();
/// assert!(req.url().contains("&partNumber=3&uploadId=upload-id&"));
/// assert_eq!(req.headers().collect::<Vec<_>>(), [("content-length", "5242880")]);
/// assert!(UploadPart::new(&endpoint, &bucket, "video.mp4", "upload-id", 10_001)
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(3600).unwrap())
///     .is_err());
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct UploadPart<'a> {
    operation: Operation<'a>,
    upload_id: &'a str,
    part_number: u32,
    content_length: Option<u64>,
    content_md5: Option<&'a str>,
    checksum: Option<(ChecksumAlgorithm, &'a str)>,
    sdk_checksum_algorithm: Option<ChecksumAlgorithm>,
    sse_customer: Option<SseCustomerKey<'a>>,
    payload: PayloadHash,
}

impl<'a> UploadPart<'a> {
    /// Part `part_number` (1..=10000, checked at presign) of upload `upload_id` of `key`.
    pub fn new(
        endpoint: &'a Endpoint,
        bucket: &Bucket<'a>,
        key: &'a str,
        upload_id: &'a str,
        part_number: u32,
    ) -> Self {
        UploadPart {
            operation: Operation::object(endpoint, bucket, key),
            upload_id,
            part_number,
            content_length: None,
            content_md5: None,
            checksum: None,
            sdk_checksum_algorithm: None,
            sse_customer: None,
            payload: PayloadHash::Unsigned,
        }
    }

    body_setters!();

    setters! {
        /// SSE-C: the key given to CreateMultipartUpload (signed headers).
        sse_customer_key(key: SseCustomerKey<'a>) => sse_customer = Some(key);
    }

    extra_setters!();

    /// Presigns the request (`PUT`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let part = part_number(self.part_number)?;
        let id = upload_id(self.upload_id)?;
        let length = self.content_length.map(Num::new);
        let md5 = self.content_md5.map(content_md5).transpose()?;
        let sum = self
            .checksum
            .map(|(algorithm, value)| checksum(algorithm, value))
            .transpose()?;

        let mut request = self.operation.request("PUT");
        request.set_payload(&self.payload);
        let (query, headers) = request.pairs();
        query.push("partNumber", part.as_str())?;
        query.push("uploadId", id)?;

        headers.opt("content-length", length.as_ref().map(Num::as_str))?;
        headers.opt("content-md5", md5)?;
        if let Some((name, value)) = sum {
            headers.push(name, value)?;
        }
        headers.opt(
            "x-amz-sdk-checksum-algorithm",
            self.sdk_checksum_algorithm.map(ChecksumAlgorithm::name),
        )?;
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
    fn query_and_headers() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let p = UploadPart::new(
            &endpoint,
            &b,
            "docs/file name.txt",
            "2~Kx.y_z-AB+/cd==",
            10_000,
        )
        .content_length(5)
        .checksum(
            ChecksumAlgorithm::Sha256,
            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
        )
        .presign(&signer("us-east-1"), time(), expiry(60))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            params(&p),
            ["partNumber=10000", "uploadId=2~Kx.y_z-AB%2B%2Fcd%3D%3D"]
        );
        assert_eq!(
            signed_headers(&p),
            "content-length;host;x-amz-checksum-sha256"
        );
        assert_eq!(p.method(), "PUT");
    }

    #[test]
    fn part_number_and_upload_id_are_checked() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let s = signer("us-east-1");
        for (id, part) in [("id", 0), ("id", 10_001), ("", 1)] {
            let r = UploadPart::new(&endpoint, &b, "k", id, part).presign(&s, time(), expiry(60));
            assert!(
                matches!(r, Err(Error::InvalidParameter { .. })),
                "{id:?} {part}"
            );
        }
        assert!(
            UploadPart::new(&endpoint, &b, "k", "id", 1)
                .presign(&s, time(), expiry(60))
                .is_ok()
        );
    }
}
