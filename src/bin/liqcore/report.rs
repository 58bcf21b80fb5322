//! What `liqcore run` observes of a run ([`Collector`]) and how it prints it ([`Report`]), plus
//! the `.hgrm` writer for the latency histograms (the library's `engine::write_hgrm`).
//!
//! The collector is fed the scenario's index ticks and the engine's events in the order they
//! come out ([`Observation`]); it keeps O(1) state per symbol, the cascade's rounds and the
//! price path in 100 ms buckets of logical time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use liqcore::risk::AdlStats;
use liqcore::scenario::{Phase, ScenarioConfig};
use liqcore::types::{Money, SymbolSpec};

/// Width of a price-path bucket, ms of logical time.
pub const BUCKET_MS: u64 = 100;

/// One thing the collector is told, in event order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// An index tick was fed.
    Index { symbol: u32, ts: u64, price: i64 },
    /// The mark price changed.
    Mark { symbol: u32, ts: u64, price: i64 },
    /// A trade.
    Trade {
        symbol: u32,
        ts: u64,
        price: i64,
        qty: i64,
        liquidation: bool,
    },
    /// A liquidation order was emitted.
    Liquidation { symbol: u32, ts: u64, qty: i64 },
    /// A position was auto-deleveraged.
    Adl { symbol: u32, ts: u64, qty: i64 },
    /// The insurance fund's balance changed.
    Insurance { ts: u64, balance: Money },
    /// A command was refused.
    Rejected { reason: &'static str },
}

/// The prices of one 100 ms bucket (ticks; 0 where none is known yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Index at the end of the bucket.
    pub index: i64,
    /// Mark at the end of the bucket.
    pub mark: i64,
    /// Last trade at the end of the bucket.
    pub last: i64,
    /// Lowest trade in the bucket (0: no trade).
    pub low: i64,
    /// Highest trade in the bucket (0: no trade).
    pub high: i64,
    /// Lots sent in liquidation orders in the bucket.
    pub liquidated: i64,
    /// Liquidation orders in the bucket.
    pub liquidations: u64,
}

/// A mark update that liquidated someone, and what it liquidated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    /// The symbol.
    pub symbol: u32,
    /// Logical time of the mark update.
    pub ts: u64,
    /// The mark that triggered it.
    pub mark: i64,
    /// The index then.
    pub index: i64,
    /// The last trade price then.
    pub last: i64,
    /// Liquidation orders it started.
    pub liquidations: u64,
    /// Their lots.
    pub qty: i64,
}

#[derive(Clone, Copy, Debug, Default)]
struct SymbolNow {
    index: i64,
    mark: i64,
    last: i64,
    /// The round the latest mark update opened, if it liquidated someone.
    round: Option<usize>,
}

/// Everything `liqcore run` reports about the cascade, gathered from observations.
#[derive(Clone, Debug)]
pub struct Collector {
    config: ScenarioConfig,
    now: Vec<SymbolNow>,
    /// Per symbol, one bucket per [`BUCKET_MS`] of logical time.
    pub buckets: Vec<Vec<Bucket>>,
    /// The rounds of the cascade, in order.
    pub rounds: Vec<Round>,
    /// Mark updates seen.
    pub mark_updates: u64,
    /// Liquidation orders, per phase.
    pub liquidations: [u64; 4],
    /// Lots liquidated (sent in liquidation orders).
    pub liquidated_qty: i64,
    /// ADL events.
    pub adl_events: u64,
    /// Lots closed by ADL.
    pub adl_qty: i64,
    /// Trades, and those with a liquidation order on one side.
    pub trades: u64,
    /// Trades with a liquidation order on one side.
    pub liquidation_trades: u64,
    /// Insurance fund balance at the latest change.
    pub insurance: Money,
    /// Insurance fund balance when the crash started.
    pub insurance_at_crash: Option<Money>,
    /// Rejections by reason.
    pub rejections: BTreeMap<&'static str, u64>,
}

