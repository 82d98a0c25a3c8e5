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
        self.0.saturating_sub(earlier.0).div_euclid(60_000)
    }
}

/// Meta retries a webhook it could not deliver for up to seven days; a message stamped
/// more than this before it reached us is not a real one (a day of margin on top).
pub const MAX_WEBHOOK_AGE_MINUTES: u32 = 8 * 24 * 60;
/// How far ahead of our clock Meta's stamp may be (clock skew) and still be believed.
pub const MAX_CLOCK_SKEW_MINUTES: u32 = 5;

/// Why a timestamp from Meta was not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implausible {
    /// Older than any webhook Meta still retries (negative and 1970 stamps land here).
    TooOld,
    /// Further ahead of our clock than clock skew explains.
    InTheFuture,
}

impl Implausible {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TooOld => "too_old",
            Self::InTheFuture => "in_the_future",
        }
    }
}

impl Timestamp {
    /// Meta's timestamp of an event that reached us at `received_at`, if it is believable:
    /// no older than [`MAX_WEBHOOK_AGE_MINUTES`], no more than [`MAX_CLOCK_SKEW_MINUTES`]
    /// ahead. Time from a webhook is input, not truth: a stamp outside that range (year
    /// 9999, `i64::MAX`, `-1`) would make due times unrepresentable or fire at once, so
    /// the caller uses the receive time instead and logs why.
    pub fn believable(self, received_at: Self) -> Result<Self, Implausible> {
        let earliest = received_at
            .0
            .saturating_sub(i64::from(MAX_WEBHOOK_AGE_MINUTES) * 60_000);
        let latest = received_at.plus_minutes(MAX_CLOCK_SKEW_MINUTES).0;
        if self.0 < earliest {
            Err(Implausible::TooOld)
        } else if self.0 > latest {
            Err(Implausible::InTheFuture)
        } else {
            Ok(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_secs(1_796_000_000);

    #[test]
    fn when_a_stamp_is_within_a_week_or_a_little_ahead_then_it_is_believed() {
        for stamp in [
            NOW,
            Timestamp::from_millis(NOW.as_millis() - 7 * 24 * 3_600_000),
            NOW.plus_minutes(MAX_CLOCK_SKEW_MINUTES),
        ] {
            assert_eq!(stamp.believable(NOW), Ok(stamp));
        }
    }

    #[test]
    fn when_a_stamp_is_absurd_then_it_is_not_believed() {
        for (stamp, why) in [
            (
                Timestamp::from_secs(253_402_300_799),
                Implausible::InTheFuture,
            ),
            (Timestamp::from_secs(i64::MAX), Implausible::InTheFuture),
            (Timestamp::from_millis(i64::MAX), Implausible::InTheFuture),
            (
                NOW.plus_minutes(MAX_CLOCK_SKEW_MINUTES + 1),
                Implausible::InTheFuture,
            ),
            (Timestamp::from_secs(-1), Implausible::TooOld),
            (Timestamp::from_millis(i64::MIN), Implausible::TooOld),
            (Timestamp::from_secs(0), Implausible::TooOld),
            (
                Timestamp::from_millis(NOW.as_millis() - 9 * 24 * 3_600_000),
                Implausible::TooOld,
            ),
        ] {
            assert_eq!(stamp.believable(NOW), Err(why), "{stamp:?}");
        }
    }

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
