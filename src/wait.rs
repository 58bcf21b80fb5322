//! Wait strategies (placeholder while they are being written).
