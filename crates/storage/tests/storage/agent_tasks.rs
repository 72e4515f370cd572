//! A2A task records: scoping, idempotency keys, optimistic updates,
//! the bounded event log, listing order and pagination, push configs.

use agentdeck_storage::StoreError;
use agentdeck_storage::agent_tasks::{
    AgentTaskCursor, AgentTaskEvent, AgentTaskFilter, AgentTaskScope, IdempotentOutcome, StoredAgentTask,
    StoredIdempotencyKey, StoredPushConfig,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::TestDb;

fn scope(owner: &str) -> AgentTaskScope {
    AgentTaskScope { tenant: Uuid::now_v7().to_string(), owner: owner.to_owned(), agent: "navi".to_owned() }
}

fn at(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_790_000_000_000 + millis).unwrap_or_default()
}

fn task(id: &str, state: &str, status_at: DateTime<Utc>) -> StoredAgentTask {
    StoredAgentTask {
        id: id.to_owned(),
        context_id: format!("ctx-{id}"),
        state: state.to_owned(),
        status_at,
        created_at: status_at,
        last_seq: 1,
        body: json!({"id": id, "status": {"state": state}}),
    }
}

fn event(seq: i64) -> AgentTaskEvent {
    AgentTaskEvent { seq, body: json!({"statusUpdate": {"seq": seq}}) }
}

pub async fn agent_task_round_trip_and_scoping(db: &TestDb) -> anyhow::Result<()> {
    let ada = scope("ada");
    let id = Uuid::now_v7().to_string();
    let stored = task(&id, "TASK_STATE_SUBMITTED", at(0));
    db.stores.agent_tasks.insert_agent_task(&ada, &stored, None, &[event(1)], 16).await?;
    assert_eq!(db.stores.agent_tasks.get_agent_task(&ada, &id).await?, Some(stored.clone()));
    // Another owner, tenant or agent sees nothing.
    let others = [
        AgentTaskScope { owner: "bob".into(), ..ada.clone() },
        AgentTaskScope { tenant: "other".into(), ..ada.clone() },
        AgentTaskScope { agent: "pulse".into(), ..ada.clone() },
    ];
    for other in &others {
        assert_eq!(db.stores.agent_tasks.get_agent_task(other, &id).await?, None);
        assert!(db.stores.agent_tasks.agent_task_events(other, &id, 0).await?.is_empty());
        let update = db.stores.agent_tasks.update_agent_task(other, &stored, 1, None, &[], 16).await;
        assert!(matches!(update, Err(StoreError::NotFound)), "{update:?}");
    }
    Ok(())
}

fn key_of(scope: &AgentTaskScope, key: &str, outcome: IdempotentOutcome, created: i64) -> StoredIdempotencyKey {
    StoredIdempotencyKey {
        scope: scope.clone(),
        key: key.to_owned(),
        params_digest: format!("digest-{key}"),
        outcome,
        created_at: at(created),
        expires_at: at(created + 1_000),
    }
}

