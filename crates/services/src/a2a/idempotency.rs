//! Retry-safe sends: the `Idempotency-Key` request header (IETF draft
//! `httpapi-idempotency-key-header`).
//!
//! A send is new unless the caller says otherwise: a repeated `messageId` is
//! just another message, as the protocol has it. A caller that wants a retry
//! to be recognized sends the same `Idempotency-Key` with the same params:
//!
//! - The first send records the key with its outcome (the task it made or
//!   followed up, or the agent's direct reply) and a SHA-256 of its params,
//!   in the same write as the task, so concurrent duplicates meet at the
//!   store's unique key and the loser answers with the winner's outcome.
//! - A retry gets that outcome back: a blocking send the task as it is now
//!   (waiting while it runs, as a blocking send does), a streaming send the
//!   task's logged events from the start with their SSE ids, then live ones.
//!   It is not metered again: it is not a new message.
//! - The same key with other params is refused (`InvalidParams`), naming the header.
//! - Keys are kept per caller ([`A2aCaller::idempotency_scope`]: workspace,
//!   user and agent; an anonymous caller by its client address) for
//!   [`A2aOptions::idempotency_ttl`](super::A2aOptions); expired keys read as
//!   absent, and a sweep owned by the service deletes them.

use agentdeck_a2a_protocol::{A2aError, FieldViolation, Message, SendMessageRequest};
use agentdeck_storage::StoreError;
use agentdeck_storage::agent_tasks::{AgentTaskScope, IdempotentOutcome, StoredIdempotencyKey};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::caller::A2aCaller;
use super::service::{A2aService, store_error};

/// The header's name, as errors name it.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Longest key accepted (the REST API's rule).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// A send made with an idempotency key: who, which key, which params.
pub(super) struct KeyedSend {
    pub scope: AgentTaskScope,
    pub key: String,
    pub params_digest: String,
}

impl KeyedSend {
    /// The key of `caller`'s send to `agent` with these params; a key that
    /// breaks the header's rule (1 to 200 visible ASCII) is refused.
    pub fn new(caller: &A2aCaller, agent: &str, key: &str, request: &SendMessageRequest) -> Result<Self, A2aError> {
        let valid = !key.is_empty()
            && key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS
            && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t');
        if !valid {
            return Err(invalid_key(format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters")));
        }
        Ok(Self { scope: caller.idempotency_scope(agent), key: key.to_owned(), params_digest: params_digest(request)? })
    }

    /// The record of this send's outcome, kept for `ttl` from `now`.
    pub fn record(
        &self,
        outcome: IdempotentOutcome,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> StoredIdempotencyKey {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        StoredIdempotencyKey {
            scope: self.scope.clone(),
            key: self.key.clone(),
            params_digest: self.params_digest.clone(),
            outcome,
            created_at: now,
            expires_at: now.checked_add_signed(ttl).unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// The first outcome of this key, if it was recorded and has not expired;
    /// the same key with other params is refused.
    pub async fn first_outcome(&self, service: &A2aService) -> Result<Option<IdempotentOutcome>, A2aError> {
        let store = &service.inner.store;
        let Some(found) = store.idempotency_key(&self.scope, &self.key, Utc::now()).await.map_err(store_error)? else {
            return Ok(None);
        };
        if found.params_digest != self.params_digest {
            return Err(invalid_key(
                "was already used with other params; send a new key for a different request".to_owned(),
            ));
        }
        Ok(Some(found.outcome))
    }

    /// After the store refused a write as a duplicate key: the winner's outcome.
    pub async fn winner(&self, service: &A2aService) -> Result<IdempotentOutcome, A2aError> {
        self.first_outcome(service)
            .await?
            .ok_or_else(|| A2aError::Internal("a duplicate idempotency key has no record".into()))
    }
}

/// Whether a store error is the refusal of a key recorded before.
pub(super) fn is_duplicate_key(error: &StoreError) -> bool {
    matches!(error, StoreError::Duplicate { .. })
}

/// A reply message as an outcome.
pub(super) fn reply_outcome(reply: &Message) -> Result<IdempotentOutcome, A2aError> {
    serde_json::to_value(reply).map(IdempotentOutcome::Reply).map_err(|e| A2aError::Internal(e.to_string()))
}

/// A stored reply back in its typed form.
pub(super) fn decode_reply(body: serde_json::Value) -> Result<Message, A2aError> {
    serde_json::from_value(body).map_err(|e| A2aError::Internal(format!("a stored reply is unreadable: {e}")))
}

/// Hex SHA-256 of the params in their JSON form (object keys sorted, so the
/// same params in another key order hash alike).
fn params_digest(request: &SendMessageRequest) -> Result<String, A2aError> {
    let canonical = serde_json::to_value(request).and_then(|value| serde_json::to_vec(&value));
    let bytes = canonical.map_err(|e| A2aError::Internal(format!("cannot hash the params: {e}")))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

fn invalid_key(description: String) -> A2aError {
    A2aError::invalid_params(vec![FieldViolation::new(IDEMPOTENCY_KEY_HEADER, description)])
}

impl A2aService {
    /// Deletes the idempotency keys that expired; how many.
    pub async fn purge_expired_idempotency_keys(&self) -> Result<u64, A2aError> {
        self.inner.store.purge_expired_idempotency_keys(Utc::now()).await.map_err(store_error)
    }

    /// Starts the sweep that purges expired keys every `every`, owned by the
    /// service's tracker and stopped by its shutdown. Outside a runtime there is
    /// nothing to run it on: keys then expire lazily (read as absent, replaced on reuse).
    pub(super) fn spawn_idempotency_sweep(&self, every: std::time::Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Weak: the sweep must not keep a service alive that everyone else dropped.
        let service = std::sync::Arc::downgrade(&self.inner);
        let shutdown = self.inner.shutdown.clone();
        let every = every.max(std::time::Duration::from_secs(1));
        self.inner.runs.spawn_on(
            async move {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        () = shutdown.cancelled() => return,
                    }
                    let Some(inner) = service.upgrade() else { return };
                    match (A2aService { inner }).purge_expired_idempotency_keys().await {
                        Ok(0) => {}
                        Ok(purged) => tracing::debug!(purged, "purged expired A2A idempotency keys"),
                        Err(error) => tracing::warn!(%error, "could not purge expired A2A idempotency keys"),
                    }
                }
            },
            &runtime,
        );
    }
}

#[cfg(test)]
mod tests {
    use agentdeck_a2a_protocol::Message;

    use super::*;

    #[test]
    fn keys_follow_the_header_rule_and_digests_follow_the_params() {
        let caller = A2aCaller::anonymous_at("127.0.0.1");
        let request = SendMessageRequest::new(Message::user_text("m1", "hello"));
        let long = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1);
        for bad in ["", "naïve", "tab\u{7f}", long.as_str()] {
            let refused = KeyedSend::new(&caller, "x", bad, &request).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(refused.contains(IDEMPOTENCY_KEY_HEADER), "{bad:?}: {refused}");
        }
        let first = KeyedSend::new(&caller, "x", "retry-1", &request).map(|k| k.params_digest).unwrap_or_default();
        let again = KeyedSend::new(&caller, "x", "retry-2", &request).map(|k| k.params_digest).unwrap_or_default();
        let other = SendMessageRequest::new(Message::user_text("m1", "hello!"));
        let other = KeyedSend::new(&caller, "x", "retry-1", &other).map(|k| k.params_digest).unwrap_or_default();
        assert_eq!(first.len(), 64);
        assert_eq!(first, again);
        assert_ne!(first, other);
    }
}
