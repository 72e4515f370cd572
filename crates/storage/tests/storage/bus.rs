//! The bus on Redis: two nodes (two [`RedisBus`]es) on one server hear each
//! other in publication order, a subscriber is told when it (re)subscribed and
//! when it fell behind, and one that is dropped stops listening.

use std::process::Command;
use std::time::Duration;

use agentdeck_storage::testing::{OwnedRedis, redis_url};
use agentdeck_storage::{Bus, BusMessage, BusSubscription, RedisBus};
use anyhow::{Context, ensure};
use uuid::Uuid;

/// Longest wait for one message.
const WAIT: Duration = Duration::from_secs(10);

async fn next(subscription: &mut BusSubscription) -> anyhow::Result<BusMessage> {
    tokio::time::timeout(WAIT, subscription.next()).await.context("no message in time")?.context("the bus stopped")
}

/// Waits until the subscription is active (its first signal).
async fn active(subscription: &mut BusSubscription) -> anyhow::Result<()> {
    let first = next(subscription).await?;
    ensure!(first == BusMessage::Resubscribed, "the first signal says the subscription is active: {first:?}");
    Ok(())
}

#[tokio::test]
async fn a_message_published_on_one_node_reaches_the_subscribers_of_every_node_in_order() -> anyhow::Result<()> {
    let url = redis_url();
    let (node_a, node_b) = (RedisBus::start(&url)?, RedisBus::start(&url)?);
    let channel = format!("test:{}", Uuid::new_v4());
    let mut on_a = node_a.subscribe(&channel);
    let mut on_b = node_b.subscribe(&channel);
    let mut elsewhere = node_b.subscribe(&format!("test:{}", Uuid::new_v4()));
    active(&mut on_a).await?;
    active(&mut on_b).await?;
    active(&mut elsewhere).await?;
    node_b.ping().await?;

    for n in 0..100 {
        node_a.publish(&channel, n.to_string());
    }
    for subscription in [&mut on_a, &mut on_b] {
        for n in 0..100 {
            ensure!(next(subscription).await? == BusMessage::Message(n.to_string()), "message {n} in order");
        }
    }
    ensure!(
        tokio::time::timeout(Duration::from_millis(200), elsewhere.next()).await.is_err(),
        "another channel hears nothing"
    );
    Ok(())
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_it_missed_messages() -> anyhow::Result<()> {
    let url = redis_url();
    let bus = RedisBus::start(&url)?;
    let channel = format!("test:{}", Uuid::new_v4());
    let mut slow = bus.subscribe(&channel);
    active(&mut slow).await?;
    let count = agentdeck_storage::bus::SUBSCRIPTION_CAPACITY + 50;
    for n in 0..count {
        bus.publish(&channel, n.to_string());
    }
    // A second subscriber on the same node sees the last message once everything was delivered.
    let mut probe = bus.subscribe(&channel);
    active(&mut probe).await?;
    bus.publish(&channel, "last".into());
    while next(&mut probe).await? != BusMessage::Message("last".into()) {}
    // The slow one first hears that it missed some, then what its queue kept, in order.
    ensure!(next(&mut slow).await? == BusMessage::Missed, "the overflow is reported first");
    for n in 0..agentdeck_storage::bus::SUBSCRIPTION_CAPACITY {
        ensure!(next(&mut slow).await? == BusMessage::Message(n.to_string()), "kept message {n}");
    }
    Ok(())
}

#[tokio::test]
async fn a_node_that_lost_its_connection_resubscribes_and_says_so() -> anyhow::Result<()> {
    let redis = OwnedRedis::start()?;
    let (node_a, node_b) = (RedisBus::start(&redis.url())?, RedisBus::start(&redis.url())?);
    let channel = format!("test:{}", Uuid::new_v4());
    let mut on_b = node_b.subscribe(&channel);
    active(&mut on_b).await?;
    // Redis drops the pub/sub connection (as it does to a slow subscriber).
    let killed = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "CLIENT", "KILL", "TYPE", "pubsub"])
        .output()?;
    ensure!(killed.status.success(), "{}", String::from_utf8_lossy(&killed.stderr));
    ensure!(next(&mut on_b).await? == BusMessage::Resubscribed, "the listener is told to catch up");
    node_a.publish(&channel, "after".into());
    ensure!(next(&mut on_b).await? == BusMessage::Message("after".into()), "and hears what follows");
    Ok(())
}

#[tokio::test]
async fn a_dropped_subscription_stops_listening() -> anyhow::Result<()> {
    let url = redis_url();
    let bus = RedisBus::start(&url)?;
    let channel = format!("test:{}", Uuid::new_v4());
    let mut first = bus.subscribe(&channel);
    active(&mut first).await?;
    drop(first);
    let mut second = bus.subscribe(&channel);
    active(&mut second).await?;
    bus.publish(&channel, "one".into());
    ensure!(next(&mut second).await? == BusMessage::Message("one".into()), "the remaining listener still hears");
    Ok(())
}

#[tokio::test]
async fn after_a_redis_restart_both_publishing_and_listening_work_again() -> anyhow::Result<()> {
    let mut redis = OwnedRedis::start()?;
    let (node_a, node_b) = (RedisBus::start(&redis.url())?, RedisBus::start(&redis.url())?);
    let channel = format!("test:{}", Uuid::new_v4());
    let mut on_b = node_b.subscribe(&channel);
    active(&mut on_b).await?;
    node_a.publish(&channel, "before".into());
    ensure!(next(&mut on_b).await? == BusMessage::Message("before".into()));

    redis.stop();
    node_a.publish(&channel, "during".into());
    // The subscriber notices the closed connection (or its next ping fails) and says so.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while node_b.ping().await.is_ok() {
        ensure!(tokio::time::Instant::now() < deadline, "the bus still says it is connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.restart()?;
    // The listener is told to catch up (what was published meanwhile is gone), then hears again.
    ensure!(next(&mut on_b).await? == BusMessage::Resubscribed, "told to catch up after the outage");
    node_b.ping().await?;
    node_a.publish(&channel, "after".into());
    ensure!(next(&mut on_b).await? == BusMessage::Message("after".into()), "the publisher reconnected");
    Ok(())
}
