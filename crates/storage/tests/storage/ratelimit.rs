//! The rate limiters of `agentdeck_storage::ratelimit`: the Redis GCRA script's
//! decisions shared by two nodes, and failing open fast when Redis does not
//! answer (paused time: the decision takes the short timeout, then the
//! circuit skips Redis without waiting at all).

use std::time::Duration;

use agentdeck_storage::ratelimit::{LimiterError, Quotas, RateLimiter, RedisLimiter, RedisLimiterOptions, RouteClass};
use agentdeck_storage::testing::redis_url;
use anyhow::{Context, ensure};
use tokio::net::TcpListener;
use tokio::time::Instant;
use uuid::Uuid;

/// 100 A2A calls an hour: no slot comes back during a test (one every 36 s), so
/// the 101st call is refused however slowly a loaded machine makes the 100.
const QUOTAS: Quotas = Quotas { a2a: 100, discovery: 30, health: 300, sign_in: 20, window: Duration::from_secs(3600) };

fn options(timeout: Duration, cooldown: Duration) -> RedisLimiterOptions {
    RedisLimiterOptions { prefix: format!("agentdeck-test-rl-{}", Uuid::new_v4().simple()), timeout, cooldown }
}

#[tokio::test]
async fn two_nodes_share_one_limit_and_the_headers_add_up() -> anyhow::Result<()> {
    // A generous timeout: parallel tests share two cores, and this test is about the script.
    let shared = options(Duration::from_secs(5), Duration::from_secs(5));
    let node_a = RedisLimiter::new(&redis_url(), QUOTAS, shared.clone())?;
    let node_b = RedisLimiter::new(&redis_url(), QUOTAS, shared)?;
    for call in 0..100u32 {
        let node = if call % 2 == 0 { &node_a } else { &node_b };
        let decision = node.check(RouteClass::A2a, "ws:one").await?;
        assert!(decision.allowed, "call {call}: {decision:?}");
        assert_eq!((decision.limit, decision.remaining), (100, 99 - call));
    }
    let refused = node_b.check(RouteClass::A2a, "ws:one").await?;
    assert!(!refused.allowed);
    let retry = refused.retry_after.unwrap_or_default();
    assert!(retry > Duration::ZERO && retry <= Duration::from_secs(36), "{refused:?}");
    assert!(refused.reset_after > Duration::from_secs(3590), "about an hour until the full burst: {refused:?}");
    assert!(node_a.check(RouteClass::A2a, "ws:two").await?.allowed, "another workspace is unaffected");
    assert!(node_a.check(RouteClass::Discovery, "ws:one").await?.allowed, "another class is unaffected");
    Ok(())
}

/// Checks `limiter` once and returns the outcome with the (paused) time it took.
async fn timed_check(limiter: &RedisLimiter) -> (Result<(), LimiterError>, Duration) {
    let start = Instant::now();
    let outcome = limiter.check(RouteClass::A2a, "ws:one").await.map(|_| ());
    (outcome, start.elapsed())
}

/// The behaviour both kinds of unreachable Redis must show: decided within the
/// timeout, then skipped at once for the cooldown, then probed again.
async fn fails_open_fast_then_skips(url: &str) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(100);
    let cooldown = Duration::from_secs(5);
    let limiter = RedisLimiter::new(url, QUOTAS, options(timeout, cooldown))?;

    let (outcome, took) = timed_check(&limiter).await;
    ensure!(matches!(outcome, Err(LimiterError::Unavailable(_))), "first check: {outcome:?}");
    ensure!(took <= timeout + Duration::from_millis(10), "decided within the timeout, took {took:?}");

    let (outcome, took) = timed_check(&limiter).await;
    ensure!(matches!(outcome, Err(LimiterError::Skipped)), "the circuit skips Redis: {outcome:?}");
    ensure!(took == Duration::ZERO, "a skipped check does not wait: {took:?}");

    tokio::time::advance(cooldown).await;
    let (outcome, took) = timed_check(&limiter).await;
    ensure!(matches!(outcome, Err(LimiterError::Unavailable(_))), "after the cooldown one check probes: {outcome:?}");
    ensure!(took <= timeout + Duration::from_millis(10), "the probe is bounded too, took {took:?}");
    let (outcome, _) = timed_check(&limiter).await;
    ensure!(matches!(outcome, Err(LimiterError::Skipped)), "a failed probe opens the circuit again: {outcome:?}");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_redis_that_never_answers_is_decided_within_the_timeout_then_skipped() -> anyhow::Result<()> {
    // Accepts connections and holds them without ever answering.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let result = fails_open_fast_then_skips(&format!("redis://{address}")).await;
    silent.abort();
    result
}

#[tokio::test(start_paused = true)]
async fn a_closed_port_is_decided_within_the_timeout_then_skipped() -> anyhow::Result<()> {
    let address = TcpListener::bind("127.0.0.1:0").await?.local_addr().context("a free port")?;
    // The listener is dropped: connections to the port are refused.
    fails_open_fast_then_skips(&format!("redis://{address}")).await
}
