//! Presigned URLs: the signature travels in the query string.
//!
//! The URL is written once, in canonical query order, so that its query *is* the canonical
//! query: it is hashed straight out of the URL buffer, and the buffer is the only allocation.

use core::cmp::Ordering;

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::canonical::{
    PathInput, PayloadHash, UriEncoding, is_token, sort_by, sorted_raw_order, validate_value,
    validate_wire_path, write_canonical_headers, write_canonical_uri, write_signed_header_list,
};
use crate::encoding::{Component, Rule, Text, encode_raw_into};
use crate::limits::{MAX_QUERY_PAIRS, MAX_SIGNED_HEADERS};
use crate::signer::DayKey;
use crate::string_to_sign::{ALGORITHM, write_string_to_sign};
use crate::{Error, Expiry, Signer, SigningTime};

/// The query parameters a presigned URL's signature is made of; callers cannot set them.
pub const AUTH_QUERY_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
];

/// What to presign: method, where, extra signed query parameters and headers, expiry.
///
/// For S3 the typed operations of [`crate::s3`] build this; use it directly for other
/// services or for requests they do not cover.
///
/// ```
/// use presign::{Credentials, Expiry, PresignRequest, Signer, SigningTime};
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
/// let signer = Signer::new(creds, "us-east-1", "s3").unwrap();
/// let req = PresignRequest::new("GET", "https", "examplebucket.s3.amazonaws.com", "/test.txt")
///     .expires(Expiry::from_secs(86400).unwrap());
/// let time = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
/// let url = signer.presign(&req, time).unwrap();
/// assert!(url.url().ends_with("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PresignRequest<'a> {
    method: &'a str,
    scheme: &'a str,
    authority: &'a str,
    path: PathInput<'a>,
    query: &'a [(&'a str, &'a str)],
    headers: &'a [(&'a str, &'a str)],
    payload: PayloadHash,
    expires: Expiry,
}

impl<'a> PresignRequest<'a> {
    /// A request for `method` on `scheme://authority` + `path` (percent-encoded, as it goes in
    /// the URL). Defaults: no extra parameters or headers, `UNSIGNED-PAYLOAD`, 1 hour.
    pub fn new(method: &'a str, scheme: &'a str, authority: &'a str, path: &'a str) -> Self {
        PresignRequest {
            method,
            scheme,
            authority,
            path: PathInput::Wire(path),
            query: &[],
            headers: &[],
            payload: PayloadHash::Unsigned,
            expires: Expiry::from_secs(3600).unwrap_or(Expiry::MAX),
        }
    }

