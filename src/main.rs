//! The `liqcore` command line (placeholder).
fn main() {
    println!("liqcore");
}
