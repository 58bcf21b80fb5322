//! `cargo run --release -p liqcore-tools --bin compare -- <ring|ring-align|ring-phase|book|mark|scan|e2e|all>`

use liqcore_tools::{compare, machine};

fn main() {
    // Remember the cores before any benchmark pins this thread.
    let _ = machine::core_ids();
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".to_string());
    let all = what == "all";
    let mut ran = false;
    let runs: [(&str, fn()); 7] = [
        ("ring", compare::ring::run),
        ("ring-align", compare::ring_align::run),
        ("ring-phase", compare::ring_phase::run),
        ("book", compare::book::run),
        ("mark", compare::mark::run),
        ("scan", compare::scan::run),
        ("e2e", compare::e2e::run),
    ];
    for (name, run) in runs {
        if all || what == name {
            machine::print_header(name);
            run();
            ran = true;
        }
    }
    if !ran {
        eprintln!("usage: compare <ring|ring-align|ring-phase|book|mark|scan|e2e|all>");
        std::process::exit(2);
    }
}
