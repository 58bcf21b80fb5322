//! Margin accounts and the liquidation scanner (DESIGN.md §5). Placeholder until the risk issues land.
