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
//! The ring (`ring/slots.rs`) prefetches the blocks each side will use next, the producer's for
//! writing (PREFETCHW, where CPUID says the core has it).
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
    prefetch_address(std::ptr::from_ref(value).cast());
}

/// Starts loading the cache line that holds `address` into the nearest cache level. Any
/// address will do: a prefetch is never dereferenced and never faults.
#[inline(always)]
pub(crate) fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 (SSE, in the x86_64 baseline) never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Whether this core has PREFETCHW (CPUID leaf 8000_0001h, ECX bit 8: AMD since the K6-2, Intel
/// since Broadwell). Executes CPUID, which is slow (a trap in a virtual machine): ask once.
pub(crate) fn can_prefetch_for_write() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__cpuid, __get_cpuid_max};
        const EXTENDED_FEATURES: u32 = 0x8000_0001;
        const PRFCHW: u32 = 1 << 8;
        // Leaf 8000_0000h says which extended leaves the core has: ask for ours only then.
        let (highest_extended, _) = __get_cpuid_max(0x8000_0000);
        highest_extended >= EXTENDED_FEATURES && __cpuid(EXTENDED_FEATURES).ecx & PRFCHW != 0
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Starts taking the cache line that holds `address` for writing: it arrives exclusive, with
/// every other core's copy invalidated, so that the store that follows finds it ready instead
/// of waiting for that round of invalidations. Any address will do, as for
/// [`prefetch_address`].
///
/// # Safety
///
/// The core must have PREFETCHW: [`can_prefetch_for_write`] said so (a core without it may
/// fault on the instruction).
#[inline(always)]
pub(crate) unsafe fn prefetch_address_for_write(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller checked the core has PREFETCHW, a hint that never faults on an address.
    unsafe {
        std::arch::asm!(
            "prefetchw byte ptr [{address}]",
            address = in(reg) address,
            options(nostack, preserves_flags, readonly)
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
