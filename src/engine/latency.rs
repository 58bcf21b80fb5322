//! Per-stage latency recording: each stage owns its histograms (nothing shared on the hot
//! path); the runner merges them at shutdown.

use hdrhistogram::Histogram;
use quanta::Clock;

/// Largest recorded value, ns (larger values saturate).
const MAX_NS: u64 = 60_000_000_000;

/// One named latency histogram (nanoseconds).
#[derive(Clone, Debug)]
pub struct Latency {
    /// What it measures, e.g. `book.service` or `e2e.order_to_report`.
    pub name: &'static str,
    /// The distribution, ns.
    pub histogram: Histogram<u64>,
}

impl Latency {
    fn new(name: &'static str) -> Latency {
        Latency {
            name,
            // Three significant digits from 1 ns to 60 s: allocated here, never on record.
            histogram: Histogram::new_with_bounds(1, MAX_NS, 3).expect("constant bounds are valid"),
        }
    }

    /// Writes the histogram as an HdrHistogram percentile distribution (`.hgrm`): see
    /// [`write_hgrm`].
    ///
    /// # Errors
    ///
    /// I/O errors of `out`.
    pub fn write_hgrm<W: std::io::Write>(&self, out: &mut W) -> std::io::Result<()> {
        write_hgrm(&self.histogram, out)
    }
}

/// Writes `histogram` (values in ns) as HdrHistogram's percentile-distribution text (`.hgrm`,
/// what `HistogramLogProcessor` and the online plotter read): values in µs, five ticks per
/// half distance, cumulative `TotalCount`, then the mean / max / bucket footer.
///
/// # Errors
///
/// I/O errors of `out`.
pub fn write_hgrm<W: std::io::Write>(
    histogram: &Histogram<u64>,
    out: &mut W,
) -> std::io::Result<()> {
    const SCALE: f64 = 1000.0; // ns → µs
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    if !histogram.is_empty() {
        for v in histogram.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / SCALE;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                writeln!(
                    out,
                    "{value:>12.3} {q:>2.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{value:>12.3} {q:>2.12} {total:>10}")?;
            }
        }
    }
    // The sub-bucket count the Java implementation prints: 2^⌈log2(2·10^sigfig)⌉.
    let sub_buckets = (2 * 10u64.pow(u32::from(histogram.sigfig()))).next_power_of_two();
    writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        histogram.mean() / SCALE,
        histogram.stdev() / SCALE
    )?;
    writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        histogram.max() as f64 / SCALE,
        histogram.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        histogram.buckets(),
        sub_buckets
    )
}

/// A stage's timer, `None` when latency is off. Boxed: the check every message makes is then
/// a null test (an unboxed timer's `None` hides in the quanta clock's own discriminant, and
/// testing it costs the clock's jump table per message).
pub(crate) type Timer = Option<Box<StageTimer>>;

/// The clock and histograms one stage records into.
pub(crate) struct StageTimer {
    pub(crate) clock: Clock,
    pub(crate) queue: Latency,
    pub(crate) service: Latency,
    /// The stage's end-to-end measure (book: order in → report out and mark → liquidation
    /// accepted; mark: index tick → mark published).
    pub(crate) e2e: Vec<Latency>,
}

impl StageTimer {
    pub(crate) fn new(clock: Clock, stage: &'static str, e2e: &[&'static str]) -> StageTimer {
        let (queue, service) = match stage {
            "risk" => ("risk.queue_wait", "risk.service"),
            "book" => ("book.queue_wait", "book.service"),
            _ => ("mark.queue_wait", "mark.service"),
        };
        StageTimer {
            clock,
            queue: Latency::new(queue),
            service: Latency::new(service),
            e2e: e2e.iter().map(|n| Latency::new(n)).collect(),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.raw()
    }

    #[inline]
    pub(crate) fn record(clock: &Clock, latency: &mut Latency, start: u64, end: u64) {
        if start != 0 && end > start {
            let ns = clock.delta_as_nanos(start, end).max(1);
            latency.histogram.saturating_record(ns);
        }
    }

    pub(crate) fn into_latencies(self) -> Vec<Latency> {
        let mut all = vec![self.queue, self.service];
        all.extend(self.e2e);
        all
    }
}

/// Merges histograms of the same name (several book stages), keeping first-seen order.
pub(crate) fn merge(all: Vec<Latency>) -> Vec<Latency> {
    let mut merged: Vec<Latency> = Vec::new();
    for latency in all {
        match merged.iter_mut().find(|m| m.name == latency.name) {
            Some(m) => {
                // Same bounds on both sides: adding cannot fail.
                let _ = m.histogram.add(&latency.histogram);
            }
            None => merged.push(latency),
        }
    }
    merged
}
