//! Presigned URLs: the signature travels in the query string.
//!
//! The URL is written once, in canonical query order, so that its query *is* the canonical
//! query: it is hashed straight out of the URL buffer, and the buffer is the only allocation.

use core::cmp::Ordering;

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::canonical::reserved_query_param;
use crate::canonical::{
    PathInput, PayloadHash, UriEncoding, is_token, same_name, sort_by, sorted_raw_order,
    trim_ows_str, validate_value, validate_wire_path, write_canonical_uri, write_lower,
    write_value,
};
use crate::encoding::{Component, Rule, Text, byte_table, encode_raw, wire_is_canonical};
use crate::limits::{MAX_QUERY_PAIRS, MAX_SIGNED_HEADERS};
use crate::signer::DayKey;
use crate::string_to_sign::ALGORITHM;
use crate::time::ascii_digit;
use crate::{Error, Expiry, Signer, SigningTime};

/// The query parameters a presigned URL's signature is made of. Callers cannot set them, nor
/// Signature Version 2's `AWSAccessKeyId` and `Signature` (in any case), which verifiers read
/// as auth material too ([`Error::ReservedQueryParameter`]). `X-Amz-Content-Sha256` is
/// accepted only with the request's own payload hash as its value
/// ([`PresignRequest::payload`]).
pub const AUTH_QUERY_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
];

