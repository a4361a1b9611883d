//! Presign an S3 request from the command line.
//!
//! ```text
//! cargo run --example presign -- s3://BUCKET/KEY [--method GET|PUT|HEAD|DELETE|POST]
//!     [--expires-in 1h] [--content-type T] [--header 'Name: value']... [--query k=v]...
//!     [--endpoint-url URL] [--region R] [--addressing-style auto|virtual|path]
//!     [--signing-time 20130524T000000Z] [--output url|json]
//! ```
//!
//! Everything after `s3://BUCKET/` is the key, byte for byte (`?`, `#`, `%` and `//` included:
//! `s3://b//a` is key `/a`). `s3://BUCKET` alone presigns a bucket-level request, e.g.
//! ListObjectsV2 with `--query list-type=2`. `--query uploads=` (or `--query uploads`) gives
//! the valueless `uploads` parameter of CreateMultipartUpload.
//!
//! Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`;
//! without them the AWS documentation's example keys are used (and stderr says so). The region
//! is `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`; the endpoint
//! `--endpoint-url`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else AWS.
//!
//! stdout is the URL (`--output url`, with the headers the client must send on stderr as
//! `Name: value` lines) or one JSON object `{"url", "method", "headers", "expires"}`. Bad
//! input gives one `error: …` line on stderr and exit status 2.

mod support;

use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use presign::s3::{Bucket, S3Request};
use presign::{PresignedRequest, Signer};

#[derive(Parser, Debug)]
#[command(
    name = "presign",
    about = "Presign an S3 request (no network access: prints the URL and the headers to send)"
)]
struct Args {
    /// s3://BUCKET/KEY (the key verbatim), or s3://BUCKET for a bucket-level request.
    target: String,

    /// HTTP method.
    #[arg(long, value_enum, ignore_case = true, default_value = "GET")]
    method: Method,

    /// Content-Type to sign (the client must send it).
    #[arg(long)]
    content_type: Option<String>,

    /// Extra header to sign, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,

    /// Query parameter to sign, k=v; `k` or `k=` for an empty value (repeatable).
    #[arg(long = "query", value_name = "K=V")]
    query: Vec<String>,

    #[command(flatten)]
    signing: support::SigningArgs,

    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "url")]
    output: Output,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Method {
    #[value(name = "GET")]
    Get,
    #[value(name = "PUT")]
    Put,
    #[value(name = "HEAD")]
    Head,
    #[value(name = "DELETE")]
    Delete,
    #[value(name = "POST")]
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Head => "HEAD",
            Method::Delete => "DELETE",
            Method::Post => "POST",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Url,
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let (bucket_name, key) = parse_s3_url(&args.target)?;
    let bucket = Bucket::new(bucket_name).map_err(|e| e.to_string())?;
    let expires = args.signing.expiry()?;
    let time = args.signing.time()?;
    let region = args.signing.region();

    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(ct) = &args.content_type {
        headers.push(("content-type".to_owned(), ct.clone()));
    }
    for h in &args.headers {
        let (name, value) = support::parse_header(h)?;
        if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(format!("header {name:?} is given twice"));
        }
        headers.push((name, value));
    }
    let query: Vec<(&str, &str)> = args
        .query
        .iter()
        .map(|q| q.split_once('=').unwrap_or((q.as_str(), "")))
        .collect();
    if let Some((name, _)) = query.iter().find(|(n, _)| n.is_empty()) {
        return Err(format!("a query parameter has an empty name ({name:?}=…)"));
    }

    let (credentials, example_keys) = support::credentials_from_env()?;
    let signer = Signer::new(credentials, &region, "s3").map_err(|e| e.to_string())?;
    let endpoint = args.signing.endpoint(&region)?;

    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let method = args.method.as_str();
    let request = match key {
        Some(key) => S3Request::object(&endpoint, &bucket, key, method),
        None => S3Request::bucket(&endpoint, &bucket, method),
    }
    .query(&query)
    .headers(&header_refs);
    let presigned = request
        .presign(&signer, time, expires)
        .map_err(|e| e.to_string())?;
    // Said only once the URL exists, so that a failure stays a single `error:` line.
    if example_keys {
        support::note_example_keys();
    }
    print(&presigned, args.output)
}

/// Splits `s3://bucket/key`: the key is everything after the first `/`, verbatim; `None` for
/// `s3://bucket` and `s3://bucket/`.
fn parse_s3_url(target: &str) -> Result<(&str, Option<&str>), String> {
    let rest = target
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{target:?} is not an s3://BUCKET/KEY URL"))?;
    let (bucket, key) = match rest.split_once('/') {
        Some((bucket, "")) => (bucket, None),
        Some((bucket, key)) => (bucket, Some(key)),
        None => (rest, None),
    };
    if bucket.is_empty() {
        return Err(format!(
            "{target:?} has no bucket (expected s3://BUCKET/KEY)"
        ));
    }
    Ok((bucket, key))
}

fn print(presigned: &PresignedRequest, output: Output) -> Result<(), String> {
    match output {
        Output::Url => {
            println!("{}", presigned.url());
            for (name, value) in presigned.headers() {
                eprintln!("{name}: {value}");
            }
        }
        Output::Json => {
            // A struct keeps the fields in this order; the headers map is sorted by name,
            // which is also the order they were signed in.
            #[derive(serde::Serialize)]
            struct Json<'a> {
                url: &'a str,
                method: &'a str,
                headers: std::collections::BTreeMap<&'a str, &'a str>,
                expires: String,
            }
            let json = Json {
                url: presigned.url(),
                method: presigned.method(),
                headers: presigned.headers().collect(),
                expires: support::rfc3339(presigned.expires_at()),
            };
            let text = serde_json::to_string(&json).map_err(|e| e.to_string())?;
            println!("{text}");
        }
    }
    Ok(())
}
