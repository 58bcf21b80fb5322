//! Golden scenarios: every `tests/scenarios/NAME.jsonl` is replayed in process
//! ([`liqcore::replay::run_replay`]) and its standard output compared byte for byte with
//! `tests/scenarios/NAME.out`.
//!
//! # Blessing (regenerating the expected outputs)
//!
//! ```text
//! LIQCORE_BLESS=1 cargo test --test replay_golden
//! git diff tests/scenarios/
//! ```
//!
//! writes every `NAME.out` from the current engine (and creates the missing ones). A blessed
//! file is **reviewed, not trusted**: read the diff line by line and check the numbers by hand
//! — trades at the maker's price, quantities and remainders, realized and unrealized PnL,
//! fees, initial and maintenance margins, liquidation and bankruptcy prices (rounded long up,
//! short down), insurance fund movements — before committing it. Each scenario's comments say
//! what it shows and the numbers to expect.
//!
//! A scenario must not contain a malformed line (those are tested in `tests/replay_cli.rs`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use liqcore::replay::run_replay;

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// Every scenario script, sorted by name.
fn scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no scenarios found");
    paths
}

fn replay(script: &Path) -> Vec<u8> {
    let input = fs::read(script).expect("scenario readable");
    let mut out = Vec::new();
    if let Err(error) = run_replay(input.as_slice(), &mut out) {
        panic!("{}: {error}", script.display());
    }
    out
}

fn blessing() -> bool {
    std::env::var_os("LIQCORE_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// The first line where `got` and `want` differ, for the failure message.
fn first_difference(got: &str, want: &str) -> String {
    let (mut got_lines, mut want_lines) = (got.lines(), want.lines());
    for number in 1.. {
        match (got_lines.next(), want_lines.next()) {
            (None, None) => break,
            (g, w) if g == w => {}
            (g, w) => {
                return format!(
                    "output line {number}:\n   got: {}\n  want: {}",
                    g.unwrap_or("<end>"),
                    w.unwrap_or("<end>")
                );
            }
        }
    }
    String::from("(same lines; trailing newline differs)")
}

#[test]
fn scenarios_match_their_golden_output() {
    let mut failures = Vec::new();
    for script in scenarios() {
        let got = replay(&script);
        let expected_path = script.with_extension("out");
        if blessing() {
            fs::write(&expected_path, &got).expect("golden file written");
            continue;
        }
        let Ok(want) = fs::read(&expected_path) else {
            failures.push(format!(
                "{}: no golden file (LIQCORE_BLESS=1 cargo test --test replay_golden, then review it)",
                expected_path.display()
            ));
            continue;
        };
        if got != want {
            failures.push(format!(
                "{}: {}",
                script.display(),
                first_difference(
                    &String::from_utf8_lossy(&got),
                    &String::from_utf8_lossy(&want)
                )
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_file_has_a_script() {
    for entry in fs::read_dir(scenario_dir()).expect("tests/scenarios exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_some_and(|ext| ext == "out") {
            assert!(
                path.with_extension("jsonl").exists(),
                "{} has no script",
                path.display()
            );
        }
    }
}

#[test]
fn replays_are_deterministic() {
    for script in scenarios() {
        assert_eq!(replay(&script), replay(&script), "{}", script.display());
    }
}

/// The binary prints exactly what the library does, for every scenario, through a file
/// argument (the in-process runs above read from memory).
#[test]
fn the_binary_prints_the_same_bytes() {
    for script in scenarios() {
        let output = Command::new(env!("CARGO_BIN_EXE_liqcore"))
            .arg("replay")
            .arg(&script)
            .output()
            .expect("liqcore runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, replay(&script), "{}", script.display());
    }
}
