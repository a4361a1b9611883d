//! Instructions per operation, for `scripts/instructions.py` (valgrind's callgrind); not a
//! criterion benchmark.
//!
//! `cargo bench --bench instructions -- CASE IMPLEMENTATION [ITERATIONS]` runs one of
//! `vs_peers`'s operations (the same functions, from `common`) ITERATIONS times, each through
//! [`measured`], the one function the script has callgrind count. One build counts the same
//! every time, so unlike timings on a shared machine counts show a change of one percent, and
//! callgrind says which function each instruction ran in. They are not time: under valgrind
//! SHA-256 runs without SHA-NI (the script leaves its compression function out), and neither
//! memory nor the processor's overlap of independent work is in them.

mod common;

use std::hint::black_box;

use common::*;
use presign::Scope;

/// Runs `operation` once: the only function whose instructions are counted.
#[inline(never)]
fn measured<T>(operation: &mut dyn FnMut() -> T) -> T {
    operation()
}

/// `operation` run `iterations` times through [`measured`], after one warm-up run outside it.
fn repeat<T>(iterations: u64, mut operation: impl FnMut() -> T) {
    black_box(operation());
    for _ in 0..iterations {
        black_box(measured(&mut operation));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench` first; every other argument is ours.
    let args: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(&case), Some(&implementation)) = (args.first(), args.get(1)) else {
        eprintln!("usage: instructions CASE IMPLEMENTATION [ITERATIONS]");
        return;
    };
    let iterations: u64 = args
        .get(2)
        .map_or(Ok(2000), |n| n.parse())
        .expect("iterations");
    check_all();

    let time = signing_time();
    if let Some(case) = cases().into_iter().find(|c| c.name == case) {
        match implementation {
            "presign" => {
                let signer = presign_signer(&case);
                repeat(iterations, || presign_url(black_box(&signer), &case, time));
            }
            "aws-sigv4" => {
                let identity = aws_identity(&case);
                let params = aws_params(&identity, &case);
                let unsigned = unsigned_url(&case);
                repeat(iterations, || {
                    aws_presign_url(black_box(&params), &case, &unsigned)
                });
            }
            "rusty-s3" => {
                let rusty = rusty(&case);
                repeat(iterations, || rusty_presign_url(black_box(&rusty), &case));
            }
            "floor" => {
                let floor =
                    Floor::presigned(&case, &presign_url(&presign_signer(&case), &case, time));
                repeat(iterations, || black_box(&floor).sign());
            }
            _ => panic!("no implementation {implementation} of {}", case.name),
        }
        return;
    }

    let verifier = verifier();
    let now = verify_time();
    let query = verify_query_request();
    let header = verify_header_request();
    let (expired, skewed) = (expired_query_time(), skewed_header_time());
    match (case, implementation) {
        ("verify_query", "presign") => repeat(iterations, || {
            verify_query(black_box(&verifier), &query, now).signature()
        }),
        ("verify_query", "floor") => {
            let floor = query.floor();
            repeat(iterations, || black_box(&floor).sign());
        }
        ("verify_header", "presign") => repeat(iterations, || {
            verify_header(black_box(&verifier), &header, now).signature()
        }),
        ("verify_header", "floor") => {
            let floor = header.floor();
            repeat(iterations, || black_box(&floor).sign());
        }
        ("verify_query_refused", "presign") => repeat(iterations, || {
            verify_refused(
                black_box(&verifier),
                &query.target,
                &query.headers[..],
                expired,
            )
        }),
        ("verify_header_refused", "presign") => repeat(iterations, || {
            verify_refused(
                black_box(&verifier),
                header.target,
                &header.headers[..],
                skewed,
            )
        }),
        ("signing_key", "presign") => {
            let scope = Scope::new(time.date(), REGION, "s3").expect("scope");
            repeat(iterations, || derive_presign(black_box(&scope)));
        }
        ("signing_key", "aws-sigv4") => repeat(iterations, derive_aws),
        ("signing_key", "floor") => repeat(iterations, || derive_floor(black_box(b"20130524"))),
        _ => panic!("no benchmark {case}/{implementation}"),
    }
}
