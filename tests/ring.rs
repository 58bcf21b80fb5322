//! Ordinary (non-loom) tests of the SPSC ring: a two-thread stress, a differential property test
//! against `VecDeque`, zero-sized and `Drop`-carrying items, and abandonment.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use liqcore::ring::{PopError, PushError, WaitPopError, WaitPushError, channel};
use liqcore::wait::{SpinThenPark, SpinThenYield};
use proptest::prelude::*;

/// Items moved by the two-thread stress; `LIQCORE_RING_STRESS_ITEMS` overrides.
fn stress_items() -> u64 {
    std::env::var("LIQCORE_RING_STRESS_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// Takes 0.5–1 s for 10 M items in the test profile on the 2-core development machine; the bound
/// below only catches a hang.
#[test]
fn two_threads_move_every_item_once_in_order() {
    let items = stress_items();
    let (mut producer, mut consumer) = channel::<u64>(1024);
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        // Yielding waits: the test machine may have fewer cores than spinning threads.
        let mut wait = SpinThenYield::new(64);
        let mut batch = [0u64; 64];
        let mut next = 0u64;
        while next < items {
            // Alternate single pushes and batches so both paths are exercised under contention.
            if next % 1000 < 500 {
                producer.push_wait(next, &mut wait).unwrap();
                next += 1;
            } else {
                let count = (items - next).min(batch.len() as u64) as usize;
                for (offset, slot) in batch[..count].iter_mut().enumerate() {
                    *slot = next + offset as u64;
                }
                let mut sent = 0;
                while sent < count {
                    // Every other batch through the iterator path.
                    let pushed = if (next / 1000).is_multiple_of(2) {
                        producer.push_slice(&batch[sent..count])
                    } else {
                        producer.push_iter(batch[sent..count].iter().copied())
                    };
                    if pushed == 0 {
                        liqcore::wait::WaitStrategy::wait(&mut wait);
                    }
                    sent += pushed;
                }
                next += count as u64;
            }
        }
    });
    let mut wait = SpinThenYield::new(64);
    let mut expected = 0u64;
    let mut checksum = 0u64;
    let mut out = [0u64; 128];
    loop {
        // Alternate `drain` and `pop_into`, so both batch reads meet a concurrent producer.
        if (expected / 1000).is_multiple_of(3) {
            let mut drained = 0;
            for value in consumer.drain(out.len()) {
                assert_eq!(value, expected, "sequence broken");
                checksum = checksum.wrapping_add(value);
                expected += 1;
                drained += 1;
            }
            if drained != 0 {
                continue;
            }
        }
        let count = consumer.pop_into(&mut out);
        if count == 0 {
            match consumer.pop_wait(&mut wait) {
                Ok(value) => {
                    assert_eq!(value, expected, "sequence broken");
                    checksum = checksum.wrapping_add(value);
                    expected += 1;
                }
                Err(WaitPopError::Abandoned) => break,
            }
            continue;
        }
        for &value in &out[..count] {
            assert_eq!(value, expected, "sequence broken");
            checksum = checksum.wrapping_add(value);
            expected += 1;
        }
    }
    sender.join().unwrap();
    assert_eq!(expected, items, "items lost");
    assert_eq!(checksum, items * (items - 1) / 2, "checksum");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "stress took {:?}",
        started.elapsed()
    );
}

