//! Where requests go: an AWS regional endpoint or a custom S3-compatible one, and how a bucket
//! is addressed on it.
//!
//! The endpoint is parsed once, into exactly the authority that is signed (lowercase, no
//! default port) and the path prefix kept as given, so every request built from it has the
//! same `host` in its URL and in its signature.

use core::fmt;

use crate::Error;
use crate::s3::Bucket;
use crate::scope::validate_region;

/// How a bucket appears in the URL.
///
/// ```
/// use presign::s3::{AddressingStyle, Bucket, Endpoint};
/// let aws = Endpoint::aws("eu-west-1").unwrap();
/// let plain = Bucket::new("examplebucket").unwrap();
/// let dotted = Bucket::new("my.bucket.example").unwrap();
/// assert_eq!(aws.effective_style(&plain).unwrap(), AddressingStyle::Virtual);
/// // A dotted name would not match the *.s3.eu-west-1.amazonaws.com certificate.
/// assert_eq!(aws.effective_style(&dotted).unwrap(), AddressingStyle::Path);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressingStyle {
    /// Virtual-hosted style when the bucket can be a host name on this endpoint, path style
    /// otherwise: legacy names, IP-address hosts, and dotted names over https (a TLS wildcard
    /// certificate covers one label only). The default for [`Endpoint::aws`].
    #[default]
    Auto,
    /// `https://bucket.host/key`. Refused for legacy bucket names and IP-address hosts, which
    /// cannot have a bucket subdomain. A dotted bucket over https is allowed when asked for:
    /// it needs a certificate that covers it.
    Virtual,
    /// `https://host/bucket/key`. The default for custom endpoints ([`Endpoint::parse`]),
    /// since S3-compatible servers do not all route bucket subdomains.
    Path,
}

/// An S3 endpoint: scheme, authority, path prefix and addressing style.
///
/// ```
/// use presign::s3::{AddressingStyle, Endpoint};
/// let aws = Endpoint::aws("us-east-1").unwrap();
/// assert_eq!(aws.authority(), "s3.amazonaws.com");
///
/// let minio = Endpoint::parse("http://127.0.0.1:9000").unwrap();
/// assert_eq!(minio.authority(), "127.0.0.1:9000");
/// assert_eq!(minio.addressing_style(), AddressingStyle::Path);
///
/// let custom = Endpoint::parse("HTTPS://Storage.Example.com:443/s3-prefix/").unwrap();
/// assert_eq!(custom.to_string(), "https://storage.example.com/s3-prefix");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    scheme: &'static str,
    /// Lowercase host, then `:port` unless it is the scheme's default.
    authority: String,
    /// Percent-encoded, empty or starting with `/`, no trailing `/`.
    prefix: String,
    /// The region of an AWS endpoint (it must be the signer's).
    region: Option<String>,
    host_is_ip: bool,
    style: AddressingStyle,
}

impl Endpoint {
    /// The AWS endpoint of `region`, over https: `s3.amazonaws.com` in us-east-1,
    /// `s3.<region>.amazonaws.com` elsewhere, `s3.<region>.amazonaws.com.cn` for `cn-*`
    /// regions (and the DNS suffixes of the isolated partitions for `us-iso-*`, `us-isob-*`,
    /// `us-isof-*`, `eu-isoe-*`). Addressing style [`AddressingStyle::Auto`].
    ///
    /// Requests presigned for it must use a signer for the same region.
    ///
    /// ```
    /// use presign::s3::Endpoint;
    /// assert_eq!(Endpoint::aws("eu-west-1").unwrap().authority(), "s3.eu-west-1.amazonaws.com");
    /// assert_eq!(Endpoint::aws("cn-north-1").unwrap().authority(), "s3.cn-north-1.amazonaws.com.cn");
    /// assert!(Endpoint::aws("EU West").is_err());
    /// ```
    pub fn aws(region: &str) -> Result<Self, Error> {
        validate_region(region)?;
        let authority = if region == "us-east-1" {
            // The global endpoint: what the SDKs use for us-east-1.
            "s3.amazonaws.com".to_owned()
        } else {
            format!("s3.{region}.{}", aws_dns_suffix(region))
        };
        Ok(Endpoint {
            scheme: "https",
            authority,
            prefix: String::new(),
            region: Some(region.to_owned()),
            host_is_ip: false,
            style: AddressingStyle::Auto,
        })
    }

