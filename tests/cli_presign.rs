//! The `presign` example CLI, run as a process with the `AWS_*` environment cleared.
//!
//! Examples get no `CARGO_BIN_EXE_*` variable, so the binary is found next to this test's
//! own executable (`target/<profile>/examples/presign`) after `cargo build --example presign`
//! for the same profile and features (a no-op when `cargo test` already built it; cargo does
//! not hold its build lock while tests run).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const DOC_URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

/// Builds the example once and returns its path.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| common::example_binary("presign"))
}

/// Runs the CLI with a clean environment plus `env`.
fn run_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.env_clear().args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("running the example: {e}"))
}

fn run(args: &[&str]) -> Output {
    run_with(args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The URL printed on stdout, checked to be the only line.
fn url(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(o));
    let out = stdout(o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {out}");
    lines.first().map(|l| (*l).to_owned()).unwrap_or_default()
}

const TIME: [&str; 2] = ["--signing-time", "20130524T000000Z"];

#[test]
fn documentation_example_url() {
    let o = run(&[
        "s3://examplebucket/test.txt",
        "--expires-in",
        "86400",
        "--signing-time",
        "20130524T000000Z",
    ]);
    assert_eq!(stdout(&o), format!("{DOC_URL}\n"));
    assert!(o.status.success());
    // Without credentials in the environment, it says which keys it used.
    assert!(
        stderr(&o).contains("AKIAIOSFODNN7EXAMPLE"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn json_output() {
    let o = run(&[
        "s3://examplebucket/uploads/a b.txt",
        "--method",
        "PUT",
        "--content-type",
        "text/plain",
        "--header",
        "X-Amz-Meta-Author: Jane Doe",
        "--expires-in",
        "15m",
        "--output",
        "json",
        TIME[0],
        TIME[1],
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("{\"url\":"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let obj = json.as_object().unwrap_or_else(|| panic!("not an object"));
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["expires", "headers", "method", "url"]);
    assert_eq!(json["method"], "PUT");
    assert_eq!(json["expires"], "2013-05-24T00:15:00Z");
    assert_eq!(
        json["headers"],
        serde_json::json!({"content-type": "text/plain", "x-amz-meta-author": "Jane Doe"})
    );
    let url = json["url"].as_str().unwrap_or_default();
    assert!(
        url.starts_with("https://examplebucket.s3.amazonaws.com/uploads/a%20b.txt?"),
        "{url}"
    );
    assert!(url.contains("X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-meta-author&"));
    assert!(url.contains("X-Amz-Expires=900&"));
}

#[test]
fn url_mode_prints_headers_on_stderr() {
    let o = run(&[
        "s3://examplebucket/k",
        "--method",
        "PUT",
        "--content-type",
        "image/png",
        TIME[0],
        TIME[1],
    ]);
    let _ = url(&o);
    assert!(
        stderr(&o).lines().any(|l| l == "content-type: image/png"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn valueless_uploads_parameter() {
    for q in ["uploads=", "uploads"] {
        let o = run(&[
            "s3://examplebucket/big.bin",
            "--method",
            "POST",
            "--query",
            q,
            TIME[0],
            TIME[1],
        ]);
        let u = url(&o);
        assert!(u.contains("&uploads=&"), "{u}");
        assert!(u.starts_with("https://examplebucket.s3.amazonaws.com/big.bin?"));
    }
}

#[test]
fn keys_are_taken_verbatim() {
    let u = url(&run(&["s3://examplebucket/a?b#c%d//e", TIME[0], TIME[1]]));
    assert!(
        u.starts_with("https://examplebucket.s3.amazonaws.com/a%3Fb%23c%25d//e?X-Amz-"),
        "{u}"
    );
    let u = url(&run(&["s3://examplebucket//a", TIME[0], TIME[1]]));
    assert!(
        u.starts_with("https://examplebucket.s3.amazonaws.com//a?X-Amz-"),
        "{u}"
    );
    let u = url(&run(&["s3://examplebucket/%20", TIME[0], TIME[1]]));
    assert!(
        u.starts_with("https://examplebucket.s3.amazonaws.com/%2520?"),
        "{u}"
    );
}

#[test]
fn bucket_level_requests() {
    for target in ["s3://examplebucket", "s3://examplebucket/"] {
        let u = url(&run(&[target, "--query", "list-type=2", TIME[0], TIME[1]]));
        assert!(
            u.starts_with("https://examplebucket.s3.amazonaws.com/?X-Amz-"),
            "{u}"
        );
        assert!(u.contains("&list-type=2&"));
    }
    let u = url(&run(&[
        "s3://examplebucket",
        "--addressing-style",
        "path",
        TIME[0],
        TIME[1],
    ]));
    assert!(
        u.starts_with("https://s3.amazonaws.com/examplebucket?"),
        "{u}"
    );
}

#[test]
fn endpoint_region_and_credentials_from_the_environment() {
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "tok/en+="),
        ("AWS_REGION", "eu-west-1"),
    ];
    let o = run_with(&["s3://examplebucket/k", TIME[0], TIME[1]], &env);
    let u = url(&o);
    assert!(
        u.starts_with("https://examplebucket.s3.eu-west-1.amazonaws.com/k?"),
        "{u}"
    );
    assert!(u.contains("X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Feu-west-1%2Fs3%2Faws4_request"));
    assert!(u.contains("X-Amz-Security-Token=tok%2Fen%2B%3D"), "{u}");
    assert_eq!(stderr(&o), "", "no note when credentials are given");

    let custom = [("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")];
    let u = url(&run_with(
        &["s3://examplebucket/k", TIME[0], TIME[1]],
        &custom,
    ));
    assert!(
        u.starts_with("http://127.0.0.1:9000/examplebucket/k?"),
        "{u}"
    );
    let u = url(&run_with(
        &[
            "s3://examplebucket/k",
            "--endpoint-url",
            "https://storage.example.com:443/prefix",
            "--region",
            "auto",
            TIME[0],
            TIME[1],
        ],
        &custom,
    ));
    assert!(
        u.starts_with("https://storage.example.com/prefix/examplebucket/k?"),
        "{u}"
    );
    assert!(u.contains("%2Fauto%2Fs3%2F"), "{u}");
}

/// Exit status 2, nothing on stdout, exactly one `error: ` line on stderr.
fn assert_one_error(args: &[&str], mention: &str) {
    let o = run(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert_eq!(stdout(&o), "", "{args:?}");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: {err}");
    let line = lines.first().copied().unwrap_or_default();
    assert!(line.starts_with("error: "), "{args:?}: {line}");
    assert!(line.contains(mention), "{args:?}: {line} lacks {mention:?}");
}

#[test]
fn bad_input_is_one_error_line() {
    assert_one_error(&["s3://Bad_Bucket/k"], "bucket name");
    assert_one_error(&["s3://ab/k"], "3 to 63");
    assert_one_error(&["s3://examplebucket/k", "--expires-in", "8d"], "7 days");
    assert_one_error(&["s3://examplebucket/k", "--expires-in", "soon"], "expiry");
    assert_one_error(
        &["s3://examplebucket/k", "--signing-time", "2013-05-24"],
        "signing time",
    );
    assert_one_error(&["s3://examplebucket/k", "--header", "NoColon"], "':'");
    assert_one_error(&["https://examplebucket/k"], "s3://");
    assert_one_error(&["s3:///k"], "no bucket");
    assert_one_error(
        &[
            "s3://examplebucket/k",
            "--endpoint-url",
            "ftp://example.com",
        ],
        "endpoint",
    );
    assert_one_error(
        &["s3://examplebucket/k", "--query", "X-Amz-Signature=x"],
        "X-Amz-Signature",
    );
    let long_key = format!("s3://examplebucket/{}", "k".repeat(1025));
    assert_one_error(&[&long_key], "1024");
}

#[test]
fn clap_usage_errors_exit_non_zero() {
    let o = run(&["s3://examplebucket/k", "--method", "PATCH"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let o = run(&[]);
    assert_ne!(o.status.code(), Some(0));
}
