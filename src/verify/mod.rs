//! Verifying SigV4 requests: presigned URLs and `Authorization` headers.
//!
//! A [`Verifier`] holds a [`CredentialStore`] and a [`VerifierConfig`]. Give it the request as
//! received — method, raw request target (path and query, not decoded), headers — and the
//! current time; it returns a [`VerifiedRequest`] or a [`VerifyError`] with the S3 error code.
//!
//! ```
//! use presign::verify::{InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig};
//! use presign::SigningTime;
//!
//! let store = InMemoryCredentials::new();
//! store.insert("AKIAIOSFODNN7EXAMPLE", StoredCredential::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap()).unwrap();
//! let verifier = Verifier::new(store, VerifierConfig::default());
//!
//! // The S3 documentation's presigned GET.
//! let target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
//! let headers = [("host", "examplebucket.s3.amazonaws.com")];
//! let request = IncomingRequest::new("GET", target, &headers[..]);
//!
//! let now = SigningTime::parse_amz_date("20130524T120000Z").unwrap();
//! let verified = verifier.verify(&request, now).unwrap();
//! assert_eq!(verified.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
//!
//! let later = SigningTime::parse_amz_date("20130525T000001Z").unwrap();
//! assert_eq!(verifier.verify(&request, later).unwrap_err().code(), "AccessDenied");
//! ```
//!
//! # Decisions
//!
//! Where S3 servers differ (see the verifier checklist in the repository), this verifier:
//!
//! - accepts exactly one mechanism: an `Authorization` header together with any presigned
//!   query parameter is `InvalidArgument`; Signature Version 2 and SigV4a are refused;
//! - reads auth query parameter names case-sensitively (`X-Amz-Date`); a case variant of one
//!   (`x-amz-date`) or a repeated one is `AuthorizationQueryParametersError`;
//! - requires the `Authorization` components in the order every SDK writes them
//!   (`Credential`, `SignedHeaders`, `Signature`), separated by `,` and optional spaces;
//! - requires signatures as 64 *lowercase* hex digits (an uppercase copy is refused);
//! - refuses `X-Amz-Expires=0` (the AWS documentation's minimum is 1);
//! - requires every `x-amz-*` header present to be signed, with no exemption unless
//!   configured ([`VerifierConfig::allow_unsigned_header`]);
//! - decodes a `+` in the query as a space (as form decoders and routers do), so what is
//!   verified is what an application reading the query sees; in the path `+` is a plus;
//! - canonicalizes the path as S3 does: decoded, then encoded once, so `%7E` and `~` are the
//!   same path; route on the decoded path;
//! - applies the 15-minute skew to header auth only; a presigned URL is valid from 15 minutes
//!   before its `X-Amz-Date` until `X-Amz-Date + X-Amz-Expires` inclusive.
//!
//! Verification is authentication only: authorize every verified request yourself.

mod config;
mod credentials;
mod error;
mod key_cache;
#[cfg(feature = "post")]
pub(crate) mod scope_auth;

pub use config::VerifierConfig;
pub use credentials::{CredentialStore, InMemoryCredentials, StoredCredential};
pub use error::VerifyError;

use core::cmp::Ordering;

use arrayvec::{ArrayString, ArrayVec};
use hmac::Mac;
use sha2::{Digest, Sha256};
use time::Date;

use crate::SigningTime;
use crate::canonical::{
    Headers, Parts, PathInput, PayloadHash, QueryInput, WireQuery, is_lowercase_token, same_name,
    trim_ows, write_canonical_request,
};
use crate::encoding::{Decoded, Rule, decode_into};
use crate::limits::{
    MAX_AUTHORIZATION_LEN, MAX_HEADERS, MAX_REQUEST_TARGET_LEN, MAX_SESSION_TOKEN_LEN,
    MAX_SIGNED_HEADERS,
};
use crate::scope::SCOPE_TERMINATOR;
use crate::signing_key::SigningKey;
use crate::string_to_sign::{ALGORITHM, write_string_to_sign};
use crate::time::parse_date8;
use key_cache::KeyCache;

/// A request as received.
#[derive(Clone, Copy, Debug)]
pub struct IncomingRequest<'a, H: Headers + ?Sized> {
    method: &'a str,
    target: &'a str,
    headers: &'a H,
    authority: Option<&'a str>,
    payload: Option<PayloadHash>,
}

impl<'a, H: Headers + ?Sized> IncomingRequest<'a, H> {
    /// `method`, the raw request target (`/path?query`, exactly as received) and the headers.
    pub fn new(method: &'a str, target: &'a str, headers: &'a H) -> Self {
        IncomingRequest {
            method,
            target,
            headers,
            authority: None,
            payload: None,
        }
    }

    /// The payload hash to use when the request does not carry one: services other than S3
    /// sign the body's hash without sending `x-amz-content-sha256`, so the server hashes the
    /// body itself and passes the result here. Ignored when the request has the header (or,
    /// presigned, the `X-Amz-Content-Sha256` parameter).
    pub fn with_payload_hash(mut self, payload: PayloadHash) -> Self {
        self.payload = Some(payload);
        self
    }

    /// The authority the request was routed on (an HTTP/2 `:authority`), used as the `host`
    /// header when the request has none. Never take it from a client-settable header such as
    /// `X-Forwarded-Host`.
    pub fn with_authority(mut self, authority: &'a str) -> Self {
        self.authority = Some(authority);
        self
    }

    /// The path and the query (without `?`), from one search of the target.
    fn path_and_query(&self) -> (&'a str, &'a str) {
        crate::canonical::split_target(self.target)
    }
}

/// How a request is authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mechanism {
    /// No authentication material: an anonymous request.
    Anonymous,
    /// Presigned: `X-Amz-*` query parameters.
    PresignedQuery,
    /// An `Authorization` header.
    AuthorizationHeader,
}

use crate::canonical::{PRESIGN_PARAMS, SIGV2_PARAMS};

