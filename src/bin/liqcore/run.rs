//! `liqcore run` (the default command): the liquidation-cascade scenario
//! ([`liqcore::scenario`]) through the pipeline, a progress bar while it runs, then the report
//! (`report.rs`) and the artefacts: one `.hgrm` per latency histogram, `latency.svg` and
//! `cascade.svg` (`charts.rs`), and `report.txt`.
//!
//! The same scenario then runs a second time, single-threaded and marked at the last trade, to
//! count the liquidations the mark price avoided.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use liqcore::book::BookEvent;
use liqcore::engine::{Event, Layout, MarketInput};
use liqcore::mark::MarkConfig;
use liqcore::risk::{AdlStats, LiquidationEvent};
use liqcore::scenario::{Input, Observer, Phase, Scenario, ScenarioConfig, Step, play};
use liqcore::types::{Money, Rate};
use rust_decimal::Decimal;

#[path = "charts.rs"]
mod charts;
#[path = "report.rs"]
mod report;

use report::{Collector, Latency, Machine, Observation, Report, RunInfo, write_hgrm};

/// Where the stages run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// `pinned` with at least 4 cores (a core per stage and one for the host), else `single`.
    Auto,
    /// Every stage on this thread, polled in a fixed order: deterministic.
    Single,
    /// A thread per stage (risk, book, mark), pinned to a core of its own when there are
    /// enough; busy-spinning with a core each, spin-then-yield otherwise.
    Pinned,
}

/// How the mark price is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MarkArg {
    /// The last trade price (no clamp): a wick moves it fully.
    Last,
    /// The best bid/offer mid (no clamp).
    Mid,
    /// Binance/Bybit: median of index × (1 + funding basis), index + moving average of the
    /// basis, and the last trade; clamped to the index ± 5 %.
    Median3,
    /// Hyperliquid: median of index + basis EMA, the local median and an external reference;
    /// clamped to the index ± 5 %.
    #[value(name = "ema_median")]
    EmaMedian,
}

impl MarkArg {
    fn config(self) -> MarkConfig {
        match self {
            MarkArg::Last => MarkConfig::last(),
            MarkArg::Mid => MarkConfig::mid(),
            MarkArg::Median3 => MarkConfig::median3(),
            MarkArg::EmaMedian => MarkConfig::ema_median(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            MarkArg::Last => "last (the last trade price, no clamp)",
            MarkArg::Mid => "mid (best bid/offer mid, no clamp)",
            MarkArg::Median3 => {
                "median3 (median of index·(1+funding basis), index + basis MA, last; clamp ±5 %)"
            }
            MarkArg::EmaMedian => {
                "ema_median (median of index + basis EMA, local median, reference; clamp ±5 %)"
            }
        }
    }
}

/// Arguments of `liqcore run`.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Leveraged accounts in the scenario (each deposits, sets a leverage of 1× to 100× and
    /// opens a position against the market makers). Both runs (the main one and the
    /// comparison marked at the last trade) grow about linearly with it: the default takes a
    /// few seconds on 2 cores.
    #[arg(long, default_value_t = 100_000)]
    pub accounts: u64,
    /// Perpetual symbols (1 to 16; symbol 0 is BTC-like at 60,000, each further one half the
    /// price of the one before; all crash together).
    #[arg(long, default_value_t = 1)]
    pub symbols: u32,
    /// Seed of the scenario generator: the same seed gives the same inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the engine's stages run.
    #[arg(long, value_enum, default_value_t = LayoutArg::Auto)]
    pub layout: LayoutArg,
    /// Cores the pinned layout may use, e.g. `--cores 2,3,4` (default: all).
    #[arg(long, value_delimiter = ',')]
    pub cores: Vec<usize>,
    /// Mark-price method of the main run (the comparison run always marks at the last trade).
    #[arg(long, value_enum, default_value_t = MarkArg::Median3)]
    pub mark: MarkArg,
    /// How far the index falls in the crash, as a fraction from 0 to 0.9 (0.15 = −15 %, over
    /// 3 s of logical time; it then climbs back two thirds of the way).
    #[arg(long, default_value = "0.15")]
    pub drop: Decimal,
    /// Folder for the artefacts (.hgrm histograms, latency.svg, cascade.svg, report.txt).
    #[arg(long, default_value = "perf/latest")]
    pub out: PathBuf,
    /// No progress bar (it is also hidden when standard error is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Skip the second run marked at the last trade (no "liquidations avoided" line).
    #[arg(long)]
    pub no_compare: bool,
}

#[derive(Parser)]
struct Defaults {
    #[command(flatten)]
    args: RunArgs,
}

