//! Round trips: every form the builder makes verifies with any file within its limits, and
//! each of its conditions violated in turn fails with the right S3 code.
#![cfg(feature = "post")]

use presign::post::{IncomingPost, PostKey, PresignedPost, VerifiedPost};
use presign::s3::{Bucket, Endpoint};
use presign::verify::{
    InMemoryCredentials, StoredCredential, Verifier, VerifierConfig, VerifyError,
};
use presign::{Credentials, Expiry, Signer, SigningTime};
use proptest::prelude::*;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BUCKET: &str = "examplebucket";

#[derive(Clone, Debug)]
enum Key {
    Exact(String),
    StartsWith(String),
    WithFilename(String),
}

#[derive(Clone, Debug)]
enum Match {
    Eq(String),
    StartsWith(String),
}

#[derive(Clone, Debug)]
struct Spec {
    key: Key,
    length: Option<(u64, u64)>,
    content_type: Option<Match>,
    metadata: Vec<(String, Match)>,
    acl: Option<String>,
    status: Option<u16>,
    redirect: Option<String>,
    tagging: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    token: Option<String>,
    region: &'static str,
    expires: u32,
    signed_at: i64,
    file_name: String,
}

/// Form values: any text without CR or LF (browsers rewrite line breaks).
fn value() -> impl Strategy<Value = String> {
    "[^\r\n]{0,24}"
}

fn matcher() -> impl Strategy<Value = Match> {
    prop_oneof![
        value().prop_map(Match::Eq),
        value().prop_map(Match::StartsWith)
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let key = prop_oneof![
        "[a-z0-9/._ -]{1,30}".prop_map(Key::Exact),
        "[a-z0-9/._-]{1,12}/".prop_map(Key::StartsWith),
        prop_oneof![Just(String::new()), "[a-z0-9/_-]{1,12}/"].prop_map(Key::WithFilename),
    ];
    let length =
        proptest::option::of((0u64..2000, 0u64..100_000).prop_map(|(min, span)| (min, min + span)));
    let content_type = proptest::option::of(prop_oneof![
        prop_oneof![Just("image/png"), Just("text/plain; charset=utf-8")]
            .prop_map(|s| Match::Eq(s.to_owned())),
        prop_oneof![Just("image/"), Just("application/"), Just("")]
            .prop_map(|s| Match::StartsWith(s.to_owned())),
    ]);
    let metadata = proptest::collection::btree_map("[a-z][a-z0-9-]{0,7}", matcher(), 0..3)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    let objects = (
        proptest::option::of(
            prop_oneof![Just("private"), Just("public-read")].prop_map(String::from),
        ),
        proptest::option::of(prop_oneof![Just(200u16), Just(201), Just(204)]),
        proptest::option::of("https://example\\.com/done\\?id=[0-9]{1,4}"),
        proptest::option::of("[a-z]{1,6}".prop_map(|k| {
            format!("<Tagging><TagSet><Tag><Key>{k}</Key><Value>v</Value></Tag></TagSet></Tagging>")
        })),
        proptest::option::of(
            prop_oneof![Just("no-cache"), Just("max-age=60")].prop_map(String::from),
        ),
        proptest::option::of(value()),
    );
    let signing = (
        proptest::option::of("[A-Za-z0-9+/=]{8,40}"),
        prop_oneof![Just("us-east-1"), Just("eu-west-1"), Just("ap-southeast-2")],
        1u32..=604_800,
        1_500_000_000i64..2_000_000_000,
        (
            prop_oneof![Just(""), Just("C:\\Users\\me\\"), Just("a/b/"), Just("../")],
            "[A-Za-z0-9_-][A-Za-z0-9._ -]{0,15}",
        )
            .prop_map(|(dir, base)| format!("{dir}{base}")),
    );
    (key, length, content_type, metadata, objects, signing).prop_map(
        |(key, length, content_type, metadata, objects, signing)| {
            let (acl, status, redirect, tagging, cache_control, content_disposition) = objects;
            let (token, region, expires, signed_at, file_name) = signing;
            Spec {
                key,
                length,
                content_type,
                metadata,
                acl,
                status,
                redirect,
                tagging,
                cache_control,
                content_disposition,
                token,
                region,
                expires,
                signed_at,
                file_name,
            }
        },
    )
}

fn signed_at(spec: &Spec) -> SigningTime {
    SigningTime::from_unix_timestamp(spec.signed_at).unwrap()
}

fn build(spec: &Spec) -> PresignedPost {
    let endpoint = Endpoint::aws(spec.region).unwrap();
    let bucket = Bucket::new(BUCKET).unwrap();
    let key = match &spec.key {
        Key::Exact(k) => PostKey::exact(k.as_str()),
        Key::StartsWith(p) => PostKey::starts_with(p.as_str()),
        Key::WithFilename(p) => PostKey::with_filename(p.as_str()),
    };
    let mut b = PresignedPost::builder(&endpoint, &bucket, key)
        .expires_in(Expiry::from_secs(u64::from(spec.expires)).unwrap());
    if let Some((min, max)) = spec.length {
        b = b.content_length_range(min, max);
    }
    match &spec.content_type {
        Some(Match::Eq(v)) => b = b.content_type(v.as_str()),
        Some(Match::StartsWith(p)) => b = b.content_type_starts_with(p.as_str()),
        None => {}
    }
    for (name, m) in &spec.metadata {
        b = match m {
            Match::Eq(v) => b.metadata(name, v.as_str()),
            Match::StartsWith(p) => b.metadata_starts_with(name, p.as_str()),
        };
    }
    if let Some(v) = &spec.acl {
        b = b.acl(v.as_str());
    }
    if let Some(s) = spec.status {
        b = b.success_action_status(s);
    }
    if let Some(v) = &spec.redirect {
        b = b.success_action_redirect(v.as_str());
    }
    if let Some(v) = &spec.tagging {
        b = b.tagging(v.as_str());
    }
    if let Some(v) = &spec.cache_control {
        b = b.cache_control(v.as_str());
    }
    if let Some(v) = &spec.content_disposition {
        b = b.content_disposition(v.as_str());
    }
    let mut creds = Credentials::new(AKID, SECRET).unwrap();
    if let Some(token) = &spec.token {
        creds = creds.with_session_token(token.as_str()).unwrap();
    }
    let signer = Signer::new(creds, spec.region, "s3").unwrap();
    b.sign(&signer, signed_at(spec)).unwrap()
}

fn verifier(spec: &Spec) -> Verifier<InMemoryCredentials> {
    let store = InMemoryCredentials::new();
    let cred = match &spec.token {
        Some(t) => StoredCredential::temporary(SECRET, t.as_str(), None),
        None => StoredCredential::new(SECRET),
    }
    .unwrap();
    store.insert(AKID, cred).unwrap();
    Verifier::new(store, VerifierConfig::default().regions([spec.region]))
}

/// The fields a browser sends: the form's, with the `starts-with` ones lengthened as a page
/// script would (any value with the prefix is allowed).
fn as_sent(spec: &Spec, form: &PresignedPost) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = form
        .fields()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    for (name, value) in &mut fields {
        let lengthen = match name.as_str() {
            "key" => matches!(spec.key, Key::StartsWith(_)),
            "Content-Type" => matches!(spec.content_type, Some(Match::StartsWith(_))),
            n => spec.metadata.iter().any(|(m, how)| {
                matches!(how, Match::StartsWith(_)) && n == format!("x-amz-meta-{m}")
            }),
        };
        if lengthen {
            value.push_str("png");
        }
    }
    fields
}

