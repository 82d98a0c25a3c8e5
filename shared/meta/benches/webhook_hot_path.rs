//! The webhook's CPU work per delivery, without I/O: `X-Hub-Signature-256` check, parsing,
//! and building what `followup-app` hands the store for each customer message
//! (`ConversationId` + `InboundMessage`), for every platform's payload.
//!
//! `cargo bench -p followup-meta --bench webhook_hot_path`
//!
//! The fixtures are the real-shaped bodies in `tests/fixtures/meta`, signed as they are on
//! disk. Throughput is reported per event (one customer message, echo or status), so a
//! batched body's time is divided by its events.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use followup_domain::{ConversationId, Timestamp};
use followup_meta::{InboundEvent, MessageKind, parse_webhook, sign, verify_signature};
use followup_ports::InboundMessage;

const APP_SECRET: &[u8] = b"6d1f2c9a0b7e4f3aa1c2d3e4f5a6b7c8";

/// Per platform: one customer text, one batched body, and a non-message event.
const FIXTURES: &[&str] = &[
    "whatsapp-text",
    "whatsapp-batched",
    "whatsapp-status-delivered",
    "messenger-text",
    "messenger-batched",
    "messenger-delivery",
    "instagram-text",
    "instagram-batched",
    "instagram-story-reply",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/meta")
        .join(format!("{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The same mapping as `followup-app`'s ingest (private there): the store's `kind` column.
fn kind_name(kind: &MessageKind) -> String {
    match kind {
        MessageKind::Text => "text".to_owned(),
        MessageKind::Media => "media".to_owned(),
        MessageKind::Location => "location".to_owned(),
        MessageKind::Interactive => "interactive".to_owned(),
        MessageKind::QuickReply => "quick_reply".to_owned(),
        MessageKind::Postback => "postback".to_owned(),
        MessageKind::Reaction => "reaction".to_owned(),
        MessageKind::StoryReply => "story_reply".to_owned(),
        MessageKind::Other(other) => {
            format!("other:{}", other.chars().take(40).collect::<String>())
        }
    }
}

/// Verify, parse, and build the store write input of every customer message: what the
/// webhook does before its first store call. Returns the inputs so nothing is optimised out.
fn hot_path(body: &[u8], header: &str) -> Vec<(ConversationId, InboundMessage)> {
    verify_signature(APP_SECRET, body, Some(header)).expect("signature verifies");
    let events = parse_webhook(body).expect("a Meta webhook");
    let received_at = Timestamp::from_millis(1_763_971_200_000);
    let mut writes = Vec::with_capacity(events.len());
    for event in events {
        if let InboundEvent::CustomerMessage(message) = event {
            let Ok(conversation) = ConversationId::new(
                message.platform,
                &message.business_account_id,
                &message.customer_id,
            ) else {
                continue;
            };
            writes.push((
                conversation,
                InboundMessage {
                    kind: kind_name(&message.kind),
                    message_id: message.message_id,
                    sent_at: message.sent_at,
                    received_at,
                    text: message.text,
                    profile_name: message.profile_name,
                },
            ));
        }
    }
    writes
}

fn bench(c: &mut Criterion) {
    for name in FIXTURES {
        let body = fixture(name);
        let header = sign(APP_SECRET, &body);
        let events = parse_webhook(&body).expect("a Meta webhook").len();
        let events = u64::try_from(events.max(1)).unwrap_or(1);

        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Elements(events));
        group.bench_function("verify+parse+write_input", |b| {
            b.iter(|| hot_path(black_box(&body), black_box(&header)));
        });
        group.bench_function("verify", |b| {
            b.iter(|| verify_signature(APP_SECRET, black_box(&body), Some(black_box(&header))));
        });
        group.bench_function("parse", |b| {
            b.iter(|| parse_webhook(black_box(&body)));
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
