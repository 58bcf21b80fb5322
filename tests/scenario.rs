//! The cascade scenario generator: deterministic, well-formed, shaped as documented.

use std::collections::HashSet;

use liqcore::engine::{Command, MarketInput};
use liqcore::scenario::{Input, MAKER_ACCOUNT_BASE, Phase, Scenario, ScenarioConfig};
use liqcore::types::Rate;

fn small() -> ScenarioConfig {
    ScenarioConfig::with_accounts(2_000)
}

#[test]
fn same_seed_same_steps_other_seed_other_steps() {
    let a = Scenario::generate(&small());
    let b = Scenario::generate(&small());
    assert_eq!(a.steps, b.steps);
    let c = Scenario::generate(&ScenarioConfig { seed: 2, ..small() });
    assert_ne!(a.steps, c.steps);
}

#[test]
fn steps_are_well_formed() {
    let scenario = Scenario::generate(&small());
    let mut last_ts = 0;
    let mut last_phase = Phase::Setup;
    let mut ids = HashSet::new();
    for step in &scenario.steps {
        assert!(step.ts >= last_ts, "time went backwards at {step:?}");
        assert!(step.phase >= last_phase, "phase went backwards at {step:?}");
        last_ts = step.ts;
        last_phase = step.phase;
        match step.input {
            Input::Command(Command::Order { symbol, order }) => {
                assert!(ids.insert(order.id), "duplicate id {:?}", order.id);
                assert!(order.price.0 > 0 && order.qty.0 > 0, "{order:?}");
                let spec = scenario.markets[symbol.0 as usize].spec();
                assert!(order.qty <= spec.max_qty);
            }
            Input::Market(MarketInput::Index { price, .. }) => assert!(price.0 > 0),
            Input::Command(Command::Deposit { amount, .. } | Command::Insurance { amount }) => {
                assert!(amount.0 > 0)
            }
            _ => {}
        }
    }
    for phase in Phase::ALL {
        assert!(scenario.count(phase) > 0, "no steps in {}", phase.as_str());
    }
    let end = scenario.config.end_ms();
    assert!(last_ts >= end && last_ts < end + scenario.config.index_interval_ms);
}

#[test]
fn every_account_deposits_sets_leverage_and_opens() {
    let config = small();
    let scenario = Scenario::generate(&config);
    let mut deposited = HashSet::new();
    let mut leverages = Vec::new();
    let mut isolated = 0;
    for step in &scenario.steps {
        match step.input {
            Input::Command(Command::Deposit { account, .. }) if account.0 <= config.accounts => {
                assert_eq!(step.phase, Phase::Setup);
                deposited.insert(account);
            }
            Input::Command(Command::Leverage {
                account,
                leverage,
                mode,
                ..
            }) if account.0 <= config.accounts => {
                leverages.push(leverage.0 / liqcore::risk::Leverage::ONE.0);
                isolated += usize::from(mode == liqcore::risk::MarginMode::Isolated);
            }
            _ => {}
        }
    }
    assert_eq!(deposited.len() as u64, config.accounts);
    assert_eq!(leverages.len() as u64, config.accounts);
    // Skewed: most at 5–20×, a tail at 50–100×, ~20 % isolated.
    let n = leverages.len() as f64;
    let mid = leverages.iter().filter(|&&l| (5..=20).contains(&l)).count() as f64 / n;
    let tail = leverages.iter().filter(|&&l| l >= 50).count() as f64 / n;
    assert!(mid > 0.55 && mid < 0.75, "5–20×: {mid}");
    assert!(tail > 0.08 && tail < 0.20, "50–100×: {tail}");
    assert!(*leverages.iter().min().unwrap() == 1 && *leverages.iter().max().unwrap() == 100);
    let iso = isolated as f64 / n;
    assert!(iso > 0.15 && iso < 0.25, "isolated: {iso}");
}

#[test]
fn the_index_crashes_by_the_drop_and_recovers_two_thirds() {
    let config = small();
    let scenario = Scenario::generate(&config);
    let index: Vec<(u64, i64)> = scenario
        .steps
        .iter()
        .filter_map(|s| match s.input {
            Input::Market(MarketInput::Index { price, .. }) => Some((s.ts, price.0)),
            _ => None,
        })
        .collect();
    let before = index
        .iter()
        .rev()
        .find(|(ts, _)| *ts < config.crash_start_ms())
        .unwrap()
        .1;
    let bottom = index.iter().map(|&(_, p)| p).min().unwrap();
    let end = index.last().unwrap().1;
    let fall = (before - bottom) as f64 / before as f64;
    assert!((fall - 0.15).abs() < 0.01, "fell {fall}");
    let regained = (end - bottom) as f64 / (before - bottom) as f64;
    assert!((regained - 2.0 / 3.0).abs() < 0.02, "regained {regained}");

    let gentle = Scenario::generate(&ScenarioConfig {
        drop: Rate(5_000_000),
        ..config
    });
    let bottom = gentle
        .steps
        .iter()
        .filter_map(|s| match s.input {
            Input::Market(MarketInput::Index { price, .. }) => Some(price.0),
            _ => None,
        })
        .min()
        .unwrap();
    assert!(bottom > before * 94 / 100);
}

#[test]
fn background_flow_follows_the_exchange_core_mix() {
    let scenario = Scenario::generate(&small());
    let (mut orders, mut cancels, mut modifies) = (0usize, 0usize, 0usize);
    for step in scenario
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Background)
    {
        match step.input {
            Input::Command(Command::Order { order, .. })
                if order.account.0 < MAKER_ACCOUNT_BASE =>
            {
                orders += 1
            }
            Input::Command(Command::Cancel { .. } | Command::Modify { .. }) => {
                // Makers cancel too; count only modifies (background moves and reductions).
                if matches!(step.input, Input::Command(Command::Modify { .. })) {
                    modifies += 1;
                } else {
                    cancels += 1;
                }
            }
            _ => {}
        }
    }
    let background = orders + modifies;
    assert!(background > 3_000, "{background}");
    // Moves dominate (82 % of the mix plus half of the 6 % cancel-or-reduce).
    let share = modifies as f64 / background as f64;
    assert!(share > 0.6, "modify share {share}");
    assert!(cancels > 0);
}

#[test]
fn several_symbols_each_get_their_own_market() {
    let scenario = Scenario::generate(&ScenarioConfig {
        symbols: 3,
        accounts: 600,
        ..small()
    });
    assert_eq!(scenario.markets.len(), 3);
    let mut seen = [false; 3];
    for step in &scenario.steps {
        if let Input::Command(Command::Order { symbol, .. }) = step.input {
            seen[symbol.0 as usize] = true;
        }
    }
    assert_eq!(seen, [true; 3]);
}
