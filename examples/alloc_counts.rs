//! Counts the heap allocations of one operation for every benchmark case and implementation
//! (the same functions `benches/vs_peers.rs` times), prints them and writes them as JSON for
//! `scripts/benchmarks_table.py`:
//!
//! ```text
//! cargo run --release --example alloc_counts -- target/alloc_counts.json
//! ```
//!
//! Each count is of a warm operation: after one untimed call (so a signer's or verifier's
//! cached key is derived), the allocations of the next call, result dropped included.

#[path = "../benches/common/mod.rs"]
mod common;
#[path = "../benches/common/counting.rs"]
mod counting;

use std::collections::BTreeMap;

use common::*;
use presign::Scope;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

fn warm<R>(mut f: impl FnMut() -> R) -> u64 {
    drop(f());
    counting::count(f)
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/alloc_counts.json".to_owned());
    check_all();
    let time = signing_time();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for case in cases() {
        let signer = presign_signer(&case);
        let url = presign_url(&signer, &case, time);
        counts.insert(
            format!("{}/presign", case.name),
            warm(|| presign_url(&signer, &case, time)),
        );
        let identity = aws_identity(&case);
        let params = aws_params(&identity, &case);
        let unsigned = unsigned_url(&case);
        counts.insert(
            format!("{}/aws-sigv4", case.name),
            warm(|| aws_presign_url(&params, &case, &unsigned)),
        );
        let rusty = rusty(&case);
        counts.insert(
            format!("{}/rusty-s3", case.name),
            warm(|| rusty_presign_url(&rusty, &case)),
        );
        let floor = Floor::presigned(&case, &url);
        counts.insert(format!("{}/floor", case.name), warm(|| floor.sign()));
    }

    let now = verify_time();
    let verifier = verifier();
    let query = verify_query_request();
    counts.insert(
        "verify_query/presign".into(),
        warm(|| verify_query(&verifier, &query, now).signature()),
    );
    let query_floor = query.floor();
    counts.insert("verify_query/floor".into(), warm(|| query_floor.sign()));
    let header = verify_header_request();
    counts.insert(
        "verify_header/presign".into(),
        warm(|| verify_header(&verifier, &header, now).signature()),
    );
    let header_floor = header.floor();
    counts.insert("verify_header/floor".into(), warm(|| header_floor.sign()));
    let expired = expired_query_time();
    counts.insert(
        "verify_query_refused/presign".into(),
        warm(|| verify_refused(&verifier, &query.target, &query.headers[..], expired)),
    );
    let skewed = skewed_header_time();
    counts.insert(
        "verify_header_refused/presign".into(),
        warm(|| verify_refused(&verifier, header.target, &header.headers[..], skewed)),
    );

    let scope = Scope::new(time.date(), REGION, "s3").expect("scope");
    counts.insert(
        "signing_key/presign".into(),
        warm(|| derive_presign(&scope).to_bytes()),
    );
    counts.insert(
        "signing_key/aws-sigv4".into(),
        warm(|| derive_aws().as_ref().len()),
    );
    counts.insert(
        "signing_key/floor".into(),
        warm(|| derive_floor(b"20130524")),
    );

    let mut json = String::from("{\n");
    for (i, (name, n)) in counts.iter().enumerate() {
        let comma = if i + 1 < counts.len() { "," } else { "" };
        json.push_str(&format!("  \"{name}\": {n}{comma}\n"));
        println!("{name:28} {n:4} allocations");
    }
    json.push_str("}\n");
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).expect("output directory");
    }
    std::fs::write(&out, json).expect("write the counts");
    println!("wrote {out}");
}
