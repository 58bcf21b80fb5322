//! The REPLAY.md reason word of each stage error, as a `&'static str` (events carry no
//! strings that need allocating).

use crate::mark::MarkError;
use crate::risk::{FundsError, LeverageError, OrderReject};

pub(crate) fn order(e: OrderReject) -> &'static str {
    match e {
        OrderReject::UnknownAccount => "unknown_account",
        OrderReject::UnknownSymbol => "unknown_symbol",
        OrderReject::InvalidQty => "invalid_qty",
        OrderReject::InvalidPrice => "invalid_price",
        OrderReject::NoMarkPrice => "no_mark_price",
        OrderReject::InsufficientMargin => "insufficient_margin",
        OrderReject::ReduceOnlyIncreases => "reduce_only_increases",
        OrderReject::PositionLimitExceeded => "position_limit_exceeded",
    }
}

pub(crate) fn funds(e: FundsError) -> &'static str {
    match e {
        FundsError::UnknownAccount => "unknown_account",
        FundsError::UnknownSymbol => "unknown_symbol",
        FundsError::InvalidAmount => "invalid_amount",
        FundsError::AmountTooLarge => "amount_too_large",
        FundsError::AccountCapacity => "account_capacity",
        FundsError::InsufficientMargin => "insufficient_margin",
        FundsError::NotIsolated => "not_isolated",
        FundsError::NoPosition => "no_position",
    }
}

pub(crate) fn leverage(e: LeverageError) -> &'static str {
    match e {
        LeverageError::UnknownAccount => "unknown_account",
        LeverageError::UnknownSymbol => "unknown_symbol",
        LeverageError::InvalidLeverage => "invalid_leverage",
        LeverageError::PositionOpen => "position_open",
        LeverageError::PositionLimitExceeded => "position_limit_exceeded",
        LeverageError::InsufficientMargin => "insufficient_margin",
    }
}

pub(crate) fn mark(e: MarkError) -> &'static str {
    match e {
        MarkError::PriceOutOfRange => "invalid_price",
        MarkError::QtyOutOfRange => "invalid_qty",
        MarkError::CrossedBook => "crossed_book",
        MarkError::TimeWentBackwards => "time_went_backwards",
        MarkError::FundingOutOfRange => "funding_out_of_range",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_display() {
        for e in [
            OrderReject::InsufficientMargin,
            OrderReject::NoMarkPrice,
            OrderReject::UnknownAccount,
        ] {
            assert_eq!(order(e), e.to_string());
        }
        for e in [
            FundsError::InsufficientMargin,
            FundsError::NoPosition,
            FundsError::AccountCapacity,
        ] {
            assert_eq!(funds(e), e.to_string());
        }
        for e in [LeverageError::PositionOpen, LeverageError::InvalidLeverage] {
            assert_eq!(leverage(e), e.to_string());
        }
        assert_eq!(
            mark(MarkError::CrossedBook),
            MarkError::CrossedBook.to_string()
        );
    }
}
