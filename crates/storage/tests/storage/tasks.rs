//! Tasks: round trip with links, reference and cycle checks, filters, pages.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{ActivityAction, Priority, Task, TaskFilter, TaskStatus};
use agentdeck_storage::StoreError;
use chrono::TimeDelta;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{Fx, at, read_all_pages};

const DAY_MS: i64 = 86_400_000;

/// An edit that makes a task refer to something it should not.
type Change = Box<dyn Fn(&mut Task)>;

fn is_unknown(result: &Result<(), StoreError>, expected_path: &str, expected_id: Uuid) -> bool {
    matches!(result, Err(StoreError::UnknownReference { path, id }) if path == expected_path && *id == expected_id)
}

pub async fn task_round_trip_keeps_link_order(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let member = fx.add_member("ada").await?;
    let a = fx.add_task(project.id, "a", &[]).await?;
    let b = fx.add_task(project.id, "b", &[]).await?;
    let c = fx.add_task(project.id, "c", &[]).await?;

    // Links in an order that is neither creation nor id order.
    let mut task = fx.task(project.id, "Launch");
    task.assignee_id = Some(member.id);
    task.blocked_by = vec![c.id, a.id, b.id];
    let entry = fx.entry(ActivityAction::TaskCreated, task.id, Some(project.id));
    fx.stores.tasks.insert_task(&task, &entry).await?;
    assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, Some(task.clone()));

    let other_project = fx.add_project("Gemini").await?;
    let mut changed = task.clone();
    changed.project_id = other_project.id;
    changed.title = "Land".into();
    changed.description = String::new();
    changed.status = TaskStatus::Done;
    changed.priority = Priority::Urgent;
    changed.assignee_id = None;
    changed.estimate_hours = None;
    changed.due_date = None;
    changed.completed_at = Some(fx.tick());
    changed.blocked_by = vec![b.id, c.id];
    changed.updated_at = fx.tick();
    changed.revision = 2;
    let entry = fx.entry(ActivityAction::TaskCompleted, task.id, Some(other_project.id));
    fx.stores.tasks.update_task(&changed, &entry).await?;
    assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, Some(changed.clone()));

    let entry = fx.entry(ActivityAction::TaskDeleted, task.id, Some(other_project.id));
    fx.stores.tasks.delete_task(fx.ws, task.id, &entry).await?;
    assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, None);
    // Its blockers were not touched by losing a dependent.
    assert_eq!(fx.stores.tasks.get_task(fx.ws, a.id).await?, Some(a));
    Ok(())
}

pub async fn task_reference_checks_name_the_field(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let other = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let blocker = fx.add_task(project.id, "blocker", &[]).await?;
    let foreign_project = other.add_project("Theirs").await?;
    let foreign_member = other.add_member("eve").await?;
    let foreign_task = other.add_task(foreign_project.id, "theirs", &[]).await?;
    let missing = Uuid::now_v7();
    let activity_before = fx.all_activity().await?.len();

    let cases: Vec<(Change, &str, Uuid)> = vec![
        (Box::new(move |task| task.project_id = missing), "/projectId", missing),
        (Box::new(move |task| task.project_id = foreign_project.id), "/projectId", foreign_project.id),
        (Box::new(move |task| task.assignee_id = Some(missing)), "/assigneeId", missing),
        (Box::new(move |task| task.assignee_id = Some(foreign_member.id)), "/assigneeId", foreign_member.id),
        (Box::new(move |task| task.blocked_by = vec![blocker.id, missing]), "/blockedBy/1", missing),
        (Box::new(move |task| task.blocked_by = vec![foreign_task.id]), "/blockedBy/0", foreign_task.id),
    ];
    let stored = fx.add_task(project.id, "stored", &[]).await?;
    for (change, path, id) in &cases {
        let mut new = fx.task(project.id, "new");
        change(&mut new);
        let entry = fx.entry(ActivityAction::TaskCreated, new.id, Some(project.id));
        let result = fx.stores.tasks.insert_task(&new, &entry).await;
        assert!(is_unknown(&result, path, *id), "insert {path}: {result:?}");

        let mut next = stored.clone();
        change(&mut next);
        next.revision = 2;
        let entry = fx.entry(ActivityAction::TaskUpdated, next.id, Some(project.id));
        let result = fx.stores.tasks.update_task(&next, &entry).await;
        assert!(is_unknown(&result, path, *id), "update {path}: {result:?}");
    }
    assert_eq!(fx.stores.tasks.get_task(fx.ws, stored.id).await?, Some(stored));
    assert_eq!(fx.all_activity().await?.len(), activity_before + 1, "only `stored` was logged");
    Ok(())
}

