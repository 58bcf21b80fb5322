//! # liqcore
//!
//! A low-latency, lock-free matching and liquidation core for leveraged crypto derivatives.
//!
//! Pinned threads connected by lock-free SPSC rings ([`ring`]) run three single-threaded state
//! machines: an order book ([`book`]), a fixed-point mark-price updater ([`mark`]) and a margin
//! scanner ([`risk`]) that injects liquidation orders straight into the book.
//!
//! Numbers are exact integers ([`types`]): prices in ticks, quantities in lots, money in
//! 10⁻¹² of the quote currency. Only the mark price smoothing uses fixed point.
//!
//! `src/sync.rs` is the only module that names atomics and `UnsafeCell`; built with
//! `--cfg liqcore_loom` it swaps in loom's versions so the ring can be model-checked.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, missing_docs)]

pub mod book;
pub mod engine;
mod hint;
pub mod mark;
pub mod replay;
pub mod ring;
pub mod risk;
pub mod scenario;
pub mod sync;
pub mod types;
pub mod wait;

/// The README's code blocks are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