    /// A request whose path is an encoded `prefix` followed by raw segments, each encoded once
    /// (`/` kept): how the S3 layer passes `/bucket/key` without building a string.
    pub(crate) fn with_raw_path(
        method: &'a str,
        scheme: &'a str,
        authority: &'a str,
        prefix: &'a str,
        segments: &'a [&'a str],
    ) -> Self {
        PresignRequest {
            path: PathInput::Raw { prefix, segments },
            ..PresignRequest::new(method, scheme, authority, "")
        }
    }

    /// Extra query parameters, raw (not encoded): they are encoded and signed.
    pub fn query(mut self, params: &'a [(&'a str, &'a str)]) -> Self {
        self.query = params;
        self
    }

    /// Extra headers to sign; the client must send them with exactly these values.
    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The payload hash (default `UNSIGNED-PAYLOAD`).
    pub fn payload(mut self, payload: PayloadHash) -> Self {
        self.payload = payload;
        self
    }

    /// How long the URL stays valid (default 1 hour).
    pub fn expires(mut self, expires: Expiry) -> Self {
        self.expires = expires;
        self
    }

    /// `auth_params`: how many `X-Amz-*` parameters the signer adds (6, or 7 with a token).
    fn validate(&self, auth_params: usize) -> Result<(), Error> {
        if !is_token(self.method) {
            return Err(Error::InvalidMethod(self.method.to_owned()));
        }
        if !matches!(self.scheme, "http" | "https") {
            return Err(Error::InvalidEndpoint {
                url: self.scheme.to_owned(),
                reason: "the scheme must be http or https",
            });
        }
        if self.authority.is_empty()
            || !self.authority.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
            })
        {
            return Err(Error::InvalidEndpoint {
                url: self.authority.to_owned(),
                reason: "the host must be a DNS name, IPv4 or [IPv6] address with an optional port",
            });
        }
        match self.path {
            PathInput::Wire(p) => validate_wire_path(p)?,
            PathInput::Raw { prefix, .. } => validate_wire_path(prefix)?,
        }
        // The auth parameters count towards the verifier's limit too.
        let limit = MAX_QUERY_PAIRS.saturating_sub(auth_params);
        if self.query.len() > limit {
            return Err(Error::TooMany {
                what: "query parameters besides the X-Amz-* auth parameters",
                limit,
            });
        }
        for (name, _) in self.query {
            if let Some(reserved) = AUTH_QUERY_PARAMS
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name))
            {
                return Err(Error::ReservedQueryParameter((*reserved).to_owned()));
            }
        }
        if self.headers.len() >= MAX_SIGNED_HEADERS {
            return Err(Error::TooMany {
                what: "signed headers",
                limit: MAX_SIGNED_HEADERS,
            });
        }
        for (name, value) in self.headers {
            if !is_token(name) {
                return Err(Error::InvalidHeaderName((*name).to_owned()));
            }
            if ["host", "authorization"]
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
            {
                return Err(Error::ReservedHeader(name.to_ascii_lowercase()));
            }
            // A client sends these values verbatim, and no HTTP client can send a line break
            // (obs-fold is only tolerated when canonicalizing what a server received).
            if validate_value(value.as_bytes()).is_err() || value.contains(['\r', '\n']) {
                return Err(Error::InvalidHeaderValue((*name).to_owned()));
            }
        }
        Ok(())
    }

    fn capacity(&self, signer: &Signer, day: &DayKey) -> usize {
        let raw = |s: &str| 3 * s.len();
        let path = match self.path {
            PathInput::Wire(p) => p.len() + 1,
            PathInput::Raw { prefix, segments } => {
                prefix.len() + segments.iter().map(|s| 1 + raw(s)).sum::<usize>() + 1
            }
        };
        let query: usize = self.query.iter().map(|(n, v)| raw(n) + raw(v) + 2).sum();
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 2)
            .sum();
        let token = signer
            .credentials()
            .session_token()
            .map_or(0, |t| raw(t) + 22);
        self.scheme.len()
            + 3
            + self.authority.len()
            + path
            + 1
            + query
            + 160
            + day.credential_query.len()
            + token
            + headers * 2
            + 80
            + self.method.len()
    }
}

/// A presigned request: the URL, the method, the headers the client must send, the expiry.
#[derive(Clone)]
pub struct PresignedRequest {
    /// URL, then method, then `name:value\n` header lines: one allocation for everything.
    buf: String,
    url_end: usize,
    method_end: usize,
    signing_time: SigningTime,
    expires_at: SigningTime,
}

impl PresignedRequest {
    /// The presigned URL.
    pub fn url(&self) -> &str {
        self.buf.get(..self.url_end).unwrap_or("")
    }

    /// The URL, consuming `self` (no copy).
    pub fn into_url(mut self) -> String {
        self.buf.truncate(self.url_end);
        self.buf
    }

    /// The URL as a `url::Url`.
    ///
    /// Fails rather than return a different URL when `url` would change it (it removes `.` and
    /// `..` path segments, which are part of S3 keys).
    pub fn to_url(&self) -> Result<url::Url, Error> {
        let parsed =
            url::Url::parse(self.url()).map_err(|e| Error::UrlNotRepresentable(e.to_string()))?;
        if parsed.as_str() != self.url() {
            return Err(Error::UrlNotRepresentable(format!(
                "url::Url would send {:?}",
                parsed.as_str()
            )));
        }
        Ok(parsed)
    }

    /// The HTTP method the URL is signed for.
    pub fn method(&self) -> &str {
        self.buf.get(self.url_end..self.method_end).unwrap_or("")
    }

    /// The headers the client must send (lowercase names), besides `host`. Empty unless the
    /// request signed extra headers.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.buf
            .get(self.method_end..)
            .unwrap_or("")
            .split_terminator('\n')
            .filter_map(|line| line.split_once(':'))
    }

    /// When it was signed (`X-Amz-Date`).
    pub fn signing_time(&self) -> SigningTime {
        self.signing_time
    }

    /// The first instant at which it is no longer valid (`X-Amz-Date + X-Amz-Expires`).
    pub fn expires_at(&self) -> SigningTime {
        self.expires_at
    }
}

impl core::fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PresignedRequest")
            .field("method", &self.method())
            .field("url", &self.url())
            .field("headers", &self.headers().collect::<Vec<_>>())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The signed header names of a presigned request: `host` merged into the sorted extras,
