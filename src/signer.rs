//! The signer: credentials, region and service, with the derived key of the current day cached.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use hmac::Mac;
use sha2::{Digest, Sha256};
use time::Date;

use crate::canonical::{
    Overlay, Parts, PathInput, QueryInput, SignableRequest, SignedNames, UriEncoding, WireQuery,
    write_canonical_request,
};
use crate::encoding::{Rule, encoded};
use crate::scope::{SCOPE_TERMINATOR, validate_region, validate_service};
use crate::signing_key::{Signature, SigningKey};
use crate::string_to_sign::{ALGORITHM, write_string_to_sign};
use crate::time::write_date8;
use crate::{Credentials, Error, Scope, SigningTime};

/// Signs requests with one set of credentials for one region and service.
///
/// The derived signing key is cached for the UTC day of the last request and re-derived only
/// when the day changes. The cache is swapped atomically, readers never lock, and nothing
/// mutable is shared on the hot path: a `Signer` is `Send + Sync` and meant to be shared.
///
/// ```
/// use presign::{Credentials, Signer};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// fn shareable<T: Send + Sync>(_: &T) {}
/// shareable(&signer);
/// ```
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    uri_encoding: UriEncoding,
    content_sha256_header: bool,
    sign_session_token: bool,
    day: ArcSwapOption<DayKey>,
}

/// Everything that depends only on the credentials, the scope and the day.
pub(crate) struct DayKey {
    pub(crate) date: Date,
    /// `yyyyMMdd`: the first half of every `X-Amz-Date` of the day.
    pub(crate) date8: [u8; 8],
    pub(crate) key: SigningKey,
    /// `yyyyMMdd/region/service/aws4_request`
    pub(crate) scope: String,
    /// `AKID%2FyyyyMMdd%2Fregion%2Fservice%2Faws4_request`, the `X-Amz-Credential` value.
    pub(crate) credential_query: String,
    /// `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Date=`: the first presigned
    /// query parameters, in one piece.
    pub(crate) query_head: String,
    /// `\n` + scope + `\n`: the middle of the string to sign.
    pub(crate) sts_scope: String,
    /// The session token, encoded for the query (`X-Amz-Security-Token`).
    pub(crate) token_query: Option<String>,
}

impl Signer {
    /// A signer for `region` and `service` (`s3` for S3). The URI encoding follows the service
    /// ([`UriEncoding::for_service`]); for S3, header signing adds `x-amz-content-sha256`.
    pub fn new(credentials: Credentials, region: &str, service: &str) -> Result<Self, Error> {
        validate_region(region)?;
        validate_service(service)?;
        Ok(Signer {
            credentials,
            region: region.to_owned(),
            service: service.to_owned(),
            uri_encoding: UriEncoding::for_service(service),
            content_sha256_header: service == "s3",
            sign_session_token: true,
            day: ArcSwapOption::empty(),
        })
    }

    /// Overrides the URI encoding mode.
    pub fn with_uri_encoding(mut self, mode: UriEncoding) -> Self {
        self.uri_encoding = mode;
        self
    }

    /// Whether header signing adds (and signs) `x-amz-content-sha256` (S3 requires it).
    pub fn with_content_sha256_header(mut self, add: bool) -> Self {
        self.content_sha256_header = add;
        self
    }

