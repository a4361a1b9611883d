//! The benchmark cases and every implementation of them, shared by `benches/vs_peers.rs`,
//! `benches/instructions.rs` and `examples/alloc_counts.rs` (included with `#[path]`), so that
//! what is timed is what is counted.
//!
//! Each case is presigned by `presign`, by `aws-sigv4` (S3 settings, building the final URL as
//! its documentation shows) and by `rusty-s3`; its crypto floor is the SHA-256 of its exact
//! canonical request plus one HMAC-SHA256 of its string to sign with a cached key, plus hex.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use presign::verify::{
    InMemoryCredentials, IncomingRequest, StoredCredential, VerifiedRequest, Verifier,
    VerifierConfig,
};
use presign::{
    Credentials, Expiry, PayloadHash, PresignRequest, Scope, SignableRequest, Signer, SigningKey,
    SigningTime, UriEncoding, canonical_request, string_to_sign,
};
use sha2::{Digest, Sha256};

/// The AWS documentation's example credentials, region, bucket host and date.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const REGION: &str = "us-east-1";
pub const HOST: &str = "examplebucket.s3.amazonaws.com";
pub const AMZ_DATE: &str = "20130524T000000Z";
pub const UNIX_TIME: u64 = 1_369_353_600;
/// The S3 documentation's presigned GET signature (`get_doc`).
pub const DOC_GET_SIGNATURE: &str =
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
/// The S3 documentation's header-signed "GET Object" signature (`verify_header`).
pub const DOC_HEADER_SIGNATURE: &str =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

/// Which rusty-s3 action expresses the case.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    GetObject,
    PutObject,
    UploadPart { part_number: u16 },
}

/// One presign case.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    /// The object key, raw (rusty-s3 encodes it itself).
    pub key: &'static str,
    /// `/` + the key percent-encoded once (unreserved and `/` kept): what goes in the URL.
    pub path: &'static str,
    /// Extra query parameters, raw.
    pub query: &'static [(&'static str, &'static str)],
    /// Extra signed headers, lowercase names.
    pub headers: &'static [(&'static str, &'static str)],
    pub session_token: Option<&'static str>,
    pub expires_secs: u32,
    pub action: Action,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// RFC 3986 unreserved characters are kept, everything else is `%XX` (the SigV4 rule).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const UNRESERVED_AND_SLASH: &percent_encoding::AsciiSet = &UNRESERVED.remove(b'/');

fn encode_path(key: &str) -> String {
    format!(
        "/{}",
        percent_encoding::utf8_percent_encode(key, UNRESERVED_AND_SLASH)
    )
}

fn encode_query(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED).to_string()
}

/// A deterministic STS-like session token: 760 base64 characters (with `+`, `/` and `=`), the
/// size of a real one.
fn session_token() -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state: u32 = 0x2545_F491;
    let mut token = String::from("IQoJb3JpZ2luX2VjE");
    while token.len() < 758 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        token.push(char::from(B64[(state % 64) as usize]));
    }
    token.push_str("==");
    token
}

/// A ~200-byte key with spaces and non-ASCII text (only characters that `rusty-s3` and SigV4
/// encode alike).
pub const LONG_KEY: &str = "archive/2024/Été à Zürich – Grüße aus der Schweiz/day 03 morning walk along the lake/IMG 0042 final version for the family album 日本語 テスト (sunset over the water, 2nd copy).jpeg";

/// The four presign cases, in table order.
pub fn cases() -> Vec<Case> {
    let upload_id = "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA.Qm9va3MtMjAyNC0xMi0wMVQxMjozNDo1Ni5hYmNkZWY-x_Zz9";
    vec![
        Case {
            name: "get_doc",
            method: "GET",
            key: "test.txt",
            path: "/test.txt",
            query: &[],
            headers: &[],
            session_token: None,
            expires_secs: 86_400,
            action: Action::GetObject,
        },
        Case {
            name: "put_token",
            method: "PUT",
            key: "photos/2024/cat.jpg",
            path: "/photos/2024/cat.jpg",
            query: &[],
            headers: &[("content-type", "image/jpeg")],
            session_token: Some(leak(session_token())),
            expires_secs: 3_600,
            action: Action::PutObject,
        },
        Case {
            name: "get_long_key",
            method: "GET",
            key: LONG_KEY,
            path: leak(encode_path(LONG_KEY)),
            query: &[],
            headers: &[],
            session_token: None,
            expires_secs: 3_600,
            action: Action::GetObject,
        },
        Case {
            name: "upload_part",
            method: "PUT",
            key: "videos/2024/keynote-recording.mp4",
            path: "/videos/2024/keynote-recording.mp4",
            query: Box::leak(Box::new([("partNumber", "7"), ("uploadId", upload_id)])),
            headers: &[],
            session_token: None,
            expires_secs: 3_600,
            action: Action::UploadPart { part_number: 7 },
        },
    ]
}