pub async fn task_cycle_is_rejected_with_its_path(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let a = fx.add_task(project.id, "a", &[]).await?;
    let c = fx.add_task(project.id, "c", &[a.id]).await?;
    let b = fx.add_task(project.id, "b", &[c.id]).await?;
    let activity_before = fx.all_activity().await?.len();

    let result = fx.set_blockers(&a, &[b.id]).await;
    match result {
        Err(StoreError::DependencyCycle { cycle }) => assert_eq!(cycle, vec![a.id, b.id, c.id, a.id]),
        other => anyhow::bail!("expected a cycle, got {other:?}"),
    }
    // Blocking oneself is the shortest cycle.
    let result = fx.set_blockers(&a, &[a.id]).await;
    assert!(matches!(&result, Err(StoreError::DependencyCycle { cycle }) if *cycle == vec![a.id, a.id]), "{result:?}");

    assert_eq!(fx.stores.tasks.get_task(fx.ws, a.id).await?, Some(a.clone()));
    assert_eq!(fx.all_activity().await?.len(), activity_before);
    // Replacing a's (empty) links with a non-closing set is fine; so is a diamond.
    let d = fx.add_task(project.id, "d", &[b.id, c.id]).await?;
    fx.set_blockers(&d, &[c.id, b.id]).await?;
    Ok(())
}

pub async fn task_stale_revision_conflicts(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let task = fx.add_task(project.id, "a", &[]).await?;
    let first = fx.set_blockers(&task, &[]).await?;
    let result = fx.set_blockers(&task, &[]).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, Some(first));
    Ok(())
}

pub async fn task_missing_is_not_found(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let ghost = fx.task(project.id, "ghost");
    assert_eq!(fx.stores.tasks.get_task(fx.ws, ghost.id).await?, None);
    assert!(matches!(fx.set_blockers(&ghost, &[]).await, Err(StoreError::NotFound)));
    let entry = fx.entry(ActivityAction::TaskDeleted, ghost.id, Some(project.id));
    assert!(matches!(fx.stores.tasks.delete_task(fx.ws, ghost.id, &entry).await, Err(StoreError::NotFound)));
    Ok(())
}

pub async fn task_filters(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let (p1, p2) = (fx.add_project("one").await?, fx.add_project("two").await?);
    let member = fx.add_member("ada").await?;
    let mut stored = Vec::new();
    for (project, status, assignee, due_days) in [
        (p1.id, TaskStatus::Todo, Some(member.id), Some(10)),
        (p1.id, TaskStatus::Done, None, Some(20)),
        (p2.id, TaskStatus::Todo, Some(member.id), None),
        (p2.id, TaskStatus::Blocked, None, Some(30)),
    ] {
        let mut task = fx.task(project, "t");
        task.status = status;
        task.assignee_id = assignee;
        task.due_date = due_days.map(|days| at(days * DAY_MS));
        task.completed_at = (status == TaskStatus::Done).then(|| at(1));
        let entry = fx.entry(ActivityAction::TaskCreated, task.id, Some(project));
        fx.stores.tasks.insert_task(&task, &entry).await?;
        stored.push(task);
    }
    let [t1, t2, t3, t4] = [&stored[0], &stored[1], &stored[2], &stored[3]].map(|task| task.id);
    let day20 = at(20 * DAY_MS);
    let half_ms = TimeDelta::microseconds(500);
    let cases = [
        (TaskFilter { project_id: Some(p1.id), ..Default::default() }, vec![t2, t1]),
        (TaskFilter { status: Some(TaskStatus::Todo), ..Default::default() }, vec![t3, t1]),
        (TaskFilter { assignee_id: Some(member.id), ..Default::default() }, vec![t3, t1]),
        (TaskFilter { due_before: Some(day20), ..Default::default() }, vec![t1]),
        (TaskFilter { due_after: Some(day20), ..Default::default() }, vec![t4]),
        (TaskFilter { due_before: Some(day20 + half_ms), ..Default::default() }, vec![t2, t1]),
        (TaskFilter { due_after: Some(day20 - half_ms), ..Default::default() }, vec![t4, t2]),
        (TaskFilter { project_id: Some(p2.id), status: Some(TaskStatus::Todo), ..Default::default() }, vec![t3]),
        (TaskFilter { assignee_id: Some(Uuid::now_v7()), ..Default::default() }, vec![]),
        (TaskFilter::default(), vec![t4, t3, t2, t1]),
    ];
    for (filter, expected) in cases {
        let page = fx.stores.tasks.list_tasks(fx.ws, &filter, PageRequest::first(50)).await?;
        let ids: Vec<Uuid> = page.items.iter().map(|task| task.id).collect();
        assert_eq!(ids, expected, "{filter:?}");
    }
    Ok(())
}