/// Which of `params` (names without `%`, `+` or space) the decoded `wire` name equals ignoring
/// ASCII case, and whether it also equals it exactly. One scan of the name for `%`: without
/// escapes, the wire text is the decoded text as far as these names can tell.
#[inline(always)]
fn match_param(wire: &str, params: &[&'static str]) -> Option<(usize, &'static str, bool)> {
    // The common case, an exact match, first (inlined: every query name comes through here):
    // no two names here have both the same length and the same seventh byte, so one
    // comparison settles it.
    let probe = |p: &&str| p.len() == wire.len() && p.as_bytes().get(6) == wire.as_bytes().get(6);
    if let Some((i, &p)) = params.iter().enumerate().find(|(_, p)| probe(p)) {
        if crate::encoding::short_eq(p.as_bytes(), wire.as_bytes()) {
            return Some((i, p, true));
        }
    }
    match_param_inexact(wire, params)
}

/// [`match_param`] past an exact match: case variants and escapes.
#[inline(never)]
fn match_param_inexact(wire: &str, params: &[&'static str]) -> Option<(usize, &'static str, bool)> {
    // Every name here has 9 bytes or more; most wire names differ from all in their first
    // letter (an escape aside).
    let lower_first = |s: &str| s.as_bytes().first().map_or(0, |b| b | 0x20);
    let first = lower_first(wire);
    if wire.len() < 9 || (first != b'%' && !params.iter().any(|p| lower_first(p) == first)) {
        return None;
    }
    if !wire.contains('%') {
        return params
            .iter()
            .position(|p| p.eq_ignore_ascii_case(wire))
            .and_then(|i| params.get(i).map(|&p| (i, p, false)));
    }
    params
        .iter()
        .position(|p| decoded_eq_ignore_case(wire, p))
        .and_then(|i| params.get(i).map(|&p| (i, p, decoded_eq(wire, p))))
}

fn decoded_eq_ignore_case(wire: &str, name: &str) -> bool {
    if wire.len() < name.len() {
        return false;
    }
    Decoded::new(wire.as_bytes(), Rule::Query)
        .map(|b| b.to_ascii_lowercase())
        .eq(name.bytes().map(|b| b.to_ascii_lowercase()))
}

/// Whether the decoded `wire` equals `value`, a text without `%`, `+` or space (a parameter
/// name or the algorithm: tested below).
fn decoded_eq(wire: &str, value: &str) -> bool {
    // A wire text of the same length or without escapes matches such a value only byte for
    // byte (a `+` would decode to a space).
    if wire.len() <= value.len() || !wire.contains('%') {
        return wire == value;
    }
    Decoded::new(wire.as_bytes(), Rule::Query).eq(value.bytes())
}

/// Which mechanism a request uses (without verifying it). Errors for mixed or duplicated auth
/// material, unreadable targets and more than [`MAX_HEADERS`] headers.
pub fn detect<H: Headers + ?Sized>(
    request: &IncomingRequest<'_, H>,
) -> Result<Mechanism, VerifyError> {
    let mut query = WireQuery::unparsed(request.path_and_query().1);
    parse_query(&mut query)?;
    let mut known = KnownHeaders::EMPTY;
    KnownHeaders::gather(&mut known, request.headers)?;
    detect_in(&known, &AuthParams::scan(&query))
}

fn detect_in(known: &KnownHeaders<'_>, auth: &AuthParams) -> Result<Mechanism, VerifyError> {
    let presigned = auth.any_sigv4 || auth.any_sigv2;
    match (known.count(Known::Authorization), presigned) {
        (0, false) => Ok(Mechanism::Anonymous),
        (0, true) => Ok(Mechanism::PresignedQuery),
        (1, false) => Ok(Mechanism::AuthorizationHeader),
        (_, true) => Err(VerifyError::MultipleAuthMechanisms),
        (_, false) => Err(VerifyError::AuthorizationHeaderMalformed(
            "more than one Authorization header".into(),
        )),
    }
}

/// The headers the verifier reads by name.
#[derive(Clone, Copy)]
enum Known {
    Authorization,
    AmzDate,
    Date,
    ContentSha256,
    SecurityToken,
    ContentLength,
    DecodedContentLength,
    Trailer,
}

impl Known {
    const ALL: [Known; 8] = [
        Known::Authorization,
        Known::AmzDate,
        Known::Date,
        Known::ContentSha256,
        Known::SecurityToken,
        Known::ContentLength,
        Known::DecodedContentLength,
        Known::Trailer,
    ];

    fn name(self) -> &'static str {
        match self {
            Known::Authorization => "authorization",
            Known::AmzDate => "x-amz-date",
            Known::Date => "date",
            Known::ContentSha256 => "x-amz-content-sha256",
            Known::SecurityToken => "x-amz-security-token",
            Known::ContentLength => "content-length",
            Known::DecodedContentLength => "x-amz-decoded-content-length",
            Known::Trailer => "x-amz-trailer",
        }
    }
}

/// The [`Known`] headers of a request, found in one pass over its headers: the first value of
/// each and whether it is repeated.
struct KnownHeaders<'h> {
    first: [Option<&'h [u8]>; Known::ALL.len()],
    repeated: [bool; Known::ALL.len()],
    /// How many headers the request has, counted up to one past [`MAX_HEADERS`].
    count: usize,
}

impl<'h> KnownHeaders<'h> {
    /// None found yet.
    const EMPTY: Self = KnownHeaders {
        first: [None; Known::ALL.len()],
        repeated: [false; Known::ALL.len()],
        count: 0,
    };

    /// Fills in `known` (found [`KnownHeaders::EMPTY`]) where it lies, rather than returning
    /// it: a struct of this size returned is copied from memory just written, which stalls the
    /// load. Errors for more than [`MAX_HEADERS`] headers (the ones past it are not looked at).
    fn gather<H: Headers + ?Sized>(known: &mut Self, headers: &'h H) -> Result<(), VerifyError> {
        for (name, value) in headers.header_pairs().take(MAX_HEADERS.saturating_add(1)) {
            known.count = known.count.saturating_add(1);
            // Names of other lengths are passed over without comparing their bytes.
            let slot = Known::ALL
                .iter()
                .find(|k| {
                    let wanted = k.name();
                    wanted.len() == name.len() && wanted.eq_ignore_ascii_case(name)
                })
                .map(|&k| k as usize);
            if let Some(k) = slot {
                match known.first.get_mut(k) {
                    Some(first @ None) => *first = Some(value),
                    Some(Some(_)) => {
                        if let Some(repeated) = known.repeated.get_mut(k) {
                            *repeated = true;
                        }
                    }
                    None => {}
                }
            }
        }
        if known.count > MAX_HEADERS {
            return Err(VerifyError::RequestTooLarge(format!(
                "more than {MAX_HEADERS} headers"
            )));
        }
        Ok(())
    }

    /// How many times header `k` appears: 0, 1, or 2 for more than one.
    fn count(&self, k: Known) -> usize {
        match (self.first.get(k as usize), self.repeated.get(k as usize)) {
            (Some(Some(_)), Some(true)) => 2,
            (Some(Some(_)), _) => 1,
            _ => 0,
        }
    }

    /// The value of header `k`, which must appear at most once, trimmed of spaces and tabs.
    /// Inlined, its errors made out of line: its `Result` returned through memory was read
    /// back, whole, from bytes just stored piecewise, at each of its callers.
    #[inline]
    fn single(&self, k: Known) -> Result<Option<&'h str>, VerifyError> {
        if self.repeated.get(k as usize).copied().unwrap_or(false) {
            return Err(Self::repeated_error(k));
        }
        // Trimmed as bytes (spaces and tabs are ASCII), then checked as UTF-8: no character
        // decoding at either end.
        match self.first.get(k as usize).copied().flatten() {
            None => Ok(None),
            Some(v) => match core::str::from_utf8(trim_ows(v)) {
                Ok(text) => Ok(Some(text)),
                Err(_) => Err(Self::not_utf8_error(k)),
            },
        }
    }

    #[cold]
    fn repeated_error(k: Known) -> VerifyError {
        VerifyError::InvalidArgument(format!("the {} header appears more than once", k.name()))
    }

    #[cold]
    fn not_utf8_error(k: Known) -> VerifyError {
        VerifyError::InvalidArgument(format!("the {} header is not UTF-8", k.name()))
    }
}

/// The auth parameters of a query, found in one scan of its names.
struct AuthParams {
    /// Index of each of [`PRESIGN_PARAMS`] (spelled exactly; the first occurrence).
    found: [Option<usize>; 8],
    /// The first parameter spelled with the wrong case or repeated, and which of the two.
    problem: Option<(&'static str, bool)>,
    /// Any of the six parameters every presigned URL has, in any case.
    any_sigv4: bool,
    /// Any Signature Version 2 parameter.
    any_sigv2: bool,
}

impl AuthParams {
    fn scan(query: &WireQuery<'_>) -> Self {
        let mut auth = AuthParams {
            found: [None; 8],
            problem: None,
            any_sigv4: false,
            any_sigv2: false,
        };
        for (i, (name, _)) in query.pairs().enumerate() {
            if let Some((k, param, exact)) = match_param(name, &PRESIGN_PARAMS) {
                auth.any_sigv4 |= k < 6;
                match auth.found.get_mut(k) {
                    Some(slot) if exact && slot.is_none() => *slot = Some(i),
                    _ => {
                        auth.problem = auth.problem.or(Some((param, exact)));
                    }
                }
            } else if match_param(name, &SIGV2_PARAMS).is_some() {
                auth.any_sigv2 = true;
            }
        }
        auth
    }
}

fn parse_query(query: &mut WireQuery<'_>) -> Result<(), VerifyError> {
    query.parse_in_place().map_err(|e| match e {
        crate::Error::TooMany { what, limit } => {
            VerifyError::RequestTooLarge(format!("more than {limit} {what}"))
        }
        _ => VerifyError::InvalidArgument(
            "the query string has a '%' not followed by two hex digits".into(),
        ),
    })
}

/// A credential scope as received, decoded into an inline string (no allocation; checked as
/// UTF-8 once, when parsed, so that reading its parts checks nothing again).
#[derive(Clone, Copy)]
pub(crate) struct CredentialScope {
    text: ArrayString<256>,
    /// End offsets of access key id, date, region, service.
    ends: [usize; 4],
    /// The date part, if it is a real `yyyyMMdd` date.
    date: Option<Date>,
}

impl CredentialScope {
    /// No credential yet.
    const EMPTY: CredentialScope = CredentialScope {
        text: ArrayString::new_const(),
        ends: [0; 4],
        date: None,
    };

