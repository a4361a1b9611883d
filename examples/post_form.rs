//! Writes a self-contained HTML page with a signed browser upload form to stdout.
//!
//! ```text
//! cargo run --example post_form -- s3://BUCKET/uploads/ --max-size 10MiB --content-type-prefix image/
//!     [--min-size N] [--content-type T] [--expires-in 1h] [--acl A] [--success-action-status 201]
//!     [--success-action-redirect URL] [--endpoint-url URL] [--region R]
//!     [--addressing-style auto|virtual|path] [--signing-time 20130524T000000Z] > upload.html
//! ```
//!
//! The key is everything after `s3://BUCKET/`: a key ending in `/` (or empty) uploads under
//! that prefix with the file's own name (`uploads/${filename}`), a key ending in `${filename}`
//! likewise; any other key is used exactly. Sizes are bytes or a number with `KB`, `MB`, `GB`
//! (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024).
//!
//! Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`;
//! without them the AWS documentation's example keys are used (and stderr says so). Region and
//! endpoint as for the `presign` example. Bad input gives one `error: …` line on stderr and
//! exit status 2.

mod support;

use std::process::ExitCode;

use clap::Parser;
use presign::Signer;
use presign::post::{FILENAME_VARIABLE, PostKey, PresignedPost};
use presign::s3::Bucket;

#[derive(Parser, Debug)]
#[command(
    name = "post_form",
    about = "Write an HTML page with a signed S3 browser upload form (no network access)"
)]
struct Args {
    /// s3://BUCKET/PREFIX/ (the file's name is appended) or s3://BUCKET/KEY.
    target: String,
    /// Largest file accepted (content-length-range), e.g. 10MiB.
    #[arg(long)]
    max_size: Option<String>,
    /// Smallest file accepted (default 0).
    #[arg(long)]
    min_size: Option<String>,
    /// The Content-Type must start with this (`image/`); the page sets it from the file.
    #[arg(long, conflicts_with = "content_type")]
    content_type_prefix: Option<String>,
    /// The Content-Type must be exactly this.
    #[arg(long)]
    content_type: Option<String>,
    /// Canned ACL of the uploaded object.
    #[arg(long)]
    acl: Option<String>,
    /// Status S3 answers with: 200, 201 or 204.
    #[arg(long)]
    success_action_status: Option<u16>,
    /// Where S3 redirects the browser after the upload.
    #[arg(long)]
    success_action_redirect: Option<String>,
    #[command(flatten)]
    signing: support::SigningArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(page) => {
            print!("{page}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// `10MiB` → 10485760; `1.5` and negative numbers are refused.
fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a size: use bytes or KB, MB, GB, KiB, MiB, GiB");
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "MB" => 1000 * 1000,
        "GB" => 1000 * 1000 * 1000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(bad()),
    };
    number.checked_mul(factor).ok_or_else(bad)
}

fn run(args: &Args) -> Result<String, String> {
    let rest = args
        .target
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{:?} is not an s3://BUCKET/KEY URL", args.target))?;
    let (bucket_name, key) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket = Bucket::new(bucket_name).map_err(|e| e.to_string())?;
    let key = if key.is_empty() || key.ends_with('/') {
        PostKey::with_filename(key)
    } else if let Some(prefix) = key.strip_suffix(FILENAME_VARIABLE) {
        PostKey::with_filename(prefix)
    } else {
        PostKey::exact(key)
    };

    let region = args.signing.region();
    let endpoint = args.signing.endpoint(&region)?;
    let expires = args.signing.expiry()?;
    let time = args.signing.time()?;

    let mut builder = PresignedPost::builder(&endpoint, &bucket, key).expires_in(expires);
    let min = args.min_size.as_deref().map(parse_size).transpose()?;
    let max = args.max_size.as_deref().map(parse_size).transpose()?;
    if min.is_some() || max.is_some() {
        builder = builder.content_length_range(min.unwrap_or(0), max.unwrap_or(u64::MAX));
    }
    if let Some(prefix) = &args.content_type_prefix {
        builder = builder.content_type_starts_with(prefix.as_str());
    }
    if let Some(ct) = &args.content_type {
        builder = builder.content_type(ct.as_str());
    }
    if let Some(acl) = &args.acl {
        builder = builder.acl(acl.as_str());
    }
    if let Some(status) = args.success_action_status {
        builder = builder.success_action_status(status);
    }
    if let Some(url) = &args.success_action_redirect {
        builder = builder.success_action_redirect(url.as_str());
    }

    let (credentials, example_keys) = support::credentials_from_env()?;
    let signer = Signer::new(credentials, &region, "s3").map_err(|e| e.to_string())?;
    let form = builder.sign(&signer, time).map_err(|e| e.to_string())?;
    // Said only once the form exists, so that a failure stays a single `error:` line.
    if example_keys {
        support::note_example_keys();
    }
    Ok(page(&form, args.content_type_prefix.is_some()))
}

/// The page: the form, and, when the policy only fixes a Content-Type prefix, a line of script
/// that copies the chosen file's type into the Content-Type field (a form cannot do it).
fn page(form: &PresignedPost, set_content_type: bool) -> String {
    let script = if set_content_type {
        "<script>\n\
         document.querySelector('input[type=file]').addEventListener('change', (e) => {\n\
         \x20 const file = e.target.files[0];\n\
         \x20 const field = document.querySelector('input[name=\"Content-Type\"]');\n\
         \x20 if (file && file.type && field) field.value = file.type;\n\
         });\n\
         </script>\n"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Upload</title>\n</head>\n<body>\n\
         <!-- Signed POST policy form; valid until {expires}. -->\n{form}{script}</body>\n</html>\n",
        expires = support::rfc3339(form.expires_at()),
        form = form.to_html(),
    )
}
