//! Every presigned URL carries the signature that the straightforward definition gives: the
//! canonical request of the URL as sent (computed by `canonical_request`, which parses the query
//! back), the string to sign, HMAC with the derived key. This pins the presigner's fast paths
//! (the canonical request hashed in place inside the URL buffer, the merged auth parameters)
//! to the reference for arbitrary requests.

use presign::verify::{
    InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig,
};
use presign::{
    Credentials, Expiry, PayloadHash, PresignRequest, Scope, SignableRequest, Signer, SigningTime,
    canonical_request, string_to_sign,
};
use proptest::prelude::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "PUT", "HEAD", "DELETE", "POST", "PROPFIND", "X",
    ])
}

fn authority() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "examplebucket.s3.amazonaws.com",
        "a",
        "h:9",
        "localhost:9000",
        "[::1]:8080",
        "s3.eu-west-1.amazonaws.com",
    ])
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "/", "a", "Z", "~", "%20", "%7E", "%7e", "%2F", "%C3%A9", "+", "!", "$", ".", "..",
            "%25",
        ]),
        0..8,
    )
    .prop_map(|parts| {
        let p: String = parts.concat();
        if p.is_empty() || p.starts_with('/') {
            p
        } else {
            format!("/{p}")
        }
    })
}

fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop::sample::select(vec![
        "partNumber",
        "uploadId",
        "A",
        "X-Amz-Content-Sha256",
        "X-Amz-Bar",
        "X-Amz-Z",
        "a b",
        "é",
        "versionId",
        "Z",
        "x-id",
        "",
        "%",
    ]);
    let value = prop::sample::select(vec!["", "1", "a b", "é", "a/b", "%", "~", "x+y"]);
    prop::collection::vec((name, value), 0..5).prop_map(|v| {
        v.into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    })
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop::sample::select(vec![
        "content-type",
        "Content-Type",
        "x-amz-acl",
        "X-Amz-Meta-A",
        "range",
        "a!b",
        "zz",
    ]);
    let value = prop::sample::select(vec!["text/plain", "  a   b  ", "x\ty", "", "v1", "a\n b"]);
    prop::collection::vec((name, value), 0..4).prop_map(|v| {
        v.into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    })
}

/// The signature by definition, from the URL as it will be sent.
fn reference_signature(
    signer: &Signer,
    method: &str,
    url: &str,
    authority: &str,
    extra_headers: &[(&str, &str)],
    time: SigningTime,
) -> String {
    let after_authority = &url[url.find("://").unwrap() + 3 + authority.len()..];
    let (unsigned, _) = after_authority.split_once("&X-Amz-Signature=").unwrap();
    let mut headers = vec![("host", authority)];
    headers.extend_from_slice(extra_headers);
    let request = SignableRequest::new(method, unsigned, &headers, PayloadHash::Unsigned).unwrap();
    let creq = canonical_request(&request, signer.uri_encoding()).unwrap();
    let scope = Scope::new(time.date(), "us-east-1", signer.service()).unwrap();
    let sts = string_to_sign(&time.amz_date(), &scope, creq.as_str());
    signer.sign_string(&sts, time).to_hex().as_str().to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn presigned_urls_carry_the_reference_signature(
        method in method(),
        authority in authority(),
        path in path(),
        query in query(),
        headers in headers(),
        token in prop::option::of(prop::sample::select(vec!["tok/en+=", "plain"])),
        token_signed in any::<bool>(),
        service in prop::sample::select(vec!["s3", "execute-api"]),
        expires in 1u64..=604_800,
    ) {
        let creds = Credentials::new("AKIDEXAMPLE", SECRET).unwrap();
        let creds = match token { Some(t) => creds.with_session_token(t).unwrap(), None => creds };
        let signer = Signer::new(creds, "us-east-1", service).unwrap()
            .with_session_token_signed(token_signed);
        let query: Vec<(&str, &str)> = query.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let headers: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let request = PresignRequest::new(method, "https", authority, &path)
            .query(&query)
            .headers(&headers)
            .expires(Expiry::from_secs(expires).unwrap());
        let time = SigningTime::parse_amz_date("20240229T235959Z").unwrap();
        let Ok(presigned) = signer.presign(&request, time) else {
            // Refused inputs (a header name like `a!b`, an empty name) are fine.
            return Ok(());
        };
        let url = presigned.url();
        let sig = &url[url.find("&X-Amz-Signature=").unwrap() + 17..][..64];
        prop_assert_eq!(sig, reference_signature(&signer, method, url, authority, &headers, time));
        prop_assert_eq!(presigned.method(), method);
        prop_assert_eq!(presigned.expires_at(), time.add_seconds(expires as i64));

        // S3 URLs with the signed token verify (header names that would need encoding in
        // `X-Amz-SignedHeaders`, like `a!b`, are refused by the presigner above).
        prop_assert!(headers.iter().all(|(n, _)| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')));
        // `X-Amz-Content-Sha256` is refused unless it is a payload hash, as it should be.
        let content_sha = query.iter().any(|(n, _)| *n == "X-Amz-Content-Sha256");
        if service == "s3" && (token.is_none() || token_signed) && !content_sha {
            let store = InMemoryCredentials::new();
            let cred = match token {
                Some(t) => StoredCredential::temporary(SECRET, t, None).unwrap(),
                None => StoredCredential::new(SECRET).unwrap(),
            };
            store.insert("AKIDEXAMPLE", cred).unwrap();
            let verifier = Verifier::new(store, VerifierConfig::default());
            let target = &url[url.find("://").unwrap() + 3 + authority.len()..];
            let mut sent: Vec<(&str, &str)> = vec![("host", authority)];
            sent.extend(presigned.headers());
            let incoming = IncomingRequest::new(method, target, &sent[..]);
            let verified = verifier.verify(&incoming, time);
            prop_assert!(verified.is_ok(), "{:?} {}", verified.err(), url);
        }
    }
}

/// A signer caches the key of the day it last signed on: interleaving signers (other secret,
/// other region) and days, going back to an earlier day, gives every URL the signature that a
/// new signer gives it, and the S3 documentation's presigned GET its published signature.
#[test]
fn a_signer_signs_each_day_with_that_days_key() {
    let params = [
        (SECRET, "us-east-1"),
        ("another/secret", "us-east-1"),
        (SECRET, "eu-west-1"),
    ];
    let new_signer = |s: usize| {
        let (secret, region) = params[s];
        let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", secret).unwrap();
        Signer::new(creds, region, "s3").unwrap()
    };
    let signers = [new_signer(0), new_signer(1), new_signer(2)];
    let times =
        ["20130524T000000Z", "20130525T000000Z"].map(|t| SigningTime::parse_amz_date(t).unwrap());
    let request = PresignRequest::new(
        "GET",
        "https",
        "examplebucket.s3.amazonaws.com",
        "/test.txt",
    )
    .expires(Expiry::from_secs(86_400).unwrap());
    let sequence = [
        (0, 0),
        (1, 0),
        (0, 0),
        (2, 0),
        (0, 1),
        (0, 0),
        (1, 1),
        (1, 1),
        (2, 1),
        (0, 0),
    ];
    for (s, t) in sequence {
        let url = signers[s].presign(&request, times[t]).unwrap().into_url();
        let first_use = new_signer(s)
            .presign(&request, times[t])
            .unwrap()
            .into_url();
        assert_eq!(url, first_use, "signer {s}, day {t}");
        if (s, t) == (0, 0) {
            // From the S3 documentation (Authenticating Requests: Using Query Parameters).
            assert!(url.ends_with(
                "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ));
        }
    }
}
