//! `followup-local`: the follow-up service on this machine.

use clap::Parser;
use followup_engine::{Engine, EngineConfig, TokenSource};
use tracing_subscriber::EnvFilter;

fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = EngineConfig::parse();
    init_logging(&config.log_format);
    let engine = match Engine::bind(&config).await {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("followup-local: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let base = format!("http://{}", engine.local_addr);
    println!("Follow-up service listening on {base}");
    println!("  store:    {}", engine.store_path.display());
    println!("  API docs: {base}/v1/openapi.json");
    match &engine.token_source {
        TokenSource::LocalFile(path) => {
            println!(
                "  auth:     a token for all chatbots is in {}",
                path.display()
            );
            println!(
                "            curl -H \"Authorization: Bearer $(cat {})\" {base}/v1/chatbots/demo/follow-ups",
                path.display()
            );
        }
        TokenSource::Configured => {
            println!("  auth:     the tokens configured in FOLLOWUP_API_TOKENS / --api-tokens");
        }
    }
    println!("Press Ctrl-C to stop.");
    match engine.serve(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped cleanly");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
