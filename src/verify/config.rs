//! What a verifier accepts.

use crate::UriEncoding;

/// Verifier settings. The defaults suit an S3-compatible server in `us-east-1`.
///
/// ```
/// use presign::verify::VerifierConfig;
/// let config = VerifierConfig::default()
///     .regions(["us-east-1", "eu-west-1"])
///     .require_signed_header("content-type");
/// assert_eq!(config.clock_skew_secs(), 900);
/// ```
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    pub(crate) regions: Vec<String>,
    pub(crate) services: Vec<String>,
    pub(crate) clock_skew_secs: u32,
    pub(crate) max_expires_secs: u32,
    pub(crate) required_signed_headers: Vec<String>,
    pub(crate) unsigned_header_exemptions: Vec<String>,
    pub(crate) uri_encoding: UriEncoding,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        VerifierConfig {
            regions: vec!["us-east-1".to_owned()],
            services: vec!["s3".to_owned()],
            clock_skew_secs: 900,
            max_expires_secs: crate::MAX_EXPIRY_SECS,
            required_signed_headers: Vec::new(),
            unsigned_header_exemptions: Vec::new(),
            uri_encoding: UriEncoding::S3,
        }
    }
}

impl VerifierConfig {
    /// The regions a credential scope may name (default `us-east-1`).
    pub fn regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }

    /// The services a credential scope may name (default `s3`). The URI encoding follows the
    /// first one ([`UriEncoding::for_service`]) unless set with [`Self::uri_encoding`].
    pub fn services<I, S>(mut self, services: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.services = services.into_iter().map(Into::into).collect();
        if let Some(first) = self.services.first() {
            self.uri_encoding = UriEncoding::for_service(first);
        }
        self
    }

    /// Allowed difference between a header-signed request's date and the server clock, both
    /// ways (default 900 s, as S3).
    pub fn clock_skew_secs(&self) -> u32 {
        self.clock_skew_secs
    }

    /// Sets the allowed clock skew for header auth.
    pub fn with_clock_skew_secs(mut self, secs: u32) -> Self {
        self.clock_skew_secs = secs;
        self
    }

    /// The longest `X-Amz-Expires` accepted (default and maximum 604800 s).
    pub fn max_expires_secs(mut self, secs: u32) -> Self {
        self.max_expires_secs = secs.min(crate::MAX_EXPIRY_SECS);
        self
    }

    /// A header every request must have signed, besides `host` (for example `content-type`
    /// for a gateway that pins upload types). Names are compared lowercase.
    pub fn require_signed_header(mut self, name: &str) -> Self {
        self.required_signed_headers.push(name.to_ascii_lowercase());
        self
    }

    /// An `x-amz-*` header that may be present without being signed. None by default: every
    /// `x-amz-*` header a request carries must be signed.
    pub fn allow_unsigned_header(mut self, name: &str) -> Self {
        self.unsigned_header_exemptions
            .push(name.to_ascii_lowercase());
        self
    }

    /// How paths are canonicalized (default S3: decode the path as received, encode once).
    pub fn uri_encoding(mut self, mode: UriEncoding) -> Self {
        self.uri_encoding = mode;
        self
    }
}