fn verify(
    spec: &Spec,
    verifier: &Verifier<InMemoryCredentials>,
    fields: &[(String, String)],
    bucket: &str,
    now: SigningTime,
) -> Result<VerifiedPost, VerifyError> {
    let post = IncomingPost::new(bucket, fields).with_file_name(&spec.file_name);
    verifier.verify_post(&post, now)
}

fn basename(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_built_form_verifies_with_any_file_within_its_limits(
        spec in spec(),
        at in 0.0f64..1.0,
        size_at in 0.0f64..=1.0,
    ) {
        let form = build(&spec);
        let fields = as_sent(&spec, &form);
        let verifier = verifier(&spec);
        let offset = ((f64::from(spec.expires) - 1.0) * at) as i64;
        let now = signed_at(&spec).add_seconds(offset);
        let verified = verify(&spec, &verifier, &fields, BUCKET, now)
            .map_err(|e| TestCaseError::fail(format!("{e:?}\n{form:?}")))?;

        let expected_key = match &spec.key {
            Key::Exact(k) => k.clone(),
            Key::StartsWith(p) => format!("{p}png"),
            Key::WithFilename(p) => format!("{p}{}", basename(&spec.file_name)),
        };
        prop_assert_eq!(verified.key(), expected_key.as_str());
        prop_assert_eq!(verified.access_key_id(), AKID);
        prop_assert_eq!(verified.region(), spec.region);
        prop_assert_eq!(verified.session_token(), spec.token.as_deref());
        prop_assert_eq!(verified.acl(), spec.acl.as_deref());
        prop_assert_eq!(verified.tagging(), spec.tagging.as_deref());
        prop_assert_eq!(verified.success_action_redirect(), spec.redirect.as_deref());
        prop_assert_eq!(verified.success_action_status(), spec.status.filter(|s| *s != 204).unwrap_or(204));
        prop_assert_eq!(verified.metadata().count(), spec.metadata.len());
        prop_assert_eq!(verified.content_length_range(), spec.length);
        prop_assert!(verified.expires_at() <= signed_at(&spec).add_seconds(i64::from(spec.expires)));

        let (min, max) = spec.length.unwrap_or((0, 1 << 40));
        let size = min + ((max - min) as f64 * size_at) as u64;
        prop_assert!(verified.check_file_size(size).is_ok());
        let mut checker = verified.length_checker();
        let mut left = size;
        while left > 0 {
            let n = left.min(65_536);
            prop_assert!(checker.add(n).is_ok());
            left -= n;
        }
        prop_assert_eq!(checker.finish(), Ok(size));
    }

    #[test]
    fn each_condition_violated_in_turn_fails_with_its_code(spec in spec()) {
        let form = build(&spec);
        let good = as_sent(&spec, &form);
        let verifier = verifier(&spec);
        let now = signed_at(&spec);
        let run = |fields: &[(String, String)]| verify(&spec, &verifier, fields, BUCKET, now);
        prop_assert!(run(&good).is_ok());

        let code = |r: Result<VerifiedPost, VerifyError>| r.map(|_| "ok").unwrap_or_else(|e| e.code());
        let user_fields: Vec<String> = good
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| n != "policy" && (!n.starts_with("x-amz-") || n.starts_with("x-amz-meta-")))
            .collect();
        for name in &user_fields {
            let is_prefix_rule = match name.as_str() {
                "key" => !matches!(spec.key, Key::Exact(_)),
                "Content-Type" => matches!(spec.content_type, Some(Match::StartsWith(_))),
                n => spec.metadata.iter().any(|(m, how)| {
                    matches!(how, Match::StartsWith(_)) && n == format!("x-amz-meta-{m}")
                }),
            };
            // Changed: an exact match fails on any change; a prefix on a value without it
            // (an empty prefix cannot be violated by a value, only by leaving the field out).
            let mut changed = good.clone();
            let slot = changed.iter_mut().find(|(n, _)| n == name).unwrap();
            let prefix_is_empty = is_prefix_rule && {
                let template = form.field(name).unwrap();
                template.is_empty() || template == "${filename}"
            };
            // A first character the value does not already start with, so no prefix still holds.
            let lead = if slot.1.starts_with('\u{1}') { '\u{2}' } else { '\u{1}' };
            slot.1 = format!("{lead}{}", slot.1);
            if !prefix_is_empty {
                prop_assert_eq!(code(run(&changed)), "AccessDenied", "changed {}", name);
            }
            // Left out.
            let removed: Vec<(String, String)> =
                good.iter().filter(|(n, _)| n != name).cloned().collect();
            let expected = if name == "key" { "InvalidArgument" } else { "AccessDenied" };
            prop_assert_eq!(code(run(&removed)), expected, "removed {}", name);
        }
        // An extra field.
        let mut extra = good.clone();
        extra.insert(1, ("x-amz-meta-injected".into(), "1".into()));
        if spec.metadata.iter().all(|(m, _)| m != "injected") {
            prop_assert_eq!(code(run(&extra)), "AccessDenied");
        }
        // The file's size.
        let verified = run(&good).unwrap();
        if let Some((min, max)) = spec.length {
            prop_assert_eq!(verified.check_file_size(max + 1).unwrap_err().code(), "EntityTooLarge");
            if min > 0 {
                prop_assert_eq!(verified.check_file_size(min - 1).unwrap_err().code(), "EntityTooSmall");
            }
        }
        // Expired, another bucket, another signature, another token.
        let expiry = form.expires_at();
        prop_assert_eq!(code(verify(&spec, &verifier, &good, BUCKET, expiry)), "AccessDenied");
        prop_assert_eq!(code(verify(&spec, &verifier, &good, "otherbucket", now)), "AccessDenied");
        let mut resigned = good.clone();
        let sig = resigned.iter_mut().find(|(n, _)| n == "x-amz-signature").unwrap();
        sig.1 = sig.1.chars().rev().collect();
        if sig.1 != form.field("x-amz-signature").unwrap() {
            prop_assert_eq!(code(run(&resigned)), "SignatureDoesNotMatch");
        }
        if spec.token.is_some() {
            let mut other = good.clone();
            let token = other.iter_mut().find(|(n, _)| n == "x-amz-security-token").unwrap();
            token.1.push('x');
            prop_assert_eq!(code(run(&other)), "InvalidToken");
        }
    }
}
