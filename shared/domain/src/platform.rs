//! Meta's messaging windows, per platform, as pure functions.
//!
//! | platform  | latest free-form send               | with template          |
//! |-----------|-------------------------------------|------------------------|
//! | Instagram | 24 h after the customer's last msg  | no templates           |
//! | Messenger | 24 h after the customer's last msg  | no templates           |
//! | WhatsApp  | 24 h after the customer's last msg  | no limit (approved)    |
//!
//! A safety margin is taken off the 24 h so that a send scheduled at the last allowed
//! minute still lands inside the window after scheduler precision (60 s on EventBridge),
//! queueing and the judge's latency.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::validation::FieldError;

/// Meta's customer-service window: 24 hours after the customer's last message.
pub const WINDOW_MINUTES: u32 = 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Whatsapp,
    Messenger,
    Instagram,
}

impl Platform {
    pub const ALL: [Self; 3] = [Self::Whatsapp, Self::Messenger, Self::Instagram];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Whatsapp => "whatsapp",
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
        }
    }

    /// The longest free-form text the platform accepts, in characters: Instagram 1000,
    /// Messenger 2000, WhatsApp 4096.
    pub const fn max_text_chars(self) -> usize {
        match self {
            Self::Whatsapp => 4096,
            Self::Messenger => 2000,
            Self::Instagram => 1000,
        }
    }

    /// Only WhatsApp has message templates that may go out after the window closes.
    pub const fn supports_templates(self) -> bool {
        matches!(self, Self::Whatsapp)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a follow-up planned at save time will go out on a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedSend {
    /// Free-form text, inside the window.
    FreeForm,
    /// The WhatsApp template, past the window.
    Template,
}

/// The delay a follow-up really gets on one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DelayPlan {
    pub platform: Platform,
    pub requested_minutes: u32,
    pub effective_minutes: u32,
    /// True when the requested delay was shortened to fit the window.
    pub clamped: bool,
    pub send_as: PlannedSend,
}

/// What may be sent right now, given when the customer last wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendMode {
    FreeForm,
    Template,
    WindowClosed,
}

/// The window rules with a configurable safety margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPolicy {
    safety_margin_minutes: u32,
}

impl WindowPolicy {
    pub const DEFAULT_SAFETY_MARGIN_MINUTES: u32 = 15;
    pub const MAX_SAFETY_MARGIN_MINUTES: u32 = 180;

    pub fn new(safety_margin_minutes: u32) -> Result<Self, FieldError> {
        if safety_margin_minutes == 0 || safety_margin_minutes > Self::MAX_SAFETY_MARGIN_MINUTES {
            return Err(FieldError::new(
                "window_safety_margin_minutes",
                "range",
                format!(
                    "must be between 1 and {} minutes",
                    Self::MAX_SAFETY_MARGIN_MINUTES
                ),
            ));
        }
        Ok(Self {
            safety_margin_minutes,
        })
    }

    pub const fn safety_margin_minutes(self) -> u32 {
        self.safety_margin_minutes
    }

    /// The last minute after the customer's message at which free-form text may be sent.
    pub const fn latest_free_form_minutes(self) -> u32 {
        WINDOW_MINUTES - self.safety_margin_minutes
    }

    /// The effective delay on `platform` for a requested manual delay.
    ///
    /// Instagram and Messenger are clamped to the window. WhatsApp with a template keeps
    /// its delay and sends the template past the window; WhatsApp *without* a template is
    /// clamped too, since a send past the window could only ever be skipped.
    pub fn plan_delay(
        self,
        platform: Platform,
        requested_minutes: u32,
        has_template: bool,
    ) -> DelayPlan {
        let latest = self.latest_free_form_minutes();
        let (effective_minutes, clamped, send_as) = if requested_minutes <= latest {
            (requested_minutes, false, PlannedSend::FreeForm)
        } else if platform.supports_templates() && has_template {
            (requested_minutes, false, PlannedSend::Template)
        } else {
            (latest, true, PlannedSend::FreeForm)
        };
        DelayPlan {
            platform,
            requested_minutes,
            effective_minutes,
            clamped,
            send_as,
        }
    }

    /// What may go out at `now` when the customer last wrote at `last_customer_message`
    /// (Meta's timestamp, not our arrival time).
    pub fn send_mode(
        self,
        platform: Platform,
        last_customer_message: Timestamp,
        now: Timestamp,
        has_template: bool,
    ) -> SendMode {
        let latest_free_form = last_customer_message.plus_minutes(self.latest_free_form_minutes());
        if now <= latest_free_form {
            SendMode::FreeForm
        } else if platform.supports_templates() && has_template {
            SendMode::Template
        } else {
            SendMode::WindowClosed
        }
    }
}

