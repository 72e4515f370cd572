//! Migrations, health, workspaces, and the wall between workspaces.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{ActivityAction, Workspace};
use agentdeck_storage::{Backend, StoreError};
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{Fx, at};

pub async fn migrate_twice_is_a_no_op(db: &TestDb) -> anyhow::Result<()> {
    // Every file of the backend's folder (SQLite has one more: its dashboard state tables were rebuilt clustered, 0003).
    let expected = crate::fixtures::migration_files(if db.url.starts_with("sqlite:") { "sqlite" } else { "postgres" })?;
    assert_eq!(db.first_migrations, expected);
    assert_eq!(db.stores.database.migrate().await?, 0);
    assert_eq!(db.stores.database.migrate().await?, 0);
    // The schema still works after the repeated runs.
    let fx = Fx::new(db).await?;
    fx.add_project("Apollo").await?;
    Ok(())
}

pub async fn ping_and_backend(db: &TestDb) -> anyhow::Result<()> {
    db.stores.database.ping().await?;
    let expected = if db.url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
    assert_eq!(db.stores.database.backend(), expected);
    if expected == Backend::Sqlite {
        // The journal mode is stored in the file, so a plain connection sees it.
        let raw = db.raw_pool().await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&raw).await?;
        assert_eq!(mode, "wal");
        raw.close().await;
    }
    Ok(())
}

pub async fn foreign_keys_are_enforced(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let mut orphan = fx.project("Orphan");
    orphan.workspace_id = Uuid::now_v7();
    let mut entry = fx.entry(ActivityAction::ProjectCreated, orphan.id, Some(orphan.id));
    entry.workspace_id = orphan.workspace_id;
    let result = db.stores.projects.insert_project(&orphan, &entry).await;
    // A reference that does not exist at write time is reported like a concurrent
    // delete: the caller re-reads and retries (and then sees the missing record).
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    Ok(())
}

pub async fn bad_stored_value_is_corrupt(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let task = fx.add_task(project.id, "a", &[]).await?;
    let raw = db.raw_pool().await?;
    sqlx::query("UPDATE tasks SET status = 'someday' WHERE id = $1").bind(task.id.to_string()).execute(&raw).await?;
    sqlx::query("UPDATE projects SET created_at = $1 WHERE id = $2")
        .bind(i64::MAX)
        .bind(project.id.to_string())
        .execute(&raw)
        .await?;
    raw.close().await;
    let result = db.stores.tasks.get_task(fx.ws, task.id).await;
    assert!(matches!(&result, Err(StoreError::Corrupt(message)) if message.contains("status")), "{result:?}");
    let result = db.stores.projects.list_projects(fx.ws, &Default::default(), PageRequest::first(10)).await;
    assert!(matches!(&result, Err(StoreError::Corrupt(message)) if message.contains("created_at")), "{result:?}");
    Ok(())
}

pub async fn workspaces_round_trip_and_count(db: &TestDb) -> anyhow::Result<()> {
    assert_eq!(db.stores.workspaces.count_workspaces().await?, 0);
    let first = Workspace { id: Uuid::now_v7(), name: "Acme".into(), disabled: false, created_at: at(1) };
    let second =
        Workspace { id: Uuid::now_v7(), name: "Globex — ünïcode".into(), disabled: false, created_at: at(-5) };
    db.stores.workspaces.insert_workspace(&first).await?;
    db.stores.workspaces.insert_workspace(&second).await?;
    assert_eq!(db.stores.workspaces.count_workspaces().await?, 2);
    assert_eq!(db.stores.workspaces.get_workspace(first.id).await?, Some(first));
    assert_eq!(db.stores.workspaces.get_workspace(second.id).await?, Some(second));
    assert_eq!(db.stores.workspaces.get_workspace(Uuid::now_v7()).await?, None);
    Ok(())
}

