//! Every Redis-using component answers the first call after an outage (7.2).
//!
//! Each test runs its own `redis-server` ([`OwnedRedis`]), makes a call,
//! kills the server (a call fails), starts it again on the same port, and requires the very next call to succeed. Before the
//! fix that call got the stale "Connection refused" of the reconnection tried
//! during the outage.

use std::future::Future;
use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_storage::ratelimit::{Quotas, RateLimiter, RedisLimiter, RedisLimiterOptions, RouteClass};
use agentdeck_storage::testing::OwnedRedis;
use agentdeck_storage::tickets::{RedisTicketStore, TicketGrant, TicketStore};
use agentdeck_storage::{RedisStateStore, RoomKey, StateOptions, StateStore};
use anyhow::{Context, ensure};
use uuid::Uuid;

/// How long the outage lasts (on the paused clock): longer than any reconnection keeps trying.
const LONG_OUTAGE: Duration = Duration::from_secs(120);

/// Call, outage (the call fails), Redis back: the first call succeeds.
async fn first_call_after_an_outage_succeeds<F, Fut>(redis: &mut OwnedRedis, call: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    call().await.context("the call before the outage")?;
    redis.stop();
    ensure!(call().await.is_err(), "a call during the outage fails");
    // A long outage, on a paused clock: the reconnection that call started
    // runs through its backoff and gives up, as it would in minutes of real time.
    tokio::time::pause();
    tokio::time::sleep(LONG_OUTAGE).await;
    tokio::time::resume();
    redis.restart()?;
    call().await.context("the first call after Redis is back")?;
    call().await.context("the second call after Redis is back")
}

#[tokio::test]
async fn state_store_answers_the_first_call_after_an_outage() -> anyhow::Result<()> {
    let mut redis = OwnedRedis::start()?;
    let store = RedisStateStore::connect(&redis.url(), StateOptions::default()).await?;
    let room = RoomKey::new(Uuid::new_v4(), "user-1");
    // `load` is a pipeline (MULTI … EXEC); `ping` a single command.
    first_call_after_an_outage_succeeds(&mut redis, || async {
        store.load(&room).await?;
        Ok(store.ping().await?)
    })
    .await
}

#[tokio::test]
async fn ticket_store_answers_the_first_call_after_an_outage() -> anyhow::Result<()> {
    let mut redis = OwnedRedis::start()?;
    let tickets = RedisTicketStore::connect(&redis.url(), Duration::from_secs(2)).await?;
    let principal = Principal { subject: "ada".into(), workspace_id: Uuid::new_v4(), role: Role::Member };
    first_call_after_an_outage_succeeds(&mut redis, || async {
        tickets.issue(&TicketGrant { principal: principal.clone(), credential: None }, Duration::from_secs(30)).await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn rate_limiter_answers_the_first_call_after_an_outage() -> anyhow::Result<()> {
    let mut redis = OwnedRedis::start()?;
    // No cooldown, so the circuit never skips the call under test.
    let options =
        RedisLimiterOptions { prefix: "rl".into(), timeout: Duration::from_secs(2), cooldown: Duration::ZERO };
    let limiter = RedisLimiter::new(&redis.url(), Quotas::default(), options)?;
    first_call_after_an_outage_succeeds(&mut redis, || async {
        limiter.check(RouteClass::A2a, "ws:one").await?;
        Ok(())
    })
    .await
}
