//! CompleteMultipartUpload.

use crate::s3::actions::{Operation, extra_setters, str_setters, upload_id};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [CompleteMultipartUpload](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html):
/// assemble the uploaded parts into the object (`POST /key?uploadId=ID`). The client sends
/// the XML list of part numbers and ETags as the body.
///
/// ```
/// use presign::s3::{Bucket, CompleteMultipartUpload, Endpoint};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = CompleteMultipartUpload::new(&endpoint, &bucket, "video.mp4", "upload-id")
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert_eq!(req.method(), "POST");
/// assert!(req.url().contains("&uploadId=upload-id&"));
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct CompleteMultipartUpload<'a> {
    operation: Operation<'a>,
    upload_id: &'a str,
    if_none_match: Option<&'a str>,
}

impl<'a> CompleteMultipartUpload<'a> {
    /// Completes upload `upload_id` of `key`.
    pub fn new(
        endpoint: &'a Endpoint,
        bucket: &Bucket<'a>,
        key: &'a str,
        upload_id: &'a str,
    ) -> Self {
        CompleteMultipartUpload {
            operation: Operation::object(endpoint, bucket, key),
            upload_id,
            if_none_match: None,
        }
    }

    str_setters! {
        /// `If-None-Match` (signed header): `*` makes completion fail if the key exists.
        if_none_match => if_none_match;
    }

    extra_setters!();

    /// Presigns the request (`POST`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let mut request = self.operation.request("POST");
        let (query, headers) = request.pairs();
        query.push("uploadId", upload_id(self.upload_id)?)?;
        headers.opt("if-none-match", self.if_none_match)?;
        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::test_support::*;

    #[test]
    fn upload_id_is_signed_in_the_query() {
        let endpoint = custom("https://storage.example.com:8443");
        let b = bucket("examplebucket");
        let p = CompleteMultipartUpload::new(&endpoint, &b, "a/b/c.bin", "2~Kx.y_z-AB+/cd==")
            .if_none_match("*")
            .presign(&signer("us-east-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://storage.example.com:8443/examplebucket/a/b/c.bin"
        );
        assert_eq!(params(&p), ["uploadId=2~Kx.y_z-AB%2B%2Fcd%3D%3D"]);
        assert_eq!(signed_headers(&p), "host;if-none-match");
        assert_eq!(p.method(), "POST");
    }

    #[test]
    fn empty_upload_id_is_refused() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let r = CompleteMultipartUpload::new(&endpoint, &b, "k", "").presign(
            &signer("us-east-1"),
            time(),
            expiry(60),
        );
        assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    }
}