#[derive(Clone, Debug)]
enum Op {
    Push(u32),
    Pop,
    Peek,
    PeekAt(usize),
    PushSlice(Vec<u32>),
    PushIter(Vec<u32>),
    PopInto(usize),
    Drain { max: usize, take: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u32>().prop_map(Op::Push),
        Just(Op::Pop),
        Just(Op::Peek),
        (0usize..10).prop_map(Op::PeekAt),
        proptest::collection::vec(any::<u32>(), 0..40).prop_map(Op::PushSlice),
        proptest::collection::vec(any::<u32>(), 0..40).prop_map(Op::PushIter),
        (0usize..40).prop_map(Op::PopInto),
        (0usize..40, 0usize..40).prop_map(|(max, take)| Op::Drain { max, take }),
    ]
}

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Any single-thread interleaving of single and batch operations behaves like a bounded
    /// `VecDeque`.
    #[test]
    fn interleavings_match_a_bounded_vecdeque(
        // Up to 512 `u32`s: 16 blocks of 128 bytes, which the ring visits in its scattered
        // order (rings of at most 4 blocks keep the plain one).
        capacity_log2 in 0u32..10,
        group in prop_oneof![Just(1usize), 1usize..=16],
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let (mut producer, mut consumer) = channel::<u32>(1 << capacity_log2);
        let capacity = producer.capacity();
        prop_assert_eq!(capacity, 1 << capacity_log2);
        consumer.set_release_group(group);
        // The documented release rule: `pop` hands slots back in groups of `release_every`
        // (1 by default: at once);
        // every batch call that takes items, and every time the consumer's cached view of the
        // producer's counter shows too few items (it is about to reload it), hands back
        // whatever is pending. `seen` models that cached view: items the consumer knows of.
        let release_every = group.min(capacity);
        let mut model = VecDeque::new();
        let mut pending = 0usize;
        let mut seen = 0usize;
        let available = |wanted: usize, len: usize, seen: &mut usize, pending: &mut usize| {
            if *seen < wanted {
                *pending = 0;
                *seen = len;
            }
            *seen
        };
        for op in ops {
            match op {
                Op::Push(value) => {
                    let result = producer.push(value);
                    if model.len() + pending < capacity {
                        prop_assert!(result.is_ok());
                        model.push_back(value);
                    } else {
                        prop_assert_eq!(result, Err(PushError::Full(value)));
                    }
                }
                Op::Pop => {
                    let expected = if available(1, model.len(), &mut seen, &mut pending) == 0 {
                        Err(PopError::Empty)
                    } else {
                        seen -= 1;
                        pending += 1;
                        if pending >= release_every {
                            pending = 0;
                        }
                        Ok(model.pop_front().expect("seen items exist"))
                    };
                    prop_assert_eq!(consumer.pop(), expected);
                }
                Op::Peek => {
                    // Like `pop` without taking: the front item, nothing released but what a
                    // reload of the producer's counter hands back.
                    let expected = if available(1, model.len(), &mut seen, &mut pending) == 0 {
                        None
                    } else {
                        model.front().copied()
                    };
                    prop_assert_eq!(consumer.peek().copied(), expected);
                }
                Op::PeekAt(offset) => {
                    // A look-ahead within what the consumer already knows of: it reloads
                    // nothing, so it sees exactly the `seen` items at the front.
                    let expected = if offset < seen {
                        model.get(offset).copied()
                    } else {
                        None
                    };
                    prop_assert_eq!(consumer.peek_at(offset).copied(), expected);
                }
                Op::PushSlice(values) => {
                    let room = capacity - model.len() - pending;
                    let expected = room.min(values.len());
                    prop_assert_eq!(producer.push_slice(&values), expected);
                    model.extend(&values[..expected]);
                }
                Op::PushIter(values) => {
                    // An iterator that knows its length: the same room as `push_slice`, and
                    // what did not fit stays in the iterator.
                    let room = capacity - model.len() - pending;
                    let expected = room.min(values.len());
                    let mut items = values.clone().into_iter();
                    prop_assert_eq!(producer.push_iter(&mut items), expected);
                    prop_assert_eq!(items.as_slice(), &values[expected..]);
                    model.extend(&values[..expected]);
                }
                Op::PopInto(len) => {
                    let mut out = vec![0u32; len];
                    let count = consumer.pop_into(&mut out);
                    let known = available(len, model.len(), &mut seen, &mut pending).min(len);
                    prop_assert_eq!(count, known);
                    let expected: Vec<u32> = model.drain(..count).collect();
                    prop_assert_eq!(&out[..count], &expected[..]);
                    if count != 0 {
                        seen -= count;
                        pending = 0;
                    }
                }
                Op::Drain { max, take } => {
                    let mut drain = consumer.drain(max);
                    let known = available(max, model.len(), &mut seen, &mut pending).min(max);
                    prop_assert_eq!(drain.len(), known);
                    let taken: Vec<u32> = drain.by_ref().take(take).collect();
                    drop(drain);
                    let expected: Vec<u32> = model.drain(..take.min(known)).collect();
                    if !expected.is_empty() {
                        seen -= expected.len();
                        pending = 0;
                    }
                    prop_assert_eq!(taken, expected);
                }
            }
            prop_assert_eq!(producer.len(), model.len() + pending);
            prop_assert_eq!(consumer.len(), model.len());
            prop_assert_eq!(consumer.is_empty(), model.is_empty());
            prop_assert_eq!(producer.slots(), capacity - model.len() - pending);
        }
    }
}

