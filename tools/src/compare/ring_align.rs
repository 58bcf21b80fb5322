//! `compare -- ring-align`: what a 64-byte item costs when the ring's slots do not start on a
//! cache line: the measurement behind `liqcore::ring` allocating its slots on one.
//!
//! liqcore's ring always starts its slots on a line, so this experiment moves 64-byte items
//! through a minimal ring of its own (the same algorithm: each side caches the other's
//! counter and reloads it only when the cache says full or empty; one `Release` store per
//! operation) whose slot array it places `0`, `16`, `32` and `48` bytes past a line. Two pinned
//! busy-spinning threads, capacity 1024, 20 M items per run (`LIQCORE_RING_ITEMS`), the
//! placements taking turns for `LIQCORE_RING_RUNS` rounds (default 9); medians.
//!
//! An allocator hands out 16-byte aligned blocks, so rtrb's 64-byte items (its slot array is a
//! plain `Vec`) sit at one of these four placements, whichever the heap gives.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use crossbeam_utils::CachePadded;

use super::ring::{median, pin, two_cores};

const CAPACITY: usize = 1024;
const LINE: usize = 64;
const DEFAULT_ITEMS: u64 = 20_000_000;
const DEFAULT_RUNS: usize = 9;
/// Where the slot array starts, in bytes past a cache line.
const SKEWS: [usize; 4] = [0, 16, 32, 48];

/// A 64-byte item: a sequence number and seven words of payload.
type Item = [u64; 8];
/// The payload words' sum (the consumer checks every item's sum).
const PAYLOAD_SUM: u64 = 1 + 2 + 3 + 4 + 5 + 6 + 7;

/// The ring: counters on their own lines, `CAPACITY` slots starting `skew` bytes past a line.
struct Ring {
    head: CachePadded<AtomicUsize>,
    tail: CachePadded<AtomicUsize>,
    block: NonNull<u8>,
    slots: NonNull<MaybeUninit<Item>>,
}

// The block is freed only by `Drop`, after both threads are done with it.
// SAFETY: slots pass between the threads through the Release/Acquire pairs on `head`/`tail`.
unsafe impl Send for Ring {}
// SAFETY: one thread writes a slot only while the counters say the other cannot read it.
unsafe impl Sync for Ring {}

impl Ring {
    fn layout() -> Layout {
        Layout::from_size_align(CAPACITY * size_of::<Item>() + LINE, LINE).expect("small layout")
    }

    fn new(skew: usize) -> Ring {
        let layout = Self::layout();
        // SAFETY: the layout is not zero-sized.
        let Some(block) = NonNull::new(unsafe { alloc(layout) }) else {
            handle_alloc_error(layout)
        };
        // `Item` needs 8-byte alignment and every skew is a multiple of 8.
        // SAFETY: `skew < LINE` and the block has `LINE` spare bytes: the slots stay inside it.
        let slots = unsafe { block.add(skew) }.cast();
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            block,
            slots,
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; `Item` is `Copy`, nothing to drop.
        unsafe { dealloc(self.block.as_ptr(), Self::layout()) };
    }
}

/// Moves `items` items through a ring placed `skew` bytes past a line; items per second.
fn run_once(skew: usize, items: u64) -> f64 {
    let ring = Arc::new(Ring::new(skew));
    let cores = two_cores();
    let start = Arc::new(Barrier::new(2));
    let (consumer_ring, consumer_start) = (Arc::clone(&ring), Arc::clone(&start));
    let consumer = std::thread::spawn(move || {
        pin(cores.map(|c| c.1));
        consumer_start.wait();
        let ring = &*consumer_ring;
        let (mut head, mut cached_tail) = (0usize, 0usize);
        while (head as u64) < items {
            if head == cached_tail {
                // Acquire: pairs with the producer's Release store of `tail`.
                cached_tail = ring.tail.load(Ordering::Acquire);
                if head == cached_tail {
                    std::hint::spin_loop();
                    continue;
                }
            }
            // SAFETY: `head < tail`, so the producer wrote this slot and published it.
            let item = unsafe { ring.slots.add(head % CAPACITY).read().assume_init() };
            // Every word read, as a consumer of a real message would.
            let sum = item.iter().fold(0u64, |sum, word| sum.wrapping_add(*word));
            assert_eq!(
                sum,
                head as u64 + PAYLOAD_SUM,
                "ring delivered out of order"
            );
            head += 1;
            // Release: pairs with the producer's Acquire load of `head`: our read is done.
            ring.head.store(head, Ordering::Release);
        }
    });
    pin(cores.map(|c| c.0));
    start.wait();
    let began = Instant::now();
    let (mut tail, mut cached_head) = (0usize, 0usize);
    while (tail as u64) < items {
        if tail - cached_head == CAPACITY {
            // Acquire: pairs with the consumer's Release store of `head`.
            cached_head = ring.head.load(Ordering::Acquire);
            if tail - cached_head == CAPACITY {
                if consumer.is_finished() {
                    break; // it panicked (a wrong item): the join below reports it
                }
                std::hint::spin_loop();
                continue;
            }
        }
        let item = [tail as u64, 1, 2, 3, 4, 5, 6, 7];
        // SAFETY: `tail − head < CAPACITY`, so the consumer has finished with this slot.
        unsafe {
            ring.slots
                .add(tail % CAPACITY)
                .write(MaybeUninit::new(item))
        };
        tail += 1;
        // Release: pairs with the consumer's Acquire load of `tail`: the slot write is visible.
        ring.tail.store(tail, Ordering::Release);
    }
    consumer.join().expect("consumer thread panicked");
    items as f64 / began.elapsed().as_secs_f64()
}

/// Runs the experiment and prints its table and `ring_align.*` lines.
pub fn run() {
    let items = super::ring::env_or("LIQCORE_RING_ITEMS", DEFAULT_ITEMS);
    let runs = super::ring::env_or("LIQCORE_RING_RUNS", DEFAULT_RUNS).max(1);
    println!(
        "# 64-byte items, capacity {CAPACITY}, {items} items per run, median of {runs} rounds; the placements take turns"
    );
    let mut rates = vec![Vec::new(); SKEWS.len()];
    for _ in 0..runs {
        for (index, skew) in SKEWS.iter().enumerate() {
            rates[index].push(run_once(*skew, items));
        }
    }
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    println!();
    println!("| slots start | M items/s | vs on a line |");
    println!("| --- | ---: | ---: |");
    for (skew, rate) in SKEWS.iter().zip(&medians) {
        println!(
            "| {skew} B past a line | {:.1} | {:.2} |",
            rate / 1e6,
            rate / medians[0]
        );
    }
    println!();
    for (skew, rate) in SKEWS.iter().zip(&medians).skip(1) {
        println!(
            "ring_align.skew{skew}_ratio_vs_aligned={:.2}",
            rate / medians[0]
        );
    }
}