impl Collector {
    /// A collector for a scenario of `config`.
    #[must_use]
    pub fn new(config: &ScenarioConfig) -> Collector {
        let symbols = config.symbols.max(1) as usize;
        let buckets = (config.end_ms() / BUCKET_MS + 2) as usize;
        Collector {
            config: *config,
            now: vec![SymbolNow::default(); symbols],
            buckets: vec![vec![Bucket::default(); buckets]; symbols],
            rounds: Vec::new(),
            mark_updates: 0,
            liquidations: [0; 4],
            liquidated_qty: 0,
            adl_events: 0,
            adl_qty: 0,
            trades: 0,
            liquidation_trades: 0,
            insurance: Money::ZERO,
            insurance_at_crash: None,
            rejections: BTreeMap::new(),
        }
    }

    /// The phase logical time `ts` falls in.
    #[must_use]
    pub fn phase_of(&self, ts: u64) -> Phase {
        if ts < self.config.setup_ms {
            Phase::Setup
        } else if ts < self.config.crash_start_ms() {
            Phase::Background
        } else if ts < self.config.crash_end_ms() {
            Phase::Crash
        } else {
            Phase::Recovery
        }
    }

    fn bucket(&mut self, symbol: u32, ts: u64) -> Option<(&mut Bucket, SymbolNow)> {
        let now = *self.now.get(symbol as usize)?;
        let list = self.buckets.get_mut(symbol as usize)?;
        let at = ((ts / BUCKET_MS) as usize).min(list.len().saturating_sub(1));
        let bucket = list.get_mut(at)?;
        Some((bucket, now))
    }

    fn note_crash(&mut self, ts: u64) {
        if self.insurance_at_crash.is_none() && ts >= self.config.crash_start_ms() {
            self.insurance_at_crash = Some(self.insurance);
        }
    }

    /// Takes one observation.
    pub fn observe(&mut self, observation: Observation) {
        match observation {
            Observation::Index { symbol, ts, price } => {
                self.note_crash(ts);
                if let Some(now) = self.now.get_mut(symbol as usize) {
                    now.index = price;
                }
                self.settle(symbol, ts);
            }
            Observation::Mark { symbol, ts, price } => {
                self.mark_updates += 1;
                if let Some(now) = self.now.get_mut(symbol as usize) {
                    now.mark = price;
                    now.round = None;
                }
                self.settle(symbol, ts);
            }
            Observation::Trade {
                symbol,
                ts,
                price,
                liquidation,
                ..
            } => {
                self.trades += 1;
                self.liquidation_trades += u64::from(liquidation);
                if let Some(now) = self.now.get_mut(symbol as usize) {
                    now.last = price;
                }
                if let Some((bucket, _)) = self.bucket(symbol, ts) {
                    bucket.low = if bucket.low == 0 {
                        price
                    } else {
                        bucket.low.min(price)
                    };
                    bucket.high = bucket.high.max(price);
                }
                self.settle(symbol, ts);
            }
            Observation::Liquidation { symbol, ts, qty } => {
                let phase = self.phase_of(ts) as usize;
                self.liquidations[phase] += 1;
                self.liquidated_qty += qty;
                if let Some((bucket, _)) = self.bucket(symbol, ts) {
                    bucket.liquidated += qty;
                    bucket.liquidations += 1;
                }
                let Some(now) = self.now.get(symbol as usize).copied() else {
                    return;
                };
                let at = match now.round {
                    Some(at) => at,
                    None => {
                        self.rounds.push(Round {
                            symbol,
                            ts,
                            mark: now.mark,
                            index: now.index,
                            last: now.last,
                            liquidations: 0,
                            qty: 0,
                        });
                        let at = self.rounds.len() - 1;
                        self.now[symbol as usize].round = Some(at);
                        at
                    }
                };
                self.rounds[at].liquidations += 1;
                self.rounds[at].qty += qty;
            }
            Observation::Adl { qty, .. } => {
                self.adl_events += 1;
                self.adl_qty += qty;
            }
            Observation::Insurance { ts, balance } => {
                self.note_crash(ts);
                self.insurance = balance;
            }
            Observation::Rejected { reason } => {
                *self.rejections.entry(reason).or_insert(0) += 1;
            }
        }
    }

