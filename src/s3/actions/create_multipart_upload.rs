//! CreateMultipartUpload.

use crate::s3::actions::{
    ChecksumAlgorithm, MetadataNames, ObjectAttributes, Operation, attribute_setters,
    extra_setters, setters,
};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [CreateMultipartUpload](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html):
/// start a multipart upload (`POST /key?uploads`). The response carries the `UploadId` that
/// [`crate::s3::UploadPart`], [`crate::s3::CompleteMultipartUpload`],
/// [`crate::s3::AbortMultipartUpload`] and [`crate::s3::ListParts`] take.
///
/// The object's type, metadata, ACL, storage class and encryption are set here, as signed
/// headers, not on the parts.
///
/// ```
/// use presign::s3::{Bucket, CreateMultipartUpload, Endpoint};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = CreateMultipartUpload::new(&endpoint, &bucket, "video.mp4")
///     .content_type("video/mp4")
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert_eq!(req.method(), "POST");
/// assert!(req.url().contains("&uploads=&"));
/// assert_eq!(req.headers().collect::<Vec<_>>(), [("content-type", "video/mp4")]);
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct CreateMultipartUpload<'a> {
    operation: Operation<'a>,
    attributes: ObjectAttributes<'a>,
    checksum_algorithm: Option<ChecksumAlgorithm>,
}

impl<'a> CreateMultipartUpload<'a> {
    /// CreateMultipartUpload of `key` (used verbatim) in `bucket`.
    pub fn new(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        CreateMultipartUpload {
            operation: Operation::object(endpoint, bucket, key),
            attributes: ObjectAttributes::default(),
            checksum_algorithm: None,
        }
    }

    attribute_setters!();

    setters! {
        /// `x-amz-checksum-algorithm` (signed header): the checksum every part will carry.
        checksum_algorithm(algorithm: ChecksumAlgorithm) => checksum_algorithm = Some(algorithm);
    }

    extra_setters!();

    /// Presigns the request (`POST`, with the valueless `uploads` parameter, signed as
    /// `uploads=`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let metadata = MetadataNames::build(self.attributes.metadata)?;
        let mut request = self.operation.request("POST");
        let (query, headers) = request.pairs();
        query.push("uploads", "")?;
        self.attributes.push_to(&metadata, headers)?;
        headers.opt(
            "x-amz-checksum-algorithm",
            self.checksum_algorithm.map(ChecksumAlgorithm::name),
        )?;
        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::test_support::*;

    #[test]
    fn uploads_and_attributes() {
        let endpoint = aws("eu-west-1");
        let b = bucket("my-bucket-2024");
        let p = CreateMultipartUpload::new(&endpoint, &b, "photos/2024/img 01.jpg")
            .metadata(&[("origin", "camera 1")])
            .storage_class("INTELLIGENT_TIERING")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .presign(&signer("eu-west-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://my-bucket-2024.s3.eu-west-1.amazonaws.com/photos/2024/img%2001.jpg"
        );
        assert_eq!(params(&p), ["uploads="]);
        assert_eq!(
            signed_headers(&p),
            "host;x-amz-checksum-algorithm;x-amz-meta-origin;x-amz-storage-class"
        );
        assert_eq!(p.method(), "POST");
    }

    #[test]
    fn metadata_is_validated() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let r = CreateMultipartUpload::new(&endpoint, &b, "k")
            .metadata(&[("a", "x"), ("A", "y")])
            .presign(&signer("us-east-1"), time(), expiry(60));
        assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    }
}
