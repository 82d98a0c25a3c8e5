//! Application services: what happens when a webhook arrives, when a follow-up comes due,
//! and when one is deactivated or deleted. Written against the ports only, so the same code
//! runs in the local engine and in the Lambda functions.

mod catalogue;
mod dry_run;
mod ingest;
mod lifecycle;
mod plan;
mod sender;

use std::sync::Arc;
use std::time::Duration;

use followup_domain::WindowPolicy;
use followup_ports::{
    Clock, Judge, Messenger, Scheduler, SchedulerError, Store, StoreError, TemplateDirectory,
};

pub use catalogue::{Catalogue, CatalogueError, UsableCatalogue};
pub use dry_run::{
    DryRun, DryRunAction, DryRunError, JudgeOutcome, MessagePreview, MetaFee, WindowState,
};
pub use ingest::IngestSummary;
pub use sender::{PROFILE_NAME_FALLBACK, SendDue, SendOutcome};

/// Default first check of an `ai` delay: 2 hours after the customer's last message, the low
/// end of the 2-6 h that usually works best. The judge then sends or picks a later time.
pub const DEFAULT_AI_FIRST_CHECK_MINUTES: u32 = 120;

/// Store and scheduler calls around the judge and the send, at most (generous: they are
/// single-digit milliseconds when healthy, and each is retried a few times).
pub const STORE_CALLS_WORST_CASE: Duration = Duration::from_secs(15);

/// The longest one due item can take, by stage: what the sender checks against the time
/// it has left before it claims an item and before it calls Meta, and what the claim
/// lease must outlast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendBudget {
    /// One verdict: every judge attempt timing out, with the longest backoffs.
    pub judge: Duration,
    /// One send: every Graph attempt timing out, with the longest backoffs.
    pub send: Duration,
}

impl SendBudget {
    /// One item from claim to settlement.
    pub fn item(&self) -> Duration {
        self.judge + self.send + STORE_CALLS_WORST_CASE
    }

    /// From "about to call Meta" to settlement.
    pub fn send_and_settle(&self) -> Duration {
        self.send + STORE_CALLS_WORST_CASE
    }

    /// The claim lease must outlast one item's worst case, or a sender that is still
    /// working could see its claim taken over. Returns the message to refuse the
    /// configuration with.
    pub fn check_lease(&self, lease_seconds: u32) -> Result<(), String> {
        let worst = whole_seconds(self.item());
        if u64::from(lease_seconds) < worst {
            return Err(format!(
                "the claim lease ({lease_seconds} s) is shorter than one due item's worst case \
                 ({worst} s: judge {} s, Graph {} s, store {} s); raise the lease (and, on AWS, \
                 the sender's timeout and the queue's visibility timeout with it) or lower the \
                 timeouts or attempts",
                whole_seconds(self.judge),
                whole_seconds(self.send),
                STORE_CALLS_WORST_CASE.as_secs()
            ));
        }
        Ok(())
    }
}

/// A duration in seconds, rounded up.
pub fn whole_seconds(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// The ports and settings the services work with.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub scheduler: Arc<dyn Scheduler>,
    pub clock: Arc<dyn Clock>,
    pub judge: Arc<dyn Judge>,
    pub messenger: Arc<dyn Messenger>,
    /// Meta's template endpoints (or the local stand-in).
    pub templates: Arc<dyn TemplateDirectory>,
    pub policy: WindowPolicy,
    pub ai_first_check_minutes: u32,
    /// How long a sender's claim on a due item lasts: longer than one item's worst case
    /// (judge and Graph timeouts times their attempts, plus backoffs), so a live sender
    /// never loses its claim, and shorter than the wait before the item is delivered
    /// again, so a stopped sender's claim has run out by then.
    pub claim_lease_seconds: u32,
    /// The worst case of each stage, checked against the time left.
    pub budget: SendBudget,
}

/// A service call failed for a reason on our side; the caller should retry (webhooks:
/// answer 5xx so Meta redelivers; due items: leave them for redelivery).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    /// Meta throttled the send beyond the client's own retries: deliver the item again later.
    #[error("throttled by Meta")]
    Throttled,
    /// Another sender holds the item's claim and its lease has not run out: deliver the
    /// item again later, when it is settled or the lease has run out.
    #[error("the due item is claimed by another sender until its lease runs out")]
    ClaimHeld,
    /// Not enough time left in this invocation (or the claim's lease) for the next stage:
    /// nothing was sent and the claim was given back; deliver the item again later.
    #[error("not enough time left to {stage}")]
    OutOfTime { stage: &'static str },
}
