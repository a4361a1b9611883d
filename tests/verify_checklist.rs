//! The verifier checklist (`verifier-checklist.md`), sections A–D and G — rules 1–26 and
//! 42–46 — as adversarial tests, each named `rule_NN_…` after the rule it shows.
//!
//! Valid requests are built with the crate's own signer ([`Signer::presign`],
//! [`Signer::sign_headers`]) and then tampered with, so that each test shows one rule. Where a
//! tampered request needs a *valid* HMAC — so that nothing but the rule under test can refuse
//! it — it is re-signed by an independent SigV4 oracle written here from the AWS documentation
//! (key derivation chain and string to sign), over either the crate's canonical request or,
//! for the canonicalisation rules of section D, a canonical request written out by hand.
//!
//! Where the crate's documented decision (module docs of `presign::verify`) differs from the
//! checklist, the decision is what is tested: `+` in a query decodes to a space; SigV2 and
//! unknown algorithms are `400 InvalidRequest`; an uppercase signature is refused;
//! `X-Amz-Expires=0` is refused; no `x-amz-*` header is exempt from signing by default;
//! a bad session token is `400 InvalidToken`; the path is canonicalised decode-then-encode.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use presign::limits::{
    MAX_AUTHORIZATION_LEN, MAX_HEADERS, MAX_QUERY_PAIRS, MAX_REQUEST_TARGET_LEN,
    MAX_SESSION_TOKEN_LEN, MAX_SIGNED_HEADERS,
};
use presign::verify::{
    self, BodyChecker, CredentialStore, InMemoryCredentials, IncomingRequest, Mechanism,
    StoredCredential, Verifier, VerifierConfig, VerifyError,
};
use presign::{
    Credentials, Expiry, PayloadHash, PresignRequest, SignableRequest, Signer, SigningTime,
    UriEncoding, canonical_request,
};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AKID_B: &str = "AKIAI44QH8DHBEXAMPLE";
const SECRET_B: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
const HOST: &str = "examplebucket.s3.amazonaws.com";
const REGION: &str = "us-east-1";
const T0: &str = "20240115T120000Z";
const DATE8: &str = "20240115";
const SCOPE: &str = "20240115/us-east-1/s3/aws4_request";
/// A well-formed signature that no key produced.
const BOGUS_SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn t(amz: &str) -> SigningTime {
    SigningTime::parse_amz_date(amz).expect("amz date")
}

fn t0() -> SigningTime {
    t(T0)
}

/// `T0` plus `secs` seconds.
fn at(secs: i64) -> SigningTime {
    t0().add_seconds(secs)
}

fn store() -> InMemoryCredentials {
    let store = InMemoryCredentials::new();
    store
        .insert(AKID, StoredCredential::new(SECRET).expect("cred"))
        .expect("insert");
    store
        .insert(AKID_B, StoredCredential::new(SECRET_B).expect("cred"))
        .expect("insert");
    store
}

fn verifier() -> Verifier<InMemoryCredentials> {
    Verifier::new(store(), VerifierConfig::default())
}

fn verifier_with(config: VerifierConfig) -> Verifier<InMemoryCredentials> {
    Verifier::new(store(), config)
}

fn signer() -> Signer {
    signer_for(AKID, SECRET, REGION)
}

fn signer_for(akid: &str, secret: &str, region: &str) -> Signer {
    Signer::new(Credentials::new(akid, secret).expect("creds"), region, "s3").expect("signer")
}

fn expiry(secs: u64) -> Expiry {
    Expiry::from_secs(secs).expect("expiry")
}

// ---------------------------------------------------------------------------------------------
// Requests and outcomes
// ---------------------------------------------------------------------------------------------

/// What a verified request told us, owned (so that helpers can return it).
struct Accepted {
    access_key_id: String,
    mechanism: Mechanism,
    credential_scope: String,
    signed_headers: Vec<String>,
    expires_at: Option<SigningTime>,
    payload: PayloadHash,
    session_token: Option<String>,
    content_length: Option<u64>,
    body: Option<BodyChecker>,
}

impl fmt::Debug for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accepted")
            .field("access_key_id", &self.access_key_id)
            .field("mechanism", &self.mechanism)
            .field("credential_scope", &self.credential_scope)
            .field("signed_headers", &self.signed_headers)
            .field("expires_at", &self.expires_at)
            .field("payload", &self.payload)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

type Outcome = Result<Accepted, VerifyError>;

/// A request as the server receives it: method, raw target, headers in arrival order.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    authority: Option<String>,
    payload: Option<PayloadHash>,
}

impl Req {
    fn new(method: &str, target: &str, headers: &[(&str, &str)]) -> Self {
        Req {
            method: method.to_owned(),
            target: target.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            authority: None,
            payload: None,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Appends a header (after the existing ones).
    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Removes every header called `name`.
    fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Replaces the value of every header called `name` (which must be present).
    fn replace_header(mut self, name: &str, value: &str) -> Self {
        let mut found = false;
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_owned();
                found = true;
            }
        }
        assert!(found, "no {name} header to replace");
        self
    }

    fn with_authorization(self, value: &str) -> Self {
        self.replace_header("authorization", value)
    }

    fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    fn with_authority(mut self, authority: &str) -> Self {
        self.authority = Some(authority.to_owned());
        self
    }

    fn with_payload_hash(mut self, payload: PayloadHash) -> Self {
        self.payload = Some(payload);
        self
    }

    /// The parts of the (single) Authorization header.
    fn auth(&self) -> Auth {
        Auth::parse(self.header("authorization").expect("authorization header"))
    }

    /// The presigned signature in the target.
    fn query_signature(&self) -> String {
        param(&self.target, "X-Amz-Signature").expect("X-Amz-Signature")
    }

    fn verify(&self, now: SigningTime) -> Outcome {
        self.verify_with(&verifier(), now)
    }

    fn verify_with<S: CredentialStore>(&self, verifier: &Verifier<S>, now: SigningTime) -> Outcome {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mut incoming = IncomingRequest::new(&self.method, &self.target, &headers[..]);
        if let Some(a) = &self.authority {
            incoming = incoming.with_authority(a);
        }
        if let Some(p) = self.payload {
            incoming = incoming.with_payload_hash(p);
        }
        verifier.verify(&incoming, now).map(|ok| Accepted {
            access_key_id: ok.access_key_id().to_owned(),
            mechanism: ok.mechanism(),
            credential_scope: ok.credential_scope().to_owned(),
            signed_headers: ok.signed_headers().map(str::to_owned).collect(),
            expires_at: ok.expires_at(),
            payload: ok.payload(),
            session_token: ok.session_token(),
            content_length: ok.content_length(),
            body: ok.body_checker(),
        })
    }

    fn detect(&self) -> Result<Mechanism, VerifyError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        verify::detect(&IncomingRequest::new(
            &self.method,
            &self.target,
            &headers[..],
        ))
    }
}

/// The three components of an `Authorization` header as the signer writes it.
#[derive(Clone, Debug)]
struct Auth {
    credential: String,
    signed_headers: String,
    signature: String,
}

impl Auth {
    fn parse(value: &str) -> Auth {
        let rest = value
            .strip_prefix("AWS4-HMAC-SHA256 Credential=")
            .expect("signer's format");
        let (credential, rest) = rest.split_once(", SignedHeaders=").expect("format");
        let (signed_headers, signature) = rest.split_once(", Signature=").expect("format");
        Auth {
            credential: credential.to_owned(),
            signed_headers: signed_headers.to_owned(),
            signature: signature.to_owned(),
        }
    }

    fn render(&self) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
            self.credential, self.signed_headers, self.signature
        )
    }

    fn with_signature(mut self, signature: &str) -> Auth {
        self.signature = signature.to_owned();
        self
    }

    fn with_signed_headers(mut self, signed: &str) -> Auth {
        self.signed_headers = signed.to_owned();
        self
    }
}

#[track_caller]
fn accepted(outcome: Outcome) -> Accepted {
    match outcome {
        Ok(a) => a,
        Err(e) => panic!(
            "expected the request to verify, got {} {}: {e:?}",
            e.status(),
            e.code()
        ),
    }
}

#[track_caller]
fn rejected(outcome: Outcome, code: &str, status: u16) -> VerifyError {
    rejected_because("", outcome, code, status)
}

/// [`rejected`], naming the case in the failure message.
#[track_caller]
fn rejected_because(case: &str, outcome: Outcome, code: &str, status: u16) -> VerifyError {
    match outcome {
        Ok(a) => panic!("{case}: expected {status} {code}, but the request verified: {a:?}"),
        Err(e) => {
            assert_eq!(
                (e.code(), e.status()),
                (code, status),
                "{case}: wrong error: {e:?} ({})",
                e.message()
            );
            e
        }
    }
}

// ---- query-string surgery on a raw target ----

fn split_target(target: &str) -> (&str, Vec<&str>) {
    match target.split_once('?') {
        Some((p, q)) => (p, q.split('&').collect()),
        None => (target, Vec::new()),
    }
}

fn join_target(path: &str, pairs: &[&str]) -> String {
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// The wire value of the first pair named exactly `name`.
fn param(target: &str, name: &str) -> Option<String> {
    split_target(target).1.into_iter().find_map(|p| {
        let (n, v) = p.split_once('=').unwrap_or((p, ""));
        (n == name).then(|| v.to_owned())
    })
}

/// Replaces the value of the first pair named exactly `name`.
fn set_param(target: &str, name: &str, value: &str) -> String {
    let (path, pairs) = split_target(target);
    let mut done = false;
    let replaced: Vec<String> = pairs
        .iter()
        .map(|p| {
            let n = p.split_once('=').map_or(*p, |(n, _)| n);
            if !done && n == name {
                done = true;
                format!("{name}={value}")
            } else {
                (*p).to_owned()
            }
        })
        .collect();
    assert!(done, "no {name} in {target}");
    join_target(
        path,
        &replaced.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// Removes every pair named exactly `name`.
fn drop_param(target: &str, name: &str) -> String {
    let (path, pairs) = split_target(target);
    let kept: Vec<&str> = pairs
        .into_iter()
        .filter(|p| p.split_once('=').map_or(*p, |(n, _)| n) != name)
        .collect();
    join_target(path, &kept)
}

/// Appends a raw `name=value` pair.
fn add_param(target: &str, pair: &str) -> String {
    if target.contains('?') {
        format!("{target}&{pair}")
    } else {
        format!("{target}?{pair}")
    }
}

/// Flips the last hex digit of a signature (a different, still well-formed signature).
fn flip_last_nibble(sig: &str) -> String {
    let (head, last) = sig.split_at(sig.len() - 1);
    let flipped = if last == "0" { "1" } else { "0" };
    format!("{head}{flipped}")
}

// ---------------------------------------------------------------------------------------------
// Builders with the crate's signer
// ---------------------------------------------------------------------------------------------

/// Presigns `request` and returns it as the server receives it: the URL's target, a `host`
/// header with the URL's authority, and the headers the client must send.
fn presign_with(signer: &Signer, request: &PresignRequest<'_>, time: SigningTime) -> Req {
    let presigned = signer.presign(request, time).expect("presign");
    let rest = presigned.url().split_once("://").expect("scheme").1;
    let slash = rest.find('/').expect("path");
    let (authority, target) = rest.split_at(slash);
    let mut req = Req::new(presigned.method(), target, &[("host", authority)]);
    for (n, v) in presigned.headers() {
        req = req.with_header(n, v);
    }
    req
}

/// A presigned `GET /test.txt` on `HOST` by key A, valid one hour.
fn presign_get(time: SigningTime) -> Req {
    presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        time,
    )
}

/// Header-signs a request whose headers (all signed) are `headers`; `host` must be among them.
fn sign_full(
    signer: &Signer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    payload: PayloadHash,
    time: SigningTime,
) -> Req {
    let request = SignableRequest::new(method, target, headers, payload).expect("signable");
    let auth = signer.sign_headers(&request, time).expect("sign");
    let mut req = Req::new(method, target, headers);
    for (n, v) in auth.iter() {
        req = req.with_header(n, v);
    }
    req
}

/// Header-signs a request on `HOST` with extra (signed) `headers`.
fn sign_with(
    signer: &Signer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    payload: PayloadHash,
    time: SigningTime,
) -> Req {
    let mut all: Vec<(&str, &str)> = vec![("host", HOST)];
    all.extend_from_slice(headers);
    sign_full(signer, method, target, &all, payload, time)
}

/// A header-signed `GET target` by key A with the empty payload hash.
fn header_get(target: &str, time: SigningTime) -> Req {
    sign_with(&signer(), "GET", target, &[], PayloadHash::empty(), time)
}

// ---------------------------------------------------------------------------------------------
// An independent SigV4 oracle
// ---------------------------------------------------------------------------------------------

/// What the signing key is derived from (the terminator is always `aws4_request`).
#[derive(Clone, Copy)]
struct KeyFor<'a> {
    date8: &'a str,
    region: &'a str,
    service: &'a str,
}

const KEY: KeyFor<'static> = KeyFor {
    date8: DATE8,
    region: REGION,
    service: "s3",
};

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn oracle_sts(amz_date: &str, scope: &str, creq: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(creq.as_bytes())
    )
}

/// The signature of `creq`, with the string to sign built from `amz_date` and `scope` as given
/// and the key derived from `key` — each can be chosen independently to model a lax verifier.
fn oracle_sign(secret: &str, key: KeyFor<'_>, amz_date: &str, scope: &str, creq: &str) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), key.date8.as_bytes());
    let k_region = hmac(&k_date, key.region.as_bytes());
    let k_service = hmac(&k_region, key.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(
        &k_signing,
        oracle_sts(amz_date, scope, creq).as_bytes(),
    ))
}

/// The crate's canonical request for `target` with every header in `headers` signed.
fn creq_of(method: &str, target: &str, headers: &[(&str, &str)]) -> (String, String) {
    let request =
        SignableRequest::new(method, target, headers, PayloadHash::Unsigned).expect("signable");
    let creq = canonical_request(&request, UriEncoding::S3).expect("canonical");
    (creq.as_str().to_owned(), creq.signed_headers().to_owned())
}

/// `creq` with its last line (the payload hash) replaced verbatim.
fn with_payload_line(creq: &str, line: &str) -> String {
    format!("{}\n{line}", creq.rsplit_once('\n').expect("lines").0)
}

/// `X-Amz-Credential` as a presigner writes it.
fn credential_param(akid: &str, scope: &str) -> String {
    format!("{akid}/{scope}").replace('/', "%2F")
}

/// The query of a presigned URL as wire pairs, in order; the signature is added by signing.
#[derive(Clone)]
struct Params(Vec<(String, String)>);

impl Params {
    /// Key A at `T0`, one hour, `host` signed.
    fn standard() -> Params {
        Params(
            [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
                ("X-Amz-Credential", credential_param(AKID, SCOPE)),
                ("X-Amz-Date", T0.to_owned()),
                ("X-Amz-Expires", "3600".to_owned()),
                ("X-Amz-SignedHeaders", "host".to_owned()),
            ]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect(),
        )
    }

