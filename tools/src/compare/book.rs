//! `compare -- book` (placeholder until its issue lands).

/// Runs the comparison and prints its table and `key=value` lines.
pub fn run() {
    println!("compare book: not implemented yet");
}
