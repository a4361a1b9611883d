//! The canonical request: method, canonical URI, canonical query, canonical headers, signed
//! headers and payload hash, joined by `\n`.
//!
//! [`canonical_request`] returns it as text, to debug a signature mismatch. The signer and the
//! verifier do not build that text: they stream the same bytes, through the same writer, into
//! SHA-256.

mod headers;
mod payload;
mod query;
mod uri;

pub use headers::Headers;
pub use payload::{EMPTY_SHA256, PayloadHash, Sha256Hex};
pub use uri::UriEncoding;

pub(crate) use headers::{
    Overlay, is_lowercase_token, is_token, same_name, trim_ows, trim_ows_str, validate_value,
    write_canonical_headers, write_lower, write_value,
};
pub(crate) use query::{
    PRESIGN_PARAMS, SIGV2_PARAMS, WireQuery, reserved_query_param, sort_by, sorted_raw_order,
};
pub(crate) use uri::{PathInput, validate_wire_path, write_canonical_uri};

use crate::Error;
use crate::limits::MAX_SIGNED_HEADERS;
use crate::sink::Sink;

/// A request as it will be sent (or as it was received): the input of header signing and of
/// [`canonical_request`].
///
/// ```
/// use presign::{PayloadHash, SignableRequest};
/// let headers = [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")];
/// let req = SignableRequest::new("GET", "/test.txt", &headers, PayloadHash::empty()).unwrap();
/// assert_eq!(req.path(), "/test.txt");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SignableRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(&'a str, &'a str)],
    payload: PayloadHash,
}

impl<'a> SignableRequest<'a> {
    /// A request from its method, request target (`/path?query`, percent-encoded as sent),
    /// headers and payload hash.
    pub fn new(
        method: &'a str,
        target: &'a str,
        headers: &'a [(&'a str, &'a str)],
        payload: PayloadHash,
    ) -> Result<Self, Error> {
        if !is_token(method) {
            return Err(Error::InvalidMethod(method.to_owned()));
        }
        let (path, query) = split_target(target);
        validate_wire_path(path)?;
        crate::encoding::validate_wire(query.as_bytes()).map_err(|_| Error::InvalidQuery)?;
        for (name, value) in headers {
            if !is_token(name) {
                return Err(Error::InvalidHeaderName((*name).to_owned()));
            }
            validate_value(value.as_bytes())
                .map_err(|_| Error::InvalidHeaderValue((*name).to_owned()))?;
        }
        Ok(SignableRequest {
            method,
            path,
            query,
            headers,
            payload,
        })
    }

    /// The method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The path, as sent.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The query string without `?`, as sent.
    pub fn query(&self) -> &'a str {
        self.query
    }

    /// The headers.
    pub fn headers(&self) -> &'a [(&'a str, &'a str)] {
        self.headers
    }

    /// The payload hash.
    pub fn payload(&self) -> PayloadHash {
        self.payload
    }
}

/// Headers a signer never signs: hop-by-hop and proxy-rewritten headers, the authorization
/// itself, and `user-agent`/`x-amzn-trace-id`, which intermediaries change (as the AWS SDKs do).
pub const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// The sorted, distinct, lowercase-comparable names of the headers to sign.
pub(crate) struct SignedNames<'a> {
    names: [&'a str; MAX_SIGNED_HEADERS],
    len: usize,
}

impl<'a> SignedNames<'a> {
    /// Every header of `headers` except [`UNSIGNED_HEADERS`].
    pub(crate) fn of<H: Headers + ?Sized>(headers: &'a H) -> Result<Self, Error> {
        let mut names = SignedNames {
            names: [""; MAX_SIGNED_HEADERS],
            len: 0,
        };
        for (name, _) in headers.header_pairs() {
            if UNSIGNED_HEADERS
                .iter()
                .any(|u| u.eq_ignore_ascii_case(name))
            {
                continue;
            }
            let taken = names.names.get(..names.len).unwrap_or_default();
            if taken.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            let slot = names.names.get_mut(names.len).ok_or(Error::TooMany {
                what: "signed headers",
                limit: MAX_SIGNED_HEADERS,
            })?;
            *slot = name;
            names.len = names.len.saturating_add(1);
        }
        names
            .names
            .get_mut(..names.len)
            .unwrap_or_default()
            .sort_unstable_by(|a, b| {
                a.bytes()
                    .map(|c| c.to_ascii_lowercase())
                    .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
            });
        Ok(names)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.names
            .get(..self.len)
            .unwrap_or_default()
            .iter()
            .copied()
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The `SignedHeaders` value: lowercase names joined by `;`.
    pub(crate) fn joined(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.extend(n.chars().map(|c| c.to_ascii_lowercase()));
        }
        out
    }
}

/// The query part of a canonical request.
#[derive(Clone, Copy)]
pub(crate) enum QueryInput<'q, 'a> {
    /// A query as received, canonicalized; `skip` leaves out one pair (the presigned
    /// signature).
    Wire(&'q WireQuery<'a>, Option<usize>),
    /// A query as received, written as it is (see [`WireQuery::write_as_is`]): what a verifier
    /// hashes first.
    WireAsIs(&'q WireQuery<'a>, Option<usize>),
}