    fn set(mut self, name: &str, value: &str) -> Params {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value.to_owned(),
            None => self.0.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    fn remove(mut self, name: &str) -> Params {
        self.0.retain(|(n, _)| n != name);
        self
    }

    fn rename(mut self, from: &str, to: &str) -> Params {
        let pair = self.0.iter_mut().find(|(n, _)| n == from).expect("param");
        pair.0 = to.to_owned();
        self
    }

    fn push(mut self, name: &str, value: &str) -> Params {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    fn render(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// How the oracle signs: the string to sign's date and scope, and the key.
#[derive(Clone, Copy)]
struct OracleSigning<'a> {
    sts_amz: &'a str,
    sts_scope: &'a str,
    key: KeyFor<'a>,
}

const DEFAULT_SIGNING: OracleSigning<'static> = OracleSigning {
    sts_amz: T0,
    sts_scope: SCOPE,
    key: KEY,
};

/// A presigned `GET path?params&X-Amz-Signature=…` signed by the oracle over the crate's
/// canonical request, `headers` (all of them) signed, with `payload_line` as the payload.
fn oracle_presigned(
    path: &str,
    params: &Params,
    headers: &[(&str, &str)],
    payload_line: &str,
    signing: OracleSigning<'_>,
) -> Req {
    let unsigned = format!("{path}?{}", params.render());
    let (creq, _) = creq_of("GET", &unsigned, headers);
    let creq = with_payload_line(&creq, payload_line);
    let sig = oracle_sign(
        SECRET,
        signing.key,
        signing.sts_amz,
        signing.sts_scope,
        &creq,
    );
    Req::new("GET", &format!("{unsigned}&X-Amz-Signature={sig}"), headers)
}

/// `GET /test.txt` presigned by the oracle with `params`, `host` signed, UNSIGNED-PAYLOAD.
fn oracle_presigned_get(params: &Params, signing: OracleSigning<'_>) -> Req {
    oracle_presigned(
        "/test.txt",
        params,
        &[("host", HOST)],
        "UNSIGNED-PAYLOAD",
        signing,
    )
}

/// A header-signed request signed by the oracle over the crate's canonical request (every
/// header in `headers` signed), payload line `payload_line`, credential text `credential`.
fn oracle_header(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    payload_line: &str,
    credential: &str,
    signing: OracleSigning<'_>,
) -> Req {
    let (creq, signed) = creq_of(method, target, headers);
    let creq = with_payload_line(&creq, payload_line);
    let sig = oracle_sign(
        SECRET,
        signing.key,
        signing.sts_amz,
        signing.sts_scope,
        &creq,
    );
    Req::new(method, target, headers).with_header(
        "authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={sig}"
        ),
    )
}

/// The headers of a plain header-signed GET at `T0`.
fn base_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", HOST),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("x-amz-date", T0),
    ]
}

fn base_lines() -> String {
    format!("host:{HOST}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{T0}\n")
}

const BASE_SIGNED: &str = "host;x-amz-content-sha256;x-amz-date";

/// A canonical request written out by hand. `header_lines` end with `\n` each.
fn creq_text(method: &str, uri: &str, query: &str, header_lines: &str, signed: &str) -> String {
    format!("{method}\n{uri}\n{query}\n{header_lines}\n{signed}\nUNSIGNED-PAYLOAD")
}

/// A header-signed request whose signature the oracle computed over `creq` (hand-written).
fn oracle_signed_creq(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    creq: &str,
    signed: &str,
) -> Req {
    let sig = oracle_sign(SECRET, KEY, T0, SCOPE, creq);
    Req::new(method, target, headers).with_header(
        "authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{SCOPE}, SignedHeaders={signed}, Signature={sig}"
        ),
    )
}

/// `GET target` with the base headers, signed over a hand-written canonical URI and query.
fn oracle_uri_query(target: &str, uri: &str, query: &str) -> Req {
    let creq = creq_text("GET", uri, query, &base_lines(), BASE_SIGNED);
    oracle_signed_creq("GET", target, &base_headers(), &creq, BASE_SIGNED)
}

/// The canonical request the server computed, from a `SignatureDoesNotMatch`.
fn server_creq(err: &VerifyError) -> &str {
    match err {
        VerifyError::SignatureDoesNotMatch {
            canonical_request, ..
        } => canonical_request,
        other => panic!("not a signature mismatch: {other:?}"),
    }
}

/// Line `i` (0-based) of the server's canonical request.
fn server_creq_line(err: &VerifyError, i: usize) -> String {
    server_creq(err)
        .split('\n')
        .nth(i)
        .expect("line")
        .to_owned()
}

#[test]
fn oracle_agrees_with_the_signer() {
    // The oracle is only useful if it is SigV4: it must reproduce the crate's signatures.
    let presigned = presign_get(t0());
    let unsigned = drop_param(&presigned.target, "X-Amz-Signature");
    let (creq, _) = creq_of("GET", &unsigned, &[("host", HOST)]);
    assert_eq!(
        oracle_sign(SECRET, KEY, T0, SCOPE, &creq),
        presigned.query_signature()
    );

    let header = header_get("/test.txt?a=1", t0());
    let creq = creq_text(
        "GET",
        "/test.txt",
        "a=1",
        &format!(
            "host:{HOST}\nx-amz-content-sha256:{}\nx-amz-date:{T0}\n",
            PayloadHash::empty()
        ),
        BASE_SIGNED,
    );
    let creq = with_payload_line(&creq, PayloadHash::empty().as_str());
    assert_eq!(
        oracle_sign(SECRET, KEY, T0, SCOPE, &creq),
        header.auth().signature
    );

    // And the oracle-signed baselines the tests start from verify.
    accepted(oracle_presigned_get(&Params::standard(), DEFAULT_SIGNING).verify(t0()));
    accepted(
        oracle_header(
            "GET",
            "/test.txt",
            &base_headers(),
            "UNSIGNED-PAYLOAD",
            &format!("{AKID}/{SCOPE}"),
            DEFAULT_SIGNING,
        )
        .verify(t0()),
    );
    accepted(oracle_uri_query("/test.txt", "/test.txt", "").verify(t0()));
}

// =============================================================================================
// A. Dispatch and identity
// =============================================================================================

#[test]
fn rule_01_header_auth_plus_presign_credential_param_is_rejected() {
    // Key A header-signs a GET whose query names key B as a presign credential. The header
    // signature is valid for A (the query is signed), so only the one-mechanism rule refuses it.
    let target = format!(
        "/test.txt?X-Amz-Credential={}",
        credential_param(AKID_B, SCOPE)
    );
    let req = header_get(&target, t0());
    let err = rejected(req.verify(t0()), "InvalidArgument", 400);
    assert_eq!(err, VerifyError::MultipleAuthMechanisms);
    assert!(err.message().contains("Only one auth mechanism allowed"));
    assert!(
        !err.to_xml("r").contains(AKID_B),
        "identity B must never appear"
    );
    assert_eq!(req.detect(), Err(VerifyError::MultipleAuthMechanisms));
}

#[test]
fn rule_01_presigned_url_plus_authorization_header_is_rejected() {
    // A valid presigned URL of key B, plus a valid Authorization header of key A over it.
    let by_b = presign_with(
        &signer_for(AKID_B, SECRET_B, REGION),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    accepted(by_b.verify(t0()));
    let both = header_get(&by_b.target, t0());
    let err = rejected(both.verify(t0()), "InvalidArgument", 400);
    assert_eq!(err, VerifyError::MultipleAuthMechanisms);
}

#[test]
fn rule_01_header_auth_plus_sigv2_or_case_variant_param_is_rejected() {
    for pair in [
        "Signature=abc",
        "AWSAccessKeyId=AKIAI44QH8DHBEXAMPLE",
        "x-amz-credential=AKIAI44QH8DHBEXAMPLE",
        "X-AMZ-SIGNATURE=abc",
        "x-amz-algorithm=AWS4-HMAC-SHA256",
    ] {
        let req = header_get(&format!("/test.txt?{pair}"), t0());
        let err = rejected(req.verify(t0()), "InvalidArgument", 400);
        assert_eq!(err, VerifyError::MultipleAuthMechanisms, "{pair}");
    }
}

#[test]
fn rule_01_mode_specific_entry_points_refuse_the_other_mechanism() {
    let v = verifier();
    let presigned = presign_get(t0());
    let header = header_get("/test.txt", t0());
    let headers_of = |r: &Req| -> Vec<(String, String)> { r.headers.clone() };
    let ph = headers_of(&presigned);
    let hh = headers_of(&header);
    let p_in = IncomingRequest::new("GET", &presigned.target, &ph[..]);
    let h_in = IncomingRequest::new("GET", &header.target, &hh[..]);
    assert!(v.verify_presigned(&p_in, t0()).is_ok());
    assert!(v.verify_header(&h_in, t0()).is_ok());
    let e = v
        .verify_header(&p_in, t0())
        .expect_err("presigned via verify_header");
    assert_eq!((e.code(), e.status()), ("InvalidRequest", 400));
    let e = v
        .verify_presigned(&h_in, t0())
        .expect_err("header via verify_presigned");
    assert_eq!((e.code(), e.status()), ("InvalidRequest", 400));
}

#[test]
fn rule_02_identity_is_the_key_that_verified() {
    let v = verifier();
    for (akid, secret) in [(AKID, SECRET), (AKID_B, SECRET_B)] {
        let s = signer_for(akid, secret, REGION);
        let q = presign_with(
            &s,
            &PresignRequest::new("GET", "https", HOST, "/test.txt"),
            t0(),
        );
        let a = accepted(q.verify_with(&v, t0()));
        assert_eq!(a.access_key_id, akid);
        assert_eq!(a.mechanism, Mechanism::PresignedQuery);
        assert_eq!(a.credential_scope, SCOPE);
        assert_eq!(a.signed_headers, ["host"]);

        let h = sign_with(&s, "GET", "/test.txt", &[], PayloadHash::empty(), t0());
        let a = accepted(h.verify_with(&v, t0()));
        assert_eq!(a.access_key_id, akid);
        assert_eq!(a.mechanism, Mechanism::AuthorizationHeader);
        assert_eq!(a.credential_scope, SCOPE);
        assert_eq!(
            a.signed_headers,
            ["host", "x-amz-content-sha256", "x-amz-date"]
        );
    }
}

#[test]
fn rule_02_naming_a_key_without_its_secret_is_refused() {
    // Signed with B's secret but naming A: no identity can be borrowed.
    let impostor = signer_for(AKID, SECRET_B, REGION);
    let q = presign_with(
        &impostor,
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    let err = rejected(q.verify(t0()), "SignatureDoesNotMatch", 403);
    assert!(
        matches!(err, VerifyError::SignatureDoesNotMatch { ref access_key_id, .. } if access_key_id == AKID)
    );
    let h = sign_with(
        &impostor,
        "GET",
        "/test.txt",
        &[],
        PayloadHash::empty(),
        t0(),
    );
    rejected(h.verify(t0()), "SignatureDoesNotMatch", 403);
}

const KEYS: [(&str, &str); 4] = [
    (AKID, SECRET),
    (AKID_B, SECRET_B),
    ("AKIDTHIRD0000000000", "third/secret+key=="),
    ("AKID-4_with.chars~", "s"),
];

/// RFC 3986 encoding of a query component (an independent encoder for the property test).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Rule 2's property: for every accepted request, the identity returned is the access key
    /// whose secret derived the signing key.
    #[test]
    fn rule_02_identity_property(
        key in 0usize..KEYS.len(),
        header in any::<bool>(),
        path in "[a-zA-Z0-9._~-]{1,24}",
        value in "[ -~]{0,16}",
        offset in -900i64..=900,
    ) {
        let store = InMemoryCredentials::new();
        for (akid, secret) in KEYS {
            store.insert(akid, StoredCredential::new(secret).expect("cred")).expect("insert");
        }
        let v = Verifier::new(store, VerifierConfig::default());
        let (akid, secret) = KEYS[key];
        let s = signer_for(akid, secret, REGION);
        let path = format!("/{path}");
        let req = if header {
            sign_with(&s, "GET", &format!("{path}?v={}", enc(&value)), &[], PayloadHash::empty(), t0())
        } else {
            let query = [("v", value.as_str())];
            presign_with(&s, &PresignRequest::new("GET", "https", HOST, &path).query(&query), t0())
        };
        let a = accepted(req.verify_with(&v, at(offset)));
        prop_assert_eq!(a.access_key_id, akid);
    }
}

/// Six `x-amz-content-sha256` modes, with the extra headers each needs.
fn payload_modes() -> Vec<(PayloadHash, Vec<(&'static str, &'static str)>)> {
    let chunked = vec![
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "5"),
    ];
    let trailer = vec![
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "5"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    vec![
        (PayloadHash::Unsigned, vec![]),
        (PayloadHash::empty(), vec![("content-length", "0")]),
        (
            PayloadHash::from_body(b"hello"),
            vec![("content-length", "5")],
        ),
        (PayloadHash::StreamingSigned, chunked),
        (PayloadHash::StreamingSignedTrailer, trailer.clone()),
        (PayloadHash::StreamingUnsignedTrailer, trailer),
    ]
}

#[test]
fn rule_03_random_signature_is_refused_for_every_payload_mode_header_form() {
    for (payload, extra) in payload_modes() {
        let req = sign_with(&signer(), "PUT", "/test.txt", &extra, payload, t0());
        accepted(req.verify(t0()));
        assert_eq!(req.detect(), Ok(Mechanism::AuthorizationHeader));
        let bogus = req
            .clone()
            .with_authorization(&req.auth().with_signature(BOGUS_SIG).render());
        rejected(bogus.verify(t0()), "SignatureDoesNotMatch", 403);
    }
}

#[test]
fn rule_03_random_signature_is_refused_in_query_form() {
    let plain = presign_get(t0());
    let hashed = presign_with(
        &signer(),
        &PresignRequest::new("PUT", "https", HOST, "/test.txt")
            .query(&[(
                "X-Amz-Content-Sha256",
                PayloadHash::from_body(b"hello").as_str(),
            )])
            .payload(PayloadHash::from_body(b"hello")),
        t0(),
    );
    for req in [plain, hashed] {
        accepted(req.verify(t0()));
        assert_eq!(req.detect(), Ok(Mechanism::PresignedQuery));
        let bogus = req
            .clone()
            .with_target(set_param(&req.target, "X-Amz-Signature", BOGUS_SIG));
        rejected(bogus.verify(t0()), "SignatureDoesNotMatch", 403);
    }
}

#[test]
fn rule_03_any_auth_material_is_not_anonymous() {
    let host = [("host", HOST)];
    let cred = credential_param(AKID, SCOPE);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("/k?X-Amz-Credential={cred}"),
            "AuthorizationQueryParametersError",
        ),
        (
            format!("/k?X-Amz-Signature={BOGUS_SIG}"),
            "AuthorizationQueryParametersError",
        ),
        (
            "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256".into(),
            "AuthorizationQueryParametersError",
        ),
        (
            format!("/k?X-Amz-Date={T0}"),
            "AuthorizationQueryParametersError",
        ),
        (
            "/k?X-Amz-Expires=60".into(),
            "AuthorizationQueryParametersError",
        ),
        (
            "/k?X-Amz-SignedHeaders=host".into(),
            "AuthorizationQueryParametersError",
        ),
        (
            format!("/k?x-amz-credential={cred}"),
            "AuthorizationQueryParametersError",
        ),
        (
            format!("/k?X%2DAmz%2DSignature={BOGUS_SIG}"),
            "AuthorizationQueryParametersError",
        ),
        ("/k?Signature=abc".into(), "InvalidRequest"),
        (
            "/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE".into(),
            "InvalidRequest",
        ),
    ];
    for (target, code) in cases {
        let req = Req::new("GET", &target, &host);
        assert_ne!(req.detect(), Ok(Mechanism::Anonymous), "{target}");
        rejected(req.verify(t0()), code, 400);
    }
    // An empty Authorization header, and one whose name is upper case, are auth material.
    let empty = Req::new("GET", "/k", &[("host", HOST), ("authorization", "")]);
    assert_eq!(empty.detect(), Ok(Mechanism::AuthorizationHeader));
    rejected(empty.verify(t0()), "InvalidRequest", 400);

    let valid = header_get("/k", t0());
    let auth = valid.auth().with_signature(BOGUS_SIG).render();
    let upper = valid
        .without_header("authorization")
        .with_header("AUTHORIZATION", &auth);
    assert_eq!(upper.detect(), Ok(Mechanism::AuthorizationHeader));
    rejected(upper.verify(t0()), "SignatureDoesNotMatch", 403);
}

