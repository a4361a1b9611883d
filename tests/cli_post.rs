//! The `post_form` and `verify --form` example CLIs, run as processes with the `AWS_*`
//! environment cleared (so the documentation keys are used): a page made by `post_form`
//! verifies with `verify --form`, and the URL mode of `verify` still works.
//!
//! The binaries are built next to this test's executable, as in `cli_presign.rs`.
#![cfg(feature = "post")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn binary(name: &'static str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap().to_path_buf();
    BUILT.get_or_init(|| {
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let mut build = Command::new(env!("CARGO"));
        build
            .args([
                "build",
                "--quiet",
                "--example",
                "verify",
                "--example",
                "post_form",
            ])
            .args(["--profile", profile])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir);
        // Same features as this test, so that up-to-date binaries are not rebuilt.
        if cfg!(feature = "http") {
            build.args(["--features", "http"]);
        }
        assert!(
            build.status().unwrap().success(),
            "cargo build --example failed"
        );
    });
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn run(name: &'static str, args: &[&str]) -> Output {
    let mut cmd = Command::new(binary(name));
    cmd.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(stdout(o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// The hidden inputs of a page, in order (the values need no unescaping here).
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("<input type=\"hidden\" name=\"")?;
            let (name, rest) = rest.split_once("\" value=\"")?;
            let value = rest.strip_suffix("\">")?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("presign-cli-post-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn post_form_page_verifies_with_verify_form() {
    let page = run(
        "post_form",
        &[
            "s3://examplebucket/uploads/",
            "--max-size",
            "10MiB",
            "--content-type-prefix",
            "image/",
            "--signing-time",
            "20260101T000000Z",
        ],
    );
    assert!(page.status.success(), "{page:?}");
    let html = stdout(&page);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(
        "<form action=\"https://examplebucket.s3.amazonaws.com/\" method=\"post\" enctype=\"multipart/form-data\">"
    ));
    assert!(html.contains("<input type=\"file\" name=\"file\">"));
    assert!(String::from_utf8_lossy(&page.stderr).contains("documentation example keys"));

    let mut fields = hidden_fields(&html);
    assert_eq!(
        fields[0],
        ("key".to_owned(), "uploads/${filename}".to_owned())
    );
    // The page's script sets the file's type.
    fields[1].1 = "image/png".into();
    // As an array of pairs, and as an object.
    let pairs = serde_json::to_string(&fields).unwrap();
    let object = serde_json::to_string(
        &fields
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(v.as_str())))
            .collect::<serde_json::Map<_, _>>(),
    )
    .unwrap();
    for (i, text) in [pairs, object].iter().enumerate() {
        let path = temp_file(&format!("fields-{i}.json"), text);
        let path = path.to_str().unwrap();
        let common = [
            "--form",
            path,
            "--bucket",
            "examplebucket",
            "--file-name",
            "C:\\pictures\\cat.png",
            "--now",
            "20260101T003000Z",
        ];
        let url = "https://examplebucket.s3.amazonaws.com/";
        let ok = run(
            "verify",
            &[&common[..], &["--file-size", "2048", url]].concat(),
        );
        assert!(ok.status.success(), "{ok:?}");
        let out = json(&ok);
        assert_eq!(out["ok"], true);
        assert_eq!(out["mechanism"], "PostPolicy");
        assert_eq!(out["key"], "uploads/cat.png");
        assert_eq!(
            out["content_length_range"],
            serde_json::json!([0, 10485760])
        );

        let big = run(
            "verify",
            &[&common[..], &["--file-size", "10485761", url]].concat(),
        );
        assert_eq!(big.status.code(), Some(1));
        assert_eq!(json(&big)["code"], "EntityTooLarge");

        let other = run(
            "verify",
            &[
                "--form",
                path,
                "--bucket",
                "victim",
                "--now",
                "20260101T003000Z",
                url,
            ],
        );
        assert_eq!(other.status.code(), Some(1));
        assert_eq!(json(&other)["code"], "AccessDenied");
        assert_eq!(json(&other)["status"], 403);
    }
}

#[test]
fn verify_form_refuses_repeated_fields_and_bad_files() {
    let path = temp_file("repeated.json", r#"[["key","a"],["KEY","b"]]"#);
    let out = run(
        "verify",
        &[
            "--form",
            path.to_str().unwrap(),
            "--bucket",
            "b",
            "https://b.s3.amazonaws.com/",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["code"], "MalformedPOSTRequest");

    let path = temp_file("bad.json", "[1, 2]");
    let out = run(
        "verify",
        &[
            "--form",
            path.to_str().unwrap(),
            "--bucket",
            "b",
            "https://b.s3.amazonaws.com/",
        ],
    );
    assert_eq!(out.status.code(), Some(2));

    // --bucket without --form is a usage error.
    let out = run("verify", &["--bucket", "b", "https://b.s3.amazonaws.com/"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn verify_url_mode_still_works() {
    let url = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let out = run("verify", &["--now", "20130524T000000Z", url]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["mechanism"], "PresignedQuery");
}

#[test]
fn post_form_bad_input_is_one_error_line() {
    for args in [
        &["s3://examplebucket/u/", "--max-size", "10 parsecs"][..],
        &["s3://examplebucket/u/", "--expires-in", "8d"],
        &[
            "s3://examplebucket/u/",
            "--min-size",
            "2",
            "--max-size",
            "1",
        ],
        &["examplebucket/u/"],
    ] {
        let out = run("post_form", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.lines().count() == 1,
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}
