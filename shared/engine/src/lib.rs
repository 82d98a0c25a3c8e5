//! The local engine: the follow-up service on one machine, with the embedded adapters.
//! `followup-local` (src/main.rs) is a thin wrapper around [`Engine`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::Duration;

use followup_app::{DEFAULT_AI_FIRST_CHECK_MINUTES, SendBudget, SendDue, Services};
use followup_domain::{Secret, WindowPolicy};
use followup_embedded::{SqliteScheduler, SqliteStore};
use followup_graph::{GraphClient, GraphConfig, LocalTemplateDirectory, Outbox};
use followup_http::{ApiTokens, AppDeps, AppState, Grant, WebhookSecrets};
use followup_judge::{OfflineJudge, OpenAiConfig, OpenAiJudge, OutputMode};
use followup_ports::{Clock, Judge, Messenger, SystemClock, TemplateDirectory};
use tokio::net::TcpListener;

/// The engine's settings; see `followup-local --help` for the flags and variables.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "followup-local",
    version,
    about = "Runs the follow-up service on this machine: HTTP API on 127.0.0.1, SQLite store in a data directory."
)]
pub struct EngineConfig {
    /// Address to listen on.
    #[arg(long, env = "FOLLOWUP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the SQLite store and the generated local API token.
    #[arg(long, env = "FOLLOWUP_DATA_DIR", default_value = ".followup-data")]
    pub data_dir: PathBuf,

    /// API tokens and the chatbots each may manage: `token=bot1,bot2;token2=*`. Tokens must
    /// be at least 16 characters. When unset, a random token for all chatbots is generated
    /// once and kept in `<data-dir>/local-api-token`.
    #[arg(long, env = "FOLLOWUP_API_TOKENS", hide_env_values = true)]
    pub api_tokens: Option<String>,

    /// Minutes taken off Meta's 24 h window so late sends still land inside it (1-180).
    #[arg(long, env = "FOLLOWUP_WINDOW_MARGIN_MINUTES", default_value_t = WindowPolicy::DEFAULT_SAFETY_MARGIN_MINUTES)]
    pub window_margin_minutes: u32,

    /// The Meta app secret that signs webhooks. When unset, a random one is generated once
    /// and kept in `<data-dir>/local-meta-app-secret` (for signing test webhooks locally).
    #[arg(long, env = "FOLLOWUP_META_APP_SECRET", hide_env_values = true)]
    pub meta_app_secret: Option<String>,

    /// The verify token Meta sends in the webhook subscribe handshake. When unset, one is
    /// generated once and kept in `<data-dir>/local-meta-verify-token`.
    #[arg(long, env = "FOLLOWUP_META_VERIFY_TOKEN", hide_env_values = true)]
    pub meta_verify_token: Option<String>,

    /// Minutes after the customer's last message at which an `ai`-delay follow-up is first
    /// checked by the judge (who then sends or picks a later time).
    #[arg(long, env = "FOLLOWUP_AI_FIRST_CHECK_MINUTES", default_value_t = DEFAULT_AI_FIRST_CHECK_MINUTES)]
    pub ai_first_check_minutes: u32,

    /// Where follow-ups go: `outbox` records them locally (visible in the deliveries API and
    /// the log, nothing leaves the machine); `graph` sends them through Meta's Graph API
    /// with each integration's access token.
    #[arg(long, env = "FOLLOWUP_MESSENGER", default_value = "outbox", value_parser = ["outbox", "graph"])]
    pub messenger: String,

    /// Graph API root (with `graph`).
    #[arg(long, env = "FOLLOWUP_GRAPH_BASE_URL", default_value = followup_graph::GraphConfig::DEFAULT_BASE_URL)]
    pub graph_base_url: String,

    /// Graph API version (with `graph`).
    #[arg(long, env = "FOLLOWUP_GRAPH_API_VERSION", default_value = followup_graph::GraphConfig::DEFAULT_API_VERSION)]
    pub graph_api_version: String,

    /// Timeout of one Graph API request, in milliseconds.
    #[arg(long, env = "FOLLOWUP_GRAPH_TIMEOUT_MS", default_value_t = 10_000)]
    pub graph_timeout_ms: u64,

    /// Requests per send when Meta throttles (then the item is retried later).
    #[arg(long, env = "FOLLOWUP_GRAPH_MAX_ATTEMPTS", default_value_t = 3)]
    pub graph_max_attempts: u32,

    /// How long a sender's claim on a due item lasts, in seconds. After a crash the item
    /// is retried every 30 s and taken over once this has run out; it must be longer than
    /// one item's worst case (judge and Graph timeouts times their attempts), which is
    /// checked at start.
    #[arg(long, env = "FOLLOWUP_CLAIM_LEASE_SECONDS", default_value_t = DEFAULT_CLAIM_LEASE_SECONDS)]
    pub claim_lease_seconds: u32,

