//! Runs the real local engine (router, SQLite file, real TCP) in-process for tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use followup_engine::{Engine, EngineConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Token that may manage every chatbot.
pub const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";
/// Token that may manage only `clinic` and `shop`.
pub const CLINIC_TOKEN: &str = "clinic-token-0123456789abcdef";
/// Token that may manage only `other-bot`.
pub const OTHER_TOKEN: &str = "other-token-0123456789abcdef";

#[derive(Debug)]
pub struct RunningEngine {
    pub base: String,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    pub http: reqwest::Client,
}

pub fn config(data_dir: &Path) -> EngineConfig {
    EngineConfig {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        data_dir: data_dir.to_owned(),
        api_tokens: Some(format!(
            "{ADMIN_TOKEN}=*;{CLINIC_TOKEN}=clinic,shop;{OTHER_TOKEN}=other-bot"
        )),
        window_margin_minutes: 15,
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
        let addr = engine.local_addr;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(engine.serve(async {
            let _ = rx.await;
        }));
        Self {
            base: format!("http://{addr}"),
            addr,
            data_dir: config.data_dir,
            shutdown: Some(tx),
            task: Some(task),
            http: reqwest::Client::new(),
        }
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
