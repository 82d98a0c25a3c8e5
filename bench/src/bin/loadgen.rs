//! Load on a running local engine (`followup-local`), over loopback only: signed WhatsApp
//! webhook POSTs and, in the same run, the no-op `GET /v1/health`. Reports requests/s,
//! p50/p99 latency, the server's CPU per request (from `/proc/<pid>/stat`) and peak RSS,
//! then reads every conversation's log back through the API and checks that each
//! webhook answered 200 was recorded: none lost.
//!
//! `bench/run-loadgen.sh` starts a fresh engine and runs this; see BENCHMARKS.md.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use followup_bench::{cpu_time, percentile, status_kib};
use serde_json::{Value, json};

#[derive(Debug, Parser)]
struct Args {
    /// The engine's base URL; must be loopback.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// The engine's data directory (API token and Meta app secret files).
    #[arg(long, default_value = ".followup-data")]
    data_dir: PathBuf,
    /// The engine's process id, for CPU time and RSS.
    #[arg(long)]
    pid: u32,
    /// Length of each measured phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Upper bound on requests per phase.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: usize,
    /// Concurrent connections (each sends its next request when the last one answered).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Customers the webhook messages are spread over, round robin (each message after a
    /// customer's first is a reply: its follow-ups are rescheduled; a message in the same
    /// second as the customer's previous one starts no new silence period).
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
}

const CHATBOT: &str = "bench";
const ACCOUNT: &str = "106540352242922";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Health,
    Webhook,
}

#[derive(Debug)]
struct Phase {
    name: &'static str,
    ok: usize,
    failed: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
    server_cpu: Duration,
    client_cpu: Duration,
    rss_kib: u64,
    /// Request numbers answered 200 (webhook phases).
    accepted: Vec<usize>,
}

impl Phase {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn row(&self) -> String {
        let per_request = |cpu: Duration| {
            if self.ok == 0 {
                0.0
            } else {
                cpu.as_secs_f64() * 1e6 / self.ok as f64
            }
        };
        format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} |",
            self.name,
            self.ok,
            self.failed,
            self.rps(),
            percentile(&self.latencies_us, 50.0) as f64 / 1000.0,
            percentile(&self.latencies_us, 99.0) as f64 / 1000.0,
            self.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0,
            per_request(self.server_cpu),
            per_request(self.client_cpu),
            self.rss_kib as f64 / 1024.0,
        )
    }
}

fn read_secret(args: &Args, file: &str) -> String {
    let path = args.data_dir.join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

fn customer(n: usize, conversations: usize) -> String {
    format!("4915{:09}", n % conversations)
}

fn webhook_body(run: u128, n: usize, conversations: usize) -> String {
    let customer = customer(n, conversations);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"{ACCOUNT}"}},"contacts":[{{"profile":{{"name":"Bench Customer"}},"wa_id":"{customer}"}}],"messages":[{{"from":"{customer}","id":"wamid.bench{run}x{n}","timestamp":"{now}","type":"text","text":{{"body":"Is there a free slot on Tuesday at 10?"}}}}]}}}}]}}]}}"#
    )
}

struct Load {
    client: reqwest::Client,
    base_url: String,
    app_secret: String,
    run: u128,
    conversations: usize,
}

async fn one_request(load: &Load, route: Route, n: usize) -> bool {
    let response = match route {
        Route::Health => {
            load.client
                .get(format!("{}/v1/health", load.base_url))
                .send()
                .await
        }
        Route::Webhook => {
            let body = webhook_body(load.run, n, load.conversations);
            let signature = followup_meta::sign(load.app_secret.as_bytes(), body.as_bytes());
            load.client
                .post(format!("{}/v1/webhooks/meta", load.base_url))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await
        }
    };
    match response {
        Ok(response) => {
            let ok = response.status().is_success();
            // Read the body so the connection is reused.
            let _ = response.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

async fn phase(
    name: &'static str,
    load: &Arc<Load>,
    route: Route,
    args: &Args,
    seconds: u64,
) -> Phase {
    let pid = args.pid.to_string();
    let issued = Arc::new(AtomicUsize::new(0));
    let server_before = cpu_time(&pid).expect("server process");
    let client_before = cpu_time("self").unwrap_or_default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let load = Arc::clone(load);
        let issued = Arc::clone(&issued);
        let max = args.max_requests;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut accepted = Vec::new();
            let mut failed = 0;
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= max || Instant::now() >= deadline {
                    break;
                }
                let n = i;
                let sent = Instant::now();
                let ok = one_request(&load, route, n).await;
                let took = sent.elapsed();
                if ok {
                    latencies.push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                    accepted.push(n);
                } else {
                    failed += 1;
                }
            }
            (latencies, accepted, failed)
        }));
    }
    let mut result = Phase {
        name,
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        server_cpu: Duration::ZERO,
        client_cpu: Duration::ZERO,
        rss_kib: 0,
        accepted: Vec::new(),
    };
    for worker in workers {
        let (latencies, accepted, failed) = worker.await.expect("worker");
        result.latencies_us.extend(latencies);
        result.accepted.extend(accepted);
        result.failed += failed;
    }
    result.elapsed = started.elapsed();
    result.server_cpu = cpu_time(&pid)
        .expect("server process")
        .saturating_sub(server_before);
    result.client_cpu = cpu_time("self")
        .unwrap_or_default()
        .saturating_sub(client_before);
    result.rss_kib = status_kib(&pid, "VmRSS").unwrap_or(0);
    result.ok = result.latencies_us.len();
    result.latencies_us.sort_unstable();
    result
}

