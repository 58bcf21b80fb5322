//! Programs around liqcore: peer comparisons and reports. Peer crates are dependencies of this
//! crate only, never of the library.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, missing_docs)]

pub mod compare;
pub mod machine;
