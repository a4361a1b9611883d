//! `presign` side by side with its peers and the crypto floor.
//!
//! `cargo bench --bench vs_peers`. Benchmarks are named `<case>/<implementation>`, with
//! implementations `presign`, `aws-sigv4`, `rusty-s3` and `floor`; `scripts/benchmarks_table.py`
//! turns criterion's output into BENCHMARKS.md. Every case is checked once, before anything is
//! timed, to produce the same signature in every implementation. `verify_query_refused` and
//! `verify_header_refused` time the verification cases refused at their time window (checked
//! once to give that error): every check before the hashing, and no hashing.

mod common;

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use common::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use presign::Scope;

fn presign_cases(c: &mut Criterion) {
    check_all();
    let time = signing_time();
    for case in cases() {
        let mut group = c.benchmark_group(case.name);

        // presign and its floor back to back, so that a change of load on the (shared)
        // machine between them skews their ratio as little as possible.
        let signer = presign_signer(&case);
        let url = presign_url(&signer, &case, time); // warms the signer's day key
        group.bench_function("presign", |b| {
            b.iter(|| presign_url(black_box(&signer), black_box(&case), black_box(time)))
        });
        let floor = Floor::presigned(&case, &url);
        group.bench_function("floor", |b| b.iter(|| black_box(&floor).sign()));

        let identity = aws_identity(&case);
        let params = aws_params(&identity, &case);
        let unsigned = unsigned_url(&case);
        group.bench_function("aws-sigv4", |b| {
            b.iter(|| aws_presign_url(black_box(&params), black_box(&case), black_box(&unsigned)))
        });

        let rusty = rusty(&case);
        group.bench_function("rusty-s3", |b| {
            b.iter(|| rusty_presign_url(black_box(&rusty), black_box(&case)))
        });
        group.finish();
    }
}

fn verify_cases(c: &mut Criterion) {
    let now = verify_time();
    let verifier = verifier();

    let query = verify_query_request();
    verify_query(&verifier, &query, now); // derives and caches the key
    let query_floor = query.floor();
    let mut group = c.benchmark_group("verify_query");
    group.bench_function("presign", |b| {
        b.iter(|| verify_query(black_box(&verifier), black_box(&query), black_box(now)).signature())
    });
    group.bench_function("floor", |b| b.iter(|| black_box(&query_floor).sign()));
    group.finish();

    let header = verify_header_request();
    verify_header(&verifier, &header, now);
    let header_floor = header.floor();
    let mut group = c.benchmark_group("verify_header");
    group.bench_function("presign", |b| {
        b.iter(|| {
            verify_header(black_box(&verifier), black_box(&header), black_box(now)).signature()
        })
    });
    group.bench_function("floor", |b| b.iter(|| black_box(&header_floor).sign()));
    group.finish();

    // The same requests refused at the time window: what every check before the hashing
    // costs (a server pays it for every request it turns away there).
    let expired = expired_query_time();
    refused(
        c,
        "verify_query_refused",
        || {
            verify_refused(
                black_box(&verifier),
                black_box(&query.target),
                black_box(&query.headers[..]),
                black_box(expired),
            )
        },
        |e| matches!(e, presign::verify::VerifyError::Expired { .. }),
    );
    let skewed = skewed_header_time();
    refused(
        c,
        "verify_header_refused",
        || {
            verify_refused(
                black_box(&verifier),
                black_box(header.target),
                black_box(&header.headers[..]),
                black_box(skewed),
            )
        },
        |e| matches!(e, presign::verify::VerifyError::RequestTimeTooSkewed { .. }),
    );
}

/// Times `refuse`, checked once to give the error `expected` accepts.
fn refused(
    c: &mut Criterion,
    case: &str,
    refuse: impl Fn() -> presign::verify::VerifyError,
    expected: fn(&presign::verify::VerifyError) -> bool,
) {
    assert!(expected(&refuse()), "{case}");
    let mut group = c.benchmark_group(case);
    group.bench_function("presign", |b| b.iter(&refuse));
    group.finish();
}

fn signing_key(c: &mut Criterion) {
    let time = signing_time();
    let scope = Scope::new(time.date(), REGION, "s3").expect("scope");
    let mut group = c.benchmark_group("signing_key");
    group.bench_function("presign", |b| b.iter(|| derive_presign(black_box(&scope))));
    group.bench_function("aws-sigv4", |b| b.iter(derive_aws));
    group.bench_function("floor", |b| b.iter(|| derive_floor(black_box(b"20130524"))));
    group.finish();
}

/// Runs `op` `iters` times on each of `threads` threads sharing one signer or verifier, and
/// returns the wall time: criterion divides it by `iters`, and the group's throughput is
/// `threads` elements per iteration, so elements/s is the aggregate rate.
fn parallel(threads: usize, iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    for _ in 0..iters {
                        op();
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for w in workers {
            w.join().expect("worker");
        }
        start.elapsed()
    })
}

fn throughput(c: &mut Criterion) {
    let time = signing_time();
    let case = cases()[0];
    let signer = presign_signer(&case);
    presign_url(&signer, &case, time);
    let verifier = verifier();
    let query = verify_query_request();
    let now = verify_time();
    verify_query(&verifier, &query, now);
    let floor = Floor::presigned(&case, &presign_url(&signer, &case, time));

    let mut group = c.benchmark_group("throughput");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        // The control: pure SHA-256/HMAC work, nothing shared. It scales as far as the
        // machine lets two threads run at once (on a shared machine, not always 2x).
        group.bench_function(format!("floor/threads={threads}"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, &|| {
                    black_box(black_box(&floor).sign());
                })
            })
        });
        group.bench_function(format!("presign/threads={threads}"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, &|| {
                    black_box(presign_url(black_box(&signer), &case, time));
                })
            })
        });
        group.bench_function(format!("verify_query/threads={threads}"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, &|| {
                    black_box(verify_query(black_box(&verifier), &query, now).signature());
                })
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    presign_cases,
    verify_cases,
    signing_key,
    throughput
);
criterion_main!(benches);