/// Many laps of batches and single items through rings whose slots are visited in block
/// order (and one whose slot size keeps the plain order), each item checked.
fn laps_in_order<T: Copy + PartialEq + std::fmt::Debug>(make: impl Fn(u64) -> T) {
    let (mut producer, mut consumer) = channel::<T>(1024);
    let (mut pushed, mut popped) = (0u64, 0u64);
    for round in 0..400u64 {
        let size = [1, 3, 16, 17, 100, 1024][round as usize % 6];
        let items: Vec<T> = (pushed..pushed + size).map(&make).collect();
        pushed += producer.push_slice(&items) as u64;
        if round % 7 == 0 {
            while producer.push(make(pushed)).is_ok() {
                pushed += 1;
            }
        }
        match round % 3 {
            0 => {
                let mut out = vec![make(0); size as usize / 2 + 1];
                let count = consumer.pop_into(&mut out);
                for value in &out[..count] {
                    assert_eq!(*value, make(popped));
                    popped += 1;
                }
            }
            1 => {
                let mut drain = consumer.drain(size as usize / 3 + 5);
                let mut left = drain.len();
                while let Some(value) = drain.next() {
                    assert_eq!(value, make(popped));
                    popped += 1;
                    left -= 1;
                    assert_eq!(drain.len(), left);
                }
                assert_eq!(left, 0);
            }
            _ => {
                while let Ok(value) = consumer.pop() {
                    assert_eq!(value, make(popped));
                    popped += 1;
                }
            }
        }
        assert_eq!(producer.len() as u64, pushed - popped);
    }
    assert!(pushed > 20 * 1024, "only {pushed} items went round");
}

#[test]
fn items_of_every_size_keep_their_order_over_many_laps() {
    laps_in_order(|n| n as u8);
    laps_in_order(|n| n);
    laps_in_order(|n| [n; 8]);
    laps_in_order(|n| [n; 16]);
    laps_in_order(|n| [n; 32]);
    laps_in_order(|n| [n as u8; 24]);
}

#[test]
fn zero_sized_items_are_counted() {
    let (mut producer, mut consumer) = channel::<()>(4);
    for _ in 0..4 {
        producer.push(()).unwrap();
    }
    assert_eq!(producer.push(()), Err(PushError::Full(())));
    assert_eq!(consumer.len(), 4);
    assert_eq!(consumer.drain(3).count(), 3);
    assert_eq!(consumer.pop(), Ok(()));
    assert_eq!(consumer.pop(), Err(PopError::Empty));
    for _ in 0..1000 {
        producer.push(()).unwrap();
        consumer.pop().unwrap();
    }
}

/// Counts its drops in a shared counter.
#[derive(Debug)]
struct Counted {
    value: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// Makes [`Counted`] items that count their drops in `drops`.
fn counting(drops: &Arc<AtomicUsize>) -> impl Fn(u64) -> Counted + '_ {
    move |value| Counted {
        value,
        drops: Arc::clone(drops),
    }
}

