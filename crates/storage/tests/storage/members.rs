//! Members: round trip, unique user ids, optimistic updates, unassignment, pages.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{ActivityAction, MemberRole};
use agentdeck_storage::StoreError;

use crate::TestDb;
use crate::fixtures::{Fx, read_all_pages};

fn is_duplicate_user_id<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Duplicate { path }) if path == "/userId")
}

pub async fn member_round_trip_and_find_by_user(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let member = fx.add_member("ada").await?;
    assert_eq!(fx.stores.members.get_member(fx.ws, member.id).await?, Some(member.clone()));
    assert_eq!(fx.stores.members.find_member_by_user(fx.ws, "ada").await?, Some(member.clone()));
    assert_eq!(fx.stores.members.find_member_by_user(fx.ws, "ADA").await?, None);

    let mut changed = member.clone();
    changed.display_name = "Ada Lovelace".into();
    changed.email = None;
    changed.role = MemberRole::Owner;
    changed.weekly_capacity_hours = 0.1;
    changed.updated_at = fx.tick();
    changed.revision = 2;
    let entry = fx.entry(ActivityAction::MemberUpdated, member.id, None);
    fx.stores.members.update_member(&changed, &entry).await?;
    assert_eq!(fx.stores.members.get_member(fx.ws, member.id).await?, Some(changed.clone()));

    let entry = fx.entry(ActivityAction::MemberRemoved, member.id, None);
    fx.stores.members.delete_member(fx.ws, member.id, &entry).await?;
    assert_eq!(fx.stores.members.get_member(fx.ws, member.id).await?, None);
    assert_eq!(fx.stores.members.find_member_by_user(fx.ws, "ada").await?, None);
    assert!(matches!(fx.stores.members.delete_member(fx.ws, member.id, &entry).await, Err(StoreError::NotFound)));
    Ok(())
}

pub async fn member_duplicate_user_id(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let ada = fx.add_member("ada").await?;
    let activity_before = fx.all_activity().await?.len();
    let result = fx.add_member("ada").await;
    let result = result.map_err(|error| error.downcast::<StoreError>().unwrap_or(StoreError::NotFound));
    assert!(is_duplicate_user_id(&result), "{result:?}");

    // Renaming another member onto a taken user id is a duplicate too.
    let bob = fx.add_member("bob").await?;
    let mut renamed = bob.clone();
    renamed.user_id = "ada".into();
    renamed.revision = 2;
    let entry = fx.entry(ActivityAction::MemberUpdated, bob.id, None);
    let result = fx.stores.members.update_member(&renamed, &entry).await;
    assert!(is_duplicate_user_id(&result), "{result:?}");
    // Keeping one's own user id is not.
    let mut same = ada.clone();
    same.display_name = "Ada L.".into();
    same.revision = 2;
    let entry = fx.entry(ActivityAction::MemberUpdated, ada.id, None);
    fx.stores.members.update_member(&same, &entry).await?;

    // The same person may be a member of another workspace.
    let other = Fx::new(db).await?;
    other.add_member("ada").await?;
    assert_eq!(fx.all_activity().await?.len(), activity_before + 2, "bob added, ada updated");
    Ok(())
}

pub async fn member_stale_revision_conflicts(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let member = fx.add_member("ada").await?;
    let mut next = member.clone();
    next.revision = 2;
    let entry = fx.entry(ActivityAction::MemberUpdated, member.id, None);
    fx.stores.members.update_member(&next, &entry).await?;
    let result = fx.stores.members.update_member(&next, &entry).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    let ghost = fx.member("ghost");
    let result = fx.stores.members.update_member(&ghost, &entry).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    Ok(())
}

pub async fn member_delete_unassigns_tasks(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let project = fx.add_project("Apollo").await?;
    let ada = fx.add_member("ada").await?;
    let bob = fx.add_member("bob").await?;
    let mut adas = fx.task(project.id, "ada's");
    adas.assignee_id = Some(ada.id);
    let entry = fx.entry(ActivityAction::TaskCreated, adas.id, Some(project.id));
    fx.stores.tasks.insert_task(&adas, &entry).await?;
    let mut bobs = fx.task(project.id, "bob's");
    bobs.assignee_id = Some(bob.id);
    let entry = fx.entry(ActivityAction::TaskCreated, bobs.id, Some(project.id));
    fx.stores.tasks.insert_task(&bobs, &entry).await?;

    let entry = fx.entry(ActivityAction::MemberRemoved, ada.id, None);
    fx.stores.members.delete_member(fx.ws, ada.id, &entry).await?;
    let mut expected = adas.clone();
    expected.assignee_id = None;
    expected.revision += 1;
    expected.updated_at = entry.at;
    assert_eq!(fx.stores.tasks.get_task(fx.ws, adas.id).await?, Some(expected));
    assert_eq!(fx.stores.tasks.get_task(fx.ws, bobs.id).await?, Some(bobs));
    Ok(())
}

pub async fn member_pagination_serves_each_item_once(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let mut members = Vec::new();
    for index in 0..7 {
        members.push(fx.add_member(&format!("user-{index}")).await?);
    }
    members.reverse();
    let (items, pages) = read_all_pages(3, |page| fx.stores.members.list_members(fx.ws, page)).await?;
    assert_eq!(pages, 3);
    assert_eq!(items, members);
    let first = fx.stores.members.list_members(fx.ws, PageRequest::first(1)).await?;
    assert_eq!(first.items, members[..1]);
    assert!(first.next_cursor.is_some());
    Ok(())
}
