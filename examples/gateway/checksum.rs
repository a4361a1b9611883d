//! The integrity checks a body carries besides its SigV4 payload hash: `Content-MD5` and one
//! `x-amz-checksum-*` header (what botocore and the JS SDK add by default). Both are computed
//! while the body streams and compared before anything is committed.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::error::S3Error;

/// A checksum algorithm this gateway verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// CRC-32 (IEEE), the SDKs' default.
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// SHA-256.
    Sha256,
}

impl Algorithm {
    /// The algorithm of an `x-amz-checksum-<name>` header or an `x-amz-checksum-algorithm`
    /// value (any case).
    pub fn parse(name: &str) -> Result<Self, S3Error> {
        match name.to_ascii_lowercase().as_str() {
            "crc32" => Ok(Algorithm::Crc32),
            "crc32c" => Ok(Algorithm::Crc32c),
            "sha256" => Ok(Algorithm::Sha256),
            "sha1" | "crc64nvme" => Err(S3Error::not_implemented(format!(
                "this gateway verifies CRC32, CRC32C and SHA256 checksums, not {name}"
            ))),
            _ => Err(S3Error::invalid_argument(format!(
                "unknown checksum algorithm {name:?}"
            ))),
        }
    }

    /// The lowercase name in header names (`crc32`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "crc32",
            Algorithm::Crc32c => "crc32c",
            Algorithm::Sha256 => "sha256",
        }
    }

    /// The header carrying the value (`x-amz-checksum-crc32`).
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The digest size in bytes.
    fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Sha256 => 32,
        }
    }
}

