//! `compare -- ring`: liqcore's SPSC ring against rtrb, crossbeam's `ArrayQueue`, the
//! `disruptor` crate, std's `sync_channel` and a bare cache-line ping-pong, in one process.
//!
//! Two pinned threads (the first two cores this process may use), busy-spinning, capacity 1024.
//! liqcore runs three ways: single-item `push`/`pop` with rtrb's semantics (each pop frees its
//! slot at once), the same with `Consumer::set_release_group(64)` (pop hands slots back 64 at a
//! time and whenever it finds the ring empty: documented trade-off in `liqcore::ring`), and the
//! batch API.
//!
//! - Throughput: `ITEMS` `u64` items and `ITEMS` 64-byte items from one thread to the other,
//!   median of `RUNS` runs; the consumer checks every item's sequence number.
//! - Round trip: one item there and one back, `RTT_SAMPLES` times, each timed with quanta's raw
//!   TSC into an hdrhistogram. The queues take turns in `RTT_ROUNDS` short rounds (each after
//!   `RTT_WARMUP` untimed round trips), not in the throughput rounds as before: a round of
//!   1 M / 15 samples lasted ~10 ms and a throughput round lasts ~15 s, so this host's phases
//!   (round trip 80 ns in one minute, 300 ns in the next) fell on one queue's samples and not
//!   the other's. Both threads call `spin_loop` after each empty poll, as the floor and the
//!   throughput loops always did and as liqcore's `BusySpin` does (until 2026-12-05 the
//!   round-trip loops polled without it, which floods the polled line and favoured whichever
//!   queue's poll happened to be slower).
//! - Each round starts one queue later than the one before, so no queue always runs first.
//!
//! - Ratios: liqcore over rtrb. The throughput ratios divide the two medians; the `paired_`
//!   lines take the median of each round's own ratio instead, which a host phase that slows
//!   every queue for a few rounds does not move (this 2-core guest has them: perf/README.md).
//!   `rtt_mean_to_p99_ratio` compares the means of the fastest 99 % of the round trips: the TSC
//!   moves in ~10 ns steps, so two p50s that differ by less than a step read as equal or one
//!   step apart, while the mean of a million samples resolves the difference.
//!
//! `LIQCORE_RING_ITEMS`, `LIQCORE_RING_RUNS` and `LIQCORE_RTT_SAMPLES` shrink the work for a
//! quick look; the published numbers use the defaults.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Instant;

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use disruptor::{BusySpin, Polling, Producer as _};
use hdrhistogram::Histogram;

const CAPACITY: usize = 1024;
const DEFAULT_ITEMS: u64 = 20_000_000;
/// Rounds: more than the 5 first planned, because one run on this shared host swings between
/// ~50 and ~270 M items/s (the ring settles into a near-empty or a near-full regime).
const DEFAULT_RUNS: usize = 15;
const DEFAULT_RTT_SAMPLES: u64 = 1_000_000;
/// Rounds the round-trip samples are split into (every queue measured once per round).
const RTT_ROUNDS: u64 = 200;
/// Round trips before each round's measurement starts (fewer when fewer samples are asked for):
/// the new echo thread's caches and the branch predictors warm up.
const RTT_WARMUP: u64 = 2_000;
/// Items per `push_slice` / `pop_into` in the batch variant.
const BATCH: usize = 256;

pub(crate) fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An item the benchmark moves: made from and checked against a sequence number.
pub(crate) trait Item: Copy + Send + Default + 'static {
    fn make(sequence: u64) -> Self;
    fn sequence(&self) -> u64;
}

impl Item for u64 {
    #[inline(always)]
    fn make(sequence: u64) -> Self {
        sequence
    }
    #[inline(always)]
    fn sequence(&self) -> u64 {
        *self
    }
}

/// A 64-byte message (one cache line of payload).
#[derive(Clone, Copy, Default)]
struct Msg64([u64; 8]);

impl Item for Msg64 {
    #[inline(always)]
    fn make(sequence: u64) -> Self {
        Msg64([sequence, 1, 2, 3, 4, 5, 6, 7])
    }
    #[inline(always)]
    fn sequence(&self) -> u64 {
        self.0[0]
    }
}

