//! The only module that names atomics, `UnsafeCell` and `spin_loop`.
//!
//! Built normally it re-exports `std`'s; built with `RUSTFLAGS="--cfg liqcore_loom"` it
//! re-exports loom's, so `tests/loom*.rs` can explore every interleaving of the code that uses
//! them. Code elsewhere in the crate must reach these primitives through this module only.
//!
//! [`UnsafeCell`] here has loom's closure API (`with` / `with_mut`) in both builds, so that loom
//! sees every access to a slot.

#[cfg(not(liqcore_loom))]
mod imp {
    pub use std::hint::spin_loop;
    pub use std::sync::Arc;
    pub use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub use std::thread::{park_timeout, yield_now};

    /// `std`'s `UnsafeCell` with loom's access API, so one code path serves both builds.
    #[derive(Debug)]
    #[repr(transparent)]
    pub struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        pub const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Calls `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a unique raw pointer to the contents.
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(liqcore_loom)]
mod imp {
    pub use loom::cell::UnsafeCell;
    pub use loom::hint::spin_loop;
    pub use loom::sync::Arc;
    pub use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub use loom::thread::yield_now;

    /// Loom has no timed park; a yield lets the model schedule the other thread instead.
    pub fn park_timeout(_: std::time::Duration) {
        loom::thread::yield_now();
    }
}

pub use imp::*;