    /// First backoff after a throttled send, in milliseconds (doubles per attempt).
    #[arg(long, env = "FOLLOWUP_GRAPH_INITIAL_BACKOFF_MS", default_value_t = 500)]
    pub graph_initial_backoff_ms: u64,

    /// An OpenAI-compatible API root (e.g. https://api.openai.com/v1, an Ollama or vLLM
    /// server). Unset: the offline judge, a deterministic keyword heuristic.
    #[arg(long, env = "FOLLOWUP_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,

    /// The model to ask (with an LLM base URL).
    #[arg(long, env = "FOLLOWUP_LLM_MODEL", default_value = "gpt-4.1-mini")]
    pub llm_model: String,

    /// The model API key, sent as a bearer token (never logged).
    #[arg(long, env = "FOLLOWUP_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,

    /// Timeout of one judge request, in milliseconds.
    #[arg(long, env = "FOLLOWUP_LLM_TIMEOUT_MS", default_value_t = 20_000)]
    pub llm_timeout_ms: u64,

    /// How the LLM server is asked for structured output: `json_schema` (OpenAI, vLLM,
    /// Ollama), `json_object` (llama.cpp's Python server) or `tools` (a forced tool call).
    #[arg(long, env = "FOLLOWUP_LLM_OUTPUT_MODE", default_value = "json_schema")]
    pub llm_output_mode: String,

    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "FOLLOWUP_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store: {0}")]
    Store(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Where the API token came from, for the start-up banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Configured,
    /// Generated (or read back) from this file.
    LocalFile(PathBuf),
}

/// A bound, ready-to-serve engine.
#[derive(Debug)]
pub struct Engine {
    listener: TcpListener,
    router: axum::Router,
    pub local_addr: SocketAddr,
    pub token_source: TokenSource,
    pub store_path: PathBuf,
    /// The embedded scheduler; tests fire it directly on a simulated clock.
    pub scheduler: SqliteScheduler,
    pub services: Arc<Services>,
    clock: Arc<dyn Clock>,
}

const TOKEN_FILE: &str = "local-api-token";
const APP_SECRET_FILE: &str = "local-meta-app-secret";
const VERIFY_TOKEN_FILE: &str = "local-meta-verify-token";
const STORE_FILE: &str = "followups.sqlite";

fn data_dir_error(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Reads a local secret, or creates one: 32 random bytes, hex, readable by the owner only.
fn local_secret(data_dir: &Path, file: &str) -> Result<(String, PathBuf), EngineError> {
    let path = data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(token) if token.trim().len() >= followup_http::auth::MIN_TOKEN_LEN => {
            return Ok((token.trim().to_owned(), path));
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(data_dir_error(&path)(error)),
    }
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| EngineError::Config(format!("no randomness for a token: {e}")))?;
    let token = hex::encode(bytes);
    write_private(&path, &token).map_err(data_dir_error(&path))?;
    Ok((token, path))
}

/// The engine's default claim lease: the default LLM judge (3 × 20 s + 2 × 10 s) and
/// Graph sends (3 × 10 s + 2 × 10 s) fit with room to spare.
pub const DEFAULT_CLAIM_LEASE_SECONDS: u32 = 180;

/// The offline judge unless a model is configured, and its worst case per verdict.
fn judge(config: &EngineConfig) -> Result<(Arc<dyn Judge>, Duration), EngineError> {
    let Some(base_url) = &config.llm_base_url else {
        return Ok((Arc::new(OfflineJudge::new()), Duration::ZERO));
    };
    let mut settings = OpenAiConfig::new(base_url.clone(), config.llm_model.clone());
    settings.api_key = config.llm_api_key.clone().map(Secret::new);
    settings.timeout = Duration::from_millis(config.llm_timeout_ms);
    settings.output_mode = OutputMode::parse(&config.llm_output_mode)
        .map_err(|e| EngineError::Config(format!("LLM judge: {e}")))?;
    let worst_case = settings.worst_case();
    let judge =
        OpenAiJudge::new(settings).map_err(|e| EngineError::Config(format!("LLM judge: {e}")))?;
    Ok((Arc::new(judge), worst_case))
}

/// The outbox unless the Graph API is asked for.
/// Where the local templates live with `--messenger outbox` (see
/// [`LocalTemplateDirectory`]): edit a template's status there to approve it locally.
pub const LOCAL_TEMPLATES_FILE: &str = "templates.json";

/// What talks to Meta: the sender's messenger, the template directory, and the worst
/// case of one send.
type MetaPeers = (Arc<dyn Messenger>, Arc<dyn TemplateDirectory>, Duration);

