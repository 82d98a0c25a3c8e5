//! Lambda function start: process spawn → the runtime client's first
//! `GET /2018-06-01/runtime/invocation/next` on a local Runtime API (this binary), over
//! several runs per function binary. Init reads the deployment's secrets from SSM first, so
//! `AWS_ENDPOINT_URL` must point at an emulator holding them (`bench/run-lambda-start.sh`
//! starts moto and puts them), or use `--probe` to stop at the first AWS request instead
//! (the process's own start-up work, without the SSM round trip).
//!
//! `bench/run-lambda-start.sh`

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use followup_bench::percentile;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Parser)]
struct Args {
    /// Function binaries to start.
    #[arg(long = "binary", required = true)]
    binaries: Vec<PathBuf>,
    /// Starts per binary.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// The AWS endpoint (moto) holding the SSM parameters under `--secrets-prefix`.
    #[arg(long)]
    aws_endpoint: Option<String>,
    #[arg(long, default_value = "/followup/bench/")]
    secrets_prefix: String,
    /// Point the AWS endpoint at a local listener and stop at the first AWS request.
    #[arg(long)]
    probe: bool,
}

/// Accepts one connection on `listener` and reads its request head; answers nothing (the
/// caller keeps the connection open until the process is killed).
async fn first_request_line(listener: &TcpListener) -> (Instant, String, TcpStream) {
    let (mut socket, _) = listener.accept().await.expect("accept");
    let mut head = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let at = Instant::now();
    let line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (at, line, socket)
}

async fn one_start(args: &Args, binary: &PathBuf) -> Result<Duration, String> {
    let runtime = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let probe = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = if args.probe {
        format!("http://{}", probe.local_addr().expect("addr"))
    } else {
        args.aws_endpoint
            .clone()
            .ok_or("--aws-endpoint or --probe is required")?
    };
    let name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            runtime.local_addr().expect("addr").to_string(),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("RUST_LOG", "info")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("FOLLOWUP_TABLE", "followups-bench")
        .env("FOLLOWUP_SCHEDULE_GROUP", "followups-bench")
        .env(
            "FOLLOWUP_DUE_QUEUE_ARN",
            "arn:aws:sqs:us-east-1:123456789012:followups-bench-due",
        )
        .env(
            "FOLLOWUP_DUE_QUEUE_URL",
            "http://127.0.0.1:1/123456789012/followups-bench-due",
        )
        .env(
            "FOLLOWUP_SCHEDULER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/followup-scheduler",
        )
        .env(
            "FOLLOWUP_SCHEDULER_DLQ_ARN",
            "arn:aws:sqs:us-east-1:123456789012:followups-bench-dlq",
        )
        .env("FOLLOWUP_SECRETS_PREFIX", &args.secrets_prefix)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("{name}: {e}"))?;
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        if args.probe {
            first_request_line(&probe).await
        } else {
            first_request_line(&runtime).await
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let (at, line, _connection) = waited.map_err(|_| format!("{name}: no request within 10 s"))?;
    if !args.probe && !line.contains("/runtime/invocation/next") {
        return Err(format!("{name}: first request was `{line}` (init failed?)"));
    }
    Ok(at.duration_since(started))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    assert!(args.runs <= 200, "bounded runs only");
    println!(
        "| binary | runs | p50 ms | p90 ms | min ms | max ms | until |\n|---|---|---|---|---|---|---|"
    );
    for binary in &args.binaries {
        let mut micros = Vec::new();
        for _ in 0..args.runs {
            match one_start(&args, binary).await {
                Ok(took) => micros.push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX)),
                Err(error) => panic!("{error}"),
            }
        }
        micros.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            binary.file_name().unwrap_or_default().to_string_lossy(),
            micros.len(),
            ms(percentile(&micros, 50.0)),
            ms(percentile(&micros, 90.0)),
            ms(micros.first().copied().unwrap_or(0)),
            ms(micros.last().copied().unwrap_or(0)),
            if args.probe {
                "first AWS request (SSM)"
            } else {
                "first /next poll"
            }
        );
    }
}