/// The bytes a host (and port) may have: letters, digits and `-.:[]_`.
static HOST_BYTES: [bool; 256] = byte_table!(
    |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']' | b'_')
);

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
    #[inline]
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
    #[inline]
    pub fn query(mut self, params: &'a [(&'a str, &'a str)]) -> Self {
        self.query = params;
        self
    }

    /// Extra headers to sign; the client must send them with exactly these values. Names are
    /// letters, digits and `-_.~` (every S3 header); values may not hold control characters
    /// other than tab (a folded value is returned in its one-line canonical form).
    #[inline]
    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The payload hash (default `UNSIGNED-PAYLOAD`).
    #[inline]
    pub fn payload(mut self, payload: PayloadHash) -> Self {
        self.payload = payload;
        self
    }

    /// How long the URL stays valid (default 1 hour).
    #[inline]
    pub fn expires(mut self, expires: Expiry) -> Self {
        self.expires = expires;
        self
    }

    /// The path as sent, up to the segments a raw path adds (encoded canonically).
    fn wire_path(&self) -> &str {
        match self.path {
            PathInput::Wire(p) => p,
            PathInput::Raw { prefix, .. } => prefix,
        }
    }

    /// The checks the URL's layout depends on: that the path starts with `/`, and the counts
    /// that bound the sort buffers. `auth_params`: how many `X-Amz-*` parameters the signer
    /// adds (6, or 7 with a token).
    fn check_layout(&self, auth_params: usize) -> Result<(), Error> {
        let wire = self.wire_path();
        if !wire.is_empty() && !wire.starts_with('/') {
            return Err(Error::InvalidPath("the path must start with '/'"));
        }
        // The auth parameters count towards the verifier's limit too.
        let limit = MAX_QUERY_PAIRS.saturating_sub(auth_params);
        if self.query.len() > limit {
            return Err(Error::TooMany {
                what: "query parameters besides the X-Amz-* auth parameters",
                limit,
            });
        }
        if self.headers.len() >= MAX_SIGNED_HEADERS {
            return Err(Error::TooMany {
                what: "signed headers",
                limit: MAX_SIGNED_HEADERS,
            });
        }
        Ok(())
    }

    /// Whether the path is in canonical form (so that its wire text is its canonical URI);
    /// an error for a `%` that starts no escape. A path in canonical form is valid: only
    /// other paths need the escape check.
    fn check_path(&self) -> Result<bool, Error> {
        let wire = self.wire_path();
        let canonical = wire_is_canonical(wire.as_bytes(), Rule::Path);
        if !canonical {
            validate_wire_path(wire)?;
        }
        Ok(canonical)
    }

    /// The checks of everything else: method, scheme, host, parameter names, header names and
    /// values. Nothing written before them depends on them, so `presign` runs them while the
    /// canonical request is being hashed (the processor overlaps them with the hash); nothing
    /// is returned unless they pass.
    fn check_content(&self) -> Result<(), Error> {
        let common_method = matches!(self.method, "GET" | "PUT" | "HEAD" | "POST" | "DELETE");
        if !common_method && !is_token(self.method) {
            return Err(Error::InvalidMethod(self.method.to_owned()));
        }
        if !matches!(self.scheme, "http" | "https") {
            return Err(Error::InvalidEndpoint {
                url: self.scheme.to_owned(),
                reason: "the scheme must be http or https",
            });
        }
        // Letters, digits and `-.:[]_`: one table lookup per byte, no branch.
        let host_byte = |b: u8| HOST_BYTES.get(usize::from(b)).copied().unwrap_or(false);
        if self.authority.is_empty()
            || !self.authority.bytes().fold(true, |ok, b| ok & host_byte(b))
        {
            return Err(Error::InvalidEndpoint {
                url: self.authority.to_owned(),
                reason: "the host must be a DNS name, IPv4 or [IPv6] address with an optional port",
            });
        }
        // Every name a verifier reads as auth material, not only those written here: a URL
        // with SigV2's `AWSAccessKeyId` would never verify. `X-Amz-Content-Sha256` may carry
        // the payload hash this request is signed with (and nothing else), spelled exactly.
        let binds_payload = |name: &str, value: &str| {
            name == "X-Amz-Content-Sha256" && value == self.payload.as_str()
        };
        if let Some(reserved) = self
            .query
            .iter()
            .filter(|(n, v)| !binds_payload(n, v))
            .find_map(|(n, _)| reserved_query_param(n))
        {
            return Err(Error::ReservedQueryParameter(reserved.to_owned()));
        }
        for (name, value) in self.headers {
            // Letters, digits and `-_.~` only: other token characters (`!`, `#`, `*`, …) would
            // be percent-encoded in `X-Amz-SignedHeaders`, which verifiers read as plain names.
            // No S3 header has them.
            if !is_token(name)
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
            {
                return Err(Error::InvalidHeaderName((*name).to_owned()));
            }
            if ["host", "authorization"]
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
            {
                return Err(Error::ReservedHeader(name.to_ascii_lowercase()));
            }
            if validate_value(value.as_bytes()).is_err() {
                return Err(Error::InvalidHeaderValue((*name).to_owned()));
            }
        }
        Ok(())
    }

    /// An upper bound of the buffer `presign` writes, so that it is allocated once: the URL
    /// up to its query, then the largest of what follows it in turn: the canonical request's
    /// tail (while hashing), the string to sign, and the signature, method and header lines.
    ///
    /// Saturating: a bound too large for `usize` is refused when the buffer is reserved.
    fn capacity(&self, day: &DayKey) -> usize {
        let encoded = |s: &str| s.len().saturating_mul(3);
        let path = match self.path {
            PathInput::Wire(p) => p.len().max(1),
            PathInput::Raw { prefix, segments } => saturating_sum([
                prefix.len(),
                saturating_sum(segments.iter().map(|s| encoded(s).saturating_add(1))),
                1,
            ]),
        };
        let user_query = saturating_sum(
            self.query
                .iter()
                .map(|(n, v)| saturating_sum([encoded(n), encoded(v), 2])),
        );
        let names = saturating_sum(self.headers.iter().map(|(n, _)| n.len().saturating_add(1)));
        let lines = saturating_sum(
            self.headers
                .iter()
                .map(|(n, v)| saturating_sum([n.len(), v.len(), 2])),
        );
        let token = day
            .token_query
            .as_ref()
            .map_or(0, |t| t.len().saturating_add(22));
        // X-Amz-Algorithm=AWS4-HMAC-SHA256, &X-Amz-Credential=, &X-Amz-Date=<16>,
        // &X-Amz-Expires=<6>, &X-Amz-SignedHeaders=host plus the encoded extra names.
        let auth = saturating_sum([
            32 + 18 + 28 + 21 + 25,
            day.credential_query.len(),
            names.saturating_mul(3),
        ]);
        // `\n`, `host:` and the header lines, `\n`, `host;` and the names, `\n`, the payload hash.
        let tail = saturating_sum([1 + 6 + 1 + 5 + 1 + 64, self.authority.len(), lines, names]);
        let after = saturating_sum([17 + 64, token, self.method.len(), lines]);
        let string_to_sign = saturating_sum([17 + 16 + 64, day.sts_scope.len()]);
        saturating_sum([
            self.scheme.len(),
            3,
            self.authority.len(),
            path,
            1,
            user_query,
            auth,
            token,
            tail.max(after).max(string_to_sign),
        ])
    }
}