#[test]
fn leftovers_in_scattered_blocks_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let make = counting(&drops);
    // 16-byte items, 8 to a 128-byte block: 16 blocks, visited in the scattered order.
    let (mut producer, mut consumer) = channel::<Counted>(128);
    let mut next = 0u64;
    // Three laps and a bit, so that what is left straddles blocks and the array's end.
    for _ in 0..(3 * 128 + 50) {
        producer.push(make(next)).unwrap();
        assert_eq!(consumer.pop().unwrap().value, next);
        next += 1;
    }
    for _ in 0..100 {
        producer.push(make(next)).unwrap();
        next += 1;
    }
    let dropped_so_far = 3 * 128 + 50;
    assert_eq!(drops.load(Ordering::Relaxed), dropped_so_far);
    // A drain that crosses two block boundaries, then is forgotten mid-block: the 21 items it
    // handed out are not the ring's any more, the rest stay in it.
    let first_left = next - 100;
    let mut drain = consumer.drain(50);
    assert_eq!(drain.len(), 50);
    let mut handed_out = Vec::new();
    for offset in 0..21 {
        let item = drain.next().unwrap();
        assert_eq!(item.value, first_left + offset);
        assert_eq!(drain.len(), 50 - 1 - offset as usize);
        handed_out.push(item);
    }
    std::mem::forget(drain);
    drop(handed_out);
    assert_eq!(drops.load(Ordering::Relaxed), dropped_so_far + 21);
    assert_eq!(consumer.len(), 79);
    assert_eq!(consumer.pop().unwrap().value, first_left + 21);
    drop(producer);
    drop(consumer);
    assert_eq!(drops.load(Ordering::Relaxed), dropped_so_far + 100);
}

#[test]
fn owned_items_move_in_batches_and_leftovers_stay_with_their_owner() {
    let drops = Arc::new(AtomicUsize::new(0));
    let make = counting(&drops);
    // 16-byte items, 8 to a block: 8 blocks, visited in the scattered order.
    let (mut producer, mut consumer) = channel::<Counted>(64);
    let mut made = 0;
    let mut next = 0u64;
    let mut expected = 0u64;
    // Batches of 13 into a ring of 64, drained 10 at a time: runs start mid-block, cross
    // blocks and wrap around the array many times; once the ring is full, 3 of every 13 stay
    // behind in their iterator.
    for _ in 0..200 {
        let mut batch = (next..next + 13).map(&make).collect::<Vec<_>>().into_iter();
        made += 13;
        let pushed = producer.push_iter(&mut batch);
        assert_eq!(
            batch.len(),
            13 - pushed,
            "what did not fit stays in the iterator"
        );
        if let Some(first_left) = batch.next() {
            assert_eq!(first_left.value, next + pushed as u64);
        }
        next += pushed as u64;
        drop(batch);
        for item in consumer.drain(10) {
            assert_eq!(item.value, expected);
            expected += 1;
        }
    }
    assert!(expected > 1000, "only {expected} items moved");
    // Each item made so far was dropped once (by its iterator or after the drain) or is inside.
    assert_eq!(
        drops.load(Ordering::Relaxed) + (next - expected) as usize,
        made
    );
    // A full ring takes nothing from the iterator.
    while producer.slots() != 0 {
        assert_eq!(producer.push_iter([make(next)]), 1);
        made += 1;
        next += 1;
    }
    let mut spare = vec![make(u64::MAX)].into_iter();
    made += 1;
    assert_eq!(producer.push_iter(&mut spare), 0);
    assert_eq!(spare.len(), 1);
    drop(spare);
    drop(producer);
    drop(consumer);
    assert_eq!(drops.load(Ordering::Relaxed), made);
}

#[test]
fn an_iterator_of_unknown_length_gets_the_room_the_producer_knows_of() {
    let (mut producer, mut consumer) = channel::<u32>(8);
    // `filter` promises nothing (size_hint 0): the producer still reloads `head` when its
    // cached room is zero, and never pushes more than is free.
    assert_eq!(producer.push_iter((0..20).filter(|_| true)), 8);
    let mut refused = (20..40).filter(|_| true);
    assert_eq!(producer.push_iter(&mut refused), 0);
    assert_eq!(refused.next(), Some(20), "a full ring takes nothing");
    assert_eq!(consumer.pop(), Ok(0));
    assert_eq!(consumer.pop(), Ok(1));
    let mut rest = (8..40).filter(|_| true);
    assert_eq!(producer.push_iter(&mut rest), 2);
    assert_eq!(rest.next(), Some(10));
    let mut out = [0u32; 8];
    assert_eq!(consumer.pop_into(&mut out), 8);
    assert_eq!(out, [2, 3, 4, 5, 6, 7, 8, 9]);
    // An empty iterator pushes nothing and is fine.
    assert_eq!(producer.push_iter(std::iter::empty()), 0);
    assert!(consumer.is_empty());
}