pub async fn agent_task_idempotency_keys_are_used_once_per_scope_until_they_expire(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.agent_tasks;
    let ada = scope("ada");
    let first = task(&Uuid::now_v7().to_string(), "TASK_STATE_SUBMITTED", at(0));
    let key = key_of(&ada, "k1", IdempotentOutcome::Task { task_id: first.id.clone(), first_seq: 1 }, 0);
    store.insert_agent_task(&ada, &first, Some(&key), &[event(1)], 16).await?;
    assert_eq!(store.idempotency_key(&ada, "k1", at(10)).await?, Some(key.clone()));
    // The same key again: refused, and nothing of the refused insert was written.
    let second = task(&Uuid::now_v7().to_string(), "TASK_STATE_SUBMITTED", at(1));
    let again_key = key_of(&ada, "k1", IdempotentOutcome::Task { task_id: second.id.clone(), first_seq: 1 }, 1);
    let again = store.insert_agent_task(&ada, &second, Some(&again_key), &[event(1)], 16).await;
    assert!(matches!(&again, Err(StoreError::Duplicate { path }) if path == "/idempotencyKey"), "{again:?}");
    assert_eq!(store.get_agent_task(&ada, &second.id).await?, None);
    // Without a key, any number of tasks (a repeated message id is no business of the store).
    store.insert_agent_task(&ada, &second, None, &[event(1)], 16).await?;
    // A follow-up records its key with the update; a direct reply records one on its own.
    let mut next = first.clone();
    next.last_seq = 2;
    let follow_up = key_of(&ada, "k2", IdempotentOutcome::Task { task_id: first.id.clone(), first_seq: 2 }, 2);
    store.update_agent_task(&ada, &next, 1, Some(&follow_up), &[event(2)], 16).await?;
    assert_eq!(store.idempotency_key(&ada, "k2", at(10)).await?.map(|k| k.outcome), Some(follow_up.outcome));
    let reply = key_of(&ada, "k3", IdempotentOutcome::Reply(json!({"messageId": "r1", "parts": []})), 3);
    store.put_idempotency_key(&reply).await?;
    assert_eq!(store.idempotency_key(&ada, "k3", at(10)).await?, Some(reply.clone()));
    let twice = store.put_idempotency_key(&reply).await;
    assert!(matches!(&twice, Err(StoreError::Duplicate { .. })), "{twice:?}");
    // The same key in another scope is another key.
    for other in [
        AgentTaskScope { owner: "bob".into(), ..ada.clone() },
        AgentTaskScope { tenant: "other".into(), ..ada.clone() },
        AgentTaskScope { agent: "pulse".into(), ..ada.clone() },
    ] {
        assert_eq!(store.idempotency_key(&other, "k1", at(10)).await?, None);
        store
            .put_idempotency_key(&key_of(
                &other,
                "k1",
                IdempotentOutcome::Task { task_id: first.id.clone(), first_seq: 1 },
                0,
            ))
            .await?;
    }
    // Expired: reads as absent, and a new record of the key replaces it.
    assert_eq!(store.idempotency_key(&ada, "k1", at(1_000)).await?, None);
    let third = task(&Uuid::now_v7().to_string(), "TASK_STATE_SUBMITTED", at(2_000));
    let renewed = key_of(&ada, "k1", IdempotentOutcome::Task { task_id: third.id.clone(), first_seq: 1 }, 2_000);
    store.insert_agent_task(&ada, &third, Some(&renewed), &[event(1)], 16).await?;
    assert_eq!(store.idempotency_key(&ada, "k1", at(2_010)).await?, Some(renewed));
    Ok(())
}

pub async fn expired_idempotency_keys_are_purged(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.agent_tasks;
    let ada = scope("ada");
    let reply =
        |key: &str, created: i64| key_of(&ada, key, IdempotentOutcome::Reply(json!({"messageId": key})), created);
    store.put_idempotency_key(&reply("old", 0)).await?;
    store.put_idempotency_key(&reply("new", 5_000)).await?;
    // Other tests' keys share the table: count only at least ours.
    assert!(store.purge_expired_idempotency_keys(at(2_000)).await? >= 1);
    assert_eq!(store.idempotency_key(&ada, "old", at(0)).await?, None, "purged, so gone even for an earlier clock");
    assert!(store.idempotency_key(&ada, "new", at(5_500)).await?.is_some());
    Ok(())
}

pub async fn agent_task_updates_are_optimistic_and_the_log_is_bounded(db: &TestDb) -> anyhow::Result<()> {
    let ada = scope("ada");
    let mut stored = task(&Uuid::now_v7().to_string(), "TASK_STATE_SUBMITTED", at(0));
    db.stores.agent_tasks.insert_agent_task(&ada, &stored, None, &[event(1)], 3).await?;
    for seq in 2..=6 {
        let expected = stored.last_seq;
        stored.last_seq = seq;
        stored.state = "TASK_STATE_WORKING".into();
        stored.status_at = at(seq);
        db.stores.agent_tasks.update_agent_task(&ada, &stored, expected, None, &[event(seq)], 3).await?;
    }
    // A writer that saw an older event loses.
    let stale = db.stores.agent_tasks.update_agent_task(&ada, &stored, 4, None, &[event(7)], 3).await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
    assert_eq!(db.stores.agent_tasks.get_agent_task(&ada, &stored.id).await?, Some(stored.clone()));
    // Only the newest three events are kept, oldest first.
    let seqs: Vec<i64> =
        db.stores.agent_tasks.agent_task_events(&ada, &stored.id, 0).await?.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [4, 5, 6]);
    let after: Vec<i64> =
        db.stores.agent_tasks.agent_task_events(&ada, &stored.id, 5).await?.iter().map(|e| e.seq).collect();
    assert_eq!(after, [6]);
    assert_eq!(
        db.stores.agent_tasks.agent_task_events(&ada, &stored.id, 1).await?[0].body,
        json!({"statusUpdate": {"seq": 4}})
    );
    Ok(())
}