/// The sum of `terms`, or `usize::MAX` if it does not fit.
fn saturating_sum(terms: impl IntoIterator<Item = usize>) -> usize {
    terms.into_iter().fold(0, usize::saturating_add)
}

/// A presigned request: the URL, the method, the headers the client must send, the expiry.
#[derive(Clone)]
pub struct PresignedRequest {
    /// URL, then method, then `name:value\n` header lines: one allocation for everything.
    buf: String,
    url_end: usize,
    method_end: usize,
    signing_time: SigningTime,
    expires: Expiry,
}

impl PresignedRequest {
    /// The presigned URL.
    #[inline]
    pub fn url(&self) -> &str {
        self.buf.get(..self.url_end).unwrap_or("")
    }

    /// The URL, consuming `self` (no copy).
    #[inline]
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
        self.signing_time
            .add_seconds(i64::from(self.expires.as_secs()))
    }
}

impl core::fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PresignedRequest")
            .field("method", &self.method())
            .field("url", &self.url())
            .field("headers", &self.headers().collect::<Vec<_>>())
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// The signed header names of a presigned request: `host` merged into the sorted extras,
/// each name once (a repeated header is one canonical line with its values joined). Where
/// `host` goes and which names repeat are found once, by [`NamesWithHost::new`]: the names
/// are listed four times per presign.
#[derive(Clone)]
struct NamesWithHost<'a> {
    extras: &'a [(&'a str, &'a str)],
    /// The extras' indices, sorted by lowercase name.
    order: &'a [u8],
    /// How many sorted extras come before `host`.
    host_at: usize,
    /// Bit `k`: sorted extra `k` repeats the name before it (`host` included).
    repeats: u64,
    /// The next position, `host` counted at `host_at`.
    next: usize,
}

fn cmp_lower(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

impl<'a> NamesWithHost<'a> {
    /// `order` sorts `extras` by lowercase name; at most [`MAX_SIGNED_HEADERS`] of them.
    fn new(extras: &'a [(&'a str, &'a str)], order: &'a [u8]) -> Self {
        let name = |k: usize| {
            order
                .get(k)
                .and_then(|&i| extras.get(usize::from(i)))
                .map_or("", |h| h.0)
        };
        let host_at = (0..order.len())
            .find(|&k| cmp_lower(name(k), "host") != Ordering::Less)
            .unwrap_or(order.len());
        let mut repeats = 0u64;
        for k in 0..order.len() {
            let before = if k == host_at {
                Some("host")
            } else {
                k.checked_sub(1).map(name)
            };
            if before.is_some_and(|before| same_name(before, name(k))) {
                repeats |= 1u64
                    .checked_shl(u32::try_from(k).unwrap_or(u32::MAX))
                    .unwrap_or(0);
            }
        }
        NamesWithHost {
            extras,
            order,
            host_at,
            repeats,
            next: 0,
        }
    }
}

impl<'a> Iterator for NamesWithHost<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let at = self.next;
            self.next = at.saturating_add(1);
            // Sorted extra `k` is at position `k`, or `k + 1` once `host` is behind.
            let k = match at.cmp(&self.host_at) {
                Ordering::Less => at,
                Ordering::Equal => return Some("host"),
                Ordering::Greater => at.wrapping_sub(1),
            };
            let &i = self.order.get(k)?;
            let repeated = self
                .repeats
                .checked_shr(u32::try_from(k).ok()?)
                .unwrap_or(0)
                & 1
                == 1;
            if !repeated {
                return self.extras.get(usize::from(i)).map(|h| h.0);
            }
        }
    }
}