pub async fn task_pagination_fills_links(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let mut tasks: Vec<Task> = Vec::new();
    for index in 0..7 {
        // Each task is blocked by up to two earlier ones, newest first.
        let blockers: Vec<Uuid> = tasks.iter().rev().take(2).map(|task| task.id).collect();
        tasks.push(fx.add_task(project.id, &format!("t{index}"), &blockers).await?);
    }
    tasks.reverse();
    let all = TaskFilter::default();
    let (items, pages) = read_all_pages(3, |page| fx.stores.tasks.list_tasks(fx.ws, &all, page)).await?;
    assert_eq!(pages, 3);
    assert_eq!(items, tasks);
    Ok(())
}

pub async fn task_delete_removes_links_both_ways(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let first = fx.add_task(project.id, "first", &[]).await?;
    let middle = fx.add_task(project.id, "middle", &[first.id]).await?;
    let last = fx.add_task(project.id, "last", &[middle.id, first.id]).await?;

    let entry = fx.entry(ActivityAction::TaskDeleted, middle.id, Some(project.id));
    fx.stores.tasks.delete_task(fx.ws, middle.id, &entry).await?;
    let last_now = fx.stores.tasks.get_task(fx.ws, last.id).await?.ok_or_else(|| anyhow::anyhow!("last gone"))?;
    assert_eq!(last_now.blocked_by, vec![first.id]);
    assert_eq!((last_now.revision, last_now.updated_at), (last.revision + 1, entry.at));
    assert_eq!(fx.stores.tasks.get_task(fx.ws, first.id).await?, Some(first.clone()));
    // The freed id may be linked to again without a stale row in the way.
    let result = fx.set_blockers(&last_now, &[middle.id]).await;
    assert!(is_unknown(&result.map(|_| ()), "/blockedBy/0", middle.id));
    Ok(())
}

pub async fn concurrent_links_cannot_close_a_cycle(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    for round in 0..5 {
        let a = fx.add_task(project.id, &format!("a{round}"), &[]).await?;
        let b = fx.add_task(project.id, &format!("b{round}"), &[]).await?;
        let mut writes = Vec::new();
        for (task, blocker) in [(&a, b.id), (&b, a.id)] {
            let mut next = task.clone();
            next.blocked_by = vec![blocker];
            next.revision += 1;
            let entry = fx.entry(ActivityAction::TaskUpdated, task.id, Some(project.id));
            let store = fx.stores.clone();
            writes.push(tokio::spawn(async move { store.tasks.update_task(&next, &entry).await }));
        }
        let mut outcomes = Vec::new();
        for write in writes {
            outcomes.push(write.await?);
        }
        let succeeded = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        let cycles =
            outcomes.iter().filter(|outcome| matches!(outcome, Err(StoreError::DependencyCycle { .. }))).count();
        assert_eq!((succeeded, cycles), (1, 1), "round {round}: {outcomes:?}");
    }
    Ok(())
}