/// The sending half of a queue under test; `try_send` returns `false` when full.
pub(crate) trait Tx<T: Copy>: Send + 'static {
    fn try_send(&mut self, item: T) -> bool;
    /// Sends as many of `items` as fit; returns how many (the batch variant).
    fn try_send_many(&mut self, items: &[T]) -> usize {
        let mut sent = 0;
        while sent < items.len() && self.try_send(items[sent]) {
            sent += 1;
        }
        sent
    }
}

/// The receiving half of a queue under test; hands what it takes in one go to `f` (one call
/// per batch, so a batch is checked in a monomorphic loop) and returns how many (0 when empty).
pub(crate) trait Rx<T: Copy>: Send + 'static {
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize;
}

/// The single-item receivers' common step: hands `item` (if any) to `f`, returns how many.
#[inline(always)]
fn hand_over<T: Copy>(item: Option<T>, f: &mut dyn FnMut(&[T])) -> usize {
    match item {
        Some(item) => {
            f(&[item]);
            1
        }
        None => 0,
    }
}

// --- liqcore -------------------------------------------------------------------------------

pub(crate) struct LiqTx<T>(liqcore::ring::Producer<T>);
pub(crate) struct LiqRx<T>(liqcore::ring::Consumer<T>);

impl<T: Item> Tx<T> for LiqTx<T> {
    #[inline(always)]
    fn try_send(&mut self, item: T) -> bool {
        self.0.push(item).is_ok()
    }
    #[inline(always)]
    fn try_send_many(&mut self, items: &[T]) -> usize {
        self.0.push_slice(items)
    }
}

impl<T: Item> Rx<T> for LiqRx<T> {
    #[inline(always)]
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize {
        hand_over(self.0.pop().ok(), f)
    }
}

/// The batch consumer: `pop_into` a local buffer.
struct LiqBatchRx<T>(liqcore::ring::Consumer<T>, Box<[T]>);

impl<T: Item> Rx<T> for LiqBatchRx<T> {
    #[inline(always)]
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize {
        let count = self.0.pop_into(&mut self.1);
        if count != 0 {
            f(&self.1[..count]);
        }
        count
    }
}

pub(crate) fn liqcore_pair<T: Item>() -> (LiqTx<T>, LiqRx<T>) {
    let (tx, rx) = liqcore::ring::channel(CAPACITY);
    (LiqTx(tx), LiqRx(rx))
}

/// Slots `pop` hands back per release in the grouped variant (`Consumer::set_release_group`).
const RELEASE_GROUP: usize = 64;

fn liqcore_grouped_pair<T: Item>() -> (LiqTx<T>, LiqRx<T>) {
    let (tx, mut rx) = liqcore::ring::channel(CAPACITY);
    rx.set_release_group(RELEASE_GROUP);
    (LiqTx(tx), LiqRx(rx))
}

fn liqcore_batch_pair<T: Item>() -> (LiqTx<T>, LiqBatchRx<T>) {
    let (tx, rx) = liqcore::ring::channel(CAPACITY);
    (LiqTx(tx), LiqBatchRx(rx, vec![T::default(); BATCH].into()))
}

// --- rtrb ----------------------------------------------------------------------------------

pub(crate) struct RtrbTx<T>(rtrb::Producer<T>);
pub(crate) struct RtrbRx<T>(rtrb::Consumer<T>);

impl<T: Item> Tx<T> for RtrbTx<T> {
    #[inline(always)]
    fn try_send(&mut self, item: T) -> bool {
        self.0.push(item).is_ok()
    }
}

impl<T: Item> Rx<T> for RtrbRx<T> {
    #[inline(always)]
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize {
        hand_over(self.0.pop().ok(), f)
    }
}

pub(crate) fn rtrb_pair<T: Item>() -> (RtrbTx<T>, RtrbRx<T>) {
    let (tx, rx) = rtrb::RingBuffer::new(CAPACITY);
    (RtrbTx(tx), RtrbRx(rx))
}

// --- crossbeam ArrayQueue ------------------------------------------------------------------

struct ArrayQueueEnd<T>(Arc<ArrayQueue<T>>);

impl<T: Item> Tx<T> for ArrayQueueEnd<T> {
    #[inline(always)]
    fn try_send(&mut self, item: T) -> bool {
        self.0.push(item).is_ok()
    }
}

impl<T: Item> Rx<T> for ArrayQueueEnd<T> {
    #[inline(always)]
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize {
        hand_over(self.0.pop(), f)
    }
}