    /// Decodes `wire` (percent-escapes and `+` when it came from a query) into the inline
    /// buffer and finds the four `/`, or copies the result of the last credential this thread
    /// parsed when `wire` is that credential again (a server sees the same few credentials over
    /// and over; the copy is cheaper than the decoding).
    fn fill(
        &mut self,
        wire: &str,
        query_encoded: bool,
        malformed: &dyn Fn(String) -> VerifyError,
    ) -> Result<(), VerifyError> {
        let hit = LAST_CREDENTIAL.with_borrow(|last| {
            let same = last.query_encoded == query_encoded
                && last.wire.get(..last.wire_len) == Some(wire.as_bytes());
            if same {
                *self = last.scope;
            }
            same
        });
        if hit {
            return Ok(());
        }
        self.parse(wire, query_encoded, malformed)?;
        LAST_CREDENTIAL.with_borrow_mut(|last| {
            if let Some(dst) = last.wire.get_mut(..wire.len()) {
                dst.copy_from_slice(wire.as_bytes());
                last.wire_len = wire.len();
                last.query_encoded = query_encoded;
                last.scope = *self;
            }
        });
        Ok(())
    }

    /// [`CredentialScope::fill`] without the memo.
    fn parse(
        &mut self,
        wire: &str,
        query_encoded: bool,
        malformed: &dyn Fn(String) -> VerifyError,
    ) -> Result<(), VerifyError> {
        let scope = self;
        let mut buf = [0u8; 256];
        let len = decode_into(wire.as_bytes(), query_encoded, &mut buf)
            .ok_or_else(|| malformed("the credential is too long".into()))?;
        let bytes = buf.get(..len).unwrap_or_default();
        let mut slashes = 0usize;
        for (i, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'/') {
            if let Some(end) = scope.ends.get_mut(slashes) {
                *end = i;
            }
            slashes = slashes.saturating_add(1);
        }
        if slashes != 4 {
            return Err(malformed(format!(
                "the credential must have 5 slash-separated parts, not {}",
                slashes.saturating_add(1)
            )));
        }
        let text = core::str::from_utf8(bytes)
            .map_err(|_| malformed("the credential is not UTF-8".into()))?;
        // At most 256 bytes: `decode_into` wrote them into a buffer of that size.
        scope.text =
            ArrayString::from(text).map_err(|_| malformed("the credential is too long".into()))?;
        scope.date = parse_date8(scope.parts().date.as_bytes());
        Ok(())
    }

    /// Every part.
    fn parts(&self) -> ScopeParts<'_> {
        let text = self.text.as_str();
        let [a, b, c, d] = self.ends;
        let part = |start: usize, end: usize| text.get(start..end).unwrap_or("");
        let after = |end: usize| end.saturating_add(1);
        ScopeParts {
            credential: text,
            access_key_id: part(0, a),
            date: part(after(a), b),
            region: part(after(b), c),
            service: part(after(c), d),
            terminator: part(after(d), text.len()),
            scope: part(after(a), text.len()),
            parsed_date: self.date,
        }
    }
}

/// The last credential a thread parsed, as sent and parsed (see [`CredentialScope::fill`]).
/// Plain data on the stack of no request: no lock, no allocation, nothing shared.
#[derive(Clone, Copy)]
struct LastCredential {
    /// The credential as sent; one longer than this buffer is not remembered.
    wire: [u8; 256],
    wire_len: usize,
    query_encoded: bool,
    scope: CredentialScope,
}

thread_local! {
    static LAST_CREDENTIAL: core::cell::RefCell<LastCredential> = const {
        core::cell::RefCell::new(LastCredential {
            wire: [0; 256],
            // Longer than `wire`: matches nothing until a credential is remembered.
            wire_len: usize::MAX,
            query_encoded: false,
            scope: CredentialScope::EMPTY,
        })
    };
}

/// The parts of a [`CredentialScope`].
#[derive(Clone, Copy)]
pub(crate) struct ScopeParts<'a> {
    /// The whole credential.
    credential: &'a str,
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    /// `date/region/service/aws4_request`.
    scope: &'a str,
    /// `date`, if it is a real `yyyyMMdd` date.
    parsed_date: Option<Date>,
}

/// The `SignedHeaders` names, split on `;` (header auth) or `%3B` (query, as sent).
#[derive(Clone, Copy, Debug)]
struct SignedHeaderList<'a> {
    text: &'a str,
    encoded: bool,
}

impl<'a> SignedHeaderList<'a> {
    fn iter(&self) -> SignedHeaderNames<'a> {
        SignedHeaderNames {
            rest: Some(self.text),
            encoded: self.encoded,
        }
    }

    /// Lowercase, sorted, distinct tokens within the limit: put in `names` (empty), so that
    /// the checks and writers after this one do not split the text again.
    fn validate(
        &self,
        names: &mut ArrayVec<&'a str, MAX_SIGNED_HEADERS>,
        malformed: &dyn Fn(String) -> VerifyError,
    ) -> Result<(), VerifyError> {
        if self.text.is_empty() {
            return Err(malformed("SignedHeaders is empty".into()));
        }
        let mut previous: Option<&str> = None;
        for name in self.iter() {
            if names.try_push(name).is_err() {
                return Err(VerifyError::RequestTooLarge(format!(
                    "more than {MAX_SIGNED_HEADERS} signed headers"
                )));
            }
            if !is_lowercase_token(name) {
                return Err(malformed(format!(
                    "SignedHeaders has an invalid name {name:?}: names are lowercase tokens"
                )));
            }
            if let Some(prev) = previous {
                if prev.cmp(name) != Ordering::Less {
                    return Err(malformed(
                        "SignedHeaders must be sorted and without duplicates".into(),
                    ));
                }
            }
            previous = Some(name);
        }
        Ok(())
    }
}

#[derive(Clone)]
struct SignedHeaderNames<'a> {
    rest: Option<&'a str>,
    encoded: bool,
}

