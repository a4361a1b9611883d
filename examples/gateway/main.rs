//! An S3-compatible upload gateway built on `presign`: a presign API for applications, an
//! object endpoint that verifies every request with `presign::verify`, and a web page.
//!
//! ```text
//! cargo run --example gateway -- [--listen 127.0.0.1:9000] [--data-dir DIR] [--region R]
//!     [--public-url URL] [--rate-limit 60] [--max-object-size BYTES] [--min-part-size BYTES]
//! ```
//!
//! Access keys come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (else the AWS
//! documentation's example keys); the API's bearer token from `GATEWAY_TOKEN` (several,
//! comma-separated, each with its own rate limit), else a random one, printed at start.
//!
//! | endpoint | what |
//! | --- | --- |
//! | `GET /` | the web page (open `/#token=<token>`) |
//! | `POST /api/storage/buckets/{bucket}/presign` | mint a URL (bearer token) |
//! | `GET /api/storage/buckets/{bucket}/objects` | list a bucket (bearer token) |
//! | `GET, POST /api/admin/keys`, `POST /api/admin/keys/rotate`, `DELETE /api/admin/keys/{id}` | key rotation (bearer token) |
//! | `PUT, GET, HEAD, DELETE /{bucket}/{key}` | objects (SigV4: presigned or header) |
//! | `POST /{bucket}/{key}?uploads`, `PUT ?partNumber&uploadId`, `GET/POST/DELETE ?uploadId` | multipart uploads |
//! | `PUT, HEAD, DELETE /{bucket}`, `GET /{bucket}?list-type=2`, `GET /` (signed) | buckets |
//! | `POST /{bucket}` (multipart/form-data) | browser POST form uploads (`presign::post`) |
//!
//! `PUT` bodies may be aws-chunked (`STREAMING-*`, as the JS SDK sends streams), verified
//! chunk by chunk with `presign::chunked`.

/// A line on stderr that never panics (a closed stderr must not take a request down).
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use log;