    /// Writes the symbol's current prices into the bucket of `ts`.
    fn settle(&mut self, symbol: u32, ts: u64) {
        if let Some((bucket, now)) = self.bucket(symbol, ts) {
            bucket.index = now.index;
            bucket.mark = now.mark;
            bucket.last = now.last;
        }
    }

    /// Fills buckets no observation touched with the prices before them.
    pub fn finish(&mut self) {
        for list in &mut self.buckets {
            let mut carry = Bucket::default();
            for bucket in list.iter_mut() {
                if bucket.index == 0 {
                    bucket.index = carry.index;
                }
                if bucket.mark == 0 {
                    bucket.mark = carry.mark;
                }
                if bucket.last == 0 {
                    bucket.last = carry.last;
                }
                carry = *bucket;
            }
        }
    }

    /// Liquidation orders over the whole run.
    #[must_use]
    pub fn total_liquidations(&self) -> u64 {
        self.liquidations.iter().sum()
    }

    /// The scenario configuration.
    #[must_use]
    pub fn config(&self) -> &ScenarioConfig {
        &self.config
    }
}

/// The machine a run happened on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// `lscpu`'s model name (or `/proc/cpuinfo`'s).
    pub model: String,
    /// Cores this process may use.
    pub cores: usize,
}

impl Machine {
    /// Reads the model from `lscpu` (falling back to `/proc/cpuinfo`) and the cores from the
    /// standard library.
    #[must_use]
    pub fn detect() -> Machine {
        let from_lscpu = std::process::Command::new("lscpu")
            .env("LC_ALL", "C")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| field(&text, "Model name"));
        let model = from_lscpu
            .or_else(|| {
                std::fs::read_to_string("/proc/cpuinfo")
                    .ok()
                    .and_then(|text| field(&text, "model name"))
            })
            .unwrap_or_else(|| "unknown".to_string());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Machine { model, cores }
    }
}

fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

/// One latency histogram (nanoseconds) and its name.
#[derive(Clone, Debug)]
pub struct Latency {
    /// Stage name (`risk`, `book`, `mark`, `end_to_end`, ...).
    pub name: String,
    /// Recorded values, ns.
    pub histogram: Histogram<u64>,
}

/// The percentiles the report prints.
pub const PERCENTILES: [(f64, &str); 5] = [
    (50.0, "p50"),
    (90.0, "p90"),
    (99.0, "p99"),
    (99.9, "p99.9"),
    (99.99, "p99.99"),
];

/// How the run was set up, for the report's header.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The machine.
    pub machine: Machine,
    /// The exact command line.
    pub command: String,
    /// Layout and wait strategies, in words.
    pub layout: String,
    /// The mark method, in words.
    pub mark: String,
    /// Inputs fed (commands and market inputs).
    pub inputs: u64,
    /// Inputs per phase.
    pub inputs_by_phase: [u64; 4],
    /// Events received.
    pub events: u64,
    /// Wall time of the engine run (feeding to drained), seconds.
    pub seconds: f64,
    /// Wall time of the scenario generation, seconds.
    pub generate_seconds: f64,
    /// What the latency numbers include, for the reader.
    pub latency_note: String,
    /// Wall time of the comparison run marked at the last trade, seconds, if it ran.
    pub compare_seconds: Option<f64>,
    /// What the comparison run's ADL ranking did, if it ran.
    pub compare_adl: Option<AdlStats>,
}

