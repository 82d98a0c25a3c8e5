//! Runs the real local engine (router, SQLite file, real TCP) in-process for tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use followup_app::Services;
use followup_domain::Timestamp;
use followup_embedded::SqliteScheduler;
use followup_engine::{Engine, EngineConfig};
use followup_ports::FixedClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Token that may manage every chatbot.
pub const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";
/// Token that may manage only `clinic` and `shop`.
pub const CLINIC_TOKEN: &str = "clinic-token-0123456789abcdef";
/// The Meta app secret webhooks are signed with in tests.
pub const APP_SECRET: &str = "test-app-secret-5f1c";
/// The webhook verify token in tests.
pub const VERIFY_TOKEN: &str = "test-verify-token";
/// Token that may manage only `other-bot`.
pub const OTHER_TOKEN: &str = "other-token-0123456789abcdef";

/// The WhatsApp Business Account the tests' template catalogue belongs to.
pub const TEST_WABA: &str = "102290129340398";

/// The templates the product examples use, approved, as Meta lists them:
/// `appointment_reminder` (one body placeholder) and `purchase_confirmation` (none).
pub fn example_templates() -> Vec<serde_json::Value> {
    vec![
        crate::fakes::meta_template(
            "1274983650212345",
            "appointment_reminder",
            "en_US",
            "UTILITY",
            "APPROVED",
            "Hi {{1}}, your appointment slot is still free. Reply YES to book it.",
        ),
        crate::fakes::meta_template(
            "1274983650212346",
            "purchase_confirmation",
            "en_US",
            "UTILITY",
            "APPROVED",
            "Thank you for your purchase! Is everything as expected? Reply to let us know.",
        ),
    ]
}

/// Writes the local engine's template file (what `--messenger outbox` lists instead of
/// Meta) with `templates` for `waba_id`.
pub fn write_local_templates(data_dir: &Path, waba_id: &str, templates: Vec<serde_json::Value>) {
    let file = serde_json::json!({"accounts": {waba_id: templates}});
    std::fs::write(
        data_dir.join(followup_engine::LOCAL_TEMPLATES_FILE),
        serde_json::to_vec_pretty(&file).expect("json"),
    )
    .expect("write local templates");
}

#[derive(Debug)]
pub struct RunningEngine {
    pub base: String,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    pub http: reqwest::Client,
    pub scheduler: SqliteScheduler,
    pub services: Arc<Services>,
    /// Set when the engine runs on simulated time (then its scheduler loop is off and
    /// tests fire due items themselves).
    pub clock: Option<Arc<FixedClock>>,
}

pub fn config(data_dir: &Path) -> EngineConfig {
    EngineConfig {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        data_dir: data_dir.to_owned(),
        api_tokens: Some(format!(
            "{ADMIN_TOKEN}=*;{CLINIC_TOKEN}=clinic,shop;{OTHER_TOKEN}=other-bot"
        )),
        window_margin_minutes: 15,
        meta_app_secret: Some(APP_SECRET.into()),
        meta_verify_token: Some(VERIFY_TOKEN.into()),
        ai_first_check_minutes: 120,
        messenger: "outbox".into(),
        graph_base_url: "https://graph.facebook.com".into(),
        graph_api_version: "v25.0".into(),
        graph_timeout_ms: 2_000,
        graph_max_attempts: 3,
        graph_initial_backoff_ms: 10,
        claim_lease_seconds: 90,
        llm_base_url: None,
        llm_model: "fake-model".into(),
        llm_api_key: None,
        llm_timeout_ms: 2_000,
        llm_output_mode: "json_schema".into(),
        log_format: "text".into(),
    }
}

impl RunningEngine {
    /// Starts an engine on a free port over the store in `data_dir`.
    pub async fn start(data_dir: &Path) -> Self {
        Self::start_with(config(data_dir)).await
    }

    pub async fn start_with(config: EngineConfig) -> Self {
        let engine = Engine::bind(&config).await.expect("engine binds");
        Self::launch(engine, config, None)
    }

    /// An engine on simulated time starting at `now`, without its scheduler loop: the test
    /// moves the clock and calls [`RunningEngine::fire_due`].
    pub async fn start_simulated(data_dir: &Path, now: Timestamp) -> Self {
        Self::start_simulated_with(config(data_dir), now).await
    }

    /// As [`RunningEngine::start_simulated`], with a configuration of the test's.
    pub async fn start_simulated_with(config: EngineConfig, now: Timestamp) -> Self {
        let clock = Arc::new(FixedClock::new(now));
        let engine = Engine::bind_with_clock(&config, clock.clone())
            .await
            .expect("engine binds");
        Self::launch(engine, config, Some(clock))
    }

    fn launch(engine: Engine, config: EngineConfig, clock: Option<Arc<FixedClock>>) -> Self {
        let addr = engine.local_addr;
        let scheduler = engine.scheduler.clone();
        let services = Arc::clone(&engine.services);
        let (tx, rx) = oneshot::channel();
        let shutdown = async {
            let _ = rx.await;
        };
        let task = if clock.is_some() {
            tokio::spawn(engine.serve_without_scheduler(shutdown))
        } else {
            tokio::spawn(engine.serve(shutdown))
        };
        Self {
            base: format!("http://{addr}"),
            addr,
            data_dir: config.data_dir,
            shutdown: Some(tx),
            task: Some(task),
            http: reqwest::Client::new(),
            scheduler,
            services,
            clock,
        }
    }

    /// Calls the API as the admin (all chatbots): status and JSON body (`Null` when empty).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request reaches the engine");
        let status = response.status();
        let bytes = response.bytes().await.expect("body");
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, value)
    }

    /// POSTs `body` to the webhook as Meta would, signed with [`APP_SECRET`] unless
    /// `signature` says otherwise (`Some(None)`: no header at all).
    pub async fn post_webhook(
        &self,
        body: &[u8],
        signature: Option<Option<&str>>,
    ) -> (reqwest::StatusCode, String) {
        let mut request = self
            .http
            .post(self.url("/v1/webhooks/meta"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        let signature = match signature {
            None => Some(followup_meta::sign(APP_SECRET.as_bytes(), body)),
            Some(given) => given.map(str::to_owned),
        };
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.send().await.expect("request reaches the engine");
        (response.status(), response.text().await.expect("text"))
    }

    /// Names `waba_id` on the chatbot's WhatsApp integration `phone_number_id` (connecting
    /// it if needed) and refreshes the template catalogue, through the API. The templates
    /// come from wherever the engine lists them (the local file, or a fake Graph API).
    pub async fn connect_catalogue(&self, chatbot: &str, phone_number_id: &str, waba_id: &str) {
        let (status, body) = self
            .api(
                reqwest::Method::PUT,
                &format!("/v1/chatbots/{chatbot}/integrations/whatsapp/{phone_number_id}"),
                Some(&serde_json::json!({
                    "access_token": "EAAG-whatsapp",
                    "whatsapp_business_account_id": waba_id
                })),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/chatbots/{chatbot}/whatsapp-templates/refresh"),
                None,
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    }

    /// The simulated clock (panics on a real-time engine).
    pub fn clock(&self) -> &FixedClock {
        self.clock
            .as_deref()
            .expect("engine runs on simulated time")
    }

    /// Fires every item due at the simulated now into the engine's sender.
    pub async fn fire_due(&self) -> usize {
        let handler = followup_app::SendDue(Arc::clone(&self.services));
        self.scheduler
            .fire_due(followup_ports::Clock::now(self.clock()), &handler)
            .await
            .expect("fire due items")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Graceful stop; waits until the server has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }
}
