//! Loom models of the SPSC ring: every interleaving (up to the preemption bound) of a producer
//! and a consumer thread.
//!
//! Run with `RUSTFLAGS="--cfg liqcore_loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test
//! 'loom*'` (CI uses 2; run 3 before changing the ring). Models stay small — capacity 2 or 4, a
//! few items — so that the state space stays tractable.
#![cfg(liqcore_loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use liqcore::ring::{PopError, WaitPopError, channel};
use liqcore::wait::SpinThenYield;
use loom::thread;

/// Pushes `items` one at a time, yielding while full.
fn push_all<T>(producer: &mut liqcore::ring::Producer<T>, items: impl IntoIterator<Item = T>) {
    for item in items {
        let mut item = item;
        loop {
            match producer.push(item) {
                Ok(()) => break,
                Err(full) => {
                    item = full.into_inner();
                    thread::yield_now();
                }
            }
        }
    }
}

fn fifo_model(capacity: usize, items: u32) {
    loom::model(move || {
        let (mut producer, mut consumer) = channel::<u32>(capacity);
        let sender = thread::spawn(move || push_all(&mut producer, 0..items));
        let mut expected = 0;
        while expected < items {
            match consumer.pop() {
                Ok(value) => {
                    assert_eq!(value, expected, "out of order or duplicated");
                    expected += 1;
                }
                Err(PopError::Empty) => thread::yield_now(),
            }
        }
        assert_eq!(
            consumer.pop(),
            Err(PopError::Empty),
            "more items than pushed"
        );
        sender.join().unwrap();
    });
}

#[test]
fn fifo_across_wraparound_capacity_2() {
    fifo_model(2, 3);
}

#[test]
fn fifo_across_wraparound_capacity_4() {
    fifo_model(4, 5);
}

/// Reading each item where it lies (`peek`, and the next one through `peek_at`), then popping
/// it: each item is seen once, in order. (`peek` and `peek_at` hand out a reference past loom's
/// access closure, so loom does not track that read itself; the `pop` after it reads the same
/// slot tracked, before releasing it, so a producer write to a slot still being read would be
/// caught there.)
#[test]
fn peek_then_pop_across_wraparound() {
    loom::model(|| {
        let (mut producer, mut consumer) = channel::<u32>(2);
        let sender = thread::spawn(move || push_all(&mut producer, 0..3));
        let mut expected = 0;
        while expected < 3 {
            match consumer.peek().copied() {
                Some(value) => {
                    assert_eq!(value, expected, "out of order or duplicated");
                    // A look-ahead shows the next item, if already known, never a wrong one.
                    if let Some(&next) = consumer.peek_at(1) {
                        assert_eq!(next, expected + 1, "look-ahead shows the wrong item");
                    }
                    assert_eq!(consumer.pop(), Ok(value), "pop returns what peek showed");
                    expected += 1;
                }
                None => thread::yield_now(),
            }
        }
        assert_eq!(consumer.peek(), None, "more items than pushed");
        sender.join().unwrap();
    });
}

#[test]
fn batches_move_every_item_once_in_order() {
    loom::model(|| {
        let (mut producer, mut consumer) = channel::<u32>(2);
        let sender = thread::spawn(move || {
            let items = [0, 1, 2];
            let mut sent = 0;
            while sent < items.len() {
                // The iterator batch first (two slots at once), then the slice batch.
                let pushed = if sent == 0 {
                    producer.push_iter(items[sent..].iter().copied())
                } else {
                    producer.push_slice(&items[sent..])
                };
                if pushed == 0 {
                    thread::yield_now();
                }
                sent += pushed;
            }
        });
        let mut received = Vec::new();
        let mut out = [0u32; 2];
        while received.len() < 3 {
            // Alternate the two batch readers.
            let before = received.len();
            if before % 2 == 0 {
                let count = consumer.pop_into(&mut out);
                received.extend_from_slice(&out[..count]);
            } else {
                received.extend(consumer.drain(2));
            }
            if received.len() == before {
                thread::yield_now();
            }
        }
        assert_eq!(received, [0, 1, 2]);
        sender.join().unwrap();
    });
}

/// With grouped releases `pop` hands slots back in groups (two here) and a batch call hands
/// back whatever is pending: a producer waiting for room must still get every slot back, and
/// every item arrives once, in order.
#[test]
fn grouped_pops_and_batches_interleave() {
    loom::model(|| {
        let (mut producer, mut consumer) = channel::<u32>(4);
        consumer.set_release_group(2);
        let sender = thread::spawn(move || push_all(&mut producer, 0..6));
        let mut received = Vec::new();
        let mut out = [0u32; 2];
        let mut turn = 0;
        while received.len() < 6 {
            let before = received.len();
            // Two single pops (one group), then one batch.
            if turn % 3 == 2 {
                let count = consumer.pop_into(&mut out);
                received.extend_from_slice(&out[..count]);
            } else if let Ok(value) = consumer.pop() {
                received.push(value);
            }
            if received.len() == before {
                thread::yield_now();
            } else {
                turn += 1;
            }
        }
        assert_eq!(received, [0, 1, 2, 3, 4, 5]);
        sender.join().unwrap();
    });
}

/// Counts drops through a std atomic (outside the model: only the total matters).
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn leftover_model(group: usize) {
    loom::model(move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut producer, mut consumer) = channel::<Counted>(4);
        consumer.set_release_group(group);
        let made = Arc::clone(&drops);
        let sender = thread::spawn(move || {
            push_all(&mut producer, (0..3).map(|_| Counted(Arc::clone(&made))));
            // The producer is dropped here, on its own thread, possibly while the consumer runs.
        });
        // Take at most one item; the rest stays inside and is dropped with the ring.
        if let Ok(item) = consumer.pop() {
            drop(item);
        }
        drop(consumer);
        sender.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}

#[test]
fn leftover_items_are_dropped_exactly_once() {
    leftover_model(1);
}

/// A popped slot still pending when the consumer is dropped is not dropped a second time.
#[test]
fn leftover_items_are_dropped_exactly_once_with_a_pop_pending() {
    leftover_model(2);
}

#[test]
fn consumer_drains_everything_after_the_producer_is_dropped() {
    loom::model(|| {
        let (mut producer, mut consumer) = channel::<u32>(2);
        let sender = thread::spawn(move || {
            push_all(&mut producer, 0..2);
            drop(producer);
        });
        let mut wait = SpinThenYield::new(0);
        let mut received = Vec::new();
        loop {
            match consumer.pop_wait(&mut wait) {
                Ok(value) => received.push(value),
                Err(WaitPopError::Abandoned) => break,
            }
        }
        assert_eq!(
            received,
            [0, 1],
            "an item pushed before the drop was missed"
        );
        sender.join().unwrap();
    });
}

#[test]
fn producer_learns_the_consumer_is_gone() {
    loom::model(|| {
        let (mut producer, consumer) = channel::<u32>(1);
        let receiver = thread::spawn(move || drop(consumer));
        let mut wait = SpinThenYield::new(0);
        // The first push always fits; the second waits until the consumer is gone and then
        // gets its value back.
        producer.push(1).unwrap();
        let back = producer.push_wait(2, &mut wait).unwrap_err().into_inner();
        assert_eq!(back, 2);
        assert!(producer.is_abandoned());
        receiver.join().unwrap();
    });
}
