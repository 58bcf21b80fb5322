//! criterion benches of the ring's hot paths, single-threaded (the cost of the operations
//! themselves, without cross-core traffic; `compare -- ring` measures two pinned threads).
//!
//! `base` measures the measurement: a loop that only moves the value through `black_box`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use liqcore::ring::channel;

fn base(c: &mut Criterion) {
    c.bench_function("ring/base_black_box", |b| {
        let mut value = 0u64;
        b.iter(|| {
            value = black_box(value.wrapping_add(1));
            value
        });
    });
}

fn push_pop(c: &mut Criterion) {
    let (mut producer, mut consumer) = channel::<u64>(1024);
    c.bench_function("ring/push_pop_u64", |b| {
        let mut value = 0u64;
        b.iter(|| {
            value = value.wrapping_add(1);
            producer.push(black_box(value)).unwrap();
            black_box(consumer.pop().unwrap())
        });
    });
}

fn batches(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring/batch_u64");
    for batch in [16usize, 256] {
        let (mut producer, mut consumer) = channel::<u64>(1024);
        let items: Vec<u64> = (0..batch as u64).collect();
        let mut out = vec![0u64; batch];
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, _| {
            b.iter(|| {
                let pushed = producer.push_slice(black_box(&items));
                let popped = consumer.pop_into(&mut out);
                black_box((pushed, popped, out[0]))
            });
        });
        group.bench_with_input(BenchmarkId::new("drain", batch), &batch, |b, _| {
            b.iter(|| {
                producer.push_slice(black_box(&items));
                consumer
                    .drain(usize::MAX)
                    .fold(0u64, |acc, v| acc.wrapping_add(v))
            });
        });
        // The iterator batch (for items that are not `Copy`) on the same items.
        group.bench_with_input(BenchmarkId::new("push_iter", batch), &batch, |b, _| {
            b.iter(|| {
                let pushed = producer.push_iter(black_box(&items).iter().copied());
                let popped = consumer.pop_into(&mut out);
                black_box((pushed, popped, out[0]))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, base, push_pop, batches);
criterion_main!(benches);
