//! The scheduler contract on both families: the embedded SQLite scheduler, and
//! EventBridge Scheduler on moto (through the real aws-sdk clients; fails loudly without
//! FOLLOWUP_TEST_MOTO_URL).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use followup_aws::scheduler::{EventBridgeConfig, EventBridgeScheduler};
use followup_domain::Timestamp;
use followup_embedded::{SqliteScheduler, SqliteStore};
use followup_ports::{Clock, DueItem, FixedClock};
use followup_tests::moto::{sdk_config, unique_name};
use followup_tests::scheduler_contract::{Harness, PendingProbe};

const NOW: i64 = 1_795_500_000_000;

mod embedded {
    use super::*;

    struct SqliteProbe(SqliteScheduler);

    #[async_trait]
    impl PendingProbe for SqliteProbe {
        async fn pending(&self) -> Vec<DueItem> {
            let mut items = self.0.all_items().await.expect("items");
            items.sort_by_key(|i| i.key.schedule_name());
            items
        }
    }

    async fn harness() -> Harness {
        let store = SqliteStore::open_in_memory().expect("store");
        let scheduler = SqliteScheduler::new(&store);
        Harness {
            scheduler: Arc::new(scheduler.clone()),
            probe: Arc::new(SqliteProbe(scheduler)),
            later: Timestamp::from_millis(NOW).plus_minutes(120),
        }
    }

    followup_tests::scheduler_contract_tests!(harness());
}

mod eventbridge {
    use super::*;

    struct ScheduleGroupProbe {
        client: aws_sdk_scheduler::Client,
        group: String,
    }

    #[async_trait]
    impl PendingProbe for ScheduleGroupProbe {
        async fn pending(&self) -> Vec<DueItem> {
            let listed = self
                .client
                .list_schedules()
                .group_name(&self.group)
                .send()
                .await
                .expect("list schedules");
            let mut items = Vec::new();
            for summary in listed.schedules() {
                let name = summary.name().expect("name");
                let schedule = self
                    .client
                    .get_schedule()
                    .group_name(&self.group)
                    .name(name)
                    .send()
                    .await
                    .expect("get schedule");
                let input = schedule
                    .target()
                    .and_then(|t| t.input())
                    .expect("target input");
                items.push(serde_json::from_str::<DueItem>(input).expect("input is a due item"));
            }
            items.sort_by_key(|i| i.key.schedule_name());
            items
        }
    }

    async fn harness() -> Harness {
        let config = sdk_config().await;
        let client = aws_sdk_scheduler::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let group = unique_name("contract");
        client
            .create_schedule_group()
            .name(&group)
            .send()
            .await
            .expect("group");
        let queue_url = sqs
            .create_queue()
            .queue_name(unique_name("due"))
            .send()
            .await
            .expect("queue")
            .queue_url()
            .expect("url")
            .to_owned();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("attributes")
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("arn");
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(Timestamp::from_millis(NOW)));
        let scheduler = EventBridgeScheduler::new(
            EventBridgeConfig {
                group: group.clone(),
                target_queue_arn: queue_arn,
                target_queue_url: queue_url,
                role_arn: "arn:aws:iam::123456789012:role/followup-scheduler".into(),
                dead_letter_arn: "arn:aws:sqs:us-east-1:123456789012:followup-scheduler-dlq".into(),
            },
            client.clone(),
            sqs,
            clock,
        );
        Harness {
            scheduler: Arc::new(scheduler),
            probe: Arc::new(ScheduleGroupProbe { client, group }),
            later: Timestamp::from_millis(NOW).plus_minutes(120),
        }
    }

    followup_tests::scheduler_contract_tests!(harness());
}