impl Default for WindowPolicy {
    fn default() -> Self {
        Self {
            safety_margin_minutes: Self::DEFAULT_SAFETY_MARGIN_MINUTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Platform::{Instagram, Messenger, Whatsapp};

    const HOUR: u32 = 60;

    fn policy() -> WindowPolicy {
        WindowPolicy::new(15).expect("valid margin")
    }

    #[test]
    fn when_planning_delays_then_every_row_of_the_platform_table_holds() {
        let latest = 24 * HOUR - 15;
        // (platform, requested, has_template, effective, clamped, send_as)
        let rows = [
            (
                Instagram,
                4 * HOUR,
                false,
                4 * HOUR,
                false,
                PlannedSend::FreeForm,
            ),
            (
                Instagram,
                latest,
                false,
                latest,
                false,
                PlannedSend::FreeForm,
            ),
            (
                Instagram,
                latest + 1,
                false,
                latest,
                true,
                PlannedSend::FreeForm,
            ),
            (
                Instagram,
                30 * HOUR,
                false,
                latest,
                true,
                PlannedSend::FreeForm,
            ),
            // Instagram has no templates: a configured WhatsApp template changes nothing.
            (
                Instagram,
                30 * HOUR,
                true,
                latest,
                true,
                PlannedSend::FreeForm,
            ),
            (
                Messenger,
                4 * HOUR,
                false,
                4 * HOUR,
                false,
                PlannedSend::FreeForm,
            ),
            (
                Messenger,
                30 * HOUR,
                false,
                latest,
                true,
                PlannedSend::FreeForm,
            ),
            (
                Messenger,
                30 * HOUR,
                true,
                latest,
                true,
                PlannedSend::FreeForm,
            ),
            (
                Whatsapp,
                4 * HOUR,
                false,
                4 * HOUR,
                false,
                PlannedSend::FreeForm,
            ),
            (
                Whatsapp,
                4 * HOUR,
                true,
                4 * HOUR,
                false,
                PlannedSend::FreeForm,
            ),
            (
                Whatsapp,
                24 * HOUR,
                true,
                24 * HOUR,
                false,
                PlannedSend::Template,
            ),
            (
                Whatsapp,
                72 * HOUR,
                true,
                72 * HOUR,
                false,
                PlannedSend::Template,
            ),
            (
                Whatsapp,
                30 * HOUR,
                false,
                latest,
                true,
                PlannedSend::FreeForm,
            ),
        ];
        for (platform, requested, template, effective, clamped, send_as) in rows {
            let plan = policy().plan_delay(platform, requested, template);
            assert_eq!(
                (plan.effective_minutes, plan.clamped, plan.send_as),
                (effective, clamped, send_as),
                "{platform} {requested} min, template {template}"
            );
        }
    }

    #[test]
    fn when_checking_the_window_at_send_time_then_every_platform_row_holds() {
        let last = Timestamp::from_secs(1_700_000_000);
        let inside = last.plus_minutes(23 * HOUR);
        let at_margin = last.plus_minutes(24 * HOUR - 15);
        let in_margin = Timestamp::from_millis(at_margin.as_millis() + 1);
        let after = last.plus_minutes(25 * HOUR);
        // (platform, now, has_template, expected)
        let rows = [
            (Instagram, inside, false, SendMode::FreeForm),
            (Instagram, at_margin, false, SendMode::FreeForm),
            (Instagram, in_margin, false, SendMode::WindowClosed),
            (Instagram, after, true, SendMode::WindowClosed),
            (Messenger, inside, false, SendMode::FreeForm),
            (Messenger, after, false, SendMode::WindowClosed),
            (Messenger, after, true, SendMode::WindowClosed),
            (Whatsapp, inside, true, SendMode::FreeForm),
            (Whatsapp, in_margin, true, SendMode::Template),
            (Whatsapp, after, true, SendMode::Template),
            (Whatsapp, after, false, SendMode::WindowClosed),
        ];
        for (platform, now, template, expected) in rows {
            assert_eq!(
                policy().send_mode(platform, last, now, template),
                expected,
                "{platform} at {} min, template {template}",
                now.minutes_since(last)
            );
        }
    }

    #[test]
    fn when_the_clock_is_behind_metas_timestamp_then_the_window_is_open() {
        let last = Timestamp::from_secs(1_700_000_000);
        let earlier = Timestamp::from_secs(1_699_999_990);
        assert_eq!(
            policy().send_mode(Messenger, last, earlier, false),
            SendMode::FreeForm
        );
    }

    #[test]
    fn when_margin_is_out_of_range_then_policy_is_refused() {
        assert!(WindowPolicy::new(0).is_err());
        assert!(WindowPolicy::new(181).is_err());
        assert_eq!(
            WindowPolicy::new(60).map(|p| p.latest_free_form_minutes()),
            Ok(1380)
        );
        assert_eq!(WindowPolicy::default().safety_margin_minutes(), 15);
    }
}