    /// A custom S3-compatible endpoint from its URL: `http` or `https`, a host (DNS name, IPv4
    /// or bracketed IPv6), an optional port and an optional path prefix.
    ///
    /// * The host is lowercased (and IDNA-mapped); the scheme's default port (`:443` for https,
    ///   `:80` for http) is dropped, from the URL as from the signed `host`, which is what
    ///   HTTP clients send.
    /// * The path prefix is kept byte for byte, minus trailing slashes. It must already be
    ///   percent-encoded, without `.` or `..` segments (which clients would remove).
    /// * User information, a query or a fragment are refused, as are other schemes.
    ///
    /// The addressing style is [`AddressingStyle::Path`]; see
    /// [`Endpoint::with_addressing_style`].
    ///
    /// ```
    /// use presign::s3::Endpoint;
    /// assert_eq!(Endpoint::parse("http://[::1]:9000").unwrap().authority(), "[::1]:9000");
    /// assert_eq!(Endpoint::parse("http://minio:80").unwrap().authority(), "minio");
    /// assert!(Endpoint::parse("ftp://example.com").is_err());
    /// assert!(Endpoint::parse("https://user:pw@example.com").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |reason: &'static str| Error::InvalidEndpoint {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            bad("expected http://host[:port][/prefix] or https://host[:port][/prefix]")
        })?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            "https"
        } else if scheme.eq_ignore_ascii_case("http") {
            "http"
        } else {
            return Err(bad("the scheme must be http or https"));
        };
        if rest.contains('?') {
            return Err(bad("an endpoint cannot have a query string"));
        }
        if rest.contains('#') {
            return Err(bad("an endpoint cannot have a fragment"));
        }
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        if authority.contains('@') {
            return Err(bad(
                "an endpoint cannot contain user information (user:password@)",
            ));
        }
        if authority.is_empty() {
            return Err(bad("the endpoint has no host"));
        }
        let (host, port) = split_host_port(authority).map_err(bad)?;
        let (host, host_is_ip) = normalize_host(host).map_err(bad)?;
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = match port {
            None => None,
            Some(p) => match parse_port(p) {
                Some(n) if n == default_port => None,
                Some(_) => Some(p.trim_start_matches('0')),
                None => return Err(bad("the port must be a number from 1 to 65535")),
            },
        };
        let mut authority = host;
        if let Some(port) = port {
            authority.push(':');
            authority.push_str(port);
        }
        let prefix = path.trim_end_matches('/');
        validate_prefix(prefix).map_err(bad)?;
        Ok(Endpoint {
            scheme,
            authority,
            prefix: prefix.to_owned(),
            region: None,
            host_is_ip,
            style: AddressingStyle::Path,
        })
    }

    /// The same endpoint with another addressing style.
    pub fn with_addressing_style(mut self, style: AddressingStyle) -> Self {
        self.style = style;
        self
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The host and non-default port, as signed (`s3.eu-west-1.amazonaws.com`,
    /// `127.0.0.1:9000`).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The percent-encoded path prefix: empty, or `/`-led without a trailing `/`.
    pub fn path_prefix(&self) -> &str {
        &self.prefix
    }

    /// The region of an AWS endpoint; `None` for a custom endpoint.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The addressing style asked for.
    pub fn addressing_style(&self) -> AddressingStyle {
        self.style
    }

    /// Whether the host is an IP address (which cannot be virtual-hosted).
    pub fn host_is_ip(&self) -> bool {
        self.host_is_ip
    }

    /// The style `bucket` is addressed with on this endpoint: [`AddressingStyle::Virtual`] or
    /// [`AddressingStyle::Path`], never `Auto`. [`Error::AddressingStyle`] when virtual-hosted
    /// style was asked for and cannot work.
    pub fn effective_style(&self, bucket: &Bucket<'_>) -> Result<AddressingStyle, Error> {
        let refuse = |reason: &'static str| Error::AddressingStyle {
            bucket: bucket.as_str().to_owned(),
            reason,
        };
        let https_dots = self.scheme == "https" && bucket.has_dots();
        match self.style {
            AddressingStyle::Path => Ok(AddressingStyle::Path),
            AddressingStyle::Virtual if !bucket.is_virtual_hostable() => Err(refuse(
                "legacy bucket names (uppercase letters or '_') are not valid host names",
            )),
            AddressingStyle::Virtual if self.host_is_ip => Err(refuse(
                "the endpoint host is an IP address, which cannot have a bucket subdomain",
            )),
            AddressingStyle::Virtual => Ok(AddressingStyle::Virtual),
            AddressingStyle::Auto
                if !bucket.is_virtual_hostable() || self.host_is_ip || https_dots =>
            {
                Ok(AddressingStyle::Path)
            }
            AddressingStyle::Auto => Ok(AddressingStyle::Virtual),
        }
    }

    /// Refuses a signer whose region is not this AWS endpoint's: S3 would reject the
    /// credential scope, and the mistake is easier to see here.
    pub(crate) fn check_region(&self, signer_region: &str) -> Result<(), Error> {
        match &self.region {
            Some(region) if region != signer_region => Err(Error::InvalidEndpoint {
                url: format!("{self} (region {region}, signer region {signer_region})"),
                reason: "the endpoint's region is not the signer's region",
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &format_args!("{self}"))
            .field("region", &self.region)
            .field("style", &self.style)
            .finish()
    }
}

impl core::str::FromStr for Endpoint {
    type Err = Error;
    /// [`Endpoint::parse`].
    fn from_str(s: &str) -> Result<Self, Error> {
        Endpoint::parse(s)
    }
}

/// The DNS suffix of the partition `region` belongs to.
fn aws_dns_suffix(region: &str) -> &'static str {
    const PARTITIONS: &[(&str, &str)] = &[
        ("cn-", "amazonaws.com.cn"),
        ("us-iso-", "c2s.ic.gov"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
    ];
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("amazonaws.com", |(_, suffix)| suffix)
}

/// Splits `host[:port]` / `[v6][:port]`.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    if authority.starts_with('[') {
        // Up to the first ']', included.
        let host = authority
            .split_inclusive(']')
            .next()
            .filter(|h| h.ends_with(']'))
            .ok_or("an IPv6 address must end with ']'")?;
        let rest = authority.get(host.len()..).unwrap_or_default();
        return match rest {
            "" => Ok((host, None)),
            _ => rest
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or("only ':port' may follow an IPv6 address"),
        };
    }
    match authority.split_once(':') {
        None => Ok((authority, None)),
        Some((_, port)) if port.contains(':') => {
            Err("an IPv6 address must be written in brackets ([::1])")
        }
        Some((host, port)) => Ok((host, Some(port))),
    }
}