/// The auth parameters, in canonical order.
#[derive(Clone, Copy, PartialEq, Eq)]
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

    /// The name as a component known to be canonical (no scan to find out).
    fn component(self) -> Component<'static> {
        Component::canonical(self.name().as_bytes())
    }

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
    ///
    /// One allocation: the returned buffer, sized up front, holds the URL, the method and the
    /// headers to send.
    pub fn presign(
        &self,
        request: &PresignRequest<'_>,
        time: SigningTime,
    ) -> Result<PresignedRequest, Error> {
        // Six auth parameters, seven with a session token (signed, or appended after).
        const WITHOUT_TOKEN: usize = AUTH_QUERY_PARAMS.len() - 1;
        let auth_params = if self.credentials().session_token().is_some() {
            AUTH_QUERY_PARAMS.len()
        } else {
            WITHOUT_TOKEN
        };
        request.check_layout(auth_params)?;
        self.with_day_key(time.date(), |day| self.presign_with(request, time, day))
    }

    fn presign_with(
        &self,
        request: &PresignRequest<'_>,
        time: SigningTime,
        day: &DayKey,
    ) -> Result<PresignedRequest, Error> {
        let amz = time.amz_date_on(&day.date8);
        let amz = amz.as_bytes();
        let signed_token = day.token_query.is_some() && self.session_token_signed();

        // Signed headers: host plus the extras, sorted by lowercase name.
        let mut header_order = [0u8; MAX_SIGNED_HEADERS];
        let n_headers = request.headers.len();
        for (i, slot) in header_order.iter_mut().enumerate().take(n_headers) {
            *slot = u8::try_from(i).unwrap_or(u8::MAX);
        }
        let header_order = header_order.get_mut(..n_headers).unwrap_or_default();
        if n_headers > 1 {
            sort_by(header_order, |a, b| {
                let name = |i: u8| request.headers.get(usize::from(i)).map_or("", |h| h.0);
                cmp_lower(name(a), name(b))
            });
        }
        let names = NamesWithHost::new(request.headers, header_order);

        let query_order = if request.query.is_empty() {
            ([0; MAX_QUERY_PAIRS], 0)
        } else {
            sorted_raw_order(request.query)?
        };
        let query_order = query_order.0.get(..query_order.1).unwrap_or_default();

        // The buffer is bytes while it is written (so that a few bytes can be rewritten in
        // place) and checked as UTF-8 once at the end; everything in it is ASCII or comes from
        // a `&str`.
        //
        // It is laid out so that the canonical request is one contiguous slice of it, hashed
        // in one call (a split costs about as much as a block): when the path is canonical,
        // the URL's path and query are the canonical URI and query, so `METHOD\n` is written
        // over the end of `scheme://authority` and `\n` in place of `?`, and both are put back
        // once hashed. The tail of the canonical request follows the query meanwhile. That the
        // path is canonical is taken for granted here and checked while the hash runs (the
        // check is the largest single cost before it for a long key); a path that is not is
        // hashed again the long way.
        let authority = request.authority.as_bytes();
        let mut buf: Vec<u8> = Vec::new();
        // Fails only for inputs of gigabytes (on 32-bit targets), whose URL could not be held.
        buf.try_reserve_exact(request.capacity(day))
            .map_err(|_| Error::TooMany {
                what: "bytes in the presigned URL",
                limit: isize::MAX.unsigned_abs(),
            })?;
        buf.extend_from_slice(request.scheme.as_bytes());
        buf.extend_from_slice(b"://");
        buf.extend_from_slice(authority);
        let prefix_len = buf.len();
        // Where `METHOD\n` starts in the buffer, and the end of the authority it overwrites.
        let overlay = (self.uri_encoding() == UriEncoding::S3)
            .then(|| {
                let method_line = request.method.len().checked_add(1)?;
                let authority_end = authority.get(authority.len().checked_sub(method_line)?..)?;
                Some((prefix_len.checked_sub(method_line)?, authority_end))
            })
            .flatten();
        let creq_start = match overlay {
            Some((start, _)) => {
                buf.truncate(start);
                buf.extend_from_slice(request.method.as_bytes());
                buf.push(b'\n');
                start
            }
            None => prefix_len,
        };
        request.path.write_wire(&mut buf);
        let path_end = buf.len();
        buf.push(if overlay.is_some() { b'\n' } else { b'?' });
        let query_start = buf.len();

        // The caller's sorted pairs merged with the auth pairs, which are sorted already (names
        // never collide: validated). Each caller pair is compared with the auth names only
        // until its place is found.
        let mut auth = AuthParam::ORDER
            .iter()
            .copied()
            .filter(|p| signed_token || !matches!(p, AuthParam::SecurityToken))
            .peekable();
        let mut users = query_order
            .iter()
            .filter_map(|&i| request.query.get(usize::from(i)))
            .map(|&(name, value)| {
                (
                    value,
                    Component::new(Text::Raw(name.as_bytes()), Rule::Query),
                )
            })
            .peekable();
        let sorts_before = |user: &Component<'_>, param: AuthParam| {
            user.cmp_canonical(&param.component(), Rule::Query) == Ordering::Less
        };
        loop {
            let user_first = match (users.peek(), auth.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((_, user)), Some(&param)) => sorts_before(user, param),
            };
            if buf.len() > query_start {
                buf.push(b'&');
            }
            if user_first {
                if let Some((value, name)) = users.next() {
                    // The name's component, built for the merge, knows whether it needs encoding.
                    name.write(Rule::Query, &mut buf);
                    buf.push(b'=');
                    encode_raw(value.as_bytes(), Rule::Query, &mut buf);
                }
            } else if let Some(param) = auth.next() {
                // All the auth pairs in a row unless a caller pair sorts between them (as
                // every caller pair starting with a lowercase letter sorts after them);
                // failing that, Algorithm, Credential and Date in one piece.
                let next_user = users.peek().map(|(_, user)| *user);
                let first = param == AuthParam::Algorithm;
                let block = first
                    && next_user.is_none_or(|user| !sorts_before(&user, AuthParam::SignedHeaders));
                let head = || {
                    first && next_user.is_none_or(|user| !sorts_before(&user, AuthParam::Expires))
                };
                if block {
                    buf.extend_from_slice(day.query_head.as_bytes());
                    buf.extend_from_slice(amz);
                    buf.extend_from_slice(b"&X-Amz-Expires=");
                    push_u32(&mut buf, request.expires.as_secs());
                    if signed_token {
                        if let Some(token) = &day.token_query {
                            buf.extend_from_slice(b"&X-Amz-Security-Token=");
                            buf.extend_from_slice(token.as_bytes());
                        }
                    }
                    if request.headers.is_empty() {
                        buf.extend_from_slice(b"&X-Amz-SignedHeaders=host");
                    } else {
                        buf.push(b'&');
                        push_auth_param(
                            &mut buf,
                            AuthParam::SignedHeaders,
                            request,
                            day,
                            amz,
                            &names,
                        );
                    }
                    auth.by_ref().for_each(drop);
                } else if head() {
                    buf.extend_from_slice(day.query_head.as_bytes());
                    buf.extend_from_slice(amz);
                    auth.next();
                    auth.next();
                } else {
                    push_auth_param(&mut buf, param, request, day, amz, &names);
                }
            }
        }
        let query_end = buf.len();

        if request.headers.is_empty() {
            buf.extend_from_slice(b"\nhost:");
            buf.extend_from_slice(authority);
            buf.extend_from_slice(b"\n\nhost\n");
        } else {
            buf.push(b'\n');
            for name in names.clone() {
                write_lower(name, &mut buf);
                buf.push(b':');
                if name == "host" {
                    buf.extend_from_slice(authority);
                } else {
                    let values = request.headers.iter().filter(|(n, _)| same_name(n, name));
                    for (k, (_, value)) in values.enumerate() {
                        if k > 0 {
                            buf.push(b',');
                        }
                        write_value(value.as_bytes(), &mut buf);
                    }
                }
                buf.push(b'\n');
            }
            buf.push(b'\n');
            for (k, name) in names.clone().enumerate() {
                if k > 0 {
                    buf.push(b';');
                }
                write_lower(name, &mut buf);
            }
            buf.push(b'\n');
        }
        buf.extend_from_slice(request.payload.as_str().as_bytes());

        // The canonical request in pieces, its URI written from the path: without the overlay,
        // or when the path turns out not to be canonical.
        let hash_in_pieces = |hasher: &mut Sha256| -> Result<(), Error> {
            hasher.update(request.method.as_bytes());
            hasher.update(b"\n");
            write_canonical_uri(
                &request.path,
                self.uri_encoding(),
                &mut crate::sink::gathering(hasher),
            )?;
            hasher.update(b"\n");
            hasher.update(buf.get(query_start..).unwrap_or_default());
            Ok(())
        };
        let mut hasher = Sha256::new();
        if overlay.is_some() {
            hasher.update(buf.get(creq_start..).unwrap_or_default());
        } else {
            hash_in_pieces(&mut hasher)?;
        }
        request.check_content()?;
        if !request.check_path()? && overlay.is_some() {
            hasher = Sha256::new();
            hash_in_pieces(&mut hasher)?;
        }
        // Not moved (copied) from the block it was just given, as `finalize` would.
        let hash: [u8; 32] = hasher.finalize_reset().into();
        buf.truncate(query_end);
        if let Some((_, authority_end)) = overlay {
            if let Some(dst) = buf.get_mut(creq_start..prefix_len) {
                dst.copy_from_slice(authority_end);
            }
            if let Some(separator) = buf.get_mut(path_end) {
                *separator = b'?';
            }
        }

        // The string to sign, also written after the query and hashed in one call. Its first
        // block does not depend on the hash, but compressing that block before or beside the
        // canonical request's measured 5-7 % slower, not faster: it stays after the hash.
        buf.extend_from_slice(b"AWS4-HMAC-SHA256\n");
        buf.extend_from_slice(amz);
        buf.extend_from_slice(day.sts_scope.as_bytes());
        buf.extend_from_slice(&crate::sink::hex32(&hash));
        let mut mac = day.key.mac();
        mac.update(buf.get(query_end..).unwrap_or_default());
        buf.truncate(query_end);
        // Checked while the HMAC is computed (the processor overlaps the two).
        let mut buf = String::from_utf8(buf).map_err(|_| internal())?;
        let signature: [u8; 32] = mac.finalize().into_bytes().into();

        buf.push_str("&X-Amz-Signature=");
        let hex = crate::sink::hex32(&signature);
        buf.push_str(core::str::from_utf8(&hex).map_err(|_| internal())?);
        if let (Some(token), false) = (day.token_query.as_deref(), signed_token) {
            buf.push_str("&X-Amz-Security-Token=");
            buf.push_str(token);
        }
        let url_end = buf.len();
        buf.push_str(request.method);
        let method_end = buf.len();
        for name in names.filter(|n| *n != "host") {
            for (n, v) in request.headers.iter().filter(|(n, _)| same_name(n, name)) {
                write_lower(n, &mut buf);
                buf.push(':');
                if v.contains(['\r', '\n']) {
                    // A folded (multi-line) value is returned in its canonical one-line form:
                    // HTTP clients refuse line breaks, and the lines here are `\n`-separated.
                    write_value(v.as_bytes(), &mut buf);
                } else {
                    buf.push_str(trim_ows_str(v));
                }
                buf.push('\n');
            }
        }
        Ok(PresignedRequest {
            buf,
            url_end,
            method_end,
            signing_time: time,
            expires: request.expires,
        })
    }
}

