//! Verifies a presigned URL or a header-signed request, as a server embedding `presign` would.
//!
//! ```text
//! cargo run --example verify -- [--method M] [--header 'Name: value']... [--now 20130524T000000Z]
//!     [--region R]... [--service S] [--body FILE [--decoded-out OUT] [--strict-chunk-size]] URL
//! ```
//!
//! Exit 0 and `{"ok":true,…}` when the request verifies; exit 1 and `{"ok":false,"code":…}`
//! when it does not; exit 2 when the arguments are unusable.

mod support;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use presign::SigningTime;
use presign::chunked::{ChunkedDecoder, DecodeSummary, DecoderConfig};
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
    /// The request URL as received (`https://host/path?query`).
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
    let verifier = Verifier::new(store, config);

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
        out["canonical_request"] = json!(canonical_request);
        out["string_to_sign"] = json!(string_to_sign);
    }
    if let VerifyError::HeadersNotSigned { headers } = e {
        out["headers_not_signed"] = json!(headers);
    }
    out
}
