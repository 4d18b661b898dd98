//! What `build.rs` costs on the real spec: parse + lint + generate + format as one iteration
//! (`generator/pipeline`), and each stage on its own so that the cost is attributable.
//!
//! `cargo bench -p wacht-webhooks-generator --bench generate`

// `criterion_group!` declares a public function without documentation.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use wacht_webhooks_generator::{Spec, format, generate_tokens, lint};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/webhooks.yaml");

fn generator(c: &mut Criterion) {
    let text = std::fs::read_to_string(SPEC).expect("spec/webhooks.yaml");
    let spec = Spec::parse(SPEC, &text).expect("the spec parses");
    assert!(lint(&spec).is_empty(), "the real spec passes lint");
    let tokens = generate_tokens(&spec).expect("the spec generates");

    let mut group = c.benchmark_group("generator");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("pipeline", |b| {
        b.iter(|| {
            let spec = Spec::parse(SPEC, black_box(&text)).unwrap();
            assert!(lint(&spec).is_empty());
            let source = format(generate_tokens(&spec).unwrap()).unwrap();
            black_box(source)
        })
    });
    group.bench_function("parse", |b| {
        b.iter(|| Spec::parse(SPEC, black_box(&text)).unwrap())
    });
    group.bench_function("lint", |b| b.iter(|| lint(black_box(&spec))));
    group.bench_function("generate", |b| {
        b.iter(|| generate_tokens(black_box(&spec)).unwrap())
    });
    group.bench_function("format", |b| {
        b.iter_batched(
            || tokens.clone(),
            |tokens| format(tokens).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, generator);
criterion_main!(benches);
