//! The answer cache: agents' answers kept briefly, concurrent identical
//! requests collapsed into one call.
//!
//! A key is (workspace, agent, project, question, *records generation*). The
//! generation ([`RecordsGeneration`]) moves with every committed write of
//! project data — the id of the workspace's newest activity entry, appended in
//! the same transaction on whichever node, or in embedded mode a counter
//! advanced after the commit — so an answer cached before a change is never
//! served after it: the key no longer matches. (A write by another process to
//! the embedded file does not move the counter; the `ttl` bounds that.) Entries live `ttl` (10 s by default, per agent); failed
//! calls are not kept. Concurrent misses of one key wait for a single call
//! (moka's `try_get_with`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;
use uuid::Uuid;

use agentdeck_storage::RecordsGeneration;

use super::answer::AgentAnswer;
use super::error::AgentError;

/// What identifies an answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AnswerKey {
    pub workspace: Uuid,
    pub agent: &'static str,
    pub project: Option<Uuid>,
    pub question: String,
    pub generation: RecordsGeneration,
}

/// Hits and misses so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Answers served from the cache (waiting for a call in flight included).
    pub hits: u64,
    /// Answers that needed a call.
    pub misses: u64,
}

/// One cache per agent, each with its own time to live.
pub(crate) struct AnswerCache {
    caches: HashMap<&'static str, Cache<AnswerKey, Arc<AgentAnswer>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Most answers kept per agent.
const CAPACITY: u64 = 10_000;

impl AnswerCache {
    /// Caches for `agents`; a zero `ttl` turns caching off for that agent.
    pub fn new(agents: &[&'static str], ttl: impl Fn(&str) -> Duration) -> Self {
        let caches = agents
            .iter()
            .filter(|agent| !ttl(agent).is_zero())
            .map(|agent| (*agent, Cache::builder().max_capacity(CAPACITY).time_to_live(ttl(agent)).build()))
            .collect();
        Self { caches, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// The cached answer for `key`, or the result of `call` (shared with concurrent askers, kept if it succeeded).
    pub async fn get_or_call<F>(&self, key: AnswerKey, call: F) -> Result<Arc<AgentAnswer>, Arc<AgentError>>
    where
        F: Future<Output = Result<AgentAnswer, AgentError>>,
    {
        let Some(cache) = self.caches.get(key.agent) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return call.await.map(Arc::new).map_err(Arc::new);
        };
        let called = std::sync::atomic::AtomicBool::new(false);
        let result = cache
            .try_get_with(key, async {
                called.store(true, Ordering::Relaxed);
                call.await.map(Arc::new)
            })
            .await;
        let counter = if called.load(Ordering::Relaxed) { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(generation: u64) -> AnswerKey {
        AnswerKey {
            workspace: Uuid::nil(),
            agent: "navi",
            project: None,
            question: "q".into(),
            generation: RecordsGeneration::Local(generation),
        }
    }

    fn answer(text: &str) -> AgentAnswer {
        AgentAnswer { text: text.into(), widgets: vec![] }
    }

    #[tokio::test]
    async fn concurrent_misses_make_one_call_and_a_new_generation_misses() {
        let cache = Arc::new(AnswerCache::new(&["navi"], |_| Duration::from_secs(10)));
        let calls = Arc::new(AtomicU64::new(0));
        let mut waiting = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (cache.clone(), calls.clone());
            waiting.push(tokio::spawn(async move {
                cache
                    .get_or_call(key(1), async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(answer("first"))
                    })
                    .await
            }));
        }
        for handle in waiting {
            assert_eq!(handle.await.ok().and_then(Result::ok).map(|a| a.text.clone()).as_deref(), Some("first"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats(), CacheStats { hits: 49, misses: 1 });
        let changed = cache.get_or_call(key(2), async { Ok(answer("second")) }).await;
        assert_eq!(changed.map(|a| a.text.clone()).ok().as_deref(), Some("second"));
    }

    #[tokio::test]
    async fn failures_are_not_kept_and_a_zero_ttl_turns_caching_off() {
        let cache = AnswerCache::new(&["navi", "pulse"], |agent| {
            if agent == "pulse" { Duration::ZERO } else { Duration::from_secs(10) }
        });
        assert!(cache.get_or_call(key(1), async { Err(AgentError::Deadline(Duration::from_secs(1))) }).await.is_err());
        let after = cache.get_or_call(key(1), async { Ok(answer("up")) }).await;
        assert_eq!(after.map(|a| a.text.clone()).ok().as_deref(), Some("up"));
        let pulse = AnswerKey { agent: "pulse", ..key(1) };
        for expected in ["a", "b"] {
            let got = cache.get_or_call(pulse.clone(), async { Ok(answer(expected)) }).await;
            assert_eq!(got.map(|a| a.text.clone()).ok().as_deref(), Some(expected));
        }
    }
}
