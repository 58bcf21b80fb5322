//! One small error type per ring operation; those that fail with an item hand it back.

use std::fmt;

/// [`Producer::push`](super::Producer::push) failed; the item is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The ring is full: the consumer is not keeping up. Retry later, wait, or shed load.
    Full(T),
}

impl<T> PushError<T> {
    /// The item that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            PushError::Full(value) => value,
        }
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ring is full: the consumer is not keeping up")
    }
}

impl<T> std::error::Error for PushError<T> {}

/// [`Consumer::pop`](super::Consumer::pop) found nothing to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PopError {
    /// The ring is empty.
    #[error("ring is empty")]
    Empty,
}

/// [`Producer::push_wait`](super::Producer::push_wait) gave up; the item is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum WaitPushError<T> {
    /// The consumer was dropped while the ring was full: nobody will make room again.
    Abandoned(T),
}

impl<T> WaitPushError<T> {
    /// The item that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            WaitPushError::Abandoned(value) => value,
        }
    }
}

impl<T> fmt::Debug for WaitPushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Abandoned(..)")
    }
}

impl<T> fmt::Display for WaitPushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ring consumer is gone and the ring is full")
    }
}

impl<T> std::error::Error for WaitPushError<T> {}

/// [`Consumer::pop_wait`](super::Consumer::pop_wait) gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitPopError {
    /// The producer was dropped and every item it pushed has been read: the stream has ended.
    #[error("ring producer is gone and the ring is drained")]
    Abandoned,
}
