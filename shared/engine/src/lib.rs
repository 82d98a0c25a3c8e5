//! The local engine: the follow-up service on one machine, with the embedded adapters.
//! `followup-local` (src/main.rs) is a thin wrapper around [`Engine`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use followup_domain::WindowPolicy;
use followup_embedded::SqliteStore;
use followup_http::{ApiTokens, AppDeps, AppState, Grant};
use followup_ports::{Clock, SystemClock};
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
}

const TOKEN_FILE: &str = "local-api-token";
const STORE_FILE: &str = "followups.sqlite";

fn data_dir_error(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Reads the local token, or creates one: 32 random bytes, hex, readable by the owner only.
fn local_token(data_dir: &Path) -> Result<(String, PathBuf), EngineError> {
    let path = data_dir.join(TOKEN_FILE);
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
        std::fs::create_dir_all(&config.data_dir).map_err(data_dir_error(&config.data_dir))?;

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
                let (token, path) = local_token(&config.data_dir)?;
                let mut tokens = ApiTokens::default();
                tokens.insert(&token, Grant::AllChatbots);
                (tokens, TokenSource::LocalFile(path))
            }
        };

        let store_path = config.data_dir.join(STORE_FILE);
        let store =
            SqliteStore::open(&store_path).map_err(|e| EngineError::Store(e.to_string()))?;
        let state = AppState::new(AppDeps {
            store: Arc::new(store),
            clock,
            policy,
            tokens,
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
        })
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and returns.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