impl<'a> Iterator for SignedHeaderNames<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        // Names are short: a byte loop, not a search set up per name. A `;` or `%` is ASCII,
        // so the offsets are character boundaries.
        let bytes = rest.as_bytes();
        let found = if self.encoded {
            bytes
                .iter()
                .enumerate()
                .find(|&(i, &b)| {
                    b == b';'
                        || (b == b'%'
                            && bytes
                                .get(i.saturating_add(1)..i.saturating_add(3))
                                .is_some_and(|h| h.eq_ignore_ascii_case(b"3B")))
                })
                .map(|(i, &b)| (i, if b == b';' { 1 } else { 3 }))
        } else {
            bytes.iter().position(|&b| b == b';').map(|i| (i, 1))
        };
        match found {
            Some((i, len)) => {
                self.rest = rest.get(i.saturating_add(len)..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// A request whose signature verified.
///
/// The access key id is the one whose secret verified the signature, and nothing else.
#[derive(Clone)]
pub struct VerifiedRequest<'r> {
    mechanism: Mechanism,
    scope: CredentialScope,
    signed_headers: SignedHeaderList<'r>,
    signing_time: SigningTime,
    /// `X-Amz-Expires` of a presigned URL.
    expires_secs: Option<u32>,
    /// When the temporary credentials that signed it expire.
    credential_expires_at: Option<SigningTime>,
    session_token: Option<&'r str>,
    session_token_encoded: bool,
    payload: PayloadHash,
    content_length: Option<u64>,
    decoded_content_length: Option<u64>,
    trailer: Option<&'r str>,
    signature: [u8; 32],
    signing_key: SigningKey,
    date: Date,
}

impl<'r> VerifiedRequest<'r> {
    /// How the request was authenticated.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The access key id whose secret verified the signature.
    pub fn access_key_id(&self) -> &str {
        self.scope.parts().access_key_id
    }

    /// The date of the credential scope.
    pub fn scope_date(&self) -> Date {
        self.date
    }

    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        self.scope.parts().region
    }

    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        self.scope.parts().service
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    pub fn credential_scope(&self) -> &str {
        self.scope.parts().scope
    }

    /// The signed header names, lowercase and sorted.
    pub fn signed_headers(&self) -> impl Iterator<Item = &'r str> + '_ {
        self.signed_headers.iter()
    }

    /// When the request was signed (`X-Amz-Date`).
    pub fn signing_time(&self) -> SigningTime {
        self.signing_time
    }

    /// The instant the authorisation stops being valid: for a presigned URL the earlier of
    /// `X-Amz-Date + X-Amz-Expires` and the expiry of temporary credentials; for header auth
    /// the expiry of temporary credentials, if any.
    pub fn expires_at(&self) -> Option<SigningTime> {
        let url = self
            .expires_secs
            .map(|secs| self.signing_time.add_seconds(i64::from(secs)));
        match (url, self.credential_expires_at) {
            (Some(url), Some(credential)) => Some(url.min(credential)),
            (url, credential) => url.or(credential),
        }
    }

    /// The session token the request carried (temporary credentials).
    pub fn session_token(&self) -> Option<String> {
        let token = self.session_token?;
        if self.session_token_encoded {
            let bytes: Vec<u8> = Decoded::new(token.as_bytes(), Rule::Query).collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            Some(token.to_owned())
        }
    }

    /// The payload rule the body must meet: unsigned, a SHA-256 to check, or a streaming mode.
    pub fn payload(&self) -> PayloadHash {
        self.payload
    }

    /// The `content-length` header, if the request had one.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// `x-amz-decoded-content-length` (aws-chunked uploads).
    pub fn decoded_content_length(&self) -> Option<u64> {
        self.decoded_content_length
    }

    /// The `x-amz-trailer` header (aws-chunked uploads with trailing checksums).
    pub fn trailer(&self) -> Option<&'r str> {
        self.trailer
    }

    /// The request's signature (the seed signature of an aws-chunked upload).
    pub fn signature(&self) -> [u8; 32] {
        self.signature
    }

    /// The signing key that verified the request (chunk signatures use it too).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// A checker for a single-chunk body: feed it the body as it arrives, and commit nothing
    /// before [`BodyChecker::finish`] returns `Ok`. Streaming (aws-chunked) payloads are
    /// checked chunk by chunk instead, so this returns `None` for them.
    pub fn body_checker(&self) -> Option<BodyChecker> {
        let expected = match self.payload {
            PayloadHash::Unsigned => None,
            PayloadHash::Sha256(hex) => Some(hex),
            _ => return None,
        };
        Some(BodyChecker {
            expected,
            declared_len: self.content_length,
            hasher: Sha256::new(),
            seen: 0,
        })
    }
}

impl core::fmt::Debug for VerifiedRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedRequest")
            .field("mechanism", &self.mechanism)
            .field("access_key_id", &self.access_key_id())
            .field("credential_scope", &self.credential_scope())
            .field("signed_headers", &self.signed_headers().collect::<Vec<_>>())
            .field("signing_time", &self.signing_time)
            .field("expires_at", &self.expires_at())
            .field("session_token", &self.session_token.map(|_| "<redacted>"))
            .field("payload", &self.payload)
            .finish_non_exhaustive()
    }
}

/// Checks a body against the signed payload hash and the declared length.
///
/// Nothing about the body is known until [`finish`](BodyChecker::finish): store it aside and
/// commit it only when `finish` returns `Ok`.
pub struct BodyChecker {
    expected: Option<crate::canonical::Sha256Hex>,
    declared_len: Option<u64>,
    hasher: Sha256,
    seen: u64,
}

impl BodyChecker {
    /// Feeds the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        if self.expected.is_some() {
            self.hasher.update(bytes);
        }
        self.seen = self.seen.saturating_add(bytes.len() as u64);
    }

    /// Bytes seen so far.
    pub fn bytes_seen(&self) -> u64 {
        self.seen
    }

    /// Whether the body matched: its length equals `content-length` (when declared) and its
    /// SHA-256 equals the signed `x-amz-content-sha256` (unless the payload is unsigned).
    pub fn finish(self) -> Result<(), VerifyError> {
        if let Some(expected) = self.declared_len {
            if expected != self.seen {
                return Err(VerifyError::IncompleteBody {
                    expected,
                    provided: self.seen,
                });
            }
        }
        if let Some(expected) = self.expected {
            let computed: [u8; 32] = self.hasher.finalize().into();
            if !crate::signing_key::constant_time_eq(&computed, &expected.digest()) {
                return Err(VerifyError::ContentSha256Mismatch {
                    client_computed: expected.as_str().to_owned(),
                    server_computed: hex::encode(computed),
                });
            }
        }
        Ok(())
    }
}

/// Verifies presigned URLs and header-signed requests against a credential store.
///
/// `Send + Sync` when its store is; verification takes `&self` and shares nothing mutable on
/// its success path (the derived-key cache is read lock-free).
///
/// When the store keeps a [generation](CredentialStore::generation) (as
/// [`InMemoryCredentials`] does), each thread remembers the derived key of the last static
/// credential (no session token) it verified, with the generation it was looked up at: a
/// request with the same credential text, verified by the same verifier while the generation
/// has not moved, uses that key without asking the store or the cache (about 7 % of a
/// verification). A change to the store moves the generation, so it takes effect on the next
/// request as before. The remembered key (never the secret) stays with the thread until it
/// verifies with another credential or store generation, or exits; it is zeroized when
/// dropped.
pub struct Verifier<S: CredentialStore> {
    store: S,
    config: VerifierConfig,
    keys: KeyCache,
    /// Tells this verifier's per-thread memo entries from other verifiers' (see
    /// [`CredentialStore::generation`]).
    id: u64,
}

/// The next [`Verifier`]'s id.
static NEXT_VERIFIER_ID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// What the two mechanisms have in common once parsed.
struct Parsed<'r> {
    mechanism: Mechanism,
    signed_headers: SignedHeaderList<'r>,
    signing_time: SigningTime,
    amz_date: crate::AmzDate,
    signature_hex: &'r str,
    signature_index: Option<usize>,
    session_token: Option<&'r str>,
    payload: PayloadHash,
    expires_secs: Option<u32>,
}

impl<S: CredentialStore> Verifier<S> {
    /// A verifier with `store` and `config`.
    pub fn new(store: S, config: VerifierConfig) -> Self {
        Verifier {
            store,
            config,
            keys: KeyCache::default(),
            id: NEXT_VERIFIER_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The credential store (to add, rotate or revoke keys).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies `request` by whichever mechanism it uses. An anonymous request is
    /// [`VerifyError::MissingAuthentication`]; use [`detect`] first to allow anonymous access.
    pub fn verify<'r, H: Headers + ?Sized>(
        &self,
        request: &IncomingRequest<'r, H>,
        now: SigningTime,
    ) -> Result<VerifiedRequest<'r>, VerifyError> {
        self.verify_as(request, now, |mechanism| match mechanism {
            Mechanism::Anonymous => Err(VerifyError::MissingAuthentication),
            Mechanism::PresignedQuery => Ok(true),
            Mechanism::AuthorizationHeader => Ok(false),
        })
    }

