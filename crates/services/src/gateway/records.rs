//! The records a question is planned from: the workspace's projects and its
//! records generation ([`RecordsGeneration`]: the id of its newest activity
//! entry, or in embedded mode a counter this process advances after each
//! record write it commits).
//!
//! Every write of project data appends an activity entry in the same
//! transaction, so the generation names the state of the data: while it stays
//! the same, the projects are the same. The gateway reads the generation for
//! every question (it versions the answer cache too) and reads the projects
//! only when it moved on: the projects read last are kept per
//! workspace with the generation read *before* them, so what is kept is never
//! older than the generation it is kept under (it may be newer, which only
//! costs a read when the next question sees the newer generation).
//!
//! Nothing has to announce a change for this to hold, so it holds in a cluster
//! and when a write's announcement is lost. Two cases escape it: a write whose
//! entry sorts before the newest one (a node whose clock is behind) leaves the
//! generation where it was, and so does, in embedded mode, a write by another
//! process to the same file. Kept projects therefore live at most [`KEPT_FOR`],
//! as an answer in the answer cache does.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_storage::{RecordsGeneration, StoreError, Stores};
use uuid::Uuid;

use crate::a2a::WorkspaceRecords;

/// Most workspaces whose projects are kept.
const MAX_WORKSPACES: u64 = 10_000;
/// How long a workspace's projects are kept at most (see the module documentation).
const KEPT_FOR: Duration = Duration::from_secs(10);

/// A workspace's projects as of a generation.
#[derive(Clone)]
pub(crate) struct Planned {
    /// The workspace's records generation when the projects were read.
    pub generation: RecordsGeneration,
    /// Its projects, archived ones too.
    pub records: Arc<WorkspaceRecords>,
}

/// The projects read last per workspace, with the generation read before them.
pub(crate) struct RecordsCache {
    kept: moka::sync::Cache<Uuid, Planned>,
}

impl RecordsCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self { kept: moka::sync::Cache::builder().max_capacity(MAX_WORKSPACES).time_to_live(KEPT_FOR).build() }
    }

    /// The workspace's generation, read now, and its projects as of it: kept
    /// ones when the generation is the one they were kept under, else read.
    pub async fn current(&self, stores: &Stores, workspace: Uuid) -> Result<Planned, StoreError> {
        let generation = stores.activity.records_generation(workspace).await?;
        if let Some(kept) = self.kept.get(&workspace).filter(|kept| kept.generation == generation) {
            return Ok(kept);
        }
        // Read after the generation: at least as new as it (see the module documentation).
        let projects = crate::agents::data::read_projects(stores, workspace).await?;
        let planned = Planned { generation, records: Arc::new(WorkspaceRecords { workspace_id: workspace, projects }) };
        self.kept.insert(workspace, planned.clone());
        Ok(planned)
    }
}

#[cfg(test)]
mod tests {
    use agentdeck_domain::auth::{Principal, Role};
    use agentdeck_domain::records::NewProject;
    use agentdeck_storage::testing::TestDatabase;
    use agentdeck_storage::{ConnectOptions, connect};

    use super::*;
    use crate::projects::ProjectService;
    use crate::seed::{DEMO_WORKSPACE_ID, seed_demo};

    #[tokio::test]
    async fn projects_are_read_again_only_when_the_generation_moves_on() -> anyhow::Result<()> {
        let database = TestDatabase::sqlite()?;
        let stores = connect(&database.url, &ConnectOptions::default()).await?;
        stores.database.migrate().await?;
        seed_demo(&stores, chrono::Utc::now()).await?;
        let cache = RecordsCache::new();

        let first = cache.current(&stores, DEMO_WORKSPACE_ID).await?;
        let again = cache.current(&stores, DEMO_WORKSPACE_ID).await?;
        assert!(Arc::ptr_eq(&first.records, &again.records), "nothing changed: the kept projects are used");
        assert_eq!(first.generation, again.generation);

        // A write (here through the service, which logs it as activity) moves the generation on.
        let owner = Principal { subject: "owner".into(), workspace_id: DEMO_WORKSPACE_ID, role: Role::Owner };
        let input = NewProject {
            name: "Brand New".into(),
            description: String::new(),
            start_date: None,
            due_date: None,
            archived: false,
        };
        let created = ProjectService::new(stores.clone()).create_project(&owner, input).await?;
        let after = cache.current(&stores, DEMO_WORKSPACE_ID).await?;
        assert_ne!(after.generation, first.generation);
        assert!(after.records.projects.iter().any(|project| project.id == created.id), "read again after the write");
        assert_eq!(after.records.projects.len(), first.records.projects.len() + 1);
        Ok(())
    }
}