fn array_queue_pair<T: Item>() -> (ArrayQueueEnd<T>, ArrayQueueEnd<T>) {
    let queue = Arc::new(ArrayQueue::new(CAPACITY));
    (ArrayQueueEnd(Arc::clone(&queue)), ArrayQueueEnd(queue))
}

// --- disruptor (event-poller API, so that we own both threads) -----------------------------

type DisruptorProducer<T> = disruptor::SingleProducer<T, disruptor::SingleConsumerBarrier>;
type DisruptorPoller<T> = disruptor::EventPoller<T, disruptor::SingleProducerBarrier>;

struct DisruptorTx<T: Item + Sync>(DisruptorProducer<T>);
struct DisruptorRx<T: Item + Sync>(DisruptorPoller<T>);

impl<T: Item + Sync> Tx<T> for DisruptorTx<T> {
    #[inline(always)]
    fn try_send(&mut self, item: T) -> bool {
        self.0.try_publish(|slot| *slot = item).is_ok()
    }
}

impl<T: Item + Sync> Rx<T> for DisruptorRx<T> {
    /// The poller's natural unit is a guard over every published event: that is how the
    /// disruptor is meant to be consumed, so it is what we measure.
    #[inline(always)]
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize {
        match self.0.poll() {
            Ok(mut guard) => {
                let mut count = 0;
                for item in &mut guard {
                    f(std::slice::from_ref(item));
                    count += 1;
                }
                count
            }
            Err(Polling::NoEvents | Polling::Shutdown) => 0,
        }
    }
}

fn disruptor_pair<T: Item + Sync>() -> (DisruptorTx<T>, DisruptorRx<T>) {
    let builder = disruptor::build_single_producer(CAPACITY, T::default, BusySpin);
    let (poller, builder) = builder.new_event_poller();
    (DisruptorTx(builder.build()), DisruptorRx(poller))
}

// --- std sync_channel ----------------------------------------------------------------------

struct StdTx<T>(mpsc::SyncSender<T>);
struct StdRx<T>(mpsc::Receiver<T>);

impl<T: Item> Tx<T> for StdTx<T> {
    #[inline(always)]
    fn try_send(&mut self, item: T) -> bool {
        self.0.try_send(item).is_ok()
    }
}

impl<T: Item> Rx<T> for StdRx<T> {
    #[inline(always)]
    fn try_recv_with(&mut self, f: &mut dyn FnMut(&[T])) -> usize {
        hand_over(self.0.try_recv().ok(), f)
    }
}

fn std_pair<T: Item>() -> (StdTx<T>, StdRx<T>) {
    let (tx, rx) = mpsc::sync_channel(CAPACITY);
    (StdTx(tx), StdRx(rx))
}

// --- harness -------------------------------------------------------------------------------

/// The two cores the benchmark pins to (the first two this process may use), if there are two.
pub(crate) fn two_cores() -> Option<(core_affinity::CoreId, core_affinity::CoreId)> {
    match crate::machine::core_ids() {
        [first, second, ..] => Some((*first, *second)),
        _ => None,
    }
}

/// Pins this thread to `core`, if there is one.
pub(crate) fn pin(core: Option<core_affinity::CoreId>) {
    if let Some(core) = core {
        core_affinity::set_for_current(core);
    }
}

