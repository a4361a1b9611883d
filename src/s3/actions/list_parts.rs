//! ListParts.

use crate::s3::actions::{Num, Operation, extra_setters, setters, upload_id};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [ListParts](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html):
/// the parts uploaded so far (`GET /key?uploadId=ID`), to resume an interrupted upload.
///
/// ```
/// use presign::s3::{Bucket, Endpoint, ListParts};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = ListParts::new(&endpoint, &bucket, "video.mp4", "upload-id")
///     .max_parts(100)
///     .part_number_marker(3)
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert!(req.url().contains("&max-parts=100&part-number-marker=3&uploadId=upload-id&"));
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct ListParts<'a> {
    operation: Operation<'a>,
    upload_id: &'a str,
    max_parts: Option<u32>,
    part_number_marker: Option<u32>,
}

impl<'a> ListParts<'a> {
    /// Lists the parts of upload `upload_id` of `key`.
    pub fn new(
        endpoint: &'a Endpoint,
        bucket: &Bucket<'a>,
        key: &'a str,
        upload_id: &'a str,
    ) -> Self {
        ListParts {
            operation: Operation::object(endpoint, bucket, key),
            upload_id,
            max_parts: None,
            part_number_marker: None,
        }
    }

    setters! {
        /// `max-parts` (query): at most this many parts (S3 caps it at 1000).
        max_parts(max: u32) => max_parts = Some(max);
        /// `part-number-marker` (query): only parts after this number.
        part_number_marker(marker: u32) => part_number_marker = Some(marker);
    }

    extra_setters!();

    /// Presigns the request (`GET`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let max_parts = self.max_parts.map(|n| Num::new(u64::from(n)));
        let marker = self.part_number_marker.map(|n| Num::new(u64::from(n)));
        let mut request = self.operation.request("GET");
        let (query, _) = request.pairs();
        query.push("uploadId", upload_id(self.upload_id)?)?;
        query.opt("max-parts", max_parts.as_ref().map(Num::as_str))?;
        query.opt("part-number-marker", marker.as_ref().map(Num::as_str))?;
        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::test_support::*;

    #[test]
    fn paging_parameters() {
        let endpoint = custom("http://localhost:9000");
        let b = bucket("examplebucket");
        let p = ListParts::new(&endpoint, &b, "docs/file name.txt", "VXBsb2Fk")
            .max_parts(2)
            .part_number_marker(9999)
            .presign(&signer("us-east-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "http://localhost:9000/examplebucket/docs/file%20name.txt"
        );
        assert_eq!(
            params(&p),
            [
                "max-parts=2",
                "part-number-marker=9999",
                "uploadId=VXBsb2Fk"
            ]
        );
        assert_eq!(p.method(), "GET");
    }

    #[test]
    fn empty_upload_id_is_refused() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let r = ListParts::new(&endpoint, &b, "k", "").presign(
            &signer("us-east-1"),
            time(),
            expiry(60),
        );
        assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    }
}