pub fn signing_time() -> SigningTime {
    SigningTime::parse_amz_date(AMZ_DATE).expect("valid date")
}

pub fn system_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(UNIX_TIME)
}

/// The `X-Amz-Signature` value of a presigned URL.
pub fn signature_of(url: &str) -> &str {
    let start = url.find("X-Amz-Signature=").expect("signed URL") + "X-Amz-Signature=".len();
    let rest = &url[start..];
    &rest[..rest.find('&').unwrap_or(rest.len())]
}

// ---------------------------------------------------------------------------------- presign

pub fn presign_signer(case: &Case) -> Signer {
    let creds = Credentials::new(ACCESS_KEY_ID, SECRET).expect("credentials");
    let creds = match case.session_token {
        Some(t) => creds.with_session_token(t).expect("token"),
        None => creds,
    };
    Signer::new(creds, REGION, "s3").expect("signer")
}

/// Presigns with `presign`'s core API (what the S3 layer calls). One allocation: the URL.
#[inline]
pub fn presign_url(signer: &Signer, case: &Case, time: SigningTime) -> String {
    let expires = Expiry::from_secs(u64::from(case.expires_secs)).expect("expiry");
    let request = PresignRequest::new(case.method, "https", HOST, case.path)
        .query(case.query)
        .headers(case.headers)
        .expires(expires);
    signer.presign(&request, time).expect("presign").into_url()
}

// -------------------------------------------------------------------------------- aws-sigv4

pub fn aws_identity(case: &Case) -> aws_smithy_runtime_api::client::identity::Identity {
    aws_credential_types::Credentials::new(
        ACCESS_KEY_ID,
        SECRET,
        case.session_token.map(str::to_owned),
        None,
        "bench",
    )
    .into()
}

/// S3 presigning settings: query params, single encoding, no normalisation, no
/// `x-amz-content-sha256` header, the case's expiry.
pub fn aws_params<'a>(
    identity: &'a aws_smithy_runtime_api::client::identity::Identity,
    case: &Case,
) -> aws_sigv4::http_request::SigningParams<'a> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignatureLocation, SigningSettings,
        UriPathNormalizationMode,
    };
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    settings.expires_in = Some(Duration::from_secs(u64::from(case.expires_secs)));
    aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name("s3")
        .time(system_time())
        .settings(settings)
        .build()
        .expect("signing params")
        .into()
}

/// The unsigned URL a caller of `aws-sigv4` starts from.
pub fn unsigned_url(case: &Case) -> String {
    let mut url = format!("https://{HOST}{}", case.path);
    for (i, (name, value)) in case.query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&encode_query(name));
        url.push('=');
        url.push_str(&encode_query(value));
    }
    url
}

/// Presigns with `aws-sigv4` as its documentation shows: a `SignableRequest`, `sign`, then
/// the instructions applied to an `http::Request` whose URI becomes the presigned URL.
#[inline]
pub fn aws_presign_url(
    params: &aws_sigv4::http_request::SigningParams<'_>,
    case: &Case,
    unsigned_url: &str,
) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, sign};
    let mut request = http::Request::builder()
        .method(case.method)
        .uri(unsigned_url)
        .body(())
        .expect("request");
    let signable = SignableRequest::new(
        case.method,
        unsigned_url,
        case.headers.iter().copied(),
        SignableBody::UnsignedPayload,
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, params).expect("sign").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request.uri().to_string()
}

// --------------------------------------------------------------------------------- rusty-s3