/// Moves `items` items from this thread (pinned to the first core) to a consumer thread
/// (pinned to the second); returns items per second. `batch` sends through `try_send_many`.
fn throughput_once<T: Item>(tx: impl Tx<T>, rx: impl Rx<T>, items: u64, batch: bool) -> f64 {
    let cores = two_cores();
    let start = Arc::new(Barrier::new(2));
    let consumer_start = Arc::clone(&start);
    let mut rx = rx;
    let consumer = std::thread::spawn(move || {
        pin(cores.map(|c| c.1));
        consumer_start.wait();
        let mut expected = 0u64;
        let mut check = |items: &[T]| {
            for item in items {
                assert_eq!(item.sequence(), expected, "ring delivered out of order");
                expected += 1;
            }
        };
        let mut received = 0u64;
        while received < items {
            let got = rx.try_recv_with(&mut check);
            if got == 0 {
                std::hint::spin_loop();
            }
            received += got as u64;
        }
        Instant::now()
    });
    pin(cores.map(|c| c.0));
    let mut tx = tx;
    let mut chunk = [T::default(); BATCH];
    start.wait();
    let began = Instant::now();
    let mut next = 0u64;
    if batch {
        while next < items {
            let count = (items - next).min(BATCH as u64) as usize;
            for (offset, slot) in chunk[..count].iter_mut().enumerate() {
                *slot = T::make(next + offset as u64);
            }
            let mut sent = 0;
            while sent < count {
                let pushed = tx.try_send_many(&chunk[sent..count]);
                if pushed == 0 {
                    std::hint::spin_loop();
                }
                sent += pushed;
            }
            next += count as u64;
        }
    } else {
        while next < items {
            if tx.try_send(T::make(next)) {
                next += 1;
            } else {
                std::hint::spin_loop();
            }
        }
    }
    let finished = consumer.join().expect("consumer thread panicked");
    // Keep the producer alive until the consumer is done (disruptor pollers stop on drop).
    drop(black_box(tx));
    items as f64 / finished.duration_since(began).as_secs_f64()
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Latency percentiles of one round trip, in nanoseconds.
#[derive(Clone, Copy, Debug)]
struct RoundTrip {
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
    /// Mean of the fastest 99 % of the samples, in nanoseconds: this host's TSC moves in ~10 ns
    /// steps, so p50 is one of a few values, but each sample starts at a random point of a step
    /// and a mean of many is not quantized (it tells which ring is faster when the p50s tie).
    mean_to_p99: f64,
}

impl RoundTrip {
    fn from_histogram(histogram: &Histogram<u64>) -> RoundTrip {
        // Exactly the fastest 99 % (rounded up) of the samples, for every queue alike: the
        // bucket holding p99 may hold more than 1 % of them, so it is taken only in part.
        let wanted = histogram.len() - histogram.len() / 100;
        let (mut sum, mut count) = (0.0, 0u64);
        for bucket in histogram.iter_recorded() {
            let take = bucket.count_at_value().min(wanted - count);
            sum += bucket.value_iterated_to() as f64 * take as f64;
            count += take;
            if count == wanted {
                break;
            }
        }
        RoundTrip {
            p50: histogram.value_at_quantile(0.50),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean_to_p99: if count == 0 {
                f64::NAN
            } else {
                sum / count as f64
            },
        }
    }
}

pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("valid histogram bounds")
}

/// Ping-pongs a `u64` through two queues: this thread (first core) sends on `there` and waits
/// on `back`; an echo thread (second core) returns each item. Hands each timed round trip to
/// `record` as (position in the queues, nanoseconds), after the round trip is over.
pub(crate) fn round_trip<S1, R1, S2, R2>(
    there: (S1, R1),
    back: (S2, R2),
    samples: u64,
    record: &mut dyn FnMut(u64, u64),
) where
    S1: Tx<u64>,
    R1: Rx<u64>,
    S2: Tx<u64>,
    R2: Rx<u64>,
{
    let cores = two_cores();
    let warmup = RTT_WARMUP.min(samples);
    let total = warmup + samples;
    let (mut ping_tx, mut ping_rx) = there;
    let (mut pong_tx, mut pong_rx) = back;
    // The echo thread pins itself before the pinger starts spinning: a new thread inherits the
    // parent's affinity, and under a real-time policy a spinning parent would never let it run.
    let start = Arc::new(Barrier::new(2));
    let echo_start = Arc::clone(&start);
    let echo = std::thread::spawn(move || {
        pin(cores.map(|c| c.1));
        echo_start.wait();
        let mut echoed = 0u64;
        let mut pending = None;
        while echoed < total {
            if let Some(item) = pending {
                if pong_tx.try_send(item) {
                    pending = None;
                    echoed += 1;
                } else {
                    std::hint::spin_loop();
                }
                continue;
            }
            if ping_rx.try_recv_with(&mut |items| pending = Some(items[0])) == 0 {
                std::hint::spin_loop();
            }
        }
        (pong_tx, ping_rx)
    });
    start.wait();
    pin(cores.map(|c| c.0));
    let clock = quanta::Clock::new();
    for sequence in 0..total {
        let sent = clock.raw();
        while !ping_tx.try_send(sequence) {
            std::hint::spin_loop();
        }
        let mut got = None;
        while pong_rx.try_recv_with(&mut |items| got = Some(items[0])) == 0 {
            std::hint::spin_loop();
        }
        let received = clock.raw();
        assert_eq!(got, Some(sequence), "round trip returned the wrong item");
        if sequence >= warmup {
            record(sequence, clock.delta_as_nanos(sent, received));
        }
    }
    let ends = echo.join().expect("echo thread panicked");
    drop(black_box((ping_tx, pong_rx, ends)));
}

