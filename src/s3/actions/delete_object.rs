//! DeleteObject.

use crate::s3::actions::{Operation, extra_setters, str_setters};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [DeleteObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html):
/// remove an object, or one version of it (`DELETE /key`).
///
/// ```
/// use presign::s3::{Bucket, DeleteObject, Endpoint};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = DeleteObject::new(&endpoint, &bucket, "old.txt")
///     .version_id("null")
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert_eq!(req.method(), "DELETE");
/// assert!(req.url().starts_with("https://examplebucket.s3.amazonaws.com/old.txt?"));
/// assert!(req.url().contains("&versionId=null&"));
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct DeleteObject<'a> {
    operation: Operation<'a>,
    version_id: Option<&'a str>,
}

impl<'a> DeleteObject<'a> {
    /// DeleteObject of `key` (used verbatim) in `bucket`.
    pub fn new(endpoint: &'a Endpoint, bucket: &Bucket<'a>, key: &'a str) -> Self {
        DeleteObject {
            operation: Operation::object(endpoint, bucket, key),
            version_id: None,
        }
    }

    str_setters! {
        /// `versionId` (query): delete this version permanently instead of adding a delete
        /// marker.
        version_id => version_id;
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
        query.opt("versionId", self.version_id)?;
        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::test_support::*;

    #[test]
    fn version_id_is_encoded() {
        let endpoint = aws("eu-west-1");
        let b = bucket("examplebucket");
        let p = DeleteObject::new(&endpoint, &b, "docs/file name.txt")
            .version_id("3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd")
            .presign(&signer("eu-west-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base(&p),
            "https://examplebucket.s3.eu-west-1.amazonaws.com/docs/file%20name.txt"
        );
        assert_eq!(
            params(&p),
            ["versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY%2BMTRCxf3vjVBH40Nrjfkd"]
        );
        assert_eq!(p.method(), "DELETE");
    }

    #[test]
    fn extra_headers_are_signed() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let p = DeleteObject::new(&endpoint, &b, "k")
            .extra_headers(&[("x-amz-bypass-governance-retention", "true")])
            .presign(&signer("us-east-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signed_headers(&p), "host;x-amz-bypass-governance-retention");
        let dup = DeleteObject::new(&endpoint, &b, "k")
            .extra_headers(&[("x-a", "1"), ("X-A", "2")])
            .presign(&signer("us-east-1"), time(), expiry(60));
        assert!(matches!(dup, Err(Error::InvalidParameter { .. })));
    }
}
