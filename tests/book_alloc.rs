//! After warm-up, one million commands of the exchange-core workload through `Book` allocate
//! nothing. Lives in its own test binary because it installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use liqcore::book::workload::{self, WorkloadConfig};
use liqcore::book::{Book, BookEvent, Command};

/// Counts allocations made by the thread that has counting switched on.
struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the thread-locals may be gone while a thread shuts down.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

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
    COUNTING.with(|c| c.set(true));
    drop(std::hint::black_box(Box::new(7u64)));
    assert_eq!(
        ALLOCATIONS.with(Cell::get),
        1,
        "the counting allocator counts"
    );
    ALLOCATIONS.with(|n| n.set(0));
    let trades = run(&mut book, &mut events, &load.commands[WARMUP_COMMANDS..]);
    COUNTING.with(|c| c.set(false));

    let allocations = ALLOCATIONS.with(Cell::get);
    assert_eq!(allocations, 0, "allocations after warm-up");
    assert!(trades > 10_000, "the workload trades ({trades} trades)");
    assert!(
        book.len() > 100,
        "the book stays populated ({})",
        book.len()
    );
    book.check_invariants().unwrap();
}