mod api;
mod body;
mod checksum;
mod chunked;
mod error;
mod keys;
mod post_form;
mod s3;
mod storage;
#[path = "../support/mod.rs"]
mod support;
mod xml;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use clap::Parser;
use presign::SigningTime;
use presign::s3::Endpoint;
use presign::verify::{IncomingRequest, Mechanism};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// The upload gateway.
#[derive(Parser, Debug)]
#[command(name = "gateway")]
struct Args {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Where objects are stored (default: a temporary directory, removed at exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The region requests must be signed for.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The base URL clients reach the gateway at, used in presigned URLs
    /// (default: http://<listen address>).
    #[arg(long)]
    public_url: Option<String>,
    /// Presign API requests per minute, per token.
    #[arg(long, default_value_t = NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN))]
    rate_limit: NonZeroU32,
    /// Largest object (or part) accepted, in bytes.
    #[arg(long, default_value_t = 5 * 1024 * 1024 * 1024)]
    max_object_size: u64,
    /// Smallest part of a multipart upload, except the last, in bytes (S3: 5 MiB).
    #[arg(long, default_value_t = 5 * 1024 * 1024)]
    min_part_size: u64,
    /// An origin allowed to call the gateway from a browser (repeatable; default: any).
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
}

/// Everything the handlers share.
pub struct AppState {
    /// Access keys and the verifier.
    pub keys: keys::KeyRing,
    /// Objects on disk.
    pub store: storage::Store,
    /// Bearer tokens and rate limits of the JSON API.
    pub api: api::ApiAuth,
    /// Where presigned URLs point.
    pub endpoint: Endpoint,
    /// Largest object or part.
    pub max_object_size: u64,
    /// Smallest non-final part.
    pub min_part_size: u64,
}

/// The shared state handlers get.
pub type Shared = Arc<AppState>;

/// Parses the flags and runs the server on a multi-threaded runtime.
fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sets up keys, storage and routes, prints where to connect, serves until a signal.
async fn run(args: Args) -> Result<(), String> {
    let (credentials, example_keys) = support::credentials_from_env()?;
    if example_keys {
        support::note_example_keys();
    }
    let tokens: Vec<String> = support::env("GATEWAY_TOKEN")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let (tokens, token_generated) = if tokens.is_empty() {
        (vec![random_hex(16)], true)
    } else {
        (tokens, false)
    };

    // A temporary data directory lives as long as `_temp_dir`: removed when `run` returns.
    let (data_dir, _temp_dir) = match &args.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("presign-gateway-")
                .tempdir()
                .map_err(|e| format!("cannot create a temporary data directory: {e}"))?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    let store = storage::Store::open(&data_dir)
        .await
        .map_err(|e| format!("data directory {}: {e}", data_dir.display()))?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Listening on every address (0.0.0.0) is no address a client can use: presigned URLs
    // then name loopback unless --public-url says where clients reach the gateway.
    let mut reachable = local;
    if reachable.ip().is_unspecified() {
        reachable.set_ip(if local.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let public_url = args
        .public_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{reachable}"));
    let endpoint =
        Endpoint::parse(&public_url).map_err(|e| format!("--public-url {public_url}: {e}"))?;
    let access_key_id = credentials.access_key_id().to_owned();
    let state = Arc::new(AppState {
        keys: keys::KeyRing::new(credentials, &args.region)?,
        store,
        api: api::ApiAuth::new(&tokens, args.rate_limit),
        endpoint,
        max_object_size: args.max_object_size,
        min_part_size: args.min_part_size,
    });
    let app = router(Arc::clone(&state), &args.cors_origins)?;

    // The first line is what scripts wait for; keep its shape. Written without println!, so
    // that a reader that went away cannot stop the server.
    let token = tokens.first().map_or("", String::as_str);
    let mut banner = format!("presign gateway listening on http://{local}\n");
    banner.push_str(&format!("  web page:    {public_url}/#token={token}\n"));
    if token_generated {
        banner.push_str(&format!(
            "  API token:   {token} (random; set GATEWAY_TOKEN to choose one)\n"
        ));
    }
    banner.push_str(&format!(
        "  endpoint:    {public_url} (path style, region {})\n",
        args.region
    ));
    banner.push_str(&format!("  access key:  {access_key_id}\n"));
    banner.push_str(&format!(
        "  data dir:    {}\n",
        state.store.root().display()
    ));
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes());
        let _ = out.flush();
    }

    // On a signal, stop accepting and let open requests finish, but not for ever: an idle
    // keep-alive connection must not keep the process (and its temporary data directory).
    let stopping = Arc::new(tokio::sync::Notify::new());
    let notify = Arc::clone(&stopping);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        notify.notify_one();
    });
    let grace = async {
        stopping.notified().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    tokio::select! {
        result = server => result.map_err(|e| format!("server: {e}"))?,
        () = grace => log!("gateway: connections still open after 5 s; stopping anyway"),
    }
    log!("gateway: stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The routes: the page and the API by path, everything else is the S3 endpoint.
fn router(state: Shared, cors_origins: &[String]) -> Result<Router, String> {
    let origins = if cors_origins.is_empty() {
        AllowOrigin::any()
    } else {
        let list = cors_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|e| format!("--cors-origin {o}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(list)
    };
    // Browsers send the signed headers (content-type, x-amz-*) and read the ETag back.
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::HEAD,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(
            [
                header::ETAG,
                header::CONTENT_LENGTH,
                HeaderName::from_static("x-amz-request-id"),
                HeaderName::from_static("x-amz-version-id"),
            ]
            .into_iter()
            // Every checksum an upload can be stored with is echoed back.
            .chain(
                presign::chunked::ChecksumAlgorithm::ALL
                    .map(|a| HeaderName::from_static(a.header_name())),
            )
            .collect::<Vec<_>>(),
        )
        .max_age(Duration::from_secs(3600));
    let api = Router::new()
        .route("/api/storage/buckets/{bucket}/presign", post(api::presign))
        .route(
            "/api/storage/buckets/{bucket}/objects",
            get(api::list_objects),
        )
        .route("/api/admin/keys", get(keys::list).post(keys::add))
        .route("/api/admin/keys/rotate", post(keys::rotate))
        .route("/api/admin/keys/{id}", delete(keys::revoke))
        // API bodies are small JSON documents.
        .layer(DefaultBodyLimit::max(64 * 1024));
    Ok(api
        .route("/", any(root))
        .fallback(s3::handle)
        .layer(cors)
        .with_state(state))
}

/// `/`: the web page, unless the request carries S3 authentication (ListBuckets), as the
/// verifier tells it (an error, such as mixed mechanisms, is the S3 handler's to report).
async fn root(state: State<Shared>, request: Request) -> Response {
    let view = s3::HeaderView(request.headers());
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let mechanism = presign::verify::detect(&IncomingRequest::new(
        request.method().as_str(),
        target,
        &view,
    ));
    let anonymous = matches!(mechanism, Ok(Mechanism::Anonymous));
    if !anonymous || !matches!(*request.method(), Method::GET | Method::HEAD) {
        return s3::handle(state, request).await;
    }
    Html(include_str!("index.html")).into_response()
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        // Without an OS random source no token or id is safe; there is nothing to fall
        // back to.
        eprintln!("gateway: no random source: {e}");
        std::process::exit(1);
    }
    buf
}

/// `n` random bytes, as hex.
pub fn random_hex(n: usize) -> String {
    hex::encode(random_bytes(n))
}

/// RFC 3339 of a signing time.
pub fn rfc3339(t: SigningTime) -> String {
    support::rfc3339(t)
}

/// RFC 3339 of unix seconds (`2024-01-01T00:00:00Z`).
pub fn unix_rfc3339(secs: i64) -> String {
    SigningTime::from_unix_timestamp(secs).map_or_else(|_| secs.to_string(), rfc3339)
}

/// The S3 XML timestamp (`2024-01-01T00:00:00.000Z`).
pub fn s3_timestamp(secs: i64) -> String {
    unix_rfc3339(secs).replace('Z', ".000Z")
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) of unix seconds.
pub fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS.get(usize::from(t.weekday().number_days_from_monday()))
            .unwrap_or(&"Mon"),
        t.day(),
        MONTHS
            .get(usize::from(u8::from(t.month())) - 1)
            .unwrap_or(&"Jan"),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_date_format() {
        assert_eq!(super::http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(super::s3_timestamp(0), "1970-01-01T00:00:00.000Z");
    }
}