/// Yields `0..real` but claims at least `claimed` items.
struct Boastful {
    next: u32,
    real: u32,
    claimed: usize,
}

impl Iterator for Boastful {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        (self.next < self.real).then(|| {
            self.next += 1;
            self.next - 1
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, None)
    }
}

#[test]
fn an_iterator_that_promises_too_much_pushes_what_it_has() {
    let (mut producer, mut consumer) = channel::<u32>(8);
    let mut items = Boastful {
        next: 0,
        real: 3,
        claimed: 1000,
    };
    assert_eq!(producer.push_iter(&mut items), 3);
    assert_eq!(consumer.drain(8).collect::<Vec<_>>(), [0, 1, 2]);
    // Into a ring with 2 free slots: the promise is only a reason to reload `head`.
    producer.push_slice(&[7; 6]);
    let mut more = Boastful {
        next: 10,
        real: 20,
        claimed: 1000,
    };
    assert_eq!(producer.push_iter(&mut more), 2);
    assert_eq!(more.next(), Some(12));
    assert_eq!(consumer.len(), 8);
}

#[test]
fn zero_sized_items_move_through_push_iter() {
    let (mut producer, mut consumer) = channel::<()>(4);
    let mut units = std::iter::repeat_n((), 6);
    assert_eq!(producer.push_iter(&mut units), 4);
    assert_eq!(units.len(), 2);
    assert_eq!(consumer.drain(3).count(), 3);
    assert_eq!(producer.push_iter(&mut units), 2);
    assert_eq!(consumer.len(), 3);
}

#[test]
fn every_item_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let make = counting(&drops);
    let (mut producer, mut consumer) = channel::<Counted>(8);
    // Wrap around a few times first, so leftover items straddle the end of the slots.
    for value in 0..13 {
        producer.push(make(value)).unwrap();
        assert_eq!(consumer.pop().unwrap().value, value);
    }
    assert_eq!(drops.load(Ordering::Relaxed), 13);
    for value in 0..8 {
        producer.push(make(value)).unwrap();
    }
    // A rejected push hands the item back: it is dropped here, not leaked.
    let rejected = producer.push(make(99)).unwrap_err().into_inner();
    assert_eq!(rejected.value, 99);
    drop(rejected);
    assert_eq!(drops.load(Ordering::Relaxed), 14);
    // Two taken by a drain, one taken and leaked through a forgotten drain: neither may be
    // dropped again by the ring.
    let taken: Vec<Counted> = consumer.drain(2).collect();
    assert_eq!(taken.len(), 2);
    drop(taken);
    let mut drain = consumer.drain(10);
    let leaked_item = drain.next().unwrap();
    std::mem::forget(drain);
    drop(leaked_item);
    assert_eq!(drops.load(Ordering::Relaxed), 17);
    // Five left inside: dropped with the ring, once each.
    assert_eq!(consumer.len(), 5);
    drop(producer);
    assert_eq!(drops.load(Ordering::Relaxed), 17);
    drop(consumer);
    assert_eq!(drops.load(Ordering::Relaxed), 22);
}

#[test]
fn each_side_learns_the_other_is_gone() {
    let (mut producer, mut consumer) = channel::<u32>(2);
    assert!(!producer.is_abandoned());
    assert!(!consumer.is_abandoned());
    producer.push(1).unwrap();
    producer.push(2).unwrap();
    drop(producer);
    assert!(consumer.is_abandoned());
    // Items pushed before the drop are still delivered, then the stream ends.
    let mut wait = SpinThenPark::new(1, 1, Duration::from_micros(10));
    assert_eq!(consumer.pop_wait(&mut wait), Ok(1));
    assert_eq!(consumer.pop_wait(&mut wait), Ok(2));
    assert_eq!(consumer.pop_wait(&mut wait), Err(WaitPopError::Abandoned));

    let (mut producer, consumer) = channel::<u32>(1);
    producer.push(1).unwrap();
    drop(consumer);
    assert!(producer.is_abandoned());
    let mut wait = SpinThenYield::new(1);
    assert_eq!(
        producer.push_wait(2, &mut wait).unwrap_err().into_inner(),
        2,
        "a full ring with no consumer hands the value back"
    );
    assert!(matches!(
        producer.push_wait(3, &mut wait),
        Err(WaitPushError::Abandoned(3))
    ));
}