/// The floor: no queue at all, just a counter per direction, each on its own cache line and
/// written by one thread only (the least any two-thread handoff must move across cores).
fn ping_pong_floor(samples: u64, histogram: &mut Histogram<u64>) {
    let cores = two_cores();
    let warmup = RTT_WARMUP.min(samples);
    let total = warmup + samples;
    let ping = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let pong = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let (echo_ping, echo_pong) = (Arc::clone(&ping), Arc::clone(&pong));
    let start = Arc::new(Barrier::new(2));
    let echo_start = Arc::clone(&start);
    let echo = std::thread::spawn(move || {
        pin(cores.map(|c| c.1));
        echo_start.wait();
        for sequence in 1..=total {
            // Acquire: pairs with the pinger's Release store of `sequence`.
            while echo_ping.load(Ordering::Acquire) != sequence {
                std::hint::spin_loop();
            }
            // Release: pairs with the pinger's Acquire load of the reply.
            echo_pong.store(sequence, Ordering::Release);
        }
    });
    start.wait();
    pin(cores.map(|c| c.0));
    let clock = quanta::Clock::new();
    for sequence in 1..=total {
        let sent = clock.raw();
        // Release: pairs with the echo thread's Acquire load.
        ping.store(sequence, Ordering::Release);
        // Acquire: pairs with the echo thread's Release store of the reply.
        while pong.load(Ordering::Acquire) != sequence {
            std::hint::spin_loop();
        }
        let received = clock.raw();
        if sequence > warmup {
            histogram.saturating_record(clock.delta_as_nanos(sent, received));
        }
    }
    echo.join().expect("echo thread panicked");
}

/// One row of the results table.
struct Row {
    name: &'static str,
    u64_per_sec: Option<f64>,
    msg64_per_sec: Option<f64>,
    /// Every round's rate, in round order (for the paired ratios).
    u64_rounds: Vec<f64>,
    msg64_rounds: Vec<f64>,
    rtt: Option<RoundTrip>,
}

type ThroughputRun = Box<dyn Fn(u64) -> f64>;
type RoundTripRun = Box<dyn Fn(u64, &mut Histogram<u64>)>;

/// A queue under test: how to run one throughput measurement of each item type on a fresh
/// queue, and one round of round trips.
struct Contender {
    name: &'static str,
    u64_run: Option<ThroughputRun>,
    msg64_run: Option<ThroughputRun>,
    rtt_run: Option<RoundTripRun>,
}

fn contender<S1, R1, S2, R2, S3, R3>(
    name: &'static str,
    make_u64: fn() -> (S1, R1),
    make_msg64: fn() -> (S2, R2),
    make_rtt: Option<fn() -> (S3, R3)>,
    batch: bool,
) -> Contender
where
    S1: Tx<u64>,
    R1: Rx<u64>,
    S2: Tx<Msg64>,
    R2: Rx<Msg64>,
    S3: Tx<u64>,
    R3: Rx<u64>,
{
    Contender {
        name,
        u64_run: Some(Box::new(move |items| {
            let (tx, rx) = make_u64();
            throughput_once(tx, rx, items, batch)
        })),
        msg64_run: Some(Box::new(move |items| {
            let (tx, rx) = make_msg64();
            throughput_once(tx, rx, items, batch)
        })),
        rtt_run: make_rtt.map(|make| -> RoundTripRun {
            Box::new(move |samples, histogram| {
                round_trip(make(), make(), samples, &mut |_, nanos| {
                    histogram.saturating_record(nanos);
                });
            })
        }),
    }
}

