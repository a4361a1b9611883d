//! Round trip: every request the signer produces verifies; changing any signed part fails.
//! 10 000 cases per property (override with PROPTEST_CASES).

use presign::verify::{
    InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig,
};
use presign::{
    Credentials, Expiry, PayloadHash, PresignRequest, SignableRequest, Signer, SigningTime,
};
use proptest::prelude::*;

const AKID: &str = "AKIDROUNDTRIP";
const SECRET: &str = "round/trip+secret";

fn verifier(token: Option<&str>) -> Verifier<InMemoryCredentials> {
    let store = InMemoryCredentials::new();
    let cred = match token {
        Some(t) => StoredCredential::temporary(SECRET, t, None).unwrap(),
        None => StoredCredential::new(SECRET).unwrap(),
    };
    store.insert(AKID, cred).unwrap();
    Verifier::new(
        store,
        VerifierConfig::default().regions(["us-east-1", "eu-west-1"]),
    )
}

fn signer(token: Option<&str>, region: &str) -> Signer {
    let creds = Credentials::new(AKID, SECRET).unwrap();
    let creds = match token {
        Some(t) => creds.with_session_token(t).unwrap(),
        None => creds,
    };
    Signer::new(creds, region, "s3").unwrap()
}

fn text() -> impl Strategy<Value = String> {
    // Unreserved, reserved, percent, plus, space, unicode and emoji.
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(vec!['A', 'Z', '0', '9', '-', '.', '_', '~', ' ', '+', '%', '/', '?', '#', '&', '=', ':', '@', '!', '*', '(', ')', '\'', ',', ';', '$', 'é', '日', '😀']),
        ],
        1..24,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn header_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ;=/+.,_-]{1,20}".prop_map(|s| {
        let t = s.trim().to_owned();
        if t.is_empty() { "v".to_owned() } else { t }
    })
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    key: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    token: Option<String>,
    region: &'static str,
    expires: u64,
    time: i64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(vec!["GET", "PUT", "HEAD", "DELETE", "POST"]),
        text(),
        proptest::collection::vec((text(), proptest::option::of(text())), 0..4),
        proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "content-type",
                    "x-amz-meta-a",
                    "x-amz-acl",
                    "range",
                    "content-md5",
                    "x-amz-meta-b",
                ]),
                header_value(),
            ),
            0..3,
        ),
        proptest::option::of("[A-Za-z0-9/+=]{8,40}"),
        proptest::sample::select(vec!["us-east-1", "eu-west-1"]),
        1u64..=604_800,
        946_684_800i64..4_102_444_800,
    )
        .prop_map(
            |(method, key, query, headers, token, region, expires, time)| {
                let mut seen = std::collections::HashSet::new();
                let headers = headers
                    .into_iter()
                    .filter(|(n, _)| seen.insert(*n))
                    .map(|(n, v)| (n.to_owned(), v))
                    .collect();
                let query = query
                    .into_iter()
                    .filter(|(n, _)| {
                        !n.to_ascii_lowercase().starts_with("x-amz-")
                            && n != "AWSAccessKeyId"
                            && n != "Signature"
                    })
                    .map(|(n, v)| (n, v.unwrap_or_default()))
                    .collect();
                Case {
                    method,
                    key,
                    query,
                    headers,
                    token,
                    region,
                    expires,
                    time,
                }
            },
        )
}

struct Presigned {
    authority: String,
    target: String,
    headers: Vec<(String, String)>,
    now: SigningTime,
}

fn presign(c: &Case) -> Presigned {
    let signer = signer(c.token.as_deref(), c.region);
    let authority = "bucket.s3.example.com".to_owned();
    let path = {
        let mut p = String::from("/");
        for chunk in percent_encoding::utf8_percent_encode(&c.key, &KEY_SET) {
            p.push_str(chunk);
        }
        p
    };
    let query: Vec<(&str, &str)> = c
        .query
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let headers: Vec<(&str, &str)> = c
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let now = SigningTime::from_unix_timestamp(c.time).unwrap();
    let req = PresignRequest::new(c.method, "https", &authority, &path)
        .query(&query)
        .headers(&headers)
        .expires(Expiry::from_secs(c.expires).unwrap());
    let url = signer.presign(&req, now).unwrap();
    let returned: Vec<(String, String)> = url
        .headers()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(returned.len(), c.headers.len());
    let target = url
        .url()
        .strip_prefix("https://bucket.s3.example.com")
        .unwrap()
        .to_owned();
    let mut all = vec![("host".to_owned(), authority.clone())];
    all.extend(returned);
    Presigned {
        authority,
        target,
        headers: all,
        now,
    }
}

