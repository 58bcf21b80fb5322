//! Wait strategies: what a thread does while its ring is empty (consumer) or full (producer).
//!
//! One small trait, [`WaitStrategy`], serves both sides: the caller calls
//! [`wait`](WaitStrategy::wait) each time it finds nothing to do and
//! [`reset`](WaitStrategy::reset) as soon as it did work.
//!
//! | strategy | latency after work arrives | CPU while idle | use |
//! | --- | --- | --- | --- |
//! | [`BusySpin`] | lowest (tens of ns) | a whole core | pinned stages, one core each |
//! | [`SpinThenYield`] | low while spinning, then a scheduler round | a core, shared politely | more spinning threads than cores |
//! | [`SpinThenPark`] | up to the park timeout once parked | next to none | idle-heavy stages, tests |
//!
//! The peer never wakes a parked thread (that would put a syscall on its hot path), so
//! [`SpinThenPark`] parks for a bounded time and looks again: a stopped peer or new work is
//! noticed within one park timeout.

use std::time::Duration;

use crate::sync::{park_timeout, spin_loop, yield_now};

/// What to do while there is nothing to do.
pub trait WaitStrategy {
    /// Called each time the caller found its ring empty (or full).
    fn wait(&mut self);
    /// Called when the caller made progress: the next idle period starts from scratch.
    fn reset(&mut self);
}

/// Spins on the CPU's pause hint: the lowest wake-up latency, a full core while idle.
#[derive(Clone, Copy, Debug, Default)]
pub struct BusySpin;

impl WaitStrategy for BusySpin {
    #[inline]
    fn wait(&mut self) {
        spin_loop();
    }

    #[inline]
    fn reset(&mut self) {}
}

/// Spins `spins` times, then yields the core to the scheduler on each further wait.
#[derive(Clone, Copy, Debug)]
pub struct SpinThenYield {
    spins: u32,
    waited: u32,
}

impl SpinThenYield {
    /// Spins `spins` times before it starts yielding.
    #[must_use]
    pub const fn new(spins: u32) -> SpinThenYield {
        SpinThenYield { spins, waited: 0 }
    }
}

impl Default for SpinThenYield {
    /// 100 spins (a few µs), then yield.
    fn default() -> Self {
        SpinThenYield::new(100)
    }
}

impl WaitStrategy for SpinThenYield {
    #[inline]
    fn wait(&mut self) {
        if self.waited < self.spins {
            self.waited += 1;
            spin_loop();
        } else {
            yield_now();
        }
    }

    #[inline]
    fn reset(&mut self) {
        self.waited = 0;
    }
}

/// Spins, then yields, then parks the thread for at most `park` per wait.
#[derive(Clone, Copy, Debug)]
pub struct SpinThenPark {
    spins: u32,
    yields: u32,
    park: Duration,
    waited: u32,
}

impl SpinThenPark {
    /// Spins `spins` times, yields `yields` times, then parks for `park` per wait.
    #[must_use]
    pub const fn new(spins: u32, yields: u32, park: Duration) -> SpinThenPark {
        SpinThenPark {
            spins,
            yields,
            park,
            waited: 0,
        }
    }
}

impl Default for SpinThenPark {
    /// 100 spins, 10 yields, then parks of 100 µs.
    fn default() -> Self {
        SpinThenPark::new(100, 10, Duration::from_micros(100))
    }
}

impl WaitStrategy for SpinThenPark {
    fn wait(&mut self) {
        if self.waited < self.spins {
            self.waited += 1;
            spin_loop();
        } else if self.waited < self.spins.saturating_add(self.yields) {
            self.waited += 1;
            yield_now();
        } else {
            park_timeout(self.park);
        }
    }

    #[inline]
    fn reset(&mut self) {
        self.waited = 0;
    }
}