/// A finished run, ready to print.
pub struct Report<'a> {
    /// How it was set up.
    pub info: &'a RunInfo,
    /// The main run.
    pub main: &'a Collector,
    /// The same scenario marked at the last trade (the counterfactual), if it ran.
    pub last: Option<&'a Collector>,
    /// Latency histograms.
    pub latency: &'a [Latency],
    /// Symbol 0's grid, for decimal prices and quantities.
    pub spec: &'a SymbolSpec,
    /// Insurance fund deposits.
    pub insurance_deposits: Money,
    /// Where the artefacts went.
    pub out_dir: &'a str,
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ns(value: u64) -> String {
    if value >= 10_000_000 {
        format!("{:.1} ms", value as f64 / 1e6)
    } else if value >= 10_000 {
        format!("{:.1} µs", value as f64 / 1e3)
    } else {
        format!("{value} ns")
    }
}

fn quote(money: Money) -> String {
    // Whole quote units, rounded down toward zero: a display value.
    thousands_signed(money.0 / Money::UNIT)
}

fn thousands_signed(v: i128) -> String {
    let s = thousands(v.unsigned_abs() as u64);
    if v < 0 { format!("-{s}") } else { s }
}

impl Report<'_> {
    fn price(&self, ticks: i64) -> String {
        if ticks == 0 {
            "-".to_string()
        } else {
            self.spec
                .price_to_decimal(liqcore::types::Price(ticks))
                .round_dp(1)
                .to_string()
        }
    }

    fn qty(&self, lots: i64) -> String {
        self.spec
            .qty_to_decimal(liqcore::types::Qty(lots))
            .round_dp(3)
            .to_string()
    }

    /// The report as text (Markdown-friendly: tables are fixed-width in a code block).
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::new();
        let info = self.info;
        let config = self.main.config();
        let _ = writeln!(s, "liqcore run — liquidation cascade");
        let _ = writeln!(
            s,
            "machine   {} · {} core(s) available",
            info.machine.model, info.machine.cores
        );
        let _ = writeln!(s, "command   {}", info.command);
        let _ = writeln!(
            s,
            "scenario  {} accounts · {} symbol(s) · {} makers/symbol · seed {} · index −{}% over {} s, then +⅔ back over {} s",
            thousands(config.accounts),
            config.symbols,
            config.makers,
            config.seed,
            liqcore::types::Rate(config.drop.0).to_decimal() * rust_decimal::Decimal::from(100),
            config.crash_ms as f64 / 1000.0,
            config.recovery_ms as f64 / 1000.0,
        );
        let _ = writeln!(s, "stages    {}", info.layout);
        let _ = writeln!(s, "mark      {}", info.mark);
        let _ = writeln!(
            s,
            "inputs    {} (setup {}, background {}, crash {}, recovery {}) generated in {:.2} s",
            thousands(info.inputs),
            thousands(info.inputs_by_phase[0]),
            thousands(info.inputs_by_phase[1]),
            thousands(info.inputs_by_phase[2]),
            thousands(info.inputs_by_phase[3]),
            info.generate_seconds,
        );
        let rate = info.inputs as f64 / info.seconds.max(1e-9);
        let _ = writeln!(
            s,
            "engine    {} inputs in {:.3} s = {} inputs/s · {} events out",
            thousands(info.inputs),
            info.seconds,
            thousands(rate as u64),
            thousands(info.events),
        );

        // Latency.
        let _ = writeln!(s, "\nlatency per stage (from the engine's hdrhistograms)");
        let _ = write!(s, "  {:<14}", "stage");
        for (_, name) in PERCENTILES {
            let _ = write!(s, "{name:>10}");
        }
        let _ = writeln!(s, "{:>10}{:>12}", "max", "count");
        for latency in self.latency {
            let h = &latency.histogram;
            let _ = write!(s, "  {:<14}", latency.name);
            for (p, _) in PERCENTILES {
                let _ = write!(s, "{:>10}", ns(h.value_at_percentile(p)));
            }
            let _ = writeln!(s, "{:>10}{:>12}", ns(h.max()), thousands(h.len()));
        }
        if !info.latency_note.is_empty() {
            let _ = writeln!(s, "  ({})", info.latency_note);
        }

        // Cascade.
        let main = self.main;
        let _ = writeln!(s, "\ncascade");
        let _ = writeln!(
            s,
            "  liquidations   {} orders, {} lots ({}) — setup {}, background {}, crash {}, recovery {}",
            thousands(main.total_liquidations()),
            thousands(main.liquidated_qty.max(0) as u64),
            self.qty(main.liquidated_qty),
            main.liquidations[0],
            main.liquidations[1],
            main.liquidations[2],
            main.liquidations[3],
        );
        let _ = writeln!(
            s,
            "  rounds         {} of {} mark updates liquidated someone (round = mark update → liquidations → trades → next mark update)",
            thousands(main.rounds.len() as u64),
            thousands(main.mark_updates),
        );
        let _ = writeln!(
            s,
            "  trades         {} ({} with a liquidation order on one side)",
            thousands(main.trades),
            thousands(main.liquidation_trades),
        );
        let _ = writeln!(
            s,
            "  ADL            {} events, {} lots ({})",
            thousands(main.adl_events),
            thousands(main.adl_qty.max(0) as u64),
            self.qty(main.adl_qty),
        );
        let _ = writeln!(
            s,
            "  insurance fund deposited {} → at crash start {} → at the end {}",
            quote(self.insurance_deposits),
            quote(main.insurance_at_crash.unwrap_or(main.insurance)),
            quote(main.insurance),
        );
        self.render_rounds(&mut s);
        self.render_path(&mut s);

        // Counterfactual.
        if let Some(last) = self.last {
            let with_mark = main.total_liquidations();
            let with_last = last.total_liquidations();
            let _ = writeln!(
                s,
                "\nmark price vs marking at the last trade (same scenario)"
            );
            let _ = writeln!(
                s,
                "  {:<24}{:>14}{:>10}{:>12}{:>10}",
                "", "liquidations", "rounds", "ADL events", "crash"
            );
            for (name, c) in [(info.mark.as_str(), main), ("last trade", last)] {
                let short: String = name.split_whitespace().next().unwrap_or(name).into();
                let _ = writeln!(
                    s,
                    "  {:<24}{:>14}{:>10}{:>12}{:>10}",
                    if name == "last trade" {
                        "last".to_string()
                    } else {
                        short
                    },
                    thousands(c.total_liquidations()),
                    thousands(c.rounds.len() as u64),
                    thousands(c.adl_events),
                    thousands(c.liquidations[2]),
                );
            }
            if let (Some(seconds), Some(adl)) = (info.compare_seconds, info.compare_adl) {
                let _ = writeln!(
                    s,
                    "  (comparison run: {:.3} s, single layout; its ADL ranked {} times: {} full rankings, {} candidates scored)",
                    seconds,
                    thousands(adl.adls),
                    thousands(adl.builds),
                    thousands(adl.scored),
                );
            }
            let avoided = with_last as i64 - with_mark as i64;
            let _ = writeln!(
                s,
                "  the mark price avoided {} liquidations ({:.1} % of those marking at the last trade would cause)",
                avoided,
                if with_last == 0 {
                    0.0
                } else {
                    avoided as f64 * 100.0 / with_last as f64
                },
            );
        }

        if !main.rejections.is_empty() {
            let _ = write!(s, "\nrejected commands:");
            let mut by_count: Vec<_> = main.rejections.iter().collect();
            by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (reason, count) in by_count {
                let _ = write!(s, " {reason} {}", thousands(*count));
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "\nartefacts {}/: latency.svg, cascade.svg, one .hgrm per stage",
            self.out_dir
        );
        s
    }

    /// The rounds table: every round if there are few, else the crash's largest and a count.
    fn render_rounds(&self, s: &mut String) {
        let rounds = &self.main.rounds;
        if rounds.is_empty() {
            return;
        }
        const SHOW: usize = 16;
        let crash = self.main.config().crash_start_ms() as i64;
        let mut shown: Vec<usize> = (0..rounds.len()).collect();
        if rounds.len() > SHOW {
            shown.sort_by(|&a, &b| rounds[b].qty.cmp(&rounds[a].qty).then(a.cmp(&b)));
            shown.truncate(SHOW);
            shown.sort_unstable();
            let _ = writeln!(
                s,
                "\n  the {SHOW} largest rounds of {} (time from the crash start)",
                rounds.len()
            );
        } else {
            let _ = writeln!(s, "\n  every round (time from the crash start)");
        }
        let _ = writeln!(
            s,
            "  {:>6} {:>9} {:>10} {:>10} {:>10} {:>8} {:>10}",
            "round", "t (s)", "index", "mark", "last", "liqs", "qty"
        );
        for at in shown {
            let r = &rounds[at];
            let _ = writeln!(
                s,
                "  {:>6} {:>9.2} {:>10} {:>10} {:>10} {:>8} {:>10}",
                at + 1,
                (r.ts as i64 - crash) as f64 / 1000.0,
                self.price(r.index),
                self.price(r.mark),
                self.price(r.last),
                r.liquidations,
                self.qty(r.qty),
            );
        }
    }

    /// The price path of symbol 0 around the crash: a compact table of samples.
    fn render_path(&self, s: &mut String) {
        let Some(list) = self.main.buckets.first() else {
            return;
        };
        let config = self.main.config();
        let crash = config.crash_start_ms();
        let mut times: Vec<u64> = vec![crash.saturating_sub(5_000), crash.saturating_sub(100)];
        let step = (config.crash_ms / 6).max(BUCKET_MS);
        let mut t = crash + step;
        while t <= config.crash_end_ms() {
            times.push(t);
            t += step;
        }
        let step = (config.recovery_ms / 4).max(BUCKET_MS);
        let mut t = config.crash_end_ms() + step;
        while t <= config.end_ms() {
            times.push(t);
            t += step;
        }
        // The deepest wick: the bucket whose lowest trade is furthest below its index.
        let wick = list
            .iter()
            .enumerate()
            .filter(|(_, b)| b.low > 0 && b.index > 0)
            .max_by_key(|(_, b)| (b.index - b.low) * 1_000_000 / b.index)
            .map(|(i, _)| i as u64 * BUCKET_MS);
        if let Some(w) = wick {
            times.push(w);
        }
        times.sort_unstable();
        times.dedup();
        let _ = writeln!(
            s,
            "\nprice path, symbol 0 (index vs mark vs last trade; low = lowest trade in the 100 ms)"
        );
        let _ = writeln!(
            s,
            "  {:>8} {:>10} {:>10} {:>10} {:>10} {:>9}  ",
            "t (s)", "index", "mark", "last", "low", "liq qty"
        );
        for t in times {
            let at = ((t / BUCKET_MS) as usize).min(list.len() - 1);
            let b = list[at];
            let note = if Some(t) == wick {
                "← deepest wick below the index"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "  {:>8.1} {:>10} {:>10} {:>10} {:>10} {:>9}  {note}",
                (t as i64 - crash as i64) as f64 / 1000.0,
                self.price(b.index),
                self.price(b.mark),
                self.price(b.last),
                self.price(b.low),
                self.qty(b.liquidated),
            );
        }
    }

    /// `key=value` lines for scripts.
    #[must_use]
    pub fn key_values(&self) -> String {
        let mut s = String::new();
        let info = self.info;
        let main = self.main;
        let mut kv = |k: &str, v: String| {
            let _ = writeln!(s, "run.{k}={v}");
        };
        kv("accounts", main.config().accounts.to_string());
        kv("inputs", info.inputs.to_string());
        kv("seconds", format!("{:.3}", info.seconds));
        kv(
            "throughput_per_s",
            format!("{:.0}", info.inputs as f64 / info.seconds.max(1e-9)),
        );
        for latency in self.latency {
            let h = &latency.histogram;
            for (p, name) in [(50.0, "p50"), (99.0, "p99"), (99.99, "p9999")] {
                kv(
                    &format!("{}_{name}_ns", latency.name),
                    h.value_at_percentile(p).to_string(),
                );
            }
        }
        kv("liquidations", main.total_liquidations().to_string());
        kv("rounds", main.rounds.len().to_string());
        kv("adl_events", main.adl_events.to_string());
        kv(
            "insurance_start",
            quote(self.insurance_deposits).replace(',', ""),
        );
        kv("insurance_end", quote(main.insurance).replace(',', ""));
        if let Some(last) = self.last {
            kv(
                "liquidations_mark_last",
                last.total_liquidations().to_string(),
            );
            kv(
                "liquidations_avoided",
                (last.total_liquidations() as i64 - main.total_liquidations() as i64).to_string(),
            );
            kv("adl_events_mark_last", last.adl_events.to_string());
        }
        if let (Some(seconds), Some(adl)) = (info.compare_seconds, info.compare_adl) {
            kv("compare_seconds", format!("{seconds:.3}"));
            kv("compare_adl_rankings", adl.adls.to_string());
            kv("compare_adl_full_rankings", adl.builds.to_string());
            kv("compare_adl_scored", adl.scored.to_string());
        }
        s
    }
}

