//! Verifies a presigned URL, a header-signed request or a browser POST form, as a server
//! embedding `presign` would.
//!
//! ```text
//! cargo run --example verify -- [--method M] [--header 'Name: value']... [--now 20130524T000000Z]
//!     [--region R]... [--service S] [--body FILE [--decoded-out OUT] [--strict-chunk-size]] URL
//! cargo run --example verify -- --form FIELDS.json --bucket B [--file-name N] [--file-size BYTES]
//!     [--now T] [--region R]... URL
//! ```
//!
//! With `--form`, FIELDS.json holds the form fields before the file, in form order: a JSON
//! object, or an array of `[name, value]` pairs (a name given twice is kept twice, and
//! refused). `--bucket` is the bucket the form was posted to (a server takes it from its route,
//! never from the form), URL the form action. `--file-name` is the file part's `filename`;
//! `--file-size` checks the file's size against the policy's `content-length-range`.
//!
//! Exit 0 and `{"ok":true,…}` when the request verifies; exit 1 and `{"ok":false,"code":…}`
//! when it does not; exit 2 when the arguments are unusable.

mod support;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use presign::SigningTime;
use presign::chunked::{ChunkedDecoder, DecodeSummary, DecoderConfig};
use presign::post::IncomingPost;
use presign::verify::{
    InMemoryCredentials, IncomingRequest, StoredCredential, Verifier, VerifierConfig, VerifyError,
};
use serde_json::{Value, json};

/// Verify a presigned URL or an Authorization-header request.
#[derive(Parser, Debug)]
#[command(name = "verify")]
struct Args {
    /// HTTP method of the request.
    #[arg(long, default_value = "GET")]
    method: String,
    /// A request header, `Name: value` (repeatable). `host` defaults to the URL's authority.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The server time (yyyyMMddTHHmmssZ); default: now.
    #[arg(long)]
    now: Option<String>,
    /// An accepted region (repeatable); default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1.
    #[arg(long = "region")]
    regions: Vec<String>,
    /// The accepted service.
    #[arg(long, default_value = "s3")]
    service: String,
    /// A file holding the request body, checked against the signed payload hash (or, for
    /// aws-chunked uploads, decoded and verified chunk by chunk).
    #[arg(long)]
    body: Option<std::path::PathBuf>,
    /// With an aws-chunked `--body`: where to write the decoded payload. Only verified chunks
    /// are written, so a tampered stream leaves nothing past the last verified chunk.
    #[arg(long, requires = "body")]
    decoded_out: Option<std::path::PathBuf>,
    /// With an aws-chunked `--body`: refuse non-final chunks under 8 KiB, as S3 does.
    #[arg(long)]
    strict_chunk_size: bool,
    /// Verify a browser POST form: a JSON file with its fields before the file.
    #[arg(long, value_name = "FIELDS.json", requires = "bucket")]
    form: Option<std::path::PathBuf>,
    /// With --form: the bucket the form was posted to.
    #[arg(long, requires = "form")]
    bucket: Option<String>,
    /// With --form: the file part's file name (replaces `${filename}`).
    #[arg(long, requires = "form")]
    file_name: Option<String>,
    /// With --form: the file's size in bytes, checked against content-length-range.
    #[arg(long, requires = "form")]
    file_size: Option<u64>,
    /// The request URL as received (`https://host/path?query`); with --form, the form action.
    url: String,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(&args) {
        Ok(Ok(report)) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Ok(Err(report)) => {
            println!("{report}");
            ExitCode::from(1)
        }
        Err(usage) => {
            eprintln!("error: {usage}");
            ExitCode::from(2)
        }
    }
}

/// Splits `scheme://authority/target` by hand: a URL parser would normalise the path.
fn split_url(url: &str) -> Result<(&str, String), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} is not an http(s) URL"))?;
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    // `https://host?query` has an empty path, which is `/`.
    let target = if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_owned()
    };
    let target = target.split('#').next().unwrap_or_default().to_owned();
    Ok((authority, target))
}

fn run(args: &Args) -> Result<Result<Value, Value>, String> {
    let (creds, example_keys) = support::credentials_from_env()?;
    if example_keys {
        support::note_example_keys();
    }
    let now = match &args.now {
        Some(t) => SigningTime::parse_amz_date(t).map_err(|e| e.to_string())?,
        None => SigningTime::now(),
    };
    let (authority, target) = split_url(&args.url)?;
    let verifier = verifier(args, &creds)?;
    if let Some(path) = &args.form {
        return verify_form(args, &verifier, path, now);
    }
    let mut headers = args
        .headers
        .iter()
        .map(|h| support::parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        headers.insert(0, ("host".to_owned(), authority.to_owned()));
    }
    let body = match &args.body {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
        }
        None => None,
    };

    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = IncomingRequest::new(&args.method, &target, &header_refs[..]);
    let verified = match verifier.verify(&request, now) {
        Ok(v) => v,
        Err(e) => return Ok(Err(failure(&e))),
    };
    let mut decoded = None;
    if let Some(body) = &body {
        if verified.payload().is_streaming() {
            match decode_chunked(&verified, body, args)? {
                Ok(summary) => decoded = Some(summary),
                Err(e) => return Ok(Err(failure(&e))),
            }
        } else if let Some(mut checker) = verified.body_checker() {
            checker.update(body);
            if let Err(e) = checker.finish() {
                return Ok(Err(failure(&e)));
            }
        }
    }
    Ok(Ok(json!({
        "ok": true,
        "access_key_id": verified.access_key_id(),
        "mechanism": format!("{:?}", verified.mechanism()),
        "signing_time": support::rfc3339(verified.signing_time()),
        "expires": verified.expires_at().map(support::rfc3339),
        "signed_headers": verified.signed_headers().collect::<Vec<_>>(),
        "payload": verified.payload().as_str(),
        "decoded_length": decoded.as_ref().map(DecodeSummary::decoded_length),
        "checksum": decoded.as_ref().and_then(DecodeSummary::checksum).map(|c| c.to_base64()),
    })))
}

