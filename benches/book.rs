//! criterion benches for `liqcore::book::Book`: add + cancel, move, sweep, and a slice of the
//! exchange-core workload; `base` measures the harness (a command-free iteration).
//!
//! `cargo bench --bench book`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use liqcore::book::workload::{self, WorkloadConfig};
use liqcore::book::{Book, BookEvent, OrderCommand, SelfTradePrevention, TimeInForce};
use liqcore::types::{OrderId, Price, Side};

/// A book holding ~1000 resting orders from the workload's warm-up.
fn populated() -> (Book, Vec<BookEvent>) {
    let load = workload::generate(&WorkloadConfig {
        commands: 0,
        ..WorkloadConfig::default()
    });
    let mut book = Book::new(load.spec.clone(), load.capacity * 4);
    let mut events = Vec::with_capacity(4096);
    for command in &load.warmup {
        events.clear();
        book.apply(command, &mut events);
    }
    (book, events)
}

fn base(c: &mut Criterion) {
    let mut events: Vec<BookEvent> = Vec::with_capacity(16);
    c.bench_function("book/base", |b| {
        b.iter(|| {
            events.clear();
            black_box(&mut events);
        })
    });
}

fn add_cancel(c: &mut Criterion) {
    let (mut book, mut events) = populated();
    let mut id = 10_000_000u64;
    let mut price = 0i64;
    c.bench_function("book/add_then_cancel", |b| {
        b.iter(|| {
            id += 1;
            price = (price + 7) % 300;
            events.clear();
            let order = OrderCommand::limit(id, 1, Side::Buy, 99_500 + price, 3)
                .with_stp(SelfTradePrevention::None);
            book.submit(black_box(&order), &mut events);
            book.cancel(OrderId(id), &mut events);
        })
    });
}

fn move_order(c: &mut Criterion) {
    let (mut book, mut events) = populated();
    let order = OrderCommand::limit(42_000_000, 1, Side::Buy, 99_700, 3)
        .with_stp(SelfTradePrevention::None);
    book.submit(&order, &mut events);
    let mut up = true;
    c.bench_function("book/move", |b| {
        b.iter(|| {
            up = !up;
            let price = if up { 99_701 } else { 99_700 };
            events.clear();
            book.modify(OrderId(42_000_000), Some(Price(price)), None, &mut events);
        })
    });
}

fn sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("book");
    // Ten one-order levels swept by one IOC, then put back: 11 commands, 10 trades.
    group.throughput(Throughput::Elements(11));
    let mut book = Book::new(workload::spec(), 4096);
    let mut events: Vec<BookEvent> = Vec::with_capacity(4096);
    let mut id = 50_000_000u64;
    group.bench_function("sweep_10_levels_and_refill", |b| {
        b.iter(|| {
            events.clear();
            for level in 0..10 {
                id += 1;
                let order = OrderCommand::limit(id, 2, Side::Sell, 100_500 + level, 1);
                book.submit(&order, &mut events);
            }
            id += 1;
            let taker =
                OrderCommand::limit(id, 3, Side::Buy, 100_509, 10).with_tif(TimeInForce::Ioc);
            book.submit(black_box(&taker), &mut events);
        })
    });
    group.finish();
}

fn workload_slice(c: &mut Criterion) {
    let load = workload::generate(&WorkloadConfig {
        commands: 100_000,
        ..WorkloadConfig::default()
    });
    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(load.commands.len() as u64));
    group.sample_size(20);
    let mut events: Vec<BookEvent> = Vec::with_capacity(4096);
    group.bench_function("exchange_core_workload_100k", |b| {
        b.iter(|| {
            let mut book = Book::new(load.spec.clone(), load.capacity);
            for command in load.warmup.iter().chain(&load.commands) {
                events.clear();
                book.apply(command, &mut events);
            }
            black_box(book.len())
        })
    });
    group.finish();
}

criterion_group!(benches, base, add_cancel, move_order, sweep, workload_slice);
criterion_main!(benches);