/// The outbound side: with `graph`, Meta's Graph API sends and lists templates; otherwise
/// the outbox records sends and a file in the data directory stands in for Meta's template
/// catalogue.
fn meta_peers(config: &EngineConfig) -> Result<MetaPeers, EngineError> {
    if config.messenger != "graph" {
        let templates =
            LocalTemplateDirectory::new(Some(config.data_dir.join(LOCAL_TEMPLATES_FILE)));
        return Ok((Arc::new(Outbox::new()), Arc::new(templates), Duration::ZERO));
    }
    let settings = GraphConfig {
        base_url: config.graph_base_url.clone(),
        api_version: config.graph_api_version.clone(),
        timeout: Duration::from_millis(config.graph_timeout_ms),
        max_attempts: config.graph_max_attempts,
        initial_backoff: Duration::from_millis(config.graph_initial_backoff_ms),
        ..GraphConfig::default()
    };
    let worst_case = settings.worst_case();
    let client =
        GraphClient::new(settings).map_err(|e| EngineError::Config(format!("Graph API: {e}")))?;
    Ok((Arc::new(client.clone()), Arc::new(client), worst_case))
}

/// The data directory holds the store and local secrets: readable by this user only.
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(path)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

impl Engine {
    /// Opens the store, resolves tokens and binds the listener, with the system clock.
    pub async fn bind(config: &EngineConfig) -> Result<Self, EngineError> {
        Self::bind_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Engine::bind`], with a clock of the caller's (simulated time in scenarios).
    pub async fn bind_with_clock(
        config: &EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        let policy = WindowPolicy::new(config.window_margin_minutes)
            .map_err(|e| EngineError::Config(format!("window margin {}", e.message)))?;
        create_private_dir(&config.data_dir).map_err(data_dir_error(&config.data_dir))?;
        if config.ai_first_check_minutes == 0 || config.ai_first_check_minutes > 24 * 60 {
            return Err(EngineError::Config(
                "ai first check must be 1 to 1440 minutes".into(),
            ));
        }

        let (tokens, token_source) = match &config.api_tokens {
            Some(spec) => {
                let tokens = ApiTokens::parse(spec).map_err(EngineError::Config)?;
                if tokens.is_empty() {
                    return Err(EngineError::Config(
                        "FOLLOWUP_API_TOKENS has no entries".into(),
                    ));
                }
                (tokens, TokenSource::Configured)
            }
            None => {
                let (token, path) = local_secret(&config.data_dir, TOKEN_FILE)?;
                let mut tokens = ApiTokens::default();
                tokens.insert(&token, Grant::AllChatbots);
                (tokens, TokenSource::LocalFile(path))
            }
        };

        let webhook = WebhookSecrets {
            app_secret: Secret::new(match &config.meta_app_secret {
                Some(secret) => secret.clone(),
                None => local_secret(&config.data_dir, APP_SECRET_FILE)?.0,
            }),
            verify_token: Secret::new(match &config.meta_verify_token {
                Some(token) => token.clone(),
                None => local_secret(&config.data_dir, VERIFY_TOKEN_FILE)?.0,
            }),
        };

        let store_path = config.data_dir.join(STORE_FILE);
        let store =
            SqliteStore::open(&store_path).map_err(|e| EngineError::Store(e.to_string()))?;
        let scheduler = SqliteScheduler::new(&store);
        let (messenger, templates, send_worst_case) = meta_peers(config)?;
        let (judge, judge_worst_case) = judge(config)?;
        let budget = SendBudget {
            judge: judge_worst_case,
            send: send_worst_case,
        };
        budget
            .check_lease(config.claim_lease_seconds)
            .map_err(|e| EngineError::Config(format!("FOLLOWUP_CLAIM_LEASE_SECONDS: {e}")))?;
        let services = Arc::new(Services {
            store: Arc::new(store),
            scheduler: Arc::new(scheduler.clone()),
            judge,
            messenger,
            templates,
            clock: Arc::clone(&clock),
            policy,
            ai_first_check_minutes: config.ai_first_check_minutes,
            claim_lease_seconds: config.claim_lease_seconds,
            budget,
        });
        let state = AppState::new(AppDeps {
            services: Arc::clone(&services),
            tokens,
            webhook,
        });
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| EngineError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| EngineError::Listen {
                addr: config.listen,
                source,
            })?;
        Ok(Self {
            listener,
            router: followup_http::router(state),
            local_addr,
            token_source,
            store_path,
            scheduler,
            services,
            clock,
        })
    }

    /// Serves HTTP and runs the embedded scheduler until `shutdown` resolves, then
    /// finishes in-flight requests, stops the scheduler and returns.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_scheduler, scheduler_stopped) = tokio::sync::oneshot::channel::<()>();
        let handler = Arc::new(SendDue(Arc::clone(&self.services)));
        let scheduler = tokio::spawn(self.scheduler.run(self.clock, handler, async {
            let _ = scheduler_stopped.await;
        }));
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop_scheduler.send(());
        if scheduler.await.is_err() {
            tracing::error!("embedded scheduler task failed");
        }
        served
    }

    /// Serves HTTP only; the caller fires the scheduler (tests on a simulated clock).
    pub async fn serve_without_scheduler(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