/// Decodes an aws-chunked body in 64 KiB reads (as it would arrive from a socket), writing each
/// chunk to `--decoded-out` only once it has verified.
fn decode_chunked(
    verified: &presign::verify::VerifiedRequest<'_>,
    body: &[u8],
    args: &Args,
) -> Result<Result<DecodeSummary, VerifyError>, String> {
    let config = DecoderConfig::default().strict_chunk_size(args.strict_chunk_size);
    let mut decoder = match ChunkedDecoder::from_verified(verified, config) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let mut out = match &args.decoded_out {
        Some(path) => Some(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut write_error = None;
    let mut sink = |bytes: &[u8]| {
        if let Some(file) = out.as_mut() {
            if let Err(e) = file.write_all(bytes) {
                write_error.get_or_insert(e);
            }
        }
    };
    for piece in body.chunks(64 * 1024) {
        if let Err(e) = decoder.feed(piece, &mut sink) {
            return Ok(Err(e));
        }
    }
    if let Some(e) = write_error {
        return Err(format!("cannot write the decoded payload: {e}"));
    }
    Ok(decoder.finish())
}

/// A verifier holding the credentials of the environment (or the documentation's).
fn verifier(
    args: &Args,
    creds: &presign::Credentials,
) -> Result<Verifier<InMemoryCredentials>, String> {
    let store = InMemoryCredentials::new();
    let stored = match creds.session_token() {
        Some(token) => StoredCredential::temporary(creds.secret_access_key(), token, None),
        None => StoredCredential::new(creds.secret_access_key()),
    }
    .map_err(|e| e.to_string())?;
    store
        .insert(creds.access_key_id(), stored)
        .map_err(|e| e.to_string())?;
    let regions = if args.regions.is_empty() {
        vec![support::region_from_env(None)]
    } else {
        args.regions.clone()
    };
    let config = VerifierConfig::default()
        .regions(regions)
        .services([args.service.as_str()]);
    Ok(Verifier::new(store, config))
}

/// The form fields of FIELDS.json, in file order: an object (read member by member, so that
/// order and repeated names survive) or an array of `[name, value]` pairs.
struct FormFields(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for FormFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FormFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of string fields, or an array of [name, value] pairs")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FormFields, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    out.push(pair);
                }
                Ok(FormFields(out))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FormFields, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = seq.next_element::<(String, String)>()? {
                    out.push(pair);
                }
                Ok(FormFields(out))
            }
        }
        d.deserialize_any(V)
    }
}

fn verify_form(
    args: &Args,
    verifier: &Verifier<InMemoryCredentials>,
    path: &std::path::Path,
    now: SigningTime,
) -> Result<Result<Value, Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let FormFields(fields) =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a form: {e}", path.display()))?;
    let bucket = args.bucket.as_deref().unwrap_or_default();
    let mut post = IncomingPost::new(bucket, &fields[..]);
    if let Some(name) = &args.file_name {
        post = post.with_file_name(name);
    }
    let verified = match verifier.verify_post(&post, now) {
        Ok(v) => v,
        Err(e) => return Ok(Err(failure(&e))),
    };
    if let Some(size) = args.file_size {
        if let Err(e) = verified.check_file_size(size) {
            return Ok(Err(failure(&e)));
        }
    }
    Ok(Ok(json!({
        "ok": true,
        "access_key_id": verified.access_key_id(),
        "mechanism": "PostPolicy",
        "signing_time": support::rfc3339(verified.signing_time()),
        "expires": support::rfc3339(verified.expires_at()),
        "bucket": verified.bucket(),
        "key": verified.key(),
        "fields": verified.fields().map(|(n, v)| [n, v]).collect::<Vec<_>>(),
        "content_length_range": verified.content_length_range().map(|(min, max)| [min, max]),
    })))
}

fn failure(e: &VerifyError) -> Value {
    let mut out = json!({
        "ok": false,
        "code": e.code(),
        "status": e.status(),
        "message": e.message(),
    });
    if let VerifyError::SignatureDoesNotMatch {
        canonical_request,
        string_to_sign,
        ..
    } = e
    {
        // A POST form has no canonical request: its string to sign is the policy.
        if !canonical_request.is_empty() {
            out["canonical_request"] = json!(canonical_request);
        }
        out["string_to_sign"] = json!(string_to_sign);
    }
    if let VerifyError::HeadersNotSigned { headers } = e {
        out["headers_not_signed"] = json!(headers);
    }
    out
}
