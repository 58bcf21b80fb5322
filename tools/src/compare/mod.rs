//! `compare -- <what>`: liqcore against its peers, in one process, one after another.

pub mod book;
pub mod mark;
pub mod ring;
pub mod scan;