    /// Verifies a presigned URL; any other mechanism is an error.
    pub fn verify_presigned<'r, H: Headers + ?Sized>(
        &self,
        request: &IncomingRequest<'r, H>,
        now: SigningTime,
    ) -> Result<VerifiedRequest<'r>, VerifyError> {
        self.verify_as(request, now, |mechanism| match mechanism {
            Mechanism::PresignedQuery => Ok(true),
            Mechanism::Anonymous => Err(VerifyError::AuthorizationQueryParametersError(
                MISSING_PARAMS.into(),
            )),
            Mechanism::AuthorizationHeader => Err(VerifyError::UnsupportedMechanism),
        })
    }

    /// Verifies an `Authorization`-header request; any other mechanism is an error.
    pub fn verify_header<'r, H: Headers + ?Sized>(
        &self,
        request: &IncomingRequest<'r, H>,
        now: SigningTime,
    ) -> Result<VerifiedRequest<'r>, VerifyError> {
        self.verify_as(request, now, |mechanism| match mechanism {
            Mechanism::AuthorizationHeader => Ok(false),
            Mechanism::Anonymous => Err(VerifyError::MissingAuthentication),
            Mechanism::PresignedQuery => Err(VerifyError::UnsupportedMechanism),
        })
    }

    /// Checks the bounds, finds the mechanism, and verifies by it when `accept` says so
    /// (`Ok(true)` for a presigned URL, `Ok(false)` for an `Authorization` header).
    fn verify_as<'r, H: Headers + ?Sized>(
        &self,
        request: &IncomingRequest<'r, H>,
        now: SigningTime,
        accept: impl FnOnce(Mechanism) -> Result<bool, VerifyError>,
    ) -> Result<VerifiedRequest<'r>, VerifyError> {
        let (path, query) = request.path_and_query();
        let mut query = WireQuery::unparsed(query);
        let mut known = KnownHeaders::EMPTY;
        self.check_bounds(request, path, &mut query, &mut known)?;
        let auth = AuthParams::scan(&query);
        let presigned = accept(detect_in(&known, &auth)?)?;
        self.verify_parsed(request, &known, path, &query, &auth, now, presigned)
    }

    /// Verifies an `http::Request` (the `http` feature). The target is the URI's path and
    /// query as received; an HTTP/2 `:authority` stands in for a missing `host` header.
    #[cfg(feature = "http")]
    pub fn verify_http<'r, B>(
        &self,
        request: &'r http::Request<B>,
        now: SigningTime,
    ) -> Result<VerifiedRequest<'r>, VerifyError> {
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut incoming =
            IncomingRequest::new(request.method().as_str(), target, request.headers());
        if let Some(authority) = request.uri().authority() {
            incoming = incoming.with_authority(authority.as_str());
        }
        self.verify(&incoming, now)
    }

    /// Refuses requests past the limits and unreadable targets; splits the query and finds the
    /// headers read by name, both in place.
    fn check_bounds<'r, H: Headers + ?Sized>(
        &self,
        request: &IncomingRequest<'r, H>,
        path: &str,
        query: &mut WireQuery<'r>,
        known: &mut KnownHeaders<'r>,
    ) -> Result<(), VerifyError> {
        if request.target.len() > MAX_REQUEST_TARGET_LEN {
            return Err(VerifyError::RequestTooLarge(format!(
                "the request target is longer than {MAX_REQUEST_TARGET_LEN} bytes"
            )));
        }
        KnownHeaders::gather(known, request.headers)?;
        if !request.target.starts_with('/') {
            return Err(VerifyError::InvalidArgument(
                "the request target must start with '/'".into(),
            ));
        }
        crate::canonical::validate_wire_path(path).map_err(|_| {
            VerifyError::InvalidArgument("the path has a '%' not followed by two hex digits".into())
        })?;
        parse_query(query)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one private call site, each part once"
    )]
    fn verify_parsed<'r, H: Headers + ?Sized>(
        &self,
        request: &IncomingRequest<'r, H>,
        known: &KnownHeaders<'r>,
        path: &'r str,
        query: &WireQuery<'r>,
        auth: &AuthParams,
        now: SigningTime,
        presigned: bool,
    ) -> Result<VerifiedRequest<'r>, VerifyError> {
        // Filled in place: the decoded credential is moved once, into the result.
        let mut credential = CredentialScope::EMPTY;
        let parsed = if presigned {
            parse_presigned(query, auth, request.payload, &mut credential)?
        } else {
            parse_header_auth(known, request.payload, &mut credential)?
        };
        let malformed = |msg: String| malformed_error(presigned, msg);

        let scope = credential.parts();
        let scope_date =
            self.check_scope(&scope, parsed.signing_time, &malformed, &|got, expected| {
                VerifyError::WrongRegion {
                    got,
                    expected,
                    presigned,
                }
            })?;

        // Signed headers: grammar, host and the configured ones, every x-amz-* header.
        let mut names = ArrayVec::new();
        parsed.signed_headers.validate(&mut names, &malformed)?;
        let mut not_signed: Vec<String> = Vec::new();
        for required in core::iter::once("host").chain(
            self.config
                .required_signed_headers
                .iter()
                .map(String::as_str),
        ) {
            if !names.contains(&required) {
                not_signed.push(required.to_owned());
            }
        }
        for (name, _) in request.headers.header_pairs() {
            let lower_is_amz = name
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"));
            // Compared ignoring case rather than lowercased: no allocation unless it fails.
            if lower_is_amz
                && !names.iter().any(|n| same_name(n, name))
                && !self
                    .config
                    .unsigned_header_exemptions
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(name))
                && !not_signed.iter().any(|n| n.eq_ignore_ascii_case(name))
            {
                not_signed.push(name.to_ascii_lowercase());
            }
        }
        if !not_signed.is_empty() {
            return Err(VerifyError::HeadersNotSigned {
                headers: not_signed,
            });
        }

        // Time, in seconds since the epoch (the instants themselves are only made for errors
        // and when asked for).
        if let Some(expires) = parsed.expires_secs {
            if expires > self.config.max_expires_secs {
                return Err(VerifyError::AuthorizationQueryParametersError(format!(
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than {} seconds",
                    self.config.max_expires_secs
                )));
            }
            let (now_secs, signed_secs) =
                (now.unix_timestamp(), parsed.signing_time.unix_timestamp());
            if now_secs < signed_secs.saturating_sub(900) {
                return Err(VerifyError::NotYetValid);
            }
            if now_secs > signed_secs.saturating_add(i64::from(expires)) {
                return Err(VerifyError::Expired {
                    expires_at: parsed.signing_time.add_seconds(i64::from(expires)),
                    now,
                });
            }
        } else {
            let skew = i64::from(self.config.clock_skew_secs);
            let diff = now
                .unix_timestamp()
                .saturating_sub(parsed.signing_time.unix_timestamp());
            if diff.abs() > skew {
                return Err(VerifyError::RequestTimeTooSkewed {
                    request_time: parsed.signing_time,
                    server_time: now,
                });
            }
        }

        // The credential: known key, matching token, not expired; its (cached) signing key.
        let access_key_id = scope.access_key_id;
        // The key (a keyed HMAC state, the largest thing a verification carries) is put in
        // this frame's slot and moved once, into the result: returned through `Option` and
        // `Result`, it was copied at each step from memory just written, and each such copy
        // stalls until the stores land.
        let mut key_slot = None;
        let (signing_key, credential_expiry) = self.credential_key(
            &scope,
            scope_date,
            parsed.session_token,
            presigned,
            now,
            &mut key_slot,
        )?;

        // The signature, over the canonical request streamed into SHA-256.
        let decoded = crate::signing_key::decode_lower_hex32(parsed.signature_hex);
        let well_formed = decoded.is_some();
        let signature = decoded.unwrap_or([0; 32]);
        let headers = WithAuthority {
            headers: request.headers,
            authority: request.authority,
        };
        let skip = parsed.signature_index;
        let parts = |query| Parts {
            method: request.method,
            path: PathInput::Wire(path),
            uri_encoding: self.config.uri_encoding,
            query,
            signed_names: names.iter().copied(),
            // Checked lowercase tokens (`SignedHeaderList::validate`).
            signed_names_lowercase: true,
            // The list as sent is those names joined by `;` (checked above) unless it came from
            // a query with escapes (`%3B`): then it is written name by name.
            signed_list: (!parsed.signed_headers.encoded
                || !parsed.signed_headers.text.contains('%'))
            .then_some(parsed.signed_headers.text),
            headers: &headers,
            payload: &parsed.payload,
        };
        // The canonical request hashed, its string to sign signed; whether that signature is
        // the one sent (constant time, one optimisation barrier rather than one per byte).
        let check = |query| -> Result<([u8; 32], bool), VerifyError> {
            // Streamed straight into the hasher (see `sink::Buffered` for why not gathered).
            let mut hasher = Sha256::new();
            // A signed header the request does not carry is a mismatch even when it was
            // signed with an empty value: absent is not empty.
            let missing = write_canonical_request(&parts(query), &mut hasher).map_err(|e| {
                VerifyError::InvalidArgument(format!("a signed header cannot be read: {e}"))
            })?;
            // `finalize_reset` rather than `finalize`: the hasher is not moved (copied) from
            // the block it was just given.
            let hash: [u8; 32] = hasher.finalize_reset().into();
            let mut mac = signing_key.mac();
            write_string_to_sign(
                &parsed.amz_date,
                scope.scope,
                &hash,
                &mut crate::sink::Buffered::<_, 256>::sized(&mut mac),
            );
            let computed: [u8; 32] = mac.finalize().into_bytes().into();
            let matches = well_formed
                && crate::signing_key::constant_time_eq(&computed, &signature)
                && missing.is_none();
            Ok((hash, matches))
        };
        // The query as it is first: SDKs send it canonical already, and a signature over it
        // as it is proves what one over its canonical form would (see
        // `WireQuery::write_as_is`). Canonicalized only when that does not match.
        let (mut hash, mut matches) = check(QueryInput::WireAsIs(query, skip))?;
        if !matches && !query.is_canonical(skip) {
            (hash, matches) = check(QueryInput::Wire(query, skip))?;
        }
        if !matches {
            // The canonical form, for the error: what the client should have signed.
            let mut text = Vec::new();
            let _ = write_canonical_request(&parts(QueryInput::Wire(query, skip)), &mut text);
            let mut sts = Vec::new();
            write_string_to_sign(&parsed.amz_date, scope.scope, &hash, &mut sts);
            return Err(VerifyError::SignatureDoesNotMatch {
                access_key_id: access_key_id.to_owned(),
                string_to_sign: String::from_utf8_lossy(&sts).into_owned(),
                canonical_request: String::from_utf8_lossy(&text).into_owned(),
                signature_provided: parsed.signature_hex.to_owned(),
            });
        }

        let content_length = match known.single(Known::ContentLength)? {
            None => None,
            Some(v) => Some(parse_decimal(v).ok_or_else(|| {
                VerifyError::InvalidArgument("content-length is not a decimal number".into())
            })?),
        };
        let mut decoded_content_length = None;
        let mut trailer = None;
        if parsed.payload.is_streaming() {
            decoded_content_length = Some(
                known
                    .single(Known::DecodedContentLength)?
                    .and_then(parse_decimal)
                    .ok_or(VerifyError::MissingContentLength)?,
            );
            trailer = known.single(Known::Trailer)?;
        }

        Ok(VerifiedRequest {
            mechanism: parsed.mechanism,
            scope: credential,
            signed_headers: parsed.signed_headers,
            signing_time: parsed.signing_time,
            expires_secs: parsed.expires_secs,
            credential_expires_at: credential_expiry,
            session_token: parsed.session_token,
            session_token_encoded: presigned,
            payload: parsed.payload,
            content_length,
            decoded_content_length,
            trailer,
            signature,
            // Filled whenever `credential_key` succeeds.
            signing_key: match key_slot {
                Some(key) => key,
                None => {
                    return Err(VerifyError::InvalidAccessKeyId {
                        access_key_id: access_key_id.to_owned(),
                    });
                }
            },
            date: scope_date,
        })
    }
}

