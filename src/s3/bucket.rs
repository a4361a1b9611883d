//! Bucket names, checked against the S3 naming rules before anything is signed.
//!
//! A URL for a bucket S3 would never accept is a URL that fails later, on someone else's
//! machine, with a less helpful message: the rules are checked here, and the error names the
//! rule that was broken.

use core::fmt;

use crate::Error;

/// A validated S3 bucket name (borrowed: checking a name does not allocate).
///
/// [`Bucket::new`] applies the rules for general purpose buckets
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>):
///
/// * 3 to 63 characters, only lowercase letters, digits, `.` and `-`;
/// * starts and ends with a letter or a digit, no `..`, no label (part between dots) starting
///   or ending with `-`;
/// * not an IPv4 address;
/// * not one of the reserved prefixes (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes
///   (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`).
///
/// Such a name is a valid DNS name, so it can be addressed virtual-hosted style.
///
/// ```
/// use presign::s3::Bucket;
/// use presign::Error;
/// assert_eq!(Bucket::new("examplebucket").unwrap().as_str(), "examplebucket");
/// assert!(matches!(
///     Bucket::new("my..bucket"),
///     Err(Error::InvalidBucketName { reason, .. }) if reason.contains("'..'")
/// ));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bucket<'a> {
    name: &'a str,
    /// A legacy name (uppercase letters or `_`): not a DNS name, path style only.
    legacy: bool,
}

/// Longest name [`Bucket::new`] accepts.
pub const MAX_BUCKET_NAME_LEN: usize = 63;

/// Longest name [`Bucket::new_legacy`] accepts.
pub const MAX_LEGACY_BUCKET_NAME_LEN: usize = 255;

const RESERVED_PREFIXES: &[(&str, &str)] = &[
    (
        "xn--",
        "the prefix 'xn--' is reserved (internationalized domain names)",
    ),
    ("sthree-", "the prefix 'sthree-' is reserved by S3"),
    (
        "amzn-s3-demo-",
        "the prefix 'amzn-s3-demo-' is reserved for AWS examples",
    ),
];

const RESERVED_SUFFIXES: &[(&str, &str)] = &[
    (
        "-s3alias",
        "the suffix '-s3alias' is reserved for access point aliases",
    ),
    (
        "--ol-s3",
        "the suffix '--ol-s3' is reserved for Object Lambda access point aliases",
    ),
    (
        ".mrap",
        "the suffix '.mrap' is reserved for Multi-Region Access Points",
    ),
    (
        "--x-s3",
        "the suffix '--x-s3' is reserved for directory buckets (S3 Express One Zone)",
    ),
    (
        "--table-s3",
        "the suffix '--table-s3' is reserved for S3 Tables",
    ),
];

impl<'a> Bucket<'a> {
    /// A general purpose bucket name, checked against every S3 naming rule.
    ///
    /// The error is [`Error::InvalidBucketName`] with the rule the name breaks.
    pub fn new(name: &'a str) -> Result<Self, Error> {
        check_strict(name).map_err(|reason| Error::InvalidBucketName {
            name: name.to_owned(),
            reason,
        })?;
        Ok(Bucket {
            name,
            legacy: false,
        })
    }

    /// A name that may also be a legacy one: up to 255 characters with uppercase letters and
    /// `_`, as buckets created in us-east-1 before March 2018 could be.
    ///
    /// A strictly valid name is accepted as by [`Bucket::new`]. A legacy name is not a valid
    /// host name (DNS names are case-insensitive and have no `_`), so it can only be addressed
    /// path style: [`crate::s3::AddressingStyle::Auto`] picks path style for it, and
    /// [`crate::s3::AddressingStyle::Virtual`] is refused with [`Error::AddressingStyle`].
    ///
    /// ```
    /// use presign::s3::Bucket;
    /// assert!(Bucket::new("My_Old_Bucket").is_err());
    /// let b = Bucket::new_legacy("My_Old_Bucket").unwrap();
    /// assert!(!b.is_virtual_hostable());
    /// ```
    pub fn new_legacy(name: &'a str) -> Result<Self, Error> {
        if check_strict(name).is_ok() {
            return Ok(Bucket {
                name,
                legacy: false,
            });
        }
        check_legacy(name).map_err(|reason| Error::InvalidBucketName {
            name: name.to_owned(),
            reason,
        })?;
        Ok(Bucket { name, legacy: true })
    }

    /// The name.
    pub fn as_str(&self) -> &'a str {
        self.name
    }

    /// Whether the name can be the first label of a host name (it follows every DNS rule).
    /// Dots are allowed here; whether a dotted name suits an https endpoint is decided by the
    /// endpoint (TLS wildcard certificates cover a single label).
    pub fn is_virtual_hostable(&self) -> bool {
        !self.legacy
    }

    /// Whether the name contains `.` (a dotted bucket cannot be virtual-hosted over https
    /// under a `*.s3.amazonaws.com` wildcard certificate).
    pub fn has_dots(&self) -> bool {
        self.name.contains('.')
    }
}

impl fmt::Debug for Bucket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Bucket").field(&self.name).finish()
    }
}

impl fmt::Display for Bucket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl AsRef<str> for Bucket<'_> {
    fn as_ref(&self) -> &str {
        self.name
    }
}

