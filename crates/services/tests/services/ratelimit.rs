//! The Redis rate limiter on the test machine's Redis: the GCRA script's
//! decisions, shared by two limiters as two nodes would share them.

use std::time::Duration;

use agentdeck_services::ratelimit::{Quotas, RateLimiter, RedisLimiter, RouteClass};
use agentdeck_storage::testing::redis_url;
use uuid::Uuid;

#[tokio::test]
async fn two_nodes_share_one_limit_and_the_headers_add_up() -> anyhow::Result<()> {
    let prefix = format!("agentdeck-test-rl-{}", Uuid::new_v4().simple());
    let quotas = Quotas { a2a: 100, discovery: 30, health: 300 };
    let node_a = RedisLimiter::connect(&redis_url(), quotas, &prefix, Duration::from_secs(5)).await?;
    let node_b = RedisLimiter::connect(&redis_url(), quotas, &prefix, Duration::from_secs(5)).await?;
    for call in 0..100u32 {
        let node = if call % 2 == 0 { &node_a } else { &node_b };
        let decision = node.check(RouteClass::A2a, "ws:one").await?;
        assert!(decision.allowed, "call {call}: {decision:?}");
        assert_eq!((decision.limit, decision.remaining), (100, 99 - call));
    }
    let refused = node_b.check(RouteClass::A2a, "ws:one").await?;
    assert!(!refused.allowed);
    let retry = refused.retry_after.unwrap_or_default();
    assert!(retry > Duration::ZERO && retry <= Duration::from_millis(600), "{refused:?}");
    assert!(refused.reset_after > Duration::from_secs(55), "about a minute until the full burst: {refused:?}");
    assert!(node_a.check(RouteClass::A2a, "ws:two").await?.allowed, "another workspace is unaffected");
    assert!(node_a.check(RouteClass::Discovery, "ws:one").await?.allowed, "another class is unaffected");
    Ok(())
}
