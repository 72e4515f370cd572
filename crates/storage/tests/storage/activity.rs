//! The activity log: one entry per write, atomically, append-only.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{ActivityAction, ActivityEntry, ActivityFilter, ActivitySummary};
use agentdeck_storage::StoreError;
use sqlx::Executor;

use crate::TestDb;
use crate::fixtures::{Fx, read_all_pages};

pub async fn every_write_appends_its_entry(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let store = &fx.stores;
    let mut written: Vec<ActivityEntry> = Vec::new();

    let mut project = fx.project("Apollo");
    written.push(fx.entry(ActivityAction::ProjectCreated, project.id, Some(project.id)));
    store.projects.insert_project(&project, &written[written.len() - 1]).await?;
    project.revision = 2;
    written.push(fx.entry(ActivityAction::ProjectUpdated, project.id, Some(project.id)));
    store.projects.update_project(&project, &written[written.len() - 1]).await?;

    let mut member = fx.member("ada");
    written.push(fx.entry(ActivityAction::MemberAdded, member.id, None));
    store.members.insert_member(&member, &written[written.len() - 1]).await?;
    member.revision = 2;
    written.push(fx.entry(ActivityAction::MemberUpdated, member.id, None));
    store.members.update_member(&member, &written[written.len() - 1]).await?;

    let mut task = fx.task(project.id, "Launch");
    written.push(fx.entry(ActivityAction::TaskCreated, task.id, Some(project.id)));
    store.tasks.insert_task(&task, &written[written.len() - 1]).await?;
    task.revision = 2;
    written.push(fx.entry(ActivityAction::TaskStatusChanged, task.id, Some(project.id)));
    store.tasks.update_task(&task, &written[written.len() - 1]).await?;
    written.push(fx.entry(ActivityAction::TaskDeleted, task.id, Some(project.id)));
    store.tasks.delete_task(fx.ws, task.id, &written[written.len() - 1]).await?;

    written.push(fx.entry(ActivityAction::MemberRemoved, member.id, None));
    store.members.delete_member(fx.ws, member.id, &written[written.len() - 1]).await?;
    written.push(fx.entry(ActivityAction::ProjectDeleted, project.id, Some(project.id)));
    store.projects.delete_project(fx.ws, project.id, &written[written.len() - 1]).await?;

    written.reverse();
    assert_eq!(fx.all_activity().await?, written);
    Ok(())
}

pub async fn failed_writes_append_nothing(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let member = fx.add_member("ada").await?;
    let a = fx.add_task(project.id, "a", &[]).await?;
    let b = fx.add_task(project.id, "b", &[a.id]).await?;
    let before = fx.all_activity().await?;

    assert!(matches!(fx.set_blockers(&a, &[b.id]).await, Err(StoreError::DependencyCycle { .. })));
    fx.set_blockers(&b, &[]).await?;
    assert!(matches!(fx.set_blockers(&b, &[]).await, Err(StoreError::Conflict)));
    let duplicate = fx.member("ada");
    let entry = fx.entry(ActivityAction::MemberAdded, duplicate.id, None);
    assert!(matches!(fx.stores.members.insert_member(&duplicate, &entry).await, Err(StoreError::Duplicate { .. })));
    let entry = fx.entry(ActivityAction::MemberRemoved, member.id, None);
    let missing = fx.project("missing").id;
    assert!(matches!(fx.stores.members.delete_member(fx.ws, missing, &entry).await, Err(StoreError::NotFound)));

    let after = fx.all_activity().await?;
    assert_eq!(after.len(), before.len() + 1, "only the successful update was logged");
    assert_eq!(after[1..], before[..]);
    Ok(())
}