/// Writes one auth pair, `name=value`, encoded.
fn push_auth_param(
    buf: &mut Vec<u8>,
    param: AuthParam,
    request: &PresignRequest<'_>,
    day: &DayKey,
    amz: &[u8],
    names: &NamesWithHost<'_>,
) {
    buf.extend_from_slice(param.name().as_bytes());
    buf.push(b'=');
    match param {
        AuthParam::Algorithm => buf.extend_from_slice(ALGORITHM.as_bytes()),
        AuthParam::Credential => buf.extend_from_slice(day.credential_query.as_bytes()),
        AuthParam::Date => buf.extend_from_slice(amz),
        AuthParam::Expires => push_u32(buf, request.expires.as_secs()),
        AuthParam::SecurityToken => {
            buf.extend_from_slice(day.token_query.as_deref().unwrap_or("").as_bytes());
        }
        AuthParam::SignedHeaders if request.headers.is_empty() => buf.extend_from_slice(b"host"),
        AuthParam::SignedHeaders => {
            for (k, name) in names.clone().enumerate() {
                if k > 0 {
                    buf.extend_from_slice(b"%3B");
                }
                // Names are letters, digits and `-_.~` (validated): nothing to encode.
                write_lower(name, buf);
            }
        }
    }
}

#[cold]
fn internal() -> Error {
    Error::UrlNotRepresentable("internal error: the presigned URL is not UTF-8".into())
}

