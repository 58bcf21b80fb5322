//! The SPSC ring between two threads: the placeholder main job until the pipeline lands.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use liqcore::ring::{Consumer, Producer, channel};
use liqcore::wait::{BusySpin, SpinThenYield, WaitStrategy};

const ITEMS: u64 = 10_000_000;
const ROUND_TRIPS: u64 = 200_000;

pub fn main() {
    println!("liqcore — the matching and liquidation pipeline is not assembled yet;");
    println!("this run exercises what exists: the lock-free SPSC ring between two threads.\n");
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    // Two busy-spinning threads need two cores to themselves; with fewer, both yield.
    let spin = cores.len() >= 2;
    println!(
        "cores available: {}; wait strategy: {}",
        cores.len(),
        if spin {
            "busy-spin, pinned"
        } else {
            "spin-then-yield, unpinned"
        }
    );
    let (a, b) = match cores.as_slice() {
        [a, b, ..] => (Some(*a), Some(*b)),
        _ => (None, None),
    };
    if spin {
        run(BusySpin, a, b);
    } else {
        run(SpinThenYield::default(), a, b);
    }
    println!("\npeer comparison: cargo run --release -p liqcore-tools --bin compare -- ring");
}

fn pin(core: Option<core_affinity::CoreId>) {
    if let Some(core) = core {
        core_affinity::set_for_current(core);
    }
}

fn run<W: WaitStrategy + Copy + Send + 'static>(
    wait: W,
    a: Option<core_affinity::CoreId>,
    b: Option<core_affinity::CoreId>,
) {
    // Throughput: one thread pushes ITEMS u64s in batches, the other drains them in batches.
    let (mut producer, mut consumer) = channel::<u64>(1024);
    let receiver = std::thread::spawn(move || {
        pin(b);
        let mut wait = wait;
        let mut out = [0u64; 256];
        let mut expected = 0u64;
        while expected < ITEMS {
            let count = consumer.pop_into(&mut out);
            if count == 0 {
                wait.wait();
                continue;
            }
            wait.reset();
            for &value in &out[..count] {
                assert_eq!(value, expected, "ring broke FIFO order");
                expected += 1;
            }
        }
    });
    pin(a);
    let started = Instant::now();
    let mut wait_push = wait;
    let mut chunk = [0u64; 256];
    let mut next = 0u64;
    while next < ITEMS {
        for (offset, slot) in chunk.iter_mut().enumerate() {
            *slot = next + offset as u64;
        }
        let count = (ITEMS - next).min(chunk.len() as u64) as usize;
        let mut sent = 0;
        while sent < count {
            let pushed = producer.push_slice(&chunk[sent..count]);
            if pushed == 0 {
                wait_push.wait();
            } else {
                wait_push.reset();
            }
            sent += pushed;
        }
        next += count as u64;
    }
    receiver.join().expect("receiver thread panicked");
    let elapsed = started.elapsed();
    println!(
        "throughput: {ITEMS} u64 items in {:.3} s = {:.1} M items/s (batches of 256)",
        elapsed.as_secs_f64(),
        ITEMS as f64 / elapsed.as_secs_f64() / 1e6
    );

    // Round trip: one item there, one back.
    let (ping, ping_rx) = channel::<u64>(1024);
    let (pong_tx, pong) = channel::<u64>(1024);
    let echo = std::thread::spawn(move || echo(ping_rx, pong_tx, wait, b));
    let histogram = ping_pong(ping, pong, wait);
    echo.join().expect("echo thread panicked");
    println!(
        "round trip ({ROUND_TRIPS} samples): p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        histogram.value_at_quantile(0.5),
        histogram.value_at_quantile(0.99),
        histogram.value_at_quantile(0.999),
        histogram.max()
    );
}

fn echo<W: WaitStrategy>(
    mut input: Consumer<u64>,
    mut output: Producer<u64>,
    mut wait: W,
    core: Option<core_affinity::CoreId>,
) {
    pin(core);
    while let Ok(value) = input.pop_wait(&mut wait) {
        if output.push_wait(value, &mut wait).is_err() {
            return;
        }
    }
}

fn ping_pong<W: WaitStrategy>(
    mut ping: Producer<u64>,
    mut pong: Consumer<u64>,
    mut wait: W,
) -> Histogram<u64> {
    let clock = quanta::Clock::new();
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, Duration::from_secs(10).as_nanos() as u64, 3)
            .expect("valid histogram bounds");
    for sequence in 0..2 * ROUND_TRIPS {
        let sent = clock.raw();
        ping.push_wait(sequence, &mut wait)
            .expect("echo thread alive");
        let back = pong.pop_wait(&mut wait).expect("echo thread alive");
        let received = clock.raw();
        assert_eq!(back, sequence, "round trip returned the wrong item");
        // The first half warms caches and branch predictors.
        if sequence >= ROUND_TRIPS {
            histogram.saturating_record(clock.delta_as_nanos(sent, received));
        }
    }
    histogram
}