#[test]
fn rule_03_only_a_request_without_auth_material_is_anonymous() {
    let req = Req::new(
        "GET",
        "/k?response-content-type=text%2Fplain",
        &[("host", HOST)],
    );
    assert_eq!(req.detect(), Ok(Mechanism::Anonymous));
    let err = rejected(req.verify(t0()), "AccessDenied", 403);
    assert_eq!(err, VerifyError::MissingAuthentication);
}

#[test]
fn rule_04_multipart_post_is_verified_like_any_request() {
    // `POST /bucket?delete` with a form content type is not a POST-object form: it gets the
    // normal verification, and a bad signature is a signature mismatch.
    let ct = ("content-type", "multipart/form-data; boundary=xyz");
    let body = PayloadHash::from_body(b"--xyz--");
    let req = sign_with(
        &signer(),
        "POST",
        "/examplebucket?delete",
        &[ct],
        body,
        t0(),
    );
    accepted(req.verify(t0()));
    let bogus = req
        .clone()
        .with_authorization(&req.auth().with_signature(BOGUS_SIG).render());
    rejected(bogus.verify(t0()), "SignatureDoesNotMatch", 403);

    let presigned = presign_with(
        &signer(),
        &PresignRequest::new("POST", "https", HOST, "/examplebucket").query(&[("delete", "")]),
        t0(),
    )
    .with_header(ct.0, ct.1);
    accepted(presigned.verify(t0()));
    let bogus =
        presigned
            .clone()
            .with_target(set_param(&presigned.target, "X-Amz-Signature", BOGUS_SIG));
    rejected(bogus.verify(t0()), "SignatureDoesNotMatch", 403);

    let anonymous = Req::new("POST", "/examplebucket?delete", &[("host", HOST), ct]);
    assert_eq!(anonymous.detect(), Ok(Mechanism::Anonymous));
    rejected(anonymous.verify(t0()), "AccessDenied", 403);
}

#[test]
fn rule_05_repeated_x_amz_date_param_is_rejected() {
    let req = presign_get(t0());
    for extra in [
        format!("X-Amz-Date={T0}"),
        "X-Amz-Date=20240115T120001Z".to_owned(),
        format!("x-amz-date={T0}"),
    ] {
        let dup = req.clone().with_target(add_param(&req.target, &extra));
        let err = rejected(dup.verify(t0()), "AuthorizationQueryParametersError", 400);
        assert!(
            err.message().contains("X-Amz-Date"),
            "{extra}: {}",
            err.message()
        );
    }
}

#[test]
fn rule_05_repeated_x_amz_signature_param_is_rejected() {
    let req = presign_get(t0());
    let sig = req.query_signature();
    for extra in [
        format!("X-Amz-Signature={BOGUS_SIG}"),
        format!("X-Amz-Signature={sig}"),
    ] {
        let dup = req.clone().with_target(add_param(&req.target, &extra));
        rejected(dup.verify(t0()), "AuthorizationQueryParametersError", 400);
    }
    // And every other auth parameter.
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
    ] {
        let value = param(&req.target, name).expect("param");
        let dup = req
            .clone()
            .with_target(add_param(&req.target, &format!("{name}={value}")));
        rejected(dup.verify(t0()), "AuthorizationQueryParametersError", 400);
    }
}

#[test]
fn rule_05_two_authorization_headers_are_rejected() {
    let req = header_get("/test.txt", t0());
    let auth = req.header("authorization").expect("auth").to_owned();
    let twice = req.clone().with_header("Authorization", &auth);
    let err = rejected(twice.verify(t0()), "AuthorizationHeaderMalformed", 400);
    assert!(err.message().contains("more than one"));
    let other = header_get("/test.txt", at(1));
    let two_different = req.with_header(
        "authorization",
        other.header("authorization").expect("auth"),
    );
    rejected(
        two_different.verify(t0()),
        "AuthorizationHeaderMalformed",
        400,
    );
}

#[test]
fn rule_05_repeated_credential_inside_the_header_is_rejected() {
    let req = header_get("/test.txt", t0());
    let a = req.auth();
    let b_cred = format!("{AKID_B}/{SCOPE}");
    for value in [
        format!(
            "AWS4-HMAC-SHA256 Credential={}, Credential={b_cred}, SignedHeaders={}, Signature={}",
            a.credential, a.signed_headers, a.signature
        ),
        format!(
            "AWS4-HMAC-SHA256 Credential={b_cred}, Credential={}, SignedHeaders={}, Signature={}",
            a.credential, a.signed_headers, a.signature
        ),
        format!("{}, SignedHeaders={}", a.render(), a.signed_headers),
        format!("{}, Signature={}", a.render(), a.signature),
    ] {
        let dup = req.clone().with_authorization(&value);
        rejected(dup.verify(t0()), "AuthorizationHeaderMalformed", 400);
    }
}

#[test]
fn rule_05_repeated_auth_headers_are_rejected() {
    // Two x-amz-date (or payload hash, or token) headers: which one was signed is ambiguous.
    let req = header_get("/test.txt", t0());
    for (name, value) in [
        ("x-amz-date", "20240115T120001Z"),
        ("x-amz-date", T0),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
    ] {
        let dup = req.clone().with_header(name, value);
        rejected(dup.verify(t0()), "InvalidArgument", 400);
    }
}

// =============================================================================================
// B. Parsing
// =============================================================================================

#[test]
fn rule_06_query_algorithm_must_be_exact() {
    // Each URL is re-signed by the oracle: the HMAC is valid, only the algorithm is wrong.
    for alg in [
        "aws4-hmac-sha256",
        "AWS4-HMAC-SHA512",
        "AWS4-ECDSA-P256-SHA256",
        "AWS4-HMAC-SHA256%20",
        "",
    ] {
        let req = oracle_presigned_get(
            &Params::standard().set("X-Amz-Algorithm", alg),
            DEFAULT_SIGNING,
        );
        let err = rejected(req.verify(t0()), "AuthorizationQueryParametersError", 400);
        assert_eq!(
            err.message(),
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
            "{alg}"
        );
    }
}

#[test]
fn rule_06_header_algorithm_must_be_exact() {
    // The algorithm token is not part of what is signed, so a verifier that ignored it would
    // accept these: the rest of the header, signature included, is valid.
    let req = header_get("/test.txt", t0());
    let rest = req
        .header("authorization")
        .expect("auth")
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .expect("prefix")
        .to_owned();
    for alg in [
        "XYZ",
        "aws4-hmac-sha256",
        "AWS4-HMAC-SHA512",
        "AWS4-ECDSA-P256-SHA256",
    ] {
        let bad = req.clone().with_authorization(&format!("{alg} {rest}"));
        let err = rejected(bad.verify(t0()), "InvalidRequest", 400);
        assert_eq!(err, VerifyError::UnsupportedMechanism, "{alg}");
        assert!(err.message().contains("Please use AWS4-HMAC-SHA256"));
    }
}

#[test]
fn rule_07_every_presign_param_is_required() {
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
    ] {
        // Re-signed without the parameter, so the HMAC covers exactly what is sent.
        let req = oracle_presigned_get(&Params::standard().remove(name), DEFAULT_SIGNING);
        let err = rejected(req.verify(t0()), "AuthorizationQueryParametersError", 400);
        assert!(
            err.message().starts_with(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
            ),
            "{name}: {}",
            err.message()
        );
    }
    let valid = presign_get(t0());
    let unsigned = valid
        .clone()
        .with_target(drop_param(&valid.target, "X-Amz-Signature"));
    rejected(
        unsigned.verify(t0()),
        "AuthorizationQueryParametersError",
        400,
    );
}

#[test]
fn rule_07_presign_param_names_are_case_sensitive() {
    // Documented decision: `x-amz-date` is not `X-Amz-Date`. Each URL is validly signed, so a
    // verifier matching names case-insensitively would accept it.
    for (from, to) in [
        ("X-Amz-Algorithm", "x-amz-algorithm"),
        ("X-Amz-Credential", "X-AMZ-CREDENTIAL"),
        ("X-Amz-Date", "x-amz-date"),
        ("X-Amz-Expires", "X-Amz-expires"),
        ("X-Amz-SignedHeaders", "X-Amz-Signedheaders"),
    ] {
        let req = oracle_presigned_get(&Params::standard().rename(from, to), DEFAULT_SIGNING);
        let err = rejected_because(
            to,
            req.verify(t0()),
            "AuthorizationQueryParametersError",
            400,
        );
        assert!(
            err.message().contains("wrong case"),
            "{to}: {}",
            err.message()
        );
    }
}

#[test]
fn rule_08_authorization_header_grammar_is_strict() {
    let req = header_get("/test.txt", t0());
    let Auth {
        credential: c,
        signed_headers: h,
        signature: s,
    } = req.auth();
    for (what, value) in [
        (
            "reordered",
            format!("AWS4-HMAC-SHA256 SignedHeaders={h}, Credential={c}, Signature={s}"),
        ),
        (
            "signature first",
            format!("AWS4-HMAC-SHA256 Signature={s}, Credential={c}, SignedHeaders={h}"),
        ),
        (
            "missing comma",
            format!("AWS4-HMAC-SHA256 Credential={c} SignedHeaders={h}, Signature={s}"),
        ),
        (
            "trailing component",
            format!("AWS4-HMAC-SHA256 Credential={c}, SignedHeaders={h}, Signature={s},Foo=bar"),
        ),
        (
            "tab separators",
            format!("AWS4-HMAC-SHA256 Credential={c},\tSignedHeaders={h},\tSignature={s}"),
        ),
        (
            "tab instead of a comma",
            format!("AWS4-HMAC-SHA256 Credential={c}\tSignedHeaders={h}, Signature={s}"),
        ),
        (
            // Not an access key id that is unknown: no tab anywhere.
            "tab in a value",
            format!("AWS4-HMAC-SHA256 Credential=\t{c}, SignedHeaders={h}, Signature={s}"),
        ),
        (
            "empty signature",
            format!("AWS4-HMAC-SHA256 Credential={c}, SignedHeaders={h}, Signature="),
        ),
        (
            "missing SignedHeaders",
            format!("AWS4-HMAC-SHA256 Credential={c}, Signature={s}"),
        ),
        (
            "missing Signature",
            format!("AWS4-HMAC-SHA256 Credential={c}, SignedHeaders={h}"),
        ),
        (
            "lowercase component name",
            format!("AWS4-HMAC-SHA256 credential={c}, SignedHeaders={h}, Signature={s}"),
        ),
        (
            "spaces around =",
            format!("AWS4-HMAC-SHA256 Credential = {c}, SignedHeaders={h}, Signature={s}"),
        ),
    ] {
        let bad = req.clone().with_authorization(&value);
        rejected_because(what, bad.verify(t0()), "AuthorizationHeaderMalformed", 400);
    }
}

#[test]
fn rule_08_trailing_separator_is_rejected() {
    // "Each component once, nothing extra": a dangling `,` after the signature is extra
    // (MinIO's three-field split and s3s both refuse it). The signature itself is valid.
    let req = header_get("/test.txt", t0());
    let auth = req.auth().render();
    for value in [format!("{auth},"), format!("{auth}, "), format!("{auth},,")] {
        let bad = req.clone().with_authorization(&value);
        rejected_because(
            &value,
            bad.verify(t0()),
            "AuthorizationHeaderMalformed",
            400,
        );
    }
}

#[test]
fn rule_08_authorization_header_accepts_sdk_spacing() {
    let req = header_get("/test.txt", t0());
    let Auth {
        credential: c,
        signed_headers: h,
        signature: s,
    } = req.auth();
    for value in [
        format!("AWS4-HMAC-SHA256 Credential={c},SignedHeaders={h},Signature={s}"),
        format!("AWS4-HMAC-SHA256 Credential={c},   SignedHeaders={h},  Signature={s}"),
    ] {
        accepted(req.clone().with_authorization(&value).verify(t0()));
    }
}

/// The same credential scope case in both forms: a presigned URL and a header-signed GET,
/// both signed by the oracle with `signing`, dated `amz`.
fn scope_case(credential: &str, amz: &str, signing: OracleSigning<'_>) -> (Req, Req) {
    let query = oracle_presigned_get(
        &Params::standard()
            .set("X-Amz-Credential", &credential.replace('/', "%2F"))
            .set("X-Amz-Date", amz),
        signing,
    );
    let header = oracle_header(
        "GET",
        "/test.txt",
        &[
            ("host", HOST),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-date", amz),
        ],
        "UNSIGNED-PAYLOAD",
        credential,
        signing,
    );
    (query, header)
}

#[track_caller]
fn both_malformed(credential: &str, amz: &str, signing: OracleSigning<'_>, now: SigningTime) {
    let (query, header) = scope_case(credential, amz, signing);
    rejected(query.verify(now), "AuthorizationQueryParametersError", 400);
    rejected(header.verify(now), "AuthorizationHeaderMalformed", 400);
}