/// Runs the comparison and prints its table and `key=value` lines.
///
/// The queues take turns: each of the `runs` rounds measures every queue once, so a noisy
/// moment on a shared host slows all of them rather than one.
pub fn run() {
    let items = env_or("LIQCORE_RING_ITEMS", DEFAULT_ITEMS);
    let runs = env_or("LIQCORE_RING_RUNS", DEFAULT_RUNS).max(1);
    let samples = env_or("LIQCORE_RTT_SAMPLES", DEFAULT_RTT_SAMPLES);
    let rtt_rounds = RTT_ROUNDS.min(samples).max(1);
    let samples_per_round = (samples / rtt_rounds).max(1);
    match two_cores() {
        Some((a, b)) => println!(
            "# threads pinned to cores {} and {}, busy-spinning; capacity {CAPACITY}",
            a.id, b.id
        ),
        None => println!("# fewer than two cores available: threads are NOT pinned"),
    }
    println!(
        "# throughput: {items} items per run, median of {runs} runs; round trip: {} samples in {rtt_rounds} rounds, each after {} warm-up",
        samples_per_round * rtt_rounds,
        RTT_WARMUP.min(samples_per_round)
    );
    println!("# the queues take turns: every round measures each queue once");

    let contenders = vec![
        contender(
            "liqcore (single)",
            liqcore_pair::<u64>,
            liqcore_pair::<Msg64>,
            Some(liqcore_pair::<u64>),
            false,
        ),
        contender(
            "liqcore (single, grouped 64)",
            liqcore_grouped_pair::<u64>,
            liqcore_grouped_pair::<Msg64>,
            Some(liqcore_grouped_pair::<u64>),
            false,
        ),
        contender(
            "liqcore (batch 256)",
            liqcore_batch_pair::<u64>,
            liqcore_batch_pair::<Msg64>,
            None::<fn() -> (LiqTx<u64>, LiqRx<u64>)>,
            true,
        ),
        contender(
            "rtrb 0.4",
            rtrb_pair::<u64>,
            rtrb_pair::<Msg64>,
            Some(rtrb_pair::<u64>),
            false,
        ),
        contender(
            "crossbeam ArrayQueue",
            array_queue_pair::<u64>,
            array_queue_pair::<Msg64>,
            Some(array_queue_pair::<u64>),
            false,
        ),
        contender(
            "disruptor 4 (poller)",
            disruptor_pair::<u64>,
            disruptor_pair::<Msg64>,
            Some(disruptor_pair::<u64>),
            false,
        ),
        contender(
            "std sync_channel",
            std_pair::<u64>,
            std_pair::<Msg64>,
            Some(std_pair::<u64>),
            false,
        ),
        Contender {
            name: "floor: bare ping-pong",
            u64_run: None,
            msg64_run: None,
            rtt_run: Some(Box::new(ping_pong_floor)),
        },
    ];

    // One short warm-up pass (page faults, frequency ramp), not counted.
    for contender in &contenders {
        if let Some(run) = &contender.u64_run {
            run((items / 10).max(1));
        }
    }
    let mut u64_results = vec![Vec::new(); contenders.len()];
    let mut msg64_results = vec![Vec::new(); contenders.len()];
    let mut histograms: Vec<Histogram<u64>> = contenders.iter().map(|_| new_histogram()).collect();
    let queues = contenders.len();
    for round in 0..runs {
        // Each round starts one queue later, so that no queue always runs first (the cyclic
        // order, and so each queue's neighbours, stay the same).
        for index in (0..queues).map(|step| (round + step) % queues) {
            let contender = &contenders[index];
            if let Some(run) = &contender.u64_run {
                let rate = run(items);
                eprintln!(
                    "round {}: {} u64 {:.1} M/s",
                    round + 1,
                    contender.name,
                    rate / 1e6
                );
                u64_results[index].push(rate);
            }
            if let Some(run) = &contender.msg64_run {
                msg64_results[index].push(run(items));
            }
        }
        eprintln!("round {} of {runs} done", round + 1);
    }
    for round in 0..rtt_rounds as usize {
        for index in (0..queues).map(|step| (round + step) % queues) {
            if let Some(run) = &contenders[index].rtt_run {
                run(samples_per_round, &mut histograms[index]);
            }
        }
    }
    let rows: Vec<Row> = contenders
        .iter()
        .enumerate()
        .map(|(index, contender)| Row {
            name: contender.name,
            u64_per_sec: (!u64_results[index].is_empty())
                .then(|| median(u64_results[index].clone())),
            msg64_per_sec: (!msg64_results[index].is_empty())
                .then(|| median(msg64_results[index].clone())),
            u64_rounds: u64_results[index].clone(),
            msg64_rounds: msg64_results[index].clone(),
            rtt: contender
                .rtt_run
                .as_ref()
                .map(|_| RoundTrip::from_histogram(&histograms[index])),
        })
        .collect();

    print_table(&rows);
    print_ratios(&rows);
}

fn mitems(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{:.1}", v / 1e6))
}

