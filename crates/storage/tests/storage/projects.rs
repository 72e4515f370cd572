//! Projects: round trip, optimistic updates, filter, pages, cascade.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{ActivityAction, Project, ProjectFilter};
use agentdeck_storage::StoreError;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{Fx, read_all_pages};

pub async fn project_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    assert_eq!(fx.stores.projects.get_project(fx.ws, project.id).await?, Some(project.clone()));

    let mut changed = project.clone();
    changed.name = "Apollo 11 — “Eagle”".into();
    changed.description = String::new();
    changed.start_date = None;
    changed.due_date = None;
    changed.archived = true;
    changed.updated_at = fx.tick();
    changed.revision = 2;
    let entry = fx.entry(ActivityAction::ProjectArchived, project.id, Some(project.id));
    fx.stores.projects.update_project(&changed, &entry).await?;
    assert_eq!(fx.stores.projects.get_project(fx.ws, project.id).await?, Some(changed.clone()));

    let entry = fx.entry(ActivityAction::ProjectDeleted, project.id, Some(project.id));
    fx.stores.projects.delete_project(fx.ws, project.id, &entry).await?;
    assert_eq!(fx.stores.projects.get_project(fx.ws, project.id).await?, None);
    Ok(())
}

pub async fn project_stale_revision_conflicts(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let mut first = project.clone();
    first.name = "First".into();
    first.revision = 2;
    let entry = fx.entry(ActivityAction::ProjectUpdated, project.id, Some(project.id));
    fx.stores.projects.update_project(&first, &entry).await?;

    // A second writer that also read revision 1.
    let mut second = project.clone();
    second.name = "Second".into();
    second.revision = 2;
    let entry = fx.entry(ActivityAction::ProjectUpdated, project.id, Some(project.id));
    let result = fx.stores.projects.update_project(&second, &entry).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    // Skipping a revision is as stale as repeating one.
    second.revision = 5;
    let result = fx.stores.projects.update_project(&second, &entry).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(fx.stores.projects.get_project(fx.ws, project.id).await?, Some(first));
    Ok(())
}

pub async fn project_missing_is_not_found(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let mut ghost = fx.project("Ghost");
    assert_eq!(fx.stores.projects.get_project(fx.ws, ghost.id).await?, None);
    ghost.revision = 2;
    let entry = fx.entry(ActivityAction::ProjectUpdated, ghost.id, Some(ghost.id));
    assert!(matches!(fx.stores.projects.update_project(&ghost, &entry).await, Err(StoreError::NotFound)));
    assert!(matches!(fx.stores.projects.delete_project(fx.ws, ghost.id, &entry).await, Err(StoreError::NotFound)));
    Ok(())
}

pub async fn project_archived_filter(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let active = fx.add_project("Active").await?;
    let mut archived = fx.project("Archived");
    archived.archived = true;
    let entry = fx.entry(ActivityAction::ProjectCreated, archived.id, Some(archived.id));
    fx.stores.projects.insert_project(&archived, &entry).await?;

    for (archived_filter, expected) in [
        (Some(false), vec![active.clone()]),
        (Some(true), vec![archived.clone()]),
        (None, vec![archived.clone(), active.clone()]),
    ] {
        let filter = ProjectFilter { archived: archived_filter };
        let page = fx.stores.projects.list_projects(fx.ws, &filter, PageRequest::first(50)).await?;
        assert_eq!(page.items, expected, "{filter:?}");
    }
    Ok(())
}

pub async fn project_pagination_serves_each_item_once(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let mut projects = Vec::new();
    for index in 0..7 {
        let mut project = fx.project(&format!("P{index}"));
        // Three pairs share a creation time, so the id must break the ties.
        if let Some(previous) = projects.last().filter(|_| index % 2 == 1) {
            let previous: &Project = previous;
            project.created_at = previous.created_at;
            project.updated_at = previous.created_at;
        }
        let entry = fx.entry(ActivityAction::ProjectCreated, project.id, Some(project.id));
        fx.stores.projects.insert_project(&project, &entry).await?;
        projects.push(project);
    }
    projects.sort_by_key(|project| std::cmp::Reverse((project.created_at, project.id)));

    let all = ProjectFilter::default();
    let (items, pages) = read_all_pages(3, |page| fx.stores.projects.list_projects(fx.ws, &all, page)).await?;
    assert_eq!(pages, 3);
    assert_eq!(items, projects);
    // A page exactly as long as what is left has no next cursor.
    let (items, pages) = read_all_pages(7, |page| fx.stores.projects.list_projects(fx.ws, &all, page)).await?;
    assert_eq!((items.len(), pages), (7, 1));
    Ok(())
}

pub async fn project_delete_cascades_to_tasks_and_links(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let doomed = fx.add_project("Doomed").await?;
    let kept = fx.add_project("Kept").await?;
    let a = fx.add_task(doomed.id, "a", &[]).await?;
    let b = fx.add_task(doomed.id, "b", &[a.id]).await?;
    let outside = fx.add_task(kept.id, "outside", &[b.id]).await?;
    let untouched = fx.add_task(kept.id, "untouched", &[]).await?;
    // A link from the doomed project to the kept one goes too.
    let c = fx.add_task(doomed.id, "c", &[untouched.id]).await?;

    let entry = fx.entry(ActivityAction::ProjectDeleted, doomed.id, Some(doomed.id));
    fx.stores.projects.delete_project(fx.ws, doomed.id, &entry).await?;

    for task in [&a, &b, &c] {
        assert_eq!(fx.stores.tasks.get_task(fx.ws, task.id).await?, None);
    }
    let outside_now =
        fx.stores.tasks.get_task(fx.ws, outside.id).await?.ok_or_else(|| anyhow::anyhow!("outside gone"))?;
    assert!(outside_now.blocked_by.is_empty());
    assert_eq!(outside_now.revision, outside.revision + 1, "losing a link is a change");
    assert_eq!(outside_now.updated_at, entry.at);
    assert_eq!(fx.stores.tasks.get_task(fx.ws, untouched.id).await?, Some(untouched.clone()));
    let remaining: Vec<Uuid> = fx
        .stores
        .tasks
        .list_tasks(fx.ws, &Default::default(), PageRequest::first(50))
        .await?
        .items
        .iter()
        .map(|task| task.id)
        .collect();
    assert_eq!(remaining, vec![untouched.id, outside.id]);
    // The kept project's tasks can link to each other again (no dangling rows).
    fx.set_blockers(&untouched, &[outside.id]).await?;
    Ok(())
}
