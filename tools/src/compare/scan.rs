//! `compare -- scan` (placeholder until its issue lands).

/// Runs the comparison and prints its table and `key=value` lines.
pub fn run() {
    println!("compare scan: not implemented yet");
}