/// each name once (a repeated header is one canonical line with its values joined).
#[derive(Clone)]
struct NamesWithHost<'a> {
    extras: &'a [(&'a str, &'a str)],
    order: &'a [u8],
    next: usize,
    host_pending: bool,
    last: Option<&'a str>,
}

fn cmp_lower(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

impl<'a> Iterator for NamesWithHost<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let name = self.next_with_repeats()?;
        if self
            .last
            .is_some_and(|last| last.eq_ignore_ascii_case(name))
        {
            return self.next();
        }
        self.last = Some(name);
        Some(name)
    }
}

impl<'a> NamesWithHost<'a> {
    fn next_with_repeats(&mut self) -> Option<&'a str> {
        let extra = self
            .order
            .get(self.next)
            .and_then(|&i| self.extras.get(usize::from(i)))
            .map(|(n, _)| *n);
        match extra {
            Some(name) if !self.host_pending || cmp_lower(name, "host") == Ordering::Less => {
                self.next += 1;
                Some(name)
            }
            _ if self.host_pending => {
                self.host_pending = false;
                Some("host")
            }
            other => {
                self.next += 1;
                other
            }
        }
    }
}

/// The auth parameters, in canonical order.
#[derive(Clone, Copy)]
enum AuthParam {
    Algorithm,
    Credential,
    Date,
    Expires,
    SecurityToken,
    SignedHeaders,
}

impl AuthParam {
    const ORDER: [AuthParam; 6] = [
        AuthParam::Algorithm,
        AuthParam::Credential,
        AuthParam::Date,
        AuthParam::Expires,
        AuthParam::SecurityToken,
        AuthParam::SignedHeaders,
    ];

    fn name(self) -> &'static str {
        match self {
            AuthParam::Algorithm => "X-Amz-Algorithm",
            AuthParam::Credential => "X-Amz-Credential",
            AuthParam::Date => "X-Amz-Date",
            AuthParam::Expires => "X-Amz-Expires",
            AuthParam::SecurityToken => "X-Amz-Security-Token",
            AuthParam::SignedHeaders => "X-Amz-SignedHeaders",
        }
    }
}

impl Signer {
    /// Presigns `request` at `time`.
    ///
    /// The URL's query is in canonical order and includes the session token of temporary
    /// credentials; `X-Amz-Signature` comes last.
    pub fn presign(
        &self,
        request: &PresignRequest<'_>,
        time: SigningTime,
    ) -> Result<PresignedRequest, Error> {
        // Six auth parameters, seven with a session token (signed, or appended after).
        let token = usize::from(self.credentials().session_token().is_some());
        request.validate(AUTH_QUERY_PARAMS.len() - 1 + token)?;
        self.with_day_key(time.date(), |day| self.presign_with(request, time, day))
    }

