//! After warm-up, one million commands of the exchange-core workload through `Book` allocate
//! nothing. Lives in its own test binary because it installs a counting global allocator.

use liqcore::book::workload::{self, WorkloadConfig};
use liqcore::book::{Book, BookEvent, Command};

mod common;

use common::alloc::{CountingAllocator, counted, start_counting, stop_counting};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const WARMUP_COMMANDS: usize = 50_000;
const MEASURED_COMMANDS: usize = 1_000_000;

#[test]
fn a_million_workload_commands_allocate_nothing_after_warm_up() {
    let load = workload::generate(&WorkloadConfig {
        commands: WARMUP_COMMANDS + MEASURED_COMMANDS,
        ..WorkloadConfig::default()
    });
    let mut book = Book::new(load.spec.clone(), load.capacity);
    let mut events: Vec<BookEvent> = Vec::with_capacity(4096);
    let run = |book: &mut Book, events: &mut Vec<BookEvent>, commands: &[Command]| {
        let mut trades = 0u64;
        for command in commands {
            events.clear();
            book.apply(command, events);
            trades += events
                .iter()
                .filter(|e| matches!(e, BookEvent::Trade(_)))
                .count() as u64;
        }
        trades
    };
    run(&mut book, &mut events, &load.warmup);
    run(&mut book, &mut events, &load.commands[..WARMUP_COMMANDS]);

    // The counter works: a boxed value counts once.
    start_counting();
    drop(std::hint::black_box(Box::new(7u64)));
    assert_eq!(counted(), 1, "the counting allocator counts");
    start_counting();
    let trades = run(&mut book, &mut events, &load.commands[WARMUP_COMMANDS..]);
    let allocations = stop_counting();
    assert_eq!(allocations, 0, "allocations after warm-up");
    assert!(trades > 10_000, "the workload trades ({trades} trades)");
    assert!(
        book.len() > 100,
        "the book stays populated ({})",
        book.len()
    );
    book.check_invariants().unwrap();
}