#[test]
fn parked_consumer_notices_a_stopped_producer() {
    let (producer, mut consumer) = channel::<u32>(4);
    let waiter = std::thread::spawn(move || {
        let mut wait = SpinThenPark::new(10, 10, Duration::from_millis(1));
        consumer.pop_wait(&mut wait)
    });
    std::thread::sleep(Duration::from_millis(20));
    drop(producer);
    assert_eq!(waiter.join().unwrap(), Err(WaitPopError::Abandoned));
}

#[test]
fn handles_are_send_but_not_sync_or_clone() {
    fn assert_send<T: Send>() {}
    assert_send::<liqcore::ring::Producer<String>>();
    assert_send::<liqcore::ring::Consumer<String>>();
    // Not `Sync`, not `Clone`: checked by the compile-fail doctests in the ring module.
}

#[test]
fn capacity_rounds_up_to_a_power_of_two() {
    assert_eq!(channel::<u8>(0).0.capacity(), 1);
    assert_eq!(channel::<u8>(1).0.capacity(), 1);
    assert_eq!(channel::<u8>(3).1.capacity(), 4);
    assert_eq!(channel::<u8>(1024).0.capacity(), 1024);
    assert_eq!(channel::<u8>(1025).0.capacity(), 2048);
}

#[test]
fn grouped_pops_hand_slots_back_in_groups_and_everything_when_the_ring_is_empty() {
    let (mut producer, mut consumer) = channel::<u32>(16);
    let group = 8;
    consumer.set_release_group(group);
    assert_eq!(producer.push_slice(&[7; 16]), 16);
    for popped in 1..=16 {
        assert_eq!(consumer.pop(), Ok(7));
        assert_eq!(consumer.len(), 16 - popped);
        // The producer sees the slots of whole groups only.
        assert_eq!(
            producer.slots(),
            popped / group * group,
            "after {popped} pops"
        );
    }
    producer.push(1).unwrap();
    producer.push(2).unwrap();
    assert_eq!(consumer.pop(), Ok(1));
    assert_eq!(
        producer.slots(),
        14,
        "one item inside, one read slot pending"
    );
    assert_eq!(consumer.pop(), Ok(2));
    assert_eq!(producer.slots(), 14, "two read slots pending");
    // A pop that has to look for more items (its cached copy of the producer's counter says
    // empty) hands the pending slots back first, so a producer waiting for room sees them
    // before the consumer waits.
    assert_eq!(consumer.pop(), Err(PopError::Empty));
    assert_eq!(producer.slots(), 16);
    // Batch calls hand back everything they take at once.
    producer.push_slice(&[3, 4, 5]);
    assert_eq!(consumer.pop(), Ok(3));
    let mut out = [0; 1];
    assert_eq!(consumer.pop_into(&mut out), 1);
    assert_eq!(producer.slots(), 15);
    assert_eq!(consumer.drain(1).collect::<Vec<_>>(), [5]);
    assert_eq!(producer.slots(), 16);
    // `release_pending` hands them back on demand; back to eager, every pop frees its slot.
    producer.push_slice(&[6, 7]);
    assert_eq!(consumer.pop(), Ok(6));
    assert_eq!(producer.slots(), 14);
    consumer.release_pending();
    assert_eq!(producer.slots(), 15);
    consumer.set_release_group(1);
    assert_eq!(consumer.pop(), Ok(7));
    assert_eq!(producer.slots(), 16);
}

#[test]
fn pop_frees_its_slot_at_once_by_default() {
    let (mut producer, mut consumer) = channel::<u32>(4);
    assert_eq!(producer.push_slice(&[1, 2, 3, 4]), 4);
    assert_eq!(consumer.pop(), Ok(1));
    assert_eq!(producer.slots(), 1);
    producer.push(5).unwrap();
}
