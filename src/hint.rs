//! Software prefetch: asking the CPU to start loading a cache line before the code needs it.
//!
//! Stages drain their inputs in batches, so while serving one message they can already see the
//! next ones. A cancel or modify looks its order up by id: a read of the id's bucket in a hash
//! index, then of the order's record (the risk stage's registry entry, the book's order slot),
//! random reads into tables larger than the L1 cache; a new order reads its account's margin
//! record and position, and a resting one links behind its level's newest order. Started two
//! messages early (`drain!`'s look-ahead), those misses overlap the work in between instead of
//! stalling it (perf/e2e.md has the measured effect).
//!
//! # Cost
//!
//! One instruction per prefetch on x86_64, nothing elsewhere (other targets compile it away),
//! plus the look-ahead's own work: reading the message and its bucket, about 40 instructions
//! per message and stage. A prefetch is only a hint: it never faults and changes no memory, so
//! a wrong guess (the bucket changed before the message is served) costs a wasted line fill,
//! never a wrong result.

/// Starts loading the cache line that holds `value` into the nearest cache level.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is a hint that never faults (the address is a live reference anyway)
    // and SSE, which provides it, is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            std::ptr::from_ref(value).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
