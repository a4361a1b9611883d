//! The official AWS SigV4 test suite (tests/vectors, see tests/vectors/NOTICE): all 38 cases in
//! header form and in presigned-query form, byte for byte (canonical request, string to sign,
//! signature), plus the two double-encoding cases and the legacy presigned case.

mod common;

use common::*;
use presign::{
    Credentials, Expiry, PayloadHash, PresignRequest, SignableRequest, Signer, SigningTime,
    UriEncoding, canonical_request, string_to_sign,
};
use serde_json::Value;

struct Case {
    name: String,
    dir: std::path::PathBuf,
    ctx: Value,
    request: RawRequest,
}

impl Case {
    fn file(&self, name: &str) -> String {
        read(&self.dir.join(name))
    }
    fn time(&self) -> SigningTime {
        SigningTime::parse_amz_date(&iso_to_amz(self.ctx["timestamp"].as_str().unwrap())).unwrap()
    }
    fn normalize(&self) -> bool {
        self.ctx["normalize"].as_bool().unwrap()
    }
    fn mode(&self) -> UriEncoding {
        if self.normalize() {
            UriEncoding::Double
        } else {
            UriEncoding::S3
        }
    }
    fn token(&self) -> Option<&str> {
        self.ctx["credentials"]["token"].as_str()
    }
    fn omit_token(&self) -> bool {
        self.ctx["omit_session_token"].as_bool().unwrap_or(false)
    }
    fn sign_body(&self) -> bool {
        self.ctx["sign_body"].as_bool().unwrap()
    }
    fn credentials(&self) -> Credentials {
        let c = &self.ctx["credentials"];
        let creds = Credentials::new(
            c["access_key_id"].as_str().unwrap(),
            c["secret_access_key"].as_str().unwrap(),
        )
        .unwrap();
        match self.token() {
            Some(t) => creds.with_session_token(t).unwrap(),
            None => creds,
        }
    }
    fn signer(&self) -> Signer {
        Signer::new(
            self.credentials(),
            self.ctx["region"].as_str().unwrap(),
            self.ctx["service"].as_str().unwrap(),
        )
        .unwrap()
        .with_uri_encoding(self.mode())
        .with_content_sha256_header(self.sign_body())
        .with_session_token_signed(!self.omit_token())
    }
    /// The suite's request files hold the path raw (see the vectors README): decode it, and it is
    /// what is sent.
    fn path(&self) -> String {
        decode(self.request.path())
    }
}