async fn setup(client: &reqwest::Client, base_url: &str, token: &str) {
    let integration = client
        .put(format!(
            "{base_url}/v1/chatbots/{CHATBOT}/integrations/whatsapp/{ACCOUNT}"
        ))
        .bearer_auth(token)
        .json(&json!({"access_token": "EAAG-bench-token"}))
        .send()
        .await
        .expect("connect the account");
    assert!(
        integration.status().is_success(),
        "connect the account: {}",
        integration.status()
    );
    for (name, hours) in [("Reminder - 4 hours", 4), ("Check-in - 20 hours", 20)] {
        let created = client
            .post(format!("{base_url}/v1/chatbots/{CHATBOT}/follow-ups"))
            .bearer_auth(token)
            .json(&json!({
                "name": name,
                "color": "blue",
                "delay": {"mode": "manual", "hours": hours},
                "description": "The customer asked about a slot but did not book.",
                "stop_trigger": "The customer booked, cancelled or is no longer interested.",
                "message": {"mode": "custom", "text": "Shall I book Tuesday 10:00 for you?"}
            }))
            .send()
            .await
            .expect("create a follow-up");
        // 409: a previous run on the same data directory already created them.
        assert!(
            created.status().is_success() || created.status().as_u16() == 409,
            "create a follow-up: {}",
            created.status()
        );
    }
}

/// Every `customer_message` id in the logs of the bench conversations, through the API.
async fn recorded_message_ids(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    conversations: usize,
) -> HashSet<String> {
    let mut ids = HashSet::new();
    for c in 0..conversations {
        let conversation = format!("whatsapp:{ACCOUNT}:{}", customer(c, conversations));
        let mut before: Option<u64> = None;
        loop {
            let mut url = format!(
                "{base_url}/v1/chatbots/{CHATBOT}/conversations/{conversation}/log?limit=200"
            );
            if let Some(before) = before {
                url.push_str(&format!("&before={before}"));
            }
            let response = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("read the log");
            if response.status().as_u16() == 404 {
                break;
            }
            let page: Value = response.json().await.expect("log page");
            for entry in page["entries"].as_array().into_iter().flatten() {
                if entry["kind"] == "customer_message"
                    && let Some(id) = entry["message_id"].as_str()
                {
                    ids.insert(id.to_owned());
                }
            }
            match page["next_before"].as_u64() {
                Some(next) => before = Some(next),
                None => break,
            }
        }
    }
    ids
}

fn main() {
    let args = Args::parse();
    let url = reqwest::Url::parse(&args.base_url).expect("base URL");
    assert!(
        matches!(
            url.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        ),
        "loopback only: {}",
        args.base_url
    );
    assert!(
        args.seconds <= 120 && args.connections <= 64,
        "bounded runs only"
    );
    // The load generator gets one thread; the engine has the rest of the machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let token = read_secret(&args, "local-api-token");
    let app_secret = read_secret(&args, "local-meta-app-secret");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let base_url = args.base_url.trim_end_matches('/').to_owned();
    setup(&client, &base_url, &token).await;
    let load = Arc::new(Load {
        client: client.clone(),
        base_url: base_url.clone(),
        app_secret,
        run: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        conversations: args.conversations.max(1),
    });

    // Warm-up (connections, caches, the store's first pages); not reported.
    let _ = phase("warm-up", &load, Route::Health, &args, 1).await;

    let health_before = phase("GET /v1/health", &load, Route::Health, &args, args.seconds).await;
    let webhook = phase(
        "POST /v1/webhooks/meta",
        &load,
        Route::Webhook,
        &args,
        args.seconds,
    )
    .await;
    let health_after = phase(
        "GET /v1/health (again)",
        &load,
        Route::Health,
        &args,
        args.seconds,
    )
    .await;

    let pid = args.pid.to_string();
    let peak_rss = status_kib(&pid, "VmHWM").unwrap_or(0);
    println!(
        "connections: {}, phase length: {} s, conversations: {}",
        args.connections, args.seconds, args.conversations
    );
    println!();
    println!(
        "| phase | ok | failed | req/s | p50 ms | p99 ms | max ms | server CPU µs/req | load generator CPU µs/req | server RSS after, MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for phase in [&health_before, &webhook, &health_after] {
        println!("{}", phase.row());
    }
    let health_rps = (health_before.rps() + health_after.rps()) / 2.0;
    println!();
    println!(
        "ratio webhook/no-op (req/s, against the mean of both health phases): {:.3}",
        webhook.rps() / health_rps
    );
    println!(
        "server peak RSS (VmHWM): {:.1} MiB",
        peak_rss as f64 / 1024.0
    );

    let recorded = recorded_message_ids(&client, &base_url, &token, load.conversations).await;
    let expected: HashSet<String> = webhook
        .accepted
        .iter()
        .map(|n| format!("wamid.bench{}x{n}", load.run))
        .collect();
    let lost = expected.difference(&recorded).count();
    let ours = recorded
        .iter()
        .filter(|id| id.starts_with(&format!("wamid.bench{}x", load.run)))
        .count();
    println!(
        "webhooks answered 200: {}, customer messages recorded (read back through the API): {}, lost: {}",
        expected.len(),
        ours,
        lost
    );
    assert_eq!(lost, 0, "webhooks answered 200 but not recorded");
}
