//! The derived signing key: `HMAC("AWS4"+secret, date) → region → service → "aws4_request"`.
//!
//! Kept as a pre-keyed HMAC state: the two key blocks are hashed once per derivation, not once
//! per signature.

use core::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Scope;
use crate::scope::SCOPE_TERMINATOR;
use crate::time::write_date8;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Zeroizing::new([0; 32]),
    };
    mac.update(data);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// A derived SigV4 signing key for one scope.
///
/// `Debug` does not show it; the key bytes are zeroized on drop.
///
/// ```
/// use presign::{Scope, SigningKey, SigningTime};
/// // The AWS General Reference example ("derive a signing key").
/// let date = SigningTime::parse_amz_date("20120215T000000Z").unwrap().date();
/// let scope = Scope::new(date, "us-east-1", "iam").unwrap();
/// let key = SigningKey::derive("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &scope);
/// assert_eq!(
///     hex::encode(key.to_bytes()),
///     "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
/// );
/// ```
#[derive(Clone)]
pub struct SigningKey {
    bytes: Zeroizing<[u8; 32]>,
    mac: HmacSha256,
}

impl SigningKey {
    /// Derives the key for `scope` from a secret access key.
    pub fn derive(secret_access_key: &str, scope: &Scope) -> Self {
        Self::derive_parts(
            secret_access_key,
            scope.date(),
            scope.region(),
            scope.service(),
        )
    }

    pub(crate) fn derive_parts(
        secret_access_key: &str,
        date: time::Date,
        region: &str,
        service: &str,
    ) -> Self {
        let mut date8 = [0u8; 8];
        write_date8(date, &mut date8);
        // "AWS4" + secret, on the stack when it fits an HMAC block (real secrets do).
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "a str holds at most isize::MAX bytes, so 4 more fit in usize"
        )]
        let seed_len = 4 + secret_access_key.len();
        let mut inline = Zeroizing::new([0u8; 64]);
        let k_date = match inline.get_mut(..seed_len) {
            Some(seed) => {
                let (prefix, secret) = seed.split_at_mut(4);
                prefix.copy_from_slice(b"AWS4");
                secret.copy_from_slice(secret_access_key.as_bytes());
                hmac(seed, &date8)
            }
            None => {
                let mut seed = Zeroizing::new(Vec::with_capacity(seed_len));
                seed.extend_from_slice(b"AWS4");
                seed.extend_from_slice(secret_access_key.as_bytes());
                hmac(&seed, &date8)
            }
        };
        let k_region = hmac(&*k_date, region.as_bytes());
        let k_service = hmac(&*k_region, service.as_bytes());
        let bytes = hmac(&*k_service, SCOPE_TERMINATOR.as_bytes());
        Self::from_bytes(*bytes)
    }

    /// Wraps already-derived key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        let mac = match HmacSha256::new_from_slice(&*bytes) {
            Ok(mac) => mac,
            // Unreachable: HMAC takes keys of any length.
            Err(_) => HmacSha256::new(&Default::default()),
        };
        SigningKey { bytes, mac }
    }

    /// The derived key bytes (for debugging a mismatch; treat them as a secret).
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.bytes
    }

    /// A fresh HMAC state keyed with this key (a copy of the pre-keyed state).
    #[inline]
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// HMAC-SHA256 of `message` under this key: the signature of a string to sign.
    pub fn sign(&self, message: &[u8]) -> Signature {
        let mut mac = self.mac();
        mac.update(message);
        Signature(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// A SigV4 signature: 32 bytes, shown as 64 lowercase hex digits.
///
/// It deliberately has no `PartialEq`: compare signatures with [`Signature::verify_hex`], which
/// runs in constant time. Comparing with `==` does not compile:
///
/// ```compile_fail
/// use presign::{Scope, SigningKey, SigningTime};
/// let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
/// let key = SigningKey::derive("secret", &Scope::new(time.date(), "us-east-1", "s3").unwrap());
/// let (a, b) = (key.sign(b"a"), key.sign(b"b"));
/// let _ = a == b;
/// ```
///
/// while the same signatures compare through [`Signature::verify_hex`]:
///
/// ```
/// use presign::{Scope, SigningKey, SigningTime};
/// let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
/// let key = SigningKey::derive("secret", &Scope::new(time.date(), "us-east-1", "s3").unwrap());
/// let (a, b) = (key.sign(b"a"), key.sign(b"b"));
/// assert!(a.verify_hex(a.to_hex().as_str()) && !a.verify_hex(b.to_hex().as_str()));
/// ```
#[derive(Clone, Copy)]
pub struct Signature(pub(crate) [u8; 32]);

impl Signature {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex digits, on the stack.
    pub fn to_hex(&self) -> SignatureHex {
        SignatureHex(crate::sink::hex32(&self.0))
    }

    /// Constant-time comparison with a hex signature as received (64 lowercase hex digits).
    pub fn verify_hex(&self, received: &str) -> bool {
        match decode_lower_hex32(received) {
            Some(decoded) => constant_time_eq(&self.0, &decoded),
            None => false,
        }
    }
}

/// Decodes exactly 64 lowercase hex digits (what a signature must be) without branching on
/// the digits: every digit's value first, then the pairs joined. Both loops run over fixed
/// sizes with compares and masks, so they compile to sixteen-byte vector operations (about
/// two thirds of the instructions of a word-at-a-time decoder).
pub(crate) fn decode_lower_hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = <&[u8; 64]>::try_from(text.as_bytes()).ok()?;
    let mut nibbles = [0u8; 64];
    let mut invalid = false;
    for (nibble, &c) in nibbles.iter_mut().zip(bytes) {
        let digit = c.wrapping_sub(b'0');
        let letter = c.wrapping_sub(b'a');
        *nibble = if digit < 10 {
            digit
        } else {
            letter.wrapping_add(10)
        };
        invalid |= digit >= 10 && letter >= 6;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(nibbles.chunks_exact(2)) {
        if let [hi, lo] = *pair {
            *byte = (hi << 4) | (lo & 0x0f);
        }
    }
    (!invalid).then_some(out)
}

/// Constant-time equality of two byte strings of the same public length.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the optimiser from turning the fold into an early exit.
    core::hint::black_box(diff) == 0
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_hex().as_str())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_hex().as_str())
    }
}

