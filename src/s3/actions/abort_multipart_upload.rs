//! AbortMultipartUpload.

use crate::s3::actions::{Operation, extra_setters, upload_id};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [AbortMultipartUpload](https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html):
/// discard a multipart upload and its parts (`DELETE /key?uploadId=ID`).
///
/// ```
/// use presign::s3::{AbortMultipartUpload, Bucket, Endpoint};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = AbortMultipartUpload::new(&endpoint, &bucket, "video.mp4", "upload-id")
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert_eq!(req.method(), "DELETE");
/// assert!(req.url().contains("&uploadId=upload-id&"));
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct AbortMultipartUpload<'a> {
    operation: Operation<'a>,
    upload_id: &'a str,
}

impl<'a> AbortMultipartUpload<'a> {
    /// Aborts upload `upload_id` of `key`.
    pub fn new(
        endpoint: &'a Endpoint,
        bucket: &Bucket<'a>,
        key: &'a str,
        upload_id: &'a str,
    ) -> Self {
        AbortMultipartUpload {
            operation: Operation::object(endpoint, bucket, key),
            upload_id,
        }
    }

    extra_setters!();

    /// Presigns the request (`DELETE`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let mut request = self.operation.request("DELETE");
        let (query, _) = request.pairs();
        query.push("uploadId", upload_id(self.upload_id)?)?;
        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::test_support::*;

    #[test]
    fn delete_with_upload_id() {
        let endpoint = aws("cn-north-1");
        let b = bucket("abc");
        let p = AbortMultipartUpload::new(&endpoint, &b, "video.mp4", "VXBsb2Fk")
            .presign(&signer("cn-north-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://abc.s3.cn-north-1.amazonaws.com.cn/video.mp4"
        );
        assert_eq!(params(&p), ["uploadId=VXBsb2Fk"]);
        assert_eq!(p.method(), "DELETE");
    }

    #[test]
    fn empty_upload_id_is_refused() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let r = AbortMultipartUpload::new(&endpoint, &b, "k", "").presign(
            &signer("us-east-1"),
            time(),
            expiry(60),
        );
        assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    }
}