/// Appends `v` in decimal (an expiry: at most 604800, six digits).
fn push_u32(buf: &mut Vec<u8>, v: u32) {
    if v < 1_000_000 {
        // Six digits at once, then the leading zeros dropped (the last digit is always kept).
        let digits = [
            ascii_digit(v / 100_000),
            ascii_digit(v / 10_000),
            ascii_digit(v / 1_000),
            ascii_digit(v / 100),
            ascii_digit(v / 10),
            ascii_digit(v),
        ];
        let zeros = digits.iter().take(5).take_while(|&&d| d == b'0').count();
        buf.extend_from_slice(digits.get(zeros..).unwrap_or_default());
    } else {
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        let mut rest = v;
        for (i, slot) in digits.iter_mut().enumerate().rev() {
            *slot = ascii_digit(rest);
            start = i;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        buf.extend_from_slice(digits.get(start..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::{HOST_BYTES, NamesWithHost, cmp_lower, push_u32};
    use crate::{Credentials, PresignRequest, Signer, SigningTime};

    /// `host` merged into the sorted extras and each name once, against the plain definition:
    /// every name lowercased, `host` added, sorted, repeats dropped.
    #[test]
    fn signed_names_are_host_and_the_extras_sorted_each_once() {
        let cases: [&[(&str, &str)]; 7] = [
            &[],
            &[("Content-Type", "a")],
            &[("x-amz-meta-b", "1"), ("Accept", "2")],
            &[
                ("X-Amz-Meta-A", "1"),
                ("x-amz-meta-a", "2"),
                ("Content-MD5", "3"),
            ],
            &[("Host", "h"), ("accept", "1")],
            &[("hosta", "1"), ("hos", "2"), ("HOST", "3"), ("host", "4")],
            &[
                ("a", "1"),
                ("A", "2"),
                ("b", "3"),
                ("B", "4"),
                ("i", "5"),
                ("I", "6"),
            ],
        ];
        for extras in cases {
            let mut order: Vec<u8> = (0..extras.len())
                .map(|i| u8::try_from(i).unwrap_or(u8::MAX))
                .collect();
            order.sort_by(|&a, &b| cmp_lower(extras[usize::from(a)].0, extras[usize::from(b)].0));
            let names: Vec<String> = NamesWithHost::new(extras, &order)
                .map(str::to_ascii_lowercase)
                .collect();
            let mut expected: Vec<String> = extras
                .iter()
                .map(|(n, _)| n.to_ascii_lowercase())
                .chain(["host".to_owned()])
                .collect();
            expected.sort();
            expected.dedup();
            assert_eq!(names, expected, "{extras:?}");
        }
    }

    /// A signer for `us-east-1`/`s3` and the documentation's signing time.
    fn signer_and_time() -> (Signer, SigningTime) {
        let signer = Credentials::new("AKIAIOSFODNN7EXAMPLE", "secret")
            .and_then(|c| Signer::new(c, "us-east-1", "s3"));
        let time = SigningTime::parse_amz_date("20130524T000000Z");
        let (Ok(signer), Ok(time)) = (signer, time) else {
            panic!("the signer and the time are valid");
        };
        (signer, time)
    }

    /// The presigner takes a path for canonical while it hashes; one that is not is signed by
    /// its canonical URI all the same (what an equivalent canonical path signs), its URL keeps
    /// the path as given, and a `%` that starts no escape is refused. With and without the
    /// in-place layout (an authority shorter than `METHOD\n` rules it out).
    #[test]
    fn a_path_not_in_canonical_form_is_signed_by_its_canonical_uri() {
        let (signer, time) = signer_and_time();
        let presign = |authority: &str, path: &str| {
            signer
                .presign(&PresignRequest::new("GET", "https", authority, path), time)
                .map(|p| p.url().to_owned())
        };
        let signature = |url: &str| {
            url.rsplit_once("X-Amz-Signature=")
                .map(|(_, s)| s.to_owned())
        };
        for authority in ["examplebucket.s3.amazonaws.com", "a"] {
            for (wire, canonical) in [
                ("/a%7eb%41", "/a~bA"),
                ("/%2f%2F", "/%2F%2F"),
                ("/x%20y%c3%a9", "/x%20y%C3%A9"),
            ] {
                let (Ok(given), Ok(reference)) =
                    (presign(authority, wire), presign(authority, canonical))
                else {
                    panic!("{wire} and {canonical} presign");
                };
                assert_eq!(
                    signature(&given),
                    signature(&reference),
                    "{authority}{wire}"
                );
                assert!(
                    given.starts_with(&format!("https://{authority}{wire}?")),
                    "{given}"
                );
            }
            for bad in ["/a%zz", "/a%4", "/%"] {
                assert_eq!(
                    presign(authority, bad),
                    Err(crate::Error::InvalidPath(
                        "'%' must be followed by two hex digits"
                    )),
                    "{authority}{bad}"
                );
            }
        }
    }

    #[test]
    fn returned_header_lines_have_lowercase_names_and_trimmed_or_folded_values() {
        let (signer, time) = signer_and_time();
        let headers = [
            ("X-Amz-Meta-Note", " two  spaces\t"),
            ("Content-Type", "text/plain"),
            ("x-amz-meta-lines", "a\r\n  b "),
        ];
        let request =
            PresignRequest::new("PUT", "https", "b.s3.amazonaws.com", "/k").headers(&headers);
        let presigned = signer.presign(&request, time);
        let returned: Vec<(&str, &str)> = presigned
            .as_ref()
            .map(|p| p.headers().collect())
            .unwrap_or_default();
        assert_eq!(
            returned,
            [
                ("content-type", "text/plain"),
                ("x-amz-meta-lines", "a b"),
                ("x-amz-meta-note", "two  spaces"),
            ]
        );
        assert_eq!(
            presigned.map(|p| p.method().to_owned()).ok().as_deref(),
            Some("PUT")
        );
    }

    #[test]
    fn host_bytes_are_letters_digits_and_dot_dash_colon_brackets_underscore() {
        for (b, &allowed) in (0..=255u8).zip(HOST_BYTES.iter()) {
            assert_eq!(
                allowed,
                b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b),
                "{b}"
            );
        }
    }

    #[test]
    fn decimal_digits() {
        for v in [
            0,
            1,
            9,
            10,
            99,
            100,
            3600,
            86_400,
            604_800,
            999_999,
            1_000_000,
            u32::MAX,
        ] {
            let mut buf = Vec::new();
            push_u32(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap_or_default(), v.to_string());
        }
    }
}