const KEY_SET: percent_encoding::AsciiSet = percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

fn run(
    v: &Verifier<InMemoryCredentials>,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    now: SigningTime,
) -> Result<String, String> {
    let hs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    v.verify(&IncomingRequest::new(method, target, &hs[..]), now)
        .map(|ok| ok.access_key_id().to_owned())
        .map_err(|e| e.code().to_owned())
}

/// Replaces the value of query parameter `name` in `target`.
fn replace_param(target: &str, name: &str, f: impl Fn(&str) -> String) -> String {
    let (path, query) = target.split_once('?').unwrap();
    let pairs: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if k == name => format!("{k}={}", f(v)),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

fn other_hex(c: char) -> char {
    if c == '0' { '1' } else { '0' }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
    ))]

    #[test]
    fn presigned_round_trip(c in case()) {
        let v = verifier(c.token.as_deref());
        let p = presign(&c);
        // Verifies, with the signer's identity, anywhere inside the window.
        prop_assert_eq!(run(&v, c.method, &p.target, &p.headers, p.now), Ok(AKID.to_owned()));
        let last = p.now.add_seconds(c.expires as i64);
        prop_assert_eq!(run(&v, c.method, &p.target, &p.headers, last), Ok(AKID.to_owned()));
        prop_assert!(run(&v, c.method, &p.target, &p.headers, last.add_seconds(1)).is_err());

        // Any change to a signed part fails.
        // (target, headers, what was changed)
        type Tampered = (String, Vec<(String, String)>, String);
        let mut tampered: Vec<Tampered> = Vec::new();
        let (path, query) = p.target.split_once('?').unwrap();
        tampered.push((format!("{path}x?{query}"), p.headers.clone(), "path".into()));
        for (name, _) in &c.query {
            let enc: String = percent_encoding::utf8_percent_encode(name, &KEY_SET).to_string().replace('/', "%2F");
            tampered.push((replace_param(&p.target, &enc, |v| format!("{v}x")), p.headers.clone(), format!("query {name}")));
        }
        tampered.push((format!("{}&extra=1", p.target), p.headers.clone(), "added param".into()));
        for i in 1..p.headers.len() {
            let mut hs = p.headers.clone();
            hs[i].1.push('x');
            tampered.push((p.target.clone(), hs, format!("header {}", p.headers[i].0)));
        }
        let mut other_host = p.headers.clone();
        other_host[0].1 = "bucket2.s3.example.com".into();
        tampered.push((p.target.clone(), other_host, "host".into()));
        let later = p.now.add_seconds(1).amz_date();
        tampered.push((replace_param(&p.target, "X-Amz-Date", |_| later.as_str().to_owned()), p.headers.clone(), "date".into()));
        let new_expires = if c.expires == 604_800 { c.expires - 1 } else { c.expires + 1 };
        tampered.push((replace_param(&p.target, "X-Amz-Expires", |_| new_expires.to_string()), p.headers.clone(), "expires".into()));
        tampered.push((replace_param(&p.target, "X-Amz-Credential", |v| v.replacen("AKID", "AKIE", 1)), p.headers.clone(), "credential".into()));
        tampered.push((replace_param(&p.target, "X-Amz-Signature", |v| {
            let mut s: Vec<char> = v.chars().collect();
            let last = s.len() - 1;
            s[last] = other_hex(s[last]);
            s.into_iter().collect()
        }), p.headers.clone(), "signature".into()));
        if c.token.is_some() {
            tampered.push((replace_param(&p.target, "X-Amz-Security-Token", |v| format!("{v}A")), p.headers.clone(), "token".into()));
        }
        for (target, headers, what) in &tampered {
            prop_assert!(run(&v, c.method, target, headers, p.now).is_err(), "tampered {} still verifies: {}", what, target);
        }
        let other_method = if c.method == "GET" { "PUT" } else { "GET" };
        prop_assert!(run(&v, other_method, &p.target, &p.headers, p.now).is_err());
        let _ = &p.authority;
    }

    #[test]
    fn header_signed_round_trip(c in case(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let v = verifier(c.token.as_deref());
        let signer = signer(c.token.as_deref(), c.region);
        let now = SigningTime::from_unix_timestamp(c.time).unwrap();
        let path = {
            let mut p = String::from("/");
            p.extend(percent_encoding::utf8_percent_encode(&c.key, &KEY_SET));
            p
        };
        let query: String = c.query.iter().map(|(n, v)| {
            let e = |s: &str| percent_encoding::utf8_percent_encode(s, &KEY_SET).to_string().replace('/', "%2F");
            format!("{}={}", e(n), e(v))
        }).collect::<Vec<_>>().join("&");
        let target = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let mut headers: Vec<(String, String)> = vec![("Host".into(), "bucket.s3.example.com".into())];
        headers.extend(c.headers.iter().cloned());
        let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let payload = PayloadHash::from_body(&body);
        let req = SignableRequest::new(c.method, &target, &hs, payload).unwrap();
        let auth = signer.sign_headers(&req, now).unwrap();
        let mut sent = headers.clone();
        sent.extend(auth.iter().map(|(n, v)| (n.to_owned(), v.to_owned())));
        let hs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let verified = v.verify(&IncomingRequest::new(c.method, &target, &hs[..]), now);
        prop_assert!(verified.is_ok(), "{:?}", verified.err());
        let verified = verified.unwrap();
        prop_assert_eq!(verified.access_key_id(), AKID);
        let mut checker = verified.body_checker().unwrap();
        checker.update(&body);
        prop_assert!(checker.finish().is_ok());
        let mut checker = verified.body_checker().unwrap();
        checker.update(&body);
        checker.update(b"!");
        prop_assert!(checker.finish().is_err());

        prop_assert!(run(&v, c.method, &target, &sent, now.add_seconds(900)).is_ok());
        prop_assert!(run(&v, c.method, &target, &sent, now.add_seconds(901)).is_err());
        for i in 0..sent.len() {
            if sent[i].0 == "authorization" { continue; }
            let mut hs = sent.clone();
            hs[i].1.push('x');
            prop_assert!(run(&v, c.method, &target, &hs, now).is_err(), "header {} tampered", sent[i].0);
        }
        let longer_path = format!("{path}x{}", target.strip_prefix(&path).unwrap());
        prop_assert!(run(&v, c.method, &longer_path, &sent, now).is_err());
        let sep = if query.is_empty() { '?' } else { '&' };
        let extra = format!("{target}{sep}extra=1");
        prop_assert!(run(&v, c.method, &extra, &sent, now).is_err());
    }
}