impl<S: CredentialStore> Verifier<S> {
    /// The scope rules every mechanism shares: a non-empty access key id, a real date equal to
    /// the signing time's, an accepted region and service, the exact terminator. Returns the
    /// scope's date.
    fn check_scope(
        &self,
        scope: &ScopeParts<'_>,
        signing_time: SigningTime,
        malformed: &dyn Fn(String) -> VerifyError,
        wrong_region: &dyn Fn(String, String) -> VerifyError,
    ) -> Result<Date, VerifyError> {
        if scope.access_key_id.is_empty() {
            return Err(malformed(
                "a non-empty Access Key (AKID) must be provided in the credential.".into(),
            ));
        }
        let date = scope
            .parsed_date
            .ok_or_else(|| malformed(format!("invalid credential date {:?}", scope.date)))?;
        if date != signing_time.date() {
            return Err(malformed(
                "Invalid credential date. Date is not the same as X-Amz-Date.".into(),
            ));
        }
        if !self.config.regions.iter().any(|r| r == scope.region) {
            return Err(wrong_region(
                scope.region.to_owned(),
                self.config.regions.join(","),
            ));
        }
        if !self.config.services.iter().any(|s| s == scope.service) {
            return Err(malformed(format!(
                "the service {:?} in the credential is not accepted here",
                scope.service
            )));
        }
        if scope.terminator != SCOPE_TERMINATOR {
            return Err(malformed(format!(
                "the credential must end with {SCOPE_TERMINATOR:?}"
            )));
        }
        Ok(date)
    }

    /// The store's verdict on the scope's access key: unknown (`InvalidAccessKeyId`), a
    /// session token that does not match (`InvalidToken`; compared in constant time, decoding
    /// it first when it came from a query), expired temporary credentials (`ExpiredToken`);
    /// else the (cached) signing key, put in `key` (see [`key_cache::remembered`]), and when
    /// the credentials expire.
    fn credential_key<'k>(
        &self,
        scope: &ScopeParts<'_>,
        date: Date,
        session_token: Option<&str>,
        token_encoded: bool,
        now: SigningTime,
        key: &'k mut Option<SigningKey>,
    ) -> Result<(&'k SigningKey, Option<SigningTime>), VerifyError> {
        let access_key_id = scope.access_key_id;
        let unknown = || VerifyError::InvalidAccessKeyId {
            access_key_id: access_key_id.to_owned(),
        };
        // Only requests without a session token: their credential, once found, has no token
        // to compare and no expiry (only temporary credentials have either). Read before the
        // store is asked: a change made in between makes the next request miss the memo rather
        // than find a key the change revoked.
        let generation = self.store.generation().filter(|_| session_token.is_none());
        if let Some(generation) = generation {
            if key_cache::remembered(self.id, generation, scope.credential, key) {
                return key.as_ref().map(|key| (key, None)).ok_or_else(unknown);
            }
        }
        let mut lookup: Option<Result<(SigningKey, Option<SigningTime>), VerifyError>> = None;
        self.store.lookup(access_key_id, &mut |cred| {
            let token_ok = match (cred.session_token(), session_token) {
                (None, None) => true,
                (Some(stored), Some(sent)) => token_matches(sent, token_encoded, stored),
                _ => false,
            };
            lookup = Some(if !token_ok {
                Err(VerifyError::InvalidToken)
            } else if cred.expires_at().is_some_and(|e| now >= e) {
                Err(VerifyError::ExpiredToken)
            } else {
                Ok((
                    self.keys
                        .signing_key(access_key_id, date, scope.region, scope.service, cred),
                    cred.expires_at(),
                ))
            });
        });
        let found = lookup.unwrap_or_else(|| Err(unknown()));
        let (found, expiry) = found?;
        if let (Some(generation), None) = (generation, expiry) {
            key_cache::remember(self.id, generation, scope.credential, &found);
        }
        Ok((key.insert(found), expiry))
    }
}

const MISSING_PARAMS: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";

fn malformed_error(presigned: bool, msg: String) -> VerifyError {
    if presigned {
        VerifyError::AuthorizationQueryParametersError(msg)
    } else {
        VerifyError::AuthorizationHeaderMalformed(msg)
    }
}

