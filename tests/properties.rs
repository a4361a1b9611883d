//! Properties of the S3 presigning layer, over generated inputs:
//!
//! * no input panics: arbitrary keys, buckets, endpoints, headers, query pairs, expiry and
//!   time strings give `Ok` or `Err`;
//! * the URL does not depend on the order parameters are given in;
//! * every presigned URL parses back, by hand, to its inputs.

use percent_encoding::percent_decode_str;
use presign::s3::{
    AddressingStyle, Bucket, Endpoint, GetObject, PutObject, S3Request, safe_key_from_filename,
    validate_key,
};
use presign::{Credentials, Expiry, PresignedRequest, Signer, SigningTime};
use proptest::prelude::*;

const AUTH_PARAMS: [&str; 7] = [
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
];

fn signer(region: &str, token: Option<&str>) -> Signer {
    let mut creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(t) = token {
        creds = creds
            .with_session_token(t)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    Signer::new(creds, region, "s3").unwrap_or_else(|e| panic!("{e}"))
}

fn decode(s: &str) -> String {
    percent_decode_str(s)
        .decode_utf8()
        .unwrap_or_else(|e| panic!("{s:?} does not decode to UTF-8: {e}"))
        .into_owned()
}

/// Anything, including control characters, separators and non-ASCII text.
fn wild_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9.\\-]{0,70}",
        "[ -~]{0,40}",
        "\\PC{0,20}",
        Just(String::new()),
    ]
}

/// Printable text for keys and query values: reserved characters, `%`, `+`, unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 /%+=&?#~._!*'()-]{1,40}",
        "\\PC{1,30}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

/// A query parameter name the signer does not reserve.
fn query_name() -> impl Strategy<Value = String> {
    text().prop_filter("not an auth parameter", |n| {
        !AUTH_PARAMS.contains(&n.to_ascii_lowercase().as_str())
    })
}

fn query_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (query_name(), prop_oneof![Just(String::new()), text()]),
        0..8,
    )
}

/// Header names distinct case-insensitively (a repeated name is order-dependent by
/// definition: its values are joined in arrival order), never `host`/`authorization`.
fn header_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("x-[a-z0-9._~-]{1,12}", "[ -~]{0,30}", 0..8)
        .prop_map(|m| m.into_iter().collect())
}

fn valid_bucket() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{1,20}[a-z0-9]".prop_filter("valid bucket", |b| Bucket::new(b).is_ok())
}

fn region() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "us-east-1",
        "eu-west-1",
        "ap-southeast-2",
        "cn-north-1",
        "us-gov-west-1",
    ])
}

/// Instants with a four-digit year.
fn signing_time() -> impl Strategy<Value = SigningTime> {
    (0i64..=253_402_300_799)
        .prop_map(|s| SigningTime::from_unix_timestamp(s).unwrap_or_else(|e| panic!("{s}: {e}")))
}

