//! The embedded scheduler (`SqliteScheduler`) with many pending follow-ups: N items due
//! within one window, scheduled through the scheduler port, then the store is closed and
//! reopened with all of them pending (a restart before anything is due), fired by the real
//! loop on the system clock into a counting handler, with a second restart in the middle
//! of the firing. Reports scheduling time, disk and memory per pending item, p50/p99
//! lateness, and that every item fired exactly once.
//!
//! `cargo run --release -p followup-bench --bin scheduler-bench -- --count 100000`

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use clap::Parser;
use followup_bench::{percentile, status_kib};
use followup_domain::{ChatbotId, ConversationId, FollowUpId, Platform, Timestamp};
use followup_embedded::{SqliteScheduler, SqliteStore};
use followup_ports::{DueHandler, DueItem, DueKey, Scheduler, SystemClock};

#[derive(Debug, Parser)]
struct Args {
    /// Pending follow-ups.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// They come due evenly spread over this many seconds.
    #[arg(long, default_value_t = 60)]
    window_secs: u64,
    /// Time from the start of scheduling to the first due item (scheduling must finish
    /// before, or lateness includes it).
    #[arg(long, default_value_t = 30)]
    lead_secs: u64,
    /// Directory for the SQLite file (default: a new one under the system temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Counts every firing per item and records how late it came.
#[derive(Debug)]
struct Counting {
    fired: Vec<AtomicU32>,
    total: AtomicUsize,
    lateness_us: Mutex<Vec<u64>>,
}

#[async_trait]
impl DueHandler for Counting {
    async fn on_due(&self, item: DueItem) -> Result<(), String> {
        let late = now_micros() - item.due_at.as_millis() * 1000;
        let index: usize = item
            .key
            .conversation_id
            .as_str()
            .rsplit(':')
            .next()
            .and_then(|customer| customer.strip_prefix("49"))
            .and_then(|n| n.parse().ok())
            .ok_or("not a bench item")?;
        self.fired
            .get(index)
            .ok_or("index out of range")?
            .fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        self.lateness_us
            .lock()
            .map_err(|_| "poisoned")?
            .push(u64::try_from(late.max(0)).unwrap_or(0));
        Ok(())
    }
}

fn item(index: usize, due_at: Timestamp) -> DueItem {
    DueItem {
        key: DueKey {
            chatbot_id: ChatbotId::parse("bench").expect("id"),
            conversation_id: ConversationId::new(
                Platform::Whatsapp,
                "106540352242922",
                &format!("49{index:09}"),
            )
            .expect("conversation id"),
            follow_up_id: FollowUpId::parse("fu-reminder-4h").expect("id"),
        },
        silence_period: 1,
        due_at,
        judge_attempts: 0,
    }
}

fn file_bytes(dir: &Path) -> u64 {
    ["followups.sqlite", "followups.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn start(path: &Path, handler: &Arc<Counting>) -> Running {
    let store = SqliteStore::open(path).expect("open the store");
    let scheduler = SqliteScheduler::new(&store);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handler: Arc<dyn DueHandler> = handler.clone();
    let task = tokio::spawn(scheduler.run(Arc::new(SystemClock), handler, async move {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

async fn stop(running: Running) {
    let _ = running.stop.send(());
    running.task.await.expect("scheduler loop");
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    assert!(
        args.count <= 1_000_000 && args.window_secs <= 600,
        "bounded runs only"
    );
    let temp = std::env::temp_dir().join(format!("followup-scheduler-bench-{}", now_micros()));
    let dir = args.dir.clone().unwrap_or(temp);
    std::fs::create_dir_all(&dir).expect("bench directory");
    let path = dir.join("followups.sqlite");
    let self_pid = "self";

    // 1. Schedule everything through the port, as the webhook's planning does.
    let rss_empty = {
        let store = SqliteStore::open(&path).expect("open the store");
        drop(store);
        status_kib(self_pid, "VmRSS").unwrap_or(0)
    };
    let disk_empty = file_bytes(&dir);
    let scheduling_started = Instant::now();
    let first_due_ms = now_micros() / 1000 + i64::try_from(args.lead_secs * 1000).unwrap_or(0);
    let window_ms = i64::try_from(args.window_secs * 1000).unwrap_or(60_000);
    let count = i64::try_from(args.count).unwrap_or(i64::MAX);
    let rss_pending;
    {
        let store = SqliteStore::open(&path).expect("open the store");
        let scheduler = SqliteScheduler::new(&store);
        for index in 0..args.count {
            let offset = i64::try_from(index).unwrap_or(0) * window_ms / count;
            scheduler
                .schedule(item(index, Timestamp::from_millis(first_due_ms + offset)))
                .await
                .expect("schedule");
        }
        rss_pending = status_kib(self_pid, "VmRSS").unwrap_or(0);
        // The store closes here: a restart with everything pending.
    }
    let scheduling = scheduling_started.elapsed();
    let disk_pending = file_bytes(&dir);
    let slack_ms = first_due_ms - now_micros() / 1000;
    println!(
        "scheduled {} items in {:.2} s ({:.1} µs each); first due {} ms after scheduling ended",
        args.count,
        scheduling.as_secs_f64(),
        scheduling.as_secs_f64() * 1e6 / args.count as f64,
        slack_ms
    );
    println!(
        "pending: SQLite file + WAL {:.1} MiB ({:.0} bytes per item); process RSS {:.1} → {:.1} MiB ({:.0} bytes per item, mostly SQLite's page cache)",
        (disk_pending - disk_empty) as f64 / 1_048_576.0,
        (disk_pending - disk_empty) as f64 / args.count as f64,
        rss_empty as f64 / 1024.0,
        rss_pending as f64 / 1024.0,
        (rss_pending.saturating_sub(rss_empty) * 1024) as f64 / args.count as f64
    );

    // 2. Restart: a fresh store on the same file, every item still pending.
    let handler = Arc::new(Counting {
        fired: (0..args.count).map(|_| AtomicU32::new(0)).collect(),
        total: AtomicUsize::new(0),
        lateness_us: Mutex::new(Vec::with_capacity(args.count)),
    });
    {
        let store = SqliteStore::open(&path).expect("reopen the store");
        let pending = SqliteScheduler::new(&store)
            .all_items()
            .await
            .expect("pending items")
            .len();
        println!("after the restart: {pending} pending");
        assert_eq!(pending, args.count, "items lost in the restart");
    }
    let running = start(&path, &handler);

    // 3. A second restart halfway through the window, while items are firing.
    let halfway = first_due_ms + window_ms / 2;
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(halfway - now_micros() / 1000).unwrap_or(0),
    ))
    .await;
    let restart_started = Instant::now();
    stop(running).await;
    let fired_before_restart = handler.total.load(Ordering::Relaxed);
    let running = start(&path, &handler);
    let restart = restart_started.elapsed();
    println!(
        "restart while firing: {fired_before_restart} fired before it, loop down for {:.1} ms",
        restart.as_secs_f64() * 1000.0
    );

    // 4. Wait for the rest (bounded: the window plus a minute).
    let give_up = Instant::now() + Duration::from_secs(args.window_secs + 60);
    while handler.total.load(Ordering::Relaxed) < args.count && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A little longer, so a double firing would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop(running).await;
    let rss_peak = status_kib(self_pid, "VmHWM").unwrap_or(0);

    let never = handler
        .fired
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) == 0)
        .count();
    let twice = handler
        .fired
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) > 1)
        .count();
    let left = {
        let store = SqliteStore::open(&path).expect("reopen the store");
        SqliteScheduler::new(&store)
            .all_items()
            .await
            .expect("pending items")
            .len()
    };
    let mut lateness = handler.lateness_us.lock().expect("lateness").clone();
    lateness.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "fired {} times for {} items: never fired {never}, fired more than once {twice}, still pending {left}",
        handler.total.load(Ordering::Relaxed),
        args.count
    );
    println!(
        "lateness (handler call − due time): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(percentile(&lateness, 50.0)),
        ms(percentile(&lateness, 99.0)),
        ms(percentile(&lateness, 99.9)),
        ms(lateness.last().copied().unwrap_or(0))
    );
    println!(
        "process peak RSS (VmHWM): {:.1} MiB",
        rss_peak as f64 / 1024.0
    );
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert_eq!(never, 0, "items lost");
    assert_eq!(twice, 0, "items fired twice");
    assert_eq!(left, 0, "items left pending");
}
