//! Time as a value. The domain never reads a clock; callers pass `now` in.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Meta timestamps (seconds on WhatsApp,
/// milliseconds on Messenger and Instagram) are converted to this at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    #[must_use]
    pub const fn plus_minutes(self, minutes: u32) -> Self {
        Self(self.0.saturating_add(minutes as i64 * 60_000))
    }

    /// Whole minutes from `earlier` to `self` (negative when `self` is earlier), rounded
    /// toward negative infinity so "23 h 59 min 59 s" is 1439 minutes, never 1440.
    pub const fn minutes_since(self, earlier: Self) -> i64 {
        (self.0 - earlier.0).div_euclid(60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_adding_minutes_then_milliseconds_advance() {
        assert_eq!(
            Timestamp::from_secs(10).plus_minutes(2).as_millis(),
            130_000
        );
    }

    #[test]
    fn when_less_than_a_whole_minute_passed_then_minutes_since_rounds_down() {
        let start = Timestamp::from_millis(0);
        assert_eq!(Timestamp::from_millis(59_999).minutes_since(start), 0);
        assert_eq!(Timestamp::from_millis(-1).minutes_since(start), -1);
    }
}