/// 64 lowercase hex digits of a signature, on the stack.
#[derive(Clone, Copy)]
pub struct SignatureHex([u8; 64]);

impl SignatureHex {
    /// The hex text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningTime;

    #[test]
    fn s3_documentation_signing_key() {
        // aws-doc-examples.md: examples 1-3 derive dbb893ac… for 20130524/us-east-1/s3.
        let date = SigningTime::parse_amz_date("20130524T000000Z").map(|t| t.date());
        let scope = date.and_then(|d| Scope::new(d, "us-east-1", "s3"));
        let key = scope.map(|s| SigningKey::derive("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &s));
        assert_eq!(
            key.map(|k| hex::encode(k.to_bytes())).ok().as_deref(),
            Some("dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
        );
    }

    #[test]
    fn secrets_of_any_length_derive_by_the_definition() {
        let date = SigningTime::parse_amz_date("20130524T000000Z").map(|t| t.date());
        for len in [1, 59, 60, 61, 100] {
            let secret = "s".repeat(len);
            let reference = ["20130524", "us-east-1", "s3", "aws4_request"]
                .iter()
                .fold(format!("AWS4{secret}").into_bytes(), |key, data| {
                    hmac(&key, data.as_bytes()).to_vec()
                });
            let derived = date
                .as_ref()
                .map(|d| SigningKey::derive_parts(&secret, *d, "us-east-1", "s3"));
            assert_eq!(
                derived.map(|k| k.to_bytes().to_vec()).ok(),
                Some(reference),
                "{len}"
            );
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn lowercase_hex_decodes_as_the_hex_crate_does_and_nothing_else_decodes() {
        // Every byte value at every position of a valid text (each lane of each word).
        let good: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let text = hex::encode(&good);
        assert_eq!(
            decode_lower_hex32(&text),
            Some(<[u8; 32]>::try_from(&good[..]).unwrap())
        );
        for at in 0..64 {
            for b in 0..=u8::MAX {
                let mut bytes = text.clone().into_bytes();
                bytes[at] = b;
                let Ok(candidate) = String::from_utf8(bytes) else {
                    continue;
                };
                let lower_hex = b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                let expected = lower_hex.then(|| {
                    let mut out = [0u8; 32];
                    hex::decode_to_slice(&candidate, &mut out).unwrap();
                    out
                });
                assert_eq!(decode_lower_hex32(&candidate), expected, "{at} {b}");
            }
        }
    }

    #[test]
    fn verify_hex_is_strict() {
        let sig = SigningKey::from_bytes([7; 32]).sign(b"x");
        let good = sig.to_hex();
        assert!(sig.verify_hex(good.as_str()));
        assert!(!sig.verify_hex(&good.as_str().to_uppercase()));
        assert!(!sig.verify_hex(&good.as_str()[..63]));
        assert!(!sig.verify_hex(""));
        let mut other = good.as_str().to_owned();
        other.replace_range(0..1, if other.starts_with('0') { "1" } else { "0" });
        assert!(!sig.verify_hex(&other));
    }
}
