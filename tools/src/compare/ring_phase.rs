//! `compare -- ring-phase`: what a round trip costs at each position of a cache line, in
//! liqcore's ring and in rtrb's: the measurement behind `liqcore::ring`'s block order.
//!
//! The same paced ping-pong as `compare -- ring` (a `u64` there and back through two rings of
//! capacity 1024, two pinned busy-spinning threads), the two rings taking turns for
//! `LIQCORE_RING_RUNS` rounds (default 40) of `LIQCORE_RTT_SAMPLES` / rounds timed round trips
//! (default 1 M in all) each. Every round trip is filed under its position modulo 16 (a
//! 128-byte block of `u64` slots, two lines of 8): the table gives each position's mean and the
//! share of its round trips that took twice the ring's median or more.
//!
//! In plain address order a consumer that reads one line after the other lets the hardware
//! prefetchers pull the next line to its core just as the producer starts writing that line,
//! so the first item of each line costs more than the other seven. rtrb keeps the plain order;
//! its slot array starts wherever the heap put it (0, 16, 32 or 48 bytes past a line), so its
//! dear positions are two of the sixteen, at an offset the table shows.

use hdrhistogram::Histogram;

use super::ring::{env_or, liqcore_pair, new_histogram, round_trip, rtrb_pair};

const DEFAULT_SAMPLES: u64 = 1_000_000;
const DEFAULT_ROUNDS: usize = 40;
/// Positions per 128-byte block of `u64` slots.
const PHASES: usize = 16;

/// Round trips filed by position: every sample in a histogram (for the median and the 1 % cut)
/// and, per position, the samples themselves (for its mean and slow share, once the median is
/// known).
struct Phases {
    all: Histogram<u64>,
    by_phase: Vec<Vec<u64>>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            all: new_histogram(),
            by_phase: vec![Vec::new(); PHASES],
        }
    }

    fn record(&mut self, position: u64, nanos: u64) {
        self.all.saturating_record(nanos);
        self.by_phase[position as usize % PHASES].push(nanos);
    }

    /// Each position's mean (ns) and share of round trips ≥ twice the median (%), without the
    /// slowest 1 % of all round trips (host interruptions, which fall on any position).
    fn summary(&self) -> Vec<(f64, f64)> {
        let median = self.all.value_at_quantile(0.50);
        let cut = self.all.value_at_quantile(0.99);
        self.by_phase
            .iter()
            .map(|samples| {
                let kept: Vec<u64> = samples.iter().copied().filter(|&n| n <= cut).collect();
                if kept.is_empty() {
                    return (f64::NAN, f64::NAN);
                }
                let mean = kept.iter().sum::<u64>() as f64 / kept.len() as f64;
                let slow = kept.iter().filter(|&&n| n >= 2 * median).count();
                (mean, 100.0 * slow as f64 / kept.len() as f64)
            })
            .collect()
    }
}

/// The dearest position's mean over the mean of the others.
fn worst_over_rest(summary: &[(f64, f64)]) -> f64 {
    let (worst, _) = summary
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0))
        .expect("sixteen positions");
    let rest: Vec<f64> = summary
        .iter()
        .enumerate()
        .filter(|(phase, _)| *phase != worst)
        .map(|(_, (mean, _))| *mean)
        .collect();
    summary[worst].0 / (rest.iter().sum::<f64>() / rest.len() as f64)
}

/// Runs the experiment and prints its table and `key=value` lines.
pub fn run() {
    let samples = env_or("LIQCORE_RTT_SAMPLES", DEFAULT_SAMPLES);
    let rounds = env_or("LIQCORE_RING_RUNS", DEFAULT_ROUNDS).max(1);
    let per_round = (samples / rounds as u64).max(1);
    println!(
        "# round trips of a u64, capacity 1024, {} per ring in {rounds} rounds (the rings take turns)",
        per_round * rounds as u64
    );
    let mut liqcore = Phases::new();
    let mut rtrb = Phases::new();
    for round in 0..rounds {
        // Each round starts with the other ring.
        for turn in 0..2 {
            if (round + turn) % 2 == 0 {
                round_trip(liqcore_pair(), liqcore_pair(), per_round, &mut |at, ns| {
                    liqcore.record(at, ns)
                });
            } else {
                round_trip(rtrb_pair(), rtrb_pair(), per_round, &mut |at, ns| {
                    rtrb.record(at, ns)
                });
            }
        }
    }
    let (ours, theirs) = (liqcore.summary(), rtrb.summary());
    println!();
    println!(
        "| position mod 16 | liqcore mean ns | liqcore ≥ 2× median | rtrb mean ns | rtrb ≥ 2× median |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for (phase, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        println!(
            "| {phase} | {:.1} | {:.2} % | {:.1} | {:.2} % |",
            a.0, a.1, b.0, b.1
        );
    }
    println!(
        "| median, all | {} | | {} | |",
        liqcore.all.value_at_quantile(0.50),
        rtrb.all.value_at_quantile(0.50)
    );
    println!();
    println!(
        "ring_phase.liqcore_worst_over_rest={:.2}",
        worst_over_rest(&ours)
    );
    println!(
        "ring_phase.rtrb_worst_over_rest={:.2}",
        worst_over_rest(&theirs)
    );
}