fn pairs_ref(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// Never panics: every outcome is a value.
fn exercise(p: Result<PresignedRequest, presign::Error>) {
    if let Ok(p) = p {
        assert!(p.url().starts_with("http"));
        let _ = p.to_url();
        let _ = p.headers().count();
        let _ = format!("{p:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn no_input_panics(
        key in wild_string(),
        bucket in wild_string(),
        endpoint in prop_oneof![
            wild_string(),
            wild_string().prop_map(|s| format!("http://{s}")),
            wild_string().prop_map(|s| format!("https://storage.example.com{s}")),
        ],
        style in prop::sample::select(vec![
            AddressingStyle::Auto, AddressingStyle::Virtual, AddressingStyle::Path,
        ]),
        headers in prop::collection::vec((wild_string(), wild_string()), 0..4),
        query in prop::collection::vec((wild_string(), wild_string()), 0..4),
        expiry in wild_string(),
        time in wild_string(),
        region in prop_oneof![Just("us-east-1".to_owned()), wild_string()],
    ) {
        let _ = validate_key(&key);
        let _ = Bucket::new_legacy(&bucket);
        let _ = expiry.parse::<Expiry>();
        let _ = SigningTime::parse_amz_date(&time);
        let _ = safe_key_from_filename(&key, Some(&bucket));
        let when = SigningTime::parse_amz_date(&time)
            .unwrap_or_else(|_| SigningTime::from_unix_timestamp(0).unwrap_or_else(|e| panic!("{e}")));
        let expires = expiry.parse::<Expiry>().unwrap_or(Expiry::MAX);
        let Ok(signer) = Credentials::new("AKIDEXAMPLE", "secret")
            .and_then(|c| Signer::new(c, &region, "s3")) else {
            return Ok(());
        };
        let endpoints = [Endpoint::parse(&endpoint), Endpoint::aws(&region)];
        let buckets = [Bucket::new(&bucket), Bucket::new_legacy(&bucket), Bucket::new("examplebucket")];
        let headers = pairs_ref(&headers);
        let query = pairs_ref(&query);
        for endpoint in endpoints.into_iter().flatten() {
            let endpoint = endpoint.with_addressing_style(style);
            for bucket in buckets.iter().flatten() {
                exercise(GetObject::new(&endpoint, bucket, &key)
                    .extra_query(&query)
                    .extra_headers(&headers)
                    .presign(&signer, when, expires));
                exercise(PutObject::new(&endpoint, bucket, &key)
                    .metadata(&headers)
                    .content_type(&time)
                    .presign(&signer, when, expires));
                exercise(S3Request::object(&endpoint, bucket, &key, &time)
                    .query(&query)
                    .headers(&headers)
                    .presign(&signer, when, expires));
                exercise(S3Request::bucket(&endpoint, bucket, "GET")
                    .query(&query)
                    .presign(&signer, when, expires));
            }
        }
    }

    #[test]
    fn safe_keys_are_safe(name in wild_string(), prefix in prop::option::of("[a-z0-9/]{0,20}")) {
        if let Ok(key) = safe_key_from_filename(&name, prefix.as_deref()) {
            prop_assert!(validate_key(&key).is_ok());
            let base = match prefix.as_deref().map(|p| p.trim_end_matches('/')) {
                Some(p) if !p.is_empty() => {
                    let rest = key.strip_prefix(p).and_then(|r| r.strip_prefix('/'));
                    prop_assert!(rest.is_some(), "{key:?} does not start with {p:?}/");
                    rest.unwrap_or_default().to_owned()
                }
                _ => key.clone(),
            };
            prop_assert!(!base.is_empty());
            prop_assert!(!base.contains('/') && !base.contains('\\'), "{base:?}");
            prop_assert!(!base.contains(".."), "{base:?}");
            prop_assert!(!base.starts_with('.'), "{base:?}");
            prop_assert!(!base.chars().any(|c| c.is_control() || c.is_whitespace()), "{base:?}");
        }
    }

    #[test]
    fn parameter_order_does_not_matter(
        (query, shuffled_query) in query_pairs()
            .prop_flat_map(|q| (Just(q.clone()), Just(q).prop_shuffle())),
        (headers, shuffled_headers) in header_pairs()
            .prop_flat_map(|h| (Just(h.clone()), Just(h).prop_shuffle())),
        key in text(),
        time in signing_time(),
    ) {
        let signer = signer("eu-west-1", Some("token"));
        let endpoint = Endpoint::aws("eu-west-1").unwrap_or_else(|e| panic!("{e}"));
        let bucket = Bucket::new("examplebucket").unwrap_or_else(|e| panic!("{e}"));
        let expires = Expiry::from_secs(900).unwrap_or_else(|e| panic!("{e}"));
        let presign = |q: &[(String, String)], h: &[(String, String)]| {
            let (q, h) = (pairs_ref(q), pairs_ref(h));
            S3Request::object(&endpoint, &bucket, &key, "PUT")
                .query(&q)
                .headers(&h)
                .presign(&signer, time, expires)
                .map(|p| (p.url().to_owned(), p.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect::<Vec<_>>()))
        };
        let a = presign(&query, &headers);
        let b = presign(&shuffled_query, &shuffled_headers);
        prop_assert!(a.is_ok(), "{a:?}");
        prop_assert_eq!(a, b);
    }

    #[test]
    fn urls_parse_back_to_their_inputs(
        key in text().prop_filter("at most 1024 bytes", |k| k.len() <= 1024),
        bucket in valid_bucket(),
        region in region(),
        custom in prop::option::of(prop::sample::select(vec![
            "http://127.0.0.1:9000",
            "https://storage.example.com",
            "https://storage.example.com:8443/s3-prefix",
        ])),
        virtual_hosted in any::<bool>(),
        query in query_pairs(),
        headers in header_pairs(),
        secs in 1u64..=604_800,
        time in signing_time(),
        token in prop::option::of("[ -~]{1,40}"),
    ) {
        let signer = signer(region, token.as_deref());
        let mut endpoint = match custom {
            Some(url) => Endpoint::parse(url),
            None => Endpoint::aws(region),
        }.unwrap_or_else(|e| panic!("{e}"));
        let is_ip = endpoint.host_is_ip();
        if virtual_hosted && !is_ip {
            endpoint = endpoint.with_addressing_style(AddressingStyle::Virtual);
        } else {
            endpoint = endpoint.with_addressing_style(AddressingStyle::Path);
        }
        let b = Bucket::new(&bucket).unwrap_or_else(|e| panic!("{e}"));
        let expires = Expiry::from_secs(secs).unwrap_or_else(|e| panic!("{e}"));
        // Distinct query names for the typed builder's duplicate check.
        let mut seen = std::collections::HashSet::new();
        let query: Vec<(String, String)> = query.into_iter().filter(|(n, _)| seen.insert(n.clone())).collect();
        let (q, h) = (pairs_ref(&query), pairs_ref(&headers));
        let p = GetObject::new(&endpoint, &b, &key)
            .extra_query(&q)
            .extra_headers(&h)
            .presign(&signer, time, expires)
            .unwrap_or_else(|e| panic!("{e}"));

        // Split by hand.
        let url = p.url();
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let (target, raw_query) = rest.split_once('?').unwrap_or((rest, ""));
        let slash = target.find('/').unwrap_or(target.len());
        let (authority, path) = target.split_at(slash);
        prop_assert_eq!(scheme, endpoint.scheme());
        let virtual_style = endpoint.addressing_style() == AddressingStyle::Virtual;
        if virtual_style {
            prop_assert_eq!(authority.to_owned(), format!("{bucket}.{}", endpoint.authority()));
            prop_assert_eq!(decode(path), format!("{}/{key}", decode(endpoint.path_prefix())));
        } else {
            prop_assert_eq!(authority, endpoint.authority());
            prop_assert_eq!(decode(path), format!("{}/{bucket}/{key}", decode(endpoint.path_prefix())));
        }
        // The path carries no raw character that would end it or be rewritten.
        prop_assert!(!path.contains(['?', '#', ' ', '+']), "{path}");

        let pairs: Vec<(String, String)> = raw_query
            .split('&')
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        for (name, value) in &query {
            prop_assert!(
                pairs.iter().any(|(k, v)| k == name && v == value),
                "{name:?}={value:?} not in {pairs:?}"
            );
        }
        prop_assert_eq!(pairs.len(), query.len() + 6 + usize::from(token.is_some()));
        prop_assert_eq!(get("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256".to_owned()));
        prop_assert_eq!(get("X-Amz-Expires"), Some(secs.to_string()));
        prop_assert_eq!(get("X-Amz-Date"), Some(time.amz_date().as_str().to_owned()));
        prop_assert_eq!(
            get("X-Amz-Credential"),
            Some(format!("AKIDEXAMPLE/{}/{region}/s3/aws4_request", time.amz_date().date_part()))
        );
        prop_assert_eq!(get("X-Amz-Security-Token"), token.clone());
        let signature = get("X-Amz-Signature").unwrap_or_default();
        prop_assert!(signature.len() == 64 && signature.bytes().all(|c| c.is_ascii_hexdigit()));
        let last = format!("X-Amz-Signature={signature}");
        prop_assert!(raw_query.ends_with(&last), "{raw_query}");

        // Signed headers: host plus the extras, lowercase and sorted; returned trimmed.
        let mut names: Vec<String> = headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        names.push("host".into());
        names.sort();
        prop_assert_eq!(get("X-Amz-SignedHeaders"), Some(names.join(";")));
        let returned: Vec<(String, String)> = p.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        let mut expected: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim_matches([' ', '\t']).to_owned()))
            .collect();
        expected.sort();
        prop_assert_eq!(returned, expected);
        prop_assert_eq!(p.method(), "GET");
        prop_assert_eq!(p.expires_at().unix_timestamp().min(253_402_300_799),
            (time.unix_timestamp() + i64::try_from(secs).unwrap_or(0)).min(253_402_300_799));
    }
}