/// Many tasks written at once (on SQLite their writes share transactions):
/// each task's chain of updates lands in order, and a stale or duplicate
/// write among them fails alone, having written nothing.
pub async fn concurrent_agent_task_writes_land_in_order_and_fail_alone(db: &TestDb) -> anyhow::Result<()> {
    let ada = scope("ada");
    let store = db.stores.agent_tasks.clone();
    let taken = task(&Uuid::now_v7().to_string(), "TASK_STATE_SUBMITTED", at(0));
    let outcome = |task_id: &str| IdempotentOutcome::Task { task_id: task_id.to_owned(), first_seq: 1 };
    let taken_key = key_of(&ada, "taken", outcome(&taken.id), 0);
    store.insert_agent_task(&ada, &taken, Some(&taken_key), &[event(1)], 16).await?;
    let writers = (0..48).map(|index| {
        let (store, ada) = (store.clone(), ada.clone());
        tokio::spawn(async move {
            let mut stored = task(&Uuid::now_v7().to_string(), "TASK_STATE_SUBMITTED", at(index));
            // Every fourth writer reuses an idempotency key: refused, nothing written.
            if index % 4 == 0 {
                let reused = key_of(&ada, "taken", outcome(&stored.id), 0);
                let refused = store.insert_agent_task(&ada, &stored, Some(&reused), &[event(1)], 16).await;
                anyhow::ensure!(matches!(refused, Err(StoreError::Duplicate { .. })), "{refused:?}");
                anyhow::ensure!(store.get_agent_task(&ada, &stored.id).await?.is_none());
                return Ok(None);
            }
            let own_key = key_of(&ada, &format!("k{index}"), outcome(&stored.id), 0);
            store.insert_agent_task(&ada, &stored, Some(&own_key), &[event(1)], 16).await?;
            for seq in 2..=4 {
                let expected = stored.last_seq;
                stored.last_seq = seq;
                stored.state = if seq == 4 { "TASK_STATE_COMPLETED" } else { "TASK_STATE_WORKING" }.into();
                store.update_agent_task(&ada, &stored, expected, None, &[event(seq)], 16).await?;
                // A writer that saw an older event loses, and writes nothing.
                let stale = store.update_agent_task(&ada, &stored, expected, None, &[event(seq + 100)], 16).await;
                anyhow::ensure!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
            }
            Ok(Some(stored))
        })
    });
    let written = futures::future::try_join_all(writers).await?.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let written: Vec<StoredAgentTask> = written.into_iter().flatten().collect();
    assert_eq!(written.len(), 36);
    for stored in &written {
        assert_eq!(store.get_agent_task(&ada, &stored.id).await?.as_ref(), Some(stored));
        let seqs: Vec<i64> = store.agent_task_events(&ada, &stored.id, 0).await?.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }
    let all = store.list_agent_tasks(&ada, &AgentTaskFilter::default(), None, 100).await?;
    assert_eq!(all.total, 37, "the 36 written and the first; none of the refused");
    Ok(())
}

pub async fn agent_tasks_list_newest_status_first_with_filters_and_pages(db: &TestDb) -> anyhow::Result<()> {
    let ada = scope("ada");
    let states = ["TASK_STATE_COMPLETED", "TASK_STATE_WORKING", "TASK_STATE_COMPLETED", "TASK_STATE_FAILED"];
    let mut ids = Vec::new();
    for (index, state) in states.iter().enumerate() {
        let mut stored = task(&format!("t{index}"), state, at(i64::try_from(index)? * 10));
        stored.context_id = if index % 2 == 0 { "even".into() } else { "odd".into() };
        db.stores.agent_tasks.insert_agent_task(&ada, &stored, None, &[event(1)], 16).await?;
        ids.push(stored.id);
    }
    // Two tasks with the same status time are ordered by id.
    db.stores.agent_tasks.insert_agent_task(&ada, &task("t9", "TASK_STATE_WORKING", at(30)), None, &[], 16).await?;
    let all = db.stores.agent_tasks.list_agent_tasks(&ada, &AgentTaskFilter::default(), None, 10).await?;
    let order: Vec<&str> = all.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!((order, all.total), (vec!["t9", "t3", "t2", "t1", "t0"], 5));
    // Pages of two, each task once.
    let mut seen = Vec::new();
    let mut cursor: Option<AgentTaskCursor> = None;
    loop {
        let page =
            db.stores.agent_tasks.list_agent_tasks(&ada, &AgentTaskFilter::default(), cursor.as_ref(), 2).await?;
        assert_eq!(page.total, 5);
        let Some(last) = page.tasks.last() else { break };
        cursor = Some(AgentTaskCursor { status_at_millis: last.status_at.timestamp_millis(), id: last.id.clone() });
        seen.extend(page.tasks.iter().map(|t| t.id.clone()));
    }
    assert_eq!(seen, ["t9", "t3", "t2", "t1", "t0"]);
    let filter = AgentTaskFilter { state: Some("TASK_STATE_COMPLETED".into()), ..AgentTaskFilter::default() };
    let completed = db.stores.agent_tasks.list_agent_tasks(&ada, &filter, None, 10).await?;
    assert_eq!(completed.tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["t2", "t0"]);
    let filter =
        AgentTaskFilter { context_id: Some("odd".into()), status_after: Some(at(10)), ..AgentTaskFilter::default() };
    let odd_recent = db.stores.agent_tasks.list_agent_tasks(&ada, &filter, None, 10).await?;
    assert_eq!(odd_recent.tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["t3", "t1"]);
    // Other scopes see none of them.
    let bob = AgentTaskScope { owner: "bob".into(), ..ada.clone() };
    assert_eq!(db.stores.agent_tasks.list_agent_tasks(&bob, &AgentTaskFilter::default(), None, 10).await?.total, 0);
    // The restart sweep finds working tasks of every scope.
    let working = db.stores.agent_tasks.agent_tasks_in_states(&["TASK_STATE_WORKING"]).await?;
    let mut found: Vec<&str> = working.iter().filter(|(s, _)| s == &ada).map(|(_, t)| t.id.as_str()).collect();
    found.sort_unstable();
    assert_eq!(found, ["t1", "t9"]);
    Ok(())
}

