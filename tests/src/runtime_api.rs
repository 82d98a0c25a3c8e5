//! A local Lambda Runtime API: the three HTTP routes a function's runtime client polls
//! (`next`, `response`, `error`, plus `init/error`), so the real release binaries run here
//! exactly as on Lambda, one invocation at a time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

/// What came back for one invocation.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>;

struct RuntimeState {
    events: AsyncMutex<mpsc::Receiver<(String, Value)>>,
    waiters: Waiters,
    init_error: Mutex<Option<Value>>,
}

/// One Runtime API endpoint for one function process.
#[allow(missing_debug_implementations)] // holds channels and a mutex-guarded map only
pub struct RuntimeApi {
    pub addr: SocketAddr,
    sender: mpsc::Sender<(String, Value)>,
    waiters: Waiters,
    state: Arc<RuntimeState>,
    counter: Mutex<u64>,
}

async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    let Some((id, event)) = state.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        + 180_000;
    let mut headers = HeaderMap::new();
    let header = |v: &str| HeaderValue::from_str(v).expect("header value");
    headers.insert("lambda-runtime-aws-request-id", header(&id));
    headers.insert("lambda-runtime-deadline-ms", header(&deadline.to_string()));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header("arn:aws:lambda:us-east-1:123456789012:function:followup-test"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        header("Root=1-5759e988-bd862e3fe1be46a994272793"),
    );
    (headers, event.to_string()).into_response()
}

fn finish(waiters: &Waiters, id: &str, outcome: Outcome) -> StatusCode {
    if let Some(waiter) = waiters.lock().expect("lock").remove(id) {
        let _ = waiter.send(outcome);
    }
    StatusCode::ACCEPTED
}

async fn response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&state.waiters, &id, Outcome::Response(value))
}

async fn error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&state.waiters, &id, Outcome::Error(value))
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    *state.init_error.lock().expect("lock") = Some(value);
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::channel(16);
        let waiters: Waiters = Arc::default();
        let state = Arc::new(RuntimeState {
            events: AsyncMutex::new(receiver),
            waiters: Arc::clone(&waiters),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            sender,
            waiters,
            state,
            counter: Mutex::new(0),
        }
    }

    /// Hands `event` to the function and waits for its answer.
    pub async fn invoke(&self, event: Value) -> Outcome {
        let id = {
            let mut counter = self.counter.lock().expect("lock");
            *counter += 1;
            format!("req-{counter}")
        };
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().expect("lock").insert(id.clone(), tx);
        self.sender
            .send((id, event))
            .await
            .expect("runtime queue open");
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!(
                "the function did not answer within 30 s (init error: {:?})",
                self.state.init_error.lock().expect("lock")
            ),
        }
    }

    pub fn init_error(&self) -> Option<Value> {
        self.state.init_error.lock().expect("lock").clone()
    }
}

/// A release binary of the workspace, built by the test command before the tests run.
pub fn release_binary(name: &str) -> PathBuf {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release")).join(name);
    assert!(
        path.exists(),
        "{} is missing: build the Lambda functions first (tests/run.sh runs \
         `cargo build --release -p followup-webhook-fn -p followup-api-fn -p followup-sender-fn`)",
        path.display()
    );
    path
}

/// Starts a function binary against `runtime`, with the Lambda variables the runtime client
/// requires and the function's own environment.
pub fn spawn_function(
    binary: &str,
    runtime: &RuntimeApi,
    env: &[(String, String)],
) -> FunctionProcess {
    let mut command = Command::new(release_binary(binary));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", binary)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    FunctionProcess(command.spawn().expect("spawn the function binary"))
}

/// Kills the function process when the test ends.
#[derive(Debug)]
pub struct FunctionProcess(pub Child);

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