pub async fn workspace_scoping_hides_other_workspaces(db: &TestDb) -> anyhow::Result<()> {
    let mine = Fx::new(db).await?;
    let other = Fx::new(db).await?;
    let project = mine.add_project("Apollo").await?;
    let member = mine.add_member("ada").await?;
    let task = mine.add_task(project.id, "Launch", &[]).await?;
    let store = &other.stores;
    let ws = other.ws;

    // Reads.
    assert_eq!(store.projects.get_project(ws, project.id).await?, None);
    assert_eq!(store.tasks.get_task(ws, task.id).await?, None);
    assert_eq!(store.members.get_member(ws, member.id).await?, None);
    assert_eq!(store.members.find_member_by_user(ws, "ada").await?, None);
    let page = PageRequest::first(50);
    assert!(store.projects.list_projects(ws, &Default::default(), page).await?.items.is_empty());
    assert!(store.tasks.list_tasks(ws, &Default::default(), page).await?.items.is_empty());
    assert!(store.members.list_members(ws, page).await?.items.is_empty());
    assert!(store.activity.list_activity(ws, &Default::default(), page).await?.items.is_empty());

    // Updates: the record, relabelled with the other workspace, is not found.
    let mut moved_project = project.clone();
    moved_project.workspace_id = ws;
    moved_project.revision += 1;
    let entry = other.entry(ActivityAction::ProjectUpdated, project.id, Some(project.id));
    assert!(matches!(store.projects.update_project(&moved_project, &entry).await, Err(StoreError::NotFound)));
    let mut moved_member = member.clone();
    moved_member.workspace_id = ws;
    moved_member.revision += 1;
    let entry = other.entry(ActivityAction::MemberUpdated, member.id, None);
    assert!(matches!(store.members.update_member(&moved_member, &entry).await, Err(StoreError::NotFound)));
    let mut moved_task = task.clone();
    moved_task.workspace_id = ws;
    moved_task.revision += 1;
    let entry = other.entry(ActivityAction::TaskUpdated, task.id, Some(project.id));
    assert!(matches!(store.tasks.update_task(&moved_task, &entry).await, Err(StoreError::NotFound)));

    // Deletes.
    let entry = other.entry(ActivityAction::TaskDeleted, task.id, Some(project.id));
    assert!(matches!(store.tasks.delete_task(ws, task.id, &entry).await, Err(StoreError::NotFound)));
    let entry = other.entry(ActivityAction::MemberRemoved, member.id, None);
    assert!(matches!(store.members.delete_member(ws, member.id, &entry).await, Err(StoreError::NotFound)));
    let entry = other.entry(ActivityAction::ProjectDeleted, project.id, Some(project.id));
    assert!(matches!(store.projects.delete_project(ws, project.id, &entry).await, Err(StoreError::NotFound)));

    // A task of the other workspace cannot point into mine.
    let other_project = other.add_project("Gemini").await?;
    let mut intruder = other.task(other_project.id, "Peek");
    intruder.assignee_id = Some(member.id);
    let entry = other.entry(ActivityAction::TaskCreated, intruder.id, Some(other_project.id));
    let result = store.tasks.insert_task(&intruder, &entry).await;
    assert!(
        matches!(&result, Err(StoreError::UnknownReference { path, id }) if path == "/assigneeId" && *id == member.id),
        "{result:?}"
    );

    // Nothing of mine changed, and the other workspace logged nothing of its failures.
    assert_eq!(mine.stores.projects.get_project(mine.ws, project.id).await?, Some(project));
    assert_eq!(mine.stores.tasks.get_task(mine.ws, task.id).await?, Some(task));
    assert_eq!(mine.stores.members.get_member(mine.ws, member.id).await?, Some(member));
    assert_eq!(other.all_activity().await?.len(), 1);
    Ok(())
}

/// Text PostgreSQL cannot hold (NUL) is refused naming the field, on both
/// backends alike, and nothing is written.
pub async fn text_with_nul_is_refused_naming_the_field(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.project("a\u{0}b");
    let entry = fx.entry(ActivityAction::ProjectCreated, project.id, Some(project.id));
    let result = fx.stores.projects.insert_project(&project, &entry).await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/name"), "{result:?}");
    assert!(fx.stores.projects.get_project(fx.ws, project.id).await?.is_none(), "nothing was written");
    let found = fx.stores.members.find_member_by_user(fx.ws, "a\u{0}b").await;
    assert!(matches!(&found, Err(StoreError::InvalidText { path }) if path == "/userId"), "{found:?}");
    Ok(())
}