pub struct Rusty {
    pub bucket: rusty_s3::Bucket,
    pub credentials: rusty_s3::Credentials,
    pub time: jiff::Timestamp,
}

pub fn rusty(case: &Case) -> Rusty {
    let endpoint = "https://s3.amazonaws.com".parse().expect("endpoint");
    let bucket = rusty_s3::Bucket::new(
        endpoint,
        rusty_s3::UrlStyle::VirtualHost,
        "examplebucket",
        REGION,
    )
    .expect("bucket");
    let credentials = match case.session_token {
        Some(t) => rusty_s3::Credentials::new_with_token(ACCESS_KEY_ID, SECRET, t),
        None => rusty_s3::Credentials::new(ACCESS_KEY_ID, SECRET),
    };
    let time = jiff::Timestamp::from_second(UNIX_TIME as i64).expect("timestamp");
    Rusty {
        bucket,
        credentials,
        time,
    }
}

/// Presigns with `rusty-s3`'s action API at a fixed time (`sign_with_time`).
#[inline]
pub fn rusty_presign_url(r: &Rusty, case: &Case) -> String {
    use rusty_s3::S3Action;
    let expires = Duration::from_secs(u64::from(case.expires_secs));
    let url = match case.action {
        Action::GetObject => r
            .bucket
            .get_object(Some(&r.credentials), case.key)
            .sign_with_time(expires, &r.time),
        Action::PutObject => {
            let mut action = r.bucket.put_object(Some(&r.credentials), case.key);
            for (name, value) in case.headers {
                action.headers_mut().insert(*name, *value);
            }
            action.sign_with_time(expires, &r.time)
        }
        Action::UploadPart { part_number } => {
            let upload_id = case
                .query
                .iter()
                .find(|(n, _)| *n == "uploadId")
                .map_or("", |(_, v)| v);
            r.bucket
                .upload_part(Some(&r.credentials), case.key, part_number, upload_id)
                .sign_with_time(expires, &r.time)
        }
    };
    String::from(url)
}

// ------------------------------------------------------------------------------------ floor

/// Everything the crypto floor of a case needs, precomputed.
pub struct Floor {
    /// The exact canonical request.
    pub canonical_request: String,
    /// `AWS4-HMAC-SHA256\n<date>\n<scope>\n`.
    pub sts_prefix: String,
    /// The derived key as a pre-keyed HMAC state.
    pub key: Hmac<Sha256>,
}

/// Lowercase hex, the fastest way we know without `unsafe` (the same arithmetic `presign`
/// uses, so that the floor is not slowed by a slower hex).
fn hex32(bytes: &[u8]) -> [u8; 64] {
    #[inline(always)]
    fn digit(nibble: u8) -> u8 {
        nibble + b'0' + ((nibble + 6) >> 4) * 39
    }
    let mut out = [0u8; 64];
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = digit(b >> 4);
        pair[1] = digit(b & 0x0f);
    }
    out
}

impl Floor {
    /// The floor of a request whose canonical request `presign::canonical_request` computes
    /// from `target` and `headers` (every one signed).
    pub fn new(
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        payload: PayloadHash,
    ) -> Floor {
        let time = signing_time();
        let request =
            SignableRequest::new(method, target, headers, payload).expect("signable request");
        let creq = canonical_request(&request, UriEncoding::S3).expect("canonical request");
        let scope = Scope::new(time.date(), REGION, "s3").expect("scope");
        let sts = string_to_sign(&time.amz_date(), &scope, creq.as_str());
        let sts_prefix = sts[..sts.len() - 64].to_owned();
        let key_bytes = SigningKey::derive(SECRET, &scope).to_bytes();
        Floor {
            canonical_request: creq.as_str().to_owned(),
            sts_prefix,
            key: Hmac::<Sha256>::new_from_slice(&key_bytes).expect("hmac key"),
        }
    }

    /// The floor of a presigned URL: its query without `X-Amz-Signature`, `host` and the
    /// case's headers signed.
    pub fn presigned(case: &Case, url: &str) -> Floor {
        let target = &url[url.find(HOST).expect("host") + HOST.len()..];
        let cut = target.find("&X-Amz-Signature=").expect("signature");
        let mut headers = vec![("host", HOST)];
        headers.extend_from_slice(case.headers);
        Floor::new(case.method, &target[..cut], &headers, PayloadHash::Unsigned)
    }