impl RunArgs {
    /// The arguments `liqcore` with no subcommand runs with.
    pub fn default_args() -> RunArgs {
        Defaults::parse_from(["liqcore"]).args
    }
}

/// Turns the scenario's inputs and the engine's events into observations.
struct Watch<'a> {
    collector: &'a mut Collector,
    bar: &'a ProgressBar,
    offset: u64,
    events: u64,
}

impl Observer for Watch<'_> {
    fn input(&mut self, step: &Step) {
        if let Input::Market(MarketInput::Index { symbol, price }) = step.input {
            self.collector.observe(Observation::Index {
                symbol: symbol.0,
                ts: step.ts,
                price: price.0,
            });
        }
    }

    fn event(&mut self, ts: u64, event: &Event) {
        self.events += 1;
        let observation = match *event {
            Event::Book {
                symbol,
                event: BookEvent::Trade(t),
            } => Observation::Trade {
                symbol: symbol.0,
                ts,
                price: t.price.0,
                qty: t.qty.0,
                liquidation: t.liquidation,
            },
            Event::Book {
                event: BookEvent::Rejected { reason, .. },
                ..
            } => Observation::Rejected {
                reason: reason.as_str(),
            },
            Event::Rejected { reason, .. } => Observation::Rejected { reason },
            Event::Mark { symbol, price, ts } => Observation::Mark {
                symbol: symbol.0,
                ts,
                price: price.0,
            },
            Event::Risk(LiquidationEvent::Liquidation { symbol, qty, .. }) => {
                Observation::Liquidation {
                    symbol: symbol.0,
                    ts,
                    qty: qty.0,
                }
            }
            Event::Risk(LiquidationEvent::Adl { symbol, qty, .. }) => Observation::Adl {
                symbol: symbol.0,
                ts,
                qty: qty.0,
            },
            Event::Risk(LiquidationEvent::Insurance { balance, .. }) => {
                Observation::Insurance { ts, balance }
            }
            Event::Book { .. } => return,
        };
        self.collector.observe(observation);
    }

    fn progress(&mut self, done: usize) {
        self.bar.set_position(self.offset + done as u64);
    }
}

/// The result of playing the scenario once.
struct Played {
    collector: Collector,
    latency: Vec<Latency>,
    events: u64,
    seconds: f64,
    plan: String,
    insurance_end: Money,
    positions_net: Vec<i128>,
    adl: AdlStats,
}

