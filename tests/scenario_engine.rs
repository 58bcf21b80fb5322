//! The cascade scenario through the engine (`Layout::Single`) at a small size: it liquidates,
//! in several rounds, conserves money and nets positions to zero; the mark price liquidates
//! fewer accounts than marking at the last trade; and `liqcore run` writes its artefacts.

use std::process::Command as Process;

use liqcore::book::BookEvent;
use liqcore::engine::{Event, Layout, Report};
use liqcore::mark::MarkConfig;
use liqcore::risk::{LiquidationEngine, LiquidationEvent};
use liqcore::scenario::{Observer, Scenario, ScenarioConfig, Step, play};
use liqcore::types::SymbolId;

/// Counts liquidations and rounds (mark updates followed by at least one liquidation).
#[derive(Default)]
struct Count {
    liquidations: u64,
    rounds: u64,
    round_open: bool,
    liquidation_trades: u64,
    events: u64,
}

impl Observer for Count {
    fn input(&mut self, _step: &Step) {}

    fn event(&mut self, _ts: u64, event: &Event) {
        self.events += 1;
        match event {
            Event::Mark { .. } => self.round_open = false,
            Event::Risk(LiquidationEvent::Liquidation { .. }) => {
                self.liquidations += 1;
                if !self.round_open {
                    self.rounds += 1;
                    self.round_open = true;
                }
            }
            Event::Book {
                event: BookEvent::Trade(t),
                ..
            } if t.liquidation => self.liquidation_trades += 1,
            _ => {}
        }
    }
}

fn run(scenario: &Scenario, mark: MarkConfig) -> (Count, Report) {
    let mut engine = scenario
        .builder(mark)
        .layout(Layout::Single)
        .start()
        .expect("the scenario's markets are valid");
    let mut count = Count::default();
    play(&mut engine, &scenario.steps, &mut count);
    let report = engine.shutdown();
    assert!(report.events.is_empty(), "play drains every event");
    (count, report)
}

fn assert_conserved(engine: &LiquidationEngine, symbols: usize) {
    let r = engine.risk();
    let mut lhs = r.total_collateral().0
        + r.total_isolated_margin().0
        + r.fees_collected().0
        + r.insurance_fund().0;
    for s in 0..symbols as u32 {
        lhs -= r.total_entry_notional(SymbolId(s)).0;
        assert_eq!(r.total_size(SymbolId(s)), 0, "Σ positions of symbol {s}");
    }
    assert_eq!(lhs, r.total_deposited().0 - r.total_withdrawn().0);
    assert!(r.insurance_fund().0 >= 0);
}

#[test]
fn a_small_cascade_liquidates_in_rounds_and_conserves_money() {
    let scenario = Scenario::generate(&ScenarioConfig::with_accounts(2_000));
    let (count, report) = run(&scenario, MarkConfig::median3());
    assert!(count.liquidations >= 1, "no liquidation");
    assert!(count.rounds >= 2, "only {} round(s)", count.rounds);
    assert!(
        count.liquidation_trades >= 1,
        "no liquidation reached the book"
    );
    assert_eq!(report.risk_counters.fills_refused, 0);
    assert_conserved(&report.risk, scenario.markets.len());
    // The insurance fund grew from its deposit (liquidation fees and surpluses).
    assert!(report.risk.risk().insurance_fund() > scenario.insurance_deposits());

    // Marking at the last trade follows the wick: more liquidations.
    let (last, report) = run(&scenario, MarkConfig::last());
    assert!(
        last.liquidations > count.liquidations,
        "last {} vs mark {}",
        last.liquidations,
        count.liquidations
    );
    assert_conserved(&report.risk, scenario.markets.len());
}

#[test]
fn two_symbols_crash_together_and_conserve_money() {
    let scenario = Scenario::generate(&ScenarioConfig {
        symbols: 2,
        ..ScenarioConfig::with_accounts(600)
    });
    let (count, report) = run(&scenario, MarkConfig::median3());
    assert!(count.liquidations >= 1);
    assert_conserved(&report.risk, 2);
}

#[test]
fn the_binary_runs_end_to_end_and_writes_its_artefacts() {
    let out = std::env::temp_dir().join(format!("liqcore-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Process::new(env!("CARGO_BIN_EXE_liqcore"))
        .args(["run", "--accounts", "2000", "--no-progress", "--out"])
        .arg(&out)
        .output()
        .expect("liqcore runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for needle in [
        "liquidation cascade",
        "latency per stage",
        "e2e.order_to_report",
        "rounds",
        "ADL",
        "insurance fund",
        "price path",
        "the mark price avoided",
        "run.liquidations=",
        "run.liquidations_mark_last=",
    ] {
        assert!(stdout.contains(needle), "no {needle:?} in\n{stdout}");
    }
    for file in [
        "latency.svg",
        "cascade.svg",
        "report.txt",
        "e2e.order_to_report.hgrm",
        "risk.service.hgrm",
        "book.service.hgrm",
        "mark.service.hgrm",
    ] {
        let path = out.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(text.len() > 200, "{file} is almost empty");
        if file.ends_with(".svg") {
            assert!(text.starts_with("<svg"), "{file} is not an SVG");
        }
        if file.ends_with(".hgrm") {
            assert!(text.contains("Percentile") && text.contains("#[Max"));
        }
    }
    let _ = std::fs::remove_dir_all(&out);

    // --help documents every option.
    let help = Process::new(env!("CARGO_BIN_EXE_liqcore"))
        .args(["run", "--help"])
        .output()
        .expect("liqcore runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for option in [
        "--accounts",
        "--symbols",
        "--seed",
        "--layout",
        "--cores",
        "--mark",
        "--drop",
        "--out",
        "--no-progress",
    ] {
        assert!(help.contains(option), "--help lacks {option}");
    }
}
