//! The mark-price updater (DESIGN.md §1–§3). Placeholder until the mark issue lands.