pub use liqcore::engine::write_hgrm;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hgrm_has_the_standard_shape() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
        for v in 1..=10_000u64 {
            h.record(v * 100).unwrap();
        }
        let mut out = Vec::new();
        write_hgrm(&h, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines.next().unwrap(), "");
        let first: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(first, ["0.100", "0.000000000000", "1", "1.00"]);
        let last_value = text
            .lines()
            .rfind(|l| !l.starts_with('#'))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>();
        assert_eq!(last_value.len(), 3, "the 100 % line has no 1/(1-P)");
        assert_eq!(last_value[1], "1.000000000000");
        assert_eq!(last_value[2], "10000");
        assert!(text.contains("#[Max     =     1000.447, Total count    =        10000]"));
        assert!(text.contains("SubBuckets     =         2048]"));
    }

    #[test]
    fn rounds_open_on_a_mark_update_that_liquidates() {
        let config = ScenarioConfig::with_accounts(10);
        let mut c = Collector::new(&config);
        let t = config.crash_start_ms();
        c.observe(Observation::Index {
            symbol: 0,
            ts: t,
            price: 590_000,
        });
        c.observe(Observation::Mark {
            symbol: 0,
            ts: t,
            price: 590_000,
        });
        c.observe(Observation::Liquidation {
            symbol: 0,
            ts: t,
            qty: 5,
        });
        c.observe(Observation::Liquidation {
            symbol: 0,
            ts: t,
            qty: 7,
        });
        c.observe(Observation::Trade {
            symbol: 0,
            ts: t,
            price: 585_000,
            qty: 12,
            liquidation: true,
        });
        // A mark update without liquidations opens no round.
        c.observe(Observation::Mark {
            symbol: 0,
            ts: t + 1,
            price: 589_000,
        });
        c.observe(Observation::Mark {
            symbol: 0,
            ts: t + 2,
            price: 588_000,
        });
        c.observe(Observation::Liquidation {
            symbol: 0,
            ts: t + 2,
            qty: 1,
        });
        c.finish();
        assert_eq!(c.rounds.len(), 2);
        assert_eq!((c.rounds[0].liquidations, c.rounds[0].qty), (2, 12));
        assert_eq!(c.rounds[1].mark, 588_000);
        assert_eq!(c.rounds[1].last, 585_000);
        assert_eq!(c.liquidations, [0, 0, 3, 0]);
        assert_eq!(c.mark_updates, 3);
        let b = c.buckets[0][(t / BUCKET_MS) as usize];
        assert_eq!((b.low, b.liquidated, b.mark), (585_000, 13, 588_000));
    }
}