fn cases() -> Vec<Case> {
    let root = vectors_dir().join("v4");
    let mut cases: Vec<Case> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").exists())
        .map(|dir| Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            ctx: serde_json::from_str(&read(&dir.join("context.json"))).unwrap(),
            request: parse_request(&read(&dir.join("request.txt"))),
            dir,
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn suite_has_38_cases() {
    assert_eq!(cases().len(), 38);
}

#[test]
fn header_form_matches_byte_for_byte() {
    let mut failures = Vec::new();
    for case in cases() {
        let signer = case.signer();
        let time = case.time();
        let amz = time.amz_date();
        let payload = PayloadHash::from_body(&case.request.body);
        let path = case.path();
        let target = if case.request.query().is_empty() {
            path.clone()
        } else {
            format!("{path}?{}", case.request.query())
        };
        let base: Vec<(&str, &str)> = case
            .request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = SignableRequest::new(&case.request.method, &target, &base, payload).unwrap();
        let auth = signer.sign_headers(&req, time).unwrap();

        // The request as signed: its headers plus the signed ones the signer added.
        let mut signed: Vec<(&str, &str)> = base.clone();
        for (n, v) in auth.iter() {
            let is_signed =
                n != "authorization" && !(n == "x-amz-security-token" && case.omit_token());
            if is_signed {
                signed.push((n, v));
            }
        }
        let signed_req =
            SignableRequest::new(&case.request.method, &target, &signed, payload).unwrap();
        let creq = canonical_request(&signed_req, case.mode()).unwrap();
        let sts = string_to_sign(&amz, &signer.scope(time), creq.as_str());
        let expected_creq = case.file("header-canonical-request.txt");
        let expected_sts = case.file("header-string-to-sign.txt");
        let expected_sig = case.file("header-signature.txt");
        let expected_auth = parse_request(&case.file("header-signed-request.txt"))
            .header("Authorization")
            .unwrap()
            .to_owned();
        if creq.as_str() != expected_creq {
            failures.push(format!(
                "{}: canonical request\n{}\n--- expected\n{}",
                case.name, creq, expected_creq
            ));
        } else if sts != expected_sts {
            failures.push(format!(
                "{}: string to sign\n{sts}\n--- expected\n{expected_sts}",
                case.name
            ));
        } else if auth.signature().to_hex().as_str() != expected_sig.trim() {
            failures.push(format!("{}: signature {}", case.name, auth.signature()));
        } else if auth.authorization() != expected_auth {
            failures.push(format!(
                "{}: authorization {}",
                case.name,
                auth.authorization()
            ));
        }
        if case.omit_token() {
            assert_eq!(
                auth.session_token(),
                case.token(),
                "{}: token still returned",
                case.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn query_form_matches_byte_for_byte() {
    let mut failures = Vec::new();
    for case in cases() {
        let signer = case.signer();
        let time = case.time();
        let amz = time.amz_date();
        let path = case.path();
        let authority = case.request.header("Host").unwrap().to_owned();
        let query_pairs: Vec<(String, String)> = case
            .request
            .query()
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode(k), decode(v))
            })
            .collect();
        let query: Vec<(&str, &str)> = query_pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let extra: Vec<(&str, &str)> = case
            .request
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let expires =
            Expiry::from_secs(case.ctx["expiration_in_seconds"].as_u64().unwrap()).unwrap();
        let payload = PayloadHash::from_body(&case.request.body);
        let req = PresignRequest::new(&case.request.method, "https", &authority, &path)
            .query(&query)
            .headers(&extra)
            .payload(payload)
            .expires(expires);
        let presigned = signer.presign(&req, time).unwrap();
        let url = presigned.url();
        let signature = url.rsplit_once("&X-Amz-Signature=").unwrap().1;

        // Recompute the canonical request from the URL as a verifier would see it.
        let unsigned_target = url
            .strip_prefix(&format!("https://{authority}"))
            .unwrap()
            .rsplit_once("&X-Amz-Signature=")
            .unwrap()
            .0
            .to_owned();
        let signature = signature.split('&').next().unwrap();
        if case.omit_token() {
            assert!(
                url.contains("&X-Amz-Security-Token="),
                "{}: token not appended",
                case.name
            );
        }
        let mut headers: Vec<(&str, &str)> = vec![("host", authority.as_str())];
        headers.extend(extra.iter().copied());
        let creq = canonical_request(
            &SignableRequest::new(&case.request.method, &unsigned_target, &headers, payload)
                .unwrap(),
            case.mode(),
        )
        .unwrap();
        let sts = string_to_sign(&amz, &signer.scope(time), creq.as_str());
        let expected_creq = case.file("query-canonical-request.txt");
        let expected_sts = case.file("query-string-to-sign.txt");
        let expected_sig = case.file("query-signature.txt");
        if creq.as_str() != expected_creq {
            failures.push(format!(
                "{}: canonical request\n{}\n--- expected\n{}",
                case.name, creq, expected_creq
            ));
        } else if sts != expected_sts {
            failures.push(format!(
                "{}: string to sign\n{sts}\n--- expected\n{expected_sts}",
                case.name
            ));
        } else if signature != expected_sig.trim() {
            failures.push(format!(
                "{}: signature {signature} expected {}",
                case.name,
                expected_sig.trim()
            ));
        }
        assert_eq!(
            presigned.expires_at().unix_timestamp(),
            time.unix_timestamp() + 3600
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `double-url-encode` and `double-encode-path`: the path as sent is encoded once more.
#[test]
fn double_encoding_canonical_uris() {
    for name in ["double-url-encode", "double-encode-path"] {
        let dir = vectors_dir().join("v4").join(name);
        let request = parse_request(&read(&dir.join("request.txt")));
        let expected = read(&dir.join("header-canonical-request.txt"));
        let expected_uri = expected.lines().nth(1).unwrap();
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = SignableRequest::new(
            &request.method,
            &request.target,
            &headers,
            PayloadHash::empty(),
        )
        .unwrap();
        let creq = canonical_request(&req, UriEncoding::Double).unwrap();
        assert_eq!(
            creq.as_str().lines().nth(1).unwrap(),
            expected_uri,
            "{name}"
        );
        // Single (S3) encoding of the same path must differ: the test can tell the modes apart.
        let s3 = canonical_request(&req, UriEncoding::S3).unwrap();
        assert_ne!(s3.as_str().lines().nth(1).unwrap(), expected_uri, "{name}");
    }
    // double-url-encode has a complete expected canonical request: check all of it.
    let dir = vectors_dir().join("v4/double-url-encode");
    let request = parse_request(&read(&dir.join("request.txt")));
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let req = SignableRequest::new(
        &request.method,
        &request.target,
        &headers,
        PayloadHash::from_body(&request.body),
    )
    .unwrap();
    let creq = canonical_request(&req, UriEncoding::Double).unwrap();
    assert_eq!(
        creq.as_str(),
        read(&dir.join("header-canonical-request.txt"))
    );
}

/// The legacy suite's one presigned case (`ANOTREAL`, 35 s, empty-body payload hash).
#[test]
fn legacy_presigned_query() {
    let dir = vectors_dir().join("legacy/get-vanilla-query-order-key-case");
    let expected = parse_request(&read(&dir.join("get-vanilla-query-order-key-case.qpsreq")));
    let creds = Credentials::new("ANOTREAL", "notrealrnrELgWzOk3IfjzDKtFBhDby").unwrap();
    let signer = Signer::new(creds, "us-east-1", "service").unwrap();
    let time = SigningTime::parse_amz_date("20150830T123600Z").unwrap();
    let req = PresignRequest::new("GET", "https", "example.amazonaws.com", "/")
        .query(&[("Param2", "value2"), ("Param1", "value1")])
        .payload(PayloadHash::empty())
        .expires(Expiry::from_secs(35).unwrap());
    let url = signer.presign(&req, time).unwrap().into_url();
    let expected_sig = expected.target.rsplit_once("X-Amz-Signature=").unwrap().1;
    assert_eq!(url.rsplit_once("X-Amz-Signature=").unwrap().1, expected_sig);
}

/// Legacy header-form cases whose files are consistent (the README flags the others).
#[test]
fn legacy_header_cases() {
    let root = vectors_dir().join("legacy");
    let skip = [
        "double-url-encode",
        "double-encode-path",
        "post-x-www-form-urlencoded",
        "post-x-www-form-urlencoded-parameters",
        "get-header-value-multiline",
        "normalize-path",
        "iam",
    ];
    let creds =
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap();
    let signer = Signer::new(creds, "us-east-1", "service").unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let req_file = dir.join(format!("{name}.req"));
        if !dir.is_dir() || skip.contains(&name.as_str()) || !req_file.exists() {
            continue;
        }
        let mut request = parse_request(&read(&req_file));
        if request.header("X-Amz-Date").is_none() {
            request
                .headers
                .push(("X-Amz-Date".into(), "20150830T123600Z".into()));
        }
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let target = if request.query().is_empty() {
            decode(request.path())
        } else {
            format!("{}?{}", decode(request.path()), request.query())
        };
        let req = SignableRequest::new(
            &request.method,
            &target,
            &headers,
            PayloadHash::from_body(&request.body),
        )
        .unwrap();
        let creq = canonical_request(&req, UriEncoding::Double).unwrap();
        assert_eq!(
            creq.as_str(),
            read(&dir.join(format!("{name}.creq"))),
            "{name}"
        );
        let time = SigningTime::parse_amz_date(request.header("X-Amz-Date").unwrap()).unwrap();
        let sig = signer.sign_string(
            &string_to_sign(&time.amz_date(), &signer.scope(time), creq.as_str()),
            time,
        );
        let authz = read(&dir.join(format!("{name}.authz")));
        assert!(
            authz.ends_with(&format!("Signature={sig}")),
            "{name}: {authz}"
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} legacy cases checked");
}