/// Everything a canonical request is made of.
pub(crate) struct Parts<'p, 'a, H: Headers + ?Sized, N> {
    pub(crate) method: &'p str,
    pub(crate) path: PathInput<'p>,
    pub(crate) uri_encoding: UriEncoding,
    pub(crate) query: QueryInput<'p, 'a>,
    pub(crate) signed_names: N,
    /// Whether `signed_names` are lowercase already (see [`headers::write_name`]).
    pub(crate) signed_names_lowercase: bool,
    /// The `SignedHeaders` line itself, when it is `signed_names` lowercase and joined by `;`
    /// already (a verifier's checked list): written in one piece rather than name by name.
    pub(crate) signed_list: Option<&'p str>,
    pub(crate) headers: &'p H,
    pub(crate) payload: &'p PayloadHash,
}

/// A request target's path and query (without the `?`), split at its first `?` (the query is
/// empty without one). The signer and the verifier read targets through this.
#[inline]
pub(crate) fn split_target(target: &str) -> (&str, &str) {
    // `?` is ASCII: both offsets are character boundaries.
    memchr::memchr(b'?', target.as_bytes())
        .and_then(|i| Some((target.get(..i)?, target.get(i.saturating_add(1)..)?)))
        .unwrap_or((target, ""))
}

/// Streams the canonical request into `sink`. Returns the first signed name without a header.
pub(crate) fn write_canonical_request<'n, H, N, S>(
    parts: &Parts<'_, '_, H, N>,
    sink: &mut S,
) -> Result<Option<&'n str>, Error>
where
    H: Headers + ?Sized,
    N: Iterator<Item = &'n str> + Clone,
    S: Sink,
{
    sink.put(parts.method.as_bytes());
    sink.byte(b'\n');
    write_canonical_uri(&parts.path, parts.uri_encoding, sink)?;
    sink.byte(b'\n');
    match parts.query {
        QueryInput::Wire(q, skip) => q.write_canonical(skip, sink),
        QueryInput::WireAsIs(q, skip) => q.write_as_is(skip, sink),
    }
    sink.byte(b'\n');
    let lowercase = parts.signed_names_lowercase;
    let missing =
        write_canonical_headers(parts.signed_names.clone(), lowercase, parts.headers, sink)?;
    sink.byte(b'\n');
    match parts.signed_list {
        Some(list) => sink.put(list.as_bytes()),
        None => write_signed_header_list(parts.signed_names.clone(), lowercase, sink),
    }
    sink.byte(b'\n');
    sink.put(parts.payload.as_bytes());
    Ok(missing)
}

/// Writes names lowercase, joined by `;` (`lowercase` as for [`headers::write_name`]).
pub(crate) fn write_signed_header_list<'n, S: Sink>(
    names: impl Iterator<Item = &'n str>,
    lowercase: bool,
    sink: &mut S,
) {
    for (i, n) in names.enumerate() {
        if i > 0 {
            sink.byte(b';');
        }
        headers::write_name(n, lowercase, sink);
    }
}

/// A canonical request as text, with the signed header list it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalRequest {
    text: String,
    signed_headers: String,
}

impl CanonicalRequest {
    /// The canonical request text (lines joined by `\n`, no final newline).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The `SignedHeaders` value: lowercase names joined by `;`.
    pub fn signed_headers(&self) -> &str {
        &self.signed_headers
    }

    /// Hex SHA-256 of the text: the last line of the string to sign.
    pub fn hash_hex(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.text.as_bytes()))
    }
}

impl core::fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The canonical request of `request`, signing every header it has except
/// [`UNSIGNED_HEADERS`] — what a signer computes for a request that already carries its
/// `x-amz-date` (and, for S3, `x-amz-content-sha256`) headers.
///
/// ```
/// use presign::{canonical_request, PayloadHash, SignableRequest, UriEncoding};
/// // The S3 documentation's "GET Object" example.
/// let headers = [
///     ("Host", "examplebucket.s3.amazonaws.com"),
///     ("Range", "bytes=0-9"),
///     ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
///     ("x-amz-date", "20130524T000000Z"),
/// ];
/// let req = SignableRequest::new("GET", "/test.txt", &headers, PayloadHash::empty()).unwrap();
/// let creq = canonical_request(&req, UriEncoding::S3).unwrap();
/// assert_eq!(creq.hash_hex(), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
/// ```
pub fn canonical_request(
    request: &SignableRequest<'_>,
    uri_encoding: UriEncoding,
) -> Result<CanonicalRequest, Error> {
    let names = SignedNames::of(request.headers)?;
    let query = WireQuery::parse(request.query)?;
    let mut text = Vec::with_capacity(256);
    write_canonical_request(
        &Parts {
            method: request.method,
            path: PathInput::Wire(request.path),
            uri_encoding,
            query: QueryInput::Wire(&query, None),
            signed_names: names.iter(),
            signed_names_lowercase: false,
            signed_list: None,
            headers: request.headers,
            payload: &request.payload,
        },
        &mut text,
    )?;
    Ok(CanonicalRequest {
        // Every byte written is ASCII or comes from a `&str` header value.
        text: String::from_utf8_lossy(&text).into_owned(),
        signed_headers: names.joined(),
    })
}