pub async fn entry_and_record_commit_together(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let member = fx.add_member("ada").await?;
    let mut task = fx.task(project.id, "Launch");
    task.assignee_id = Some(member.id);
    let entry = fx.entry(ActivityAction::TaskCreated, task.id, Some(project.id));
    fx.stores.tasks.insert_task(&task, &entry).await?;
    let logged = fx.all_activity().await?;

    // An entry whose id is taken cannot be appended; the record write must go too.
    let reused = |mut fresh: ActivityEntry| {
        fresh.id = entry.id;
        fresh
    };
    let new_project = fx.project("Gemini");
    let result = fx
        .stores
        .projects
        .insert_project(&new_project, &reused(fx.entry(ActivityAction::ProjectCreated, new_project.id, None)))
        .await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(fx.stores.projects.get_project(fx.ws, new_project.id).await?, None);

    let mut changed = task.clone();
    changed.title = "Changed".into();
    changed.blocked_by = vec![fx.add_task(project.id, "other", &[]).await?.id];
    changed.revision = 2;
    let result = fx
        .stores
        .tasks
        .update_task(&changed, &reused(fx.entry(ActivityAction::TaskUpdated, task.id, Some(project.id))))
        .await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, Some(task.clone()));

    let result = fx
        .stores
        .members
        .delete_member(fx.ws, member.id, &reused(fx.entry(ActivityAction::MemberRemoved, member.id, None)))
        .await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(fx.stores.members.get_member(fx.ws, member.id).await?, Some(member));
    assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, Some(task), "still assigned");

    let result = fx
        .stores
        .projects
        .delete_project(fx.ws, project.id, &reused(fx.entry(ActivityAction::ProjectDeleted, project.id, None)))
        .await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(fx.stores.projects.get_project(fx.ws, project.id).await?, Some(project));
    assert_eq!(fx.all_activity().await?.len(), logged.len() + 1, "only `other` was logged");
    Ok(())
}

pub async fn activity_filters(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let (p1, p2) = (fx.project("one"), fx.project("two"));
    let mut entries = Vec::new();
    for (project, actor) in [(Some(p1.id), "ada"), (Some(p2.id), "bob"), (None, "ada"), (Some(p1.id), "bob")] {
        let mut entry = fx.entry(ActivityAction::ProjectUpdated, project.unwrap_or(p1.id), project);
        entry.actor = actor.into();
        entries.push(entry);
    }
    // Entries are appended only with a write; any write will do to carry each one.
    for entry in &entries {
        let project = fx.project("carrier");
        fx.stores.projects.insert_project(&project, entry).await?;
    }
    let ids = |filter: ActivityFilter| {
        let store = fx.stores.clone();
        let ws = fx.ws;
        async move {
            let page = store.activity.list_activity(ws, &filter, PageRequest::first(50)).await?;
            anyhow::Ok(page.items.into_iter().map(|entry| entry.id).collect::<Vec<_>>())
        }
    };
    let [e0, e1, e2, e3] = [0, 1, 2, 3].map(|index| entries[index].id);
    assert_eq!(ids(ActivityFilter { project_id: Some(p1.id), ..Default::default() }).await?, vec![e3, e0]);
    assert_eq!(ids(ActivityFilter { actor: Some("ada".into()), ..Default::default() }).await?, vec![e2, e0]);
    assert_eq!(ids(ActivityFilter { since: Some(entries[1].at), ..Default::default() }).await?, vec![e3, e2, e1]);
    let both = ActivityFilter { project_id: Some(p1.id), actor: Some("bob".into()), since: Some(entries[0].at) };
    assert_eq!(ids(both).await?, vec![e3]);
    assert_eq!(ids(ActivityFilter::default()).await?, vec![e3, e2, e1, e0]);
    Ok(())
}

pub async fn activity_summaries_count_what_the_filter_matches(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let (p1, p2) = (fx.project("one"), fx.project("two"));
    let written = [
        (ActivityAction::TaskCreated, Some(p1.id), "ada"),
        (ActivityAction::TaskCreated, Some(p1.id), "bob"),
        (ActivityAction::TaskCompleted, Some(p1.id), "ada"),
        (ActivityAction::TaskCreated, Some(p2.id), "cy"),
        (ActivityAction::MemberAdded, None, "ada"),
    ];
    let mut entries = Vec::new();
    for (action, project, actor) in written {
        let mut entry = fx.entry(action, project.unwrap_or(p1.id), project);
        entry.actor = actor.into();
        fx.stores.projects.insert_project(&fx.project("carrier"), &entry).await?;
        entries.push(entry);
    }
    let summary = |filter: ActivityFilter| {
        let (store, ws) = (fx.stores.clone(), fx.ws);
        async move { store.activity.summarize_activity(ws, &filter).await }
    };
    let sorted = |mut summary: ActivitySummary| {
        summary.by_action.sort_by_key(|(action, _)| action.as_str());
        summary
    };

    let all = sorted(summary(ActivityFilter::default()).await?);
    let expected = ActivitySummary {
        by_action: vec![
            (ActivityAction::MemberAdded, 1),
            (ActivityAction::TaskCompleted, 1),
            (ActivityAction::TaskCreated, 3),
        ],
        actors: 3,
    };
    assert_eq!(all, expected);
    assert_eq!(
        (all.entries(), all.count(ActivityAction::TaskCreated), all.count(ActivityAction::TaskDeleted)),
        (5, 3, 0)
    );

    let of_p1 = sorted(summary(ActivityFilter { project_id: Some(p1.id), ..Default::default() }).await?);
    let expected = ActivitySummary {
        by_action: vec![(ActivityAction::TaskCompleted, 1), (ActivityAction::TaskCreated, 2)],
        actors: 2,
    };
    assert_eq!(of_p1, expected);
    let since = ActivityFilter { since: Some(entries[3].at), ..Default::default() };
    assert_eq!(summary(since).await?.entries(), 2);
    let nobody = ActivityFilter { actor: Some("nobody".into()), ..Default::default() };
    assert_eq!(summary(nobody).await?, ActivitySummary::default(), "no rows: nothing counted, no actors");
    Ok(())
}