#[test]
fn rule_09_scope_date_must_be_a_calendar_date() {
    // 2024-02-30 read leniently is 2024-03-01: sign exactly what such a verifier would check.
    let scope = "20240230/us-east-1/s3/aws4_request";
    let signing = OracleSigning {
        sts_amz: "20240301T120000Z",
        sts_scope: scope,
        key: KeyFor {
            date8: "20240301",
            ..KEY
        },
    };
    both_malformed(
        &format!("{AKID}/{scope}"),
        "20240301T120000Z",
        signing,
        t("20240301T120000Z"),
    );
}

#[test]
fn rule_09_scope_region_must_be_configured() {
    // A correct signature for us-east-2; the server is us-east-1.
    let east2 = signer_for(AKID, SECRET, "us-east-2");
    let query = presign_with(
        &east2,
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    let err = rejected(query.verify(t0()), "AuthorizationQueryParametersError", 400);
    assert!(err.to_xml("r").contains("<Region>us-east-1</Region>"));
    let header = sign_with(&east2, "GET", "/test.txt", &[], PayloadHash::empty(), t0());
    let err = rejected(header.verify(t0()), "AuthorizationHeaderMalformed", 400);
    assert!(err.to_xml("r").contains("<Region>us-east-1</Region>"));

    // Region names are exact: a case variant, signed as a case-insensitive server would check.
    let scope = "20240115/US-EAST-1/s3/aws4_request";
    let signing = OracleSigning {
        sts_scope: scope,
        key: KeyFor {
            region: "US-EAST-1",
            ..KEY
        },
        ..DEFAULT_SIGNING
    };
    both_malformed(&format!("{AKID}/{scope}"), T0, signing, t0());

    // Accepted when configured.
    let v = verifier_with(VerifierConfig::default().regions(["us-east-1", "us-east-2"]));
    accepted(query.verify_with(&v, t0()));
    accepted(header.verify_with(&v, t0()));
}

#[test]
fn rule_09_scope_service_must_be_exact() {
    for service in ["S3", "iam", "s3-object-lambda"] {
        let scope = format!("20240115/us-east-1/{service}/aws4_request");
        let signing = OracleSigning {
            sts_scope: &scope,
            key: KeyFor { service, ..KEY },
            ..DEFAULT_SIGNING
        };
        both_malformed(&format!("{AKID}/{scope}"), T0, signing, t0());
    }
}

#[test]
fn rule_09_scope_terminator_must_be_exact() {
    for terminator in ["aws4_requests", "AWS4_REQUEST", "aws4_request "] {
        let scope = format!("20240115/us-east-1/s3/{terminator}");
        let signing = OracleSigning {
            sts_scope: &scope,
            ..DEFAULT_SIGNING
        };
        // A trailing space cannot be sent in the header form's credential: query only.
        let (query, header) = scope_case(&format!("{AKID}/{scope}"), T0, signing);
        rejected(query.verify(t0()), "AuthorizationQueryParametersError", 400);
        if !terminator.ends_with(' ') {
            rejected(header.verify(t0()), "AuthorizationHeaderMalformed", 400);
        }
    }
}

#[test]
fn rule_09_scope_must_have_five_parts_and_an_access_key() {
    // Six parts are refused as such, not only because the terminator then looks wrong.
    for credential in [
        format!("{AKID}/{SCOPE}/aws4_request"),
        format!("AK/ID/{SCOPE}"),
    ] {
        let (query, header) = scope_case(&credential, T0, DEFAULT_SIGNING);
        for err in [
            rejected(query.verify(t0()), "AuthorizationQueryParametersError", 400),
            rejected(header.verify(t0()), "AuthorizationHeaderMalformed", 400),
        ] {
            assert!(
                err.message().contains("5 slash-separated parts"),
                "{credential}: {}",
                err.message()
            );
        }
    }
    for credential in [
        format!("{AKID}/{SCOPE}/extra"),
        format!("{AKID}/20240115/us-east-1/aws4_request"),
        format!("AKIA/IOSFODNN7EXAMPLE/{SCOPE}"),
        format!("/{SCOPE}"),
        String::new(),
    ] {
        both_malformed(&credential, T0, DEFAULT_SIGNING, t0());
    }
}

#[test]
fn rule_10_credential_date_must_equal_the_x_amz_date_day() {
    // Key and scope for 2024-01-15, X-Amz-Date the next day: signed as a verifier that only
    // used the scope date would check it.
    let amz = "20240116T000001Z";
    let signing = OracleSigning {
        sts_amz: amz,
        ..DEFAULT_SIGNING
    };
    let (query, header) = scope_case(&format!("{AKID}/{SCOPE}"), amz, signing);
    let now = t("20240116T000002Z");
    let err = rejected(query.verify(now), "AuthorizationQueryParametersError", 400);
    assert!(err.message().contains("Date is not the same as X-Amz-Date"));
    let err = rejected(header.verify(now), "AuthorizationHeaderMalformed", 400);
    assert_eq!(
        err.message(),
        "Invalid credential date. Date is not the same as X-Amz-Date."
    );
}

/// The malformed `X-Amz-Date` values of rule 11.
const BAD_DATES: [&str; 9] = [
    "2024-01-15T12:00:00Z",
    "20240115T120000+0000",
    "20240115t120000z",
    "20240115T240000Z",
    "20240115T235960Z",
    "20240115T12000Z",
    "20240115T1200000Z",
    "20240132T120000Z",
    "20240115T120000",
];

#[test]
fn rule_11_query_x_amz_date_is_strict() {
    let leading_space = ["%2020240115T120000Z", "+20240115T120000Z"];
    for date in BAD_DATES.iter().chain(&leading_space) {
        // Signed with the lenient reading (T0) in the string to sign.
        let req =
            oracle_presigned_get(&Params::standard().set("X-Amz-Date", date), DEFAULT_SIGNING);
        let err = rejected(req.verify(t0()), "AuthorizationQueryParametersError", 400);
        assert_eq!(
            err.message(),
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
            "{date}"
        );
    }
}

#[test]
fn rule_11_header_x_amz_date_is_strict() {
    for date in BAD_DATES {
        let req = oracle_header(
            "GET",
            "/test.txt",
            &[
                ("host", HOST),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                ("x-amz-date", date),
            ],
            "UNSIGNED-PAYLOAD",
            &format!("{AKID}/{SCOPE}"),
            DEFAULT_SIGNING,
        );
        let err = rejected(req.verify(t0()), "AccessDenied", 403);
        assert_eq!(err, VerifyError::MissingDate, "{date}");
        assert_eq!(
            err.message(),
            "AWS authentication requires a valid Date or x-amz-date header"
        );
    }
}

#[test]
fn rule_11_x_amz_date_wins_over_date() {
    // A Date header two weeks off does not matter when x-amz-date is valid...
    let req = sign_with(
        &signer(),
        "GET",
        "/test.txt",
        &[("date", "Mon, 01 Jan 2024 00:00:00 GMT")],
        PayloadHash::empty(),
        t0(),
    );
    accepted(req.verify(t0()));
    // ...and a valid Date does not rescue a malformed x-amz-date.
    let req = oracle_header(
        "GET",
        "/test.txt",
        &[
            ("date", "Mon, 15 Jan 2024 12:00:00 GMT"),
            ("host", HOST),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-date", "20240115t120000z"),
        ],
        "UNSIGNED-PAYLOAD",
        &format!("{AKID}/{SCOPE}"),
        DEFAULT_SIGNING,
    );
    rejected(req.verify(t0()), "AccessDenied", 403);
}

#[test]
fn rule_11_date_header_is_the_fallback() {
    // Without x-amz-date, the (signed) Date header dates the request.
    for date in [
        "Mon, 15 Jan 2024 12:00:00 +0000",
        "Mon, 15 Jan 2024 12:00:00 GMT",
    ] {
        let req = oracle_header(
            "GET",
            "/test.txt",
            &[
                ("date", date),
                ("host", HOST),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ],
            "UNSIGNED-PAYLOAD",
            &format!("{AKID}/{SCOPE}"),
            DEFAULT_SIGNING,
        );
        accepted(req.verify(t0()));
    }
}

#[test]
fn rule_12_expires_bounds() {
    // The maximum is accepted, through its last second.
    let week = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").expires(expiry(604_800)),
        t0(),
    );
    assert_eq!(
        param(&week.target, "X-Amz-Expires").as_deref(),
        Some("604800")
    );
    let a = accepted(week.verify(at(604_800)));
    assert_eq!(a.expires_at, Some(at(604_800)));
    rejected(week.verify(at(604_801)), "AccessDenied", 403);
    accepted(
        oracle_presigned_get(
            &Params::standard().set("X-Amz-Expires", "1"),
            DEFAULT_SIGNING,
        )
        .verify(t0()),
    );

    // Everything else is refused before the signature is looked at (each is validly signed).
    for value in [
        "604801",
        "-1",
        "+60",
        "%2B60",
        "60.0",
        "1e3",
        "0x10",
        "9223372036854775808",
        "18446744073709551616",
        "",
        "0",
        "00",
        " 60",
        "60%20",
    ] {
        let req = oracle_presigned_get(
            &Params::standard().set("X-Amz-Expires", value),
            DEFAULT_SIGNING,
        );
        let err = rejected(req.verify(t0()), "AuthorizationQueryParametersError", 400);
        assert!(
            err.message().contains("X-Amz-Expires"),
            "{value}: {}",
            err.message()
        );
    }
}

#[test]
fn rule_12_configured_maximum_is_enforced() {
    let v = verifier_with(VerifierConfig::default().max_expires_secs(3600));
    let ok = oracle_presigned_get(
        &Params::standard().set("X-Amz-Expires", "3600"),
        DEFAULT_SIGNING,
    );
    accepted(ok.verify_with(&v, t0()));
    let long = oracle_presigned_get(
        &Params::standard().set("X-Amz-Expires", "3601"),
        DEFAULT_SIGNING,
    );
    rejected(
        long.verify_with(&v, t0()),
        "AuthorizationQueryParametersError",
        400,
    );
}

/// Malformed copies of a valid signature.
fn bad_signatures(sig: &str) -> Vec<(&'static str, String)> {
    vec![
        ("uppercase", sig.to_uppercase()),
        ("63 chars", sig[..63].to_owned()),
        ("65 chars", format!("{sig}0")),
        ("66 chars", format!("{sig}00")),
        ("non-hex", format!("g{}", &sig[1..])),
        ("empty", String::new()),
        ("32 chars", sig[..32].to_owned()),
    ]
}

#[test]
fn rule_13_query_signature_must_be_64_lowercase_hex() {
    let req = presign_get(t0());
    let sig = req.query_signature();
    assert_ne!(sig, sig.to_uppercase(), "the signature has letters");
    for (what, bad) in bad_signatures(&sig) {
        let tampered = req
            .clone()
            .with_target(set_param(&req.target, "X-Amz-Signature", &bad));
        rejected_because(what, tampered.verify(t0()), "SignatureDoesNotMatch", 403);
    }
}

#[test]
fn rule_13_header_signature_must_be_64_lowercase_hex() {
    let req = header_get("/test.txt", t0());
    let auth = req.auth();
    for (what, bad) in bad_signatures(&auth.signature) {
        let tampered = req
            .clone()
            .with_authorization(&auth.clone().with_signature(&bad).render());
        if bad.is_empty() {
            // An empty component is a grammar error (rule 8).
            rejected_because(
                what,
                tampered.verify(t0()),
                "AuthorizationHeaderMalformed",
                400,
            );
        } else {
            rejected_because(what, tampered.verify(t0()), "SignatureDoesNotMatch", 403);
        }
    }
}

#[test]
fn rule_14_signed_headers_grammar_header_form() {
    let req = header_get("/test.txt", t0());
    let auth = req.auth();
    assert_eq!(auth.signed_headers, BASE_SIGNED);
    for signed in [
        "",
        "host;;x-amz-content-sha256;x-amz-date",
        // Same signature: a verifier that lowercased names itself would accept it.
        "Host;x-amz-content-sha256;x-amz-date",
        "host;host;x-amz-content-sha256;x-amz-date",
        "x-amz-date;host;x-amz-content-sha256",
        "host;x-amz-content-sha256;x-amz-date;",
        ";host;x-amz-content-sha256;x-amz-date",
        "host;x-amz-content-sha256;x-amz-date;x(y)",
    ] {
        let bad = req
            .clone()
            .with_authorization(&auth.clone().with_signed_headers(signed).render());
        rejected(bad.verify(t0()), "AuthorizationHeaderMalformed", 400);
    }
}

#[test]
fn rule_14_signed_headers_grammar_query_form() {
    for signed in [
        "",
        "host%3B%3Bx-amz-meta-a",
        "Host",
        "HOST",
        "host%3Bhost",
        "x-amz-meta-a%3Bhost",
        "host;;x-amz-meta-a",
        "host%3B",
    ] {
        let req = oracle_presigned_get(
            &Params::standard().set("X-Amz-SignedHeaders", signed),
            DEFAULT_SIGNING,
        )
        .with_header("x-amz-meta-a", "1");
        rejected(req.verify(t0()), "AuthorizationQueryParametersError", 400);
    }
}

#[test]
fn rule_14_host_must_be_signed() {
    // Header form: a valid signature over x-amz-content-sha256 and x-amz-date only.
    let signed_without_host = oracle_header(
        "GET",
        "/test.txt",
        &[
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-date", T0),
        ],
        "UNSIGNED-PAYLOAD",
        &format!("{AKID}/{SCOPE}"),
        DEFAULT_SIGNING,
    )
    .with_header("host", HOST);
    assert_eq!(
        signed_without_host.auth().signed_headers,
        "x-amz-content-sha256;x-amz-date"
    );
    let err = rejected(signed_without_host.verify(t0()), "AccessDenied", 403);
    assert_eq!(
        err,
        VerifyError::HeadersNotSigned {
            headers: vec!["host".into()]
        }
    );
    assert!(
        err.to_xml("r")
            .contains("<HeadersNotSigned>host</HeadersNotSigned>")
    );

    // The checklist's literal case: SignedHeaders=x-amz-date.
    let only_date = oracle_header(
        "GET",
        "/test.txt",
        &[("x-amz-date", T0)],
        "UNSIGNED-PAYLOAD",
        &format!("{AKID}/{SCOPE}"),
        DEFAULT_SIGNING,
    )
    .with_header("host", HOST)
    .with_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    let err = rejected(only_date.verify(t0()), "AccessDenied", 403);
    assert!(
        matches!(err, VerifyError::HeadersNotSigned { ref headers } if headers.first().map(String::as_str) == Some("host"))
    );

    // Query form: a valid signature over content-type only.
    let query = oracle_presigned(
        "/test.txt",
        &Params::standard().set("X-Amz-SignedHeaders", "content-type"),
        &[("content-type", "text/plain")],
        "UNSIGNED-PAYLOAD",
        DEFAULT_SIGNING,
    )
    .with_header("host", HOST);
    let err = rejected(query.verify(t0()), "AccessDenied", 403);
    assert_eq!(
        err,
        VerifyError::HeadersNotSigned {
            headers: vec!["host".into()]
        }
    );
}