    /// SHA-256 of the canonical request, hex, one HMAC of the string to sign with the cached
    /// key, hex: nothing else.
    #[inline]
    pub fn sign(&self) -> [u8; 64] {
        let hash = Sha256::digest(self.canonical_request.as_bytes());
        let hash_hex = hex32(&hash);
        let mut mac = self.key.clone();
        mac.update(self.sts_prefix.as_bytes());
        mac.update(&hash_hex);
        hex32(&mac.finalize().into_bytes())
    }

    pub fn sign_string(&self) -> String {
        String::from_utf8(self.sign().to_vec()).expect("hex")
    }
}

// ----------------------------------------------------------------------------- verification

pub fn verifier() -> Verifier<InMemoryCredentials> {
    let store = InMemoryCredentials::new();
    store
        .insert(
            ACCESS_KEY_ID,
            StoredCredential::new(SECRET).expect("secret"),
        )
        .expect("insert");
    Verifier::new(store, VerifierConfig::default())
}

/// A minute after the signing time: inside both the URL's validity and the header skew.
pub fn verify_time() -> SigningTime {
    SigningTime::parse_amz_date("20130524T000100Z").expect("valid date")
}

/// The presigned `get_doc` request as a server receives it: target and `host` header.
pub struct QueryRequest {
    pub target: String,
    pub headers: [(&'static str, &'static str); 1],
}

pub fn verify_query_request() -> QueryRequest {
    let cases = cases();
    let case = &cases[0];
    let url = presign_url(&presign_signer(case), case, signing_time());
    QueryRequest {
        target: url[url.find(HOST).expect("host") + HOST.len()..].to_owned(),
        headers: [("host", HOST)],
    }
}

impl QueryRequest {
    /// The floor: the canonical request of the `get_doc` URL this request carries.
    pub fn floor(&self) -> Floor {
        Floor::presigned(&cases()[0], &format!("https://{HOST}{}", self.target))
    }
}

/// The S3 documentation's header-signed "GET Object" example (`Range: bytes=0-9`), signed
/// with `Signer::sign_headers`, as a server receives it.
pub struct HeaderRequest {
    pub target: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
}

pub fn verify_header_request() -> HeaderRequest {
    let signer = Signer::new(
        Credentials::new(ACCESS_KEY_ID, SECRET).expect("credentials"),
        REGION,
        "s3",
    )
    .expect("signer");
    let base = [("host", HOST), ("range", "bytes=0-9")];
    let request = SignableRequest::new("GET", "/test.txt", &base, PayloadHash::empty())
        .expect("signable request");
    let auth = signer
        .sign_headers(&request, signing_time())
        .expect("sign headers");
    let mut headers: Vec<(&'static str, &'static str)> = base.to_vec();
    for (name, value) in auth.iter() {
        headers.push((name, leak(value.to_owned())));
    }
    HeaderRequest {
        target: "/test.txt",
        headers,
    }
}

impl HeaderRequest {
    /// The floor: the canonical request of every header but `authorization`.
    pub fn floor(&self) -> Floor {
        let signed: Vec<(&str, &str)> = self
            .headers
            .iter()
            .copied()
            .filter(|(n, _)| *n != "authorization")
            .collect();
        Floor::new("GET", self.target, &signed, PayloadHash::empty())
    }

    pub fn signature(&self) -> &str {
        let auth = self
            .headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .expect("authorization")
            .1;
        &auth[auth.find("Signature=").expect("signature") + "Signature=".len()..]
    }
}

#[inline]
pub fn verify_query<'r>(
    verifier: &Verifier<InMemoryCredentials>,
    request: &'r QueryRequest,
    now: SigningTime,
) -> VerifiedRequest<'r> {
    let incoming = IncomingRequest::new("GET", &request.target, &request.headers[..]);
    verifier.verify(&incoming, now).expect("verifies")
}

