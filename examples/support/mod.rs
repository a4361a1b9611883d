//! What the example programs share: credentials and region from the environment.
#![allow(dead_code)]

use presign::Credentials;

/// The AWS documentation's example access key (works with the documentation's examples only).
pub const EXAMPLE_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// The AWS documentation's example secret key.
pub const EXAMPLE_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A non-empty environment variable.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, or
/// the documentation example keys when the environment has none (then `true`: the caller
/// says so on stderr, once it has something to show, so that a failure stays one line).
pub fn credentials_from_env() -> Result<(Credentials, bool), String> {
    let token = env("AWS_SESSION_TOKEN");
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            let creds = Credentials::new(id, secret).map_err(|e| e.to_string())?;
            let creds = match token {
                Some(token) => creds.with_session_token(token).map_err(|e| e.to_string())?,
                None => creds,
            };
            Ok((creds, false))
        }
        (None, None) if token.is_none() => {
            Credentials::new(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY)
                .map(|c| (c, true))
                .map_err(|e| e.to_string())
        }
        (None, None) => Err("AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID".into()),
        (Some(_), None) => Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into()),
        (None, Some(_)) => Err("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into()),
    }
}

/// The note printed when the example keys were used.
pub fn note_example_keys() {
    eprintln!(
        "note: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set: using the AWS \
         documentation example keys ({EXAMPLE_ACCESS_KEY_ID})"
    );
}

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
pub fn region_from_env(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// Splits `Name: value`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header {text:?} has no ':' (expected 'Name: value')"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("header {text:?} has an empty name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// RFC 3339 (`2013-05-25T00:00:00Z`) of a signing time.
pub fn rfc3339(t: presign::SigningTime) -> String {
    t.to_offset_date_time()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// `--addressing-style` of the example CLIs.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Style {
    /// Virtual-hosted unless the bucket or endpoint cannot be.
    Auto,
    /// `bucket.host/key`.
    Virtual,
    /// `host/bucket/key`.
    Path,
}

/// The options the presigning CLIs share: how long, where, in which region, at what time.
#[derive(Debug, clap::Args)]
pub struct SigningArgs {
    /// How long it stays valid: seconds (900) or units s, m, h, d (15m, 1h, 7d); at most 7d.
    #[arg(long, default_value = "1h")]
    pub expires_in: String,
    /// Custom S3-compatible endpoint, e.g. http://127.0.0.1:9000.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Region (signing scope and AWS endpoint).
    #[arg(long)]
    pub region: Option<String>,
    /// Bucket addressing (default: auto on AWS, path on a custom endpoint).
    #[arg(long, value_enum)]
    pub addressing_style: Option<Style>,
    /// Signing time, yyyyMMddTHHmmssZ (default: now).
    #[arg(long)]
    pub signing_time: Option<String>,
}

impl SigningArgs {
    /// `--expires-in`.
    pub fn expiry(&self) -> Result<presign::Expiry, String> {
        self.expires_in
            .parse()
            .map_err(|e: presign::Error| e.to_string())
    }

    /// `--signing-time`, else now.
    pub fn time(&self) -> Result<presign::SigningTime, String> {
        match &self.signing_time {
            Some(t) => presign::SigningTime::parse_amz_date(t).map_err(|e| e.to_string()),
            None => Ok(presign::SigningTime::now()),
        }
    }

    /// The region (see [`region_from_env`]).
    pub fn region(&self) -> String {
        region_from_env(self.region.as_deref())
    }

    /// The endpoint in `region` (see [`endpoint`]).
    pub fn endpoint(&self, region: &str) -> Result<presign::s3::Endpoint, String> {
        endpoint(self.endpoint_url.as_deref(), region, self.addressing_style)
    }
}

/// The endpoint: `--endpoint-url`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else
/// AWS in `region`; with the requested addressing style, if any.
pub fn endpoint(
    flag: Option<&str>,
    region: &str,
    style: Option<Style>,
) -> Result<presign::s3::Endpoint, String> {
    use presign::s3::{AddressingStyle, Endpoint};
    let url = flag
        .map(str::to_owned)
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"));
    let endpoint = match &url {
        Some(url) => Endpoint::parse(url),
        None => Endpoint::aws(region),
    }
    .map_err(|e| e.to_string())?;
    Ok(match style {
        None => endpoint,
        Some(style) => endpoint.with_addressing_style(match style {
            Style::Auto => AddressingStyle::Auto,
            Style::Virtual => AddressingStyle::Virtual,
            Style::Path => AddressingStyle::Path,
        }),
    })
}
