//! The string to sign: algorithm, timestamp, scope and the hash of the canonical request.

use hmac::Mac;

use crate::Scope;
use crate::sink::Sink;
use crate::time::AmzDate;

/// The SigV4 algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

impl Sink for hmac::Hmac<sha2::Sha256> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// Streams `AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex hash>` into `sink`.
pub(crate) fn write_string_to_sign<S: Sink>(
    amz_date: &AmzDate,
    scope: &str,
    canonical_request_hash: &[u8; 32],
    sink: &mut S,
) {
    sink.put(ALGORITHM.as_bytes());
    sink.put(b"\n");
    sink.put(amz_date.as_bytes());
    sink.put(b"\n");
    sink.put(scope.as_bytes());
    sink.put(b"\n");
    sink.put(&crate::sink::hex32(canonical_request_hash));
}

/// The string to sign for a canonical request text.
///
/// ```
/// use presign::{string_to_sign, Scope, SigningTime};
/// let t = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
/// let scope = Scope::new(t.date(), "us-east-1", "s3").unwrap();
/// let sts = string_to_sign(&t.amz_date(), &scope, "GET\n/\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD");
/// assert!(sts.starts_with("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"));
/// ```
pub fn string_to_sign(amz_date: &AmzDate, scope: &Scope, canonical_request: &str) -> String {
    use sha2::Digest;
    let hash: [u8; 32] = sha2::Sha256::digest(canonical_request.as_bytes()).into();
    let mut out = Vec::with_capacity(160);
    write_string_to_sign(amz_date, &scope.to_string(), &hash, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
