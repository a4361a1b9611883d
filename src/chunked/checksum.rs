//! Trailing checksums: the `x-amz-checksum-*` values an aws-chunked upload carries after its
//! last chunk.
//!
//! Each algorithm comes from a maintained crate (`crc32fast`, `crc32c`, `crc` for CRC-64/NVME,
//! `sha1`, `sha2`); values travel as standard base64 (with padding) of the big-endian digest, as
//! S3 and every SDK write them.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest as _;

/// A checksum algorithm S3 accepts in `x-amz-trailer` (and in `x-amz-checksum-*` headers).
///
/// ```
/// use presign::chunked::ChecksumAlgorithm;
/// let alg = ChecksumAlgorithm::from_header_name("X-Amz-Checksum-CRC32C").unwrap();
/// assert_eq!(alg, ChecksumAlgorithm::Crc32c);
/// assert_eq!(alg.header_name(), "x-amz-checksum-crc32c");
/// assert_eq!(alg.name(), "CRC32C");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib): 4 bytes.
    Crc32,
    /// CRC-32C (Castagnoli): 4 bytes.
    Crc32c,
    /// CRC-64/NVME: 8 bytes.
    Crc64Nvme,
    /// SHA-1: 20 bytes.
    Sha1,
    /// SHA-256: 32 bytes.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in S3's documentation order.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The lowercase header (and trailer) name: `x-amz-checksum-crc32`, ….
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm's S3 name (`x-amz-sdk-checksum-algorithm`, `ChecksumAlgorithm`): `CRC32`,
    /// `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The algorithm an S3 name (any case) stands for: the value of `x-amz-checksum-algorithm`
    /// or `x-amz-sdk-checksum-algorithm`, the inverse of [`name`](Self::name).
    ///
    /// ```
    /// use presign::chunked::ChecksumAlgorithm;
    /// assert_eq!(ChecksumAlgorithm::from_name("crc64nvme"), Some(ChecksumAlgorithm::Crc64Nvme));
    /// assert_eq!(ChecksumAlgorithm::from_name("MD5"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::named(name, Self::name)
    }

    /// The algorithm a header name (any case) stands for.
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::named(name, Self::header_name)
    }

    /// The algorithm whose `naming` equals `name`, ignoring ASCII case.
    fn named(name: &str, naming: fn(Self) -> &'static str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|&a| naming(a).eq_ignore_ascii_case(name))
    }

    /// Bytes of a digest.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// Characters of a digest in padded base64 (what goes on the wire).
    pub fn base64_len(self) -> usize {
        // At most 32 bytes: 44 characters, never an overflow.
        padded_base64_len(self.digest_len()).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// CRC-64/NVME with a 16-way slicing table, built at compile time.
static CRC64_NVME: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

/// A running checksum of a body.
///
/// ```
/// use presign::chunked::{Checksum, ChecksumAlgorithm};
/// let mut c = Checksum::new(ChecksumAlgorithm::Crc32);
/// c.update(b"hel");
/// c.update(b"lo");
/// // botocore's `hdr-put-hello-https-default` trailer.
/// assert_eq!(c.finalize().to_base64(), "NhCmhg==");
/// ```
#[derive(Clone)]
pub struct Checksum {
    state: State,
}

#[derive(Clone)]
enum State {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc::Digest<'static, u64, crc::Table<16>>),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Checksum {
    /// An empty checksum of `algorithm`.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => State::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => State::Crc64Nvme(CRC64_NVME.digest()),
            ChecksumAlgorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
        };
        Checksum { state }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self.state {
            State::Crc32(_) => ChecksumAlgorithm::Crc32,
            State::Crc32c(_) => ChecksumAlgorithm::Crc32c,
            State::Crc64Nvme(_) => ChecksumAlgorithm::Crc64Nvme,
            State::Sha1(_) => ChecksumAlgorithm::Sha1,
            State::Sha256(_) => ChecksumAlgorithm::Sha256,
        }
    }

    /// Adds the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            State::Crc32(h) => h.update(bytes),
            State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, bytes),
            State::Crc64Nvme(d) => d.update(bytes),
            State::Sha1(h) => h.update(bytes),
            State::Sha256(h) => h.update(bytes),
        }
    }

    /// The checksum of everything added.
    pub fn finalize(self) -> ChecksumValue {
        let mut value = ChecksumValue {
            algorithm: self.algorithm(),
            bytes: [0; 32],
        };
        match self.state {
            State::Crc32(h) => value.set(&h.finalize().to_be_bytes()),
            State::Crc32c(crc) => value.set(&crc.to_be_bytes()),
            State::Crc64Nvme(d) => value.set(&d.finalize().to_be_bytes()),
            State::Sha1(h) => value.set(&h.finalize()),
            State::Sha256(h) => value.set(&h.finalize()),
        }
        value
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checksum")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// A checksum digest: the bytes, and their base64 as sent in `x-amz-checksum-*`.
///
/// ```
/// use presign::chunked::{ChecksumAlgorithm, ChecksumValue};
/// let v = ChecksumValue::from_base64(ChecksumAlgorithm::Crc32c, "sOO8/Q==").unwrap();
/// assert_eq!(v.as_bytes(), &[0xb0, 0xe3, 0xbc, 0xfd]);
/// assert!(ChecksumValue::from_base64(ChecksumAlgorithm::Crc32, "sOO8/Q").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChecksumValue {
    algorithm: ChecksumAlgorithm,
    // The longest digest (SHA-256) fits; shorter ones use a prefix.
    bytes: [u8; 32],
}