    fn presign_with(
        &self,
        request: &PresignRequest<'_>,
        time: SigningTime,
        day: &DayKey,
    ) -> Result<PresignedRequest, Error> {
        let amz = time.amz_date();
        let token = self.credentials().session_token();
        let signed_token = token.filter(|_| self.session_token_signed());

        // Signed headers: host plus the extras, sorted by lowercase name.
        let mut header_order = [0u8; MAX_SIGNED_HEADERS];
        let n_headers = request.headers.len();
        for (i, slot) in header_order.iter_mut().enumerate().take(n_headers) {
            *slot = u8::try_from(i).unwrap_or(u8::MAX);
        }
        let header_order = header_order.get_mut(..n_headers).unwrap_or_default();
        sort_by(header_order, |a, b| {
            let name = |i: u8| request.headers.get(usize::from(i)).map_or("", |h| h.0);
            cmp_lower(name(a), name(b))
        });
        let names = NamesWithHost {
            extras: request.headers,
            order: header_order,
            next: 0,
            host_pending: true,
            last: None,
        };

        let (query_order, n_query) = sorted_raw_order(request.query)?;
        let query_order = query_order.get(..n_query).unwrap_or_default();

        let mut buf = String::with_capacity(request.capacity(self, day));
        buf.push_str(request.scheme);
        buf.push_str("://");
        buf.push_str(request.authority);
        let path_start = buf.len();
        request.path.write_wire(&mut buf);
        let path_end = buf.len();
        buf.push('?');
        let query_start = buf.len();

        // Merge the caller's sorted pairs with the auth pairs (names never collide: validated).
        let mut user = query_order.iter().peekable();
        let mut auth = AuthParam::ORDER
            .iter()
            .filter(|p| signed_token.is_some() || !matches!(p, AuthParam::SecurityToken))
            .peekable();
        let mut first = true;
        loop {
            let take_user = match (user.peek(), auth.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&&i), Some(p)) => {
                    let name = request.query.get(usize::from(i)).map_or("", |q| q.0);
                    Component::new(Text::Raw(name.as_bytes()), Rule::Query).cmp_canonical(
                        &Component::new(Text::Raw(p.name().as_bytes()), Rule::Query),
                        Rule::Query,
                    ) == Ordering::Less
                }
            };
            if !first {
                buf.push('&');
            }
            first = false;
            if take_user {
                if let Some((name, value)) =
                    user.next().and_then(|&i| request.query.get(usize::from(i)))
                {
                    encode_raw_into(name.as_bytes(), Rule::Query, &mut buf);
                    buf.push('=');
                    encode_raw_into(value.as_bytes(), Rule::Query, &mut buf);
                }
            } else if let Some(param) = auth.next() {
                buf.push_str(param.name());
                buf.push('=');
                match param {
                    AuthParam::Algorithm => buf.push_str(ALGORITHM),
                    AuthParam::Credential => buf.push_str(&day.credential_query),
                    AuthParam::Date => buf.push_str(amz.as_str()),
                    AuthParam::Expires => push_u32(&mut buf, request.expires.as_secs()),
                    AuthParam::SecurityToken => encode_raw_into(
                        signed_token.unwrap_or("").as_bytes(),
                        Rule::Query,
                        &mut buf,
                    ),
                    AuthParam::SignedHeaders => {
                        for (k, name) in names.clone().enumerate() {
                            if k > 0 {
                                buf.push_str("%3B");
                            }
                            for c in name.chars() {
                                let c = c.to_ascii_lowercase();
                                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
                                    buf.push(c);
                                } else {
                                    encode_raw_into(
                                        c.encode_utf8(&mut [0; 4]).as_bytes(),
                                        Rule::Query,
                                        &mut buf,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        let query_end = buf.len();

        // The canonical request, streamed into SHA-256 from the URL buffer.
        let mut hasher = Sha256::new();
        hasher.update(request.method.as_bytes());
        hasher.update(b"\n");
        let path_is_canonical = matches!(
            (self.uri_encoding(), request.path),
            (UriEncoding::S3, PathInput::Raw { prefix, .. })
                if crate::encoding::wire_is_canonical(prefix.as_bytes(), Rule::Path)
        );
        if path_is_canonical {
            hasher.update(buf.get(path_start..path_end).unwrap_or("").as_bytes());
        } else {
            write_canonical_uri(&request.path, self.uri_encoding(), &mut hasher)?;
        }
        hasher.update(b"\n");
        hasher.update(buf.get(query_start..query_end).unwrap_or("").as_bytes());
        hasher.update(b"\n");
        let host = [("host", request.authority)];
        let headers = crate::canonical::Overlay {
            base: request.headers,
            added: &host,
        };
        write_canonical_headers(names.clone(), &headers, &mut hasher)?;
        hasher.update(b"\n");
        write_signed_header_list(names.clone(), &mut hasher);
        hasher.update(b"\n");
        hasher.update(request.payload.as_str().as_bytes());
        let hash: [u8; 32] = hasher.finalize().into();

        let mut mac = day.key.mac();
        write_string_to_sign(amz.as_str(), &day.scope, &hash, &mut mac);
        let signature: [u8; 32] = mac.finalize().into_bytes().into();
        buf.push_str("&X-Amz-Signature=");
        buf.push_str(core::str::from_utf8(&crate::sink::hex32(&signature)).unwrap_or(""));
        if let (Some(token), None) = (token, signed_token) {
            buf.push_str("&X-Amz-Security-Token=");
            encode_raw_into(token.as_bytes(), Rule::Query, &mut buf);
        }
        let url_end = buf.len();
        buf.push_str(request.method);
        let method_end = buf.len();
        for name in names.filter(|n| *n != "host") {
            for (n, v) in request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                buf.extend(n.chars().map(|c| c.to_ascii_lowercase()));
                buf.push(':');
                buf.push_str(v.trim_matches(|c| matches!(c, ' ' | '\t')));
                buf.push('\n');
            }
        }
        Ok(PresignedRequest {
            buf,
            url_end,
            method_end,
            signing_time: time,
            expires_at: time.add_seconds(i64::from(request.expires.as_secs())),
        })
    }
}

fn push_u32(buf: &mut String, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            // v % 10 < 10: the cast cannot truncate.
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.push_str(core::str::from_utf8(digits.get(i..).unwrap_or_default()).unwrap_or(""));
}
