//! criterion benches for `liqcore::replay`: what a line of a replay script costs end to end.
//!
//! - `replay/run/20k`: [`run_replay`] over a generated 20,000-command script (one market, 200
//!   accounts; limit orders around the mid, IOC and market takers, cancels, modifies, mark
//!   moves, a few queries) into `io::sink()`, a fresh engine per iteration: parse, resolve,
//!   engine, format. Throughput in lines.
//! - `replay/parse/20k`: [`parse_line`] alone over the same lines (the JSON part of the cost).
//! - `replay/base/engine_start`: building the empty replay (engine start), the fixed cost
//!   inside every `run` iteration.

use std::hint::black_box;
use std::io;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use liqcore::replay::{Replay, parse_line, run_replay};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const COMMANDS: usize = 20_000;
const ACCOUNTS: u64 = 200;

/// A deterministic script: the market, deposits, a mark, then `COMMANDS` mixed commands.
fn script() -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let mut lines = vec![String::from(
        r#"{"op":"symbol","symbol":"BTC-PERP","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"},{"floor":"250000","mmr":"0.01","max_leverage":"50"}],"maker_fee":"-0.0001","taker_fee":"0.0005","liquidation_fee":"0.005","mark":{"method":"last"}}"#,
    )];
    for account in 1..=ACCOUNTS {
        lines.push(format!(
            r#"{{"op":"deposit","account":{account},"amount":"1000000"}}"#
        ));
    }
    lines.push(String::from(
        r#"{"op":"mark","symbol":"BTC-PERP","price":"20000"}"#,
    ));
    let mut next_id = 1_u64;
    for _ in 0..COMMANDS {
        let account = rng.random_range(1..=ACCOUNTS);
        let side = if rng.random_bool(0.5) { "buy" } else { "sell" };
        let qty = format!("0.{:03}", rng.random_range(1..=100u32));
        let roll = rng.random_range(0..100u32);
        let line = if roll < 55 {
            // A resting order 1..40 ticks away from 20,000 on its own side.
            let ticks = i64::from(rng.random_range(1..=40u32));
            let price = if side == "buy" {
                40_000 - ticks
            } else {
                40_000 + ticks
            };
            let id = next_id;
            next_id += 1;
            format!(
                r#"{{"op":"order","id":{id},"account":{account},"symbol":"BTC-PERP","side":"{side}","type":"limit","qty":"{qty}","price":"{}"}}"#,
                price as f64 / 2.0
            )
        } else if roll < 65 {
            let id = next_id;
            next_id += 1;
            let price = if side == "buy" { "20015" } else { "19985" };
            format!(
                r#"{{"op":"order","id":{id},"account":{account},"symbol":"BTC-PERP","side":"{side}","type":"limit","qty":"{qty}","price":"{price}","tif":"ioc"}}"#
            )
        } else if roll < 70 {
            let id = next_id;
            next_id += 1;
            format!(
                r#"{{"op":"order","id":{id},"account":{account},"symbol":"BTC-PERP","side":"{side}","type":"market","qty":"{qty}"}}"#
            )
        } else if roll < 88 {
            let id = rng.random_range(1..next_id.max(2));
            format!(r#"{{"op":"cancel","id":{id}}}"#)
        } else if roll < 96 {
            let id = rng.random_range(1..next_id.max(2));
            format!(r#"{{"op":"modify","id":{id},"qty":"{qty}"}}"#)
        } else if roll < 99 {
            let ticks = rng.random_range(39_960..=40_040u32);
            format!(
                r#"{{"op":"mark","symbol":"BTC-PERP","price":"{}"}}"#,
                f64::from(ticks) / 2.0
            )
        } else {
            format!(r#"{{"op":"query","what":"account","account":{account}}}"#)
        };
        lines.push(line);
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn benches(c: &mut Criterion) {
    let script = script();
    let lines = script.lines().count() as u64;
    let once = run_replay(script.as_bytes(), io::sink()).unwrap();
    eprintln!(
        "replay script: {} lines, {} events ({} rejected)",
        once.lines, once.events, once.rejected
    );
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(lines));
    group.bench_function("run/20k", |b| {
        b.iter(|| {
            let summary = run_replay(black_box(script.as_bytes()), io::sink()).unwrap();
            black_box(summary)
        });
    });
    group.bench_function("parse/20k", |b| {
        b.iter(|| {
            for (i, line) in script.lines().enumerate() {
                black_box(parse_line(i as u64 + 1, black_box(line)).unwrap());
            }
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("base/engine_start", |b| {
        b.iter(|| black_box(Replay::new().unwrap()));
    });
    group.finish();
}

criterion_group!(replay, benches);
criterion_main!(replay);
