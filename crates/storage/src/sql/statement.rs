//! Building a query whose shape depends on its input (filters, `IN` lists,
//! multi-row inserts) with numbered `$N` parameters.
//!
//! sqlx's own `QueryBuilder` writes `?` parameters for the `Any` driver, which
//! PostgreSQL rejects; `$N` is understood by both backends.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::ActivityEntry;
use sqlx::AnyConnection;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Type};
use uuid::Uuid;

use super::{SqlStore, activity, db_error, rows};
use crate::StoreError;

/// A query text with its arguments; parameters are numbered as values are bound.
pub(crate) struct Statement {
    sql: String,
    arguments: AnyArguments,
    /// The first value that failed to encode; reported when the query runs.
    encode_error: Option<BoxDynError>,
}

impl Statement {
    /// Starts a query with a fixed head, e.g. `SELECT … FROM tasks WHERE `.
    pub(crate) fn new(head: &str) -> Self {
        Self { sql: head.to_owned(), arguments: AnyArguments::default(), encode_error: None }
    }

    /// Appends literal SQL (never user input).
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds a value and appends its parameter marker.
    pub(crate) fn bind<'q, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'q, Any> + Type<Any>,
    {
        if let Err(error) = self.arguments.add(value)
            && self.encode_error.is_none()
        {
            self.encode_error = Some(error);
        }
        let number = self.arguments.len();
        self.sql.push('$');
        self.sql.push_str(&number.to_string());
        self
    }

    /// Appends `(…, …)` with one parameter marker per value, for `IN` lists.
    pub(crate) fn bind_list<I, T>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: for<'q> Encode<'q, Any> + Type<Any>,
    {
        self.push("(");
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    /// Appends the keyset condition that starts a page after its cursor, and the
    /// newest-first order with `limit + 1` rows (the extra one tells that more
    /// pages exist). `sort` is the time column: `created_at` or `at`.
    pub(crate) fn page(&mut self, sort: &str, page: PageRequest) -> &mut Self {
        if let Some(cursor) = page.after {
            let id = cursor.id.to_string();
            self.push(" AND (")
                .push(sort)
                .push(" < ")
                .bind(cursor.sort_key)
                .push(" OR (")
                .push(sort)
                .push(" = ")
                .bind(cursor.sort_key)
                .push(" AND id < ")
                .bind(id)
                .push("))");
        }
        self.push(" ORDER BY ").push(sort).push(" DESC, id DESC LIMIT ").bind(i64::from(page.limit) + 1)
    }

    /// Runs the query and returns every row.
    pub(crate) async fn fetch_all(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>, StoreError> {
        let (sql, arguments) = self.into_parts()?;
        sqlx::query_with(AssertSqlSafe(sql), arguments).fetch_all(conn).await.map_err(db_error)
    }

    /// Runs the query and returns how many rows it changed.
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> Result<u64, StoreError> {
        let (sql, arguments) = self.into_parts()?;
        sqlx::query_with(AssertSqlSafe(sql), arguments)
            .execute(conn)
            .await
            .map(|result| result.rows_affected())
            .map_err(db_error)
    }

    fn into_parts(self) -> Result<(String, AnyArguments), StoreError> {
        match self.encode_error {
            Some(error) => Err(StoreError::Database(sqlx::Error::Encode(error))),
            None => Ok((self.sql, self.arguments)),
        }
    }
}

/// Tells whether the record `id` of `table` exists in the workspace.
pub(crate) async fn exists(
    conn: &mut AnyConnection,
    table: Table,
    workspace_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    let sql = match table {
        Table::Projects => "SELECT 1 AS found FROM projects WHERE workspace_id = $1 AND id = $2",
        Table::Members => "SELECT 1 AS found FROM members WHERE workspace_id = $1 AND id = $2",
        Table::Tasks => "SELECT 1 AS found FROM tasks WHERE workspace_id = $1 AND id = $2",
    };
    let row = sqlx::query(sql)
        .bind(workspace_id.to_string())
        .bind(id.to_string())
        .fetch_optional(conn)
        .await
        .map_err(db_error)?;
    Ok(row.is_some())
}

/// Explains an optimistic update that changed no row: the record is gone (or in
/// another workspace), or its revision moved on.
pub(crate) async fn update_failed(conn: &mut AnyConnection, table: Table, workspace_id: Uuid, id: Uuid) -> StoreError {
    match exists(conn, table, workspace_id, id).await {
        Ok(true) => StoreError::Conflict,
        Ok(false) => StoreError::NotFound,
        Err(error) => error,
    }
}

/// Deletes record `id` of `table` in one write transaction: fails with
/// [`StoreError::NotFound`] unless it exists in the workspace, runs `statements`
/// in order (each binds `$1` = workspace id, `$2` = record id and, when it uses
/// `$3`, the entry's time in milliseconds), then appends the activity entry.
pub(crate) async fn delete_cascading(
    store: &SqlStore,
    table: Table,
    workspace_id: Uuid,
    id: Uuid,
    statements: &[&'static str],
    entry: &ActivityEntry,
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    if !exists(&mut tx, table, workspace_id, id).await? {
        return Err(StoreError::NotFound);
    }
    let (workspace, record) = (workspace_id.to_string(), id.to_string());
    for &sql in statements {
        let mut query = sqlx::query(sql).bind(workspace.as_str()).bind(record.as_str());
        if sql.contains("$3") {
            query = query.bind(rows::millis(entry.at));
        }
        query.execute(&mut *tx).await.map_err(db_error)?;
    }
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Tables of records with an id and a revision.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    /// `projects`.
    Projects,
    /// `members`.
    Members,
    /// `tasks`.
    Tasks,
}
