//! `compare -- <what>`: liqcore against its peers, in one process, one after another.

pub mod book;
pub mod e2e;
pub mod mark;
pub mod ring;
pub mod ring_align;
pub mod ring_phase;
pub mod scan;