fn is_letter_or_digit(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// The general purpose rules; the reason of the first rule broken.
fn check_strict(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if !(3..=MAX_BUCKET_NAME_LEN).contains(&bytes.len()) {
        return Err("a bucket name must be 3 to 63 characters long");
    }
    if let Some(&bad) = bytes
        .iter()
        .find(|&&b| !(is_letter_or_digit(b) || b == b'.' || b == b'-'))
    {
        return Err(if bad.is_ascii_uppercase() || bad == b'_' {
            "uppercase letters and '_' are only allowed in legacy names, which can only be \
             addressed path style (Bucket::new_legacy)"
        } else {
            "a bucket name may contain only lowercase letters, digits, '.' and '-'"
        });
    }
    if !bytes.first().copied().is_some_and(is_letter_or_digit) {
        return Err("a bucket name must start with a lowercase letter or a digit");
    }
    if !bytes.last().copied().is_some_and(is_letter_or_digit) {
        return Err("a bucket name must end with a lowercase letter or a digit");
    }
    if name.contains("..") {
        return Err("a bucket name must not contain '..'");
    }
    if name.contains(".-") || name.contains("-.") {
        return Err("a label (the part between dots) must not start or end with '-'");
    }
    if is_ipv4(name) {
        return Err("a bucket name must not be formatted as an IPv4 address");
    }
    if let Some((_, reason)) = RESERVED_PREFIXES.iter().find(|(p, _)| name.starts_with(p)) {
        return Err(reason);
    }
    if let Some((_, reason)) = RESERVED_SUFFIXES.iter().find(|(s, _)| name.ends_with(s)) {
        return Err(reason);
    }
    Ok(())
}

/// The us-east-1 legacy rules: 3–255 of letters, digits, `.`, `-`, `_`.
fn check_legacy(name: &str) -> Result<(), &'static str> {
    if !(3..=MAX_LEGACY_BUCKET_NAME_LEN).contains(&name.len()) {
        return Err("a legacy bucket name must be 3 to 255 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err("a legacy bucket name may contain only letters, digits, '.', '-' and '_'");
    }
    if is_ipv4(name) {
        return Err("a bucket name must not be formatted as an IPv4 address");
    }
    Ok(())
}

/// Four dot-separated decimal numbers of at most three digits (`192.168.5.4`), the form S3
/// refuses. Values over 255 count too: S3 refuses the shape, not only real addresses.
fn is_ipv4(name: &str) -> bool {
    let mut parts = name.split('.');
    parts.clone().count() == 4
        && parts.all(|part| {
            !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(name: &str) -> &'static str {
        match Bucket::new(name) {
            Err(Error::InvalidBucketName { reason, .. }) => reason,
            other => panic!("{name:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn valid_names() {
        for name in [
            "abc",
            "examplebucket",
            "my-bucket-2024",
            "my.bucket.example",
            "a1b",
            "123",
            "x".repeat(63).as_str(),
            "docexamplebucket1",
            "log-delivery-march-2020",
            "192.168.5.4a",
        ] {
            let b = Bucket::new(name);
            assert!(b.is_ok(), "{name}: {b:?}");
            assert_eq!(b.map(|b| b.as_str().to_owned()).ok().as_deref(), Some(name));
        }
    }

    #[test]
    fn each_rule_has_its_own_reason() {
        assert!(reason("ab").contains("3 to 63"));
        assert!(reason(&"a".repeat(64)).contains("3 to 63"));
        assert!(reason("").contains("3 to 63"));
        assert!(reason("MyBucket").contains("legacy"));
        assert!(reason("my_bucket").contains("legacy"));
        assert!(reason("my bucket").contains("only lowercase"));
        assert!(reason("bücket").contains("only lowercase"));
        assert!(reason("-bucket").contains("start"));
        assert!(reason(".bucket").contains("start"));
        assert!(reason("bucket-").contains("end"));
        assert!(reason("bucket.").contains("end"));
        assert!(reason("my..bucket").contains("'..'"));
        assert!(reason("my-.bucket").contains("label"));
        assert!(reason("my.-bucket").contains("label"));
        assert!(reason("192.168.5.4").contains("IPv4"));
        assert!(reason("999.999.999.999").contains("IPv4"));
        assert!(reason("xn--bucket").contains("xn--"));
        assert!(reason("sthree-bucket").contains("sthree-"));
        assert!(reason("amzn-s3-demo-bucket").contains("amzn-s3-demo-"));
        assert!(reason("bucket-s3alias").contains("-s3alias"));
        assert!(reason("bucket--ol-s3").contains("--ol-s3"));
        assert!(reason("bucket.mrap").contains(".mrap"));
        assert!(reason("bucket--use1-az4--x-s3").contains("--x-s3"));
        assert!(reason("bucket--table-s3").contains("--table-s3"));
    }

    #[test]
    fn error_carries_the_name() {
        assert_eq!(
            Bucket::new("Bad_Name"),
            Err(Error::InvalidBucketName {
                name: "Bad_Name".into(),
                reason: "uppercase letters and '_' are only allowed in legacy names, which can \
                         only be addressed path style (Bucket::new_legacy)",
            })
        );
    }

    #[test]
    fn legacy_names_are_path_style_only() {
        let b = Bucket::new_legacy("Legacy_Bucket.2017");
        assert!(b.is_ok_and(|b| !b.is_virtual_hostable()));
        // A strictly valid name stays virtual-hostable through new_legacy.
        assert!(Bucket::new_legacy("fine-name").is_ok_and(|b| b.is_virtual_hostable()));
        assert!(Bucket::new_legacy(&"A".repeat(255)).is_ok());
        assert!(Bucket::new_legacy(&"A".repeat(256)).is_err());
        assert!(Bucket::new_legacy("Ab").is_err());
        assert!(Bucket::new_legacy("a/b/c").is_err());
        assert!(Bucket::new_legacy("A B C").is_err());
        assert!(Bucket::new_legacy("10.0.0.1").is_err());
    }

    #[test]
    fn dots_are_reported() {
        assert!(Bucket::new("a.b.c").is_ok_and(|b| b.has_dots()));
        assert!(Bucket::new("abc").is_ok_and(|b| !b.has_dots()));
    }
}