impl ChecksumValue {
    fn set(&mut self, digest: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(..digest.len()) {
            dst.copy_from_slice(digest);
        }
    }

    /// Parses a received value: padded standard base64 of exactly the algorithm's digest
    /// length. Anything else (wrong length, URL-safe alphabet, missing padding) is `None`.
    pub fn from_base64(algorithm: ChecksumAlgorithm, text: &str) -> Option<Self> {
        let bytes = decode_base64_exact(text, algorithm.digest_len())?;
        Some(ChecksumValue { algorithm, bytes })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// The digest bytes (big-endian for the CRCs).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(..self.algorithm.digest_len())
            .unwrap_or_default()
    }

    /// The padded standard base64 of the digest.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.as_bytes())
    }
}

impl fmt::Debug for ChecksumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.header_name(), self.to_base64())
    }
}

impl fmt::Display for ChecksumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// Characters of the padded base64 of `bytes` bytes (`None` past `usize`).
fn padded_base64_len(bytes: usize) -> Option<usize> {
    bytes.div_ceil(3).checked_mul(4)
}

/// The `len` bytes (at most 32, the rest zero) that `text` encodes as padded standard base64
/// with no stray bits, or `None` when it is not exactly that: the one check of every base64
/// value S3 carries in a header (checksums, `Content-MD5`, the SSE-C key and its MD5).
pub(crate) fn decode_base64_exact(text: &str, len: usize) -> Option<[u8; 32]> {
    // Padded base64 of `len` bytes has exactly this many characters; it also bounds the
    // decoding below.
    if Some(text.len()) != padded_base64_len(len) {
        return None;
    }
    // `decode_slice` asks for room for its estimate, 3 bytes per 4 characters: 33 for 32.
    let mut decoded = [0u8; 33];
    let n = STANDARD.decode_slice(text, &mut decoded).ok()?;
    if n != len {
        return None;
    }
    let mut bytes = [0u8; 32];
    bytes.get_mut(..n)?.copy_from_slice(decoded.get(..n)?);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(alg: ChecksumAlgorithm, body: &[u8]) -> String {
        let mut c = Checksum::new(alg);
        c.update(body);
        c.finalize().to_base64()
    }

    #[test]
    fn base64_values_decode_to_exactly_their_length() {
        let md5_of_empty = [
            0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
            0x42, 0x7e,
        ];
        let decoded = decode_base64_exact("1B2M2Y8AsgTpgAmY7PhCfg==", 16);
        assert_eq!(
            decoded.as_ref().and_then(|b| b.get(..16)),
            Some(&md5_of_empty[..])
        );
        assert_eq!(
            decoded.as_ref().and_then(|b| b.get(16..)),
            Some(&[0u8; 16][..])
        );
        assert_eq!(decode_base64_exact("AAAAAA==", 4), Some([0; 32]));
        assert!(decode_base64_exact("AAAA", 3).is_some());
        assert!(decode_base64_exact("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", 32).is_some());
        for (text, len) in [
            ("1B2M2Y8AsgTpgAmY7PhCfg=", 16),  // one padding character short
            ("1B2M2Y8AsgTpgAmY7PhCf===", 16), // padding where a digit belongs
            ("1B2M2Y8AsgTpgAmY7PhC-g==", 16), // URL-safe alphabet
            ("1B2M2Y8AsgTpgAmY7PhCfg==", 15), // the base64 of another length
            ("1B2M2Y8AsgTpgAmY7PhCfg==", 17),
            ("AAAAAB==", 4), // stray bits after the last byte
            ("", 16),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 36), // longer than 32 bytes
        ] {
            assert_eq!(
                decode_base64_exact(text, len),
                None,
                "{text:?} as {len} bytes"
            );
        }
    }

    #[test]
    fn names_and_header_names_map_back_to_their_algorithm() {
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(alg.name()), Some(alg));
            let lower = alg.name().to_ascii_lowercase();
            assert_eq!(ChecksumAlgorithm::from_name(&lower), Some(alg));
            let upper = alg.header_name().to_ascii_uppercase();
            assert_eq!(ChecksumAlgorithm::from_header_name(&upper), Some(alg));
            // A name is not a header name, nor the other way round.
            assert_eq!(ChecksumAlgorithm::from_header_name(alg.name()), None);
            assert_eq!(ChecksumAlgorithm::from_name(alg.header_name()), None);
        }
        assert_eq!(ChecksumAlgorithm::from_name("CRC"), None);
        assert_eq!(ChecksumAlgorithm::from_name(""), None);
    }

    #[test]
    fn aws_documentation_crc32c() {
        // aws-doc-examples.md §3b: the trailer of 66560 × 'a' is `sOO8/Q==`.
        assert_eq!(of(ChecksumAlgorithm::Crc32c, &[b'a'; 66560]), "sOO8/Q==");
    }

    #[test]
    fn sdk_trailers_for_hello() {
        // botocore 1.44.5 fixtures (tests/fixtures/botocore/requests.json), body `hello`.
        assert_eq!(of(ChecksumAlgorithm::Crc32, b"hello"), "NhCmhg==");
        assert_eq!(
            of(ChecksumAlgorithm::Sha256, b"hello"),
            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        );
    }

    #[test]
    fn empty_crc64nvme() {
        // JS SDK fixture `chunked-unsigned-trailer-crc64nvme-0`.
        assert_eq!(of(ChecksumAlgorithm::Crc64Nvme, b""), "AAAAAAAAAAA=");
    }

    #[test]
    fn split_updates_equal_one_update() {
        let body: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        for alg in ChecksumAlgorithm::ALL {
            let mut c = Checksum::new(alg);
            for piece in body.chunks(7) {
                c.update(piece);
            }
            assert_eq!(c.finalize().to_base64(), of(alg, &body), "{alg}");
        }
    }

    #[test]
    fn base64_lengths_and_strictness() {
        for alg in ChecksumAlgorithm::ALL {
            let text = of(alg, b"x");
            assert_eq!(text.len(), alg.base64_len());
            let parsed = ChecksumValue::from_base64(alg, &text);
            assert_eq!(parsed.map(|v| v.to_base64()), Some(text.clone()));
            assert!(ChecksumValue::from_base64(alg, text.trim_end_matches('=')).is_none());
            assert!(ChecksumValue::from_base64(alg, &format!("{text}A")).is_none());
        }
        assert!(ChecksumValue::from_base64(ChecksumAlgorithm::Crc32, "NhCm!g==").is_none());
    }
}