/// A running checksum.
#[derive(Clone)]
enum Running {
    Crc(u32, &'static [u32; 256]),
    Sha256(Sha256),
}

/// What a body must match, and the running state to check it.
pub struct BodyDigests {
    md5: Md5,
    content_md5: Option<[u8; 16]>,
    /// The algorithm, the value declared (`None` while a trailing checksum has not arrived)
    /// and the running checksum.
    checksum: Option<(Algorithm, Option<Vec<u8>>, Running)>,
}

/// A checksum a stored object or part keeps: algorithm and base64 value.
pub type Checksum = (Algorithm, String);

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
            let algorithm = Algorithm::parse(alg)?;
            if checksum.is_some() {
                return Err(S3Error::invalid_argument(
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            let expected = B64
                .decode(value.as_bytes())
                .ok()
                .filter(|d| d.len() == algorithm.digest_len())
                .ok_or_else(|| {
                    S3Error::invalid_argument(format!(
                        "Value for {} header is invalid.",
                        algorithm.header()
                    ))
                })?;
            checksum = Some((algorithm, Some(expected), Running::new(algorithm)));
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
    pub fn expect_trailer(&mut self, algorithm: Algorithm) -> Result<(), S3Error> {
        if self.checksum.is_some() {
            return Err(S3Error::invalid_argument(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
        self.checksum = Some((algorithm, None, Running::new(algorithm)));
        Ok(())
    }

    /// The value of the trailing checksum, as received.
    pub fn trailer_received(&mut self, value: &[u8]) {
        if let Some((_, expected @ None, _)) = &mut self.checksum {
            *expected = Some(value.to_vec());
        }
    }

    /// Feeds the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        if let Some((_, _, running)) = &mut self.checksum {
            running.update(bytes);
        }
    }

    /// Compares the declared digests with the body's; returns the body's MD5 (the ETag) and
    /// the verified checksum, if one was declared.
    pub fn finish(self) -> Result<([u8; 16], Option<Checksum>), S3Error> {
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
            Some((_, None, _)) => {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "MalformedTrailerError",
                    "The request contained trailing data that was not well-formed or did not conform to our published schema. The declared trailing checksum is missing.",
                ));
            }
            Some((algorithm, Some(expected), running)) => {
                let computed = running.finish();
                if computed != expected {
                    return Err(S3Error::new(
                        StatusCode::BAD_REQUEST,
                        "BadDigest",
                        format!(
                            "The {} you specified did not match the calculated checksum.",
                            algorithm.name().to_ascii_uppercase()
                        ),
                    ));
                }
                Some((algorithm, B64.encode(computed)))
            }
        };
        Ok((md5, checksum))
    }
}

impl Running {
    /// A fresh running checksum.
    fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Crc32 => Running::Crc(!0, &CRC32_TABLE),
            Algorithm::Crc32c => Running::Crc(!0, &CRC32C_TABLE),
            Algorithm::Sha256 => Running::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Running::Crc(crc, table) => {
                for &b in bytes {
                    let index = usize::from((*crc as u8) ^ b);
                    *crc = table.get(index).copied().unwrap_or(0) ^ (*crc >> 8);
                }
            }
            Running::Sha256(h) => h.update(bytes),
        }
    }

    /// The digest (CRCs big-endian, as S3 encodes them).
    fn finish(self) -> Vec<u8> {
        match self {
            Running::Crc(crc, _) => (!crc).to_be_bytes().to_vec(),
            Running::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// The byte-at-a-time table of a reflected CRC-32 polynomial.
const fn crc_table(poly: u32) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC32_TABLE: [u32; 256] = crc_table(0xEDB8_8320);
static CRC32C_TABLE: [u32; 256] = crc_table(0x82F6_3B78);

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

    fn digest(alg: Algorithm, data: &[u8]) -> Vec<u8> {
        let mut r = Running::new(alg);
        r.update(data);
        r.finish()
    }

    #[test]
    fn crc_check_values() {
        // The standard check inputs of both polynomials.
        assert_eq!(
            digest(Algorithm::Crc32, b"123456789"),
            0xCBF4_3926u32.to_be_bytes()
        );
        assert_eq!(
            digest(Algorithm::Crc32c, b"123456789"),
            0xE306_9283u32.to_be_bytes()
        );
    }

    #[test]
    fn header_checksum_verifies_and_mismatch_is_bad_digest() {
        let mut headers = HeaderMap::new();
        let good = B64.encode(digest(Algorithm::Crc32, b"hello"));
        headers.insert("x-amz-checksum-crc32", good.parse().unwrap());
        headers.insert("x-amz-checksum-mode", "ENABLED".parse().unwrap());
        let mut d = BodyDigests::from_headers(&headers).unwrap();
        d.update(b"hel");
        d.update(b"lo");
        let (md5, sum) = d.finish().unwrap();
        assert_eq!(etag_hex(&md5), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(sum, Some((Algorithm::Crc32, good)));

        let mut d = BodyDigests::from_headers(&headers).unwrap();
        d.update(b"world");
        assert_eq!(d.finish().unwrap_err().code(), "BadDigest");
    }

    #[test]
    fn trailing_checksum_is_compared_once_received() {
        let good = digest(Algorithm::Crc32c, b"hello");
        let mut d = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        d.expect_trailer(Algorithm::Crc32c).unwrap();
        d.update(b"hello");
        d.trailer_received(&good);
        let (_, sum) = d.finish().unwrap();
        assert_eq!(sum, Some((Algorithm::Crc32c, B64.encode(&good))));

        let mut d = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        d.expect_trailer(Algorithm::Crc32c).unwrap();
        d.update(b"hello!");
        d.trailer_received(&good);
        assert_eq!(d.finish().unwrap_err().code(), "BadDigest");

        let mut d = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        d.expect_trailer(Algorithm::Crc32).unwrap();
        assert_eq!(d.finish().unwrap_err().code(), "MalformedTrailerError");

        let mut headers = HeaderMap::new();
        headers.insert("x-amz-checksum-crc32", "NhCmhg==".parse().unwrap());
        let mut d = BodyDigests::from_headers(&headers).unwrap();
        assert_eq!(
            d.expect_trailer(Algorithm::Crc32).unwrap_err().code(),
            "InvalidArgument"
        );
    }
}