pub async fn activity_pagination_serves_each_item_once(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let mut entries = Vec::new();
    for index in 0..7 {
        let project = fx.project(&format!("p{index}"));
        let mut entry = fx.entry(ActivityAction::ProjectCreated, project.id, Some(project.id));
        // Pairs at the same instant: the id breaks the tie.
        if let Some(previous) = entries.last().filter(|_| index % 2 == 1) {
            let previous: &ActivityEntry = previous;
            entry.at = previous.at;
        }
        fx.stores.projects.insert_project(&project, &entry).await?;
        entries.push(entry);
    }
    entries.sort_by_key(|entry| std::cmp::Reverse((entry.at, entry.id)));
    let all = ActivityFilter::default();
    let (items, pages) = read_all_pages(3, |page| fx.stores.activity.list_activity(fx.ws, &all, page)).await?;
    assert_eq!(pages, 3);
    assert_eq!(items, entries);
    Ok(())
}

pub async fn activity_rejects_update_and_delete(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    fx.add_project("Apollo").await?;
    let before = fx.all_activity().await?;
    let raw = db.raw_pool().await?;
    for sql in ["UPDATE activity SET actor = 'mallory'", "DELETE FROM activity"] {
        let result = raw.execute(sql).await;
        let error = result.err().ok_or_else(|| anyhow::anyhow!("{sql} was allowed"))?;
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    raw.close().await;
    assert_eq!(fx.all_activity().await?, before);
    Ok(())
}

/// The records generation (which the gateway keeps projects and answers under)
/// stays while nothing is written and moves on with every committed record
/// write, never with one that failed.
pub async fn records_generations_move_on_with_each_committed_write(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let generation = || fx.stores.activity.records_generation(fx.ws);
    let start = generation().await?;
    assert_eq!(generation().await?, start, "nothing written: the same generation");

    let project = fx.add_project("Apollo").await?;
    let created = generation().await?;
    assert_ne!(created, start);
    let member = fx.add_member("ada").await?;
    let task = fx.add_task(project.id, "Launch", &[]).await?;
    let filled = generation().await?;
    assert_ne!(filled, created);

    // Refused writes roll back: nothing changed, so neither does the generation.
    fx.set_blockers(&task, &[]).await?;
    let updated = generation().await?;
    assert_ne!(updated, filled);
    assert!(matches!(fx.set_blockers(&task, &[]).await, Err(StoreError::Conflict)));
    let duplicate = fx.entry(ActivityAction::MemberAdded, member.id, None);
    assert!(matches!(fx.stores.members.insert_member(&member, &duplicate).await, Err(StoreError::Duplicate { .. })));
    assert_eq!(generation().await?, updated, "failed writes leave the generation");

    let entry = fx.entry(ActivityAction::ProjectDeleted, project.id, Some(project.id));
    fx.stores.projects.delete_project(fx.ws, project.id, &entry).await?;
    let deleted = generation().await?;
    assert_ne!(deleted, updated);
    let alone = fx.entry(ActivityAction::MemberAdded, member.id, None);
    fx.stores.activity.append_activity(&alone).await?;
    assert_ne!(generation().await?, deleted, "an entry of its own counts too");
    Ok(())
}