pub async fn push_configs_round_trip_per_task(db: &TestDb) -> anyhow::Result<()> {
    let ada = scope("ada");
    let stored = task(&Uuid::now_v7().to_string(), "TASK_STATE_WORKING", at(0));
    db.stores.agent_tasks.insert_agent_task(&ada, &stored, None, &[], 16).await?;
    let config = |id: &str, url: &str| StoredPushConfig {
        id: id.to_owned(),
        task_id: stored.id.clone(),
        body: json!({"url": url, "token": "secret"}),
    };
    db.stores.agent_tasks.put_push_config(&ada, &config("c1", "https://a"), at(1)).await?;
    db.stores.agent_tasks.put_push_config(&ada, &config("c2", "https://b"), at(2)).await?;
    db.stores.agent_tasks.put_push_config(&ada, &config("c1", "https://c"), at(3)).await?;
    let all = db.stores.agent_tasks.push_configs(&ada, &stored.id, None).await?;
    assert_eq!(all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c2", "c1"]);
    assert_eq!(
        db.stores.agent_tasks.push_configs(&ada, &stored.id, Some("c1")).await?[0].body["url"],
        json!("https://c")
    );
    let bob = AgentTaskScope { owner: "bob".into(), ..ada.clone() };
    assert!(db.stores.agent_tasks.push_configs(&bob, &stored.id, None).await?.is_empty());
    assert!(matches!(
        db.stores.agent_tasks.put_push_config(&bob, &config("c3", "https://x"), at(4)).await,
        Err(StoreError::NotFound)
    ));
    assert!(!db.stores.agent_tasks.delete_push_config(&bob, &stored.id, "c1").await?);
    assert!(db.stores.agent_tasks.delete_push_config(&ada, &stored.id, "c1").await?);
    assert!(!db.stores.agent_tasks.delete_push_config(&ada, &stored.id, "c1").await?);
    assert_eq!(db.stores.agent_tasks.push_configs(&ada, &stored.id, None).await?.len(), 1);
    Ok(())
}

pub async fn token_usage_adds_up_per_workspace_and_day(db: &TestDb) -> anyhow::Result<()> {
    let workspace = Uuid::now_v7().to_string();
    db.stores.usage.add_token_usage(&workspace, "2026-11-30", 5, 7).await?;
    let first = db.stores.usage.add_token_usage(&workspace, "2026-12-01", 10, 20).await?;
    assert_eq!((first.tokens_in, first.tokens_out), (10, 20));
    let second = db.stores.usage.add_token_usage(&workspace, "2026-12-01", 1, 2).await?;
    assert_eq!((second.day.as_str(), second.tokens_in, second.tokens_out), ("2026-12-01", 11, 22));
    db.stores.usage.add_token_usage("another", "2026-12-01", 100, 100).await?;
    let days = db.stores.usage.token_usage(&workspace, "2026-11-01", "2026-12-31").await?;
    let days: Vec<(String, i64, i64)> = days.into_iter().map(|d| (d.day, d.tokens_in, d.tokens_out)).collect();
    assert_eq!(days, [("2026-11-30".into(), 5, 7), ("2026-12-01".into(), 11, 22)]);
    assert!(db.stores.usage.token_usage(&workspace, "2026-12-02", "2026-12-31").await?.is_empty());
    Ok(())
}
