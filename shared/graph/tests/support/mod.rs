//! A small fake Graph API on 127.0.0.1 for the integration tests: it answers from a script
//! and records every request it reads.

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;

/// How the fake answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Json {
        status: u16,
        body: Value,
        retry_after: Option<&'static str>,
    },
    /// A body sent byte for byte, with a content type.
    Text {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Reads the request, then never answers.
    Hang,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self::Json {
            status,
            body,
            retry_after: None,
        }
    }

    pub fn text(status: u16, content_type: &'static str, body: impl Into<String>) -> Self {
        Self::Text {
            status,
            content_type,
            body: body.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
    // Only graph_api.rs times the gaps between retries; templates_api.rs would warn without this.
    #[allow(dead_code)]
    pub at: Instant,
}

impl Recorded {
    // Only templates_api.rs reads query parameters; graph_api.rs would warn without this.
    #[allow(dead_code)]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Clone, Default)]
struct FakeState {
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Answers in order; the last one repeats.
    script: Arc<Mutex<VecDeque<Reply>>>,
}

#[derive(Debug)]
pub struct FakeGraph {
    addr: SocketAddr,
    state: FakeState,
}

impl FakeGraph {
    pub async fn start(replies: Vec<Reply>) -> Self {
        assert!(!replies.is_empty(), "the fake needs at least one reply");
        let state = FakeState {
            requests: Arc::default(),
            script: Arc::new(Mutex::new(replies.into())),
        };
        let app = Router::new().fallback(answer).with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("requests").clone()
    }
}

async fn answer(
    State(state): State<FakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let query = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|Query(pairs)| pairs)
        .unwrap_or_default();
    state.requests.lock().expect("requests").push(Recorded {
        method,
        path: uri.path().to_owned(),
        query,
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    });
    let reply = {
        let mut script = state.script.lock().expect("script");
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    };
    match reply.expect("a scripted reply") {
        Reply::Json {
            status,
            body,
            retry_after,
        } => {
            let mut response = (status_code(status), axum::Json(body)).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static(seconds));
            }
            response
        }
        Reply::Text {
            status,
            content_type,
            body,
        } => (status_code(status), [("content-type", content_type)], body).into_response(),
        Reply::Hang => std::future::pending::<Response>().await,
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).expect("valid status")
}

/// Collects what the crate logs, on this thread, while the guard lives.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}
