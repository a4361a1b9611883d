//! Browser POST forms: the AWS documentation example, then one group of tests per rule of the
//! verifier checklist's section F (rules 34 to 41; `rule_18_*` for POST time), each failing if
//! its rule is dropped.
#![cfg(feature = "post")]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use presign::post::{Condition, IncomingPost, PolicyDocument, PostKey, PresignedPost};
use presign::s3::{Bucket, Endpoint};
use presign::verify::{
    InMemoryCredentials, StoredCredential, Verifier, VerifierConfig, VerifyError,
};
use presign::{Credentials, Signer, SigningTime};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BUCKET: &str = "examplebucket";
const DATE: &str = "20260101T000000Z";
const CREDENTIAL: &str = "AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request";

fn t(s: &str) -> SigningTime {
    SigningTime::parse_amz_date(s).unwrap()
}

fn verifier() -> Verifier<InMemoryCredentials> {
    let store = InMemoryCredentials::new();
    store
        .insert(AKID, StoredCredential::new(SECRET).unwrap())
        .unwrap();
    Verifier::new(store, VerifierConfig::default())
}

fn signer() -> Signer {
    Signer::new(Credentials::new(AKID, SECRET).unwrap(), "us-east-1", "s3").unwrap()
}

/// The bindings every test policy carries, after its own conditions.
const BINDINGS: &str = r#"{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request"},{"x-amz-date":"20260101T000000Z"}"#;

/// A policy expiring 2026-01-02 with the bucket, `starts-with $key uploads/`, `conditions`
/// and the auth bindings.
fn policy(conditions: &str) -> String {
    let sep = if conditions.is_empty() { "" } else { "," };
    format!(
        r#"{{"expiration":"2026-01-02T00:00:00Z","conditions":[{{"bucket":"examplebucket"}},["starts-with","$key","uploads/"]{sep}{conditions},{BINDINGS}]}}"#
    )
}

/// The fields of a form signed over `policy_json` (any text), with `fields` first.
fn form(policy_json: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let b64 = STANDARD.encode(policy_json);
    let signature = signer().sign_string(&b64, t(DATE)).to_hex().to_string();
    let mut out: Vec<(String, String)> = fields
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    out.extend([
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        ("x-amz-credential".to_owned(), CREDENTIAL.to_owned()),
        ("x-amz-date".to_owned(), DATE.to_owned()),
        ("policy".to_owned(), b64),
        ("x-amz-signature".to_owned(), signature),
    ]);
    out
}

fn verify_at(
    fields: &[(String, String)],
    bucket: &str,
    file_name: Option<&str>,
    now: &str,
) -> Result<presign::post::VerifiedPost, VerifyError> {
    let mut post = IncomingPost::new(bucket, fields);
    if let Some(name) = file_name {
        post = post.with_file_name(name);
    }
    verifier().verify_post(&post, t(now))
}

/// Verifies at 2026-01-01T01:00:00Z, to `examplebucket`, with file `photo.jpg`.
fn verify(fields: &[(String, String)]) -> Result<presign::post::VerifiedPost, VerifyError> {
    verify_at(fields, BUCKET, Some("photo.jpg"), "20260101T010000Z")
}

fn code(r: Result<presign::post::VerifiedPost, VerifyError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    let slot = fields.iter_mut().find(|(n, _)| n == name).unwrap();
    slot.1 = value.to_owned();
}

fn without(fields: &[(String, String)], name: &str) -> Vec<(String, String)> {
    fields.iter().filter(|(n, _)| n != name).cloned().collect()
}

// ---------------------------------------------------------------------------------------
// The AWS documentation example ("Example: Browser-Based Upload using HTTP POST (Using AWS
// Signature Version 4)"), aws-doc-examples.md §4.

const DOC_POLICY: &str = "{ \"expiration\": \"2015-12-30T12:00:00.000Z\",\r\n  \"conditions\": [\r\n    {\"bucket\": \"sigv4examplebucket\"},\r\n    [\"starts-with\", \"$key\", \"user/user1/\"],\r\n    {\"acl\": \"public-read\"},\r\n    {\"success_action_redirect\": \"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html\"},\r\n    [\"starts-with\", \"$Content-Type\", \"image/\"],\r\n    {\"x-amz-meta-uuid\": \"14365123651274\"},\r\n    {\"x-amz-server-side-encryption\": \"AES256\"},\r\n    [\"starts-with\", \"$x-amz-meta-tag\", \"\"],\r\n\r\n    {\"x-amz-credential\": \"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\r\n    {\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\"},\r\n    {\"x-amz-date\": \"20151229T000000Z\" }\r\n  ]\r\n}";
const DOC_POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
const DOC_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

