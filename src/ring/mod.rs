//! The lock-free SPSC ring (placeholder while it is being written).