/// Fuzzing found a URL the signer made and no verifier accepts: a caller's `AWSAccessKeyId`
/// query parameter (SigV2 auth material) beside the SigV4 ones. Every name the verifier reads as
/// auth material, in any case, is now refused by the signer.
#[test]
fn auth_material_names_cannot_be_presigned() {
    let signer = signer(None, "us-east-1");
    let time = SigningTime::from_unix_timestamp(1_000_000_000).unwrap();
    for name in [
        "AWSAccessKeyId",
        "awsaccesskeyid",
        "Signature",
        "SIGNATURE",
        "x-amz-content-sha256",
        "X-Amz-Algorithm",
        "x-amz-credential",
        "X-AMZ-DATE",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ] {
        let query = [("", ""), (name, "")];
        let request = PresignRequest::new("GET", "https", "bucket.s3.amazonaws.com", "/")
            .query(&query)
            .expires(Expiry::from_secs(1).unwrap());
        match signer.presign(&request, time) {
            Err(presign::Error::ReservedQueryParameter(reserved)) => {
                assert!(reserved.eq_ignore_ascii_case(name), "{reserved} for {name}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // `X-Amz-Content-Sha256` only with the payload hash the URL is signed with.
    let query = [("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")];
    let other_hash = PayloadHash::from_body(b"other");
    let request = PresignRequest::new("PUT", "https", "bucket.s3.amazonaws.com", "/")
        .query(&query)
        .payload(other_hash)
        .expires(Expiry::from_secs(60).unwrap());
    assert!(matches!(
        signer.presign(&request, time),
        Err(presign::Error::ReservedQueryParameter(_))
    ));
    // Names that only resemble them are signed, and verify.
    for name in ["AWSAccessKeyIdX", "Signatures", "X-Amz-Meta", "signature "] {
        let query = [(name, "1")];
        let request = PresignRequest::new("GET", "https", "bucket.s3.amazonaws.com", "/")
            .query(&query)
            .expires(Expiry::from_secs(60).unwrap());
        let url = signer.presign(&request, time).unwrap().into_url();
        let target = url.strip_prefix("https://bucket.s3.amazonaws.com").unwrap();
        let headers = [("host", "bucket.s3.amazonaws.com")];
        let verified =
            verifier(None).verify(&IncomingRequest::new("GET", target, &headers[..]), time);
        assert!(verified.is_ok(), "{name}: {verified:?}");
    }
}
