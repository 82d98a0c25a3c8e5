//! What every handler can reach: the application services (ports, clock, policy), the API
//! tokens and the webhook secrets.

use std::sync::Arc;

use followup_app::Services;
use followup_domain::{Secret, WindowPolicy};
use followup_ports::{Clock, Store};

use crate::auth::ApiTokens;

/// Meta app settings for the webhook routes.
#[derive(Debug, Clone)]
pub struct WebhookSecrets {
    /// The Meta app secret: signs every webhook POST (`X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// Our verify token, echoed by Meta in the subscribe handshake.
    pub verify_token: Secret,
}

/// The services and settings the router is built on.
#[derive(Debug, Clone)]
pub struct AppDeps {
    pub services: Arc<Services>,
    pub tokens: ApiTokens,
    pub webhook: WebhookSecrets,
}

/// Cheap to clone: one `Arc` shared by every request.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppDeps>);

impl AppState {
    pub fn new(deps: AppDeps) -> Self {
        Self(Arc::new(deps))
    }

    pub fn services(&self) -> &Services {
        &self.0.services
    }

    pub fn store(&self) -> &dyn Store {
        self.0.services.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.0.services.clock.as_ref()
    }

    pub fn policy(&self) -> WindowPolicy {
        self.0.services.policy
    }

    pub fn tokens(&self) -> &ApiTokens {
        &self.0.tokens
    }

    pub fn webhook(&self) -> &WebhookSecrets {
        &self.0.webhook
    }
}