fn play_once(
    scenario: &Scenario,
    mark: MarkConfig,
    layout: Layout,
    cores: &[usize],
    latency: bool,
    bar: &ProgressBar,
    offset: u64,
) -> Result<Played, String> {
    let mut builder = scenario.builder(mark).layout(layout).latency(latency);
    if !cores.is_empty() {
        builder = builder.cores(cores.to_vec());
    }
    let mut collector = Collector::new(&scenario.config);
    let started = Instant::now();
    let mut engine = builder.start().map_err(|e| e.to_string())?;
    let plan = engine.plan().to_string();
    let mut watch = Watch {
        collector: &mut collector,
        bar,
        offset,
        events: 0,
    };
    play(&mut engine, &scenario.steps, &mut watch);
    let report = engine.shutdown();
    let seconds = started.elapsed().as_secs_f64();
    for event in &report.events {
        let ts = scenario.steps.last().map_or(0, |s| s.ts);
        watch.event(ts, event);
    }
    let events = watch.events;
    collector.finish();
    let risk = report.risk.risk();
    let insurance_end = risk.insurance_fund();
    let adl = report.risk.adl_stats();
    collector.insurance = insurance_end;
    let positions_net = (0..scenario.markets.len())
        .map(|s| risk.total_size(liqcore::types::SymbolId(s as u32)))
        .collect();
    let latency = report
        .latencies
        .into_iter()
        .map(|l| Latency {
            name: l.name.to_string(),
            histogram: l.histogram,
        })
        .collect();
    Ok(Played {
        collector,
        latency,
        events,
        seconds,
        plan,
        insurance_end,
        positions_net,
        adl,
    })
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Runs the scenario.
pub fn main(args: RunArgs) -> ExitCode {
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("liqcore run: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &RunArgs) -> Result<(), String> {
    let machine = Machine::detect();
    let drop = Rate::from_decimal(args.drop)
        .filter(|r| r.0 >= 0 && r.0 <= 90_000_000)
        .ok_or("--drop must be a fraction from 0 to 0.9, e.g. 0.15")?;
    let config = ScenarioConfig {
        seed: args.seed,
        symbols: args.symbols.clamp(1, 16),
        drop,
        ..ScenarioConfig::with_accounts(args.accounts.max(1))
    };
    let layout = match args.layout {
        LayoutArg::Single => Layout::Single,
        LayoutArg::Pinned => Layout::Pinned,
        LayoutArg::Auto => {
            let usable = if args.cores.is_empty() {
                machine.cores
            } else {
                args.cores.len()
            };
            if usable >= 4 {
                Layout::Pinned
            } else {
                Layout::Single
            }
        }
    };
    let command = std::iter::once("liqcore".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");

    let started = Instant::now();
    let scenario = Scenario::generate(&config);
    let generate_seconds = started.elapsed().as_secs_f64();
    let steps = scenario.steps.len() as u64;
    let runs = if args.no_compare { 1 } else { 2 };

    let bar = if args.no_progress || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(steps * runs);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:28} [{bar:40}] {human_pos}/{human_len} inputs ({per_sec}, eta {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    };
    bar.set_message(format!("cascade, mark {:?}", args.mark).to_lowercase());
    let main = play_once(
        &scenario,
        args.mark.config(),
        layout,
        &args.cores,
        true,
        &bar,
        0,
    )?;
    let last = if args.no_compare {
        None
    } else {
        bar.set_message("same scenario, mark = last");
        Some(play_once(
            &scenario,
            MarkConfig::last(),
            Layout::Single,
            &[],
            false,
            &bar,
            steps,
        )?)
    };
    bar.finish_and_clear();

    let mut inputs_by_phase = [0u64; 4];
    for step in &scenario.steps {
        inputs_by_phase[Phase::ALL
            .iter()
            .position(|p| *p == step.phase)
            .unwrap_or(0)] += 1;
    }
    let note = if layout == Layout::Single {
        "single layout: the stages run after every 64 inputs (and at every switch between \
         commands and index ticks), so queue waits and end-to-end times include waiting \
         behind up to 63 others"
    } else {
        "pinned layout: a thread per stage; end-to-end times run from the input's entry to the \
         event"
    };
    let info = RunInfo {
        machine,
        command: command.clone(),
        layout: main.plan.clone(),
        mark: args.mark.describe().to_string(),
        inputs: steps,
        inputs_by_phase,
        events: main.events,
        seconds: main.seconds,
        generate_seconds,
        latency_note: note.to_string(),
        compare_seconds: last.as_ref().map(|p| p.seconds),
        compare_adl: last.as_ref().map(|p| p.adl),
    };
    let out = args.out.display().to_string();
    let report = Report {
        info: &info,
        main: &main.collector,
        last: last.as_ref().map(|p| &p.collector),
        latency: &main.latency,
        spec: scenario.markets[0].spec(),
        insurance_deposits: scenario.insurance_deposits(),
        out_dir: &out,
    };
    let mut text = report.render();
    let net: Vec<String> = main.positions_net.iter().map(i128::to_string).collect();
    text.push_str(&format!(
        "checks    Σ positions per symbol at the end: [{}] · insurance fund at the end {}\n",
        net.join(", "),
        main.insurance_end
    ));
    let key_values = report.key_values();
    print!("{text}\n{key_values}");

    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    for l in &main.latency {
        let path = args.out.join(format!("{}.hgrm", l.name));
        let mut file = std::fs::File::create(&path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        write_hgrm(&l.histogram, &mut file)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let subtitle = format!(
        "{} · {} · {} core(s) · {}",
        today(),
        info.machine.model,
        info.machine.cores,
        command
    );
    let plotted: Vec<Latency> = main
        .latency
        .iter()
        .filter(|l| !l.name.ends_with("queue_wait"))
        .cloned()
        .collect();
    charts::latency_svg(&args.out.join("latency.svg"), &plotted, &subtitle, note)
        .map_err(|e| format!("latency.svg: {e}"))?;
    let spec = scenario.markets[0].spec();
    let tick: f64 = spec.tick_size.try_into().unwrap_or(0.1);
    let lot: f64 = spec.lot_size.try_into().unwrap_or(0.001);
    charts::cascade_svg(
        &args.out.join("cascade.svg"),
        &main.collector,
        last.as_ref().map(|p| &p.collector),
        tick,
        lot,
        &subtitle,
    )
    .map_err(|e| format!("cascade.svg: {e}"))?;
    std::fs::write(
        args.out.join("report.txt"),
        format!("{}\n{text}\n{key_values}", today()),
    )
    .map_err(|e| format!("cannot write report.txt: {e}"))?;
    Ok(())
}