#[test]
fn rule_14_listed_header_that_is_absent_is_a_mismatch() {
    let presigned = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").headers(&[("x-foo", "bar")]),
        t0(),
    );
    accepted(presigned.verify(t0()));
    rejected(
        presigned.without_header("x-foo").verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
    let header = sign_with(
        &signer(),
        "GET",
        "/test.txt",
        &[("x-foo", "bar")],
        PayloadHash::empty(),
        t0(),
    );
    accepted(header.verify(t0()));
    rejected(
        header.without_header("x-foo").verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
}

#[test]
fn rule_14_listed_header_that_is_absent_is_a_mismatch_even_if_signed_empty() {
    // The signer signed `x-foo:` with an empty value; the request arrives without x-foo. A
    // listed header must be present: its absence is not the same as an empty value.
    let presigned = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").headers(&[("x-foo", "")]),
        t0(),
    );
    assert_eq!(presigned.header("x-foo"), Some(""));
    accepted(presigned.verify(t0()));
    rejected(
        presigned.without_header("x-foo").verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
    let header = sign_with(
        &signer(),
        "GET",
        "/test.txt",
        &[("x-foo", "")],
        PayloadHash::empty(),
        t0(),
    );
    accepted(header.verify(t0()));
    rejected(
        header.without_header("x-foo").verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
}

/// The unsigned headers of rule 15, with a value each.
const UNSIGNED_AMZ: [(&str, &str); 8] = [
    ("x-amz-copy-source", "/otherbucket/secret.txt"),
    ("x-amz-tagging", "a=b"),
    ("x-amz-acl", "public-read"),
    ("x-amz-storage-class", "GLACIER"),
    ("x-amz-website-redirect-location", "https://evil.example/"),
    ("x-amz-server-side-encryption", "AES256"),
    ("X-AMZ-META-A", "x"),
    ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
];

fn presigned_put() -> Req {
    presign_with(
        &signer(),
        &PresignRequest::new("PUT", "https", HOST, "/test.txt"),
        t0(),
    )
}

#[test]
fn rule_15_unsigned_amz_headers_on_a_presigned_put_are_refused() {
    let put = presigned_put();
    accepted(put.verify(t0()));
    for (name, value) in UNSIGNED_AMZ {
        // The signature is still valid: only this rule stands between the header and the handler.
        let err = rejected(
            put.clone().with_header(name, value).verify(t0()),
            "AccessDenied",
            403,
        );
        assert_eq!(
            err,
            VerifyError::HeadersNotSigned {
                headers: vec![name.to_ascii_lowercase()]
            }
        );
        assert!(err.message().contains("not signed"));
    }
}

#[test]
fn rule_15_unsigned_amz_header_added_to_a_header_signed_put_is_refused() {
    let put = sign_with(
        &signer(),
        "PUT",
        "/test.txt",
        &[("content-length", "5")],
        PayloadHash::from_body(b"hello"),
        t0(),
    );
    accepted(put.verify(t0()));
    let err = rejected(
        put.with_header("x-amz-copy-source", "/otherbucket/secret.txt")
            .verify(t0()),
        "AccessDenied",
        403,
    );
    assert_eq!(
        err,
        VerifyError::HeadersNotSigned {
            headers: vec!["x-amz-copy-source".into()]
        }
    );
    assert!(
        err.to_xml("r")
            .contains("<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>")
    );
}

#[test]
fn rule_15_every_unsigned_header_is_listed() {
    let err = rejected(
        presigned_put()
            .with_header("x-amz-acl", "public-read")
            .with_header("x-amz-tagging", "a=b")
            .verify(t0()),
        "AccessDenied",
        403,
    );
    assert_eq!(
        err,
        VerifyError::HeadersNotSigned {
            headers: vec!["x-amz-acl".into(), "x-amz-tagging".into()]
        }
    );
    let xml = err.to_xml("r");
    assert!(
        xml.contains("x-amz-acl") && xml.contains("x-amz-tagging"),
        "{xml}"
    );
}

#[test]
fn rule_15_exemptions_are_opt_in_and_other_headers_may_be_unsigned() {
    let v = verifier_with(VerifierConfig::default().allow_unsigned_header("X-Amz-Acl"));
    let put = presigned_put();
    accepted(
        put.clone()
            .with_header("x-amz-acl", "public-read")
            .verify_with(&v, t0()),
    );
    rejected(
        put.clone()
            .with_header("x-amz-tagging", "a=b")
            .verify_with(&v, t0()),
        "AccessDenied",
        403,
    );
    // Headers outside x-amz-* need not be signed.
    accepted(
        put.with_header("content-type", "text/plain")
            .with_header("user-agent", "test")
            .with_header("x-amzn-trace-id", "Root=1")
            .verify(t0()),
    );
}

// =============================================================================================
// C. Time
// =============================================================================================

#[test]
fn rule_16_header_auth_skew_is_900_seconds_both_ways_for_every_payload_mode() {
    for (payload, extra) in payload_modes() {
        let req = sign_with(&signer(), "PUT", "/test.txt", &extra, payload, t0());
        for ok in [-900, -1, 0, 1, 900] {
            accepted(req.verify(at(ok)));
        }
        for late in [-901, 901, -86_400, 86_400] {
            let err = rejected(req.verify(at(late)), "RequestTimeTooSkewed", 403);
            let xml = err.to_xml("r");
            assert!(
                xml.contains(&format!("<RequestTime>{T0}</RequestTime>")),
                "{xml}"
            );
            assert!(
                xml.contains(&format!(
                    "<ServerTime>{}</ServerTime>",
                    at(late).amz_date().as_str()
                )),
                "{xml}"
            );
        }
    }
}

#[test]
fn rule_16_configured_skew_is_enforced() {
    let v = verifier_with(VerifierConfig::default().with_clock_skew_secs(60));
    let req = header_get("/test.txt", t0());
    accepted(req.verify_with(&v, at(60)));
    accepted(req.verify_with(&v, at(-60)));
    rejected(req.verify_with(&v, at(61)), "RequestTimeTooSkewed", 403);
    rejected(req.verify_with(&v, at(-61)), "RequestTimeTooSkewed", 403);
}

#[test]
fn rule_17_presigned_validity_window() {
    let req = presign_get(t0()); // Expires = 3600
    // From 15 minutes before X-Amz-Date...
    accepted(req.verify(at(-900)));
    let err = rejected(req.verify(at(-901)), "AccessDenied", 403);
    assert_eq!(err.message(), "Request is not yet valid");
    let err = rejected(req.verify(at(-960)), "AccessDenied", 403); // date = now + 16 min
    assert_eq!(err, VerifyError::NotYetValid);
    // ...to X-Amz-Date + X-Amz-Expires inclusive.
    let a = accepted(req.verify(at(3600)));
    assert_eq!(a.expires_at, Some(at(3600)));
    let err = rejected(req.verify(at(3601)), "AccessDenied", 403);
    assert_eq!(err.message(), "Request has expired");
    let xml = err.to_xml("r");
    assert!(
        xml.contains(&format!(
            "<Expires>{}</Expires>",
            at(3600).amz_date().as_str()
        )),
        "{xml}"
    );
}

#[test]
fn rule_17_expires_one_second() {
    let req = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").expires(expiry(1)),
        t0(),
    );
    accepted(req.verify(at(1)));
    rejected(req.verify(at(2)), "AccessDenied", 403);
}

#[test]
fn rule_18_presigned_urls_are_not_skew_checked() {
    let hour = presign_get(t0());
    accepted(hour.verify(at(1800)));
    // The same moment is too late for header auth.
    rejected(
        header_get("/test.txt", t0()).verify(at(1800)),
        "RequestTimeTooSkewed",
        403,
    );
    let week = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").expires(Expiry::MAX),
        t0(),
    );
    accepted(week.verify(at(7 * 86_400)));
}

const AKID_TEMP: &str = "ASIAEXAMPLETEMPKEY01";
const SECRET_TEMP: &str = "temporary/secret+KEY";
/// A token with characters that need encoding in a query.
const TOKEN: &str = "FwoGZXIvYXdzEJr//////////wEaDH+token/with=padding==";

fn temp_verifier(expires_at: Option<SigningTime>) -> Verifier<InMemoryCredentials> {
    let store = store();
    store
        .insert(
            AKID_TEMP,
            StoredCredential::temporary(SECRET_TEMP, TOKEN, expires_at).expect("temp"),
        )
        .expect("insert");
    Verifier::new(store, VerifierConfig::default())
}

fn temp_signer(token: Option<&str>) -> Signer {
    let mut creds = Credentials::new(AKID_TEMP, SECRET_TEMP).expect("creds");
    if let Some(token) = token {
        creds = creds.with_session_token(token).expect("token");
    }
    Signer::new(creds, REGION, "s3").expect("signer")
}

/// A presigned GET and a header-signed GET by `signer` at `time`.
fn both_forms(signer: &Signer, time: SigningTime) -> [Req; 2] {
    [
        presign_with(
            signer,
            &PresignRequest::new("GET", "https", HOST, "/test.txt"),
            time,
        ),
        sign_with(signer, "GET", "/test.txt", &[], PayloadHash::empty(), time),
    ]
}

#[test]
fn rule_19_temporary_credentials_with_their_token_verify() {
    let v = temp_verifier(None);
    for req in both_forms(&temp_signer(Some(TOKEN)), t0()) {
        let a = accepted(req.verify_with(&v, t0()));
        assert_eq!(a.access_key_id, AKID_TEMP);
        assert_eq!(a.session_token.as_deref(), Some(TOKEN));
    }
}

#[test]
fn rule_19_temporary_key_without_token_is_refused() {
    let v = temp_verifier(None);
    for req in both_forms(&temp_signer(None), t0()) {
        // The signature is valid: only the token rule refuses it.
        let err = rejected(req.verify_with(&v, t0()), "InvalidToken", 400);
        assert_eq!(err, VerifyError::InvalidToken);
    }
}

#[test]
fn rule_19_wrong_token_is_refused() {
    let v = temp_verifier(None);
    let last_changed = format!("{}x", &TOKEN[..TOKEN.len() - 1]);
    let prefix = &TOKEN[..TOKEN.len() - 1];
    let longer = format!("{TOKEN}=");
    for token in [last_changed.as_str(), prefix, longer.as_str(), "x"] {
        for req in both_forms(&temp_signer(Some(token)), t0()) {
            rejected(req.verify_with(&v, t0()), "InvalidToken", 400);
        }
    }
}

#[test]
fn rule_19_static_key_with_a_token_is_refused() {
    let s = Signer::new(
        Credentials::new(AKID, SECRET)
            .expect("creds")
            .with_session_token("random-token")
            .expect("token"),
        REGION,
        "s3",
    )
    .expect("signer");
    for req in both_forms(&s, t0()) {
        rejected(req.verify(t0()), "InvalidToken", 400);
    }
}

#[test]
fn rule_19_credential_expiry_caps_and_ends_validity() {
    let v = temp_verifier(Some(at(600)));
    let s = temp_signer(Some(TOKEN));
    // Presigned for an hour, but the session ends after 10 minutes.
    let [presigned, _] = both_forms(&s, t0());
    let a = accepted(presigned.verify_with(&v, at(599)));
    assert_eq!(a.expires_at, Some(at(600)));
    let err = rejected(presigned.verify_with(&v, at(600)), "ExpiredToken", 400);
    assert_eq!(err, VerifyError::ExpiredToken);
    rejected(presigned.verify_with(&v, at(1800)), "ExpiredToken", 400);

    let [_, header] = both_forms(&s, at(590));
    let a = accepted(header.verify_with(&v, at(599)));
    assert_eq!(a.expires_at, Some(at(600)));
    rejected(header.verify_with(&v, at(600)), "ExpiredToken", 400);
}

// =============================================================================================
// D. Canonicalisation
// =============================================================================================
// The signatures here are computed by the oracle over canonical requests written out by hand,
// so a canonicalisation bug shared by the crate's signer and verifier cannot hide.

/// Checks that `creq_query` signs exactly the `accept` wire queries and none of the `refuse`
/// ones (on `/test.txt`).
#[track_caller]
fn query_case(creq_query: &str, signed_wire: &str, accept: &[&str], refuse: &[(&str, &str)]) {
    let req = oracle_uri_query(&format!("/test.txt?{signed_wire}"), "/test.txt", creq_query);
    accepted(req.verify(t0()));
    for wire in accept {
        let other = req.clone().with_target(format!("/test.txt?{wire}"));
        if let Err(e) = other.verify(t0()) {
            panic!("?{wire} should canonicalise to {creq_query:?}: {e:?}");
        }
    }
    for (wire, canonical) in refuse {
        let other = req.clone().with_target(format!("/test.txt?{wire}"));
        let err = rejected(other.verify(t0()), "SignatureDoesNotMatch", 403);
        assert_eq!(server_creq_line(&err, 2), *canonical, "?{wire}");
    }
}

#[test]
fn rule_20_repeated_names_sort_by_value() {
    query_case(
        "partNumber=10&partNumber=2",
        "partNumber=10&partNumber=2",
        &["partNumber=2&partNumber=10"],
        &[("partNumber=10&partNumber=3", "partNumber=10&partNumber=3")],
    );
}

#[test]
fn rule_20_a_name_without_equals_is_name_equals_empty() {
    query_case(
        "a=",
        "a",
        &["a=", "a&", "&a"],
        &[("a=b", "a=b"), ("b", "b=")],
    );
    query_case("uploads=", "uploads", &["uploads="], &[]);
}

#[test]
fn rule_20_names_sort_bytewise_by_encoded_name() {
    query_case("A=2&b=1", "b=1&A=2", &["A=2&b=1"], &[]);
    // Case-sensitive: `B` (0x42) sorts before `a` (0x61).
    query_case("B=1&a=2", "a=2&B=1", &["B=1&a=2"], &[]);
    // By name, then value — not by the `name=value` string ('-' < '=').
    query_case("a=2&a-b=1", "a-b=1&a=2", &["a=2&a-b=1"], &[]);
}

#[test]
fn rule_20_plus_is_a_space_and_percent_2b_a_plus() {
    // Documented decision: `+` in the query decodes to a space (what form decoders see).
    query_case(
        "k=a%20b",
        "k=a+b",
        &["k=a%20b"],
        &[("k=a%2Bb", "k=a%2Bb"), ("k=a%2bb", "k=a%2Bb")],
    );
    query_case(
        "k=a%2Bb",
        "k=a%2Bb",
        &["k=a%2bb"],
        &[("k=a+b", "k=a%20b"), ("k=a%20b", "k=a%20b")],
    );
}

#[test]
fn rule_20_escapes_are_normalised() {
    query_case("k=~", "k=%7E", &["k=%7e", "k=~"], &[]);
    query_case("k=%2F", "k=/", &["k=%2F", "k=%2f"], &[]);
    query_case(
        "k=%C3%A9",
        "k=%c3%a9",
        &["k=%C3%A9"],
        &[("k=e%CC%81", "k=e%CC%81")],
    );
}

