//! The integrity checks a body carries besides its SigV4 payload hash: `Content-MD5` and one
//! `x-amz-checksum-*` header (what botocore and the JS SDK add by default). Both are computed
//! while the body streams and compared before anything is committed. The checksums are
//! `presign`'s own ([`presign::chunked::Checksum`], all five S3 algorithms); MD5 (the ETag) is
//! the `md5` crate's.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest, Md5};
use presign::chunked::{Checksum, ChecksumAlgorithm, ChecksumValue};

use crate::error::S3Error;

/// The algorithm an `x-amz-checksum-algorithm` value names (any case: `CRC32`, `crc64nvme`,
/// …).
pub fn parse_algorithm(name: &str) -> Result<ChecksumAlgorithm, S3Error> {
    ChecksumAlgorithm::from_name(name)
        .ok_or_else(|| S3Error::invalid_argument(format!("unknown checksum algorithm {name:?}")))
}

/// What a body must match, and the running state to check it.
pub struct BodyDigests {
    md5: Md5,
    content_md5: Option<[u8; 16]>,
    /// The value declared (`None` while a trailing checksum has not arrived) and the running
    /// checksum (which knows its algorithm).
    checksum: Option<(Option<ChecksumValue>, Checksum)>,
}

impl BodyDigests {
    /// Reads `Content-MD5` and the `x-amz-checksum-*` header of a request (at most one).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, S3Error> {
        let content_md5 = match headers.get("content-md5") {
            None => None,
            Some(v) => {
                let bytes = B64
                    .decode(v.as_bytes())
                    .ok()
                    .and_then(|d| <[u8; 16]>::try_from(d).ok())
                    .ok_or_else(|| {
                        S3Error::new(
                            StatusCode::BAD_REQUEST,
                            "InvalidDigest",
                            "The Content-MD5 you specified was invalid.",
                        )
                    })?;
                Some(bytes)
            }
        };
        let mut checksum = None;
        for (name, value) in headers {
            let Some(alg) = name.as_str().strip_prefix("x-amz-checksum-") else {
                continue;
            };
            // x-amz-checksum-mode (GetObject) and -type (multipart) are not checksums.
            if matches!(alg, "mode" | "type" | "algorithm") {
                continue;
            }
            let algorithm = parse_algorithm(alg)?;
            if checksum.is_some() {
                return Err(S3Error::invalid_argument(
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            let expected = value
                .to_str()
                .ok()
                .and_then(|v| ChecksumValue::from_base64(algorithm, v))
                .ok_or_else(|| {
                    S3Error::invalid_argument(format!(
                        "Value for {} header is invalid.",
                        algorithm.header_name()
                    ))
                })?;
            checksum = Some((Some(expected), Checksum::new(algorithm)));
        }
        Ok(BodyDigests {
            md5: Md5::new(),
            content_md5,
            checksum,
        })
    }

    /// The checksum comes in a trailer, after the body (aws-chunked `x-amz-trailer`): it is
    /// computed as the body streams and compared once [`trailer_received`](Self::trailer_received)
    /// gives its value. A body declares one checksum, header or trailer.
    pub fn expect_trailer(&mut self, algorithm: ChecksumAlgorithm) -> Result<(), S3Error> {
        if self.checksum.is_some() {
            return Err(S3Error::invalid_argument(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
        self.checksum = Some((None, Checksum::new(algorithm)));
        Ok(())
    }

    /// The value of the trailing checksum, as received.
    pub fn trailer_received(&mut self, value: ChecksumValue) {
        if let Some((expected @ None, _)) = &mut self.checksum {
            *expected = Some(value);
        }
    }

    /// Feeds the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        if let Some((_, running)) = &mut self.checksum {
            running.update(bytes);
        }
    }

    /// Compares the declared digests with the body's; returns the body's MD5 (the ETag) and
    /// the verified checksum, if one was declared.
    pub fn finish(self) -> Result<([u8; 16], Option<ChecksumValue>), S3Error> {
        let md5: [u8; 16] = self.md5.finalize().into();
        if self.content_md5.is_some_and(|declared| declared != md5) {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
        let checksum = match self.checksum {
            None => None,
            Some((None, _)) => {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "MalformedTrailerError",
                    "The request contained trailing data that was not well-formed or did not conform to our published schema. The declared trailing checksum is missing.",
                ));
            }
            Some((Some(expected), running)) => {
                let computed = running.finalize();
                if computed != expected {
                    return Err(S3Error::new(
                        StatusCode::BAD_REQUEST,
                        "BadDigest",
                        format!(
                            "The {} you specified did not match the calculated checksum.",
                            expected.algorithm().name()
                        ),
                    ));
                }
                Some(computed)
            }
        };
        Ok((md5, checksum))
    }
}

/// The hex MD5 ETag of a body digest.
pub fn etag_hex(md5: &[u8; 16]) -> String {
    hex::encode(md5)
}

/// The ETag of a multipart object: the MD5 of the parts' binary MD5s, then `-<parts>`.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut h = Md5::new();
    for m in part_md5s {
        h.update(m);
    }
    format!("{}-{}", hex::encode(h.finalize()), part_md5s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(alg: ChecksumAlgorithm, data: &[u8]) -> ChecksumValue {
        let mut r = Checksum::new(alg);
        r.update(data);
        r.finalize()
    }

    #[test]
    fn algorithm_names_parse_in_any_case() {
        assert_eq!(
            parse_algorithm("crc64nvme").ok(),
            Some(ChecksumAlgorithm::Crc64Nvme)
        );
        assert_eq!(parse_algorithm("SHA1").ok(), Some(ChecksumAlgorithm::Sha1));
        assert_eq!(
            parse_algorithm("md5").unwrap_err().code(),
            "InvalidArgument"
        );
    }

    #[test]
    fn header_checksum_verifies_and_mismatch_is_bad_digest() {
        for alg in ChecksumAlgorithm::ALL {
            let mut headers = HeaderMap::new();
            // botocore's CRC32 of `hello` (tests/fixtures/botocore); the others computed.
            let good = digest(alg, b"hello");
            if alg == ChecksumAlgorithm::Crc32 {
                assert_eq!(good.to_base64(), "NhCmhg==");
            }
            headers.insert(alg.header_name(), good.to_base64().parse().unwrap());
            headers.insert("x-amz-checksum-mode", "ENABLED".parse().unwrap());
            let mut d = BodyDigests::from_headers(&headers).unwrap();
            d.update(b"hel");
            d.update(b"lo");
            let (md5, sum) = d.finish().unwrap();
            assert_eq!(etag_hex(&md5), "5d41402abc4b2a76b9719d911017c592");
            assert_eq!(sum, Some(good));

            let mut d = BodyDigests::from_headers(&headers).unwrap();
            d.update(b"world");
            assert_eq!(d.finish().unwrap_err().code(), "BadDigest");
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-checksum-crc32", "NhCmhg".parse().unwrap());
        assert_eq!(
            BodyDigests::from_headers(&headers).err().map(|e| e.code()),
            Some("InvalidArgument")
        );
    }

    #[test]
    fn trailing_checksum_is_compared_once_received() {
        let good = digest(ChecksumAlgorithm::Crc32c, b"hello");
        let mut d = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        d.expect_trailer(ChecksumAlgorithm::Crc32c).unwrap();
        d.update(b"hello");
        d.trailer_received(good);
        let (_, sum) = d.finish().unwrap();
        assert_eq!(sum, Some(good));

        let mut d = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        d.expect_trailer(ChecksumAlgorithm::Crc32c).unwrap();
        d.update(b"hello!");
        d.trailer_received(good);
        assert_eq!(d.finish().unwrap_err().code(), "BadDigest");

        let mut d = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        d.expect_trailer(ChecksumAlgorithm::Crc32).unwrap();
        assert_eq!(d.finish().unwrap_err().code(), "MalformedTrailerError");

        let mut headers = HeaderMap::new();
        headers.insert("x-amz-checksum-crc32", "NhCmhg==".parse().unwrap());
        let mut d = BodyDigests::from_headers(&headers).unwrap();
        assert_eq!(
            d.expect_trailer(ChecksumAlgorithm::Crc32)
                .unwrap_err()
                .code(),
            "InvalidArgument"
        );
    }
}
