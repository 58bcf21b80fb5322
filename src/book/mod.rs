//! The order book (DESIGN.md §4). Placeholder until the book issue lands.
