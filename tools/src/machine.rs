//! What machine a measurement ran on: `lscpu`'s model name and the cores the process had.

use std::sync::OnceLock;

/// The CPU model name (from `/proc/cpuinfo`), or `"unknown"`.
#[must_use]
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The cores this process could run on when it started.
///
/// Read once and remembered: `core_affinity::get_core_ids` reports the *calling thread's*
/// affinity, which shrinks to one core as soon as a benchmark pins the main thread.
#[must_use]
pub fn core_ids() -> &'static [core_affinity::CoreId] {
    static CORES: OnceLock<Vec<core_affinity::CoreId>> = OnceLock::new();
    CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default())
}

/// How many cores this process could run on when it started.
#[must_use]
pub fn cores() -> usize {
    core_ids().len().max(1)
}

/// Prints the machine header every comparison starts with.
pub fn print_header(what: &str) {
    println!("# compare {what}");
    println!("# machine: {} ({} cores available)", cpu_model(), cores());
}
