//! One suite for both backends of the records store.
//!
//! Each test is an `async fn(&TestDb) -> anyhow::Result<()>` in a module of this
//! folder; [`backend_tests!`] generates it twice, as `sqlite::…` (a fresh file in a
//! temporary folder) and `postgres::…` (a fresh database on the server named by
//! `AGENTDECK_TEST_POSTGRES_URL`, dropped afterwards). Every test gets its own
//! database, so they run in parallel. The postgres tests fail, never skip, when
//! the server cannot be reached.

mod activity;
mod fixtures;
mod general;
mod harness;
mod members;
mod projects;
mod tasks;

pub use harness::TestDb;

/// Generates every listed test once per backend.
macro_rules! backend_tests {
    ($($module:ident { $($test:ident),* $(,)? })*) => {
        mod sqlite {
            $(mod $module {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() -> anyhow::Result<()> {
                        let db = crate::TestDb::sqlite().await?;
                        crate::$module::$test(&db).await
                    }
                )*
            })*
        }
        mod postgres {
            $(mod $module {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() -> anyhow::Result<()> {
                        let db = crate::TestDb::postgres().await?;
                        crate::$module::$test(&db).await
                    }
                )*
            })*
        }
    };
}

backend_tests! {
    general {
        migrate_twice_is_a_no_op,
        ping_and_backend,
        workspaces_round_trip_and_count,
        workspace_scoping_hides_other_workspaces,
        foreign_keys_are_enforced,
        bad_stored_value_is_corrupt,
    }
    projects {
        project_round_trip,
        project_stale_revision_conflicts,
        project_missing_is_not_found,
        project_archived_filter,
        project_pagination_serves_each_item_once,
        project_delete_cascades_to_tasks_and_links,
    }
    tasks {
        task_round_trip_keeps_link_order,
        task_reference_checks_name_the_field,
        task_cycle_is_rejected_with_its_path,
        task_stale_revision_conflicts,
        task_missing_is_not_found,
        task_filters,
        task_pagination_fills_links,
        task_delete_removes_links_both_ways,
        concurrent_links_cannot_close_a_cycle,
    }
    members {
        member_round_trip_and_find_by_user,
        member_duplicate_user_id,
        member_stale_revision_conflicts,
        member_delete_unassigns_tasks,
        member_pagination_serves_each_item_once,
    }
    activity {
        every_write_appends_its_entry,
        failed_writes_append_nothing,
        entry_and_record_commit_together,
        activity_filters,
        activity_pagination_serves_each_item_once,
        activity_rejects_update_and_delete,
    }
}

/// Backend-independent checks of `connect`.
mod connect {
    use agentdeck_storage::{ConnectOptions, StoreError, connect, sqlite_url};

    #[tokio::test]
    async fn unsupported_url_is_refused() {
        let result = connect("mysql://root@127.0.0.1/db", &ConnectOptions::default()).await;
        assert!(matches!(result, Err(StoreError::UnsupportedUrl(_))), "{:?}", result.err());
    }

    #[tokio::test]
    async fn unreachable_postgres_is_unavailable() {
        // Port 1 on loopback: nothing listens there, so the connection is refused.
        let options = ConnectOptions { max_connections: 1, acquire_timeout: std::time::Duration::from_secs(5) };
        let result = connect("postgres://postgres@127.0.0.1:1/postgres", &options).await;
        assert!(matches!(result, Err(StoreError::Unavailable(_))), "{:?}", result.err());
    }

    #[tokio::test]
    async fn sqlite_file_is_created() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("new file #1.sqlite");
        let store = connect(&sqlite_url(&path), &ConnectOptions::default()).await?;
        assert_eq!(store.migrate().await?, 1);
        assert!(path.exists());
        Ok(())
    }
}