    /// Whether the session token is signed (the default) or only added after signing, as a
    /// few services expect (the suite's `post-sts-header-after` case).
    pub fn with_session_token_signed(mut self, signed: bool) -> Self {
        self.sign_session_token = signed;
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the session token is signed.
    pub fn session_token_signed(&self) -> bool {
        self.sign_session_token
    }

    /// The URI encoding mode.
    pub fn uri_encoding(&self) -> UriEncoding {
        self.uri_encoding
    }

    /// The credential scope for `time`.
    pub fn scope(&self, time: SigningTime) -> Scope {
        Scope::new(time.date(), &self.region, &self.service).unwrap_or_else(|_| {
            // Region and service were validated in `new`.
            unreachable_scope()
        })
    }

    /// The signing key for the day of `time` (cached).
    pub fn signing_key(&self, time: SigningTime) -> SigningKey {
        self.day_key(time.date()).key.clone()
    }

    /// Signs a string to sign with the key of `time`'s day.
    pub fn sign_string(&self, string_to_sign: &str, time: SigningTime) -> Signature {
        self.day_key(time.date())
            .key
            .sign(string_to_sign.as_bytes())
    }

    /// The cached day key, derived if the day changed.
    pub(crate) fn day_key(&self, date: Date) -> Arc<DayKey> {
        if let Some(day) = self.day.load().as_ref() {
            if day.date == date {
                return Arc::clone(day);
            }
        }
        let day = Arc::new(self.derive_day(date));
        self.day.store(Some(Arc::clone(&day)));
        day
    }

    /// Runs `f` with the cached day key without touching its reference count.
    #[inline]
    pub(crate) fn with_day_key<R>(&self, date: Date, f: impl FnOnce(&DayKey) -> R) -> R {
        let guard = self.day.load();
        match guard.as_ref() {
            Some(day) if day.date == date => f(day),
            _ => {
                drop(guard);
                let day = self.day_key(date);
                f(&day)
            }
        }
    }

    fn derive_day(&self, date: Date) -> DayKey {
        let key = SigningKey::derive_parts(
            self.credentials.secret_access_key(),
            date,
            &self.region,
            &self.service,
        );
        let mut date8 = [0u8; 8];
        write_date8(date, &mut date8);
        let scope = format!(
            "{}/{}/{}/{}",
            core::str::from_utf8(&date8).unwrap_or(""),
            self.region,
            self.service,
            SCOPE_TERMINATOR
        );
        let credential_query = format!(
            "{}%2F{}",
            encoded(self.credentials.access_key_id().as_bytes(), Rule::Query),
            encoded(scope.as_bytes(), Rule::Query)
        );
        let token_query = self
            .credentials
            .session_token()
            .map(|token| encoded(token.as_bytes(), Rule::Query));
        DayKey {
            date,
            date8,
            key,
            query_head: format!(
                "X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={credential_query}&X-Amz-Date="
            ),
            sts_scope: format!("\n{scope}\n"),
            scope,
            credential_query,
            token_query,
        }
    }

    /// Signs `request` in header form: returns the headers to add (`authorization`,
    /// `x-amz-date`, `x-amz-content-sha256` for S3, `x-amz-security-token` with temporary
    /// credentials). Headers of those names already in the request are replaced, not signed.
    ///
    /// Every header of the request is signed except [`crate::UNSIGNED_HEADERS`]; the request
    /// must have a `host` header.
    ///
    /// ```
    /// use presign::{Credentials, PayloadHash, SignableRequest, Signer, SigningTime};
    /// // The S3 documentation's "GET Object" example.
    /// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
    /// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
    /// let headers = [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")];
    /// let req = SignableRequest::new("GET", "/test.txt", &headers, PayloadHash::empty()).unwrap();
    /// let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
    /// let auth = signer.sign_headers(&req, time).unwrap();
    /// assert!(auth.authorization().ends_with(
    ///     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
    /// ```
    pub fn sign_headers(
        &self,
        request: &SignableRequest<'_>,
        time: SigningTime,
    ) -> Result<AuthHeaders, Error> {
        let amz = time.amz_date();
        let payload = request.payload();
        let token = self.credentials.session_token();
        let content_sha256 = self
            .content_sha256_header
            .then(|| ("x-amz-content-sha256", payload.as_str()));
        let signed_token = token
            .filter(|_| self.sign_session_token)
            .map(|t| ("x-amz-security-token", t));
        let mut added: [(&str, &str); 3] = [("x-amz-date", amz.as_str()); 3];
        // Index of the last header added: `x-amz-date` first, then those present.
        let mut last_added = 0;
        for ((i, slot), header) in added
            .iter_mut()
            .enumerate()
            .skip(1)
            .zip([content_sha256, signed_token].into_iter().flatten())
        {
            *slot = header;
            last_added = i;
        }
        let added = added.get(..=last_added).unwrap_or_default();
        let mut replaced: Vec<(&str, &str)> = Vec::new();
        let base: &[(&str, &str)] = if request.headers().iter().any(|(n, _)| is_auth_header(n)) {
            replaced.extend(
                request
                    .headers()
                    .iter()
                    .filter(|(n, _)| !is_auth_header(n))
                    .copied(),
            );
            &replaced
        } else {
            request.headers()
        };
        let headers = Overlay { base, added };
        let names = SignedNames::of(&headers)?;
        if !names.contains("host") {
            return Err(Error::MissingHost);
        }
        let query = WireQuery::parse(request.query())?;
        self.with_day_key(time.date(), |day| {
            let mut hasher = Sha256::new();
            let mut gathered = crate::sink::gathering(&mut hasher);
            write_canonical_request(
                &Parts {
                    method: request.method(),
                    path: PathInput::Wire(request.path()),
                    uri_encoding: self.uri_encoding,
                    query: QueryInput::Wire(&query, None),
                    signed_names: names.iter(),
                    signed_names_lowercase: false,
                    signed_list: None,
                    headers: &headers,
                    payload: &payload,
                },
                &mut gathered,
            )?;
            drop(gathered);
            let hash: [u8; 32] = hasher.finalize().into();
            let mut mac = day.key.mac();
            write_string_to_sign(
                &amz,
                &day.scope,
                &hash,
                &mut crate::sink::Buffered::<_, 256>::sized(&mut mac),
            );
            let signature = Signature(mac.finalize().into_bytes().into());
            let signed_headers = names.joined();
            let authorization = format!(
                "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={}",
                self.credentials.access_key_id(),
                day.scope,
                signed_headers,
                signature.to_hex()
            );
            Ok(AuthHeaders {
                authorization,
                amz_date: amz,
                content_sha256: self.content_sha256_header.then_some(payload),
                session_token: token.map(str::to_owned),
                signature,
            })
        })
    }
}

fn is_auth_header(name: &str) -> bool {
    [
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

#[cold]
fn unreachable_scope() -> Scope {
    // `Scope::new` only fails on names `Signer::new` already refused.
    Scope::new(time::Date::MIN, "invalid", "invalid").unwrap_or_else(|_| unreachable_scope())
}

impl Clone for Signer {
    fn clone(&self) -> Self {
        Signer {
            credentials: self.credentials.clone(),
            region: self.region.clone(),
            service: self.service.clone(),
            uri_encoding: self.uri_encoding,
            content_sha256_header: self.content_sha256_header,
            sign_session_token: self.sign_session_token,
            day: ArcSwapOption::new(self.day.load_full()),
        }
    }
}

impl core::fmt::Debug for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("uri_encoding", &self.uri_encoding)
            .finish_non_exhaustive()
    }
}

/// The headers header-form signing adds to a request.
#[derive(Clone, Debug)]
pub struct AuthHeaders {
    authorization: String,
    amz_date: crate::AmzDate,
    content_sha256: Option<crate::PayloadHash>,
    session_token: Option<String>,
    signature: Signature,
}

impl AuthHeaders {
    /// The `authorization` value.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    /// The `x-amz-date` value.
    pub fn amz_date(&self) -> &str {
        self.amz_date.as_str()
    }

    /// The `x-amz-content-sha256` value, when the signer adds it.
    pub fn content_sha256(&self) -> Option<&str> {
        self.content_sha256.as_ref().map(|p| p.as_str())
    }

    /// The `x-amz-security-token` value, with temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// The signature (the seed signature of an aws-chunked upload).
    pub fn signature(&self) -> Signature {
        self.signature
    }

    /// The headers to add, as `(lowercase name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            Some(("authorization", self.authorization.as_str())),
            Some(("x-amz-date", self.amz_date.as_str())),
            self.content_sha256().map(|v| ("x-amz-content-sha256", v)),
            self.session_token().map(|v| ("x-amz-security-token", v)),
        ]
        .into_iter()
        .flatten()
    }
}