#[test]
fn rule_20_presigned_every_parameter_is_signed_but_the_signature() {
    let req = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt")
            .query(&[("x-id", "GetObject"), ("k", "a b")]),
        t0(),
    );
    assert_eq!(param(&req.target, "k").as_deref(), Some("a%20b"));
    accepted(req.verify(t0()));
    // `+` is a space here too.
    accepted(
        req.clone()
            .with_target(set_param(&req.target, "k", "a+b"))
            .verify(t0()),
    );
    for target in [
        set_param(&req.target, "k", "a%2Bb"),
        set_param(&req.target, "x-id", "PutObject"),
        add_param(&req.target, "response-content-type=text%2Fhtml"),
        add_param(&req.target, "x-id=GetObject"),
        drop_param(&req.target, "x-id"),
    ] {
        rejected(
            req.clone().with_target(target).verify(t0()),
            "SignatureDoesNotMatch",
            403,
        );
    }
}

#[test]
fn rule_21_canonical_uri_is_decoded_then_encoded_once() {
    // (wire path, canonical URI): no dot-segment removal, `//` kept, `+` a plus, `%2F` a
    // slash (decoded, then `/` kept — the documented S3 mode), escapes normalised.
    for (wire, canonical) in [
        ("/b//k", "/b//k"),
        ("/b/./k", "/b/./k"),
        ("/b/../c/k", "/b/../c/k"),
        ("/b/a%2Fb", "/b/a/b"),
        ("/b/%7E", "/b/~"),
        ("/b/~", "/b/~"),
        ("/b/a+b", "/b/a%2Bb"),
        ("/b/a%20b", "/b/a%20b"),
        ("/b/%C3%A9", "/b/%C3%A9"),
        ("/b/%c3%a9", "/b/%C3%A9"),
        ("/b/e%CC%81", "/b/e%CC%81"),
        ("/b/a%00", "/b/a%00"),
        ("/b/a%25b", "/b/a%25b"),
        ("/b/a$b", "/b/a%24b"),
        ("/b/k/", "/b/k/"),
    ] {
        let req = oracle_uri_query(wire, canonical, "");
        if let Err(e) = req.verify(t0()) {
            panic!("{wire} should canonicalise to {canonical}: {e:?}");
        }
    }
}

#[test]
fn rule_21_a_signature_binds_the_path_as_routed() {
    // (signed canonical URI, wire path that must NOT verify with it, what the server computes)
    for (signed, wire, server) in [
        ("/b/k", "/b//k", "/b//k"),
        ("/b/k", "/b/./k", "/b/./k"),
        ("/c/k", "/b/../c/k", "/b/../c/k"),
        ("/b/k", "/b/k/", "/b/k/"),
        ("/b/a%20b", "/b/a+b", "/b/a%2Bb"),
        ("/b/a%2Bb", "/b/a%20b", "/b/a%20b"),
        ("/b/%C3%A9", "/b/e%CC%81", "/b/e%CC%81"),
        ("/b/a", "/b/a%00", "/b/a%00"),
        ("/b/a%2Fb", "/b/a%2Fb", "/b/a/b"),
        ("/b/a%2525", "/b/a%25", "/b/a%25"),
    ] {
        let req = oracle_uri_query(wire, signed, "");
        let err = rejected(req.verify(t0()), "SignatureDoesNotMatch", 403);
        assert_eq!(server_creq_line(&err, 1), server, "{wire}");
    }
}

#[test]
fn rule_21_malformed_escapes_are_refused() {
    let req = header_get("/test.txt", t0());
    for target in ["/b/%zz", "/b/%2", "/b/a%", "/b?k=%G0"] {
        rejected(
            req.clone().with_target(target).verify(t0()),
            "InvalidArgument",
            400,
        );
    }
}

/// `GET /test.txt` with the base headers plus `extra` (wire), signed over `lines` (all header
/// lines, hand-written) and `signed`.
fn header_case(extra: &[(&str, &str)], lines: &str, signed: &str) -> Req {
    let mut headers = base_headers();
    headers.extend_from_slice(extra);
    let creq = creq_text("GET", "/test.txt", "", lines, signed);
    oracle_signed_creq("GET", "/test.txt", &headers, &creq, signed)
}

#[test]
fn rule_22_values_are_trimmed_and_inner_whitespace_collapsed() {
    let lines = format!("{}x-amz-meta-a:a b\n", base_lines());
    let signed = format!("{BASE_SIGNED};x-amz-meta-a");
    for value in ["  a   b ", "a b", "\ta \t b\t", "a\r\n b"] {
        let req = header_case(&[("X-Amz-Meta-A", value)], &lines, &signed);
        if let Err(e) = req.verify(t0()) {
            panic!("{value:?} should canonicalise to `a b`: {e:?}");
        }
    }
    let req = header_case(&[("X-Amz-Meta-A", "ab")], &lines, &signed);
    let err = rejected(req.verify(t0()), "SignatureDoesNotMatch", 403);
    assert!(server_creq(&err).contains("\nx-amz-meta-a:ab\n"));
}