/// The documentation's form, field names as it spells them; the `submit` field comes after
/// the file and is not part of it.
fn doc_form() -> Vec<(String, String)> {
    [
        ("key", "user/user1/${filename}"),
        ("acl", "public-read"),
        (
            "success_action_redirect",
            "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
        ),
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-uuid", "14365123651274"),
        ("x-amz-server-side-encryption", "AES256"),
        (
            "X-Amz-Credential",
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
        ),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Date", "20151229T000000Z"),
        ("x-amz-meta-tag", ""),
        ("Policy", DOC_POLICY_B64),
        ("X-Amz-Signature", DOC_SIGNATURE),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect()
}

#[test]
fn aws_doc_example_policy_base64_and_signature() {
    assert_eq!(DOC_POLICY.len(), 648);
    assert_eq!(STANDARD.encode(DOC_POLICY), DOC_POLICY_B64);
    let signature = signer().sign_string(DOC_POLICY_B64, t("20151229T000000Z"));
    assert_eq!(signature.to_hex().as_str(), DOC_SIGNATURE);

    let doc = PolicyDocument::from_base64(DOC_POLICY_B64).unwrap();
    assert_eq!(doc.conditions().len(), 11);
    assert_eq!(
        doc.conditions()[1],
        Condition::starts_with("key", "user/user1/")
    );
    assert_eq!(
        doc.conditions()[7],
        Condition::starts_with("x-amz-meta-tag", "")
    );
}

#[test]
fn aws_doc_example_form_verifies() {
    let verified = verify_at(
        &doc_form(),
        "sigv4examplebucket",
        Some("photo.jpg"),
        "20151229T120000Z",
    )
    .unwrap();
    assert_eq!(verified.access_key_id(), AKID);
    assert_eq!(verified.key(), "user/user1/photo.jpg");
    assert_eq!(verified.content_type(), Some("image/jpeg"));
    assert_eq!(verified.acl(), Some("public-read"));
    assert_eq!(
        verified.metadata().collect::<Vec<_>>(),
        [
            ("uuid".to_owned(), "14365123651274"),
            ("tag".to_owned(), "")
        ]
    );
    assert_eq!(
        verified.field("x-amz-server-side-encryption"),
        Some("AES256")
    );
    assert_eq!(verified.success_action_status(), 204);
    assert_eq!(verified.expires_at(), t("20151230T120000Z"));
    assert_eq!(verified.content_length_range(), None);
    // The signature and policy fields are not fields to store.
    assert!(verified.field("policy").is_none() && verified.field("x-amz-date").is_none());

    // The expiration is exclusive.
    let at_expiry = verify_at(
        &doc_form(),
        "sigv4examplebucket",
        Some("photo.jpg"),
        "20151230T120000Z",
    );
    assert_eq!(
        at_expiry.unwrap_err().to_string(),
        "Invalid according to Policy: Policy expired."
    );
}

// ---------------------------------------------------------------------------------------
// Rule 18: no 15-minute rule on a POST's x-amz-date; the form lives until its policy expires.

#[test]
fn rule_18_post_x_amz_date_has_no_clock_skew_rule() {
    let fields = form(&policy(""), &[("key", "uploads/a")]);
    // Two hours after x-amz-date, policy still valid: accepted (a header-signed request would
    // be RequestTimeTooSkewed).
    assert_eq!(
        code(verify_at(&fields, BUCKET, None, "20260101T020000Z")),
        "ok"
    );
    // More than 15 minutes before x-amz-date: not yet valid, as a presigned URL.
    assert_eq!(
        code(verify_at(&fields, BUCKET, None, "20251231T234459Z")),
        "AccessDenied"
    );
    assert_eq!(
        code(verify_at(&fields, BUCKET, None, "20251231T234500Z")),
        "ok"
    );
}

#[test]
fn rule_18_a_signature_lives_seven_days_whatever_the_policy_says() {
    let long = policy("").replace("2026-01-02T00:00:00Z", "2026-03-01T00:00:00Z");
    let fields = form(&long, &[("key", "uploads/a")]);
    assert_eq!(
        code(verify_at(&fields, BUCKET, None, "20260108T000000Z")),
        "ok"
    );
    let err = verify_at(&fields, BUCKET, None, "20260108T000001Z").unwrap_err();
    assert!(matches!(err, VerifyError::Expired { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------
// Rule 34: required fields; HMAC over the base64 policy exactly as received, constant time.

#[test]
fn rule_34_every_auth_field_is_required() {
    let fields = form(&policy(""), &[("key", "uploads/a")]);
    assert_eq!(code(verify(&fields)), "ok");
    for (name, shown) in [
        ("x-amz-algorithm", "X-Amz-Algorithm"),
        ("x-amz-credential", "X-Amz-Credential"),
        ("x-amz-date", "X-Amz-Date"),
        ("x-amz-signature", "X-Amz-Signature"),
        ("policy", "Policy"),
        ("key", "key"),
    ] {
        let err = verify(&without(&fields, name)).unwrap_err();
        assert_eq!(err.code(), "InvalidArgument", "{name}");
        assert!(
            err.to_string().starts_with(&format!(
                "Bucket POST must contain a field named '{shown}'."
            )),
            "{err}"
        );
    }
    // Without any auth field the form is anonymous, not half-verified.
    let anonymous: Vec<(String, String)> = vec![("key".into(), "uploads/a".into())];
    assert_eq!(
        verify(&anonymous).unwrap_err(),
        VerifyError::MissingAuthentication
    );
    // Signature Version 2 material is refused, not ignored.
    let mut v2 = fields.clone();
    v2.push(("AWSAccessKeyId".into(), AKID.into()));
    assert_eq!(verify(&v2).unwrap_err(), VerifyError::UnsupportedMechanism);
}

#[test]
fn rule_34_algorithm_is_exact() {
    for alg in [
        "aws4-hmac-sha256",
        "AWS4-HMAC-SHA512",
        "AWS4-ECDSA-P256-SHA256",
    ] {
        let mut fields = form(&policy(""), &[("key", "uploads/a")]);
        set(&mut fields, "x-amz-algorithm", alg);
        assert_eq!(
            verify(&fields).unwrap_err(),
            VerifyError::UnsupportedMechanism
        );
    }
}

#[test]
fn rule_34_signature_is_over_the_policy_text_as_sent() {
    let fields = form(&policy(""), &[("key", "uploads/a")]);
    let b64 = fields
        .iter()
        .find(|(n, _)| n == "policy")
        .unwrap()
        .1
        .clone();

    // The same base64 with a trailing newline, and the same JSON re-encoded with a space:
    // both decode to (nearly) the same document, neither is the text that was signed.
    let json = String::from_utf8(STANDARD.decode(&b64).unwrap()).unwrap();
    for tampered in [format!("{b64}\n"), STANDARD.encode(format!(" {json}"))] {
        let mut f = fields.clone();
        set(&mut f, "policy", &tampered);
        let err = verify(&f).unwrap_err();
        match &err {
            VerifyError::SignatureDoesNotMatch { string_to_sign, .. } => {
                assert_eq!(string_to_sign, &tampered);
                // As S3 answers a POST: the policy is the string to sign, and there is no
                // canonical request.
                let xml = err.to_xml_with_diagnostics("req");
                assert!(xml.contains(&format!("<StringToSign>{tampered}</StringToSign>")));
                assert!(!xml.contains("CanonicalRequest"));
            }
            other => panic!("{other:?}"),
        }
    }

    // An uppercase copy of the right signature, a truncated one, another key's signature.
    let signature = fields
        .iter()
        .find(|(n, _)| n == "x-amz-signature")
        .unwrap()
        .1
        .clone();
    let other_key = Signer::new(
        Credentials::new(AKID, "another-secret").unwrap(),
        "us-east-1",
        "s3",
    )
    .unwrap()
    .sign_string(&b64, t(DATE))
    .to_hex()
    .to_string();
    for bad in [
        signature.to_uppercase(),
        signature[..63].to_owned(),
        other_key,
    ] {
        let mut f = fields.clone();
        set(&mut f, "x-amz-signature", &bad);
        assert_eq!(code(verify(&f)), "SignatureDoesNotMatch");
    }
}

#[test]
fn rule_34_unknown_key_and_tokens() {
    let mut fields = form(&policy(""), &[("key", "uploads/a")]);
    set(
        &mut fields,
        "x-amz-credential",
        "AKIDUNKNOWN/20260101/us-east-1/s3/aws4_request",
    );
    assert_eq!(code(verify(&fields)), "InvalidAccessKeyId");

    // A token sent with static credentials.
    let token_policy = policy(r#"{"x-amz-security-token":"tok"}"#);
    let fields = form(
        &token_policy,
        &[("key", "uploads/a"), ("x-amz-security-token", "tok")],
    );
    assert_eq!(code(verify(&fields)), "InvalidToken");

    // Temporary credentials: the token must be there and equal.
    let store = InMemoryCredentials::new();
    let expiry = t("20260101T020000Z");
    store
        .insert(
            AKID,
            StoredCredential::temporary(SECRET, "tok", Some(expiry)).unwrap(),
        )
        .unwrap();
    let temp = Verifier::new(store, VerifierConfig::default());
    let run = |fields: &[(String, String)], now: &str| {
        temp.verify_post(&IncomingPost::new(BUCKET, fields), t(now))
    };
    assert_eq!(
        run(&fields, "20260101T010000Z").unwrap().session_token(),
        Some("tok")
    );
    assert_eq!(
        run(&fields, "20260101T010000Z").unwrap().expires_at(),
        expiry
    );
    assert_eq!(
        run(&fields, "20260101T020000Z").unwrap_err(),
        VerifyError::ExpiredToken
    );
    let no_token = form(&policy(""), &[("key", "uploads/a")]);
    assert_eq!(
        run(&no_token, "20260101T010000Z").unwrap_err(),
        VerifyError::InvalidToken
    );
    let other = form(
        &policy(r#"{"x-amz-security-token":"tok2"}"#),
        &[("key", "uploads/a"), ("x-amz-security-token", "tok2")],
    );
    assert_eq!(
        run(&other, "20260101T010000Z").unwrap_err(),
        VerifyError::InvalidToken
    );
}

// ---------------------------------------------------------------------------------------
// Rule 35: strict policy JSON; expiration required and enforced.

#[test]
fn rule_35_duplicate_members_are_refused_at_every_level() {
    let good = policy("");
    let evil = r#"[{"bucket":"examplebucket"},["starts-with","$key",""]]"#;
    let twice = good.replacen(
        r#""conditions":"#,
        &format!(r#""conditions":{evil},"conditions":"#),
        1,
    );
    // Signed as is: only strictness can refuse it.
    let fields = form(&twice, &[("key", "uploads/a")]);
    assert_eq!(code(verify(&fields)), "InvalidPolicyDocument");

    let expiration_twice = good.replacen(
        r#""expiration":"2026-01-02T00:00:00Z""#,
        r#""expiration":"2026-01-02T00:00:00Z","expiration":"2099-01-01T00:00:00Z""#,
        1,
    );
    let fields = form(&expiration_twice, &[("key", "uploads/a")]);
    assert_eq!(code(verify(&fields)), "InvalidPolicyDocument");

    let in_condition = policy(r#"{"acl":"private","acl":"public-read"}"#);
    let fields = form(
        &in_condition,
        &[("key", "uploads/a"), ("acl", "public-read")],
    );
    assert_eq!(code(verify(&fields)), "InvalidPolicyDocument");
}

#[test]
fn rule_35_unknown_members_missing_expiration_bad_types() {
    let good = policy("");
    let cases = [
        good.replacen(r#""expiration":"2026-01-02T00:00:00Z","#, "", 1),
        good.replacen(
            r#""expiration":"2026-01-02T00:00:00Z""#,
            r#""expiration":"2099-13-01T00:00:00Z""#,
            1,
        ),
        good.replacen(
            r#"{"expiration""#,
            r#"{"Version":"2012-10-17","expiration""#,
            1,
        ),
        good.replacen(r#""conditions""#, r#""CONDITIONS""#, 1),
        policy(r#"{"acl":5}"#),
        policy(r#"["eq","$acl",true]"#),
        good.replace("]}", "],}"),
    ];
    for (i, json) in cases.iter().enumerate() {
        let fields = form(json, &[("key", "uploads/a"), ("acl", "5")]);
        assert_eq!(
            code(verify(&fields)),
            "InvalidPolicyDocument",
            "case {i}: {json}"
        );
    }
    // A policy that is not base64 of UTF-8 JSON at all (signed as sent).
    let b64 = "not base64!";
    let signature = signer().sign_string(b64, t(DATE)).to_hex().to_string();
    let mut fields = form(&good, &[("key", "uploads/a")]);
    set(&mut fields, "policy", b64);
    set(&mut fields, "x-amz-signature", &signature);
    assert_eq!(code(verify(&fields)), "InvalidPolicyDocument");
}

#[test]
fn rule_35_expiration_is_enforced() {
    let fields = form(&policy(""), &[("key", "uploads/a")]);
    assert_eq!(
        code(verify_at(&fields, BUCKET, None, "20260101T235959Z")),
        "ok"
    );
    let err = verify_at(&fields, BUCKET, None, "20260102T000000Z").unwrap_err();
    assert_eq!(err, VerifyError::PolicyViolation("Policy expired.".into()));
    assert_eq!(err.status(), 403);
}

// ---------------------------------------------------------------------------------------
// Rule 36: the policy binds the auth fields; credential date equals x-amz-date's.

#[test]
fn rule_36_policy_credential_must_equal_the_form_credential() {
    // Signed with the real key, but the policy names another credential.
    let json = policy("").replace(CREDENTIAL, "AKIDOTHER/20260101/us-east-1/s3/aws4_request");
    let err = verify(&form(&json, &[("key", "uploads/a")])).unwrap_err();
    assert_eq!(err.code(), "AccessDenied");
    assert!(
        err.to_string()
            .contains(r#"Policy Condition failed: ["eq","$x-amz-credential","AKIDOTHER/"#),
        "{err}"
    );
    // Same for the date and the algorithm.
    let json = policy("").replace(
        r#"{"x-amz-date":"20260101T000000Z"}"#,
        r#"{"x-amz-date":"20260101T000001Z"}"#,
    );
    assert_eq!(
        code(verify(&form(&json, &[("key", "uploads/a")]))),
        "AccessDenied"
    );
}

#[test]
fn rule_36_each_binding_is_required_and_exact() {
    for binding in [
        r#"{"x-amz-algorithm":"AWS4-HMAC-SHA256"}"#,
        r#"{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request"}"#,
        r#"{"x-amz-date":"20260101T000000Z"}"#,
        r#"{"bucket":"examplebucket"}"#,
    ] {
        let cut = policy("").replacen(&format!(",{binding}"), "", 1).replacen(
            &format!("{binding},"),
            "",
            1,
        );
        assert!(!cut.contains(binding));
        // The missing binding replaced by a `starts-with ""` on the same field: it covers the
        // field but binds nothing.
        let name = binding.split('"').nth(1).unwrap();
        let loose = cut.replacen(
            r#"["starts-with","$key""#,
            &format!(r#"["starts-with","${name}",""],["starts-with","$key""#),
            1,
        );
        for json in [cut, loose] {
            let err = verify(&form(&json, &[("key", "uploads/a")])).unwrap_err();
            assert_eq!(err.code(), "AccessDenied", "{json}: {err}");
        }
    }
}

#[test]
fn rule_36_credential_date_must_be_x_amz_date_date() {
    let mut fields = form(&policy(""), &[("key", "uploads/a")]);
    set(
        &mut fields,
        "x-amz-credential",
        "AKIAIOSFODNN7EXAMPLE/20251231/us-east-1/s3/aws4_request",
    );
    let err = verify(&fields).unwrap_err();
    assert_eq!(err.code(), "InvalidArgument");
    assert!(
        err.to_string()
            .contains("Date is not the same as X-Amz-Date")
    );

    // Region and terminator are checked as for presigned URLs.
    for credential in [
        "AKIAIOSFODNN7EXAMPLE/20260101/eu-west-1/s3/aws4_request",
        "AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_requests",
        "AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3",
    ] {
        let mut fields = form(&policy(""), &[("key", "uploads/a")]);
        set(&mut fields, "x-amz-credential", credential);
        assert_eq!(code(verify(&fields)), "InvalidArgument", "{credential}");
    }
}

// ---------------------------------------------------------------------------------------
// Rule 37: condition grammar; unknown fields evaluated, never assumed true.

#[test]
fn rule_37_object_and_eq_forms_are_the_same_condition() {
    for condition in [
        r#"{"acl":"private"}"#,
        r#"["eq","$acl","private"]"#,
        r#"["EQ","$ACL","private"]"#,
    ] {
        let json = policy(condition);
        assert_eq!(
            code(verify(&form(
                &json,
                &[("key", "uploads/a"), ("acl", "private")]
            ))),
            "ok"
        );
        assert_eq!(
            code(verify(&form(
                &json,
                &[("key", "uploads/a"), ("acl", "public-read")]
            ))),
            "AccessDenied"
        );
        // Values are case-sensitive.
        assert_eq!(
            code(verify(&form(
                &json,
                &[("key", "uploads/a"), ("acl", "PRIVATE")]
            ))),
            "AccessDenied"
        );
    }
}

#[test]
fn rule_37_conditions_on_unknown_fields_are_evaluated() {
    let tagging = policy(r#"["eq","$tagging","<Tagging><TagSet></TagSet></Tagging>"]"#);
    let other_tags = "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>";
    assert_eq!(
        code(verify(&form(
            &tagging,
            &[("key", "uploads/a"), ("tagging", other_tags)]
        ))),
        "AccessDenied"
    );
    // A condition on a field the form does not have fails, even `starts-with ""`.
    for condition in [
        r#"["eq","$x-custom-field","v"]"#,
        r#"["starts-with","$x-amz-meta-tag",""]"#,
    ] {
        let json = policy(condition);
        let err = verify(&form(&json, &[("key", "uploads/a")])).unwrap_err();
        assert_eq!(err.code(), "AccessDenied", "{condition}");
    }
    let json = policy(r#"["eq","$x-custom-field","v"]"#);
    assert_eq!(
        code(verify(&form(
            &json,
            &[("key", "uploads/a"), ("X-Custom-Field", "v")]
        ))),
        "ok"
    );
}

#[test]
fn rule_37_bad_operators_and_ranges_are_refused() {
    for condition in [
        r#"["ends-with","$key","a"]"#,
        r#"["content-length-range",10,1]"#,
        r#"["content-length-range",-1,10]"#,
        r#"["content-length-range",1]"#,
        r#"["starts-with","key","uploads/"]"#,
    ] {
        let json = policy(condition);
        assert_eq!(
            code(verify(&form(&json, &[("key", "uploads/a")]))),
            "InvalidPolicyDocument",
            "{condition}"
        );
    }
}

#[test]
fn rule_37_exact_only_fields_refuse_starts_with() {
    for (condition, field) in [
        (r#"["starts-with","$bucket",""]"#, None),
        (
            r#"["starts-with","$success_action_status",""]"#,
            Some(("success_action_status", "201")),
        ),
        (
            r#"["starts-with","$tagging",""]"#,
            Some(("tagging", "<Tagging/>")),
        ),
        (r#"["starts-with","$x-amz-date","2026"]"#, None),
    ] {
        let json = policy(condition);
        let mut fields = vec![("key", "uploads/a")];
        fields.extend(field);
        let err = verify(&form(&json, &fields)).unwrap_err();
        assert_eq!(err.code(), "AccessDenied", "{condition}");
        assert!(
            err.to_string().contains("only supports exact matching"),
            "{err}"
        );
    }
}

#[test]
fn rule_37_content_type_lists_must_all_match() {
    let json = policy(r#"["starts-with","$Content-Type","image/"]"#);
    let run = |ct: &str| {
        code(verify(&form(
            &json,
            &[("key", "uploads/a"), ("content-type", ct)],
        )))
    };
    assert_eq!(run("image/png"), "ok");
    assert_eq!(run("image/jpg,image/png,image/gif"), "ok");
    assert_eq!(run("image/png,text/html"), "AccessDenied");
    assert_eq!(run("image/png, text/html"), "AccessDenied");
    assert_eq!(run("text/html,image/png"), "AccessDenied");
    // `eq` compares the whole value.
    let json = policy(r#"{"Content-Type":"image/png,text/html"}"#);
    assert_eq!(
        code(verify(&form(
            &json,
            &[
                ("key", "uploads/a"),
                ("Content-Type", "image/png,text/html")
            ]
        ))),
        "ok"
    );
}

// ---------------------------------------------------------------------------------------
// Rule 38: every field covered; duplicates refused.

#[test]
fn rule_38_every_field_must_be_covered() {
    let json = policy("");
    for extra in [
        ("x-amz-meta-evil", "1"),
        ("acl", "public-read-write"),
        ("success_action_redirect", "https://evil.example/"),
        ("submit", "Upload to Amazon S3"),
        ("Content-Type", "text/html"),
    ] {
        let err = verify(&form(&json, &[("key", "uploads/a"), extra])).unwrap_err();
        assert_eq!(err.code(), "AccessDenied");
        assert_eq!(
            err.to_string(),
            format!(
                "Invalid according to Policy: Extra input fields: {}",
                extra.0
            )
        );
    }
    // Exempt: x-ignore-*, and the signature and policy fields themselves.
    let fields = form(&json, &[("key", "uploads/a"), ("X-Ignore-Flash", "1")]);
    let verified = verify(&fields).unwrap();
    assert_eq!(
        verified.fields().count(),
        0,
        "x-ignore-* fields are not returned"
    );
}

#[test]
fn rule_38_duplicate_fields_are_refused() {
    let json = policy("");
    for second in [("key", "uploads/b"), ("KEY", "uploads/a"), ("Policy", "x")] {
        let err = verify(&form(&json, &[("key", "uploads/a"), second])).unwrap_err();
        assert_eq!(err.code(), "MalformedPOSTRequest", "{second:?}");
        assert_eq!(err.status(), 400);
    }
    // The file is not a field.
    let err = verify(&form(&json, &[("key", "uploads/a"), ("file", "x")])).unwrap_err();
    assert_eq!(err.code(), "MalformedPOSTRequest");
}

// ---------------------------------------------------------------------------------------
// Rule 39: the bucket comes from the request target, never from the form.

#[test]
fn rule_39_bucket_comes_from_the_request() {
    // A form for `victim`, with a `bucket` field saying so, posted to `attacker`.
    let json = policy("").replace(r#"{"bucket":"examplebucket"}"#, r#"{"bucket":"victim"}"#);
    let fields = form(&json, &[("key", "uploads/a"), ("bucket", "victim")]);
    assert_eq!(
        code(verify_at(&fields, "victim", None, "20260101T010000Z")),
        "ok"
    );
    assert_eq!(
        code(verify_at(&fields, "attacker", None, "20260101T010000Z")),
        "AccessDenied"
    );
    // Without the bucket field, the policy's bucket condition still holds against the target.
    let fields = form(&json, &[("key", "uploads/a")]);
    assert_eq!(
        code(verify_at(&fields, "attacker", None, "20260101T010000Z")),
        "AccessDenied"
    );
    // A bucket field naming another bucket than the one the form went to.
    let fields = form(&policy(""), &[("key", "uploads/a"), ("bucket", "victim")]);
    assert_eq!(code(verify(&fields)), "AccessDenied");
}

// ---------------------------------------------------------------------------------------
// Rule 40: `${filename}` expanded (basename) before matching.

#[test]
fn rule_40_filename_is_expanded_to_its_basename_before_matching() {
    let fields = form(&policy(""), &[("key", "uploads/${filename}")]);
    let key = |name: &str| {
        verify_at(&fields, BUCKET, Some(name), "20260101T010000Z").map(|v| v.key().to_owned())
    };
    assert_eq!(key("photo.jpg").unwrap(), "uploads/photo.jpg");
    assert_eq!(key("..\\..\\etc").unwrap(), "uploads/etc");
    assert_eq!(key("a/../../b").unwrap(), "uploads/b");
    assert_eq!(key("C:\\Users\\me\\cat.png").unwrap(), "uploads/cat.png");
    for nothing in ["", "dir/", "..", "."] {
        assert_eq!(
            key(nothing).unwrap_err().code(),
            "InvalidArgument",
            "{nothing:?}"
        );
    }

    // The file name cannot climb out of the prefix the policy allows.
    let bare = form(&policy(""), &[("key", "${filename}")]);
    let err = verify_at(&bare, BUCKET, Some("uploads/x.jpg"), "20260101T010000Z").unwrap_err();
    assert_eq!(err.code(), "AccessDenied");
}

#[test]
fn rule_40_exact_conditions_see_the_expanded_key() {
    let json = policy(r#"{"key":"uploads/${filename}"}"#);
    let fields = form(&json, &[("key", "uploads/${filename}")]);
    // Expanded first, so the literal condition no longer matches...
    assert_eq!(
        code(verify_at(
            &fields,
            BUCKET,
            Some("a.jpg"),
            "20260101T010000Z"
        )),
        "AccessDenied"
    );
    // ...unless the file part has no filename, where S3 keeps `${filename}` as it is.
    let verified = verify_at(&fields, BUCKET, None, "20260101T010000Z").unwrap();
    assert_eq!(verified.key(), "uploads/${filename}");

    // Other fields are expanded too.
    let json = policy(r#"["starts-with","$Content-Disposition","attachment"]"#);
    let fields = form(
        &json,
        &[
            ("key", "uploads/a"),
            (
                "Content-Disposition",
                "attachment; filename=\"${filename}\"",
            ),
        ],
    );
    let verified = verify_at(&fields, BUCKET, Some("r.pdf"), "20260101T010000Z").unwrap();
    assert_eq!(
        verified.field("content-disposition"),
        Some("attachment; filename=\"r.pdf\"")
    );
}

// ---------------------------------------------------------------------------------------
// Rule 41: sizes: the file's bytes against content-length-range; bounded fields and policy.

#[test]
fn rule_41_content_length_range_is_checked_on_the_file_bytes() {
    let json = policy(r#"["content-length-range",5,10]"#);
    let verified = verify(&form(&json, &[("key", "uploads/a")])).unwrap();
    assert_eq!(verified.content_length_range(), Some((5, 10)));
    for ok in [5, 7, 10] {
        verified.check_file_size(ok).unwrap();
    }
    assert_eq!(
        verified.check_file_size(11).unwrap_err(),
        VerifyError::EntityTooLarge {
            max_size_allowed: 10,
            proposed_size: 11
        }
    );
    assert_eq!(
        verified.check_file_size(4).unwrap_err(),
        VerifyError::EntityTooSmall {
            min_size_allowed: 5,
            proposed_size: 4
        }
    );
    // Streamed: whatever length was declared, the checker stops at the first byte too many.
    let mut checker = verified.length_checker();
    checker.update(b"0123456789").unwrap();
    let err = checker.update(b"x").unwrap_err();
    assert_eq!(err.code(), "EntityTooLarge");
    assert_eq!(err.status(), 400);
    let mut short = verified.length_checker();
    short.update(b"abc").unwrap();
    assert_eq!(short.finish().unwrap_err().code(), "EntityTooSmall");

    // Several ranges: all apply.
    let json = policy(r#"["content-length-range",0,100],["content-length-range",50,1000]"#);
    let verified = verify(&form(&json, &[("key", "uploads/a")])).unwrap();
    assert_eq!(verified.content_length_range(), Some((50, 100)));
}

#[test]
fn rule_41_form_fields_and_policy_are_bounded() {
    let json = policy("");
    let many: Vec<(String, String)> = (0..presign::limits::MAX_POST_FIELDS)
        .map(|i| (format!("x-ignore-{i}"), String::new()))
        .collect();
    let mut fields = form(&json, &[("key", "uploads/a")]);
    fields.extend(many);
    assert_eq!(code(verify(&fields)), "MalformedPOSTRequest");

    let big = "x".repeat(2 * 1024 * 1024);
    let fields = form(&json, &[("key", "uploads/a"), ("x-ignore-big", &big)]);
    let err = verify(&fields).unwrap_err();
    assert_eq!(err.code(), "MalformedPOSTRequest");
    assert!(err.to_string().contains("too large"));

    // A policy padded with JSON whitespace past MAX_POST_POLICY_LEN, the form still under
    // MAX_POST_FORM_BYTES: refused for the policy's own bound.
    let padded = policy("").replacen('{', &format!("{{{}", " ".repeat(12_400)), 1);
    let fields = form(&padded, &[("key", "uploads/a")]);
    let policy_len = fields.iter().find(|(n, _)| n == "policy").unwrap().1.len();
    assert!(policy_len > presign::limits::MAX_POST_POLICY_LEN);
    assert!(policy_len < presign::limits::MAX_POST_FORM_BYTES - 1024);
    let err = verify(&fields).unwrap_err();
    assert_eq!(err.code(), "MalformedPOSTRequest");
    assert!(err.to_string().contains("policy"), "{err}");
}

#[test]
fn rule_41_fields_after_the_file_are_not_part_of_the_form() {
    // The documentation's form ends with `submit` after the file: the caller stops at the
    // file part, and the form verifies without it. Passed as a field, it would be refused.
    let mut with_submit = doc_form();
    with_submit.push(("submit".into(), "Upload to Amazon S3".into()));
    let err = verify_at(
        &with_submit,
        "sigv4examplebucket",
        Some("photo.jpg"),
        "20151229T120000Z",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid according to Policy: Extra input fields: submit"
    );
}

// ---------------------------------------------------------------------------------------
// Builder basics not covered by the round-trip properties.

#[test]
fn builder_fields_policy_and_html() {
    let endpoint = Endpoint::aws("us-east-1").unwrap();
    let bucket = Bucket::new(BUCKET).unwrap();
    let signer = Signer::new(
        Credentials::new(AKID, SECRET)
            .unwrap()
            .with_session_token("tok<&>")
            .unwrap(),
        "us-east-1",
        "s3",
    )
    .unwrap();
    let form = PresignedPost::builder(&endpoint, &bucket, PostKey::exact("a \"b\".txt"))
        .acl("private")
        .metadata("uuid", "14365123651274")
        .sign(&signer, t(DATE))
        .unwrap();
    let names: Vec<&str> = form.fields().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "key",
            "acl",
            "x-amz-meta-uuid",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-security-token",
            "policy",
            "x-amz-signature"
        ]
    );
    assert_eq!(
        form.policy().to_json(),
        concat!(
            r#"{"expiration":"2026-01-01T01:00:00.000Z","conditions":[{"bucket":"examplebucket"},"#,
            r#"{"key":"a \"b\".txt"},{"acl":"private"},{"x-amz-meta-uuid":"14365123651274"},"#,
            r#"{"x-amz-algorithm":"AWS4-HMAC-SHA256"},"#,
            r#"{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request"},"#,
            r#"{"x-amz-date":"20260101T000000Z"},{"x-amz-security-token":"tok<&>"}]}"#
        )
    );
    assert_eq!(form.expires_at(), t("20260101T010000Z"));
    let html = form.to_html();
    assert!(html.starts_with(
        "<form action=\"https://examplebucket.s3.amazonaws.com/\" method=\"post\" enctype=\"multipart/form-data\">\n"
    ));
    assert!(html.contains("<input type=\"hidden\" name=\"key\" value=\"a &quot;b&quot;.txt\">"));
    assert!(html.contains("value=\"tok&lt;&amp;&gt;\""));
    assert!(!format!("{form:?}").contains("tok<&>"));
    let file = html.find("type=\"file\"").unwrap();
    assert!(html.rfind("type=\"hidden\"").unwrap() < file);
}