#[inline]
pub fn verify_header<'r>(
    verifier: &Verifier<InMemoryCredentials>,
    request: &'r HeaderRequest,
    now: SigningTime,
) -> VerifiedRequest<'r> {
    let incoming = IncomingRequest::new("GET", request.target, &request.headers[..]);
    verifier.verify(&incoming, now).expect("verifies")
}

/// One minute after the presigned `get_doc` URL expired: the verifier refuses it at the time
/// window, after every check that comes before hashing, and hashes nothing.
pub fn expired_query_time() -> SigningTime {
    signing_time().add_seconds(86_400 + 60)
}

/// An hour after the header-signed request was signed, past the 15-minute clock skew: refused
/// at the time window, after every check that comes before hashing.
pub fn skewed_header_time() -> SigningTime {
    signing_time().add_seconds(3_600)
}

/// `request` (target and headers) verified at `now`, which must refuse it.
#[inline]
pub fn verify_refused<H: presign::Headers + ?Sized>(
    verifier: &Verifier<InMemoryCredentials>,
    target: &str,
    headers: &H,
    now: SigningTime,
) -> presign::verify::VerifyError {
    let incoming = IncomingRequest::new("GET", target, headers);
    match verifier.verify(&incoming, now) {
        Ok(_) => panic!("verified a request it must refuse"),
        Err(e) => e,
    }
}

// ------------------------------------------------------------------------- signing keys

#[inline]
pub fn derive_presign(scope: &Scope) -> SigningKey {
    SigningKey::derive(SECRET, scope)
}

#[inline]
pub fn derive_aws() -> impl AsRef<[u8]> {
    aws_sigv4::sign::v4::generate_signing_key(SECRET, system_time(), REGION, "s3")
}

/// Four chained HMAC-SHA256 with the date, region, service and terminator: nothing else.
#[inline]
pub fn derive_floor(date8: &[u8]) -> [u8; 32] {
    let mut secret = [0u8; 64];
    secret[..4].copy_from_slice(b"AWS4");
    secret[4..4 + SECRET.len()].copy_from_slice(SECRET.as_bytes());
    let mut key: [u8; 32] = {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&secret[..4 + SECRET.len()]).expect("hmac key");
        mac.update(date8);
        mac.finalize().into_bytes().into()
    };
    for part in [REGION.as_bytes(), b"s3", b"aws4_request"] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("hmac key");
        mac.update(part);
        key = mac.finalize().into_bytes().into();
    }
    key
}

/// Checks, once, that every implementation of every case produces the same signature, and
/// that the floors compute it too. Panics on any mismatch.
pub fn check_all() {
    let time = signing_time();
    for case in cases() {
        let ours = presign_url(&presign_signer(&case), &case, time);
        let identity = aws_identity(&case);
        let aws = aws_presign_url(&aws_params(&identity, &case), &case, &unsigned_url(&case));
        let rusty = rusty_presign_url(&rusty(&case), &case);
        let floor = Floor::presigned(&case, &ours).sign_string();
        let sig = signature_of(&ours);
        assert_eq!(signature_of(&aws), sig, "{}: aws-sigv4 differs", case.name);
        assert_eq!(signature_of(&rusty), sig, "{}: rusty-s3 differs", case.name);
        assert_eq!(floor, sig, "{}: floor differs", case.name);
        if case.name == "get_doc" {
            assert_eq!(sig, DOC_GET_SIGNATURE);
        }
    }
    let q = verify_query_request();
    assert_eq!(q.floor().sign_string(), DOC_GET_SIGNATURE);
    let v = verifier();
    assert_eq!(
        verify_query(&v, &q, verify_time()).access_key_id(),
        ACCESS_KEY_ID
    );
    let h = verify_header_request();
    assert_eq!(h.signature(), DOC_HEADER_SIGNATURE);
    assert_eq!(h.floor().sign_string(), DOC_HEADER_SIGNATURE);
    assert_eq!(
        verify_header(&v, &h, verify_time()).access_key_id(),
        ACCESS_KEY_ID
    );
    let scope = Scope::new(time.date(), REGION, "s3").expect("scope");
    let ours = derive_presign(&scope).to_bytes();
    assert_eq!(derive_aws().as_ref(), &ours[..]);
    assert_eq!(derive_floor(b"20130524"), ours);
}
