//! ListObjectsV2.

use crate::s3::actions::{Num, Operation, extra_setters, setters, str_setters};
use crate::s3::{Bucket, Endpoint};
use crate::{Error, Expiry, PresignedRequest, Signer, SigningTime};

/// Presigns [ListObjectsV2](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html):
/// list a bucket (`GET /?list-type=2`, a bucket-level request).
///
/// `list-type=2` is always sent; nothing else is added on the caller's behalf (botocore adds
/// `encoding-type=url` when it is not given; here it is only sent when asked for, because
/// it changes how the response must be decoded).
///
/// ```
/// use presign::s3::{Bucket, Endpoint, ListObjectsV2};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let endpoint = Endpoint::aws("us-east-1").unwrap();
/// let bucket = Bucket::new("examplebucket").unwrap();
/// let req = ListObjectsV2::new(&endpoint, &bucket)
///     .prefix("photos/")
///     .max_keys(100)
///     .presign(&signer, SigningTime::parse_amz_date("20130524T000000Z").unwrap(), Expiry::from_secs(60).unwrap())
///     .unwrap();
/// assert!(req.url().starts_with(
///     "https://examplebucket.s3.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256"));
/// assert!(req.url().contains("&list-type=2&max-keys=100&prefix=photos%2F&"));
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct ListObjectsV2<'a> {
    operation: Operation<'a>,
    prefix: Option<&'a str>,
    delimiter: Option<&'a str>,
    max_keys: Option<u32>,
    continuation_token: Option<&'a str>,
    start_after: Option<&'a str>,
    fetch_owner: Option<bool>,
    encoding_type: Option<&'a str>,
}

impl<'a> ListObjectsV2<'a> {
    /// ListObjectsV2 of `bucket`.
    pub fn new(endpoint: &'a Endpoint, bucket: &Bucket<'a>) -> Self {
        ListObjectsV2 {
            operation: Operation::bucket(endpoint, bucket),
            prefix: None,
            delimiter: None,
            max_keys: None,
            continuation_token: None,
            start_after: None,
            fetch_owner: None,
            encoding_type: None,
        }
    }

    str_setters! {
        /// `prefix` (query): only keys starting with it.
        prefix => prefix;
        /// `delimiter` (query): group keys up to it into common prefixes (`/` for folders).
        delimiter => delimiter;
        /// `continuation-token` (query): the `NextContinuationToken` of the previous page.
        continuation_token => continuation_token;
        /// `start-after` (query): only keys after this one.
        start_after => start_after;
        /// `encoding-type` (query): `url` makes S3 percent-encode the keys in the response.
        encoding_type => encoding_type;
    }

    setters! {
        /// `max-keys` (query): at most this many keys (S3 caps it at 1000).
        max_keys(max: u32) => max_keys = Some(max);
        /// `fetch-owner` (query): `true` to include each object's owner.
        fetch_owner(fetch: bool) => fetch_owner = Some(fetch);
    }

    extra_setters!();

    /// Presigns the request (`GET`).
    pub fn presign(
        &self,
        signer: &Signer,
        time: SigningTime,
        expires: Expiry,
    ) -> Result<PresignedRequest, Error> {
        let max_keys = self.max_keys.map(|n| Num::new(u64::from(n)));
        let mut request = self.operation.request("GET");
        let (query, _) = request.pairs();
        query.push("list-type", "2")?;
        query.opt("prefix", self.prefix)?;
        query.opt("delimiter", self.delimiter)?;
        query.opt("max-keys", max_keys.as_ref().map(Num::as_str))?;
        query.opt("continuation-token", self.continuation_token)?;
        query.opt("start-after", self.start_after)?;
        query.opt(
            "fetch-owner",
            self.fetch_owner.map(|f| if f { "true" } else { "false" }),
        )?;
        query.opt("encoding-type", self.encoding_type)?;
        request.presign(signer, time, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::test_support::*;

    #[test]
    fn bucket_level_paths() {
        let s = signer("us-east-1");
        let b = bucket("examplebucket");
        let virt = aws("us-east-1");
        let p = ListObjectsV2::new(&virt, &b)
            .presign(&s, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "https://examplebucket.s3.amazonaws.com/");
        assert_eq!(params(&p), ["list-type=2"]);

        // Path style: `/bucket`, no trailing slash (as botocore).
        let path = custom("http://localhost:9000");
        let p = ListObjectsV2::new(&path, &b)
            .presign(&s, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "http://localhost:9000/examplebucket");

        // A dotted bucket on AWS goes path style automatically.
        let dotted = bucket("my.bucket.example");
        let p = ListObjectsV2::new(&virt, &dotted)
            .presign(&s, time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(base(&p), "https://s3.amazonaws.com/my.bucket.example");
    }

    #[test]
    fn every_parameter() {
        let endpoint = aws("eu-west-1");
        let b = bucket("examplebucket");
        let p = ListObjectsV2::new(&endpoint, &b)
            .delimiter("/")
            .encoding_type("url")
            .max_keys(50)
            .prefix("logs/")
            .continuation_token("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
            .fetch_owner(false)
            .start_after("logs/2024")
            .presign(&signer("eu-west-1"), time(), expiry(60))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            params(&p),
            [
                "continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D",
                "delimiter=%2F",
                "encoding-type=url",
                "fetch-owner=false",
                "list-type=2",
                "max-keys=50",
                "prefix=logs%2F",
                "start-after=logs%2F2024",
            ]
        );
    }

    #[test]
    fn list_type_cannot_be_overridden() {
        let endpoint = aws("us-east-1");
        let b = bucket("examplebucket");
        let r = ListObjectsV2::new(&endpoint, &b)
            .extra_query(&[("list-type", "1")])
            .presign(&signer("us-east-1"), time(), expiry(60));
        assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    }
}
