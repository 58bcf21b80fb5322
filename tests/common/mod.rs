//! Helpers shared by several integration-test binaries (each `tests/*.rs` that needs them says
//! `mod common;`). Not every binary uses every helper.
#![allow(dead_code)]

pub mod alloc;