#[test]
fn rule_22_repeated_headers_join_in_arrival_order() {
    let lines = format!("{}x-amz-meta-a:1,2\n", base_lines());
    let signed = format!("{BASE_SIGNED};x-amz-meta-a");
    accepted(
        header_case(
            &[("x-amz-meta-a", "1"), ("X-Amz-Meta-A", "2")],
            &lines,
            &signed,
        )
        .verify(t0()),
    );
    accepted(header_case(&[("x-amz-meta-a", "1,2")], &lines, &signed).verify(t0()));
    let err = rejected(
        header_case(
            &[("x-amz-meta-a", "2"), ("x-amz-meta-a", "1")],
            &lines,
            &signed,
        )
        .verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
    assert!(server_creq(&err).contains("\nx-amz-meta-a:2,1\n"));
}

#[test]
fn rule_22_header_values_never_come_from_the_query() {
    // Signed with x-amz-meta-a:v; the request carries it only as a query parameter.
    let lines = format!("{}x-amz-meta-a:v\n", base_lines());
    let signed = format!("{BASE_SIGNED};x-amz-meta-a");
    let creq = creq_text("GET", "/test.txt", "x-amz-meta-a=v", &lines, &signed);
    let req = oracle_signed_creq(
        "GET",
        "/test.txt?x-amz-meta-a=v",
        &base_headers(),
        &creq,
        &signed,
    );
    rejected(req.verify(t0()), "SignatureDoesNotMatch", 403);
    accepted(req.with_header("x-amz-meta-a", "v").verify(t0()));
}

#[test]
fn rule_22_host_is_verbatim_default_port_included() {
    let with_port = format!("{HOST}:443");
    let lines = |host: &str| {
        format!("host:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{T0}\n")
    };
    let signed_with_port = {
        let creq = creq_text("GET", "/test.txt", "", &lines(&with_port), BASE_SIGNED);
        oracle_signed_creq("GET", "/test.txt", &base_headers(), &creq, BASE_SIGNED)
            .replace_header("host", &with_port)
    };
    accepted(signed_with_port.verify(t0()));
    let err = rejected(
        signed_with_port.replace_header("host", HOST).verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
    assert!(server_creq(&err).contains(&format!("\nhost:{HOST}\n")));

    let signed_without = oracle_uri_query("/test.txt", "/test.txt", "");
    rejected(
        signed_without
            .replace_header("host", &with_port)
            .verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
}

#[test]
fn rule_22_routed_authority_stands_in_for_a_missing_host() {
    // HTTP/2: no Host header, the :authority is passed by the server.
    let req = oracle_uri_query("/test.txt", "/test.txt", "").without_header("host");
    accepted(req.clone().with_authority(HOST).verify(t0()));
    rejected(
        req.clone().with_authority("other.example").verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
    rejected(req.verify(t0()), "SignatureDoesNotMatch", 403);
}

#[test]
fn rule_23_header_auth_requires_x_amz_content_sha256() {
    let no_header = signer().with_content_sha256_header(false);
    let put = sign_with(
        &no_header,
        "PUT",
        "/test.txt",
        &[("content-length", "5")],
        PayloadHash::from_body(b"hello"),
        t0(),
    );
    assert_eq!(put.header("x-amz-content-sha256"), None);
    let err = rejected(put.verify(t0()), "InvalidRequest", 400);
    assert_eq!(
        err.message(),
        "Missing required header for this request: x-amz-content-sha256"
    );
    // A server that hashes the body itself (services other than S3) passes the hash in.
    let a = accepted(
        put.with_payload_hash(PayloadHash::from_body(b"hello"))
            .verify(t0()),
    );
    assert_eq!(a.payload, PayloadHash::from_body(b"hello"));
}

#[test]
fn rule_23_x_amz_content_sha256_values_are_checked() {
    let upper_63 = "E".repeat(63);
    let hex_65 = "e".repeat(65);
    let not_hex = "g".repeat(64);
    for value in [
        "unsigned-payload",
        "Unsigned-Payload",
        upper_63.as_str(),
        hex_65.as_str(),
        not_hex.as_str(),
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
        "streaming-aws4-hmac-sha256-payload",
        "",
    ] {
        // Signed with the value verbatim as the payload line.
        let req = oracle_header(
            "PUT",
            "/test.txt",
            &[
                ("host", HOST),
                ("x-amz-content-sha256", value),
                ("x-amz-date", T0),
            ],
            value,
            &format!("{AKID}/{SCOPE}"),
            DEFAULT_SIGNING,
        );
        rejected(req.verify(t0()), "InvalidArgument", 400);
    }
}

#[test]
fn rule_23_uppercase_hex_is_accepted_and_used_verbatim() {
    let upper = PayloadHash::from_body(b"hello").as_str().to_uppercase();
    let req = oracle_header(
        "PUT",
        "/test.txt",
        &[
            ("host", HOST),
            ("x-amz-content-sha256", &upper),
            ("x-amz-date", T0),
        ],
        &upper,
        &format!("{AKID}/{SCOPE}"),
        DEFAULT_SIGNING,
    );
    let a = accepted(req.verify(t0()));
    let mut body = a.body.expect("a body checker");
    body.update(b"hello");
    body.finish().expect("the body matches");
    // Verbatim: the lowercase form is a different canonical request.
    rejected(
        req.replace_header("x-amz-content-sha256", &upper.to_lowercase())
            .verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
}

#[test]
fn rule_23_presigned_payload_rules() {
    // UNSIGNED-PAYLOAD by default.
    let a = accepted(presigned_put().verify(t0()));
    assert_eq!(a.payload, PayloadHash::Unsigned);

    // A signed X-Amz-Content-Sha256 parameter binds the body.
    let hash = PayloadHash::from_body(b"hello");
    let req = presign_with(
        &signer(),
        &PresignRequest::new("PUT", "https", HOST, "/test.txt")
            .query(&[("X-Amz-Content-Sha256", hash.as_str())])
            .payload(hash),
        t0(),
    );
    let a = accepted(req.verify(t0()));
    assert_eq!(a.payload, hash);
    let err = check_body(a, &[b"hellx"]).expect_err("a different body");
    assert_eq!(
        (err.code(), err.status()),
        ("XAmzContentSHA256Mismatch", 400)
    );

    // Streaming values are refused on a presigned URL (each validly signed).
    for value in [
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "unsigned-payload",
    ] {
        let req = oracle_presigned(
            "/test.txt",
            &Params::standard().push("X-Amz-Content-Sha256", value),
            &[("host", HOST)],
            value,
            DEFAULT_SIGNING,
        );
        rejected(req.verify(t0()), "InvalidArgument", 400);
    }
}

/// A header-signed PUT of `signed_body`, declaring `content_length` if given.
fn signed_put(signed_body: &[u8], content_length: Option<&str>) -> Accepted {
    let extra: Vec<(&str, &str)> = content_length
        .map(|l| vec![("content-length", l)])
        .unwrap_or_default();
    let req = sign_with(
        &signer(),
        "PUT",
        "/test.txt",
        &extra,
        PayloadHash::from_body(signed_body),
        t0(),
    );
    accepted(req.verify(t0()))
}

fn check_body(a: Accepted, chunks: &[&[u8]]) -> Result<(), VerifyError> {
    let mut checker = a.body.expect("a body checker");
    for c in chunks {
        checker.update(c);
    }
    checker.finish()
}

#[test]
fn rule_24_body_hash_mismatch() {
    let err = check_body(signed_put(b"A", Some("1")), &[b"B"]).expect_err("mismatch");
    assert_eq!(
        (err.code(), err.status()),
        ("XAmzContentSHA256Mismatch", 400)
    );
    let xml = err.to_xml("r");
    assert!(xml.contains(&format!(
        "<ClientComputedContentSHA256>{}</ClientComputedContentSHA256>",
        PayloadHash::from_body(b"A")
    )));
    assert!(xml.contains(&format!(
        "<S3ComputedContentSHA256>{}</S3ComputedContentSHA256>",
        PayloadHash::from_body(b"B")
    )));
}

#[test]
fn rule_24_body_length_must_equal_content_length() {
    let err = check_body(signed_put(b"hello", Some("5")), &[b"hel", b"l"]).expect_err("short");
    assert_eq!((err.code(), err.status()), ("IncompleteBody", 400));
    assert_eq!(
        err,
        VerifyError::IncompleteBody {
            expected: 5,
            provided: 4
        }
    );
    let xml = err.to_xml("r");
    assert!(xml.contains("<NumberBytesExpected>5</NumberBytesExpected>"));
    assert!(xml.contains("<NumberBytesProvided>4</NumberBytesProvided>"));

    let err = check_body(signed_put(b"hello", Some("5")), &[b"hello", b"!"]).expect_err("long");
    assert_eq!(
        err,
        VerifyError::IncompleteBody {
            expected: 5,
            provided: 6
        }
    );
}

#[test]
fn rule_24_empty_body_with_non_empty_hash() {
    for length in [None, Some("0")] {
        let err = check_body(signed_put(b"A", length), &[]).expect_err("empty");
        assert_eq!(
            (err.code(), err.status()),
            ("XAmzContentSHA256Mismatch", 400)
        );
    }
    let err = check_body(signed_put(b"A", Some("1")), &[]).expect_err("empty");
    assert_eq!((err.code(), err.status()), ("IncompleteBody", 400));
}

#[test]
fn rule_24_matching_bodies_pass_and_unsigned_bodies_are_length_checked() {
    check_body(signed_put(b"hello", Some("5")), &[b"he", b"", b"llo"]).expect("matches");
    check_body(signed_put(b"", Some("0")), &[]).expect("empty matches");

    let unsigned = sign_with(
        &signer(),
        "PUT",
        "/test.txt",
        &[("content-length", "3")],
        PayloadHash::Unsigned,
        t0(),
    );
    check_body(accepted(unsigned.verify(t0())), &[b"any"]).expect("unsigned, right length");
    let err = check_body(accepted(unsigned.verify(t0())), &[b"an"]).expect_err("short");
    assert_eq!(err.code(), "IncompleteBody");

    // aws-chunked bodies are checked chunk by chunk, not here.
    let streaming = sign_with(
        &signer(),
        "PUT",
        "/test.txt",
        &[("x-amz-decoded-content-length", "5")],
        PayloadHash::StreamingSigned,
        t0(),
    );
    assert!(accepted(streaming.verify(t0())).body.is_none());
}

// Rule 25: signatures, session tokens and body hashes are compared in constant time
// (`Mac::verify_slice`, `constant_time_eq`, `token_matches` in `src/verify`) on decoded,
// fixed-length bytes. Timing cannot be asserted in a unit test; what can be:

#[test]
fn rule_25_a_signature_differing_only_in_the_last_nibble_fails() {
    let query = presign_get(t0());
    let flipped = flip_last_nibble(&query.query_signature());
    rejected(
        query
            .clone()
            .with_target(set_param(&query.target, "X-Amz-Signature", &flipped))
            .verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
    let header = header_get("/test.txt", t0());
    let auth = header.auth();
    let flipped = flip_last_nibble(&auth.signature);
    rejected(
        header
            .clone()
            .with_authorization(&auth.with_signature(&flipped).render())
            .verify(t0()),
        "SignatureDoesNotMatch",
        403,
    );
}

#[test]
fn rule_25_a_token_differing_only_in_the_last_byte_fails() {
    let v = temp_verifier(None);
    let token = format!("{}A", &TOKEN[..TOKEN.len() - 1]);
    for req in both_forms(&temp_signer(Some(&token)), t0()) {
        rejected(req.verify_with(&v, t0()), "InvalidToken", 400);
    }
}

/// Whether `T` implements `PartialEq`, without naming the trait bound at the call site (an
/// inherent associated const wins over the blanket trait's when its bound holds).
struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

trait NoPartialEq {
    const IMPLS_PARTIAL_EQ: bool = false;
}

impl<T: ?Sized> NoPartialEq for Probe<T> {}

impl<T: ?Sized + PartialEq> Probe<T> {
    #[allow(dead_code)]
    const IMPLS_PARTIAL_EQ: bool = true;
}

// The same, at compile time: adding `PartialEq` to `Signature` breaks the build of this test.
const _: () = assert!(!<Probe<presign::Signature>>::IMPLS_PARTIAL_EQ);

#[test]
fn rule_25_signature_types_have_no_partial_eq() {
    // [probe sanity (u8 has PartialEq), Signature, SignatureHex, SigningKey]
    let impls = [
        <Probe<u8>>::IMPLS_PARTIAL_EQ,
        <Probe<presign::Signature>>::IMPLS_PARTIAL_EQ,
        <Probe<presign::SignatureHex>>::IMPLS_PARTIAL_EQ,
        <Probe<presign::SigningKey>>::IMPLS_PARTIAL_EQ,
    ];
    assert_eq!(impls, [true, false, false, false]);
    // Signature comparison goes through the constant-time `verify_hex`.
    let sig = presign::SigningKey::from_bytes([7; 32]).sign(b"x");
    assert!(sig.verify_hex(sig.to_hex().as_str()));
    assert!(!sig.verify_hex(&flip_last_nibble(sig.to_hex().as_str())));
    assert!(!sig.verify_hex(&sig.to_hex().as_str().to_uppercase()));
}

/// Space-separated lowercase hex, as AWS prints `CanonicalRequestBytes`.
fn spaced_hex(s: &str) -> String {
    s.bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn element<'x>(xml: &'x str, name: &str) -> &'x str {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open).map(|i| i + open.len()).expect(name);
    let end = xml[start..].find(&close).expect(name) + start;
    &xml[start..end]
}

#[test]
fn rule_26_signature_mismatch_carries_the_canonical_request_and_string_to_sign() {
    // Header form: signed for /test.txt?a=1&b=2, sent for /other.txt?a=1&b=2.
    let signed = header_get("/test.txt?a=1&b=2", t0());
    let sent = signed.clone().with_target("/other.txt?a=1&b=2");
    let err = rejected(sent.verify(t0()), "SignatureDoesNotMatch", 403);

    let expected_creq = with_payload_line(
        &creq_text(
            "GET",
            "/other.txt",
            "a=1&b=2",
            &format!(
                "host:{HOST}\nx-amz-content-sha256:{}\nx-amz-date:{T0}\n",
                PayloadHash::empty()
            ),
            BASE_SIGNED,
        ),
        PayloadHash::empty().as_str(),
    );
    let VerifyError::SignatureDoesNotMatch {
        access_key_id,
        string_to_sign,
        canonical_request,
        signature_provided,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(access_key_id, AKID);
    assert_eq!(canonical_request, &expected_creq);
    assert_eq!(string_to_sign, &oracle_sts(T0, SCOPE, &expected_creq));
    assert_eq!(signature_provided, &signed.auth().signature);

    let full = err.to_xml_with_diagnostics("req-1");
    assert_eq!(element(&full, "Code"), "SignatureDoesNotMatch");
    assert_eq!(element(&full, "AWSAccessKeyId"), AKID);
    assert_eq!(
        element(&full, "CanonicalRequestBytes"),
        spaced_hex(&expected_creq)
    );
    assert_eq!(
        element(&full, "StringToSignBytes"),
        spaced_hex(string_to_sign)
    );
    // The text elements are XML-escaped (`&` in the query); the bytes are of the raw text.
    assert_eq!(
        element(&full, "CanonicalRequest"),
        expected_creq.replace('&', "&amp;")
    );
    assert_eq!(element(&full, "SignatureProvided"), signed.auth().signature);

    let plain = err.to_xml("req-1");
    assert_eq!(element(&plain, "Code"), "SignatureDoesNotMatch");
    for hidden in [
        "CanonicalRequest",
        "StringToSign",
        "CanonicalRequestBytes",
        "StringToSignBytes",
    ] {
        assert!(
            !plain.contains(&format!("<{hidden}>")),
            "{hidden} in {plain}"
        );
    }
}

#[test]
fn rule_26_presigned_diagnostics_exclude_only_the_signature_and_plain_xml_hides_the_token() {
    let v = temp_verifier(None);
    let req = presign_with(
        &temp_signer(Some(TOKEN)),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    let tampered = req
        .clone()
        .with_target(req.target.replace("/test.txt", "/other.txt"));
    let err = rejected(tampered.verify_with(&v, t0()), "SignatureDoesNotMatch", 403);
    let query_line = server_creq_line(&err, 2);
    for name in [
        "X-Amz-Algorithm=",
        "X-Amz-Credential=",
        "X-Amz-Date=",
        "X-Amz-Expires=",
        "X-Amz-Security-Token=",
        "X-Amz-SignedHeaders=",
    ] {
        assert!(
            query_line.contains(name),
            "{name} missing from {query_line}"
        );
    }
    assert!(!query_line.contains("X-Amz-Signature"));
    let expected = drop_param(&tampered.target, "X-Amz-Signature");
    let (expected_creq, _) = creq_of("GET", &expected, &[("host", HOST)]);
    assert_eq!(server_creq(&err), expected_creq);
    let full = err.to_xml_with_diagnostics("r");
    assert_eq!(
        element(&full, "CanonicalRequestBytes"),
        spaced_hex(&expected_creq)
    );
    // The token is in the canonical request: never in the plain body.
    let encoded_token = param(&req.target, "X-Amz-Security-Token").expect("token");
    assert!(full.contains(&encoded_token));
    assert!(!err.to_xml("r").contains(&encoded_token));
}

// =============================================================================================
// G. Resources and integration
// =============================================================================================

#[test]
fn rule_42_query_pair_count_is_bounded() {
    let pairs: Vec<String> = (0..MAX_QUERY_PAIRS).map(|i| format!("p{i:02}=v")).collect();
    let target = format!("/test.txt?{}", pairs.join("&"));
    let req = header_get(&target, t0());
    accepted(req.verify(t0()));
    let over = req.clone().with_target(format!("{target}&one=more"));
    rejected(over.verify(t0()), "RequestHeaderSectionTooLarge", 400);

    // Presigned: six auth parameters plus the caller's, at and over the limit.
    let user: Vec<(String, String)> = (0..MAX_QUERY_PAIRS - 6)
        .map(|i| (format!("p{i:02}"), "v".to_owned()))
        .collect();
    let user_refs: Vec<(&str, &str)> = user.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let presigned = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").query(&user_refs),
        t0(),
    );
    accepted(presigned.verify(t0()));
    let over = presigned
        .clone()
        .with_target(add_param(&presigned.target, "one=more"));
    rejected(over.verify(t0()), "RequestHeaderSectionTooLarge", 400);
    // Empty segments are not pairs, and many of them are no way around the limit either.
    let padded = presigned
        .clone()
        .with_target(format!("{}{}", presigned.target, "&".repeat(1000)));
    accepted(padded.verify(t0()));
}

#[test]
fn rule_42_header_count_is_bounded() {
    let req = header_get("/test.txt", t0()); // host, x-amz-date, x-amz-content-sha256, auth
    let mut at_limit = req.clone();
    let pads = MAX_HEADERS - req.headers.len();
    for i in 0..pads {
        at_limit = at_limit.with_header(&format!("x-pad-{i}"), "v");
    }
    assert_eq!(at_limit.headers.len(), MAX_HEADERS);
    accepted(at_limit.verify(t0()));
    let over = at_limit.with_header("x-pad-over", "v");
    rejected(over.verify(t0()), "RequestHeaderSectionTooLarge", 400);
}

#[test]
fn rule_42_target_length_is_bounded() {
    let path = format!("/{}", "a".repeat(MAX_REQUEST_TARGET_LEN - 1));
    let req = header_get(&path, t0());
    accepted(req.verify(t0()));
    let over = req.with_target(format!("{path}a"));
    rejected(over.verify(t0()), "RequestHeaderSectionTooLarge", 400);
}

#[test]
fn rule_42_authorization_length_is_bounded() {
    // A valid header-signed GET whose Authorization header is exactly `len` bytes long: the
    // length is tuned through the name of one signed header.
    let signed_get = |len: usize| -> Req {
        let build = |last: &str| {
            let mut names: Vec<String> = (0..30)
                .map(|i| format!("x-pad{i:02}-{}", "a".repeat(90)))
                .collect();
            names.push(format!("x-zz{last}"));
            let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
            sign_with(
                &signer(),
                "GET",
                "/test.txt",
                &headers,
                PayloadHash::empty(),
                t0(),
            )
        };
        let probe = build("").header("authorization").expect("auth").len();
        let req = build(&"z".repeat(len - probe));
        assert_eq!(req.header("authorization").expect("auth").len(), len);
        req
    };
    accepted(signed_get(MAX_AUTHORIZATION_LEN).verify(t0()));
    rejected(
        signed_get(MAX_AUTHORIZATION_LEN + 1).verify(t0()),
        "RequestHeaderSectionTooLarge",
        400,
    );
    let req = header_get("/test.txt", t0());
    let auth = req.header("authorization").expect("auth").to_owned();
    let huge = format!("{auth}, Foo={}", "x".repeat(1 << 20));
    rejected(
        req.with_authorization(&huge).verify(t0()),
        "RequestHeaderSectionTooLarge",
        400,
    );
}

#[test]
fn rule_42_signed_header_count_is_bounded() {
    // At the limit: host plus 63 signed headers, presigned.
    let extra: Vec<(String, String)> = (0..MAX_SIGNED_HEADERS - 1)
        .map(|i| (format!("x-h{i:03}"), "v".to_owned()))
        .collect();
    let extra_refs: Vec<(&str, &str)> = extra
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let presigned = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", HOST, "/test.txt").headers(&extra_refs),
        t0(),
    );
    let a = accepted(presigned.verify(t0()));
    assert_eq!(a.signed_headers.len(), MAX_SIGNED_HEADERS);

    // Over it: 65 sorted names.
    let names: Vec<String> = (0..=MAX_SIGNED_HEADERS)
        .map(|i| format!("h{i:03}"))
        .collect();
    let list = format!("{};host", names.join(";"));
    let req = header_get("/test.txt", t0());
    let bad = req
        .clone()
        .with_authorization(&req.auth().with_signed_headers(&list).render());
    rejected(bad.verify(t0()), "RequestHeaderSectionTooLarge", 400);
    let query = oracle_presigned_get(
        &Params::standard().set("X-Amz-SignedHeaders", &list.replace(';', "%3B")),
        DEFAULT_SIGNING,
    );
    rejected(query.verify(t0()), "RequestHeaderSectionTooLarge", 400);
}

#[test]
fn rule_42_credential_and_token_lengths_are_bounded() {
    let long_akid = "A".repeat(300);
    let req = oracle_presigned_get(
        &Params::standard().set("X-Amz-Credential", &credential_param(&long_akid, SCOPE)),
        DEFAULT_SIGNING,
    );
    rejected(req.verify(t0()), "AuthorizationQueryParametersError", 400);

    let token = "t".repeat(MAX_SESSION_TOKEN_LEN * 3 + 1);
    let req = oracle_presigned_get(
        &Params::standard().set("X-Amz-Security-Token", &token),
        DEFAULT_SIGNING,
    );
    rejected(req.verify(t0()), "InvalidToken", 400);
}

#[test]
fn rule_42_a_huge_declared_body_with_a_bogus_signature_is_refused_without_a_body() {
    // The verifier never takes a body: a 5 GB declaration is refused on the headers alone.
    let put = sign_with(
        &signer(),
        "PUT",
        "/test.txt",
        &[("content-length", "5000000000")],
        PayloadHash::from_body(b"irrelevant"),
        t0(),
    );
    let bogus = put
        .clone()
        .with_authorization(&put.auth().with_signature(BOGUS_SIG).render());
    rejected(bogus.verify(t0()), "SignatureDoesNotMatch", 403);
    // With a valid signature the length is reported, and the checker holds no body.
    let a = accepted(put.verify(t0()));
    assert_eq!(a.content_length, Some(5_000_000_000));
    let err = check_body(a, &[b"0123456789"]).expect_err("short");
    assert_eq!(
        err,
        VerifyError::IncompleteBody {
            expected: 5_000_000_000,
            provided: 10
        }
    );
    // An unreadable length is an error, not a panic.
    let bad = sign_with(
        &signer(),
        "PUT",
        "/test.txt",
        &[("content-length", "99999999999999999999999")],
        PayloadHash::Unsigned,
        t0(),
    );
    rejected(bad.verify(t0()), "InvalidArgument", 400);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Rule 42: whatever arrives, verification returns an error or a verified request — it
    /// never panics.
    #[test]
    fn rule_42_arbitrary_requests_never_panic(
        target in "/[ -~]{0,80}",
        auth in "(AWS4-HMAC-SHA256 )?[ -~]{0,120}",
        date in "[0-9TZ]{0,18}",
        sha in "[ -~]{0,70}",
        extra in proptest::collection::vec(("[a-zA-Z-]{1,12}", "[ -~]{0,20}"), 0..6),
    ) {
        let mut headers = vec![
            ("host".to_owned(), HOST.to_owned()),
            ("authorization".to_owned(), auth),
            ("x-amz-date".to_owned(), date),
            ("x-amz-content-sha256".to_owned(), sha),
        ];
        headers.extend(extra);
        let req = Req { method: "GET".into(), target, headers, authority: None, payload: None };
        let _ = req.verify(t0());
        let _ = req.clone().without_header("authorization").verify(t0());
    }
}

#[test]
fn rule_43_verifier_output_is_data_not_request_headers() {
    // A client-set `x-amz-signature-age` neither authenticates nor survives unsigned: the
    // verifier reads headers by shared reference and returns its findings in `VerifiedRequest`.
    let anonymous = Req::new(
        "GET",
        "/test.txt",
        &[("host", HOST), ("x-amz-signature-age", "0")],
    );
    assert_eq!(anonymous.detect(), Ok(Mechanism::Anonymous));
    rejected(anonymous.verify(t0()), "AccessDenied", 403);

    let header = header_get("/test.txt", t0()).with_header("x-amz-signature-age", "0");
    let err = rejected(header.verify(t0()), "AccessDenied", 403);
    assert_eq!(
        err,
        VerifyError::HeadersNotSigned {
            headers: vec!["x-amz-signature-age".into()]
        }
    );
    let presigned = presign_get(t0()).with_header("x-amz-signature-age", "0");
    rejected(presigned.verify(t0()), "AccessDenied", 403);
}

#[test]
fn rule_44_authentication_is_documented_as_not_authorization() {
    let docs = include_str!("../src/verify/mod.rs");
    assert!(
        docs.contains("authentication only: authorize every verified request yourself"),
        "the verify module docs must tell embedders to authorize every verified request"
    );
    // What a verified request offers is identity and scope, with no notion of permission:
    // a valid signature on a PUT is "this key signed it", for every payload mode.
    for (payload, extra) in payload_modes() {
        let a =
            accepted(sign_with(&signer(), "PUT", "/test.txt", &extra, payload, t0()).verify(t0()));
        assert_eq!(a.access_key_id, AKID);
    }
}

#[test]
fn rule_45_host_binds_the_signature() {
    // Signed for a.example; sent with Host: b.example and a client-set X-Forwarded-Host.
    let presigned = presign_with(
        &signer(),
        &PresignRequest::new("GET", "https", "a.example", "/test.txt"),
        t0(),
    );
    accepted(presigned.verify(t0()));
    let moved = presigned
        .replace_header("host", "b.example")
        .with_header("x-forwarded-host", "a.example");
    let err = rejected(moved.verify(t0()), "SignatureDoesNotMatch", 403);
    assert!(server_creq(&err).contains("\nhost:b.example\n"));

    let header = sign_full(
        &signer(),
        "GET",
        "/test.txt",
        &[("host", "a.example")],
        PayloadHash::empty(),
        t0(),
    );
    accepted(header.verify(t0()));
    let moved = header
        .replace_header("host", "b.example")
        .with_header("x-forwarded-host", "a.example")
        .with_header("forwarded", "host=a.example");
    rejected(moved.verify(t0()), "SignatureDoesNotMatch", 403);
}

#[test]
fn rule_46_signature_version_2_is_refused() {
    // Documented decision: SigV2 is "not supported" (400 InvalidRequest).
    let query = Req::new(
        "GET",
        "/test.txt?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1705323600&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D",
        &[("host", HOST)],
    );
    assert_eq!(query.detect(), Ok(Mechanism::PresignedQuery));
    let err = rejected(query.verify(t0()), "InvalidRequest", 400);
    assert_eq!(err, VerifyError::UnsupportedMechanism);

    let header = Req::new(
        "GET",
        "/test.txt",
        &[
            ("host", HOST),
            ("date", "Mon, 15 Jan 2024 12:00:00 GMT"),
            (
                "authorization",
                "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
            ),
        ],
    );
    let err = rejected(header.verify(t0()), "InvalidRequest", 400);
    assert_eq!(err, VerifyError::UnsupportedMechanism);

    // SigV2 parameters riding on a valid SigV4 URL.
    let v4 = presign_get(t0());
    for pair in ["Signature=abc", "AWSAccessKeyId=AKIAI44QH8DHBEXAMPLE"] {
        let mixed = v4.clone().with_target(add_param(&v4.target, pair));
        rejected(mixed.verify(t0()), "InvalidRequest", 400);
    }
}

// =============================================================================================
// Credential store: revocation, rotation
// =============================================================================================

#[test]
fn removing_a_key_revokes_its_urls() {
    let v = verifier();
    let query = presign_get(t0());
    let header = header_get("/test.txt", t0());
    accepted(query.verify_with(&v, t0()));
    accepted(header.verify_with(&v, t0()));
    assert!(v.store().remove(AKID));
    for req in [&query, &header] {
        let err = rejected(req.verify_with(&v, t0()), "InvalidAccessKeyId", 403);
        assert_eq!(
            err,
            VerifyError::InvalidAccessKeyId {
                access_key_id: AKID.into()
            }
        );
        assert!(
            err.to_xml("r")
                .contains(&format!("<AWSAccessKeyId>{AKID}</AWSAccessKeyId>"))
        );
    }
    // Other keys are unaffected; re-adding the key restores its URLs.
    accepted(
        presign_with(
            &signer_for(AKID_B, SECRET_B, REGION),
            &PresignRequest::new("GET", "https", HOST, "/test.txt"),
            t0(),
        )
        .verify_with(&v, t0()),
    );
    v.store()
        .insert(AKID, StoredCredential::new(SECRET).expect("cred"))
        .expect("insert");
    accepted(query.verify_with(&v, t0()));
}

#[test]
fn rotating_a_secret_revokes_urls_signed_with_the_old_one() {
    let v = verifier();
    let old_query = presign_get(t0());
    let old_header = header_get("/test.txt", t0());
    // Verify first, so that the derived key is cached.
    accepted(old_query.verify_with(&v, t0()));
    accepted(old_header.verify_with(&v, t0()));

    const NEW_SECRET: &str = "rotated/secret/key";
    v.store()
        .insert(AKID, StoredCredential::new(NEW_SECRET).expect("cred"))
        .expect("insert");
    for req in [&old_query, &old_header] {
        rejected(req.verify_with(&v, t0()), "SignatureDoesNotMatch", 403);
    }
    let rotated = signer_for(AKID, NEW_SECRET, REGION);
    accepted(
        presign_with(
            &rotated,
            &PresignRequest::new("GET", "https", HOST, "/test.txt"),
            t0(),
        )
        .verify_with(&v, t0()),
    );
    accepted(
        sign_with(
            &rotated,
            "GET",
            "/test.txt",
            &[],
            PayloadHash::empty(),
            t0(),
        )
        .verify_with(&v, t0()),
    );
    // Rotating back restores the old URLs (and never the other way round).
    v.store()
        .insert(AKID, StoredCredential::new(SECRET).expect("cred"))
        .expect("insert");
    accepted(old_query.verify_with(&v, t0()));
}

#[test]
fn temporary_credentials_can_be_revoked_and_replaced() {
    let v = temp_verifier(None);
    let req = presign_with(
        &temp_signer(Some(TOKEN)),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    accepted(req.verify_with(&v, t0()));
    // Same key id and secret, new session token: the old token no longer verifies.
    v.store()
        .insert(
            AKID_TEMP,
            StoredCredential::temporary(SECRET_TEMP, "new-token", None).expect("temp"),
        )
        .expect("insert");
    rejected(req.verify_with(&v, t0()), "InvalidToken", 400);
    v.store().remove(AKID_TEMP);
    rejected(req.verify_with(&v, t0()), "InvalidAccessKeyId", 403);
}

/// A store that counts its lookups, with a generation the test controls (or none).
struct CountingStore {
    inner: InMemoryCredentials,
    lookups: AtomicUsize,
    generation: Option<AtomicU64>,
}

impl CountingStore {
    fn new(inner: InMemoryCredentials, versioned: bool) -> Self {
        CountingStore {
            inner,
            lookups: 0.into(),
            generation: versioned.then(|| 0.into()),
        }
    }

    fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }

    fn bump(&self) {
        if let Some(g) = &self.generation {
            g.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl CredentialStore for CountingStore {
    fn lookup(&self, access_key_id: &str, found: &mut dyn FnMut(&StoredCredential)) {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.lookup(access_key_id, found);
    }

    fn generation(&self) -> Option<u64> {
        self.generation.as_ref().map(|g| g.load(Ordering::SeqCst))
    }
}

#[test]
fn a_thread_reuses_a_static_key_only_while_the_store_generation_holds() {
    let query = presign_get(t0());
    let header = header_get("/test.txt", t0());

    // With a generation: the store is asked once for requests with the same credential.
    let v = Verifier::new(CountingStore::new(store(), true), VerifierConfig::default());
    accepted(query.verify_with(&v, t0()));
    accepted(query.verify_with(&v, t0()));
    accepted(header.verify_with(&v, t0()));
    assert_eq!(v.store().lookups(), 1);
    // A new generation: asked again, then remembered again.
    v.store().bump();
    accepted(query.verify_with(&v, t0()));
    accepted(query.verify_with(&v, t0()));
    assert_eq!(v.store().lookups(), 2);
    // Another credential (key, date or region) is looked up.
    let other = presign_with(
        &signer_for(AKID_B, SECRET_B, REGION),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    accepted(other.verify_with(&v, t0()));
    let next_day = at(86_400);
    accepted(presign_get(next_day).verify_with(&v, next_day));
    assert_eq!(v.store().lookups(), 4);

    // A change the store makes visible before its generation moves is seen from that
    // generation on: here the key is removed from the inner store, then the number moves.
    accepted(query.verify_with(&v, t0()));
    assert!(v.store().inner.remove(AKID));
    v.store().bump();
    rejected(query.verify_with(&v, t0()), "InvalidAccessKeyId", 403);

    // Without a generation: asked every time.
    let v = Verifier::new(
        CountingStore::new(store(), false),
        VerifierConfig::default(),
    );
    for _ in 0..3 {
        accepted(query.verify_with(&v, t0()));
    }
    assert_eq!(v.store().lookups(), 3);
}

#[test]
fn a_remembered_key_is_never_used_by_another_verifier() {
    // Two stores, the same access key id with different secrets: what one verifier's store
    // accepts, the other's refuses, in any order on one thread.
    let other_store = InMemoryCredentials::new();
    other_store
        .insert(AKID, StoredCredential::new(SECRET_B).expect("cred"))
        .expect("insert");
    let ours = verifier();
    let theirs = Verifier::new(other_store, VerifierConfig::default());
    let query = presign_get(t0());
    let alternate = |ours: &Verifier<InMemoryCredentials>, theirs| {
        for _ in 0..2 {
            accepted(query.verify_with(ours, t0()));
            rejected(
                query.verify_with(theirs, t0()),
                "SignatureDoesNotMatch",
                403,
            );
        }
    };
    alternate(&ours, &theirs);
    // Stores count their changes from zero, so two generations can be equal: still apart.
    theirs
        .store()
        .insert(AKID_B, StoredCredential::new(SECRET_B).expect("cred"))
        .expect("insert");
    assert_eq!(ours.store().generation(), theirs.store().generation());
    alternate(&ours, &theirs);
}

#[test]
fn a_key_rotated_on_another_thread_is_not_used_by_a_thread_that_remembered_it() {
    use std::sync::mpsc;
    let v = verifier();
    let query = presign_get(t0());
    let (to_worker, worker_rx) = mpsc::channel::<()>();
    let (to_main, main_rx) = mpsc::channel::<Result<(), VerifyError>>();
    std::thread::scope(|scope| {
        let (v, query) = (&v, &query);
        scope.spawn(move || {
            // Remembers the key, waits for the rotation, verifies again.
            let _ = to_main.send(query.verify_with(v, t0()).map(drop));
            let _ = worker_rx.recv();
            let _ = to_main.send(query.verify_with(v, t0()).map(drop));
        });
        assert_eq!(main_rx.recv().expect("first"), Ok(()));
        v.store()
            .insert(AKID, StoredCredential::new("rotated/secret").expect("cred"))
            .expect("insert");
        to_worker.send(()).expect("send");
        let after = main_rx.recv().expect("second");
        assert!(
            matches!(after, Err(VerifyError::SignatureDoesNotMatch { .. })),
            "{after:?}"
        );
    });
}

#[test]
fn temporary_credentials_are_looked_up_on_every_request() {
    let store = InMemoryCredentials::new();
    store
        .insert(
            AKID_TEMP,
            StoredCredential::temporary(SECRET_TEMP, TOKEN, Some(at(60))).expect("temp"),
        )
        .expect("insert");
    let v = Verifier::new(CountingStore::new(store, true), VerifierConfig::default());
    let req = presign_with(
        &temp_signer(Some(TOKEN)),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    accepted(req.verify_with(&v, t0()));
    accepted(req.verify_with(&v, t0()));
    assert_eq!(v.store().lookups(), 2);
    // So their expiry is checked on each.
    rejected(req.verify_with(&v, at(60)), "ExpiredToken", 400);

    // And their token, also when they do not expire.
    v.store()
        .inner
        .insert(
            AKID_TEMP,
            StoredCredential::temporary(SECRET_TEMP, TOKEN, None).expect("temp"),
        )
        .expect("insert");
    v.store().bump();
    accepted(req.verify_with(&v, t0()));
    accepted(req.verify_with(&v, t0()));
    let other_token = presign_with(
        &temp_signer(Some("another-token")),
        &PresignRequest::new("GET", "https", HOST, "/test.txt"),
        t0(),
    );
    rejected(other_token.verify_with(&v, t0()), "InvalidToken", 400);
    assert_eq!(v.store().lookups(), 6);
}

/// Rule 42, signer side: the presigner leaves room for its own auth parameters, so every URL
/// it makes is within the verifier's query limit — and one parameter more is refused up front.
#[test]
fn rule_42_presigner_respects_the_verifiers_query_limit() {
    let limit = MAX_QUERY_PAIRS - 6;
    let names: Vec<String> = (0..=limit).map(|i| format!("p{i:03}")).collect();
    let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    let at_limit = PresignRequest::new("GET", "https", HOST, "/k").query(&pairs[..limit]);
    let url = signer().presign(&at_limit, t0()).unwrap();
    let target = url
        .url()
        .strip_prefix(&format!("https://{HOST}"))
        .unwrap()
        .to_owned();
    let headers = [("host", HOST)];
    assert!(
        verifier()
            .verify(&IncomingRequest::new("GET", &target, &headers[..]), t0())
            .is_ok()
    );
    let past = PresignRequest::new("GET", "https", HOST, "/k").query(&pairs);
    assert!(matches!(
        signer().presign(&past, t0()),
        Err(presign::Error::TooMany { .. })
    ));
}