fn nanos(rtt: Option<RoundTrip>, pick: fn(&RoundTrip) -> u64) -> String {
    rtt.map_or_else(|| "—".to_string(), |r| pick(&r).to_string())
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| queue | u64 M items/s | 64 B M items/s | RTT p50 ns | RTT p99 ns | RTT p99.9 ns | RTT max ns |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            mitems(row.u64_per_sec),
            mitems(row.msg64_per_sec),
            nanos(row.rtt, |r| r.p50),
            nanos(row.rtt, |r| r.p99),
            nanos(row.rtt, |r| r.p999),
            nanos(row.rtt, |r| r.max),
        );
    }
    println!();
}

fn print_ratios(rows: &[Row]) {
    let find = |name: &str| rows.iter().find(|row| row.name.starts_with(name));
    let (Some(single), Some(grouped), Some(batch), Some(rtrb), Some(floor)) = (
        find("liqcore (single)"),
        find("liqcore (single, grouped"),
        find("liqcore (batch"),
        find("rtrb"),
        find("floor"),
    ) else {
        return;
    };
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => a / b,
        _ => f64::NAN,
    };
    let rtt_ratio =
        |a: Option<RoundTrip>, b: Option<RoundTrip>, pick: fn(&RoundTrip) -> u64| match (a, b) {
            (Some(a), Some(b)) if pick(&b) > 0 => pick(&a) as f64 / pick(&b) as f64,
            _ => f64::NAN,
        };
    // The median of the rounds' own ratios: both rates of a round come from the same minute,
    // so a host phase that slows every queue for a while cancels out of it (the ratio of
    // medians above is the one the issue asks for; this one says how much of it is the host).
    let paired = |a: &[f64], b: &[f64]| {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
        if ratios.is_empty() || b.iter().any(|rate| *rate <= 0.0) {
            f64::NAN
        } else {
            median(ratios)
        }
    };
    let p50 = |r: &RoundTrip| r.p50;
    let p999 = |r: &RoundTrip| r.p999;
    let lines = [
        (
            "throughput_ratio_vs_rtrb",
            ratio(single.u64_per_sec, rtrb.u64_per_sec),
        ),
        (
            "grouped_throughput_ratio_vs_rtrb",
            ratio(grouped.u64_per_sec, rtrb.u64_per_sec),
        ),
        (
            "grouped_msg64_throughput_ratio_vs_rtrb",
            ratio(grouped.msg64_per_sec, rtrb.msg64_per_sec),
        ),
        (
            "grouped_rtt_p50_ratio_vs_rtrb",
            rtt_ratio(grouped.rtt, rtrb.rtt, p50),
        ),
        (
            "grouped_rtt_p999_ratio_vs_rtrb",
            rtt_ratio(grouped.rtt, rtrb.rtt, p999),
        ),
        (
            "paired_throughput_ratio_vs_rtrb",
            paired(&single.u64_rounds, &rtrb.u64_rounds),
        ),
        (
            "paired_msg64_throughput_ratio_vs_rtrb",
            paired(&single.msg64_rounds, &rtrb.msg64_rounds),
        ),
        (
            "batch_throughput_ratio_vs_rtrb",
            ratio(batch.u64_per_sec, rtrb.u64_per_sec),
        ),
        (
            "paired_batch_throughput_ratio_vs_rtrb",
            paired(&batch.u64_rounds, &rtrb.u64_rounds),
        ),
        (
            "msg64_throughput_ratio_vs_rtrb",
            ratio(single.msg64_per_sec, rtrb.msg64_per_sec),
        ),
        (
            "rtt_p50_ratio_vs_rtrb",
            rtt_ratio(single.rtt, rtrb.rtt, p50),
        ),
        (
            "rtt_p999_ratio_vs_rtrb",
            rtt_ratio(single.rtt, rtrb.rtt, p999),
        ),
        (
            "rtt_mean_to_p99_ratio_vs_rtrb",
            match (single.rtt, rtrb.rtt) {
                (Some(a), Some(b)) if b.mean_to_p99 > 0.0 => a.mean_to_p99 / b.mean_to_p99,
                _ => f64::NAN,
            },
        ),
        ("rtt_p50_over_floor", rtt_ratio(single.rtt, floor.rtt, p50)),
    ];
    for (key, value) in lines {
        println!("ring.{key}={value:.2}");
    }
}
