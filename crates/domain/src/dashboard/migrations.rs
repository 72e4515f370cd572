//! Migrations of stored documents: ordered pure functions `vN → vN+1`.
//!
//! A stored document carries the `schemaVersion` of the format it was written
//! in (a document without one is version 1, the first format). When an older
//! document is loaded, every migration from its version on runs in order, each
//! one logged. A migration never touches storage: the caller decides what to do
//! with the result, and on failure keeps the stored document as it is — data is
//! never lost to a migration bug. A document from a newer format than this
//! build knows is refused rather than guessed at (a downgrade).
//!
//! To change the format: add a function below, append it to [`MIGRATIONS`], and
//! give it a test that feeds it a real document of the old format.

use serde_json::{Map, Value};

/// A stored document as a JSON object.
type Object = Map<String, Value>;

/// One step's function: the document in the old format to the new one.
pub type Step = fn(Object) -> Result<Object, String>;

/// One step from `from` to `from + 1`.
pub struct Migration {
    /// The version this step reads.
    pub from: u32,
    /// What it changes, for the log.
    pub description: &'static str,
    /// The step itself.
    pub apply: Step,
}

/// Every migration, in order; entry `i` goes from version `i + 1` to `i + 2`.
pub const MIGRATIONS: &[Migration] =
    &[Migration { from: 1, description: "widgets keyed by id, with a separate layout list", apply: widgets_by_id }];

/// The format version this build writes: one past the last migration.
pub const LATEST_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32 + 1;

/// A document brought up to [`LATEST_SCHEMA_VERSION`].
#[derive(Debug, Clone, PartialEq)]
pub struct Migrated {
    /// The migrated document.
    pub document: Value,
    /// The version it was stored in.
    pub from: u32,
    /// Descriptions of the steps that ran (empty when it was current).
    pub applied: Vec<&'static str>,
}

/// Why a document could not be migrated; the stored copy must be left untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// The stored value is not a JSON object.
    #[error("stored dashboard state is not a JSON object")]
    NotAnObject,
    /// `schemaVersion` is not a positive integer.
    #[error("stored dashboard state has an invalid schemaVersion")]
    InvalidVersion,
    /// Written by a newer build; refusing to guess.
    #[error("stored dashboard state has schemaVersion {found}, newer than the {supported} this server knows")]
    FromTheFuture {
        /// The stored version.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A step failed.
    #[error("migrating dashboard state from version {from} failed: {reason}")]
    StepFailed {
        /// The version the failing step reads.
        from: u32,
        /// What went wrong.
        reason: String,
    },
}

/// Brings `document` to [`LATEST_SCHEMA_VERSION`], running each needed step in order.
pub fn migrate(document: Value) -> Result<Migrated, MigrationError> {
    let Value::Object(mut object) = document else {
        return Err(MigrationError::NotAnObject);
    };
    let from = stored_version(&object)?;
    if from > LATEST_SCHEMA_VERSION {
        return Err(MigrationError::FromTheFuture { found: from, supported: LATEST_SCHEMA_VERSION });
    }
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|migration| migration.from >= from) {
        object =
            (migration.apply)(object).map_err(|reason| MigrationError::StepFailed { from: migration.from, reason })?;
        object.insert("schemaVersion".into(), Value::from(migration.from + 1));
        tracing::info!(
            from = migration.from,
            to = migration.from + 1,
            step = migration.description,
            "migrated dashboard state"
        );
        applied.push(migration.description);
    }
    Ok(Migrated { document: Value::Object(object), from, applied })
}

/// The stored `schemaVersion`; absent means the first format.
fn stored_version(object: &Object) -> Result<u32, MigrationError> {
    match object.get("schemaVersion") {
        None => Ok(1),
        Some(value) => value
            .as_u64()
            .and_then(|version| u32::try_from(version).ok())
            .filter(|version| *version >= 1)
            .ok_or(MigrationError::InvalidVersion),
    }
}

