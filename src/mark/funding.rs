//! The funding-basis price of `median3` ("price 1"): the index adjusted by the last funding
//! rate for the time left until the next funding.
//!
//! # Convention
//!
//! Venues write price 1 as `index × (1 + last_funding_rate × time_until_funding / 8)` (Binance
//! coin-margined docs, "time until funding" over the 8-hour interval), yet the worked example
//! that circulates with it — index 2,000, last funding rate 0.005, half an hour to the next
//! funding of an 8-hour interval → price 1 = **2,005** — only comes out when the time is
//! expressed **in hours and not divided by the interval**: `2000 × (1 + 0.005 × 0.5) = 2005`
//! (Aevo publishes exactly this arithmetic: "Time Until Next Funding is the time left in hours
//! … 30 minutes before the next funding it would be 0.5"). The pro-rata reading gives
//! `2000 × (1 + 0.005 × 0.5/8) = 2000.625`. We implement both and default to the one that
//! reproduces the documented vector:
//!
//! - [`FundingConvention::HoursUntilFunding`] (default): `index × (1 + rate × ttf_ms / 3_600_000)`;
//! - [`FundingConvention::ProRata`]: `index × (1 + rate × ttf_ms / interval_ms)`.
//!
//! `ttf_ms = next_funding_ms − now`, clamped to `0 ..= interval_ms`. Both forms are exact
//! rationals; the result is rounded toward −∞ at 2⁻⁴⁸ ([`super::ratio_to_fixed`]).

use fixed::types::I80F48;

use super::math::{Quotient, ticks};
use crate::types::{Price, Rate};

/// Milliseconds in an hour: the unit of "time until funding" in the default convention.
pub const HOUR_MS: u64 = 3_600_000;

/// The longest accepted funding interval: 2³² ms (about 50 days).
pub const MAX_FUNDING_INTERVAL_MS: u64 = 1 << 32;

/// How the time until funding scales the last funding rate in price 1 (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FundingConvention {
    /// `rate × (time until funding in hours)`: reproduces the documented 2,005 vector.
    #[default]
    HoursUntilFunding,
    /// `rate × (time until funding / funding interval)`.
    ProRata,
}

/// The funding state price 1 needs: set by the host whenever funding is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Funding {
    /// The last funding rate (in 10⁻⁸; `|rate| ≤ 1`).
    pub rate: Rate,
    /// Logical time (ms) of the next funding.
    pub next_funding_ms: u64,
    /// Funding interval (ms), `1 ..= 2³²`: 8 hours is `28_800_000`.
    pub interval_ms: u64,
}

impl Default for Funding {
    /// Zero rate, 8-hour interval, next funding at 0 (so price 1 is the index).
    fn default() -> Funding {
        Funding {
            rate: Rate::ZERO,
            next_funding_ms: 0,
            interval_ms: 8 * HOUR_MS,
        }
    }
}

impl Funding {
    /// `true` if the rate is within ±1 and the interval within `1 ..= 2³²` ms.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.rate.0.unsigned_abs() <= Rate::ONE.0.unsigned_abs()
            && (1..=MAX_FUNDING_INTERVAL_MS).contains(&self.interval_ms)
    }
}

/// Price 1 of `median3` at logical time `now_ms`, in ticks (rounded toward −∞ at 2⁻⁴⁸);
/// `None` if it does not fit.
///
/// # Examples
///
/// The documented vector: index 2,000, last funding rate 0.005, half an hour before an 8-hour
/// funding.
///
/// ```
/// use liqcore::mark::{Funding, FundingConvention, funding_basis_price};
/// use liqcore::types::{Price, Rate};
/// let funding = Funding { rate: Rate(500_000), next_funding_ms: 1_800_000, interval_ms: 28_800_000 };
/// let p1 = funding_basis_price(Price(2_000), &funding, 0, FundingConvention::HoursUntilFunding);
/// assert_eq!(p1.unwrap(), 2_005);
/// let pro_rata = funding_basis_price(Price(2_000), &funding, 0, FundingConvention::ProRata);
/// assert_eq!(pro_rata.unwrap(), 2_000.625);
/// ```
#[must_use]
pub fn funding_basis_price(
    index: Price,
    funding: &Funding,
    now_ms: u64,
    convention: FundingConvention,
) -> Option<I80F48> {
    funding_adjustment(index, funding, now_ms, convention)?
        .exact()?
        .checked_add(ticks(index))
}

/// The adjustment `index × rate × ttf / unit` of [`funding_basis_price`] before its division:
/// `None` only when the numerator overflows (then the price is `None` too).
#[inline]
pub(crate) fn funding_adjustment(
    index: Price,
    funding: &Funding,
    now_ms: u64,
    convention: FundingConvention,
) -> Option<Quotient> {
    let ttf = funding
        .next_funding_ms
        .saturating_sub(now_ms)
        .min(funding.interval_ms);
    let unit = match convention {
        FundingConvention::HoursUntilFunding => HOUR_MS,
        FundingConvention::ProRata => funding.interval_ms,
    };
    if funding.rate.0 == 0 || ttf == 0 {
        return Some(Quotient::whole(Price(0)));
    }
    // Through `MarkPrice`: |index| ≤ 2⁴⁰, |rate| ≤ 10⁸ < 2²⁷, ttf ≤ 2³², so the product is below
    // 2⁹⁹; called directly with wilder values, an overflow gives `None`, never a panic.
    let numerator = i128::from(index.0)
        .checked_mul(i128::from(funding.rate.0))?
        .checked_mul(i128::from(ttf))?;
    // 10⁸ · unit ≤ 10⁸ · 2³² < 2⁶³: `ratio_to_fixed` divides by it unshifted.
    Some(Quotient {
        base: 0,
        num: numerator,
        den: i128::from(Rate::ONE.0) * i128::from(unit),
    })
}
