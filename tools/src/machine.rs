//! What machine a measurement ran on: `lscpu`'s model name and the cores the process had.

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

/// Cores this process may run on.
#[must_use]
pub fn cores() -> usize {
    core_affinity::get_core_ids().map_or(1, |ids| ids.len())
}

/// Prints the machine header every comparison starts with.
pub fn print_header(what: &str) {
    println!("# compare {what}");
    println!("# machine: {} ({} cores available)", cpu_model(), cores());
}
