//! What every handler can reach: the ports, the clock, the window policy, the tokens.

use std::sync::Arc;

use followup_domain::WindowPolicy;
use followup_ports::{Clock, FollowUpStore};

use crate::auth::ApiTokens;

/// The adapters and settings the router is built on.
#[derive(Debug, Clone)]
pub struct AppDeps {
    pub store: Arc<dyn FollowUpStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: WindowPolicy,
    pub tokens: ApiTokens,
}

/// Cheap to clone: one `Arc` shared by every request.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppDeps>);

impl AppState {
    pub fn new(deps: AppDeps) -> Self {
        Self(Arc::new(deps))
    }

    pub fn store(&self) -> &dyn FollowUpStore {
        self.0.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }

    pub fn policy(&self) -> WindowPolicy {
        self.0.policy
    }

    pub fn tokens(&self) -> &ApiTokens {
        &self.0.tokens
    }
}