fn parse_port(port: &str) -> Option<u16> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse::<u16>().ok().filter(|&p| p != 0)
}

/// The host as clients send it: lowercase domain (IDNA-mapped), dotted IPv4, bracketed
/// compressed IPv6. Whether it is an IP address.
fn normalize_host(host: &str) -> Result<(String, bool), &'static str> {
    const BAD: &str = "the host is not a valid host name or IP address";
    if host.is_empty() {
        return Err("the endpoint has no host");
    }
    match url::Host::parse(host).map_err(|_| BAD)? {
        url::Host::Domain(domain) => {
            if domain.is_empty()
                || !domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err(BAD);
            }
            if domain.len() > 253 {
                return Err("the host name is longer than 253 characters");
            }
            Ok((domain.to_ascii_lowercase(), false))
        }
        url::Host::Ipv4(addr) => Ok((addr.to_string(), true)),
        url::Host::Ipv6(addr) => Ok((format!("[{addr}]"), true)),
    }
}

/// A path prefix must be what a client sends unchanged: RFC 3986 path characters and valid
/// `%XX` escapes, no dot segments.
fn validate_prefix(prefix: &str) -> Result<(), &'static str> {
    if prefix.is_empty() {
        return Ok(());
    }
    let bytes = prefix.as_bytes();
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        let ok = match b {
            b'%' => {
                if crate::encoding::escape_at(bytes, i).is_none() {
                    return Err("'%' in the path prefix must be followed by two hex digits");
                }
                i = i.saturating_add(2);
                true
            }
            b'/' | b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*'
            | b'+' | b',' | b';' | b'=' | b':' | b'@' => true,
            _ => b.is_ascii_alphanumeric(),
        };
        if !ok {
            return Err("the path prefix must be percent-encoded (RFC 3986 path characters)");
        }
        i = i.saturating_add(1);
    }
    if prefix.split('/').any(|s| s == "." || s == "..") {
        return Err("the path prefix must not contain '.' or '..' segments");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (String, String, String) {
        match Endpoint::parse(url) {
            Ok(e) => (
                e.scheme().to_owned(),
                e.authority().to_owned(),
                e.path_prefix().to_owned(),
            ),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn refused(url: &str) -> &'static str {
        match Endpoint::parse(url) {
            Err(Error::InvalidEndpoint { reason, .. }) => reason,
            other => panic!("{url} was accepted: {other:?}"),
        }
    }

    #[test]
    fn aws_hosts() {
        let host = |r: &str| Endpoint::aws(r).map(|e| e.authority().to_owned());
        assert_eq!(host("us-east-1").as_deref(), Ok("s3.amazonaws.com"));
        assert_eq!(
            host("eu-west-1").as_deref(),
            Ok("s3.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            host("us-gov-west-1").as_deref(),
            Ok("s3.us-gov-west-1.amazonaws.com")
        );
        assert_eq!(
            host("cn-northwest-1").as_deref(),
            Ok("s3.cn-northwest-1.amazonaws.com.cn")
        );
        assert_eq!(
            host("us-iso-east-1").as_deref(),
            Ok("s3.us-iso-east-1.c2s.ic.gov")
        );
        assert_eq!(
            host("us-isob-east-1").as_deref(),
            Ok("s3.us-isob-east-1.sc2s.sgov.gov")
        );
        assert!(matches!(host(""), Err(Error::InvalidRegion(_))));
        assert!(matches!(host("us_east_1"), Err(Error::InvalidRegion(_))));
        let e = Endpoint::aws("eu-west-1");
        assert!(e.as_ref().is_ok_and(|e| e.scheme() == "https"
            && e.region() == Some("eu-west-1")
            && e.addressing_style() == AddressingStyle::Auto));
    }

    #[test]
    fn custom_endpoints() {
        let t = |s: &str, a: &str, p: &str| (s.to_owned(), a.to_owned(), p.to_owned());
        assert_eq!(
            parsed("http://127.0.0.1:9000"),
            t("http", "127.0.0.1:9000", "")
        );
        assert_eq!(
            parsed("https://storage.example.com:443"),
            t("https", "storage.example.com", "")
        );
        assert_eq!(
            parsed("http://storage.example.com:443"),
            t("http", "storage.example.com:443", "")
        );
        assert_eq!(
            parsed("https://storage.example.com:80/"),
            t("https", "storage.example.com:80", "")
        );
        assert_eq!(
            parsed("http://Storage.EXAMPLE.com:80"),
            t("http", "storage.example.com", "")
        );
        assert_eq!(
            parsed("https://storage.example.com/s3-prefix"),
            t("https", "storage.example.com", "/s3-prefix")
        );
        assert_eq!(
            parsed("https://storage.example.com/a%20b/C//"),
            t("https", "storage.example.com", "/a%20b/C")
        );
        assert_eq!(parsed("http://[::1]:9000"), t("http", "[::1]:9000", ""));
        assert_eq!(parsed("http://[0:0:0:0:0:0:0:1]"), t("http", "[::1]", ""));
        assert_eq!(
            parsed("http://localhost:09000"),
            t("http", "localhost:9000", "")
        );
        assert_eq!(
            parsed("http://bücher.example"),
            t("http", "xn--bcher-kva.example", "")
        );
    }

    #[test]
    fn bad_endpoints() {
        assert!(refused("storage.example.com").contains("http://"));
        assert!(refused("ftp://example.com").contains("scheme"));
        assert!(refused("https://user:pw@example.com").contains("user"));
        assert!(refused("https://example.com/?a=b").contains("query"));
        assert!(refused("https://example.com#x").contains("fragment"));
        assert!(refused("https://").contains("no host"));
        assert!(refused("https:///path").contains("no host"));
        assert!(refused("https://:9000").contains("no host"));
        assert!(refused("https://example.com:0").contains("port"));
        assert!(refused("https://example.com:65536").contains("port"));
        assert!(refused("https://example.com:").contains("port"));
        assert!(refused("https://example.com:+1").contains("port"));
        assert!(refused("http://::1:9000").contains("brackets"));
        assert!(refused("http://[::1").contains("']'"));
        assert!(refused("http://[::1]x").contains("port"));
        assert!(refused("http://exa mple.com").contains("host"));
        assert!(refused("http://example.com/a b").contains("percent-encoded"));
        assert!(refused("http://example.com/a%2").contains("hex"));
        assert!(refused("http://example.com/a/../b").contains("segments"));
        assert!(refused("http://example.com/./b").contains("segments"));
    }

    #[test]
    fn style_resolution() {
        let plain = Bucket::new("examplebucket");
        let dotted = Bucket::new("my.bucket.example");
        let legacy = Bucket::new_legacy("Legacy_Bucket");
        let (Ok(plain), Ok(dotted), Ok(legacy)) = (plain, dotted, legacy) else {
            panic!("buckets");
        };
        let aws = Endpoint::aws("us-east-1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(aws.effective_style(&plain), Ok(AddressingStyle::Virtual));
        assert_eq!(aws.effective_style(&dotted), Ok(AddressingStyle::Path));
        assert_eq!(aws.effective_style(&legacy), Ok(AddressingStyle::Path));

        let virt = aws.clone().with_addressing_style(AddressingStyle::Virtual);
        assert_eq!(virt.effective_style(&dotted), Ok(AddressingStyle::Virtual));
        assert!(matches!(
            virt.effective_style(&legacy),
            Err(Error::AddressingStyle { .. })
        ));

        let ip = Endpoint::parse("http://127.0.0.1:9000").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ip.effective_style(&plain), Ok(AddressingStyle::Path));
        let ip_auto = ip.clone().with_addressing_style(AddressingStyle::Auto);
        assert_eq!(ip_auto.effective_style(&plain), Ok(AddressingStyle::Path));
        let ip_virtual = ip.with_addressing_style(AddressingStyle::Virtual);
        assert!(matches!(
            ip_virtual.effective_style(&plain),
            Err(Error::AddressingStyle { reason, .. }) if reason.contains("IP address")
        ));
        let v6 = Endpoint::parse("http://[::1]:9000")
            .map(|e| e.with_addressing_style(AddressingStyle::Virtual));
        assert!(v6.is_ok_and(|e| e.effective_style(&plain).is_err()));

        // Over http a dotted bucket can be a virtual host: no certificate to match.
        let http = Endpoint::parse("http://storage.example.com")
            .map(|e| e.with_addressing_style(AddressingStyle::Auto));
        assert!(http.is_ok_and(|e| e.effective_style(&dotted) == Ok(AddressingStyle::Virtual)));
    }

    #[test]
    fn region_must_match_the_signer() {
        let aws = Endpoint::aws("eu-west-1").unwrap_or_else(|e| panic!("{e}"));
        assert!(aws.check_region("eu-west-1").is_ok());
        assert!(matches!(
            aws.check_region("us-east-1"),
            Err(Error::InvalidEndpoint { .. })
        ));
        let custom = Endpoint::parse("http://localhost:9000").unwrap_or_else(|e| panic!("{e}"));
        assert!(custom.check_region("anything").is_ok());
    }
}