/// Compares a session token as sent with the stored one, in time that depends only on their
/// lengths.
fn token_matches(sent: &str, encoded: bool, stored: &str) -> bool {
    // A query carries it percent-encoded: up to three bytes each.
    let wire_limit = if encoded {
        MAX_SESSION_TOKEN_LEN * 3
    } else {
        MAX_SESSION_TOKEN_LEN
    };
    if sent.len() > wire_limit {
        return false;
    }
    let mut diff = 0u8;
    let mut len = 0usize;
    let stored = stored.as_bytes();
    let mut compare = |i: usize, b: u8| {
        diff |= b ^ stored.get(i).copied().unwrap_or(!b);
    };
    if encoded {
        for (i, b) in Decoded::new(sent.as_bytes(), Rule::Query).enumerate() {
            compare(i, b);
            len = i.saturating_add(1);
        }
    } else {
        for (i, b) in sent.bytes().enumerate() {
            compare(i, b);
            len = i.saturating_add(1);
        }
    }
    core::hint::black_box(diff) == 0 && len == stored.len() && len <= MAX_SESSION_TOKEN_LEN
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_presigned<'r>(
    query: &WireQuery<'r>,
    auth: &AuthParams,
    given_payload: Option<PayloadHash>,
    scope: &mut CredentialScope,
) -> Result<Parsed<'r>, VerifyError> {
    let malformed = |msg: String| VerifyError::AuthorizationQueryParametersError(msg);
    // Case variants and repeats of auth parameters are errors.
    match auth.problem {
        Some((param, false)) => {
            return Err(malformed(format!("{param} is spelled with the wrong case")));
        }
        Some((param, true)) => {
            return Err(malformed(format!("{param} appears more than once")));
        }
        None => {}
    }
    if auth.any_sigv2 {
        return Err(VerifyError::UnsupportedMechanism);
    }
    let [
        Some(alg),
        Some(cred),
        Some(date),
        Some(expires),
        Some(signed),
        Some(sig),
        token,
        content_sha,
    ] = auth.found
    else {
        return Err(malformed(MISSING_PARAMS.into()));
    };
    let value = |i: usize| query.value(i);

    if !decoded_eq(value(alg), ALGORITHM) {
        return Err(VerifyError::AuthorizationQueryParametersError(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
        ));
    }
    scope.fill(value(cred), true, &malformed)?;
    let date_text = value(date);
    let (signing_time, amz_date) = parse_amz(date_text.as_bytes(), true).ok_or_else(|| {
        malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"".into())
    })?;
    let expires_text = value(expires);
    if expires_text.is_empty() || !expires_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("X-Amz-Expires should be a number".into()));
    }
    let expires_secs = match expires_text.trim_start_matches('0').len() {
        0 => 0,
        1..=7 => expires_text.parse::<u32>().unwrap_or(u32::MAX),
        _ => u32::MAX,
    };
    if expires_secs == 0 {
        return Err(malformed("X-Amz-Expires must be at least 1 second".into()));
    }
    if expires_secs > crate::MAX_EXPIRY_SECS {
        return Err(malformed("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds".into()));
    }
    let payload = match content_sha {
        None => given_payload.unwrap_or(PayloadHash::Unsigned),
        Some(i) => {
            let mut buf = [0u8; 64];
            let n = decode_into(value(i).as_bytes(), true, &mut buf).ok_or_else(|| {
                VerifyError::InvalidArgument("X-Amz-Content-Sha256 is invalid".into())
            })?;
            let text = core::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or("");
            match PayloadHash::parse(text) {
                Ok(p) if !p.is_streaming() => p,
                _ => {
                    return Err(VerifyError::InvalidArgument(
                        "X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a SHA-256 on a presigned request".into(),
                    ))
                }
            }
        }
    };
    if let Some(t) = token {
        if value(t).is_empty() || value(t).len() > MAX_SESSION_TOKEN_LEN * 3 {
            return Err(VerifyError::InvalidToken);
        }
    }
    Ok(Parsed {
        mechanism: Mechanism::PresignedQuery,
        signed_headers: SignedHeaderList {
            text: value(signed),
            encoded: true,
        },
        signing_time,
        amz_date,
        signature_hex: value(sig),
        signature_index: Some(sig),
        session_token: token.map(value),
        payload,
        expires_secs: Some(expires_secs),
    })
}

/// Strict `yyyyMMdd'T'HHmmss'Z'`, decoding escapes when the text came from a query; the time
/// and its formatted text.
fn parse_amz(wire: &[u8], encoded: bool) -> Option<(SigningTime, crate::AmzDate)> {
    // Strictly parsed, the 16 bytes are the formatted date itself. As sent, first: a text that
    // parses has only digits, `T` and `Z`, which decode to themselves. Decoded otherwise, when
    // it came from a query (a header is read as it is: there is nothing else to try).
    if let Ok(text) = <[u8; 16]>::try_from(wire) {
        if let Some(time) = SigningTime::parse_amz_bytes(&text) {
            return Some((time, crate::AmzDate::from_parsed(text)));
        }
    }
    if !encoded {
        return None;
    }
    let mut buf = [0u8; 16];
    let n = decode_into(wire, encoded, &mut buf)?;
    let time = SigningTime::parse_amz_bytes(buf.get(..n)?)?;
    Some((time, crate::AmzDate::from_parsed(buf)))
}

/// The value of `component` (`name=value`, after optional spaces), if it has that name.
fn auth_component<'v>(component: &'v str, name: &str) -> Option<&'v str> {
    let component = component.trim_start_matches(' ');
    // `name=` compared inline (names are short) rather than through `memcmp`.
    let value_at = name.len().saturating_add(1);
    let matches = component.as_bytes().get(..value_at).is_some_and(|head| {
        head.last() == Some(&b'=')
            && crate::encoding::short_eq(
                head.get(..name.len()).unwrap_or_default(),
                name.as_bytes(),
            )
    });
    if matches {
        component.get(value_at..)
    } else {
        None
    }
}

fn parse_header_auth<'h>(
    headers: &KnownHeaders<'h>,
    given_payload: Option<PayloadHash>,
    scope: &mut CredentialScope,
) -> Result<Parsed<'h>, VerifyError> {
    let malformed = |msg: String| VerifyError::AuthorizationHeaderMalformed(msg);
    let value = headers.single(Known::Authorization)?.unwrap_or("");
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(VerifyError::RequestTooLarge(format!(
            "the Authorization header is longer than {MAX_AUTHORIZATION_LEN} bytes"
        )));
    }
    let Some(rest) = value.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(VerifyError::UnsupportedMechanism);
    };
    let grammar = || {
        malformed("expected \"AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…\"".into())
    };
    // Exactly two commas and no tab, found in one vector search.
    let mut commas = [0usize; 2];
    let mut found = 0usize;
    for i in memchr::memchr2_iter(b',', b'\t', rest.as_bytes()) {
        match commas.get_mut(found) {
            Some(comma) if rest.as_bytes().get(i) == Some(&b',') => *comma = i,
            _ => return Err(grammar()),
        }
        found = found.saturating_add(1);
    }
    if found != 2 {
        return Err(grammar());
    }
    let [first, second] = commas;
    // Commas are ASCII: the offsets are character boundaries.
    let component =
        |from: usize, to: usize, name| rest.get(from..to).and_then(|c| auth_component(c, name));
    let (Some(credential), Some(signed), Some(signature)) = (
        component(0, first, "Credential"),
        component(first.saturating_add(1), second, "SignedHeaders"),
        component(second.saturating_add(1), rest.len(), "Signature"),
    ) else {
        return Err(grammar());
    };
    if signature.is_empty() {
        return Err(grammar());
    }
    if credential.is_empty() || signed.is_empty() {
        return Err(grammar());
    }
    scope.fill(credential, false, &malformed)?;

    let (signing_time, amz_date) = match headers.single(Known::AmzDate)? {
        Some(v) => parse_amz(v.as_bytes(), false).ok_or(VerifyError::MissingDate)?,
        None => {
            let date = headers
                .single(Known::Date)?
                .ok_or(VerifyError::MissingDate)?;
            let time =
                time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822)
                    .ok()
                    .and_then(|t| SigningTime::from_offset_date_time(t).ok())
                    .ok_or(VerifyError::MissingDate)?;
            (time, time.amz_date())
        }
    };
    let payload = match headers.single(Known::ContentSha256)? {
        None => given_payload.ok_or(VerifyError::MissingHeader("x-amz-content-sha256"))?,
        Some(v) => PayloadHash::parse(v).map_err(|_| {
            VerifyError::InvalidArgument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.".into(),
            )
        })?,
    };
    let session_token = headers.single(Known::SecurityToken)?;
    Ok(Parsed {
        mechanism: Mechanism::AuthorizationHeader,
        signed_headers: SignedHeaderList {
            text: signed,
            encoded: false,
        },
        signing_time,
        amz_date,
        signature_hex: signature,
        signature_index: None,
        session_token,
        payload,
        expires_secs: None,
    })
}