/// v1 → v2: the first format kept `widgets` as an array of envelopes; the
/// current one keys them by id (so concurrent patches address a widget by id,
/// not by a shifting index) and keeps their order in `layout`. Widgets without
/// an id get `widget-<n>` (their 1-based position); a repeated id keeps the first.
fn widgets_by_id(mut document: Object) -> Result<Object, String> {
    let widgets = match document.remove("widgets") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(widgets)) => widgets,
        Some(_) => return Err("widgets is neither an array nor null".into()),
    };
    let mut by_id = Map::new();
    let mut layout = Vec::new();
    for (index, widget) in widgets.into_iter().enumerate() {
        let Value::Object(mut widget) = widget else {
            return Err(format!("widgets[{index}] is not an object"));
        };
        let id = match widget.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => format!("widget-{}", index + 1),
        };
        if by_id.contains_key(&id) {
            tracing::warn!(id, index, "dropping a widget whose id repeats an earlier one");
            continue;
        }
        widget.insert("id".into(), Value::String(id.clone()));
        layout.push(Value::String(id.clone()));
        by_id.insert(id, Value::Object(widget));
    }
    document.insert("widgets".into(), Value::Object(by_id));
    document.insert("layout".into(), Value::Array(layout));
    Ok(document)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn version_one() -> Value {
        json!({
            "widgets": [
                {"id": "status", "type": "ProjectStatus", "data": {"projectId": "p1", "projectName": "Apollo",
                    "status": "on_track", "progress": 60, "tasksCompleted": 6, "tasksTotal": 10}},
                {"type": "Alert", "data": {"severity": "warning", "message": "Two tasks are overdue"}},
                {"id": "status", "type": "Loading", "data": {}}
            ],
            "activeProject": "p1",
            "preferences": {"theme": "dark"}
        })
    }

    #[test]
    fn the_first_format_is_keyed_by_id_with_a_layout() {
        let migrated = migrate(version_one()).unwrap();
        assert_eq!(migrated.from, 1);
        assert_eq!(migrated.applied, ["widgets keyed by id, with a separate layout list"]);
        let document = migrated.document;
        assert_eq!(document["schemaVersion"], LATEST_SCHEMA_VERSION);
        assert_eq!(document["layout"], json!(["status", "widget-2"]));
        assert_eq!(document["widgets"]["status"]["type"], "ProjectStatus", "the first of a repeated id wins");
        assert_eq!(document["widgets"]["widget-2"]["id"], "widget-2");
        assert_eq!(document["widgets"]["widget-2"]["data"]["message"], "Two tasks are overdue");
        assert_eq!(document["activeProject"], "p1", "other members are kept");
        assert_eq!(document["preferences"], json!({"theme": "dark"}));
    }

    #[test]
    fn current_documents_pass_unchanged() {
        let current = json!({"schemaVersion": LATEST_SCHEMA_VERSION, "widgets": {}, "layout": []});
        let migrated = migrate(current.clone()).unwrap();
        assert_eq!(migrated.document, current);
        assert!(migrated.applied.is_empty());
    }

    #[test]
    fn failures_are_reported_not_guessed() {
        assert_eq!(migrate(json!([1, 2])), Err(MigrationError::NotAnObject));
        assert_eq!(migrate(json!({"schemaVersion": "two"})), Err(MigrationError::InvalidVersion));
        assert_eq!(migrate(json!({"schemaVersion": 0})), Err(MigrationError::InvalidVersion));
        assert_eq!(
            migrate(json!({"schemaVersion": 99})),
            Err(MigrationError::FromTheFuture { found: 99, supported: LATEST_SCHEMA_VERSION })
        );
        let broken = json!({"schemaVersion": 1, "widgets": "not a list"});
        assert!(matches!(migrate(broken), Err(MigrationError::StepFailed { from: 1, .. })));
        let broken = json!({"widgets": [42]});
        assert!(matches!(migrate(broken), Err(MigrationError::StepFailed { from: 1, .. })));
    }

    #[test]
    fn steps_are_contiguous() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.from, index as u32 + 1);
        }
    }
}