/// Request headers plus the routed authority as `host` when the request has no host header.
struct WithAuthority<'a, H: Headers + ?Sized> {
    headers: &'a H,
    authority: Option<&'a str>,
}

impl<H: Headers + ?Sized> Headers for WithAuthority<'_, H> {
    fn header_pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let synthetic_host = match self.authority {
            Some(a) if self.headers.values("host").next().is_none() => Some(("host", a.as_bytes())),
            _ => None,
        };
        self.headers.header_pairs().chain(synthetic_host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_eq_is_given_plain_values_only() {
        for value in PRESIGN_PARAMS
            .iter()
            .chain(&SIGV2_PARAMS)
            .chain([&ALGORITHM])
        {
            assert!(!value.contains(['%', '+', ' ']), "{value}");
            assert!(decoded_eq(value, value));
            assert!(decoded_eq(
                &value.replacen('-', "%2D", 1).replacen('A', "%41", 1),
                value
            ));
            assert!(!decoded_eq(&format!("{value}+"), value));
        }
        assert!(!decoded_eq("AWS4-HMAC+SHA256", "AWS4-HMAC-SHA256"));
    }

    #[test]
    fn a_header_read_by_name_is_trimmed_of_spaces_and_tabs_only_and_must_be_utf8() {
        let single = |value: &[u8]| {
            let mut known = KnownHeaders {
                count: 1,
                ..KnownHeaders::EMPTY
            };
            known.first[Known::AmzDate as usize] = Some(value);
            known.single(Known::AmzDate).map(|v| v.map(str::to_owned))
        };
        for (value, expected) in [
            (&b"20130524T000000Z"[..], "20130524T000000Z"),
            (b" \t20130524T000000Z\t ", "20130524T000000Z"),
            (b"a \t b", "a \t b"),
            (b" \t \t", ""),
            (b"", ""),
            // Other whitespace is kept: only SP and HTAB surround a field value.
            (b"\r\na\x0b", "\r\na\x0b"),
            ("\u{a0}é\u{a0}".as_bytes(), "\u{a0}é\u{a0}"),
        ] {
            assert_eq!(single(value), Ok(Some(expected.to_owned())), "{value:?}");
        }
        for value in [&b" \xff "[..], b"a\xc3", b"\t\xe2\x82"] {
            assert!(
                matches!(single(value), Err(VerifyError::InvalidArgument(_))),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_date_is_read_as_sent_or_decoded_alike() {
        let text = "20130524T000000Z";
        let expected = SigningTime::parse_amz_date(text).ok();
        let read = |wire: &str, encoded: bool| {
            parse_amz(wire.as_bytes(), encoded).map(|(t, d)| (t, d.as_str().to_owned()))
        };
        for encoded in [true, false] {
            assert_eq!(read(text, encoded), expected.map(|t| (t, text.to_owned())));
        }
        // Escapes decode in a query only; a header is read as it is.
        for escaped in [
            "2013%30524T000000Z",
            "20130524%54000000%5A",
            "%32%30%31%33%30%35%32%34%54%30%30%30%30%30%30%5A",
        ] {
            assert_eq!(read(escaped, true), read(text, true), "{escaped}");
            assert_eq!(read(escaped, false), None, "{escaped}");
        }
        for bad in [
            "20130524T000000z",
            "20130524t000000Z",
            "20130524+000000Z",
            "20130524%20000000Z",
            "2013052T000000Z",
            "20130524T000000Z0",
            "20130524T240000Z",
            "20130532T000000Z",
            "2013%3",
            "",
        ] {
            assert_eq!(read(bad, true), None, "{bad}");
            assert_eq!(read(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn auth_names_are_told_apart_by_length_and_seventh_byte() {
        for params in [&PRESIGN_PARAMS[..], &SIGV2_PARAMS[..]] {
            for (i, a) in params.iter().enumerate() {
                for b in params.iter().skip(i + 1) {
                    assert!(
                        a.len() != b.len() || a.as_bytes().get(6) != b.as_bytes().get(6),
                        "{a} and {b}"
                    );
                }
                assert_eq!(match_param(a, params), Some((i, *a, true)));
                let lower = a.to_ascii_lowercase();
                assert_eq!(match_param(&lower, params), Some((i, *a, false)));
                let escaped = a.replacen('-', "%2D", 1).replacen('A', "%41", 1);
                assert_eq!(
                    match_param(&escaped, params),
                    Some((i, *a, true)),
                    "{escaped}"
                );
            }
        }
        assert_eq!(match_param("X-Amz-Dat", &PRESIGN_PARAMS), None);
        assert_eq!(match_param("x-id", &PRESIGN_PARAMS), None);
    }

    /// Access key id, scope and date of `wire`, through the memo (`fill`) or not (`parse`).
    fn scope_of(
        wire: &str,
        query_encoded: bool,
        remembered: bool,
    ) -> Result<(String, String, Option<Date>), VerifyError> {
        let mut scope = CredentialScope::EMPTY;
        let malformed = &VerifyError::InvalidArgument;
        if remembered {
            scope.fill(wire, query_encoded, malformed)?;
        } else {
            scope.parse(wire, query_encoded, malformed)?;
        }
        let parts = scope.parts();
        Ok((
            parts.access_key_id.to_owned(),
            parts.scope.to_owned(),
            parts.parsed_date,
        ))
    }

    fn filled(
        wire: &str,
        query_encoded: bool,
    ) -> Result<(String, String, Option<Date>), VerifyError> {
        scope_of(wire, query_encoded, true)
    }

    #[test]
    fn a_credential_is_utf8_and_at_most_256_bytes_once_decoded() {
        let message = |r: Result<(String, String, Option<Date>), VerifyError>| match r {
            Err(VerifyError::InvalidArgument(m)) => m,
            other => format!("{other:?}"),
        };
        let tail = "/20130524/us-east-1/s3/aws4_request";
        for remembered in [false, true] {
            let not_utf8 = format!("%FF%FE{tail}");
            assert_eq!(
                message(scope_of(&not_utf8, true, remembered)),
                "the credential is not UTF-8"
            );
            // As sent in a header, the same text is plain ASCII: nothing to decode.
            assert!(scope_of(&not_utf8, false, remembered).is_ok());
            let fits = "A".repeat(256 - tail.len());
            let parts = scope_of(&format!("{fits}{tail}"), true, remembered);
            assert_eq!(parts.ok().map(|p| p.0), Some(fits.clone()));
            // One byte more, written as an escape so that the wire text is shorter than that.
            let over = format!("{}%41{tail}", fits);
            assert_eq!(
                message(scope_of(&over, true, remembered)),
                "the credential is too long"
            );
        }
    }

    #[test]
    fn the_remembered_credential_is_what_parsing_gives() {
        let text = "A+B/20130524/us-east-1/s3/aws4_request";
        let query = "AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request";
        let long = format!("{}/20130524/us-east-1/s3/aws4_request", "%41".repeat(80));
        // Each twice in a row (the second from the memo), the same text under both encodings,
        // a failing parse in between, and one too long to remember.
        for (wire, encoded) in [
            (text, false),
            (text, false),
            (text, true),
            (text, true),
            (text, false),
            (query, true),
            ("AKID/20130524", true),
            ("AKID/20130532/us-east-1/s3/aws4_request", true),
            (query, true),
            (long.as_str(), true),
            (long.as_str(), true),
            (query, true),
        ] {
            let expected = scope_of(wire, encoded, false);
            assert_eq!(
                filled(wire, encoded).ok(),
                expected.as_ref().ok().cloned(),
                "{wire}"
            );
            assert_eq!(filled(wire, encoded).is_err(), expected.is_err(), "{wire}");
        }
        assert_eq!(filled(text, true).ok().map(|p| p.0), Some("A B".to_owned()));
        assert_eq!(
            filled(text, false).ok().map(|p| p.0),
            Some("A+B".to_owned())
        );
        assert_eq!(filled(&long, true).ok().map(|p| p.0), Some("A".repeat(80)));
    }
}
